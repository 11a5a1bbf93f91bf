// Whole-set computations of the annotation service: the majority vote of several
// annotators, agreement with a reference reader, scoring of predicted probabilities
// against reference labels, and the ranking of annotators.
//
// These functions see per-image reference labels but return aggregates only (counts,
// matrices, kappa, AUC), so the service can hand their results to any caller.
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ailab/annotation/v1/annotation.pb.h"
#include "ailab/metrics/classification.h"
#include "google/protobuf/repeated_field.h"
#include "services/annotation/directories.h"

namespace ailab::annotation {

// One annotator's label of one instance.
struct LabelVote {
  std::string instance;
  std::string annotator;
  std::string label;
};

// The result of the vote on one instance.
struct VotedLabel {
  std::string instance;
  // Index of the winning category in the use case's categories.
  int category_index = 0;
  // Annotators who chose the winning category.
  int votes = 0;
  // Annotators whose label counted on this instance.
  int annotators = 0;
};

// Labels of a majority vote, sorted by instance name.
struct VoteOutcome {
  std::vector<VotedLabel> labels;
  // Instances left out because of a tie under TieRule EXCLUDE.
  int64_t tied_count = 0;
};

// Takes the most frequent category of each instance in `votes` (one vote per
// annotator and instance). A tie goes to the tied category that comes first in
// `use_case.categories` (FIRST_CATEGORY, also for TIE_RULE_UNSPECIFIED), or leaves
// the instance out (EXCLUDE). Labels that are not categories of the use case, which
// happens when the catalog changed after they were saved, are ignored.
VoteOutcome MajorityVote(const std::vector<LabelVote>& votes, const UseCaseInfo& use_case,
                         v1::TieRule tie_rule);

// Agreement of two raters over the instances both labelled.
struct AgreementResult {
  // Rows reference, columns annotator, in category order.
  metrics::ConfusionMatrix matrix;
  int64_t compared_count = 0;
  double accuracy = 0;
  double kappa = 0;
  double linear_kappa = 0;
};

// Compares `annotator` labels (instance to category code) with `reference` labels
// over the instances in both. Codes that are not categories of the use case are
// ignored.
AgreementResult CompareLabels(const absl::flat_hash_map<std::string, std::string>& reference,
                              const absl::flat_hash_map<std::string, std::string>& annotator,
                              const UseCaseInfo& use_case);

// Scores of predictions against reference labels.
struct ScoreResult {
  // Rows reference, columns argmax of the prediction.
  metrics::ConfusionMatrix matrix;
  double kappa = 0;
  double linear_kappa = 0;
  // NaN when undefined (a category missing from the scored reference labels).
  double auc = 0;
  double accuracy = 0;
  int64_t scored_count = 0;
  int64_t missing_count = 0;
  int64_t unlabelled_count = 0;
};

// Scores `predictions` against `reference` (instance to category index). Checks each
// prediction: a well-formed instance name of `dataset` seen once, one probability per
// category, each finite and in [0, 1]; an error is INVALID_ARGUMENT naming
// predictions[i].
absl::StatusOr<ScoreResult> ScorePredictions(
    const absl::flat_hash_map<std::string, int>& reference,
    const google::protobuf::RepeatedPtrField<v1::InstancePrediction>& predictions,
    const UseCaseInfo& use_case, const std::string& dataset);

// An annotator's count and rank.
struct Ranking {
  std::string annotator;
  int64_t annotated_count = 0;
  int64_t rank = 0;
};

// Sorts `counts` (annotator to annotated count) by count, highest first, then by
// annotator id, and gives equal counts the same rank, skipping the ranks after a tie
// (1, 2, 2, 4).
std::vector<Ranking> RankAnnotators(const std::vector<std::pair<std::string, int64_t>>& counts);

}  // namespace ailab::annotation
