// `ailab report text` run as a process: report text on standard output, and clear
// errors with exit code 2 for bad --value input and modules that break the schema.
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "fixtures.h"

namespace {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted.push_back(c);
    }
  }
  return quoted + "'";
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// Runs `ailab report text` with `args`.
CliResult RunReport(const std::vector<std::string>& args) {
  const char* binary_dir = std::getenv("AILAB_BINARY_DIR");
  if (binary_dir == nullptr) throw std::runtime_error("AILAB_BINARY_DIR is not set; run ctest");
  ailab::testing::TempDir dir;
  std::string command = Quote(std::string(binary_dir) + "/bin/ailab") + " report text";
  for (const std::string& arg : args) command += " " + Quote(arg);
  command += " >" + Quote(dir.path() + "/out") + " 2>" + Quote(dir.path() + "/err");
  int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(dir.path() + "/out");
  result.err = ReadFile(dir.path() + "/err");
  return result;
}

std::string DensityModulePath() {
  return ailab::testing::SourceDir() + "/data/assist/breast_density.xml";
}

TEST_CASE("report text: prints the text for values") {
  CliResult result = RunReport({"--module", DensityModulePath(), "--value", "breast_density=A"});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "Breast density category A. The breast tissue is almost entirely fat.\n\n"
        "Fatty breasts, density A.\n");
  CHECK(result.err.empty());
}

TEST_CASE("report text: prints one section") {
  CliResult result = RunReport(
      {"--module=" + DensityModulePath(), "--value=breast_density=C", "--section=impression"});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out == "Dense breasts, density C.\n");
}

TEST_CASE("report text: takes a model output") {
  CliResult result = RunReport({"--module", DensityModulePath(), "--output",
                                "breast_density=0.1,0.1,0.2,0.6", "--section", "impression"});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out == "Dense breasts, density D.\n");

  // An unsure model: its probability and the request to confirm appear in the findings.
  CliResult unsure = RunReport({"--module", DensityModulePath(), "--output",
                                "breast_density=0.3,0.25,0.25,0.2", "--section", "findings"});
  INFO(unsure.err);
  CHECK(unsure.exit_code == 0);
  CHECK(unsure.out ==
        "Breast density category A. The breast tissue is almost entirely fat. Model probability "
        "for this category: 30%. The model is unsure, so a radiologist should confirm the "
        "category.\n");
}

TEST_CASE("report text: prints JSON") {
  CliResult result = RunReport(
      {"--module", DensityModulePath(), "--value", "breast_density=B", "--format", "json"});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("\"endPoint\": \"DensityBEp\"") != std::string::npos);
  CHECK(result.out.find("{\"sectionId\": \"impression\", \"text\": \"Non-dense breasts, "
                        "density B.\"}") != std::string::npos);
}

TEST_CASE("report text: reads the real sample module") {
  CliResult result =
      RunReport({"--module", ailab::testing::SharedDataDir() + "/assist/Hello_Assist2.0.xml",
                 "--value", "ObservationCharacter=notDefProbBenign", "--value",
                 "ArterialEnhancement=hyperEnhancing", "--value", "diameter=22", "--value",
                 "washout=yes", "--value", "capsule=no", "--value", "thresholdgrowth=no"});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out == "[LR-5] Observation with imaging features diagnostic of LR.\n");
}

TEST_CASE("report text: site template can blank the text") {
  CliResult result =
      RunReport({"--module", DensityModulePath(), "--value", "breast_density=B", "--site_templates",
                 ailab::testing::SourceDir() + "/data/assist/breast_density.site-example.txt"});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out.empty());
}

TEST_CASE("report text: unknown data element is rejected") {
  CliResult result = RunReport({"--module", DensityModulePath(), "--value", "density=C"});
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(result.err ==
        "error: \"density\" is not a data element of module AILAB_Breast_Density_1_0; use one "
        "of: breast_density, breast_density_probability\n");
}

TEST_CASE("report text: value not allowed is rejected") {
  CliResult result = RunReport({"--module", DensityModulePath(), "--value", "breast_density=E"});
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(result.err ==
        "error: \"E\" is not an allowed value of data element breast_density; use one of A "
        "(Almost entirely fatty), B (Scattered fibroglandular density), C (Heterogeneously "
        "dense), D (Extremely dense)\n");
}

TEST_CASE("report text: value that is not a number is rejected") {
  CliResult result = RunReport({"--module", DensityModulePath(), "--value", "breast_density=C",
                                "--value", "breast_density_probability=high"});
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(result.err ==
        "error: \"high\" is not a valid value of data element breast_density_probability; use a "
        "number in %\n");
}

TEST_CASE("report text: assignment without equals sign is rejected") {
  CliResult result = RunReport({"--module", DensityModulePath(), "--value", "breast_density"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("\"breast_density\" is not an assignment; write ID=VALUE") !=
        std::string::npos);
}

TEST_CASE("report text: module that breaks the schema is rejected") {
  // The density module with a misspelt condition element on its own line.
  std::string xml = ReadFile(DensityModulePath());
  const std::string find =
      "<EqualCondition DataElementId=\"breast_density\" ComparisonValue=\"B\"/>";
  size_t at = xml.find(find);
  REQUIRE(at != std::string::npos);
  xml.replace(at, find.size(),
              "<EqualsCondition DataElementId=\"breast_density\" ComparisonValue=\"B\"/>");
  int line = 1 + static_cast<int>(std::count(xml.begin(), xml.begin() + at, '\n'));
  ailab::testing::TempDir dir;
  std::string path = dir.path() + "/broken.xml";
  std::ofstream(path) << xml;

  CliResult result = RunReport({"--module", path, "--value", "breast_density=B"});
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(result.err.find("error: broken.xml:" + std::to_string(line) + ": <EqualsCondition> ") == 0);
}

TEST_CASE("report text: missing module file is an error") {
  CliResult result = RunReport({"--module", "no-such-module.xml", "--value", "breast_density=B"});
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("no-such-module.xml") != std::string::npos);
}

TEST_CASE("report text: missing module option is a usage error") {
  CliResult result = RunReport({"--value", "breast_density=B"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("--module") != std::string::npos);
}

}  // namespace
