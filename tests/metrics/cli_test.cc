// Tests of `ailab metrics detection` and `ailab metrics segmentation`, run as the built
// `ailab` binary.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/imaging/png.h"
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

std::string WriteFile(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

void WriteMask(const std::string& path, int width, int height, const std::vector<uint8_t>& pixels) {
  auto png = ailab::imaging::EncodePng8(pixels, width, height);
  REQUIRE(png.ok());
  WriteFile(path, *png);
}

TEST_CASE("ailab metrics detection: report") {
  ailab::testing::TempDir dir;
  const std::string truth = WriteFile(absl::StrCat(dir.path(), "/truth.csv"),
                                      "image,x,y,width,height\n"
                                      "one,0,0,10,10\n"
                                      "two,0,0,10,10\n"
                                      "two,20,20,10,10\n");
  const std::string predicted = WriteFile(absl::StrCat(dir.path(), "/predicted.csv"),
                                          "image,x,y,width,height,score\n"
                                          "one,0,0,10,8,0.9\n"
                                          "two,0,0,10,10,0.8\n"
                                          "two,50,50,5,5,0.7\n");
  Output output =
      RunCli(absl::StrCat("metrics detection --truth ", truth, " --predicted ", predicted));
  INFO(output.text);
  CHECK(output.exit_code == 0);
  // Image one scores 7/10 (IoU 0.8), image two 1/3 at every threshold.
  CHECK(absl::StrContains(output.text, "\"map\": 0.5166666667,"));
  CHECK(absl::StrContains(output.text, "\"mean_iou\": 0.9,"));
  CHECK(absl::StrContains(output.text, "\"coco_ap\": "));
  CHECK(absl::StrContains(output.text, "\"truth_boxes\": 3,"));
}

TEST_CASE("ailab metrics detection: bad input named") {
  ailab::testing::TempDir dir;
  const std::string truth =
      WriteFile(absl::StrCat(dir.path(), "/truth.csv"), "image,x,y,width,height\na,0,0,1,1\n");
  const std::string no_score = WriteFile(absl::StrCat(dir.path(), "/no_score.csv"),
                                         "image,x,y,width,height\na,0,0,1,1\n");
  Output missing_column =
      RunCli(absl::StrCat("metrics detection --truth ", truth, " --predicted ", no_score));
  CHECK(missing_column.exit_code == 2);
  CHECK(absl::StrContains(missing_column.text, "no_score.csv: line 1, column \"score\""));

  const std::string bad_number = WriteFile(absl::StrCat(dir.path(), "/bad.csv"),
                                           "image,x,y,width,height,score\na,0,0,1,1,high\n");
  Output not_a_number =
      RunCli(absl::StrCat("metrics detection --truth ", truth, " --predicted ", bad_number));
  CHECK(not_a_number.exit_code == 2);
  CHECK(absl::StrContains(not_a_number.text, "line 2, column \"score\": \"high\""));

  const std::string empty = WriteFile(absl::StrCat(dir.path(), "/empty.csv"), "");
  Output empty_file =
      RunCli(absl::StrCat("metrics detection --truth ", empty, " --predicted ", bad_number));
  CHECK(empty_file.exit_code == 2);
  CHECK(absl::StrContains(empty_file.text, "empty"));

  Output absent = RunCli(absl::StrCat("metrics detection --truth ", dir.path(),
                                      "/none.csv --predicted ", bad_number));
  CHECK(absent.exit_code == 1);
  CHECK(absl::StrContains(absent.text, "none.csv"));
}

TEST_CASE("ailab metrics segmentation: report") {
  ailab::testing::TempDir dir;
  const std::string truth = absl::StrCat(dir.path(), "/truth");
  const std::string predicted = absl::StrCat(dir.path(), "/predicted");
  // a: 2 truth pixels, 1 predicted inside them: Dice 2/3, IoU 1/2.
  WriteMask(truth + "/a.png", 2, 2, {255, 255, 0, 0});
  WriteMask(predicted + "/a.png", 2, 2, {255, 0, 0, 0});
  // b: identical masks of 3 pixels.
  WriteMask(truth + "/b.png", 2, 2, {1, 1, 1, 0});
  WriteMask(predicted + "/b.png", 2, 2, {1, 1, 1, 0});
  Output output = RunCli(absl::StrCat("metrics segmentation --truth ", truth, " --predicted ",
                                      predicted, " --spacing 0.5,2"));
  INFO(output.text);
  CHECK(output.exit_code == 0);
  CHECK(absl::StrContains(output.text, "\"mean_dice\": 0.8333333333,"));
  CHECK(absl::StrContains(output.text, "\"mean_iou\": 0.75,"));
  CHECK(absl::StrContains(output.text,
                          "{\"image\": \"a.png\", \"truth\": 2, \"predicted\": 1}"));
  // Volume differences -1 and 0.
  CHECK(absl::StrContains(output.text, "\"bland_altman\": {\"bias\": -0.5,"));
}

TEST_CASE("ailab metrics segmentation: bad input named") {
  ailab::testing::TempDir dir;
  const std::string truth = absl::StrCat(dir.path(), "/truth");
  const std::string predicted = absl::StrCat(dir.path(), "/predicted");
  WriteMask(truth + "/a.png", 2, 2, {255, 255, 0, 0});
  std::filesystem::create_directories(predicted);
  Output missing = RunCli(
      absl::StrCat("metrics segmentation --truth ", truth, " --predicted ", predicted));
  CHECK(missing.exit_code == 1);
  CHECK(absl::StrContains(missing.text, "a.png"));

  WriteMask(predicted + "/a.png", 1, 2, {0, 0});
  Output size = RunCli(
      absl::StrCat("metrics segmentation --truth ", truth, " --predicted ", predicted));
  CHECK(size.exit_code == 2);
  CHECK(absl::StrContains(size.text, "a.png"));

  Output spacing = RunCli(absl::StrCat("metrics segmentation --truth ", truth, " --predicted ",
                                       predicted, " --spacing=-1"));
  CHECK(spacing.exit_code == 2);
  CHECK(absl::StrContains(spacing.text, "--spacing \"-1\""));
}

}  // namespace
