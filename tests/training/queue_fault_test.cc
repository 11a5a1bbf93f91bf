// Faults of the queue's storage: ailab-training on a private Redis with the
// append-only file on, killed and restarted while jobs wait in the queue.
#include <catch2/catch.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "harness.h"
#include "redis_server.h"

namespace ailab::training::testing {
namespace {

// Returns the queue length once the harness's Redis connection works again: the first
// command after a restart fails, and the client then reconnects.
absl::StatusOr<int64_t> LengthAfterRestart(TrainingHarness& harness) {
  absl::StatusOr<int64_t> length = harness.queue().Length();
  for (int i = 0; i < 3 && !length.ok(); ++i) length = harness.queue().Length();
  return length;
}

TEST_CASE("Fault: Redis restart loses no queued job", "[training][service]") {
  RedisServer redis;
  absl::Status started = redis.Start();
  INFO(started.ToString());
  REQUIRE(started.ok());
  TrainingHarness harness({}, redis.address());

  std::set<std::string> created;
  for (int i = 0; i < 5; ++i) {
    created.insert(harness.CreateJob(absl::StrCat("user-", i % 2)).name());
  }
  REQUIRE(*harness.queue().Length() == 5);

  // SIGKILL gives Redis no chance to save; only the append-only file brings the
  // entries back.
  redis.Kill();
  started = redis.Start();
  INFO(started.ToString());
  REQUIRE(started.ok());

  absl::StatusOr<int64_t> length = LengthAfterRestart(harness);
  INFO("service log:\n" << harness.service().ReadLogTail(30));
  REQUIRE(length.ok());
  CHECK(*length == 5);

  // Every job still reaches a worker and starts.
  std::set<std::string> delivered;
  for (int i = 0; i < 5; ++i) {
    v1::StartTrainingAttemptResponse attempt = harness.StartNext(absl::StrCat("worker-", i));
    CHECK(attempt.training_job().state() == v1::TrainingJob::RUNNING);
    delivered.insert(attempt.training_job().name());
  }
  CHECK(delivered == created);
}

TEST_CASE("Fault: jobs created while Redis is down are queued", "[training][service]") {
  RedisServer redis;
  absl::Status started = redis.Start();
  INFO(started.ToString());
  REQUIRE(started.ok());
  TrainingHarness harness({"--maintenance_interval=200ms"}, redis.address());

  redis.Kill();
  // PostgreSQL has the job, so creation succeeds without Redis.
  v1::TrainingJob job = harness.CreateJob();
  CHECK(job.state() == v1::TrainingJob::QUEUED);

  started = redis.Start();
  INFO(started.ToString());
  REQUIRE(started.ok());
  REQUIRE(LengthAfterRestart(harness).ok());
  // The maintenance pass writes the entry once Redis is back.
  v1::StartTrainingAttemptResponse attempt = harness.StartNext();
  INFO("service log:\n" << harness.service().ReadLogTail(30));
  CHECK(attempt.training_job().name() == job.name());
}

}  // namespace
}  // namespace ailab::training::testing
