// Assessment of a deployed model on its reviewed production predictions: the metrics
// over a time range and per time window, the probability timeline with each binary
// outcome, and the alert state of an AlertRule.
//
// All functions are pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ailab/evaluation/v1/evaluation.pb.h"
#include "services/evaluation/backends.h"

namespace ailab::evaluation {

// Windows of an assessment: consecutive spans of `length` from `start` to `end`.
struct WindowSpec {
  absl::Time start;
  absl::Time end;
  absl::Duration length;
};

// Inputs of Assess besides the predictions.
struct AssessmentOptions {
  // Category codes of the use case, in order; the second is positive when there are two.
  std::vector<std::string> categories;
  // Threshold of the binary figures and of the TP/FP/TN/FN outcomes.
  double threshold = 0.5;
  // Alert rule; nullopt for no alert state.
  std::optional<v1::AlertRule> alert_rule;
  // Per-window metrics; nullopt for none.
  std::optional<WindowSpec> windows;
};

// Most windows one assessment may have.
inline constexpr int64_t kMaxAssessmentWindows = 1000;

// Checks an alert rule: a known metric, a finite level and a non-negative min_count.
// SENSITIVITY and SPECIFICITY need `binary`. INVALID_ARGUMENT names the field.
absl::Status CheckAlertRule(const v1::AlertRule& rule, bool binary);

// Computes the AssessModelResponse of `reviewed` (model and unreviewed count left
// unset): points ordered by study date (unknown dates last, then by creation time),
// the metrics over all of them, each window's metrics, and the alert states.
// Predictions whose truth is not one of the categories, or whose probabilities do not
// cover them, are left out.
absl::StatusOr<v1::AssessModelResponse> Assess(std::vector<ReviewedPrediction> reviewed,
                                               const AssessmentOptions& options);

}  // namespace ailab::evaluation
