// Tests of `ailab metrics classification`, run as the built `ailab` binary. The
// detection and segmentation commands are tested in tests/metrics/cli_test.cc.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "fixtures.h"

namespace {

struct Output {
  int exit_code = -1;
  std::string text;  // standard output and standard error
};

Output RunCli(const std::string& arguments) {
  const std::string command =
      absl::StrCat(ailab::testing::BinaryPath("ailab"), " ", arguments, " 2>&1");
  Output output;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.text.append(buffer, read);
  const int status = pclose(pipe);
  output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

std::string WriteCsv(const ailab::testing::TempDir& dir, const std::string& name,
                     const std::string& text) {
  const std::string path = absl::StrCat(dir.path(), "/", name);
  std::ofstream(path) << text;
  return path;
}

TEST_CASE("ailab metrics classification: binary report") {
  ailab::testing::TempDir dir;
  const std::string path = WriteCsv(dir, "scores.csv",
                                    "id,truth,benign,malignant\n"
                                    "a,benign,0.9,0.1\n"
                                    "b,benign,0.6,0.4\n"
                                    "c,malignant,0.65,0.35\n"
                                    "d,malignant,0.2,0.8\n");
  Output output = RunCli(absl::StrCat("metrics classification --input ", path, " --threshold 0.35"));
  INFO(output.text);
  CHECK(output.exit_code == 0);
  CHECK(absl::StrContains(output.text, "\"auc\": 0.75"));
  CHECK(absl::StrContains(output.text, "\"sensitivity\": 1,"));
  CHECK(absl::StrContains(output.text, "\"specificity\": 0.5,"));
  // Malignant at or above 0.35: b (0.4), c (0.35) and d (0.8).
  CHECK(absl::StrContains(output.text, "\"confusion_matrix\": [[1, 1], [0, 2]]"));
  CHECK(absl::StrContains(output.text, "\"ppv\": 0.6666666667"));
  CHECK(absl::StrContains(output.text, "\"confidence_intervals\": {"));

  Output positive = RunCli(absl::StrCat("metrics classification --input ", path,
                                        " --positive benign --replicates 0"));
  INFO(positive.text);
  CHECK(positive.exit_code == 0);
  CHECK(absl::StrContains(positive.text, "\"positive\": \"benign\""));
  CHECK(absl::StrContains(positive.text, "\"auc\": 0.75"));
  // Benign at or above 0.5: a (0.9), b (0.6) and c (0.65).
  CHECK(absl::StrContains(positive.text, "\"confusion_matrix\": [[2, 0], [1, 1]]"));
  CHECK(!absl::StrContains(positive.text, "confidence_intervals"));
}

TEST_CASE("ailab metrics classification: four classes") {
  ailab::testing::TempDir dir;
  const std::string path = WriteCsv(dir, "density.csv",
                                    "id,truth,A,B,C,D\n"
                                    "1,A,0.7,0.1,0.1,0.1\n"
                                    "2,B,0.1,0.6,0.2,0.1\n"
                                    "3,C,0.1,0.2,0.3,0.4\n"
                                    "4,D,0.1,0.1,0.2,0.6\n"
                                    "5,B,0.25,0.25,0.25,0.25\n");
  Output output = RunCli(absl::StrCat("metrics classification --input ", path));
  INFO(output.text);
  CHECK(output.exit_code == 0);
  CHECK(absl::StrContains(output.text, "\"classes\": [\"A\", \"B\", \"C\", \"D\"]"));
  // The most probable class, the first one on ties (row 5 goes to A).
  CHECK(absl::StrContains(output.text,
                          "\"confusion_matrix\": [[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 1], "
                          "[0, 0, 0, 1]]"));
  CHECK(absl::StrContains(output.text, "\"accuracy\": 0.6"));
  CHECK(absl::StrContains(output.text, "\"quadratic_kappa\": "));
}

TEST_CASE("ailab metrics classification: bad input named") {
  ailab::testing::TempDir dir;
  Output missing_column = RunCli(absl::StrCat(
      "metrics classification --input ", WriteCsv(dir, "a.csv", "id,label,x,y\n1,x,0.5,0.5\n")));
  CHECK(missing_column.exit_code == 2);
  CHECK(absl::StrContains(missing_column.text, "line 1, column \"label\""));

  Output unknown_label = RunCli(absl::StrCat(
      "metrics classification --input ", WriteCsv(dir, "b.csv", "id,truth,x,y\n1,z,0.5,0.5\n")));
  CHECK(unknown_label.exit_code == 2);
  CHECK(absl::StrContains(unknown_label.text, "line 2, column \"truth\": label \"z\""));

  Output not_a_number = RunCli(absl::StrCat(
      "metrics classification --input ", WriteCsv(dir, "c.csv", "id,truth,x,y\n1,x,0.5,lots\n")));
  CHECK(not_a_number.exit_code == 2);
  CHECK(absl::StrContains(not_a_number.text, "line 2, column \"y\": \"lots\""));

  Output empty = RunCli(absl::StrCat("metrics classification --input ",
                                     WriteCsv(dir, "d.csv", "")));
  CHECK(empty.exit_code == 2);
  CHECK(absl::StrContains(empty.text, "empty"));

  Output bad_replicates = RunCli(absl::StrCat(
      "metrics classification --replicates -1 --input ",
      WriteCsv(dir, "e.csv", "id,truth,x,y\n1,x,0.5,0.5\n")));
  CHECK(bad_replicates.exit_code == 2);
  CHECK(absl::StrContains(bad_replicates.text, "--replicates -1"));

  Output absent = RunCli(absl::StrCat("metrics classification --input ", dir.path(), "/none.csv"));
  CHECK(absent.exit_code == 1);
  CHECK(absl::StrContains(absent.text, "none.csv"));
}

}  // namespace
