// Tests of `ailab metrics classification`, run as the built `ailab` binary.
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
  CHECK(absl::StrContains(output.text, "\"confusion_matrix\": [[2, 0], [1, 1]]"));

  Output positive = RunCli(absl::StrCat("metrics classification --input ", path,
                                        " --positive benign"));
  INFO(positive.text);
  CHECK(positive.exit_code == 0);
  CHECK(absl::StrContains(positive.text, "\"positive\": \"benign\""));
  CHECK(absl::StrContains(positive.text, "\"auc\": 0.75"));
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

  Output absent = RunCli(absl::StrCat("metrics classification --input ", dir.path(), "/none.csv"));
  CHECK(absent.exit_code == 1);
  CHECK(absl::StrContains(absent.text, "none.csv"));
}

}  // namespace
