#include "services/evaluation/assessment.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "services/evaluation/scoring.h"

namespace ailab::evaluation {
namespace {

using ::google::protobuf::util::TimeUtil;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

// Value of the rule's metric in `metrics` (NaN when undefined or absent).
double MetricValue(const v1::AlertRule& rule, const v1::ClassificationMetrics& metrics) {
  switch (rule.metric()) {
    case v1::AlertRule::KAPPA:
      return metrics.kappa();
    case v1::AlertRule::ACCURACY:
      return metrics.accuracy();
    case v1::AlertRule::AUC:
      return metrics.auc();
    case v1::AlertRule::SENSITIVITY:
      return metrics.has_at_threshold() ? metrics.at_threshold().sensitivity() : kNaN;
    case v1::AlertRule::SPECIFICITY:
      return metrics.has_at_threshold() ? metrics.at_threshold().specificity() : kNaN;
    default:
      return kNaN;
  }
}

// Judges `metrics` of `count` reviewed predictions against `rule`.
v1::AlertRule::State Judge(const v1::AlertRule& rule, int64_t count,
                           const v1::ClassificationMetrics* metrics, double* value) {
  *value = metrics == nullptr ? kNaN : MetricValue(rule, *metrics);
  const int64_t min_count = std::max<int64_t>(1, rule.min_count());
  if (count < min_count || std::isnan(*value)) return v1::AlertRule::INSUFFICIENT_DATA;
  return *value < rule.level() ? v1::AlertRule::ALERT : v1::AlertRule::OK;
}

// Index of `code` in `categories`, or -1.
int IndexOf(const std::vector<std::string>& categories, const std::string& code) {
  auto it = std::find(categories.begin(), categories.end(), code);
  return it == categories.end() ? -1 : static_cast<int>(it - categories.begin());
}

// Appends one instance to `table`.
void AddRow(PredictionTable& table, int truth, const std::vector<double>& ordered) {
  table.truth.push_back(truth);
  table.probabilities.insert(table.probabilities.end(), ordered.begin(), ordered.end());
}

}  // namespace

absl::Status CheckAlertRule(const v1::AlertRule& rule, bool binary) {
  if (rule.metric() == v1::AlertRule::METRIC_UNSPECIFIED ||
      !v1::AlertRule::Metric_IsValid(rule.metric())) {
    const std::string metric = absl::StrCat(rule.metric());
    return InvalidArgument("INVALID_ALERT_METRIC", "alert_rule.metric",
                           absl::StrCat("alert_rule.metric ", rule.metric(),
                                        " is not set or unknown; use KAPPA, ACCURACY, AUC, "
                                        "SENSITIVITY or SPECIFICITY"),
                           {{"metric", metric}});
  }
  if (!binary && (rule.metric() == v1::AlertRule::SENSITIVITY ||
                  rule.metric() == v1::AlertRule::SPECIFICITY)) {
    const std::string metric = v1::AlertRule::Metric_Name(rule.metric());
    return InvalidArgument("ALERT_METRIC_NEEDS_BINARY", "alert_rule.metric",
                           absl::StrCat("alert_rule.metric ", metric,
                                        " applies to binary use cases only; use KAPPA, "
                                        "ACCURACY or AUC"),
                           {{"metric", metric}});
  }
  if (!std::isfinite(rule.level())) {
    return InvalidArgument("INVALID_ALERT_LEVEL", "alert_rule.level",
                           "alert_rule.level is not a finite number; pass a level such as 0.6");
  }
  if (rule.min_count() < 0) {
    const std::string min_count = absl::StrCat(rule.min_count());
    return InvalidArgument(
        "INVALID_ALERT_MIN_COUNT", "alert_rule.min_count",
        absl::StrCat("alert_rule.min_count ", rule.min_count(), " is negative; pass 0 or more"),
        {{"min_count", min_count}});
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::AssessModelResponse> Assess(std::vector<ReviewedPrediction> reviewed,
                                               const AssessmentOptions& options) {
  // Timeline order: study date, unknown dates last, then creation time.
  std::stable_sort(reviewed.begin(), reviewed.end(),
                   [](const ReviewedPrediction& a, const ReviewedPrediction& b) {
                     if (a.study_date.empty() != b.study_date.empty()) return b.study_date.empty();
                     if (a.study_date != b.study_date) return a.study_date < b.study_date;
                     return a.create_time < b.create_time;
                   });
  const std::vector<std::string>& categories = options.categories;
  const size_t k = categories.size();

  int64_t window_count = 0;
  if (options.windows) {
    const WindowSpec& spec = *options.windows;
    window_count =
        static_cast<int64_t>(std::ceil(absl::FDivDuration(spec.end - spec.start, spec.length)));
  }
  std::vector<PredictionTable> window_tables(window_count);
  for (PredictionTable& table : window_tables) table.num_classes = static_cast<int>(k);

  v1::AssessModelResponse response;
  PredictionTable table;
  table.num_classes = static_cast<int>(k);
  for (const ReviewedPrediction& prediction : reviewed) {
    const int truth = IndexOf(categories, prediction.truth_category);
    // A category removed from the use case since the prediction was made.
    if (truth < 0 || prediction.categories.size() != k) continue;
    std::vector<double> ordered(k, 0.0);
    for (size_t i = 0; i < k && i < prediction.probabilities.size(); ++i) {
      const int c = IndexOf(categories, prediction.categories[i]);
      if (c >= 0) ordered[c] = prediction.probabilities[i];
    }
    AddRow(table, truth, ordered);
    if (options.windows && prediction.create_time >= options.windows->start &&
        prediction.create_time < options.windows->end) {
      absl::Duration remainder;
      const int64_t w = absl::IDivDuration(prediction.create_time - options.windows->start,
                                           options.windows->length, &remainder);
      if (w < window_count) AddRow(window_tables[w], truth, ordered);
    }

    v1::AssessedPoint* point = response.add_points();
    point->set_prediction(prediction.name);
    point->set_study_date(prediction.study_date);
    point->set_predicted_category(prediction.predicted_category);
    point->set_truth_category(prediction.truth_category);
    *point->mutable_create_time() = ToTimestamp(prediction.create_time);
    if (k == 2) {
      point->set_probability(ordered[1]);
      const bool called = ordered[1] >= options.threshold;
      const bool positive = truth == 1;
      const char* outcome = nullptr;
      if (called) {
        outcome = positive ? "TP" : "FP";
      } else {
        outcome = positive ? "FN" : "TN";
      }
      point->set_outcome(outcome);
    } else {
      const int predicted = IndexOf(categories, prediction.predicted_category);
      point->set_probability(predicted >= 0 ? ordered[predicted] : 0.0);
    }
  }
  if (!table.truth.empty()) {
    AILAB_ASSIGN_OR_RETURN(*response.mutable_metrics(),
                           ComputeMetrics(table, categories, options.threshold));
  }
  if (options.alert_rule) {
    double value = kNaN;
    response.set_alert_state(Judge(*options.alert_rule, static_cast<int64_t>(table.truth.size()),
                                   response.has_metrics() ? &response.metrics() : nullptr, &value));
    response.set_alert_metric_value(value);
  }

  for (int64_t w = 0; w < window_count; ++w) {
    const WindowSpec& spec = *options.windows;
    v1::AssessmentWindow* window = response.add_windows();
    const absl::Time start = spec.start + w * spec.length;
    *window->mutable_start_time() = ToTimestamp(start);
    *window->mutable_end_time() = ToTimestamp(std::min(spec.end, start + spec.length));
    const PredictionTable& window_table = window_tables[w];
    window->set_reviewed_count(static_cast<int64_t>(window_table.truth.size()));
    if (!window_table.truth.empty()) {
      AILAB_ASSIGN_OR_RETURN(*window->mutable_metrics(),
                             ComputeMetrics(window_table, categories, options.threshold));
    }
    if (options.alert_rule) {
      double value = kNaN;
      window->set_alert_state(Judge(*options.alert_rule, window->reviewed_count(),
                                    window->has_metrics() ? &window->metrics() : nullptr, &value));
      window->set_alert_metric_value(value);
      if (window->alert_state() == v1::AlertRule::ALERT) {
        response.set_alerting_window_count(response.alerting_window_count() + 1);
      }
    }
  }
  return response;
}

}  // namespace ailab::evaluation
