// ailab-training and ailab-worker as processes, with fake annotation and ingest
// services and tiny synthetic arrays. The cases train, test and register a model on
// the CPU, cancel a running job, and stop a worker so that it hands its job back.
#include <catch2/catch.hpp>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "harness.h"
#include "worker_support.h"

namespace ailab::training::testing {
namespace {

constexpr int kImageSize = kSyntheticImageSize;
constexpr int kPerClass = kSyntheticPerClass;

v1::TrainingJob CreateJob(TrainingHarness& harness, int max_epochs) {
  return CreateSyntheticJob(harness, max_epochs);
}

TEST_CASE("Worker: trains, tests and registers a model", "[training][torch][service]") {
  TrainingHarness harness;
  AddSyntheticDataset(harness);
  ailab::testing::TempDir work_dir;
  auto worker = StartWorker(harness, work_dir.path(), "e2e-worker");

  v1::TrainingJob job = CreateJob(harness, 2);
  v1::TrainingJob done = WaitFor(harness, job.name(), IsTerminal);
  INFO("worker log:\n" << worker->ReadLogTail(40));
  INFO("service log:\n" << harness.service().ReadLogTail(20));
  INFO(done.error().message());
  REQUIRE(done.state() == v1::TrainingJob::SUCCEEDED);
  CHECK(done.worker_id() == "e2e-worker");
  CHECK(done.attempt_count() == 1);
  CHECK(done.history_size() == 2);
  CHECK(done.progress().epoch() == 2);
  CHECK_FALSE(done.checkpoint_blob().empty());

  v1::GetModelRequest get;
  get.set_name(done.model());
  v1::Model model;
  REQUIRE(harness.stub().GetModel(Context().get(), get, &model).ok());
  CHECK(model.training_job() == job.name());
  CHECK(model.classes_size() == 2);
  CHECK(model.image_size() == kImageSize);
  // 20% of each class is in the TEST split.
  const int test_count = 2 * kPerClass / 5;
  CHECK(model.test_metrics().n() == test_count);
  CHECK(model.test_metrics().confusion_matrix().counts_size() == 4);
  CHECK(harness.blobs().Contains(model.torchscript_blob()));

  absl::StatusOr<std::string> card_json = harness.blobs().Get(model.model_card_blob());
  REQUIRE(card_json.ok());
  v1::ModelCard card;
  REQUIRE(google::protobuf::util::JsonStringToMessage(*card_json, &card).ok());
  CHECK(card.training_job() == job.name());
  CHECK(card.history_size() == 2);
  CHECK(card.label_counts_size() == 2);
  CHECK(card.options().architecture() == "resnet18");
  CHECK(card.test_metrics().n() == test_count);

  v1::ListTestPredictionsRequest list;
  list.set_parent(model.name());
  list.set_page_size(1000);
  v1::ListTestPredictionsResponse predictions;
  REQUIRE(harness.stub().ListTestPredictions(Context().get(), list, &predictions).ok());
  REQUIRE(predictions.test_predictions_size() == test_count);
  for (const v1::TestPrediction& prediction : predictions.test_predictions()) {
    REQUIRE(prediction.probabilities_size() == 2);
    CHECK(prediction.probabilities(0) + prediction.probabilities(1) == Approx(1.0).margin(1e-4));
  }

  // The worker acknowledges and removes the job's entry after CompleteTrainingJob returns.
  int64_t length = -1;
  for (int i = 0; i < 100 && length != 0; ++i) {
    length = *harness.queue().Length();
    if (length != 0) absl::SleepFor(absl::Milliseconds(100));
  }
  CHECK(length == 0);
  CHECK(worker->Stop().ok());
}

TEST_CASE("Worker: running job is cancelled", "[training][torch][service]") {
  TrainingHarness harness;
  AddSyntheticDataset(harness);
  ailab::testing::TempDir work_dir;
  auto worker = StartWorker(harness, work_dir.path(), "cancel-worker");

  v1::TrainingJob job = CreateJob(harness, 500);
  WaitFor(harness, job.name(),
          [](const v1::TrainingJob& j) { return j.state() == v1::TrainingJob::RUNNING; });
  v1::CancelTrainingJobRequest cancel;
  cancel.set_name(job.name());
  v1::TrainingJob cancelling;
  REQUIRE(harness.stub().CancelTrainingJob(Context().get(), cancel, &cancelling).ok());
  CHECK(cancelling.state() == v1::TrainingJob::CANCELLING);

  v1::TrainingJob done = WaitFor(harness, job.name(), IsTerminal);
  INFO("worker log:\n" << worker->ReadLogTail(40));
  CHECK(done.state() == v1::TrainingJob::CANCELLED);
  CHECK(done.model().empty());
  CHECK(worker->Stop().ok());
}

TEST_CASE("Worker: stopping worker hands job back", "[training][torch][service]") {
  TrainingHarness harness;
  AddSyntheticDataset(harness);
  ailab::testing::TempDir work_dir;
  auto first = StartWorker(harness, work_dir.path(), "stopping-worker");

  v1::TrainingJob job = CreateJob(harness, 3);
  WaitFor(harness, job.name(), [](const v1::TrainingJob& j) { return j.progress().epoch() >= 1; });
  absl::Status stopped = first->Stop();
  INFO("first worker log:\n" << first->ReadLogTail(40));
  CHECK(stopped.ok());

  v1::TrainingJob handed_back = GetJob(harness, job.name());
  if (handed_back.state() == v1::TrainingJob::SUCCEEDED) {
    WARN("training finished before the worker stopped; nothing was handed back");
    return;
  }
  CHECK(handed_back.state() == v1::TrainingJob::QUEUED);
  CHECK(handed_back.failure_count() == 0);
  CHECK(handed_back.error().message().find("stopping-worker") != std::string::npos);

  // Another worker resumes from the checkpoint and finishes.
  auto second = StartWorker(harness, work_dir.path(), "second-worker");
  v1::TrainingJob done = WaitFor(harness, job.name(), IsTerminal);
  INFO("second worker log:\n" << second->ReadLogTail(40));
  INFO(done.error().message());
  CHECK(done.state() == v1::TrainingJob::SUCCEEDED);
  CHECK(done.attempt_count() == 2);
  CHECK(done.worker_id() == "second-worker");
  CHECK(done.history_size() == 3);
  // With a checkpoint from the first attempt, the second one resumes from it.
  if (!handed_back.checkpoint_blob().empty()) {
    CHECK(second->ReadLogTail(200).find("resuming job=" + job.name()) != std::string::npos);
  }
  CHECK(second->Stop().ok());
}

}  // namespace
}  // namespace ailab::training::testing
