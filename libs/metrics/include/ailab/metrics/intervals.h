// Confidence intervals of classification metrics: DeLong for the AUC, and percentile
// bootstrap intervals for every figure of classification.h.
//
// Bootstraps resample rows with replacement. The figures of a confusion matrix are
// kappa of any weighting, accuracy, and sensitivity, specificity, PPV, NPV and F1 at a
// threshold. For these a resample only changes how many rows fall in each cell, so each
// replicate draws the cell counts from a multinomial of n trials over the observed cell
// frequencies. That is exact and costs O(cells) per replicate, whatever n is; these
// replicates run in sequence from one engine seeded with BootstrapOptions::seed. The AUC
// bootstrap does the same over (distinct score, class) cells, drawing n rows when the
// cells are too many for a chain of binomials; its replicates run on several threads,
// each with a seed derived from BootstrapOptions::seed and the replicate's index, so the
// result does not depend on the thread count.
//
// Replicates whose figure is undefined (NaN, for example a resample without positives)
// are skipped; an interval is NaN..NaN when every replicate is.
//
// All functions are pure and thread-safe.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "ailab/metrics/classification.h"

namespace ailab::metrics {

// The AUC with its DeLong standard error and confidence interval.
struct AucWithInterval {
  double auc = 0;
  // DeLong variance of the AUC estimate: S10 / positives + S01 / negatives, with the
  // sample variances (n - 1 denominator) of the structural components. NaN with fewer
  // than two positives or two negatives.
  double variance = 0;
  // auc -/+ z * sqrt(variance), clipped to [0, 1]; NaN when the variance is.
  Interval interval;
};

// Computes the Mann-Whitney AUC and its DeLong interval at `confidence` (in (0, 1)).
// The structural components come from the sorted scores, so this is O(n log n) rather
// than O(positives * negatives). Errors as BinaryAuc, and INVALID_ARGUMENT for a
// confidence outside (0, 1).
absl::StatusOr<AucWithInterval> AucDeLongInterval(std::span<const int> truth01,
                                                  std::span<const double> scores,
                                                  double confidence = 0.95);

// A figure computed from a confusion matrix, such as CohenKappa with fixed weighting.
using ConfusionStatistic = std::function<double(const ConfusionMatrix&)>;

// Percentile bootstrap intervals of several figures of `cm` from the same replicates,
// one Interval per statistic in order. INVALID_ARGUMENT for replicates < 1 or a
// confidence outside (0, 1). An empty matrix gives NaN..NaN intervals.
absl::StatusOr<std::vector<Interval>> ConfusionBootstrapIntervals(
    const ConfusionMatrix& cm, const std::vector<ConfusionStatistic>& statistics,
    const BootstrapOptions& options = {});

// Percentile bootstrap intervals of the figures at one threshold.
struct ThresholdIntervals {
  Interval sensitivity;
  Interval specificity;
  Interval ppv;
  Interval npv;
  Interval f1;
  Interval accuracy;
};

// Bootstrap intervals of SensitivitySpecificity(truth01, scores, threshold). Errors as
// SensitivitySpecificity and ConfusionBootstrapIntervals.
absl::StatusOr<ThresholdIntervals> ThresholdBootstrapIntervals(std::span<const int> truth01,
                                                               std::span<const double> scores,
                                                               double threshold,
                                                               const BootstrapOptions& options = {});

// Percentile bootstrap interval of BinaryAuc(truth01, scores). Errors as BinaryAuc and
// ConfusionBootstrapIntervals.
absl::StatusOr<Interval> AucBootstrapInterval(std::span<const int> truth01,
                                              std::span<const double> scores,
                                              const BootstrapOptions& options = {});

// Two-sided standard normal quantile for `confidence`: z with P(|Z| <= z) = confidence,
// for example 1.959964 for 0.95. `confidence` must be in (0, 1).
double NormalQuantileTwoSided(double confidence);

}  // namespace ailab::metrics
