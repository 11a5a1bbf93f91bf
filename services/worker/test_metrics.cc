#include "test_metrics.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "ailab/metrics/classification.h"
#include "ailab/status/status.h"

namespace ailab::worker {

int ArgMax(const std::vector<float>& values) {
  int best = 0;
  for (int i = 1; i < static_cast<int>(values.size()); ++i) {
    if (values[i] > values[best]) best = i;
  }
  return best;
}

absl::StatusOr<training::v1::TestMetrics> ComputeTestMetrics(
    const std::vector<std::string>& classes, const std::vector<int>& labels,
    const std::vector<std::vector<float>>& probabilities) {
  const int num_classes = static_cast<int>(classes.size());
  if (labels.size() != probabilities.size()) {
    return InvalidArgument("SIZE_MISMATCH", "probabilities",
                           absl::StrCat(labels.size(), " labels but ", probabilities.size(),
                                        " rows of probabilities"));
  }
  std::vector<int> predicted;
  std::vector<double> flat;
  predicted.reserve(labels.size());
  flat.reserve(labels.size() * num_classes);
  for (size_t i = 0; i < probabilities.size(); ++i) {
    if (static_cast<int>(probabilities[i].size()) != num_classes) {
      return InvalidArgument("SIZE_MISMATCH", "probabilities",
                             absl::StrCat("row ", i, " has ", probabilities[i].size(),
                                          " probabilities for ", num_classes, " classes"));
    }
    predicted.push_back(ArgMax(probabilities[i]));
    flat.insert(flat.end(), probabilities[i].begin(), probabilities[i].end());
  }

  AILAB_ASSIGN_OR_RETURN(metrics::ConfusionMatrix confusion,
                         metrics::Confusion(labels, predicted, num_classes));
  training::v1::TestMetrics result;
  result.set_n(static_cast<int>(labels.size()));
  result.set_kappa(metrics::CohenKappa(confusion, metrics::Weighting::kNone));
  result.set_linear_kappa(metrics::CohenKappa(confusion, metrics::Weighting::kLinear));
  result.set_quadratic_kappa(metrics::CohenKappa(confusion, metrics::Weighting::kQuadratic));
  result.set_accuracy(metrics::Accuracy(confusion));

  // AUC is undefined when the test split lacks a class; that is a property of the
  // data, not an error of the run.
  absl::StatusOr<double> auc = metrics::OneVsRestAuc(labels, flat, num_classes);
  result.set_auc(auc.ok() ? *auc : std::numeric_limits<double>::quiet_NaN());

  training::v1::ConfusionMatrix* matrix = result.mutable_confusion_matrix();
  for (const std::string& category : classes) matrix->add_classes(category);
  for (int64_t count : confusion.counts) matrix->add_counts(static_cast<int32_t>(count));
  return result;
}

}  // namespace ailab::worker
