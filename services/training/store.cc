#include "store.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "ailab/status/status.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace ailab::training {
namespace {

using google::protobuf::util::TimeUtil;

const std::vector<pg::Migration>& Migrations() {
  static const auto* migrations =
      new std::vector<pg::Migration>{{1, "training jobs, models and test predictions", R"sql(
-- One row per training job. `job` is the JSON form of ailab.training.v1.TrainingJob;
-- the other columns copy the fields that queries filter and sort on.
CREATE TABLE training_jobs (
  id                TEXT PRIMARY KEY,
  state             TEXT NOT NULL,
  owner             TEXT NOT NULL,
  use_case          TEXT NOT NULL,
  dataset           TEXT NOT NULL,
  -- Microseconds since the Unix epoch.
  create_us         BIGINT NOT NULL,
  update_time       TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- Incremented on every change, so watchers notice changes made by other replicas.
  version           BIGINT NOT NULL DEFAULT 1,
  -- Times the job has been put on the queue; queue entries carry this number and
  -- entries of an older generation are stale.
  queue_generation  INTEGER NOT NULL DEFAULT 1,
  -- Whether the entry of the current generation has been written to Redis.
  enqueued          BOOLEAN NOT NULL DEFAULT false,
  job               JSONB NOT NULL
);
CREATE INDEX training_jobs_by_time ON training_jobs (create_us DESC, id DESC);
CREATE INDEX training_jobs_unqueued ON training_jobs (state) WHERE NOT enqueued;

-- One row per registered model; UNIQUE (training_job) makes completion idempotent.
CREATE TABLE models (
  id            TEXT PRIMARY KEY,
  training_job  TEXT NOT NULL UNIQUE,
  use_case      TEXT NOT NULL,
  owner         TEXT NOT NULL,
  hidden        BOOLEAN NOT NULL DEFAULT false,
  create_us     BIGINT NOT NULL,
  model         JSONB NOT NULL
);
CREATE INDEX models_by_time ON models (create_us DESC, id DESC);

-- A model's output for each instance of its test split.
CREATE TABLE test_predictions (
  model_id    TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  instance    TEXT NOT NULL,
  prediction  JSONB NOT NULL,
  PRIMARY KEY (model_id, instance)
);
)sql"},
                                   {2, "indexes for fair dispatch by owner", R"sql(
-- Jobs waiting to be written to the queue, oldest first within each owner.
CREATE INDEX training_jobs_waiting ON training_jobs (owner, create_us, id)
  WHERE state = 'QUEUED' AND NOT enqueued;
-- Jobs that hold a share of the workers: running, stopping, or written to the queue.
CREATE INDEX training_jobs_active ON training_jobs (owner)
  WHERE state IN ('RUNNING', 'CANCELLING') OR (state = 'QUEUED' AND enqueued);
)sql"}};
  return *migrations;
}

std::string IdOf(const std::string& name) {
  size_t slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

int64_t Micros(const google::protobuf::Timestamp& time) {
  return TimeUtil::TimestampToMicroseconds(time);
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json);
  if (!status.ok()) {
    return Internal("ENCODE_FAILED", absl::StrCat("could not encode ", message.GetTypeName(),
                                                  " as JSON: ", status.ToString()));
  }
  return json;
}

absl::Status FromJson(const std::string& json, google::protobuf::Message* message,
                      absl::string_view what) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    return Internal("DECODE_FAILED",
                    absl::StrCat("stored ", what, " is not readable: ", status.ToString()),
                    {{"record", what}});
  }
  return absl::OkStatus();
}

absl::Status JobNotFound(const std::string& id) {
  std::string name = absl::StrCat("trainingJobs/", id);
  return NotFound(
      "TRAINING_JOB_NOT_FOUND",
      absl::StrCat("training job ", name, " not found; list jobs with ListTrainingJobs"),
      {{"name", name}});
}

absl::Status ModelNotFound(const std::string& id) {
  std::string name = absl::StrCat("models/", id);
  return NotFound("MODEL_NOT_FOUND",
                  absl::StrCat("model ", name, " not found; list models with ListModels"),
                  {{"name", name}});
}

constexpr char kJobColumns[] = "job::text, version, queue_generation, enqueued";

absl::StatusOr<StoredJob> ToStoredJob(const pqxx::row& row) {
  StoredJob stored;
  AILAB_RETURN_IF_ERROR(FromJson(row[0].as<std::string>(), &stored.job, "training job"));
  stored.version = row[1].as<int64_t>();
  stored.queue_generation = row[2].as<int32_t>();
  stored.enqueued = row[3].as<bool>();
  return stored;
}

absl::Status InsertModel(pqxx::work& tx, const v1::Model& model,
                         const std::vector<v1::TestPrediction>& predictions) {
  AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(model));
  tx.exec_params(
      "INSERT INTO models (id, training_job, use_case, owner, hidden, create_us, model) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
      IdOf(model.name()), model.training_job(), model.use_case(), model.owner(), model.hidden(),
      Micros(model.create_time()), json);
  for (const v1::TestPrediction& prediction : predictions) {
    AILAB_ASSIGN_OR_RETURN(std::string prediction_json, ToJson(prediction));
    tx.exec_params(
        "INSERT INTO test_predictions (model_id, instance, prediction) "
        "VALUES ($1, $2, $3::jsonb)",
        IdOf(model.name()), prediction.instance(), prediction_json);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseName(const std::string& name, absl::string_view collection,
                                      absl::string_view field, absl::string_view list_method) {
  std::string prefix = absl::StrCat(collection, "/");
  absl::string_view id = name;
  if (name.empty()) {
    return InvalidArgument("MISSING_FIELD", field,
                           absl::StrCat(field, " is required; expected ", collection, "/{id}"),
                           {{"field", field}});
  }
  if (!absl::ConsumePrefix(&id, prefix) || !IsValidId(id)) {
    return InvalidArgument(
        "INVALID_NAME", field,
        absl::StrCat(field, " \"", name, "\" is not a valid name; expected ", collection,
                     "/{id} with an id of lower-case letters, digits and '-' (see ", list_method,
                     ")"),
        {{"field", field}, {"value", name}});
  }
  return std::string(id);
}

}  // namespace

google::protobuf::Timestamp CurrentTime() {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(absl::Now()));
}

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  if (!absl::ascii_islower(id[0]) && !absl::ascii_isdigit(id[0])) return false;
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') return false;
  }
  return true;
}

absl::StatusOr<std::string> ParseJobName(const std::string& name, absl::string_view field) {
  return ParseName(name, "trainingJobs", field, "ListTrainingJobs");
}

absl::StatusOr<std::string> ParseModelName(const std::string& name, absl::string_view field) {
  return ParseName(name, "models", field, "ListModels");
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(pg::Pool* pool) {
  AILAB_RETURN_IF_ERROR(pool->Migrate(Migrations()));
  return std::unique_ptr<Store>(new Store(pool));
}

absl::Status Store::InsertJob(const v1::TrainingJob& job) {
  AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(job));
  absl::Status status = pool_->Run([&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "INSERT INTO training_jobs (id, state, owner, use_case, dataset, create_us, job) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
        IdOf(job.name()), v1::TrainingJob::State_Name(job.state()), job.owner(), job.use_case(),
        job.dataset(), Micros(job.create_time()), json);
    return absl::OkStatus();
  });
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return AlreadyExists("TRAINING_JOB_EXISTS",
                         absl::StrCat("training job ", job.name(),
                                      " already exists; choose another training_job_id"),
                         {{"name", job.name()}});
  }
  return status;
}

absl::StatusOr<StoredJob> Store::GetJob(const std::string& id) {
  return pool_->Query<StoredJob>([&](pqxx::work& tx) -> absl::StatusOr<StoredJob> {
    pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT ", kJobColumns, " FROM training_jobs WHERE id = $1"), id);
    if (rows.empty()) return JobNotFound(id);
    return ToStoredJob(rows[0]);
  });
}

absl::StatusOr<StoredJob> Store::UpdateJob(
    const std::string& id,
    const std::function<absl::Status(v1::TrainingJob&, JobChange&)>& mutate) {
  return pool_->Query<StoredJob>([&](pqxx::work& tx) -> absl::StatusOr<StoredJob> {
    pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT ", kJobColumns, " FROM training_jobs WHERE id = $1 FOR UPDATE"), id);
    if (rows.empty()) return JobNotFound(id);
    AILAB_ASSIGN_OR_RETURN(StoredJob stored, ToStoredJob(rows[0]));

    JobChange change;
    change.queue_generation = stored.queue_generation;
    AILAB_RETURN_IF_ERROR(mutate(stored.job, change));
    if (!change.changed) return stored;

    *stored.job.mutable_update_time() = CurrentTime();
    if (change.model.has_value()) {
      AILAB_RETURN_IF_ERROR(InsertModel(tx, *change.model, change.predictions));
    }
    if (change.requeue) {
      stored.queue_generation += 1;
      stored.enqueued = false;
    }
    stored.version += 1;
    AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(stored.job));
    tx.exec_params(
        "UPDATE training_jobs SET job = $2::jsonb, state = $3, version = $4, "
        "queue_generation = $5, enqueued = $6, update_time = now() WHERE id = $1",
        id, json, v1::TrainingJob::State_Name(stored.job.state()), stored.version,
        stored.queue_generation, stored.enqueued);
    return stored;
  });
}

absl::Status Store::MarkEnqueued(const std::string& id, int32_t generation) {
  return pool_->Run([&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "UPDATE training_jobs SET enqueued = true WHERE id = $1 AND queue_generation = $2", id,
        generation);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<StoredJob>> Store::DispatchNext(
    const std::function<absl::Status(const StoredJob&)>& write_entry) {
  return pool_->Query<std::optional<StoredJob>>(
      [&](pqxx::work& tx) -> absl::StatusOr<std::optional<StoredJob>> {
        // One dispatch at a time across replicas; the lock ends with the transaction.
        tx.exec("SELECT pg_advisory_xact_lock(hashtext('training.dispatch'))");
        // The oldest waiting job of each owner, then the owner with the fewest active
        // jobs first, and among equals the job that has waited longest.
        pqxx::result rows = tx.exec(absl::StrCat(
            "WITH active AS ("
            "  SELECT owner, count(*) AS jobs FROM training_jobs"
            "  WHERE state IN ('RUNNING', 'CANCELLING') OR (state = 'QUEUED' AND enqueued)"
            "  GROUP BY owner), "
            "waiting AS ("
            "  SELECT DISTINCT ON (owner) id, owner, create_us FROM training_jobs"
            "  WHERE state = 'QUEUED' AND NOT enqueued ORDER BY owner, create_us, id) "
            "SELECT ", kJobColumns, " FROM training_jobs WHERE id = ("
            "  SELECT waiting.id FROM waiting LEFT JOIN active USING (owner)"
            "  ORDER BY coalesce(active.jobs, 0), waiting.create_us, waiting.id LIMIT 1) "
            // The row lock makes a worker's StartTrainingAttempt wait until the entry is
            // recorded as written.
            "FOR UPDATE OF training_jobs"));
        if (rows.empty()) return std::nullopt;
        AILAB_ASSIGN_OR_RETURN(StoredJob stored, ToStoredJob(rows[0]));
        // A cancellation that committed while this query waited for the row lock.
        if (stored.job.state() != v1::TrainingJob::QUEUED || stored.enqueued) return std::nullopt;
        AILAB_RETURN_IF_ERROR(write_entry(stored));
        tx.exec_params(
            "UPDATE training_jobs SET enqueued = true WHERE id = $1 AND queue_generation = $2",
            IdOf(stored.job.name()), stored.queue_generation);
        stored.enqueued = true;
        return stored;
      });
}

absl::StatusOr<std::pair<std::vector<v1::TrainingJob>, bool>> Store::ListJobs(
    const JobFilter& filter, int64_t offset, int limit) {
  using Page = std::pair<std::vector<v1::TrainingJob>, bool>;
  return pool_->Query<Page>([&](pqxx::work& tx) -> absl::StatusOr<Page> {
    pqxx::result rows = tx.exec_params(
        "SELECT job::text FROM training_jobs "
        "WHERE ($1 = '' OR state = $1) AND ($2 = '' OR owner = $2) "
        "AND ($3 = '' OR use_case = $3) AND ($4 = '' OR dataset = $4) "
        "ORDER BY create_us DESC, id DESC OFFSET $5 LIMIT $6",
        filter.state, filter.owner, filter.use_case, filter.dataset, offset, limit + 1);
    Page page;
    for (const pqxx::row& row : rows) {
      if (static_cast<int>(page.first.size()) == limit) {
        page.second = true;
        break;
      }
      v1::TrainingJob job;
      AILAB_RETURN_IF_ERROR(FromJson(row[0].as<std::string>(), &job, "training job"));
      page.first.push_back(std::move(job));
    }
    return page;
  });
}

absl::StatusOr<v1::Model> Store::GetModel(const std::string& id) {
  return pool_->Query<v1::Model>([&](pqxx::work& tx) -> absl::StatusOr<v1::Model> {
    pqxx::result rows = tx.exec_params("SELECT model::text, hidden FROM models WHERE id = $1", id);
    if (rows.empty()) return ModelNotFound(id);
    v1::Model model;
    AILAB_RETURN_IF_ERROR(FromJson(rows[0][0].as<std::string>(), &model, "model"));
    return model;
  });
}

absl::StatusOr<std::pair<std::vector<v1::Model>, bool>> Store::ListModels(const ModelFilter& filter,
                                                                          int64_t offset,
                                                                          int limit) {
  using Page = std::pair<std::vector<v1::Model>, bool>;
  return pool_->Query<Page>([&](pqxx::work& tx) -> absl::StatusOr<Page> {
    pqxx::result rows = tx.exec_params(
        "SELECT model::text FROM models "
        "WHERE ($1 = '' OR use_case = $1) AND ($2 = '' OR owner = $2) AND ($3 OR NOT hidden) "
        "ORDER BY create_us DESC, id DESC OFFSET $4 LIMIT $5",
        filter.use_case, filter.owner, filter.show_hidden, offset, limit + 1);
    Page page;
    for (const pqxx::row& row : rows) {
      if (static_cast<int>(page.first.size()) == limit) {
        page.second = true;
        break;
      }
      v1::Model model;
      AILAB_RETURN_IF_ERROR(FromJson(row[0].as<std::string>(), &model, "model"));
      page.first.push_back(std::move(model));
    }
    return page;
  });
}

absl::StatusOr<v1::Model> Store::UpdateModel(
    const std::string& id, const std::function<absl::Status(v1::Model&)>& mutate) {
  return pool_->Query<v1::Model>([&](pqxx::work& tx) -> absl::StatusOr<v1::Model> {
    pqxx::result rows =
        tx.exec_params("SELECT model::text FROM models WHERE id = $1 FOR UPDATE", id);
    if (rows.empty()) return ModelNotFound(id);
    v1::Model model;
    AILAB_RETURN_IF_ERROR(FromJson(rows[0][0].as<std::string>(), &model, "model"));
    AILAB_RETURN_IF_ERROR(mutate(model));
    AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(model));
    tx.exec_params("UPDATE models SET model = $2::jsonb, hidden = $3 WHERE id = $1", id, json,
                   model.hidden());
    return model;
  });
}

absl::Status Store::DeleteModel(const std::string& id) {
  return pool_->Run([&](pqxx::work& tx) -> absl::Status {
    pqxx::result rows = tx.exec_params("DELETE FROM models WHERE id = $1 RETURNING id", id);
    if (rows.empty()) return ModelNotFound(id);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::pair<std::vector<v1::TestPrediction>, bool>> Store::ListTestPredictions(
    const std::string& id, int64_t offset, int limit) {
  using Page = std::pair<std::vector<v1::TestPrediction>, bool>;
  return pool_->Query<Page>([&](pqxx::work& tx) -> absl::StatusOr<Page> {
    if (tx.exec_params("SELECT 1 FROM models WHERE id = $1", id).empty()) {
      return ModelNotFound(id);
    }
    pqxx::result rows = tx.exec_params(
        "SELECT prediction::text FROM test_predictions WHERE model_id = $1 "
        "ORDER BY instance OFFSET $2 LIMIT $3",
        id, offset, limit + 1);
    Page page;
    for (const pqxx::row& row : rows) {
      if (static_cast<int>(page.first.size()) == limit) {
        page.second = true;
        break;
      }
      v1::TestPrediction prediction;
      AILAB_RETURN_IF_ERROR(FromJson(row[0].as<std::string>(), &prediction, "test prediction"));
      page.first.push_back(std::move(prediction));
    }
    return page;
  });
}

}  // namespace ailab::training
