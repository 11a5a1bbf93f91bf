#include "ailab/synth/dataset.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ailab/imaging/png.h"
#include "ailab/status/status.h"

namespace ailab::synth {
namespace {

namespace fs = std::filesystem;

class ScratchFolder {
 public:
  ScratchFolder() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            absl::StrCat("ailab-dataset-test-", getpid(), "-", counter.fetch_add(1));
    fs::create_directories(path_);
  }
  ~ScratchFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int CountDicomFiles(const std::string& folder) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    count += entry.path().extension() == ".dcm";
  }
  return count;
}

DatasetOptions SmallOptions(const std::string& folder, int count) {
  DatasetOptions options;
  options.output_dir = folder;
  options.count = count;
  options.seed = 3;
  options.patients = 2;
  options.rows = 128;
  options.columns = 104;
  options.contact_sheet_per_category = 2;
  return options;
}

TEST_CASE("GenerateDataset: writes files, truth and sheet", "[synth][dicom]") {
  ScratchFolder scratch;
  const DatasetOptions options = SmallOptions(scratch.Sub("out"), 10);
  auto summary = GenerateDataset(options);
  REQUIRE(summary.ok());

  CHECK(summary->images == 10);
  CHECK(summary->studies == 3);
  CHECK(summary->patients == 2);
  CHECK(CountDicomFiles(options.output_dir) == 10);
  CHECK(fs::exists(options.output_dir + "/synth_00000.dcm"));
  CHECK(fs::exists(options.output_dir + "/synth_00009.dcm"));

  // Part 10 files: preamble, "DICM", and the SOP Instance UID of the truth row.
  const std::string bytes = ReadAll(options.output_dir + "/synth_00000.dcm");
  REQUIRE(bytes.size() > 132 + 128 * 104 * 2);
  CHECK(bytes.substr(128, 4) == "DICM");
  CHECK(bytes.find(summary->rows[0].sop_instance_uid) != std::string::npos);
  CHECK(bytes.find("SYNTH^PATIENT0001") != std::string::npos);

  const std::string truth = ReadAll(summary->truth_path);
  CHECK(truth.rfind(
            "file,sop_instance_uid,patient_id,study_date,laterality,view,category,dense_fraction\n",
            0) == 0);
  auto rows = ReadTruthCsv(summary->truth_path);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 10);
  for (size_t i = 0; i < rows->size(); ++i) {
    const TruthRow& row = (*rows)[i];
    INFO("row " << i);
    CHECK(row.file == absl::StrFormat("synth_%05d.dcm", i));
    CHECK(row.sop_instance_uid.rfind("2.25.", 0) == 0);
    CHECK(row.sop_instance_uid.size() <= 64);
    CHECK((row.patient_id == "SYN0001" || row.patient_id == "SYN0002"));
    CHECK(row.study_date.size() == 10);
    const auto [low, high] = CategoryBand(row.category);
    CHECK(row.dense_fraction >= low - 0.03);
    CHECK(row.dense_fraction <= high + 0.03);
  }

  // Studies of four views: RCC, LCC, RMLO, LMLO, one category and date per study.
  CHECK((*rows)[0].laterality == Laterality::kRight);
  CHECK((*rows)[0].view == View::kCranioCaudal);
  CHECK((*rows)[3].laterality == Laterality::kLeft);
  CHECK((*rows)[3].view == View::kMediolateralOblique);
  CHECK((*rows)[0].study_date == (*rows)[3].study_date);
  CHECK((*rows)[0].category == (*rows)[3].category);
  // Studies 0 and 2 belong to the first patient, about a year apart.
  CHECK((*rows)[8].patient_id == (*rows)[0].patient_id);
  CHECK((*rows)[8].study_date > (*rows)[0].study_date);
  CHECK((*rows)[8].category == (*rows)[0].category);

  // The contact sheet decodes and has one row of cells per category.
  REQUIRE(!summary->contact_sheet_path.empty());
  auto sheet = imaging::DecodePng(ReadAll(summary->contact_sheet_path));
  REQUIRE(sheet.ok());
  CHECK(sheet->width == 2 * (104 + 4) + 4);
  CHECK(sheet->height == 4 * (128 + 4) + 4);

  const std::string json = SummaryJson(*summary);
  CHECK(json.find("\"images\": 10") != std::string::npos);
}

TEST_CASE("GenerateDataset: output depends only on seed and index", "[synth][dicom]") {
  ScratchFolder scratch;
  DatasetOptions small = SmallOptions(scratch.Sub("small"), 5);
  DatasetOptions large = SmallOptions(scratch.Sub("large"), 9);
  large.threads = 3;
  large.contact_sheet_per_category = 0;
  REQUIRE(GenerateDataset(small).ok());
  auto large_summary = GenerateDataset(large);
  REQUIRE(large_summary.ok());
  CHECK(large_summary->contact_sheet_path.empty());
  CHECK_FALSE(fs::exists(large.output_dir + "/contact_sheet.png"));

  // Both runs have two patients, so the first five images match byte for byte.
  for (int i = 0; i < 5; ++i) {
    const std::string name = absl::StrFormat("/synth_%05d.dcm", i);
    INFO(name);
    CHECK(ReadAll(small.output_dir + name) == ReadAll(large.output_dir + name));
  }

  DatasetOptions other_seed = SmallOptions(scratch.Sub("other"), 5);
  other_seed.seed = 4;
  auto other = GenerateDataset(other_seed);
  REQUIRE(other.ok());
  auto small_rows = ReadTruthCsv(small.output_dir + "/truth.csv");
  REQUIRE(small_rows.ok());
  std::set<std::string> uids;
  for (const TruthRow& row : *small_rows) uids.insert(row.sop_instance_uid);
  for (const TruthRow& row : other->rows) uids.insert(row.sop_instance_uid);
  CHECK(uids.size() == 10);
}

TEST_CASE("GenerateDataset: categories follow the weights", "[synth][dicom]") {
  ScratchFolder scratch;
  DatasetOptions options = SmallOptions(scratch.Sub("weights"), 8);
  options.images_per_study = 1;
  options.patients = 8;
  options.category_weights = {0.25, 0.25, 0.25, 0.25};
  auto summary = GenerateDataset(options);
  REQUIRE(summary.ok());
  for (int c = 0; c < kDensityCategoryCount; ++c) {
    INFO("category " << CategoryLetter(static_cast<DensityCategory>(c)));
    CHECK(summary->images_per_category[c] == 2);
  }

  ScratchFolder only_d;
  DatasetOptions dense = SmallOptions(only_d.Sub("dense"), 4);
  dense.category_weights = {0, 0, 0, 1};
  auto dense_summary = GenerateDataset(dense);
  REQUIRE(dense_summary.ok());
  CHECK(dense_summary->images_per_category[3] == 4);
}

TEST_CASE("GenerateDataset: earlier output needs overwrite", "[synth][dicom]") {
  ScratchFolder scratch;
  DatasetOptions options = SmallOptions(scratch.Sub("again"), 6);
  REQUIRE(GenerateDataset(options).ok());

  options.count = 3;
  const auto again = GenerateDataset(options);
  CHECK(again.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(GetErrorReason(again.status()) == "SYNTH_OUTPUT_EXISTS");
  CHECK(CountDicomFiles(options.output_dir) == 6);

  options.overwrite = true;
  REQUIRE(GenerateDataset(options).ok());
  CHECK(CountDicomFiles(options.output_dir) == 3);
  auto rows = ReadTruthCsv(options.output_dir + "/truth.csv");
  REQUIRE(rows.ok());
  CHECK(rows->size() == 3);
}

TEST_CASE("GenerateDataset: bad options are rejected", "[synth]") {
  ScratchFolder scratch;
  DatasetOptions options = SmallOptions(scratch.Sub("bad"), 4);
  SECTION("count") { options.count = 0; }
  SECTION("weights") { options.category_weights = {0, 0, 0, 0}; }
  SECTION("size") { options.rows = 10; }
  SECTION("date") { options.first_study_date = "20230231"; }
  SECTION("views per study") { options.images_per_study = 5; }
  SECTION("missing folder name") { options.output_dir.clear(); }
  const auto result = GenerateDataset(options);
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(result.status()) == "SYNTH_INVALID_OPTION");
  CHECK_FALSE(fs::exists(scratch.Sub("bad") + "/truth.csv"));
}

TEST_CASE("ParseImageSize and ParseCategoryWeights", "[synth]") {
  int rows = 0, columns = 0;
  REQUIRE(ParseImageSize("512x416", rows, columns).ok());
  CHECK(rows == 512);
  CHECK(columns == 416);
  CHECK(ParseImageSize("512", rows, columns).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseImageSize("axb", rows, columns).code() == absl::StatusCode::kInvalidArgument);

  auto weights = ParseCategoryWeights("0.1, 0.4,0.4,0.1");
  REQUIRE(weights.ok());
  CHECK((*weights)[1] == Approx(0.4));
  CHECK(ParseCategoryWeights("0.1,0.4,0.4").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseCategoryWeights("0,0,0,0").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseCategoryWeights("1,-1,1,1").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ReadTruthCsv rejects malformed files", "[synth]") {
  ScratchFolder scratch;
  const std::string path = scratch.Sub("truth.csv");
  const std::string header =
      "file,sop_instance_uid,patient_id,study_date,laterality,view,category,dense_fraction\n";
  SECTION("missing file") {
    CHECK(ReadTruthCsv(scratch.Sub("absent.csv")).status().code() == absl::StatusCode::kNotFound);
  }
  SECTION("bad category") {
    std::ofstream(path) << header << "a.dcm,2.25.1,SYN0001,2023-01-02,L,CC,E,0.5\n";
    const auto rows = ReadTruthCsv(path);
    CHECK(rows.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(rows.status().message()).find("line 2") != std::string::npos);
  }
  SECTION("wrong header") {
    std::ofstream(path) << "file,category\n";
    CHECK(ReadTruthCsv(path).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("valid row") {
    std::ofstream(path) << header << "a.dcm,2.25.1,SYN0001,2023-01-02,R,MLO,C,0.6123\n";
    const auto rows = ReadTruthCsv(path);
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 1);
    CHECK((*rows)[0].laterality == Laterality::kRight);
    CHECK((*rows)[0].view == View::kMediolateralOblique);
    CHECK((*rows)[0].category == DensityCategory::kC);
    CHECK((*rows)[0].dense_fraction == Approx(0.6123));
  }
}

}  // namespace
}  // namespace ailab::synth
