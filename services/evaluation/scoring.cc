#include "services/evaluation/scoring.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"

namespace ailab::evaluation {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

template <typename T>
void Append(std::string& out, T value) {
  char buffer[sizeof(T)];
  std::memcpy(buffer, &value, sizeof(T));
  out.append(buffer, sizeof(T));
}

template <typename T>
T Read(absl::string_view bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

absl::Status DamagedTable(absl::string_view why) {
  return Internal("STORED_PREDICTIONS_DAMAGED",
                  absl::StrCat("stored predictions of the evaluation are damaged (", why,
                               "); create the evaluation again"));
}

}  // namespace

static_assert(std::numeric_limits<double>::is_iec559, "doubles must be IEEE 754");

std::string EncodeTable(const PredictionTable& table) {
  // NOTE: native byte order, which is little-endian on every platform the services
  // are built for (x86-64 and AArch64 Linux).
  std::string out;
  out.reserve(12 + table.truth.size() * 4 + table.probabilities.size() * 8);
  Append<int64_t>(out, static_cast<int64_t>(table.truth.size()));
  Append<int32_t>(out, table.num_classes);
  for (int label : table.truth) Append<int32_t>(out, label);
  for (double p : table.probabilities) Append<double>(out, p);
  return out;
}

absl::StatusOr<PredictionTable> DecodeTable(absl::string_view bytes) {
  if (bytes.size() < 12) return DamagedTable("too short");
  const int64_t n = Read<int64_t>(bytes, 0);
  const int32_t k = Read<int32_t>(bytes, 8);
  if (n < 0 || k < 1 || k > 10000) return DamagedTable("bad header");
  const uint64_t expected = 12 + static_cast<uint64_t>(n) * 4 + static_cast<uint64_t>(n) * k * 8;
  if (bytes.size() != expected) return DamagedTable("size does not match header");
  PredictionTable table;
  table.num_classes = k;
  table.truth.resize(n);
  table.probabilities.resize(static_cast<size_t>(n) * k);
  std::memcpy(table.truth.data(), bytes.data() + 12, static_cast<size_t>(n) * 4);
  std::memcpy(table.probabilities.data(), bytes.data() + 12 + n * 4, static_cast<size_t>(n) * k * 8);
  return table;
}

v1::ConfusionMatrix ToProto(const metrics::ConfusionMatrix& matrix,
                            const std::vector<std::string>& categories) {
  v1::ConfusionMatrix proto;
  for (const std::string& category : categories) proto.add_categories(category);
  for (int64_t count : matrix.counts) proto.add_counts(count);
  return proto;
}

v1::Interval KappaInterval(const metrics::ConfusionMatrix& matrix) {
  v1::Interval interval;
  interval.set_confidence(0.95);
  absl::StatusOr<metrics::Interval> computed =
      metrics::KappaBootstrapInterval(matrix, metrics::Weighting::kNone);
  interval.set_lower(computed.ok() ? computed->lower : kNaN);
  interval.set_upper(computed.ok() ? computed->upper : kNaN);
  return interval;
}

absl::StatusOr<v1::ThresholdMetrics> ComputeThresholdMetrics(
    const PredictionTable& table, const std::vector<std::string>& categories, double threshold) {
  if (categories.size() != 2 || table.num_classes != 2) {
    const std::string count = absl::StrCat(categories.size());
    return FailedPrecondition(
        "NOT_BINARY",
        absl::StrCat("threshold figures need a binary use case, and this one has ",
                     categories.size(), " categories"),
        {{"categories", count}});
  }
  const size_t n = table.truth.size();
  std::vector<double> positive_scores(n);
  for (size_t i = 0; i < n; ++i) positive_scores[i] = table.probabilities[i * 2 + 1];
  AILAB_ASSIGN_OR_RETURN(metrics::ThresholdMetrics figures,
                         metrics::SensitivitySpecificity(table.truth, positive_scores, threshold));
  v1::ThresholdMetrics proto;
  proto.set_threshold(threshold);
  proto.set_positive_category(categories[1]);
  proto.set_true_positives(figures.true_positives);
  proto.set_false_positives(figures.false_positives);
  proto.set_true_negatives(figures.true_negatives);
  proto.set_false_negatives(figures.false_negatives);
  proto.set_sensitivity(figures.sensitivity);
  proto.set_specificity(figures.specificity);
  proto.set_ppv(figures.ppv);
  proto.set_npv(figures.npv);
  proto.set_f1(figures.f1);
  proto.set_accuracy(figures.accuracy);

  std::vector<int> calls(n);
  for (size_t i = 0; i < n; ++i) calls[i] = positive_scores[i] >= threshold ? 1 : 0;
  AILAB_ASSIGN_OR_RETURN(metrics::ConfusionMatrix matrix, metrics::Confusion(table.truth, calls, 2));
  *proto.mutable_confusion_matrix() = ToProto(matrix, categories);
  proto.set_kappa(metrics::CohenKappa(matrix, metrics::Weighting::kNone));
  return proto;
}

absl::StatusOr<v1::ClassificationMetrics> ComputeMetrics(const PredictionTable& table,
                                                         const std::vector<std::string>& categories,
                                                         double threshold) {
  const int k = static_cast<int>(categories.size());
  if (table.num_classes != k) {
    return Internal("CATEGORY_COUNT_MISMATCH",
                    absl::StrCat("predictions have ", table.num_classes, " classes but the use case ",
                                 k, " categories"));
  }
  AILAB_ASSIGN_OR_RETURN(std::vector<int> predicted, metrics::Argmax(table.probabilities, k));
  AILAB_ASSIGN_OR_RETURN(metrics::ConfusionMatrix matrix, metrics::Confusion(table.truth, predicted, k));

  v1::ClassificationMetrics result;
  result.set_n(static_cast<int64_t>(table.truth.size()));
  result.set_kappa(metrics::CohenKappa(matrix, metrics::Weighting::kNone));
  result.set_linear_kappa(metrics::CohenKappa(matrix, metrics::Weighting::kLinear));
  result.set_quadratic_kappa(metrics::CohenKappa(matrix, metrics::Weighting::kQuadratic));
  result.set_accuracy(metrics::Accuracy(matrix));
  *result.mutable_confusion_matrix() = ToProto(matrix, categories);
  *result.mutable_kappa_interval() = KappaInterval(matrix);

  // AUC: undefined (NaN) when a category is absent from the truth or present in every
  // row, the other errors are real.
  const size_t n = table.truth.size();
  if (k == 2) {
    std::vector<double> positive_scores(n);
    for (size_t i = 0; i < n; ++i) positive_scores[i] = table.probabilities[i * 2 + 1];
    absl::StatusOr<double> auc = metrics::BinaryAuc(table.truth, positive_scores);
    if (!auc.ok() && auc.status().code() != absl::StatusCode::kFailedPrecondition) {
      return auc.status();
    }
    result.set_auc(auc.ok() ? *auc : kNaN);
    result.add_category_aucs(auc.ok() ? 1.0 - *auc : kNaN);
    result.add_category_aucs(auc.ok() ? *auc : kNaN);
    if (auc.ok()) {
      AILAB_ASSIGN_OR_RETURN(std::vector<metrics::RocPoint> roc,
                             metrics::RocCurve(table.truth, positive_scores));
      for (const metrics::RocPoint& point : roc) {
        v1::RocPoint* proto = result.add_roc();
        proto->set_fpr(point.fpr);
        proto->set_tpr(point.tpr);
        proto->set_threshold(point.threshold);
      }
    }
    AILAB_ASSIGN_OR_RETURN(*result.mutable_at_threshold(),
                           ComputeThresholdMetrics(table, categories, threshold));
  } else {
    // Per-category AUC one at a time, so that one absent category leaves the others.
    std::vector<int> is_category(n);
    std::vector<double> scores(n);
    double sum = 0;
    bool all_defined = true;
    for (int c = 0; c < k; ++c) {
      for (size_t i = 0; i < n; ++i) {
        is_category[i] = table.truth[i] == c ? 1 : 0;
        scores[i] = table.probabilities[i * k + c];
      }
      absl::StatusOr<double> auc = metrics::BinaryAuc(is_category, scores);
      if (!auc.ok() && auc.status().code() != absl::StatusCode::kFailedPrecondition) {
        return auc.status();
      }
      result.add_category_aucs(auc.ok() ? *auc : kNaN);
      if (auc.ok()) {
        sum += *auc;
      } else {
        all_defined = false;
      }
    }
    result.set_auc(all_defined && k > 0 ? sum / k : kNaN);
  }
  return result;
}

}  // namespace ailab::evaluation
