// Synthetic mammography datasets: DICOM files with their density truth.
//
// GenerateDataset() writes `count` DICOM MG files named synth_00000.dcm, ... into a
// folder, with truth.csv (one row per file:
// file,sop_instance_uid,patient_id,study_date,laterality,view,category,dense_fraction)
// and contact_sheet.png (a few thumbnails per category, one row per category, A at the
// top). The images form screening studies of up to four views (RCC, LCC, RMLO, LMLO)
// shared among `patients` synthetic patients, each studied about once a year, so
// Study Dates spread over months and years. A patient keeps one density category in
// all studies; categories are assigned to patients in proportion to the weights.
//
// Everything derives from the seed: the same options give the same files whatever the
// number of threads. With the same number of patients, image i does not depend on
// `count`, so a larger dataset extends a smaller one. UIDs are under the 2.25 root
// (UUID-derived UIDs), from a hash of the seed.
//
// GenerateDataset() is thread-safe for distinct output folders.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ailab/synth/mammogram.h"

namespace ailab::synth {

struct DatasetOptions {
  // Folder for the files; created when missing.
  std::string output_dir;
  // Number of images.
  int count = 100;
  uint64_t seed = 1;
  // Number of patients; 0 means one patient for every three studies.
  int patients = 0;
  // Image size in pixels.
  int rows = 512;
  int columns = 416;
  // Expected share of studies stored as MONOCHROME1 (inverted).
  double monochrome1_fraction = 0.2;
  // Relative frequency of categories A, B, C, D among patients; not all zero.
  std::array<double, kDensityCategoryCount> category_weights = {0.1, 0.4, 0.4, 0.1};
  // Processing variation, 0 to 1 (MammogramParams::variability).
  double variability = 1.0;
  // Views per study, 1 to 4.
  int images_per_study = 4;
  // Earliest first Study Date, YYYYMMDD.
  std::string first_study_date = "20220103";
  // Thumbnails per category in contact_sheet.png; 0 writes no sheet.
  int contact_sheet_per_category = 4;
  // Worker threads; the files do not depend on it.
  int threads = 1;
  // Replace the files of an earlier run in the folder instead of failing.
  bool overwrite = false;
};

// One row of truth.csv.
struct TruthRow {
  std::string file;  // file name inside the output folder
  std::string sop_instance_uid;
  std::string patient_id;
  std::string study_date;  // YYYY-MM-DD
  Laterality laterality = Laterality::kLeft;
  View view = View::kCranioCaudal;
  DensityCategory category = DensityCategory::kA;
  double dense_fraction = 0;
};

struct DatasetSummary {
  std::string output_dir;
  std::string truth_path;
  // Empty when no contact sheet was written.
  std::string contact_sheet_path;
  int images = 0;
  int studies = 0;
  int patients = 0;
  std::array<int, kDensityCategoryCount> images_per_category{};
  // First and last Study Date, YYYY-MM-DD.
  std::string first_study_date;
  std::string last_study_date;
  std::vector<TruthRow> rows;
};

// Checks `options`; INVALID_ARGUMENT names the option.
absl::Status ValidateDatasetOptions(const DatasetOptions& options);

// Writes the dataset. INVALID_ARGUMENT for bad options, ALREADY_EXISTS when the folder
// has a truth.csv and `overwrite` is false, INTERNAL when a file cannot be written.
absl::StatusOr<DatasetSummary> GenerateDataset(const DatasetOptions& options);

// Parses an image size "ROWSxCOLUMNS", for example "512x416".
absl::Status ParseImageSize(absl::string_view text, int& rows, int& columns);

// Parses four comma-separated non-negative weights for A, B, C, D, not all zero.
absl::StatusOr<std::array<double, kDensityCategoryCount>> ParseCategoryWeights(
    absl::string_view text);

// Reads truth.csv as written by GenerateDataset().
absl::StatusOr<std::vector<TruthRow>> ReadTruthCsv(const std::string& path);

// Formats `summary` (without the rows) as one JSON object.
std::string SummaryJson(const DatasetSummary& summary);

}  // namespace ailab::synth
