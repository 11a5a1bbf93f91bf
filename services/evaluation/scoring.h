// Metrics of an evaluation: one model's predictions against the truth, computed with
// ailab::metrics and written into the API's messages.
//
// A PredictionTable contains what ComputeAtThreshold needs later, so it is stored in a
// compact binary form (EncodeTable) beside the evaluation.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ailab/evaluation/v1/evaluation.pb.h"
#include "ailab/metrics/classification.h"

namespace ailab::evaluation {

// One model's outputs on the labelled instances of an evaluation.
struct PredictionTable {
  int num_classes = 0;
  // Truth category index of each instance.
  std::vector<int> truth;
  // Row-major truth.size() x num_classes probabilities, in the use case's order.
  std::vector<double> probabilities;
};

// Serialises `table`: n (int64), k (int32), n truth values (int32), then n * k
// probabilities (IEEE double), all little-endian.
std::string EncodeTable(const PredictionTable& table);

// Reads a table written by EncodeTable. INTERNAL when the bytes are damaged.
absl::StatusOr<PredictionTable> DecodeTable(absl::string_view bytes);

// Computes every metric of `table` over `categories`. For binary use cases (two
// categories, the second one positive) this includes the ROC curve and the figures
// at `threshold`. Undefined figures (AUC with a category absent, kappa of a single
// category) are NaN, not errors.
absl::StatusOr<v1::ClassificationMetrics> ComputeMetrics(const PredictionTable& table,
                                                         const std::vector<std::string>& categories,
                                                         double threshold);

// Computes the binary figures of `table` at `threshold`: an instance is called
// positive when the probability of categories[1] is at least `threshold`.
// FAILED_PRECONDITION unless there are two categories.
absl::StatusOr<v1::ThresholdMetrics> ComputeThresholdMetrics(
    const PredictionTable& table, const std::vector<std::string>& categories, double threshold);

// Copies a confusion matrix into the API message.
v1::ConfusionMatrix ToProto(const metrics::ConfusionMatrix& matrix,
                            const std::vector<std::string>& categories);

// 95% percentile bootstrap interval of unweighted kappa from 1000 resamples, with a
// fixed seed so that the same counts give the same interval.
v1::Interval KappaInterval(const metrics::ConfusionMatrix& matrix);

}  // namespace ailab::evaluation
