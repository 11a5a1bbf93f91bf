// Runs the ailab-synth binary as a user would.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"

namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs ailab-synth with `arguments` (already quoted for the shell).
Run RunSynth(const fs::path& scratch, const std::string& arguments) {
  const char* binary_dir = std::getenv("AILAB_BINARY_DIR");
  REQUIRE(binary_dir != nullptr);
  const fs::path out = scratch / "stdout", err = scratch / "stderr";
  const std::string command = absl::StrCat("'", binary_dir, "/bin/ailab-synth' ", arguments, " > '",
                                           out.string(), "' 2> '", err.string(), "'");
  const int status = std::system(command.c_str());
  Run run;
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  run.out = ReadAll(out);
  run.err = ReadAll(err);
  return run;
}

TEST_CASE("ailab-synth: writes a small dataset", "[synth][dicom]") {
  const fs::path scratch = fs::temp_directory_path() / absl::StrCat("ailab-synth-cmd-", getpid());
  fs::create_directories(scratch);
  const fs::path data = scratch / "data";

  const Run run = RunSynth(scratch, absl::StrCat("--out '", data.string(),
                                                 "' --count 5 --seed 9 --patients 2 "
                                                 "--size 128x104 --monochrome1_fraction 0.5 "
                                                 "--category_weights 0,1,1,0"));
  INFO(run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("\"images\": 5") != std::string::npos);
  CHECK(run.out.find("\"A\": 0") != std::string::npos);
  CHECK(fs::exists(data / "synth_00004.dcm"));
  CHECK(fs::exists(data / "contact_sheet.png"));
  const std::string truth = ReadAll(data / "truth.csv");
  int lines = 0;
  for (char c : truth) lines += c == '\n';
  CHECK(lines == 6);

  // A second run into the same folder needs --overwrite.
  const Run again = RunSynth(scratch, absl::StrCat("--out '", data.string(), "' --count 2"));
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("--overwrite") != std::string::npos);

  fs::remove_all(scratch);
}

TEST_CASE("ailab-synth: bad options exit with 2", "[synth]") {
  const fs::path scratch =
      fs::temp_directory_path() / absl::StrCat("ailab-synth-cmd-bad-", getpid());
  fs::create_directories(scratch);
  const std::string out = absl::StrCat("--out '", (scratch / "data").string(), "'");

  const Run size = RunSynth(scratch, out + " --size 512");
  CHECK(size.exit_code == 2);
  CHECK(size.err.find("--size") != std::string::npos);

  const Run weights = RunSynth(scratch, out + " --category_weights 1,2");
  CHECK(weights.exit_code == 2);
  CHECK(weights.err.find("--category_weights") != std::string::npos);

  const Run missing = RunSynth(scratch, "--count 3");
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("--out") != std::string::npos);

  CHECK_FALSE(fs::exists(scratch / "data" / "truth.csv"));
  fs::remove_all(scratch);
}

}  // namespace
