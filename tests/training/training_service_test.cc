// ailab-training as a process against a scratch database, the test Redis and fake
// annotation and ingest services. The test plays the worker through the queue.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ailab/pg/pg.h"
#include "google/protobuf/util/json_util.h"
#include "harness.h"

namespace ailab::training::testing {
namespace {

using State = v1::TrainingJob::State;

bool Contains(const std::string& text, absl::string_view part) {
  return absl::StrContains(text, part);
}

// Attaches the end of the service's log, as it is now, to the checks that follow.
#define SERVICE_LOG(harness) INFO("service log:\n" << (harness).service().ReadLogTail(30))

v1::TrainingJob GetJob(TrainingHarness& harness, const std::string& name) {
  v1::GetTrainingJobRequest request;
  request.set_name(name);
  v1::TrainingJob job;
  grpc::Status status = harness.stub().GetTrainingJob(Context().get(), request, &job);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return job;
}

grpc::Status Cancel(TrainingHarness& harness, const std::string& name, v1::TrainingJob* job) {
  v1::CancelTrainingJobRequest request;
  request.set_name(name);
  return harness.stub().CancelTrainingJob(Context().get(), request, job);
}

grpc::Status Report(TrainingHarness& harness, const std::string& name, int attempt, int epoch,
                    v1::ReportTrainingProgressResponse* response,
                    const std::string& checkpoint = "") {
  v1::ReportTrainingProgressRequest request;
  request.set_name(name);
  request.set_attempt(attempt);
  if (epoch > 0) {
    v1::EpochMetrics* metrics = request.mutable_epoch();
    metrics->set_epoch(epoch);
    metrics->set_step(epoch * 10);
    metrics->set_train_loss(1.0 / epoch);
    metrics->set_val_loss(1.2 / epoch);
    metrics->set_metric(0.1 * epoch);
  }
  if (!checkpoint.empty()) {
    request.set_checkpoint_blob(checkpoint);
    request.set_checkpoint_epoch(epoch);
  }
  return harness.stub().ReportTrainingProgress(Context().get(), request, response);
}

grpc::Status Fail(TrainingHarness& harness, const std::string& name, int attempt, bool retryable,
                  v1::TrainingJob* job, bool preempted = false) {
  v1::FailTrainingAttemptRequest request;
  request.set_name(name);
  request.set_attempt(attempt);
  request.mutable_error()->set_code(static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  request.mutable_error()->set_message(absl::StrCat("GPU fell off the bus in attempt ", attempt));
  request.set_retryable(retryable);
  request.set_preempted(preempted);
  return harness.stub().FailTrainingAttempt(Context().get(), request, job);
}

v1::CompleteTrainingJobRequest CompleteRequest(TrainingHarness& harness, const std::string& name,
                                               int attempt) {
  v1::CompleteTrainingJobRequest request;
  request.set_name(name);
  request.set_attempt(attempt);
  request.set_torchscript_blob(harness.PutBlob(absl::StrCat("torchscript of ", name)));
  request.set_model_card_blob(harness.PutBlob(absl::StrCat("{\"training_job\":\"", name, "\"}")));
  request.set_best_epoch(2);
  v1::TestMetrics* metrics = request.mutable_test_metrics();
  metrics->set_kappa(0.61);
  metrics->set_linear_kappa(0.7);
  metrics->set_auc(0.85);
  metrics->set_accuracy(0.66);
  metrics->set_n(3);
  for (const char* category : {"A", "B", "C", "D"}) {
    metrics->mutable_confusion_matrix()->add_classes(category);
  }
  for (int i = 0; i < 16; ++i) metrics->mutable_confusion_matrix()->add_counts(i < 3 && i % 5 == 0);
  for (int i = 0; i < 3; ++i) {
    v1::TestPrediction* prediction = request.add_test_predictions();
    prediction->set_instance(absl::StrCat("datasets/d1/instances/t", i));
    prediction->set_label(i % 4);
    prediction->set_predicted(i % 4);
    for (int c = 0; c < 4; ++c) prediction->add_probabilities(c == i % 4 ? 0.7f : 0.1f);
  }
  return request;
}

// Checks the code of `status` and that its message contains each of `parts`.
void CheckError(const grpc::Status& status, grpc::StatusCode code,
                const std::vector<std::string>& parts) {
  INFO("message: " << status.error_message());
  CHECK(status.error_code() == code);
  CHECK_FALSE(status.error_message().empty());
  for (const std::string& part : parts) CHECK(Contains(status.error_message(), part));
}

TEST_CASE("TrainingService: create stores and queues job", "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob job = harness.CreateJob();

  CHECK(absl::StartsWith(job.name(), "trainingJobs/"));
  CHECK(job.state() == v1::TrainingJob::QUEUED);
  CHECK(job.owner() == "user-1");
  CHECK(job.options().architecture() == "resnet18");
  CHECK(job.options().max_epochs() == 5);
  CHECK(job.options().early_stopping_patience() == 3);
  CHECK(job.max_attempts() == 3);
  CHECK(job.progress().max_epochs() == 5);
  REQUIRE(job.classes_size() == 4);
  CHECK(job.classes(0) == "A");
  REQUIRE(job.label_counts_size() == 4);
  CHECK(job.label_counts(2).category() == "C");
  CHECK(job.label_counts(2).count() == 30);
  CHECK(job.label_counts(2).train_count() == 21);
  CHECK(job.has_create_time());

  // The manifest is a JSON TrainingManifest in the blob store.
  absl::StatusOr<std::string> manifest_json = harness.blobs().Get(job.manifest_blob());
  REQUIRE(manifest_json.ok());
  v1::TrainingManifest manifest;
  REQUIRE(google::protobuf::util::JsonStringToMessage(*manifest_json, &manifest).ok());
  CHECK(manifest.training_job() == job.name());
  CHECK(manifest.examples_size() == 120);
  CHECK(manifest.classes_size() == 4);
  CHECK(manifest.image_size() == 128);

  // The queue carries one entry for the job.
  std::optional<queue::Delivery> delivery = harness.NextEntry();
  REQUIRE(delivery.has_value());
  CHECK(delivery->entry.job == job.name());
  CHECK(delivery->entry.attempt == 1);
  CHECK(delivery->entry.owner == "user-1");
  CHECK(delivery->entry.gpu_count == 1);
  CHECK(delivery->entry.memory_mb == 4096);

  CHECK(GetJob(harness, job.name()).name() == job.name());
}

TEST_CASE("TrainingService: create rejects bad requests", "[training][service]") {
  TrainingHarness harness;
  harness.AddDataset("datasets/ok", {30, 30, 30, 30});

  struct Case {
    std::string what;
    std::function<void(v1::CreateTrainingJobRequest&)> change;
    grpc::StatusCode code;
    std::vector<std::string> parts;
  };
  std::vector<Case> cases = {
      {"no job",
       [](auto& r) { r.clear_training_job(); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"training_job"}},
      {"no use case",
       [](auto& r) { r.mutable_training_job()->clear_use_case(); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"training_job.use_case"}},
      {"bad use case",
       [](auto& r) { r.mutable_training_job()->set_use_case("cases/x"); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"cases/x"}},
      {"bad dataset",
       [](auto& r) { r.mutable_training_job()->set_dataset("datasets/a/b"); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"datasets/a/b"}},
      {"no owner",
       [](auto& r) { r.mutable_training_job()->clear_owner(); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"training_job.owner"}},
      {"no label source",
       [](auto& r) { r.mutable_training_job()->clear_label_source(); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"training_job.label_source"}},
      {"long name",
       [](auto& r) { r.mutable_training_job()->set_display_name(std::string(300, 'x')); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"display_name", "300"}},
      {"bad id",
       [](auto& r) { r.set_training_job_id("Bad_Id"); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"Bad_Id"}},
      {"bad architecture",
       [](auto& r) { r.mutable_training_job()->mutable_options()->set_architecture("alexnet"); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"alexnet", "resnet18"}},
      {"bad batch size",
       [](auto& r) { r.mutable_training_job()->mutable_options()->set_batch_size(-2); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"batch_size", "-2"}},
      {"bad loss",
       [](auto& r) { r.mutable_training_job()->mutable_options()->set_loss("hinge"); },
       grpc::StatusCode::INVALID_ARGUMENT,
       {"hinge"}},
      {"unknown dataset",
       [](auto& r) { r.mutable_training_job()->set_dataset("datasets/none"); },
       grpc::StatusCode::FAILED_PRECONDITION,
       {"0"}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    v1::CreateTrainingJobRequest request = TrainingHarness::CreateRequest("datasets/ok");
    c.change(request);
    v1::TrainingJob job;
    CheckError(harness.stub().CreateTrainingJob(Context().get(), request, &job), c.code, c.parts);
  }

  // A taken id is ALREADY_EXISTS.
  v1::CreateTrainingJobRequest request = TrainingHarness::CreateRequest("datasets/ok");
  request.set_training_job_id("job-one");
  v1::TrainingJob job;
  REQUIRE(harness.stub().CreateTrainingJob(Context().get(), request, &job).ok());
  CHECK(job.name() == "trainingJobs/job-one");
  CheckError(harness.stub().CreateTrainingJob(Context().get(), request, &job),
             grpc::StatusCode::ALREADY_EXISTS, {"trainingJobs/job-one"});
}

TEST_CASE("TrainingService: fewer than 100 labels rejected", "[training][service]") {
  TrainingHarness harness;
  harness.AddDataset("datasets/small", {40, 40});
  v1::TrainingJob job;
  CheckError(harness.stub().CreateTrainingJob(
                 Context().get(), TrainingHarness::CreateRequest("datasets/small"), &job),
             grpc::StatusCode::FAILED_PRECONDITION, {"80", "A: 40", "B: 40", "100"});

  // 110 labels, but 20 instances are not prepared: 90 usable.
  std::vector<FakeInstance> instances =
      FakeDataServices::MakeInstances("datasets/unprepared", {55, 55});
  for (int i = 0; i < 20; ++i) instances[i].array_blob.clear();
  harness.fakes().SetDataset("useCases/breast-density", "datasets/unprepared", "ann1", instances);
  CheckError(harness.stub().CreateTrainingJob(
                 Context().get(), TrainingHarness::CreateRequest("datasets/unprepared"), &job),
             grpc::StatusCode::FAILED_PRECONDITION, {"only 90", "A: 35", "B: 55", "20 have no"});
  CHECK(*harness.queue().Length() == 0);
}

TEST_CASE("TrainingService: open challenge datasets reserved", "[training][service]") {
  TrainingHarness harness;
  harness.AddDataset("datasets/public-test", {60, 60});
  harness.AddDataset("datasets/hidden-final", {60, 60});
  harness.AddDataset("datasets/closed-final", {60, 60});
  evaluation::v1::Challenge open;
  open.set_name("challenges/density");
  open.set_owner("organiser");
  open.set_test_dataset("datasets/public-test");
  open.set_final_dataset("datasets/hidden-final");
  open.set_state(evaluation::v1::Challenge::OPEN);
  harness.fakes().AddChallenge(open);
  evaluation::v1::Challenge closed = open;
  closed.set_name("challenges/last-year");
  closed.set_test_dataset("datasets/closed-test");
  closed.set_final_dataset("datasets/closed-final");
  closed.set_state(evaluation::v1::Challenge::CLOSED);
  harness.fakes().AddChallenge(closed);

  v1::TrainingJob job;
  for (const std::string dataset : {"datasets/public-test", "datasets/hidden-final"}) {
    CheckError(harness.stub().CreateTrainingJob(
                   Context().get(), TrainingHarness::CreateRequest(dataset, "reader1"), &job),
               grpc::StatusCode::FAILED_PRECONDITION,
               {dataset, "challenges/density", "another dataset"});
  }
  CHECK(*harness.queue().Length() == 0);

  // The challenge's owner may, and a closed challenge reserves nothing.
  grpc::Status owner = harness.stub().CreateTrainingJob(
      Context().get(), TrainingHarness::CreateRequest("datasets/hidden-final", "organiser"), &job);
  INFO(owner.error_message());
  CHECK(owner.ok());
  grpc::Status after_close = harness.stub().CreateTrainingJob(
      Context().get(), TrainingHarness::CreateRequest("datasets/closed-final", "reader1"), &job);
  INFO(after_close.error_message());
  CHECK(after_close.ok());
}

TEST_CASE("TrainingService: equal sampling needs 10 per class", "[training][service]") {
  TrainingHarness harness;
  // Class D has 8 instances, 7 of them in the TRAIN split.
  harness.AddDataset("datasets/skewed", {40, 40, 40, 8});
  v1::CreateTrainingJobRequest request = TrainingHarness::CreateRequest("datasets/skewed");
  request.mutable_training_job()->mutable_options()->set_sampling("equal");
  v1::TrainingJob job;
  CheckError(harness.stub().CreateTrainingJob(Context().get(), request, &job),
             grpc::StatusCode::FAILED_PRECONDITION, {"equal", "class D has 7", "D: 8"});

  request.mutable_training_job()->mutable_options()->set_sampling("random");
  CHECK(harness.stub().CreateTrainingJob(Context().get(), request, &job).ok());
}

TEST_CASE("TrainingService: validate_only stores nothing", "[training][service]") {
  TrainingHarness harness;
  harness.AddDataset("datasets/check", {30, 30, 30, 30});
  v1::CreateTrainingJobRequest request = TrainingHarness::CreateRequest("datasets/check");
  request.set_validate_only(true);
  request.set_training_job_id("dry-run");
  v1::TrainingJob job;
  REQUIRE(harness.stub().CreateTrainingJob(Context().get(), request, &job).ok());
  CHECK(job.label_counts_size() == 4);
  CHECK(job.manifest_blob().empty());

  v1::GetTrainingJobRequest get;
  get.set_name("trainingJobs/dry-run");
  CheckError(harness.stub().GetTrainingJob(Context().get(), get, &job), grpc::StatusCode::NOT_FOUND,
             {"trainingJobs/dry-run"});
  CHECK(*harness.queue().Length() == 0);
}

TEST_CASE("TrainingService: label sources reach annotation", "[training][service]") {
  TrainingHarness harness;
  harness.AddDataset("datasets/crowd", {30, 30, 30, 30}, "");
  v1::CreateTrainingJobRequest request = TrainingHarness::CreateRequest("datasets/crowd");
  request.mutable_training_job()->set_label_source("consensus");
  v1::TrainingJob job;
  grpc::Status status = harness.stub().CreateTrainingJob(Context().get(), request, &job);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(harness.fakes().last_export_annotator().empty());
  CHECK(job.label_source() == "consensus");

  // A reference reader's labels are not for training.
  harness.fakes().AddReferenceReader("reader-1");
  harness.AddDataset("datasets/reference", {30, 30, 30, 30}, "reader-1");
  request = TrainingHarness::CreateRequest("datasets/reference");
  request.mutable_training_job()->set_label_source("reader-1");
  CheckError(harness.stub().CreateTrainingJob(Context().get(), request, &job),
             grpc::StatusCode::PERMISSION_DENIED, {"reader-1"});
}

TEST_CASE("TrainingService: other methods reject bad input", "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob job = harness.CreateJob();
  v1::TrainingJob job_out;
  v1::Model model;

  SECTION("GetTrainingJob") {
    v1::GetTrainingJobRequest request;
    request.set_name("jobs/x");
    CheckError(harness.stub().GetTrainingJob(Context().get(), request, &job_out),
               grpc::StatusCode::INVALID_ARGUMENT, {"jobs/x", "trainingJobs/{id}"});
    request.set_name("trainingJobs/missing");
    CheckError(harness.stub().GetTrainingJob(Context().get(), request, &job_out),
               grpc::StatusCode::NOT_FOUND, {"trainingJobs/missing"});
  }
  SECTION("ListTrainingJobs") {
    v1::ListTrainingJobsRequest request;
    v1::ListTrainingJobsResponse response;
    request.set_page_size(-1);
    CheckError(harness.stub().ListTrainingJobs(Context().get(), request, &response),
               grpc::StatusCode::INVALID_ARGUMENT, {"-1"});
    request.set_page_size(0);
    request.set_filter("state=DONE");
    CheckError(harness.stub().ListTrainingJobs(Context().get(), request, &response),
               grpc::StatusCode::INVALID_ARGUMENT, {"state=DONE"});
    request.set_filter("");
    request.set_page_token("not a token");
    CheckError(harness.stub().ListTrainingJobs(Context().get(), request, &response),
               grpc::StatusCode::INVALID_ARGUMENT, {"page_token"});
  }
  SECTION("CancelTrainingJob") {
    CheckError(Cancel(harness, "trainingJobs/Bad Name", &job_out),
               grpc::StatusCode::INVALID_ARGUMENT, {"trainingJobs/Bad Name"});
    CheckError(Cancel(harness, "trainingJobs/missing", &job_out), grpc::StatusCode::NOT_FOUND,
               {"trainingJobs/missing"});
  }
  SECTION("WatchTrainingJob") {
    v1::WatchTrainingJobRequest request;
    request.set_name("trainingJobs/missing");
    auto context = Context();
    auto reader = harness.stub().WatchTrainingJob(context.get(), request);
    v1::TrainingJob update;
    CHECK_FALSE(reader->Read(&update));
    CheckError(reader->Finish(), grpc::StatusCode::NOT_FOUND, {"trainingJobs/missing"});
  }
  SECTION("StartTrainingAttempt") {
    v1::StartTrainingAttemptRequest request;
    v1::StartTrainingAttemptResponse response;
    request.set_name(job.name());
    request.set_queued_attempt(1);
    CheckError(harness.stub().StartTrainingAttempt(Context().get(), request, &response),
               grpc::StatusCode::INVALID_ARGUMENT, {"worker_id"});
    request.set_worker_id("w1");
    request.set_queued_attempt(0);
    CheckError(harness.stub().StartTrainingAttempt(Context().get(), request, &response),
               grpc::StatusCode::INVALID_ARGUMENT, {"queued_attempt", "0"});
    request.set_queued_attempt(7);
    CheckError(harness.stub().StartTrainingAttempt(Context().get(), request, &response),
               grpc::StatusCode::FAILED_PRECONDITION, {"7", "queued 1 times"});
  }
  SECTION("ReportTrainingProgress") {
    v1::ReportTrainingProgressResponse response;
    CheckError(Report(harness, job.name(), 0, 1, &response), grpc::StatusCode::INVALID_ARGUMENT,
               {"attempt is 0"});
    CheckError(Report(harness, job.name(), 1, 1, &response, "sha256:nothex"),
               grpc::StatusCode::INVALID_ARGUMENT, {"sha256:nothex"});
    // The job is QUEUED, so no attempt is current.
    CheckError(Report(harness, job.name(), 1, 1, &response), grpc::StatusCode::FAILED_PRECONDITION,
               {"attempt 1", "QUEUED"});
  }
  SECTION("CompleteTrainingJob") {
    v1::CompleteTrainingJobRequest request = CompleteRequest(harness, job.name(), 1);
    request.set_torchscript_blob("");
    CheckError(harness.stub().CompleteTrainingJob(Context().get(), request, &model),
               grpc::StatusCode::INVALID_ARGUMENT, {"torchscript_blob"});
    request.set_torchscript_blob(absl::StrCat("sha256:", std::string(64, 'e')));
    CheckError(harness.stub().CompleteTrainingJob(Context().get(), request, &model),
               grpc::StatusCode::NOT_FOUND, {"torchscript_blob", std::string(64, 'e')});
    request = CompleteRequest(harness, job.name(), 1);
    request.clear_test_metrics();
    CheckError(harness.stub().CompleteTrainingJob(Context().get(), request, &model),
               grpc::StatusCode::INVALID_ARGUMENT, {"test_metrics"});
  }
  SECTION("FailTrainingAttempt") {
    v1::FailTrainingAttemptRequest request;
    request.set_name(job.name());
    request.set_attempt(1);
    CheckError(harness.stub().FailTrainingAttempt(Context().get(), request, &job_out),
               grpc::StatusCode::INVALID_ARGUMENT, {"error"});
  }
  SECTION("Models") {
    v1::GetModelRequest get;
    get.set_name("model/x");
    CheckError(harness.stub().GetModel(Context().get(), get, &model),
               grpc::StatusCode::INVALID_ARGUMENT, {"model/x"});
    get.set_name("models/missing");
    CheckError(harness.stub().GetModel(Context().get(), get, &model), grpc::StatusCode::NOT_FOUND,
               {"models/missing"});

    v1::ListModelsRequest list;
    v1::ListModelsResponse list_response;
    list.set_use_case("breast-density");
    CheckError(harness.stub().ListModels(Context().get(), list, &list_response),
               grpc::StatusCode::INVALID_ARGUMENT, {"breast-density"});

    v1::UpdateModelRequest update;
    update.mutable_model()->set_name("models/missing");
    CheckError(harness.stub().UpdateModel(Context().get(), update, &model),
               grpc::StatusCode::INVALID_ARGUMENT, {"update_mask"});
    update.mutable_update_mask()->add_paths("classes");
    CheckError(harness.stub().UpdateModel(Context().get(), update, &model),
               grpc::StatusCode::INVALID_ARGUMENT, {"classes"});
    update.mutable_update_mask()->clear_paths();
    update.mutable_update_mask()->add_paths("hidden");
    CheckError(harness.stub().UpdateModel(Context().get(), update, &model),
               grpc::StatusCode::NOT_FOUND, {"models/missing"});

    v1::DeleteModelRequest remove;
    remove.set_name("models/missing");
    google::protobuf::Empty empty;
    CheckError(harness.stub().DeleteModel(Context().get(), remove, &empty),
               grpc::StatusCode::NOT_FOUND, {"models/missing"});

    v1::ListTestPredictionsRequest predictions;
    v1::ListTestPredictionsResponse predictions_response;
    predictions.set_parent("models/missing");
    CheckError(
        harness.stub().ListTestPredictions(Context().get(), predictions, &predictions_response),
        grpc::StatusCode::NOT_FOUND, {"models/missing"});
  }
}

TEST_CASE("TrainingService: only the owner cancels a job or changes its model",
          "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob job = harness.CreateJob("owner-a");
  auto acting_as = [](const std::string& user) {
    std::unique_ptr<grpc::ClientContext> context = Context();
    context->AddMetadata("x-ailab-user", user);
    return context;
  };
  v1::CancelTrainingJobRequest request;
  request.set_name(job.name());
  v1::TrainingJob out;

  SECTION("someone else gets PERMISSION_DENIED and the job stays queued") {
    CheckError(harness.stub().CancelTrainingJob(acting_as("user-b").get(), request, &out),
               grpc::StatusCode::PERMISSION_DENIED, {"owner-a", job.name()});
    CHECK(GetJob(harness, job.name()).state() == v1::TrainingJob::QUEUED);
  }
  SECTION("the owner cancels it") {
    grpc::Status status = harness.stub().CancelTrainingJob(acting_as("owner-a").get(), request, &out);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(out.state() == v1::TrainingJob::CANCELLED);
  }
  SECTION("a platform service acting for no one cancels it") {
    REQUIRE(Cancel(harness, job.name(), &out).ok());
    CHECK(out.state() == v1::TrainingJob::CANCELLED);
  }
}

TEST_CASE("TrainingService: cancel while queued", "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob job = harness.CreateJob();
  v1::TrainingJob cancelled;
  REQUIRE(Cancel(harness, job.name(), &cancelled).ok());
  CHECK(cancelled.state() == v1::TrainingJob::CANCELLED);
  CHECK(cancelled.has_end_time());

  // StartTrainingAttempt rejects the entry, so the worker that reads it drops it.
  std::optional<queue::Delivery> delivery = harness.NextEntry();
  REQUIRE(delivery.has_value());
  v1::StartTrainingAttemptRequest start;
  start.set_name(job.name());
  start.set_worker_id("test-worker");
  start.set_queued_attempt(delivery->entry.attempt);
  v1::StartTrainingAttemptResponse started;
  CheckError(harness.stub().StartTrainingAttempt(Context().get(), start, &started),
             grpc::StatusCode::FAILED_PRECONDITION, {"CANCELLED"});

  // A finished job cannot be cancelled again.
  CheckError(Cancel(harness, job.name(), &cancelled), grpc::StatusCode::FAILED_PRECONDITION,
             {job.name(), "CANCELLED"});
}

TEST_CASE("TrainingService: cancel while running", "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob job = harness.CreateJob();
  v1::StartTrainingAttemptResponse started = harness.StartNext();
  CHECK(started.training_job().state() == v1::TrainingJob::RUNNING);
  CHECK(started.attempt() == 1);

  v1::ReportTrainingProgressResponse progress;
  REQUIRE(Report(harness, job.name(), 1, 1, &progress).ok());
  CHECK_FALSE(progress.cancel_requested());

  v1::TrainingJob cancelling;
  REQUIRE(Cancel(harness, job.name(), &cancelling).ok());
  CHECK(cancelling.state() == v1::TrainingJob::CANCELLING);

  // The worker's next heartbeat learns of it and the worker stops.
  REQUIRE(Report(harness, job.name(), 1, 0, &progress).ok());
  CHECK(progress.cancel_requested());
  v1::TrainingJob stopped;
  REQUIRE(Fail(harness, job.name(), 1, false, &stopped).ok());
  CHECK(stopped.state() == v1::TrainingJob::CANCELLED);
  CHECK(stopped.has_end_time());
  CHECK(stopped.history_size() == 1);
}

TEST_CASE("TrainingService: completion registers one model", "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob job = harness.CreateJob();
  v1::StartTrainingAttemptResponse started = harness.StartNext();
  CHECK(started.manifest().examples_size() == 120);
  CHECK(started.resume_checkpoint_blob().empty());

  v1::ReportTrainingProgressResponse progress;
  REQUIRE(Report(harness, job.name(), 1, 1, &progress, harness.PutBlob("checkpoint 1")).ok());
  REQUIRE(Report(harness, job.name(), 1, 2, &progress).ok());

  v1::CompleteTrainingJobRequest request = CompleteRequest(harness, job.name(), 1);
  v1::Model first;
  grpc::Status status = harness.stub().CompleteTrainingJob(Context().get(), request, &first);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(absl::StartsWith(first.name(), "models/"));
  CHECK(first.training_job() == job.name());
  CHECK(first.display_name() == "density model");
  CHECK(first.classes_size() == 4);
  CHECK(first.image_size() == 128);
  CHECK(first.architecture() == "resnet18");
  CHECK(first.test_metrics().kappa() == Approx(0.61));
  CHECK(first.best_epoch() == 2);
  CHECK(first.owner() == "user-1");

  // A second completion, as after a redelivery, returns the same model.
  v1::Model second;
  REQUIRE(harness.stub().CompleteTrainingJob(Context().get(), request, &second).ok());
  CHECK(second.name() == first.name());

  v1::TrainingJob done = GetJob(harness, job.name());
  CHECK(done.state() == v1::TrainingJob::SUCCEEDED);
  CHECK(done.model() == first.name());
  CHECK(done.history_size() == 2);
  CHECK(done.progress().epoch() == 2);
  CHECK(done.checkpoint_epoch() == 1);
  CHECK(done.has_end_time());

  v1::ListModelsRequest list;
  list.set_use_case("useCases/breast-density");
  v1::ListModelsResponse models;
  REQUIRE(harness.stub().ListModels(Context().get(), list, &models).ok());
  REQUIRE(models.models_size() == 1);
  CHECK(models.models(0).name() == first.name());

  v1::ListTestPredictionsRequest predictions_request;
  predictions_request.set_parent(first.name());
  v1::ListTestPredictionsResponse predictions;
  REQUIRE(
      harness.stub().ListTestPredictions(Context().get(), predictions_request, &predictions).ok());
  REQUIRE(predictions.test_predictions_size() == 3);
  CHECK(predictions.test_predictions(1).instance() == "datasets/d1/instances/t1");
  CHECK(predictions.test_predictions(1).label() == 1);
  CHECK(predictions.test_predictions(1).probabilities_size() == 4);

  // Hiding removes the model from the default list only.
  v1::UpdateModelRequest hide;
  hide.mutable_model()->set_name(first.name());
  hide.mutable_model()->set_hidden(true);
  hide.mutable_update_mask()->add_paths("hidden");
  v1::Model hidden;
  REQUIRE(harness.stub().UpdateModel(Context().get(), hide, &hidden).ok());
  CHECK(hidden.hidden());
  models.Clear();
  REQUIRE(harness.stub().ListModels(Context().get(), list, &models).ok());
  CHECK(models.models_size() == 0);
  list.set_show_hidden(true);
  models.Clear();
  REQUIRE(harness.stub().ListModels(Context().get(), list, &models).ok());
  CHECK(models.models_size() == 1);

  v1::UpdateModelRequest rename;
  rename.mutable_model()->set_name(first.name());
  rename.mutable_model()->set_display_name("density v2");
  rename.mutable_update_mask()->add_paths("display_name");
  v1::Model renamed;
  REQUIRE(harness.stub().UpdateModel(Context().get(), rename, &renamed).ok());
  CHECK(renamed.display_name() == "density v2");
  CHECK(renamed.hidden());

  v1::DeleteModelRequest remove;
  remove.set_name(first.name());
  google::protobuf::Empty empty;
  REQUIRE(harness.stub().DeleteModel(Context().get(), remove, &empty).ok());
  v1::GetModelRequest get;
  get.set_name(first.name());
  v1::Model gone;
  CheckError(harness.stub().GetModel(Context().get(), get, &gone), grpc::StatusCode::NOT_FOUND,
             {first.name()});
}

TEST_CASE("TrainingService: failed attempts retry then fail", "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob job = harness.CreateJob();

  for (int attempt = 1; attempt <= 3; ++attempt) {
    INFO("attempt " << attempt);
    v1::StartTrainingAttemptResponse started = harness.StartNext();
    CHECK(started.attempt() == attempt);
    REQUIRE(harness.queue().ReleaseLease(job.name(), "test-worker").ok());
    v1::TrainingJob failed;
    REQUIRE(Fail(harness, job.name(), attempt, true, &failed).ok());
    CHECK(failed.failure_count() == attempt);
    CHECK(failed.error().message() == absl::StrCat("GPU fell off the bus in attempt ", attempt));
    if (attempt < 3) {
      CHECK(failed.state() == v1::TrainingJob::QUEUED);
    } else {
      CHECK(failed.state() == v1::TrainingJob::FAILED);
      CHECK(failed.has_end_time());
    }
  }
  // No entry is left for a FAILED job.
  auto none = harness.queue().Consume("test-worker", absl::Milliseconds(200));
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("TrainingService: stale entries are rejected", "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob job = harness.CreateJob();
  std::optional<queue::Delivery> first = harness.NextEntry();
  REQUIRE(first.has_value());

  v1::StartTrainingAttemptRequest start;
  start.set_name(job.name());
  start.set_worker_id("worker-a");
  start.set_queued_attempt(first->entry.attempt);
  v1::StartTrainingAttemptResponse started;
  REQUIRE(harness.stub().StartTrainingAttempt(Context().get(), start, &started).ok());

  // While worker-b has the lease, no other worker may start the job.
  REQUIRE(*harness.queue().AcquireLease(job.name(), "worker-b"));
  start.set_worker_id("worker-c");
  CheckError(harness.stub().StartTrainingAttempt(Context().get(), start, &started),
             grpc::StatusCode::ABORTED, {"worker-b"});
  REQUIRE(harness.queue().ReleaseLease(job.name(), "worker-b").ok());

  // worker-a fails retryably: the job is queued again under generation 2.
  v1::TrainingJob failed;
  REQUIRE(Fail(harness, job.name(), 1, true, &failed).ok());
  CHECK(failed.state() == v1::TrainingJob::QUEUED);

  // The first entry, redelivered, is stale; the new one starts attempt 2.
  start.set_queued_attempt(first->entry.attempt);
  CheckError(harness.stub().StartTrainingAttempt(Context().get(), start, &started),
             grpc::StatusCode::FAILED_PRECONDITION, {"queued 2 times"});
  v1::StartTrainingAttemptResponse second = harness.StartNext();
  CHECK(second.attempt() == 2);

  // Calls of the old attempt are rejected so its worker stops.
  v1::ReportTrainingProgressResponse progress;
  CheckError(Report(harness, job.name(), 1, 3, &progress), grpc::StatusCode::FAILED_PRECONDITION,
             {"attempt 1", "attempt 2"});
  v1::Model model;
  CheckError(harness.stub().CompleteTrainingJob(Context().get(),
                                                CompleteRequest(harness, job.name(), 1), &model),
             grpc::StatusCode::FAILED_PRECONDITION, {"attempt 1"});
}

TEST_CASE("TrainingService: preempted attempt resumes checkpoint", "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob job = harness.CreateJob();
  harness.StartNext();
  REQUIRE(harness.queue().ReleaseLease(job.name(), "test-worker").ok());
  std::string checkpoint = harness.PutBlob("weights after epoch 2");
  v1::ReportTrainingProgressResponse progress;
  REQUIRE(Report(harness, job.name(), 1, 1, &progress).ok());
  REQUIRE(Report(harness, job.name(), 1, 2, &progress, checkpoint).ok());

  v1::TrainingJob preempted;
  REQUIRE(Fail(harness, job.name(), 1, true, &preempted, /*preempted=*/true).ok());
  CHECK(preempted.state() == v1::TrainingJob::QUEUED);
  CHECK(preempted.failure_count() == 0);

  v1::StartTrainingAttemptResponse resumed = harness.StartNext("other-worker");
  CHECK(resumed.attempt() == 2);
  CHECK(resumed.resume_checkpoint_blob() == checkpoint);
  CHECK(resumed.resume_epoch() == 2);
  CHECK(resumed.training_job().worker_id() == "other-worker");

  // The resumed attempt repeats epoch 2, which replaces the earlier record.
  REQUIRE(Report(harness, job.name(), 2, 2, &progress).ok());
  REQUIRE(Report(harness, job.name(), 2, 3, &progress).ok());
  v1::TrainingJob current = GetJob(harness, job.name());
  REQUIRE(current.history_size() == 3);
  CHECK(current.history(1).epoch() == 2);
  CHECK(current.history(2).epoch() == 3);
}

TEST_CASE("TrainingService: non-retryable error fails at once", "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob job = harness.CreateJob();
  harness.StartNext();
  v1::TrainingJob failed;
  REQUIRE(Fail(harness, job.name(), 1, false, &failed).ok());
  CHECK(failed.state() == v1::TrainingJob::FAILED);
  CHECK(failed.failure_count() == 1);
  CHECK(failed.error().code() == static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  CheckError(Fail(harness, job.name(), 1, false, &failed), grpc::StatusCode::FAILED_PRECONDITION,
             {"FAILED"});
}

TEST_CASE("TrainingService: restart keeps queued jobs", "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob first = harness.CreateJob("user-1");
  v1::TrainingJob second = harness.CreateJob("user-2");

  REQUIRE(harness.service().Restart().ok());
  harness.Reconnect();
  SERVICE_LOG(harness);

  CHECK(GetJob(harness, first.name()).state() == v1::TrainingJob::QUEUED);
  CHECK(GetJob(harness, second.name()).state() == v1::TrainingJob::QUEUED);
  CHECK(*harness.queue().Length() == 2);

  v1::StartTrainingAttemptResponse a = harness.StartNext();
  v1::StartTrainingAttemptResponse b = harness.StartNext();
  CHECK(a.training_job().name() == first.name());
  CHECK(b.training_job().name() == second.name());
}

TEST_CASE("TrainingService: heavy owner does not starve others", "[training][service]") {
  // Two entries may wait in Redis; the other jobs wait in PostgreSQL.
  TrainingHarness harness({"--dispatch_window=2"});
  std::vector<std::string> heavy;
  for (int i = 0; i < 12; ++i) heavy.push_back(harness.CreateJob("heavy-user").name());
  CHECK(*harness.queue().Length() == 2);
  v1::TrainingJob light = harness.CreateJob("light-user");
  CHECK(GetJob(harness, light.name()).state() == v1::TrainingJob::QUEUED);
  CHECK(*harness.queue().Length() == 2);

  // The two entries written before the light user's job come first; the next one is
  // the light user's, since it has no active job and the heavy user has two.
  std::vector<std::string> started;
  for (int i = 0; i < 4; ++i) {
    started.push_back(harness.StartNext(absl::StrCat("worker-", i)).training_job().name());
  }
  SERVICE_LOG(harness);
  CHECK(started[0] == heavy[0]);
  CHECK(started[1] == heavy[1]);
  CHECK(started[2] == light.name());
  CHECK(started[3] == heavy[2]);
}

TEST_CASE("TrainingService: owners alternate in dispatch order", "[training][service]") {
  TrainingHarness harness({"--dispatch_window=1"});
  std::vector<std::string> first, second;
  for (int i = 0; i < 3; ++i) first.push_back(harness.CreateJob("owner-a").name());
  for (int i = 0; i < 3; ++i) second.push_back(harness.CreateJob("owner-b").name());

  // Every start frees the one slot of the window, and the dispatcher then picks the
  // owner with fewer active jobs.
  std::vector<std::string> started;
  for (int i = 0; i < 6; ++i) {
    started.push_back(harness.StartNext(absl::StrCat("worker-", i)).training_job().name());
  }
  SERVICE_LOG(harness);
  std::vector<std::string> expected = {first[0],  second[0], first[1],
                                       second[1], first[2],  second[2]};
  CHECK(started == expected);
}

TEST_CASE("TrainingService: cancelled waiting job is never written", "[training][service]") {
  TrainingHarness harness({"--dispatch_window=1"});
  v1::TrainingJob written = harness.CreateJob("user-1");
  v1::TrainingJob waiting = harness.CreateJob("user-1");
  v1::TrainingJob cancelled;
  REQUIRE(Cancel(harness, waiting.name(), &cancelled).ok());
  CHECK(cancelled.state() == v1::TrainingJob::CANCELLED);

  v1::StartTrainingAttemptResponse first = harness.StartNext();
  CHECK(first.training_job().name() == written.name());
  // Nothing else reaches the queue.
  CHECK_FALSE(harness.NextEntry("other-worker").has_value());
}

TEST_CASE("TrainingService: missing queue entry is written", "[training][service]") {
  TrainingHarness harness({"--maintenance_interval=100ms"});
  v1::TrainingJob job = harness.CreateJob();
  std::optional<queue::Delivery> delivery = harness.NextEntry();
  REQUIRE(delivery.has_value());

  // Simulates a crash between storing the job and writing its entry. The entry is gone
  // and the row records it as never written.
  REQUIRE(harness.queue().Ack(delivery->entry_id).ok());
  auto pool = ailab::pg::Pool::Create({harness.database_url(), 1, "training"});
  REQUIRE(pool.ok());
  REQUIRE((*pool)
              ->Run([&](pqxx::work& tx) {
                tx.exec(
                    "UPDATE training_jobs SET enqueued = false, "
                    "update_time = now() - interval '1 hour'");
                return absl::OkStatus();
              })
              .ok());

  std::optional<queue::Delivery> rewritten = harness.NextEntry();
  SERVICE_LOG(harness);
  REQUIRE(rewritten.has_value());
  CHECK(rewritten->entry.job == job.name());
  CHECK(rewritten->entry.attempt == 1);
}

TEST_CASE("TrainingService: lost worker's job is queued again", "[training][service]") {
  // The idle time leaves the test worker ample time to start before the entry counts as
  // stale. The test waits for the outcome, not for a fixed time.
  TrainingHarness harness({"--reclaim_min_idle=2s", "--maintenance_interval=100ms"});
  v1::TrainingJob job = harness.CreateJob();

  // The worker starts without a lease and then "dies", so no lease is renewed.
  std::optional<queue::Delivery> delivery = harness.NextEntry();
  REQUIRE(delivery.has_value());
  v1::StartTrainingAttemptRequest start;
  start.set_name(job.name());
  start.set_worker_id("doomed-worker");
  start.set_queued_attempt(delivery->entry.attempt);
  v1::StartTrainingAttemptResponse started;
  REQUIRE(harness.stub().StartTrainingAttempt(Context().get(), start, &started).ok());

  v1::TrainingJob current;
  for (int i = 0; i < 100; ++i) {
    current = GetJob(harness, job.name());
    if (current.state() == v1::TrainingJob::QUEUED) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  SERVICE_LOG(harness);
  REQUIRE(current.state() == v1::TrainingJob::QUEUED);
  CHECK(current.failure_count() == 1);
  CHECK(Contains(current.error().message(), "doomed-worker"));

  v1::StartTrainingAttemptResponse again = harness.StartNext();
  CHECK(again.attempt() == 2);
}

TEST_CASE("TrainingService: watch streams every change", "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob job = harness.CreateJob();

  v1::WatchTrainingJobRequest request;
  request.set_name(job.name());
  auto context = Context();
  auto reader = harness.stub().WatchTrainingJob(context.get(), request);
  v1::TrainingJob update;
  REQUIRE(reader->Read(&update));
  CHECK(update.state() == v1::TrainingJob::QUEUED);

  // Collects the rest of the stream while the test plays the worker.
  std::mutex mutex;
  std::vector<v1::TrainingJob> updates;
  std::thread watcher([&] {
    v1::TrainingJob next;
    while (reader->Read(&next)) {
      std::lock_guard<std::mutex> lock(mutex);
      updates.push_back(next);
    }
  });
  auto received = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return updates.size();
  };

  v1::StartTrainingAttemptResponse started = harness.StartNext();
  v1::ReportTrainingProgressResponse progress;
  // Each step waits until the watcher has seen the previous one, so that every
  // change is streamed (the stream sends the latest state, not every intermediate one).
  auto wait_for = [&](size_t count) {
    for (int i = 0; i < 300 && received() < count; ++i) absl::SleepFor(absl::Milliseconds(20));
  };
  wait_for(1);
  REQUIRE(Report(harness, job.name(), 1, 1, &progress).ok());
  wait_for(2);
  REQUIRE(Report(harness, job.name(), 1, 2, &progress).ok());
  wait_for(3);
  v1::Model model;
  REQUIRE(harness.stub()
              .CompleteTrainingJob(Context().get(), CompleteRequest(harness, job.name(), 1), &model)
              .ok());
  watcher.join();
  SERVICE_LOG(harness);
  grpc::Status finished = reader->Finish();
  INFO(finished.error_message());
  CHECK(finished.ok());

  REQUIRE(updates.size() >= 4);
  CHECK(updates[0].state() == v1::TrainingJob::RUNNING);
  CHECK(updates[1].progress().epoch() == 1);
  CHECK(updates[2].progress().epoch() == 2);
  CHECK(updates.back().state() == v1::TrainingJob::SUCCEEDED);
  CHECK(updates.back().model() == model.name());
}

TEST_CASE("TrainingService: list filters and pages", "[training][service]") {
  TrainingHarness harness;
  v1::TrainingJob a = harness.CreateJob("user-1");
  v1::TrainingJob b = harness.CreateJob("user-1");
  v1::TrainingJob c = harness.CreateJob("user-2");
  v1::TrainingJob cancelled;
  REQUIRE(Cancel(harness, b.name(), &cancelled).ok());

  auto list = [&](const std::string& filter, int page_size, const std::string& token,
                  v1::ListTrainingJobsResponse* response) {
    v1::ListTrainingJobsRequest request;
    request.set_filter(filter);
    request.set_page_size(page_size);
    request.set_page_token(token);
    grpc::Status status = harness.stub().ListTrainingJobs(Context().get(), request, response);
    INFO(status.error_message());
    REQUIRE(status.ok());
  };

  v1::ListTrainingJobsResponse response;
  list("", 0, "", &response);
  REQUIRE(response.training_jobs_size() == 3);
  // Newest first.
  CHECK(response.training_jobs(0).name() == c.name());
  CHECK(response.training_jobs(2).name() == a.name());

  response.Clear();
  list("state=CANCELLED", 0, "", &response);
  REQUIRE(response.training_jobs_size() == 1);
  CHECK(response.training_jobs(0).name() == b.name());

  response.Clear();
  list("owner=user-1 AND state=QUEUED", 0, "", &response);
  REQUIRE(response.training_jobs_size() == 1);
  CHECK(response.training_jobs(0).name() == a.name());

  response.Clear();
  list("use_case=\"useCases/breast-density\"", 2, "", &response);
  CHECK(response.training_jobs_size() == 2);
  REQUIRE_FALSE(response.next_page_token().empty());
  std::string token = response.next_page_token();
  response.Clear();
  list("use_case=\"useCases/breast-density\"", 2, token, &response);
  CHECK(response.training_jobs_size() == 1);
  CHECK(response.next_page_token().empty());
}

}  // namespace
}  // namespace ailab::training::testing

namespace ailab::training::testing {
namespace {

// Runs the `ailab` client with `arguments`; returns its exit code and standard output.
std::pair<int, std::string> RunCli(const std::string& arguments) {
  std::string command = absl::StrCat(ailab::testing::BinaryPath("ailab"), " ", arguments, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, read);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST_CASE("ailab CLI: train and model commands", "[training][service]") {
  TrainingHarness harness;
  harness.AddDataset("datasets/cli", {30, 30, 30, 30});
  const std::string address = absl::StrCat(" --training_address ", harness.service().address());

  auto [created_code, created] =
      RunCli(absl::StrCat("train create --use_case useCases/breast-density --dataset datasets/cli "
                          "--label_source ann1 --user u1 --id cli-job --architecture resnet18 "
                          "--image_size 128 --max_epochs 5 --sampling equal",
                          address));
  INFO(created);
  REQUIRE(created_code == 0);
  CHECK(Contains(created, "\"name\": \"trainingJobs/cli-job\""));
  CHECK(Contains(created, "\"sampling\": \"equal\""));

  auto [list_code, listed] = RunCli(absl::StrCat("train list --owner u1 --table", address));
  INFO(listed);
  CHECK(list_code == 0);
  CHECK(Contains(listed, "trainingJobs/cli-job"));
  CHECK(Contains(listed, "QUEUED"));

  auto [bad_code, bad] =
      RunCli(absl::StrCat("train create --use_case useCases/breast-density "
                          "--dataset datasets/cli --label_source ann1 "
                          "--user u1 --architecture alexnet",
                          address));
  INFO(bad);
  CHECK(bad_code != 0);
  CHECK(Contains(bad, "alexnet"));

  // `watch` follows the job while the test plays the worker, and ends with the model.
  std::pair<int, std::string> watched;
  std::thread watcher([&] { watched = RunCli(absl::StrCat("train watch cli-job", address)); });
  v1::StartTrainingAttemptResponse started = harness.StartNext();
  v1::ReportTrainingProgressResponse progress;
  REQUIRE(Report(harness, "trainingJobs/cli-job", started.attempt(), 1, &progress).ok());
  v1::Model model;
  REQUIRE(harness.stub()
              .CompleteTrainingJob(Context().get(),
                                   CompleteRequest(harness, "trainingJobs/cli-job", 1), &model)
              .ok());
  watcher.join();
  INFO(watched.second);
  CHECK(watched.first == 0);
  CHECK(Contains(watched.second, "SUCCEEDED"));
  CHECK(Contains(watched.second, "kappa=0.610"));
  CHECK(Contains(watched.second, "confusion matrix"));

  auto [models_code, models] = RunCli(absl::StrCat("model list --table", address));
  INFO(models);
  CHECK(models_code == 0);
  CHECK(Contains(models, model.name()));

  auto [hide_code, hidden] = RunCli(absl::StrCat("model hide ", model.name(), address));
  CHECK(hide_code == 0);
  CHECK(Contains(hidden, "hidden"));
  auto [after_code, after] = RunCli(absl::StrCat("model list --table", address));
  CHECK(after_code == 0);
  CHECK_FALSE(Contains(after, model.name()));

  auto [predictions_code, predictions] =
      RunCli(absl::StrCat("model predictions ", model.name(), " --table", address));
  INFO(predictions);
  CHECK(predictions_code == 0);
  CHECK(Contains(predictions, "datasets/d1/instances/t2"));

  auto [cancel_code, cancelled] = RunCli(absl::StrCat("train cancel cli-job", address));
  INFO(cancelled);
  CHECK(cancel_code == 1);
  CHECK(Contains(cancelled, "SUCCEEDED"));
}

}  // namespace
}  // namespace ailab::training::testing
