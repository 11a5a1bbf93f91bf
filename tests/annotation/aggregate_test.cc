// Unit tests of the whole-set computations: majority vote, agreement, scoring and
// ranking.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"
#include "services/annotation/aggregate.h"

namespace ailab::annotation {
namespace {

UseCaseInfo Density() {
  return UseCaseInfo{"useCases/breast-density", TaskKind::kMulticlassClassification,
                     {"A", "B", "C", "D"}};
}

UseCaseInfo Binary() {
  return UseCaseInfo{"useCases/pneumothorax", TaskKind::kBinaryClassification,
                     {"absent", "present"}};
}

std::string Instance(int i) { return absl::StrCat("datasets/d/instances/", i); }

TEST_CASE("MajorityVote: most frequent category wins") {
  std::vector<LabelVote> votes = {
      {Instance(1), "u1", "B"}, {Instance(1), "u2", "B"}, {Instance(1), "u3", "C"},
      {Instance(2), "u1", "D"},
  };
  VoteOutcome outcome = MajorityVote(votes, Density(), v1::FIRST_CATEGORY);
  REQUIRE(outcome.labels.size() == 2);
  CHECK(outcome.labels[0].instance == Instance(1));
  CHECK(outcome.labels[0].category_index == 1);
  CHECK(outcome.labels[0].votes == 2);
  CHECK(outcome.labels[0].annotators == 3);
  CHECK(outcome.labels[1].category_index == 3);
  CHECK(outcome.tied_count == 0);
}

TEST_CASE("MajorityVote: tie rules") {
  std::vector<LabelVote> votes = {
      {Instance(1), "u1", "C"}, {Instance(1), "u2", "B"},  // tie B-C
      {Instance(2), "u1", "A"},
  };
  SECTION("first category in use case order") {
    VoteOutcome outcome = MajorityVote(votes, Density(), v1::FIRST_CATEGORY);
    REQUIRE(outcome.labels.size() == 2);
    CHECK(outcome.labels[0].category_index == 1);
    CHECK(outcome.labels[0].votes == 1);
    CHECK(outcome.tied_count == 0);
  }
  SECTION("unspecified behaves as first category") {
    VoteOutcome outcome = MajorityVote(votes, Density(), v1::TIE_RULE_UNSPECIFIED);
    REQUIRE(outcome.labels.size() == 2);
    CHECK(outcome.labels[0].category_index == 1);
  }
  SECTION("exclude") {
    VoteOutcome outcome = MajorityVote(votes, Density(), v1::EXCLUDE);
    REQUIRE(outcome.labels.size() == 1);
    CHECK(outcome.labels[0].instance == Instance(2));
    CHECK(outcome.tied_count == 1);
  }
}

TEST_CASE("MajorityVote: ignores labels outside the use case") {
  std::vector<LabelVote> votes = {{Instance(1), "u1", "X"}, {Instance(1), "u2", "A"},
                                  {Instance(2), "u1", "X"}};
  VoteOutcome outcome = MajorityVote(votes, Density(), v1::EXCLUDE);
  REQUIRE(outcome.labels.size() == 1);
  CHECK(outcome.labels[0].annotators == 1);
  CHECK(outcome.tied_count == 0);
}

TEST_CASE("CompareLabels: matrix over instances both labelled") {
  absl::flat_hash_map<std::string, std::string> reference = {
      {Instance(1), "A"}, {Instance(2), "B"}, {Instance(3), "C"},
      {Instance(4), "D"}, {Instance(5), "B"}, {Instance(9), "A"}};
  absl::flat_hash_map<std::string, std::string> annotator = {
      {Instance(1), "A"}, {Instance(2), "C"}, {Instance(3), "C"},
      {Instance(4), "D"}, {Instance(5), "B"}, {Instance(7), "D"}};
  AgreementResult result = CompareLabels(reference, annotator, Density());
  CHECK(result.compared_count == 5);
  REQUIRE(result.matrix.num_classes == 4);
  CHECK(result.matrix.at(0, 0) == 1);
  CHECK(result.matrix.at(1, 1) == 1);
  CHECK(result.matrix.at(1, 2) == 1);
  CHECK(result.matrix.at(2, 2) == 1);
  CHECK(result.matrix.at(3, 3) == 1);
  CHECK(result.matrix.total() == 5);
  CHECK(result.accuracy == Approx(0.8));
  // Observed agreement 0.8; expected from marginals rows (1,2,1,1) and columns
  // (1,1,2,1) over 5: (1 + 2 + 2 + 1) / 25 = 0.24; kappa = 0.56 / 0.76.
  CHECK(result.kappa == Approx(0.56 / 0.76));
}

TEST_CASE("CompareLabels: no overlap gives an empty matrix") {
  AgreementResult result = CompareLabels({{Instance(1), "A"}}, {{Instance(2), "A"}}, Density());
  CHECK(result.compared_count == 0);
  CHECK(result.matrix.total() == 0);
  CHECK(std::isnan(result.kappa));
}

google::protobuf::RepeatedPtrField<v1::InstancePrediction> Predictions(
    const std::vector<std::pair<int, std::vector<double>>>& rows) {
  google::protobuf::RepeatedPtrField<v1::InstancePrediction> predictions;
  for (const auto& [i, probabilities] : rows) {
    v1::InstancePrediction* prediction = predictions.Add();
    prediction->set_instance(Instance(i));
    for (double p : probabilities) prediction->add_probabilities(p);
  }
  return predictions;
}

TEST_CASE("ScorePredictions: binary AUC uses the second category") {
  absl::flat_hash_map<std::string, int> truth = {
      {Instance(1), 0}, {Instance(2), 0}, {Instance(3), 1}, {Instance(4), 1}, {Instance(5), 1}};
  auto predictions = Predictions({{1, {0.9, 0.1}},
                                  {2, {0.4, 0.6}},
                                  {3, {0.3, 0.7}},
                                  {4, {0.2, 0.8}},
                                  {6, {0.5, 0.5}}});
  auto score = ScorePredictions(truth, predictions, Binary(), "datasets/d");
  REQUIRE(score.ok());
  CHECK(score->scored_count == 4);
  CHECK(score->missing_count == 1);
  CHECK(score->unlabelled_count == 1);
  // Positives 3, 4 score 0.7 and 0.8; negatives 0.1 and 0.6: all pairs ordered.
  CHECK(score->auc == Approx(1.0));
  CHECK(score->matrix.at(0, 0) == 1);
  CHECK(score->matrix.at(0, 1) == 1);
  CHECK(score->matrix.at(1, 1) == 2);
  CHECK(score->accuracy == Approx(0.75));
}

TEST_CASE("ScorePredictions: multi-class AUC undefined without every class") {
  absl::flat_hash_map<std::string, int> truth = {{Instance(1), 0}, {Instance(2), 1}};
  auto predictions =
      Predictions({{1, {0.7, 0.1, 0.1, 0.1}}, {2, {0.1, 0.7, 0.1, 0.1}}});
  auto score = ScorePredictions(truth, predictions, Density(), "datasets/d");
  REQUIRE(score.ok());
  CHECK(std::isnan(score->auc));
  CHECK(score->kappa == Approx(1.0));
}

TEST_CASE("ScorePredictions: rejects malformed predictions") {
  absl::flat_hash_map<std::string, int> truth = {{Instance(1), 0}};
  SECTION("wrong count") {
    auto score = ScorePredictions(truth, Predictions({{1, {0.5, 0.5}}}), Density(), "datasets/d");
    CHECK(score.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(GetErrorReason(score.status()) == "WRONG_PROBABILITY_COUNT");
  }
  SECTION("out of range") {
    auto score = ScorePredictions(truth, Predictions({{1, {1.5, 0, 0, 0}}}), Density(),
                                  "datasets/d");
    CHECK(GetErrorReason(score.status()) == "INVALID_PROBABILITY");
  }
  SECTION("NaN") {
    auto score = ScorePredictions(truth, Predictions({{1, {std::nan(""), 0, 0, 0}}}), Density(),
                                  "datasets/d");
    CHECK(GetErrorReason(score.status()) == "INVALID_PROBABILITY");
  }
  SECTION("duplicate") {
    auto score = ScorePredictions(truth, Predictions({{1, {1, 0, 0, 0}}, {1, {1, 0, 0, 0}}}),
                                  Density(), "datasets/d");
    CHECK(GetErrorReason(score.status()) == "DUPLICATE_PREDICTION");
  }
  SECTION("other dataset") {
    auto score = ScorePredictions(truth, Predictions({{1, {1, 0, 0, 0}}}), Density(),
                                  "datasets/e");
    CHECK(GetErrorReason(score.status()) == "INSTANCE_NOT_IN_DATASET");
  }
}

TEST_CASE("RankAnnotators: ties share a rank") {
  std::vector<Ranking> rankings =
      RankAnnotators({{"carol", 5}, {"alice", 9}, {"bob", 5}, {"dave", 1}, {"erin", 9}});
  REQUIRE(rankings.size() == 5);
  CHECK(rankings[0].annotator == "alice");
  CHECK(rankings[0].rank == 1);
  CHECK(rankings[1].annotator == "erin");
  CHECK(rankings[1].rank == 1);
  CHECK(rankings[2].annotator == "bob");
  CHECK(rankings[2].rank == 3);
  CHECK(rankings[3].annotator == "carol");
  CHECK(rankings[3].rank == 3);
  CHECK(rankings[4].annotator == "dave");
  CHECK(rankings[4].rank == 5);
  CHECK(RankAnnotators({}).empty());
}

}  // namespace
}  // namespace ailab::annotation
