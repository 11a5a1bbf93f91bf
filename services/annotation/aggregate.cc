#include "services/annotation/aggregate.h"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "services/annotation/requests.h"

namespace ailab::annotation {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Builds the matrix of paired category indices. Callers pass indices from
// UseCaseInfo::CategoryIndex or Argmax, which are in range, so the zero matrix
// fallback is not expected to run.
metrics::ConfusionMatrix BuildMatrix(const std::vector<int>& truth,
                                     const std::vector<int>& predicted, int num_classes) {
  absl::StatusOr<metrics::ConfusionMatrix> matrix =
      metrics::Confusion(truth, predicted, num_classes);
  if (matrix.ok()) return *std::move(matrix);
  metrics::ConfusionMatrix empty;
  empty.num_classes = num_classes;
  empty.counts.assign(static_cast<size_t>(num_classes) * num_classes, 0);
  return empty;
}

}  // namespace

VoteOutcome MajorityVote(const std::vector<LabelVote>& votes, const UseCaseInfo& use_case,
                         v1::TieRule tie_rule) {
  const int num_classes = static_cast<int>(use_case.categories.size());

  // Tally per instance; std::map keeps the output sorted by instance name.
  std::map<std::string, std::vector<int>> tallies;
  for (const LabelVote& vote : votes) {
    int index = use_case.CategoryIndex(vote.label);
    if (index < 0) continue;
    std::vector<int>& tally = tallies[vote.instance];
    if (tally.empty()) tally.assign(num_classes, 0);
    ++tally[index];
  }

  VoteOutcome outcome;
  for (const auto& [instance, tally] : tallies) {
    int best = 0;
    int annotators = 0;
    for (int c = 0; c < num_classes; ++c) {
      annotators += tally[c];
      // Strictly greater, so the first of tied categories stays best.
      if (tally[c] > tally[best]) best = c;
    }
    int tied = 0;
    for (int c = 0; c < num_classes; ++c) {
      if (tally[c] == tally[best]) ++tied;
    }
    if (tied > 1 && tie_rule == v1::EXCLUDE) {
      ++outcome.tied_count;
      continue;
    }
    outcome.labels.push_back(VotedLabel{instance, best, tally[best], annotators});
  }
  return outcome;
}

AgreementResult CompareLabels(const absl::flat_hash_map<std::string, std::string>& reference,
                              const absl::flat_hash_map<std::string, std::string>& annotator,
                              const UseCaseInfo& use_case) {
  const int num_classes = static_cast<int>(use_case.categories.size());
  std::vector<int> truth;
  std::vector<int> predicted;
  for (const auto& [instance, label] : annotator) {
    auto it = reference.find(instance);
    if (it == reference.end()) continue;
    int reference_index = use_case.CategoryIndex(it->second);
    int annotator_index = use_case.CategoryIndex(label);
    if (reference_index < 0 || annotator_index < 0) continue;
    truth.push_back(reference_index);
    predicted.push_back(annotator_index);
  }

  AgreementResult result;
  result.matrix = BuildMatrix(truth, predicted, num_classes);
  result.compared_count = static_cast<int64_t>(truth.size());
  result.accuracy = metrics::Accuracy(result.matrix);
  result.kappa = metrics::CohenKappa(result.matrix, metrics::Weighting::kNone);
  result.linear_kappa = metrics::CohenKappa(result.matrix, metrics::Weighting::kLinear);
  return result;
}

absl::StatusOr<ScoreResult> ScorePredictions(
    const absl::flat_hash_map<std::string, int>& reference,
    const google::protobuf::RepeatedPtrField<v1::InstancePrediction>& predictions,
    const UseCaseInfo& use_case, const std::string& dataset) {
  const int num_classes = static_cast<int>(use_case.categories.size());

  // Checks every prediction before scoring any.
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < predictions.size(); ++i) {
    const v1::InstancePrediction& prediction = predictions[i];
    std::string field = absl::StrCat("predictions[", i, "]");
    AILAB_RETURN_IF_ERROR(
        CheckInstanceName(absl::StrCat(field, ".instance"), prediction.instance(), dataset));
    if (!seen.insert(prediction.instance()).second) {
      return InvalidArgument("DUPLICATE_PREDICTION", field,
                             absl::StrCat(field, " repeats instance \"", prediction.instance(),
                                          "\"; send one prediction per instance"),
                             {{"instance", prediction.instance()}});
    }
    if (prediction.probabilities_size() != num_classes) {
      return InvalidArgument(
          "WRONG_PROBABILITY_COUNT", absl::StrCat(field, ".probabilities"),
          absl::StrCat(field, " has ", prediction.probabilities_size(),
                       " probabilities; use case \"", use_case.name, "\" has ", num_classes,
                       " categories (", JoinCategories(use_case), "), one probability each"),
          {{"instance", prediction.instance()}, {"use_case", use_case.name}});
    }
    for (int c = 0; c < num_classes; ++c) {
      double p = prediction.probabilities(c);
      if (!(p >= 0 && p <= 1)) {
        return InvalidArgument(
            "INVALID_PROBABILITY", absl::StrCat(field, ".probabilities"),
            absl::StrCat(field, ".probabilities[", c, "] is ", p, "; each must be in [0, 1]"),
            {{"instance", prediction.instance()}});
      }
    }
  }

  // Pairs the reference label with the prediction of each labelled instance.
  std::vector<int> truth;
  std::vector<double> probabilities;
  ScoreResult result;
  for (const v1::InstancePrediction& prediction : predictions) {
    auto it = reference.find(prediction.instance());
    if (it == reference.end()) {
      ++result.unlabelled_count;
      continue;
    }
    truth.push_back(it->second);
    probabilities.insert(probabilities.end(), prediction.probabilities().begin(),
                         prediction.probabilities().end());
  }
  result.scored_count = static_cast<int64_t>(truth.size());
  result.missing_count = static_cast<int64_t>(reference.size()) - result.scored_count;

  AILAB_ASSIGN_OR_RETURN(std::vector<int> predicted, metrics::Argmax(probabilities, num_classes));
  result.matrix = BuildMatrix(truth, predicted, num_classes);
  result.accuracy = metrics::Accuracy(result.matrix);
  result.kappa = metrics::CohenKappa(result.matrix, metrics::Weighting::kNone);
  result.linear_kappa = metrics::CohenKappa(result.matrix, metrics::Weighting::kLinear);

  // AUC: the second category is the positive class of a binary use case.
  absl::StatusOr<double> auc = absl::FailedPreconditionError("no rows");
  if (num_classes == 2) {
    std::vector<double> positive;
    positive.reserve(truth.size());
    for (size_t row = 0; row < truth.size(); ++row) positive.push_back(probabilities[row * 2 + 1]);
    auc = metrics::BinaryAuc(truth, positive);
  } else {
    auc = metrics::OneVsRestAuc(truth, probabilities, num_classes, metrics::AucAverage::kMacro);
  }
  if (auc.ok()) {
    result.auc = *auc;
  } else if (auc.status().code() == absl::StatusCode::kFailedPrecondition) {
    result.auc = kNaN;
  } else {
    return auc.status();
  }
  return result;
}

std::vector<Ranking> RankAnnotators(const std::vector<std::pair<std::string, int64_t>>& counts) {
  std::vector<Ranking> rankings;
  rankings.reserve(counts.size());
  for (const auto& [annotator, count] : counts) rankings.push_back({annotator, count, 0});
  std::sort(rankings.begin(), rankings.end(), [](const Ranking& a, const Ranking& b) {
    if (a.annotated_count != b.annotated_count) return a.annotated_count > b.annotated_count;
    return a.annotator < b.annotator;
  });
  for (size_t i = 0; i < rankings.size(); ++i) {
    bool tied_with_previous = i > 0 && rankings[i].annotated_count == rankings[i - 1].annotated_count;
    rankings[i].rank = tied_with_previous ? rankings[i - 1].rank : static_cast<int64_t>(i) + 1;
  }
  return rankings;
}

}  // namespace ailab::annotation
