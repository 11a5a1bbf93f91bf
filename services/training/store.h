// PostgreSQL persistence of the training service (schema `training`): jobs, models
// and test predictions. PostgreSQL is the source of truth for every job; the Redis
// queue only carries wake-ups for workers.
//
// Jobs and models are stored as their proto messages (JSON in a jsonb column) next to
// the columns that queries filter and sort on. Every change of a job goes through
// UpdateJob(), which locks the row, so concurrent worker and client calls on one job
// are serialised.
//
// Store is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ailab/pg/pg.h"
#include "ailab/training/v1/training.pb.h"

namespace ailab::training {

// A job with the bookkeeping that is not part of the API.
struct StoredJob {
  v1::TrainingJob job;
  // Incremented on every change; WatchTrainingJob compares it.
  int64_t version = 0;
  // Times the job has been queued; a queue entry must carry this number.
  int32_t queue_generation = 0;
  // Whether the entry of the current queue generation has been written to Redis.
  bool enqueued = false;
};

// Writes that a job mutation requests from UpdateJob() besides the job itself.
struct JobChange {
  // Input: the job's queue generation as stored when the mutation runs.
  int32_t queue_generation = 0;
  // False when the mutation looked but changed nothing (no write, no new version).
  bool changed = true;
  // Whether the mutation queued the job again (queue_generation + 1, enqueued false).
  bool requeue = false;
  // A model to register in the same transaction, with its test predictions.
  std::optional<v1::Model> model;
  std::vector<v1::TestPrediction> predictions;
};

// Filter of ListJobs(); empty fields match everything.
struct JobFilter {
  std::string state;
  std::string owner;
  std::string use_case;
  std::string dataset;
};

// Filter of ListModels().
struct ModelFilter {
  std::string use_case;
  std::string owner;
  bool show_hidden = false;
};

class Store {
 public:
  // Applies the schema's migrations on `pool` (which must use schema "training").
  static absl::StatusOr<std::unique_ptr<Store>> Open(pg::Pool* pool);

  // Inserts a new job in queue generation 1, not yet enqueued. ALREADY_EXISTS when
  // the id is taken.
  absl::Status InsertJob(const v1::TrainingJob& job);

  // Returns the job with id `id`; NOT_FOUND naming it when absent.
  absl::StatusOr<StoredJob> GetJob(const std::string& id);

  // Locks job `id`, runs `mutate` on it and writes the result unless the mutation
  // reports no change. An error from `mutate` rolls everything back. Returns the job
  // as stored after the call.
  absl::StatusOr<StoredJob> UpdateJob(
      const std::string& id,
      const std::function<absl::Status(v1::TrainingJob&, JobChange&)>& mutate);

  // Records that the entry of `generation` was written to the queue.
  absl::Status MarkEnqueued(const std::string& id, int32_t generation);

  // Picks the next QUEUED job whose entry is not written yet, calls `write_entry` on it
  // and records the entry as written, all in one transaction that holds a lock shared
  // by every replica. The pick is fair between owners: the owner with the fewest
  // running or already written jobs goes first, and each owner's jobs go oldest first.
  // Returns nullopt when no job is waiting. An error from `write_entry` changes
  // nothing.
  absl::StatusOr<std::optional<StoredJob>> DispatchNext(
      const std::function<absl::Status(const StoredJob&)>& write_entry);

  // Returns up to `limit` jobs matching `filter` from `offset`, newest first, and
  // whether more follow.
  absl::StatusOr<std::pair<std::vector<v1::TrainingJob>, bool>> ListJobs(const JobFilter& filter,
                                                                         int64_t offset, int limit);

  // Returns the model with id `id`; NOT_FOUND naming it when absent.
  absl::StatusOr<v1::Model> GetModel(const std::string& id);

  // Returns up to `limit` models from `offset`, newest first, and whether more follow.
  absl::StatusOr<std::pair<std::vector<v1::Model>, bool>> ListModels(const ModelFilter& filter,
                                                                     int64_t offset, int limit);

  // Locks model `id`, runs `mutate` on it and writes it back.
  absl::StatusOr<v1::Model> UpdateModel(const std::string& id,
                                        const std::function<absl::Status(v1::Model&)>& mutate);

  // Deletes model `id` and its test predictions; NOT_FOUND when absent.
  absl::Status DeleteModel(const std::string& id);

  // Returns up to `limit` test predictions of model `id` from `offset`, ordered by
  // instance, and whether more follow. NOT_FOUND when the model does not exist.
  absl::StatusOr<std::pair<std::vector<v1::TestPrediction>, bool>> ListTestPredictions(
      const std::string& id, int64_t offset, int limit);

 private:
  explicit Store(pg::Pool* pool) : pool_(pool) {}
  pg::Pool* pool_;
};

// Splits "trainingJobs/{id}" or "models/{id}" into its id, or INVALID_ARGUMENT naming
// `field` and the expected format.
absl::StatusOr<std::string> ParseJobName(const std::string& name, absl::string_view field);
absl::StatusOr<std::string> ParseModelName(const std::string& name, absl::string_view field);

// Returns the current time with microsecond precision. (protobuf 3.21's
// TimeUtil::GetCurrentTime() returns whole seconds, which would tie jobs created
// within one second in the newest-first order.)
google::protobuf::Timestamp CurrentTime();

// True when `id` is 1 to 63 lower-case letters, digits and '-', starting with a letter
// or a digit.
bool IsValidId(absl::string_view id);

}  // namespace ailab::training
