// Faults with real ailab-worker processes: a worker killed with SIGKILL mid-training,
// the bound on failed attempts, and jobs whose GPU and memory needs pick the worker.
// Training is tiny (32 x 32 arrays, 120 instances, resnet18 on the CPU).
#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "harness.h"
#include "worker_support.h"

namespace ailab::training::testing {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("Fault: killed worker's job resumes on another", "[training][torch][service]") {
  // A lease lives 2 s after the last renewal; entries pending 3 s without a lease are
  // taken back.
  TrainingHarness harness({"--reclaim_min_idle=3s", "--maintenance_interval=200ms"});
  AddSyntheticDataset(harness);
  ailab::testing::TempDir work_dir;
  auto doomed = StartWorker(harness, work_dir.path(), "doomed-worker", {"--lease_ttl=2s"});

  v1::TrainingJob job = CreateSyntheticJob(harness, 6);
  v1::TrainingJob checkpointed = WaitFor(harness, job.name(), [](const v1::TrainingJob& j) {
    return !j.checkpoint_blob().empty() || IsTerminal(j);
  });
  doomed->Kill();
  INFO("killed worker log:\n" << doomed->ReadLogTail(30));
  if (checkpointed.state() == v1::TrainingJob::SUCCEEDED) {
    WARN("training finished before the first checkpoint was seen; nothing to resume");
    return;
  }
  REQUIRE(checkpointed.state() == v1::TrainingJob::RUNNING);
  const int killed_at_epoch = checkpointed.checkpoint_epoch();
  REQUIRE(killed_at_epoch >= 1);

  auto rescuer = StartWorker(harness, work_dir.path(), "rescue-worker", {"--lease_ttl=2s"});
  v1::TrainingJob done = WaitFor(harness, job.name(), IsTerminal);
  INFO("rescue worker log:\n" << rescuer->ReadLogTail(40));
  INFO("service log:\n" << harness.service().ReadLogTail(30));
  INFO(done.error().message());
  REQUIRE(done.state() == v1::TrainingJob::SUCCEEDED);
  CHECK(done.worker_id() == "rescue-worker");
  CHECK(done.attempt_count() == 2);
  CHECK(done.failure_count() == 1);
  CHECK(done.history_size() == 6);
  CHECK(Contains(rescuer->ReadLogTail(400), absl::StrCat("resuming job=", job.name())));

  // Exactly one model, for this job.
  std::vector<v1::Model> models = ListAllModels(harness);
  REQUIRE(models.size() == 1);
  CHECK(models[0].training_job() == job.name());
  CHECK(models[0].name() == done.model());

  // The rescue worker acknowledges its entry after CompleteTrainingJob returns, and the
  // service acknowledged the killed worker's entry when it queued the job again.
  int64_t length = -1;
  for (int i = 0; i < 100 && length != 0; ++i) {
    length = *harness.queue().Length();
    if (length != 0) absl::SleepFor(absl::Milliseconds(100));
  }
  CHECK(length == 0);
  CHECK(rescuer->Stop().ok());
}

TEST_CASE("Fault: attempts bound ends in FAILED", "[training][torch][service]") {
  // One lost worker is all the job may have.
  TrainingHarness harness(
      {"--reclaim_min_idle=3s", "--maintenance_interval=200ms", "--max_attempts=1"});
  AddSyntheticDataset(harness);
  ailab::testing::TempDir work_dir;
  auto doomed = StartWorker(harness, work_dir.path(), "doomed-worker", {"--lease_ttl=2s"});

  v1::TrainingJob job = CreateSyntheticJob(harness, 200);
  WaitFor(harness, job.name(),
          [](const v1::TrainingJob& j) { return j.state() == v1::TrainingJob::RUNNING; });
  doomed->Kill();

  v1::TrainingJob done = WaitFor(harness, job.name(), IsTerminal);
  INFO("service log:\n" << harness.service().ReadLogTail(30));
  REQUIRE(done.state() == v1::TrainingJob::FAILED);
  CHECK(done.failure_count() == 1);
  CHECK(done.attempt_count() == 1);
  CHECK(done.max_attempts() == 1);
  CHECK(done.error().code() == static_cast<int>(absl::StatusCode::kUnavailable));
  CHECK(Contains(done.error().message(), "doomed-worker"));
  CHECK(done.model().empty());
  CHECK(ListAllModels(harness).empty());
}

TEST_CASE("Fault: GPU and memory needs pick the worker", "[training][torch][service]") {
  TrainingHarness harness;
  AddSyntheticDataset(harness);
  ailab::testing::TempDir work_dir;
  // Both train on the CPU; only the offered resources differ.
  auto small = StartWorker(harness, work_dir.path(), "small-worker",
                           {"--gpu_count=0", "--memory_mb=2048"});
  auto large = StartWorker(harness, work_dir.path(), "large-worker",
                           {"--gpu_count=2", "--memory_mb=65536"});

  v1::TrainingJob gpu_job = CreateSyntheticJob(harness, 1, "user-1", 1, 0);
  v1::TrainingJob memory_job = CreateSyntheticJob(harness, 1, "user-2", 0, 16384);
  v1::TrainingJob gpu_done = WaitFor(harness, gpu_job.name(), IsTerminal);
  v1::TrainingJob memory_done = WaitFor(harness, memory_job.name(), IsTerminal);
  INFO("small worker log:\n" << small->ReadLogTail(40));
  INFO("large worker log:\n" << large->ReadLogTail(40));
  INFO(gpu_done.error().message());
  INFO(memory_done.error().message());
  REQUIRE(gpu_done.state() == v1::TrainingJob::SUCCEEDED);
  REQUIRE(memory_done.state() == v1::TrainingJob::SUCCEEDED);
  CHECK(gpu_done.worker_id() == "large-worker");
  CHECK(memory_done.worker_id() == "large-worker");

  // A job that fits the small worker may run on either.
  v1::TrainingJob small_job = CreateSyntheticJob(harness, 1, "user-3", 0, 1024);
  v1::TrainingJob small_done = WaitFor(harness, small_job.name(), IsTerminal);
  CHECK(small_done.state() == v1::TrainingJob::SUCCEEDED);

  // A job no worker fits waits QUEUED and does not block the others.
  v1::TrainingJob huge_job = CreateSyntheticJob(harness, 1, "user-4", 8, 0);
  v1::TrainingJob after_huge = CreateSyntheticJob(harness, 1, "user-5", 0, 0);
  v1::TrainingJob after_done = WaitFor(harness, after_huge.name(), IsTerminal);
  CHECK(after_done.state() == v1::TrainingJob::SUCCEEDED);
  CHECK(GetJob(harness, huge_job.name()).state() == v1::TrainingJob::QUEUED);

  CHECK(small->Stop().ok());
  CHECK(large->Stop().ok());
}

}  // namespace
}  // namespace ailab::training::testing
