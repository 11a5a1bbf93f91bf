// PostgreSQL storage of the evaluation service, in the schema "evaluation":
// evaluations with each model's stored predictions, challenges, submissions and the
// final rankings of closed challenges.
//
// Resources are stored as protobuf JSON in a `body` column, next to the columns that
// lists filter and sort on. A model's predictions of an evaluation are a binary
// PredictionTable (scoring.h) in `evaluation_predictions`.
//
// EvaluationStore is thread-safe: every call runs in its own transaction on the pool.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ailab/evaluation/v1/evaluation.pb.h"
#include "ailab/pg/pg.h"

namespace ailab::evaluation {

// One page of a list, in the list's order.
template <typename T>
struct Page {
  std::vector<T> items;
  // True when items follow this page.
  bool has_more = false;
};

// Rules that BeginSubmission applies inside its transaction.
struct SubmissionCheck {
  // Runs on the locked challenge; an error rejects the submission.
  std::function<absl::Status(const v1::Challenge& challenge)> check_challenge;
  // Scored or scoring submissions allowed per participant in [day_start, day_end).
  int daily_limit = 3;
  absl::Time day_start;
  absl::Time day_end;
};

class EvaluationStore {
 public:
  // `pool` must outlive the store and work in the schema "evaluation".
  explicit EvaluationStore(pg::Pool& pool) : pool_(pool) {}

  // Migrations of the schema "evaluation", for Pool::Migrate.
  static std::vector<pg::Migration> Migrations();

  // Evaluations. Ids are the last part of the name, "evaluations/{id}".
  absl::Status InsertEvaluation(const v1::Evaluation& evaluation);
  absl::StatusOr<v1::Evaluation> GetEvaluation(const std::string& id);
  absl::StatusOr<Page<v1::Evaluation>> ListEvaluations(const std::string& use_case, int64_t offset,
                                                       int limit);
  // Locks the evaluation, lets `mutate` change it and stores it. NOT_FOUND when absent;
  // an error of `mutate` is returned and nothing is written.
  absl::StatusOr<v1::Evaluation> UpdateEvaluation(
      const std::string& id, const std::function<absl::Status(v1::Evaluation&)>& mutate);
  // Ids of evaluations in state RUNNING.
  absl::StatusOr<std::vector<std::string>> RunningEvaluations();

  // A model's PredictionTable of an evaluation (EncodeTable bytes).
  absl::Status PutPredictions(const std::string& evaluation_id, const std::string& model,
                              const std::string& table);
  // NOT_FOUND when the evaluation has no stored predictions of `model`.
  absl::StatusOr<std::string> GetPredictions(const std::string& evaluation_id,
                                             const std::string& model);

  // Challenges. Ids are the last part of the name, "challenges/{id}".
  absl::Status InsertChallenge(const v1::Challenge& challenge);
  absl::StatusOr<v1::Challenge> GetChallenge(const std::string& id);
  absl::StatusOr<Page<v1::Challenge>> ListChallenges(const std::string& use_case, int64_t offset,
                                                     int limit);
  absl::StatusOr<v1::Challenge> UpdateChallenge(
      const std::string& id, const std::function<absl::Status(v1::Challenge&)>& mutate);

  // Records `submission` (state SCORING, name set) after the checks of `check`. The
  // challenge is locked and `check_challenge` runs on it. Then the participant's
  // SCORING and SCORED submissions in the day are counted under a per-participant
  // lock, so that concurrent submissions cannot pass the limit together.
  // RESOURCE_EXHAUSTED at the limit.
  absl::Status BeginSubmission(const std::string& challenge_id, const v1::Submission& submission,
                               const SubmissionCheck& check);
  // Locks a submission, lets `mutate` change it (seeing the current challenge) and
  // stores it.
  absl::StatusOr<v1::Submission> UpdateSubmission(
      const std::string& challenge_id, const std::string& submission_id,
      const std::function<absl::Status(v1::Submission&, const v1::Challenge&)>& mutate);
  // Submissions of a challenge, newest first; an empty `participant` matches all.
  absl::StatusOr<Page<v1::Submission>> ListSubmissions(const std::string& challenge_id,
                                                       const std::string& participant,
                                                       int64_t offset, int limit);
  // The most recent SCORED submission of each participant.
  absl::StatusOr<std::vector<v1::Submission>> LatestScoredSubmissions(
      const std::string& challenge_id);
  // Marks every SCORING submission FAILED with `error_message` (after a restart).
  absl::StatusOr<int> FailScoringSubmissions(const std::string& error_message);

  // Replaces the final ranking of a challenge and stores `challenge` in the same
  // transaction.
  absl::Status PutFinalRanking(const v1::Challenge& challenge,
                               const std::vector<v1::LeaderboardEntry>& entries);
  // The stored final ranking, in rank order.
  absl::StatusOr<std::vector<v1::LeaderboardEntry>> GetFinalRanking(const std::string& challenge_id);

 private:
  pg::Pool& pool_;
};

}  // namespace ailab::evaluation
