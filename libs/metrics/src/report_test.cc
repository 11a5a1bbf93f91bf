#include "ailab/metrics/report.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "ailab/imaging/png.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"

namespace ailab::metrics {
namespace {

constexpr char kBinaryCsv[] =
    "id,truth,neg,pos\n"
    "a,neg,0.9,0.1\n"
    "b,neg,0.6,0.4\n"
    "c,pos,0.65,0.35\r\n"
    "\n"
    "\"d\", pos , 0.2, 0.8\n";

void CheckCsvError(absl::string_view csv, const std::string& text) {
  auto table = ParseClassificationCsv(csv);
  INFO("status: " << table.status().ToString());
  REQUIRE(table.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(table.status().message(), text));
}

TEST_CASE("ParseClassificationCsv: reads classes and rows") {
  auto table = ParseClassificationCsv(kBinaryCsv);
  REQUIRE(table.ok());
  CHECK(table->classes == std::vector<std::string>{"neg", "pos"});
  CHECK(table->ids == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(table->truth == std::vector<int>{0, 0, 1, 1});
  REQUIRE(table->probabilities.size() == 8);
  CHECK(table->probabilities[7] == Approx(0.8));
}

TEST_CASE("ParseClassificationCsv: errors name line and column") {
  CheckCsvError("", "empty");
  CheckCsvError("\n\n", "empty");
  CheckCsvError("name,truth,a,b\n", "\"id\"");
  CheckCsvError("id,label,a,b\n", "\"truth\"");
  CheckCsvError("id,truth,a\nx,a,1\n", "at least two");
  CheckCsvError("id,truth,a,a\n", "appears twice");
  CheckCsvError("id,truth,a,b\n", "no rows");
  CheckCsvError("id,truth,a,b\nx,c,0.5,0.5\n", "line 2, column \"truth\": label \"c\"");
  CheckCsvError("id,truth,a,b\nx,a,0.5,high\n", "line 2, column \"b\": \"high\"");
  CheckCsvError("id,truth,a,b\nx,a,0.5,1.5\n", "\"1.5\" is not a probability");
  CheckCsvError("id,truth,a,b\nx,a,0.5,0.5\ny,b,0.5\n", "line 3");
}

TEST_CASE("ClassificationReportJson: binary figures") {
  auto table = ParseClassificationCsv(kBinaryCsv);
  REQUIRE(table.ok());
  ReportOptions options;
  options.threshold = 0.35;
  auto json = ClassificationReportJson(*table, options);
  REQUIRE(json.ok());
  INFO(*json);
  // The same rows as the BinaryAuc and SensitivitySpecificity unit tests.
  CHECK(absl::StrContains(*json, "\"n\": 4"));
  CHECK(absl::StrContains(*json, "\"classes\": [\"neg\", \"pos\"]"));
  // Called positive at or above the threshold: b (0.4), c (0.35) and d (0.8).
  CHECK(absl::StrContains(*json, "\"confusion_matrix\": [[1, 1], [0, 2]]"));
  CHECK(absl::StrContains(*json, "\"auc\": 0.75"));
  CHECK(absl::StrContains(*json, "\"accuracy\": 0.75"));
  CHECK(absl::StrContains(*json, "\"kappa\": 0.5"));
  CHECK(absl::StrContains(*json, "\"sensitivity\": 1,"));
  CHECK(absl::StrContains(*json, "\"specificity\": 0.5,"));
  CHECK(absl::StrContains(*json, "\"ppv\": 0.6666666667"));
  CHECK(absl::StrContains(*json, "\"npv\": 1,"));
  CHECK(absl::StrContains(*json, "{\"fpr\": 0, \"tpr\": 0, \"threshold\": null}"));
  CHECK(absl::StrContains(*json, "\"positive\": \"pos\""));
}

TEST_CASE("ClassificationReportJson: multiclass and options") {
  const char* csv =
      "id,truth,A,B,C\n"
      "1,A,0.7,0.2,0.1\n"
      "2,B,0.1,0.8,0.1\n"
      "3,C,0.1,0.3,0.6\n"
      "4,C,0.2,0.5,0.3\n";
  auto table = ParseClassificationCsv(csv);
  REQUIRE(table.ok());
  ReportOptions options;
  options.positive = "C";
  auto json = ClassificationReportJson(*table, options);
  REQUIRE(json.ok());
  INFO(*json);
  CHECK(absl::StrContains(*json, "\"confusion_matrix\": [[1, 0, 0], [0, 1, 0], [0, 1, 1]]"));
  CHECK(absl::StrContains(*json, "\"positive\": \"C\""));
  CHECK(absl::StrContains(*json, "\"accuracy\": 0.75"));

  options.positive = "Z";
  CHECK(ClassificationReportJson(*table, options).status().code() ==
        absl::StatusCode::kInvalidArgument);
  options.positive = "";
  options.threshold = 2;
  CHECK(ClassificationReportJson(*table, options).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ClassificationReportJson: undefined figures are null") {
  auto table = ParseClassificationCsv("id,truth,a,b\nx,a,0.9,0.1\ny,a,0.8,0.2\n");
  REQUIRE(table.ok());
  auto json = ClassificationReportJson(*table, ReportOptions());
  REQUIRE(json.ok());
  INFO(*json);
  CHECK(absl::StrContains(*json, "\"kappa\": null"));
  CHECK(absl::StrContains(*json, "\"auc\": null"));
  CHECK(absl::StrContains(*json, "\"sensitivity\": null"));
  CHECK(absl::StrContains(*json, "\"roc\": []"));
}

TEST_CASE("ClassificationReportJson: confidence intervals") {
  auto table = ParseClassificationCsv(kBinaryCsv);
  REQUIRE(table.ok());
  ReportOptions options;
  options.replicates = 200;
  auto json = ClassificationReportJson(*table, options);
  REQUIRE(json.ok());
  INFO(*json);
  CHECK(absl::StrContains(*json, "\"confidence_intervals\": {"));
  CHECK(absl::StrContains(*json, "\"replicates\": 200"));
  CHECK(absl::StrContains(*json, "\"auc_delong\": ["));
  CHECK(absl::StrContains(*json, "\"auc_bootstrap\": ["));
  CHECK(absl::StrContains(*json, "\"quadratic_kappa\": ["));

  options.replicates = 0;
  auto without = ClassificationReportJson(*table, options);
  REQUIRE(without.ok());
  CHECK(!absl::StrContains(*without, "confidence_intervals"));
}

constexpr char kTruthBoxes[] =
    "image,x,y,width,height\n"
    "one,0,0,10,10\n"
    "two,0,0,10,10\n"
    "empty,,,,\n";
constexpr char kPredictedBoxes[] =
    "image,score,x,y,width,height,label\n"
    "one,0.9,0,0,10,8,lesion\n"
    "two,0.8,0,0,10,10,lesion\n";

TEST_CASE("ParseDetectionCsv: images and boxes") {
  auto images = ParseDetectionCsv(kTruthBoxes, kPredictedBoxes);
  REQUIRE(images.ok());
  REQUIRE(images->size() == 3);
  CHECK((*images)[0].image == "one");
  CHECK((*images)[0].truth.size() == 1);
  REQUIRE((*images)[0].predicted.size() == 1);
  CHECK((*images)[0].predicted[0].height == 8);
  CHECK((*images)[0].predicted[0].score == 0.9);
  CHECK((*images)[2].image == "empty");
  CHECK((*images)[2].truth.empty());
}

TEST_CASE("ParseDetectionCsv: errors name file, line and column") {
  auto check = [](absl::string_view truth, absl::string_view predicted, const std::string& text) {
    auto images = ParseDetectionCsv(truth, predicted, "t.csv", "p.csv");
    INFO("status: " << images.status().ToString());
    REQUIRE(images.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(images.status().message(), text));
  };
  check("", kPredictedBoxes, "t.csv: the CSV is empty");
  check(kTruthBoxes, "", "p.csv: the CSV is empty");
  check("image,x,y,width\n", kPredictedBoxes, "t.csv: line 1, column \"height\"");
  check(kTruthBoxes, "image,x,y,width,height\n", "p.csv: line 1, column \"score\"");
  check("image,x,y,width,height\na,0,0,wide,1\n", kPredictedBoxes,
        "t.csv: line 2, column \"width\": \"wide\" is not a number");
  check("image,x,y,width,height\na,0,0,-1,1\n", kPredictedBoxes, "line 2, column \"width\"");
  check("image,x,y,width,height\na,0,0,1\n", kPredictedBoxes, "line 2");
  check("image,x,y,width,height\n,0,0,1,1\n", kPredictedBoxes, "column \"image\"");
}

TEST_CASE("DetectionReportJson: keys and values") {
  auto images = ParseDetectionCsv(kTruthBoxes, kPredictedBoxes);
  REQUIRE(images.ok());
  auto json = DetectionReportJson(*images);
  REQUIRE(json.ok());
  INFO(*json);
  // Per image: one 0.7 (IoU 0.8), two 1, empty 1.
  CHECK(absl::StrContains(*json, "\"map\": 0.9,"));
  CHECK(absl::StrContains(*json, "\"coco_ap\": "));
  CHECK(absl::StrContains(*json, "\"mean_iou\": 0.9,"));
  CHECK(absl::StrContains(*json, "{\"image\": \"one\", \"map\": 0.7}"));
}

// A folder under the system temporary folder, removed at destruction.
class ScratchFolder {
 public:
  ScratchFolder() {
    path_ = std::filesystem::temp_directory_path() /
            ("metrics_report_test_" + std::to_string(::getpid()) + "_" + std::to_string(next_++));
    std::filesystem::create_directories(path_ / "truth");
    std::filesystem::create_directories(path_ / "predicted");
  }
  ~ScratchFolder() { std::filesystem::remove_all(path_); }
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

  void WriteMask(const std::string& folder, const std::string& name, int width, int height,
                 const std::vector<uint8_t>& pixels) const {
    auto png = imaging::EncodePng8(pixels, width, height);
    REQUIRE(png.ok());
    std::ofstream(path_ / folder / name, std::ios::binary) << *png;
  }

 private:
  static inline int next_ = 0;
  std::filesystem::path path_;
};

TEST_CASE("SegmentationReportJson: masks from folders") {
  ScratchFolder folder;
  folder.WriteMask("truth", "a.png", 2, 2, {255, 255, 0, 0});
  folder.WriteMask("predicted", "a.png", 2, 2, {255, 0, 0, 0});
  folder.WriteMask("truth", "b.png", 2, 1, {0, 0});
  folder.WriteMask("predicted", "b.png", 2, 1, {0, 0});
  auto pairs = ReadMaskFolders(folder.Sub("truth"), folder.Sub("predicted"));
  REQUIRE(pairs.ok());
  REQUIRE(pairs->size() == 2);
  CHECK((*pairs)[0].image == "a.png");
  CHECK((*pairs)[0].truth == std::vector<uint8_t>{1, 1, 0, 0});
  auto json = SegmentationReportJson(*pairs, 0.25);
  REQUIRE(json.ok());
  INFO(*json);
  // a: dice 2/3, iou 1/2; b: both empty, 1 and 1.
  CHECK(absl::StrContains(*json, "\"mean_dice\": 0.8333333333"));
  CHECK(absl::StrContains(*json, "\"mean_iou\": 0.75"));
  CHECK(absl::StrContains(*json, "{\"image\": \"a.png\", \"truth\": 0.5, \"predicted\": 0.25}"));
  CHECK(absl::StrContains(*json, "\"bland_altman\": {\"bias\": -0.125"));
}

TEST_CASE("ReadMaskFolders: errors name the file") {
  ScratchFolder folder;
  CHECK(ReadMaskFolders(folder.Sub("truth"), folder.Sub("predicted")).status().code() ==
        absl::StatusCode::kInvalidArgument);  // no masks yet
  CHECK(ReadMaskFolders(folder.Sub("none"), folder.Sub("predicted")).status().code() ==
        absl::StatusCode::kNotFound);

  folder.WriteMask("truth", "a.png", 2, 2, {1, 1, 0, 0});
  auto missing = ReadMaskFolders(folder.Sub("truth"), folder.Sub("predicted"));
  REQUIRE(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.status().message(), "a.png"));

  folder.WriteMask("predicted", "a.png", 1, 2, {1, 1});
  auto size = ReadMaskFolders(folder.Sub("truth"), folder.Sub("predicted"));
  REQUIRE(size.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(size.status().message(), "a.png"));

  folder.WriteMask("predicted", "a.png", 2, 2, {1, 1, 0, 0});
  folder.WriteMask("predicted", "extra.png", 2, 2, {1, 1, 0, 0});
  auto extra = ReadMaskFolders(folder.Sub("truth"), folder.Sub("predicted"));
  REQUIRE(extra.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(extra.status().message(), "extra.png"));

  std::filesystem::remove(folder.Sub("predicted") + "/extra.png");
  std::ofstream(folder.Sub("truth") + "/broken.png") << "not a png";
  std::ofstream(folder.Sub("predicted") + "/broken.png") << "not a png";
  auto broken = ReadMaskFolders(folder.Sub("truth"), folder.Sub("predicted"));
  INFO(broken.status().ToString());
  CHECK(!broken.ok());
  CHECK(absl::StrContains(broken.status().message(), "broken.png"));
}

}  // namespace
}  // namespace ailab::metrics
