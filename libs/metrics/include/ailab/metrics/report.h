// Offline metric reports, what `ailab metrics classification|detection|segmentation`
// run: each reads truth and predictions from files and writes the metrics as JSON.
//
// Classification reads a CSV of truth labels and predicted probabilities and writes
// every metric of classification.h and intervals.h.
//
// CSV format: a header `id,truth,<class 1>,<class 2>,...` (at least two classes,
// named by their labels), then one row per instance with the instance id, its truth
// label (one of the class names) and one probability per class. Fields are separated
// by commas; surrounding spaces and double quotes are removed; blank lines are
// skipped. Errors name the 1-based line and the column.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ailab/metrics/detection.h"
#include "ailab/metrics/segmentation.h"

namespace ailab::metrics {

// The parsed CSV.
struct ClassificationTable {
  // Class names from the header, in column order.
  std::vector<std::string> classes;
  std::vector<std::string> ids;
  // Index into `classes` of each row's truth label.
  std::vector<int> truth;
  // Row-major rows x classes probabilities.
  std::vector<double> probabilities;
};

// Parses CSV text. INVALID_ARGUMENT for an empty file, a header without `id`, `truth`
// or two class columns, a duplicate class, a row with the wrong number of fields, a
// truth label that is not a class, or a probability that is not a finite number in
// [0, 1]; the message names the line and the column.
absl::StatusOr<ClassificationTable> ParseClassificationCsv(absl::string_view text);

// Options of the report.
struct ReportOptions {
  // Probability of the positive class at or above which a row is called positive.
  double threshold = 0.5;
  // Class whose figures are reported as the positive one; the second class when
  // empty. With more than two classes, the figures are that class against the rest.
  std::string positive;
  // Bootstrap replicates of the confidence intervals; 0 leaves the intervals out.
  int replicates = 1000;
  // Central coverage of the intervals, in (0, 1).
  double confidence = 0.95;
  // Seed of the bootstrap, so that a report can be repeated exactly.
  uint64_t seed = 1;
};

// Computes the report as a JSON object with keys n, classes, confusion_matrix (rows
// truth, columns predicted, in `classes` order), kappa, linear_kappa, quadratic_kappa,
// accuracy, auc (binary AUC of the positive class with two classes, else the macro
// one-vs-rest AUC), auc_weighted (prevalence-weighted one-vs-rest AUC), roc (points
// {fpr, tpr, threshold} of the positive class), and at the threshold: positive,
// threshold, sensitivity, specificity, ppv, npv, f1. With two classes a row is
// predicted positive when the positive class's probability is at or above the
// threshold. With more, the predicted class is the one of maximum probability (the
// first on ties). Unless options.replicates is 0, confidence_intervals holds [lower, upper] of
// kappa, linear_kappa, quadratic_kappa, accuracy, sensitivity, specificity, ppv, npv
// and f1 (bootstrap), and of the positive class's AUC (auc_delong, auc_bootstrap).
// Undefined figures (NaN) and the first ROC point's infinite threshold are null.
// INVALID_ARGUMENT when `positive` is not a class, the threshold is outside [0, 1], or
// the bootstrap options are invalid.
absl::StatusOr<std::string> ClassificationReportJson(const ClassificationTable& table,
                                                     const ReportOptions& options);

// Detection CSV files have a header naming at least the columns image, x, y, width and
// height, and predictions add score. Columns may come in any order, and others are
// ignored. Each row
// is one box of one image, in pixels with (x, y) the top-left corner. A row whose box
// fields are all empty lists an image without boxes. Errors name the file, line and
// column.

// Parses the truth and predicted CSV texts into images, in order of first appearance
// (truth file first). `truth_source` and `predicted_source` name the files in errors.
// INVALID_ARGUMENT for an empty file, a missing column, a value that is not a number,
// a negative size, or a row with the wrong number of fields.
absl::StatusOr<std::vector<ImageBoxes>> ParseDetectionCsv(absl::string_view truth_csv,
                                                          absl::string_view predicted_csv,
                                                          absl::string_view truth_source = "truth",
                                                          absl::string_view predicted_source =
                                                              "predicted");

// Computes the detection report as JSON with keys images, truth_boxes, predicted_boxes,
// map (the reference product's per-image mean of TP / (TP + FP + FN) over IoU
// thresholds 0.5..0.95), coco_ap, coco_ap50, mean_iou (of boxes matched at IoU 0.5) and
// image_map (per image {image, map}); see detection.h. Undefined figures are null.
absl::StatusOr<std::string> DetectionReportJson(const std::vector<ImageBoxes>& images);

// Reads the PNG masks of `truth_dir` and the files of the same names in
// `predicted_dir` (non-zero pixels are foreground), sorted by file name. Returns
// NOT_FOUND when a folder or a predicted mask is missing. Returns INVALID_ARGUMENT when
// a folder has no PNG file, a predicted PNG has no truth mask, a file is not a PNG, or
// two masks differ in size. The message names the file.
absl::StatusOr<std::vector<MaskPair>> ReadMaskFolders(const std::string& truth_dir,
                                                      const std::string& predicted_dir);

// Computes the segmentation report as JSON with keys images (per image {image, dice,
// iou, truth_volume, predicted_volume}), mean_dice, mean_iou, voxel_volume, volumes
// (per image {image, truth, predicted}, voxel counts times voxel_volume) and
// bland_altman {bias, sd, lower, upper} of predicted minus truth volume. Undefined
// figures are null. Errors as EvaluateSegmentations.
absl::StatusOr<std::string> SegmentationReportJson(const std::vector<MaskPair>& pairs,
                                                   double voxel_volume = 1.0);

}  // namespace ailab::metrics
