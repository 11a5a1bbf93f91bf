// Test-split figures of a trained model, computed with ailab::metrics.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ailab/training/v1/training.pb.h"

namespace ailab::worker {

// Computes kappa (plain, linear and quadratic), AUC, accuracy and the confusion matrix
// of `probabilities` (one row of classes.size() values per instance) against `labels`.
// A figure that is undefined on this data (AUC when a class is missing, kappa when
// both raters use one class) is NaN. INVALID_ARGUMENT when the sizes do not match.
absl::StatusOr<training::v1::TestMetrics> ComputeTestMetrics(
    const std::vector<std::string>& classes, const std::vector<int>& labels,
    const std::vector<std::vector<float>>& probabilities);

// Index of the largest value (the first on ties).
int ArgMax(const std::vector<float>& values);

}  // namespace ailab::worker
