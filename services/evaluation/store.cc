#include "services/evaluation/store.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "services/evaluation/json.h"

namespace ailab::evaluation {
namespace {

using ::google::protobuf::util::TimeUtil;

// The part of `name` after its last '/'.
std::string LastPart(const std::string& name) { return name.substr(name.rfind('/') + 1); }

int64_t Micros(const google::protobuf::Timestamp& timestamp) {
  return TimeUtil::TimestampToMicroseconds(timestamp);
}

// SQL of a timestamptz from a microsecond count parameter $n.
std::string MicrosToTimestampSql(int parameter) {
  return absl::StrCat("(TIMESTAMPTZ 'epoch' + $", parameter, "::bigint * INTERVAL '1 microsecond')");
}

absl::Status EvaluationNotFound(const std::string& id) {
  const std::string name = absl::StrCat("evaluations/", id);
  return NotFound("EVALUATION_NOT_FOUND",
                  absl::StrCat("evaluation \"", name,
                               "\" not found; list evaluations with ListEvaluations"),
                  {{"evaluation", name}});
}

absl::Status ChallengeNotFound(const std::string& id) {
  const std::string name = absl::StrCat("challenges/", id);
  return NotFound("CHALLENGE_NOT_FOUND",
                  absl::StrCat("challenge \"", name, "\" not found; list challenges with ListChallenges"),
                  {{"challenge", name}});
}

absl::Status SubmissionNotFound(const std::string& challenge_id, const std::string& id) {
  const std::string name = absl::StrCat("challenges/", challenge_id, "/submissions/", id);
  return NotFound("SUBMISSION_NOT_FOUND",
                  absl::StrCat("submission \"", name, "\" not found"), {{"submission", name}});
}

template <typename T>
absl::StatusOr<Page<T>> ReadPage(const pqxx::result& rows, int limit) {
  Page<T> page;
  for (const auto& row : rows) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.has_more = true;
      break;
    }
    AILAB_ASSIGN_OR_RETURN(T item, FromJson<T>(row[1].as<std::string>(), row[0].as<std::string>()));
    page.items.push_back(std::move(item));
  }
  return page;
}

}  // namespace

std::vector<pg::Migration> EvaluationStore::Migrations() {
  return {
      {1, "evaluations, challenges, submissions and final rankings", R"sql(
CREATE TABLE evaluations (
  id text PRIMARY KEY,
  use_case text NOT NULL,
  state text NOT NULL,
  create_time timestamptz NOT NULL,
  body jsonb NOT NULL
);
CREATE INDEX evaluations_by_time ON evaluations (create_time DESC, id DESC);

CREATE TABLE evaluation_predictions (
  evaluation_id text NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
  model text NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (evaluation_id, model)
);

CREATE TABLE challenges (
  id text PRIMARY KEY,
  use_case text NOT NULL,
  create_time timestamptz NOT NULL,
  body jsonb NOT NULL
);
CREATE INDEX challenges_by_time ON challenges (create_time DESC, id DESC);

CREATE TABLE submissions (
  challenge_id text NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
  id text NOT NULL,
  participant text NOT NULL,
  state text NOT NULL,
  submit_time timestamptz NOT NULL,
  body jsonb NOT NULL,
  PRIMARY KEY (challenge_id, id)
);
CREATE INDEX submissions_by_participant
  ON submissions (challenge_id, participant, submit_time DESC, id DESC);
CREATE INDEX submissions_scoring ON submissions (state) WHERE state = 'SCORING';

CREATE TABLE final_entries (
  challenge_id text NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
  position integer NOT NULL,
  body jsonb NOT NULL,
  PRIMARY KEY (challenge_id, position)
);
)sql"},
      {2, "publishing destinations and publications", R"sql(
CREATE TABLE destinations (
  id text PRIMARY KEY,
  create_time timestamptz NOT NULL,
  -- Bearer token of an HTTP destination. No RPC returns it and no log line shows it.
  token text NOT NULL DEFAULT '',
  body jsonb NOT NULL
);
CREATE INDEX destinations_by_time ON destinations (create_time DESC, id DESC);

CREATE TABLE publications (
  id text PRIMARY KEY,
  model text NOT NULL,
  destination text NOT NULL REFERENCES destinations (id),
  package_sha256 text NOT NULL,
  state text NOT NULL,
  create_time timestamptz NOT NULL,
  body jsonb NOT NULL,
  UNIQUE (model, destination, package_sha256)
);
CREATE INDEX publications_by_time ON publications (create_time DESC, id DESC);
CREATE INDEX publications_publishing ON publications (state) WHERE state = 'PUBLISHING';
)sql"},
  };
}

absl::Status EvaluationStore::InsertEvaluation(const v1::Evaluation& evaluation) {
  AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(evaluation));
  return pool_.Run([&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(absl::StrCat("INSERT INTO evaluations (id, use_case, state, create_time, body) "
                                "VALUES ($1, $2, $3, ",
                                MicrosToTimestampSql(4), ", $5::jsonb)"),
                   LastPart(evaluation.name()), evaluation.use_case(),
                   v1::Evaluation::State_Name(evaluation.state()),
                   Micros(evaluation.create_time()), json);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Evaluation> EvaluationStore::GetEvaluation(const std::string& id) {
  return pool_.Query<v1::Evaluation>([&](pqxx::work& tx) -> absl::StatusOr<v1::Evaluation> {
    pqxx::result rows = tx.exec_params("SELECT body::text FROM evaluations WHERE id = $1", id);
    if (rows.empty()) return EvaluationNotFound(id);
    return FromJson<v1::Evaluation>(rows[0][0].as<std::string>(), id);
  });
}

absl::StatusOr<Page<v1::Evaluation>> EvaluationStore::ListEvaluations(const std::string& use_case,
                                                                      int64_t offset, int limit) {
  return pool_.Query<Page<v1::Evaluation>>(
      [&](pqxx::work& tx) -> absl::StatusOr<Page<v1::Evaluation>> {
        pqxx::result rows = tx.exec_params(
            "SELECT id, body::text FROM evaluations WHERE ($1 = '' OR use_case = $1) "
            "ORDER BY create_time DESC, id DESC OFFSET $2 LIMIT $3",
            use_case, offset, limit + 1);
        return ReadPage<v1::Evaluation>(rows, limit);
      });
}

absl::StatusOr<v1::Evaluation> EvaluationStore::UpdateEvaluation(
    const std::string& id, const std::function<absl::Status(v1::Evaluation&)>& mutate) {
  return pool_.Query<v1::Evaluation>([&](pqxx::work& tx) -> absl::StatusOr<v1::Evaluation> {
    pqxx::result rows =
        tx.exec_params("SELECT body::text FROM evaluations WHERE id = $1 FOR UPDATE", id);
    if (rows.empty()) return EvaluationNotFound(id);
    AILAB_ASSIGN_OR_RETURN(v1::Evaluation evaluation,
                           FromJson<v1::Evaluation>(rows[0][0].as<std::string>(), id));
    AILAB_RETURN_IF_ERROR(mutate(evaluation));
    AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(evaluation));
    tx.exec_params("UPDATE evaluations SET state = $2, body = $3::jsonb WHERE id = $1", id,
                   v1::Evaluation::State_Name(evaluation.state()), json);
    return evaluation;
  });
}

absl::StatusOr<std::vector<std::string>> EvaluationStore::RunningEvaluations() {
  using Ids = std::vector<std::string>;
  return pool_.Query<Ids>([&](pqxx::work& tx) -> absl::StatusOr<Ids> {
    pqxx::result rows = tx.exec("SELECT id FROM evaluations WHERE state = 'RUNNING'");
    Ids ids;
    for (const auto& row : rows) ids.push_back(row[0].as<std::string>());
    return ids;
  });
}

absl::Status EvaluationStore::PutPredictions(const std::string& evaluation_id,
                                             const std::string& model, const std::string& table) {
  return pool_.Run([&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "INSERT INTO evaluation_predictions (evaluation_id, model, data) VALUES ($1, $2, $3) "
        "ON CONFLICT (evaluation_id, model) DO UPDATE SET data = EXCLUDED.data",
        evaluation_id, model, pqxx::binarystring(table));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> EvaluationStore::GetPredictions(const std::string& evaluation_id,
                                                            const std::string& model) {
  return pool_.Query<std::string>([&](pqxx::work& tx) -> absl::StatusOr<std::string> {
    pqxx::result rows = tx.exec_params(
        "SELECT data FROM evaluation_predictions WHERE evaluation_id = $1 AND model = $2",
        evaluation_id, model);
    if (rows.empty()) {
      const std::string name = absl::StrCat("evaluations/", evaluation_id);
      return NotFound("PREDICTIONS_NOT_FOUND",
                      absl::StrCat("evaluation \"", name, "\" has no stored predictions of model \"",
                                   model, "\"; pass one of the evaluation's models"),
                      {{"evaluation", name}, {"model", model}});
    }
    pqxx::binarystring data(rows[0][0]);
    return data.str();
  });
}

absl::Status EvaluationStore::InsertChallenge(const v1::Challenge& challenge) {
  AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(challenge));
  return pool_.Run([&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(absl::StrCat("INSERT INTO challenges (id, use_case, create_time, body) "
                                "VALUES ($1, $2, ",
                                MicrosToTimestampSql(3), ", $4::jsonb)"),
                   LastPart(challenge.name()), challenge.use_case(),
                   Micros(challenge.create_time()), json);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Challenge> EvaluationStore::GetChallenge(const std::string& id) {
  return pool_.Query<v1::Challenge>([&](pqxx::work& tx) -> absl::StatusOr<v1::Challenge> {
    pqxx::result rows = tx.exec_params("SELECT body::text FROM challenges WHERE id = $1", id);
    if (rows.empty()) return ChallengeNotFound(id);
    return FromJson<v1::Challenge>(rows[0][0].as<std::string>(), id);
  });
}

absl::StatusOr<Page<v1::Challenge>> EvaluationStore::ListChallenges(const std::string& use_case,
                                                                   int64_t offset, int limit) {
  return pool_.Query<Page<v1::Challenge>>(
      [&](pqxx::work& tx) -> absl::StatusOr<Page<v1::Challenge>> {
        pqxx::result rows = tx.exec_params(
            "SELECT id, body::text FROM challenges WHERE ($1 = '' OR use_case = $1) "
            "ORDER BY create_time DESC, id DESC OFFSET $2 LIMIT $3",
            use_case, offset, limit + 1);
        return ReadPage<v1::Challenge>(rows, limit);
      });
}

absl::StatusOr<v1::Challenge> EvaluationStore::UpdateChallenge(
    const std::string& id, const std::function<absl::Status(v1::Challenge&)>& mutate) {
  return pool_.Query<v1::Challenge>([&](pqxx::work& tx) -> absl::StatusOr<v1::Challenge> {
    pqxx::result rows =
        tx.exec_params("SELECT body::text FROM challenges WHERE id = $1 FOR UPDATE", id);
    if (rows.empty()) return ChallengeNotFound(id);
    AILAB_ASSIGN_OR_RETURN(v1::Challenge challenge,
                           FromJson<v1::Challenge>(rows[0][0].as<std::string>(), id));
    AILAB_RETURN_IF_ERROR(mutate(challenge));
    AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(challenge));
    tx.exec_params("UPDATE challenges SET body = $2::jsonb WHERE id = $1", id, json);
    return challenge;
  });
}

absl::Status EvaluationStore::BeginSubmission(const std::string& challenge_id,
                                              const v1::Submission& submission,
                                              const SubmissionCheck& check) {
  AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(submission));
  return pool_.Run([&](pqxx::work& tx) -> absl::Status {
    // The challenge row is shared-locked, so CloseChallenge (which updates it) waits
    // for this insert or runs before it.
    pqxx::result rows =
        tx.exec_params("SELECT body::text FROM challenges WHERE id = $1 FOR SHARE", challenge_id);
    if (rows.empty()) return ChallengeNotFound(challenge_id);
    AILAB_ASSIGN_OR_RETURN(v1::Challenge challenge,
                           FromJson<v1::Challenge>(rows[0][0].as<std::string>(), challenge_id));
    AILAB_RETURN_IF_ERROR(check.check_challenge(challenge));

    // Serialise submissions of one participant to one challenge.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                   absl::StrCat("evaluation.submission/", challenge_id, "/", submission.participant()));
    pqxx::result counted = tx.exec_params(
        absl::StrCat("SELECT count(*) FROM submissions WHERE challenge_id = $1 AND participant = $2 "
                     "AND state IN ('SCORING', 'SCORED') AND submit_time >= ",
                     MicrosToTimestampSql(3), " AND submit_time < ", MicrosToTimestampSql(4)),
        challenge_id, submission.participant(), absl::ToUnixMicros(check.day_start),
        absl::ToUnixMicros(check.day_end));
    const int64_t used = counted[0][0].as<int64_t>();
    if (used >= check.daily_limit) {
      const std::string limit = absl::StrCat(check.daily_limit);
      const std::string reset = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", check.day_end, absl::UTCTimeZone());
      return ResourceExhausted(
          "DAILY_SUBMISSION_LIMIT",
          absl::StrCat("participant \"", submission.participant(), "\" has used the daily limit of ",
                       check.daily_limit, " scored submissions to challenge \"", challenge.name(),
                       "\"; the count resets at ", reset,
                       " (failed submissions do not count)"),
          {{"participant", submission.participant()},
           {"challenge", challenge.name()},
           {"daily_submission_limit", limit},
           {"reset_time", reset}});
    }
    tx.exec_params(absl::StrCat("INSERT INTO submissions (challenge_id, id, participant, state, "
                                "submit_time, body) VALUES ($1, $2, $3, $4, ",
                                MicrosToTimestampSql(5), ", $6::jsonb)"),
                   challenge_id, LastPart(submission.name()), submission.participant(),
                   v1::Submission::State_Name(submission.state()), Micros(submission.submit_time()),
                   json);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Submission> EvaluationStore::UpdateSubmission(
    const std::string& challenge_id, const std::string& submission_id,
    const std::function<absl::Status(v1::Submission&, const v1::Challenge&)>& mutate) {
  return pool_.Query<v1::Submission>([&](pqxx::work& tx) -> absl::StatusOr<v1::Submission> {
    pqxx::result challenge_rows =
        tx.exec_params("SELECT body::text FROM challenges WHERE id = $1 FOR SHARE", challenge_id);
    if (challenge_rows.empty()) return ChallengeNotFound(challenge_id);
    AILAB_ASSIGN_OR_RETURN(
        v1::Challenge challenge,
        FromJson<v1::Challenge>(challenge_rows[0][0].as<std::string>(), challenge_id));
    pqxx::result rows = tx.exec_params(
        "SELECT body::text FROM submissions WHERE challenge_id = $1 AND id = $2 FOR UPDATE",
        challenge_id, submission_id);
    if (rows.empty()) return SubmissionNotFound(challenge_id, submission_id);
    AILAB_ASSIGN_OR_RETURN(v1::Submission submission,
                           FromJson<v1::Submission>(rows[0][0].as<std::string>(), submission_id));
    AILAB_RETURN_IF_ERROR(mutate(submission, challenge));
    AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(submission));
    tx.exec_params(
        "UPDATE submissions SET state = $3, body = $4::jsonb WHERE challenge_id = $1 AND id = $2",
        challenge_id, submission_id, v1::Submission::State_Name(submission.state()), json);
    return submission;
  });
}

absl::StatusOr<Page<v1::Submission>> EvaluationStore::ListSubmissions(
    const std::string& challenge_id, const std::string& participant, int64_t offset, int limit) {
  return pool_.Query<Page<v1::Submission>>(
      [&](pqxx::work& tx) -> absl::StatusOr<Page<v1::Submission>> {
        pqxx::result rows = tx.exec_params(
            "SELECT id, body::text FROM submissions WHERE challenge_id = $1 "
            "AND ($2 = '' OR participant = $2) "
            "ORDER BY submit_time DESC, id DESC OFFSET $3 LIMIT $4",
            challenge_id, participant, offset, limit + 1);
        return ReadPage<v1::Submission>(rows, limit);
      });
}

absl::StatusOr<std::vector<v1::Submission>> EvaluationStore::LatestScoredSubmissions(
    const std::string& challenge_id) {
  using Submissions = std::vector<v1::Submission>;
  return pool_.Query<Submissions>([&](pqxx::work& tx) -> absl::StatusOr<Submissions> {
    pqxx::result rows = tx.exec_params(
        "SELECT DISTINCT ON (participant) id, body::text FROM submissions "
        "WHERE challenge_id = $1 AND state = 'SCORED' "
        "ORDER BY participant, submit_time DESC, id DESC",
        challenge_id);
    Submissions submissions;
    for (const auto& row : rows) {
      AILAB_ASSIGN_OR_RETURN(v1::Submission submission,
                             FromJson<v1::Submission>(row[1].as<std::string>(),
                                                      row[0].as<std::string>()));
      submissions.push_back(std::move(submission));
    }
    return submissions;
  });
}

absl::StatusOr<int> EvaluationStore::FailScoringSubmissions(const std::string& error_message) {
  return pool_.Query<int>([&](pqxx::work& tx) -> absl::StatusOr<int> {
    pqxx::result rows = tx.exec(
        "SELECT challenge_id, id, body::text FROM submissions WHERE state = 'SCORING' FOR UPDATE");
    for (const auto& row : rows) {
      AILAB_ASSIGN_OR_RETURN(v1::Submission submission,
                             FromJson<v1::Submission>(row[2].as<std::string>(),
                                                      row[1].as<std::string>()));
      submission.set_state(v1::Submission::FAILED);
      submission.mutable_error()->set_code(static_cast<int>(absl::StatusCode::kAborted));
      submission.mutable_error()->set_message(error_message);
      AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(submission));
      tx.exec_params(
          "UPDATE submissions SET state = 'FAILED', body = $3::jsonb "
          "WHERE challenge_id = $1 AND id = $2",
          row[0].as<std::string>(), row[1].as<std::string>(), json);
    }
    return static_cast<int>(rows.size());
  });
}

absl::Status EvaluationStore::PutFinalRanking(const v1::Challenge& challenge,
                                              const std::vector<v1::LeaderboardEntry>& entries) {
  const std::string id = LastPart(challenge.name());
  AILAB_ASSIGN_OR_RETURN(std::string challenge_json, ToJson(challenge));
  std::vector<std::string> entry_jsons;
  for (const v1::LeaderboardEntry& entry : entries) {
    AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(entry));
    entry_jsons.push_back(std::move(json));
  }
  return pool_.Run([&](pqxx::work& tx) -> absl::Status {
    tx.exec_params("DELETE FROM final_entries WHERE challenge_id = $1", id);
    for (size_t i = 0; i < entry_jsons.size(); ++i) {
      tx.exec_params(
          "INSERT INTO final_entries (challenge_id, position, body) VALUES ($1, $2, $3::jsonb)", id,
          static_cast<int>(i), entry_jsons[i]);
    }
    pqxx::result updated = tx.exec_params(
        "UPDATE challenges SET body = $2::jsonb WHERE id = $1 RETURNING id", id, challenge_json);
    if (updated.empty()) return ChallengeNotFound(id);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::LeaderboardEntry>> EvaluationStore::GetFinalRanking(
    const std::string& challenge_id) {
  using Entries = std::vector<v1::LeaderboardEntry>;
  return pool_.Query<Entries>([&](pqxx::work& tx) -> absl::StatusOr<Entries> {
    pqxx::result rows = tx.exec_params(
        "SELECT position::text, body::text FROM final_entries WHERE challenge_id = $1 "
        "ORDER BY position",
        challenge_id);
    Entries entries;
    for (const auto& row : rows) {
      AILAB_ASSIGN_OR_RETURN(v1::LeaderboardEntry entry,
                             FromJson<v1::LeaderboardEntry>(row[1].as<std::string>(),
                                                            row[0].as<std::string>()));
      entries.push_back(std::move(entry));
    }
    return entries;
  });
}

}  // namespace ailab::evaluation
