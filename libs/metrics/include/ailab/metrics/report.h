// Offline classification reports: reads a CSV of truth labels and predicted
// probabilities and writes every metric of classification.h as JSON. This is what
// `ailab metrics classification` runs.
//
// CSV format: a header `id,truth,<class 1>,<class 2>,...` (at least two classes,
// named by their labels), then one row per instance with the instance id, its truth
// label (one of the class names) and one probability per class. Fields are separated
// by commas; surrounding spaces and double quotes are removed; blank lines are
// skipped. Errors name the 1-based line and the column.
//
// All functions are pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

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
};

// Computes the report as a JSON object with keys n, classes, confusion_matrix (rows
// truth, columns the most probable class), kappa, linear_kappa, quadratic_kappa,
// accuracy, auc (binary AUC of the positive class with two classes, else the macro
// one-vs-rest AUC), roc (points {fpr, tpr, threshold} of the positive class), and at
// the threshold: positive, threshold, sensitivity, specificity, ppv, npv, f1.
// Undefined figures (NaN) and the first ROC point's infinite threshold are null.
// INVALID_ARGUMENT when `positive` is not a class or the threshold is outside [0, 1].
absl::StatusOr<std::string> ClassificationReportJson(const ClassificationTable& table,
                                                     const ReportOptions& options);

}  // namespace ailab::metrics
