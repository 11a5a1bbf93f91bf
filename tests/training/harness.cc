#include "harness.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ailab/rpc/client.h"

namespace ailab::training::testing {

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

TrainingHarness::TrainingHarness(std::vector<std::string> extra_args)
    : TrainingHarness(std::move(extra_args), ailab::testing::RedisAddress()) {}

TrainingHarness::TrainingHarness(std::vector<std::string> extra_args, std::string redis_address)
    : queue_prefix_(ailab::testing::UniqueName("training_test")),
      redis_address_(std::move(redis_address)) {
  absl::StatusOr<blob::BlobStore> blobs = blob::BlobStore::Open(blob_dir_.path());
  REQUIRE(blobs.ok());
  blobs_ = std::make_unique<blob::BlobStore>(*blobs);

  queue::QueueOptions queue_options;
  queue_options.redis_address = redis_address_;
  queue_options.prefix = queue_prefix_;
  absl::StatusOr<std::unique_ptr<queue::JobQueue>> queue = queue::JobQueue::Open(queue_options);
  REQUIRE(queue.ok());
  queue_ = *std::move(queue);

  std::vector<std::string> args = {
      absl::StrCat("--database_url=", database_.url()),
      absl::StrCat("--redis_address=", redis_address_),
      absl::StrCat("--queue_stream=", queue_prefix_),
      absl::StrCat("--blob_root=", blob_dir_.path()),
      absl::StrCat("--annotation_address=", fakes_.address()),
      absl::StrCat("--ingest_address=", fakes_.address()),
      absl::StrCat("--evaluation_address=", fakes_.address()),
      "--database_pool_size=4",
      "--watch_poll=100ms",
      "--maintenance_interval=200ms",
      // Entries the test reads stay pending without a lease, so this keeps the
      // maintenance pass from taking them back unless a test overrides it.
      "--reclaim_min_idle=1h",
  };
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto service = ailab::testing::ServiceProcess::Start("ailab-training", args);
  if (!service.ok()) FAIL("ailab-training did not start: " << service.status().ToString());
  service_ = *std::move(service);
  Reconnect();
}

TrainingHarness::~TrainingHarness() {
  stub_.reset();
  if (service_) {
    absl::Status stopped = service_->Stop();
    if (!stopped.ok()) WARN("ailab-training did not stop cleanly: " << stopped.ToString());
  }
  auto client = redis::Client::Connect(redis_address_);
  if (client.ok()) (void)(*client)->Command({"DEL", queue_->stream()});
}

void TrainingHarness::Reconnect() {
  stub_ = v1::TrainingService::NewStub(rpc::Connect(service_->address()));
}

void TrainingHarness::AddDataset(const std::string& dataset, const std::vector<int>& per_class,
                                 const std::string& annotator, const std::string& use_case) {
  fakes_.SetDataset(use_case, dataset, annotator,
                    FakeDataServices::MakeInstances(dataset, per_class));
}

v1::CreateTrainingJobRequest TrainingHarness::CreateRequest(const std::string& dataset,
                                                            const std::string& owner) {
  v1::CreateTrainingJobRequest request;
  v1::TrainingJob* job = request.mutable_training_job();
  job->set_display_name("density model");
  job->set_owner(owner);
  job->set_use_case("useCases/breast-density");
  job->set_dataset(dataset);
  job->set_label_source("ann1");
  job->mutable_options()->set_max_epochs(5);
  job->mutable_options()->mutable_resources()->set_gpu_count(1);
  job->mutable_options()->mutable_resources()->set_memory_mb(4096);
  return request;
}

v1::TrainingJob TrainingHarness::CreateJob(const std::string& owner) {
  std::string dataset = absl::StrCat("datasets/d", ++datasets_);
  AddDataset(dataset, {30, 30, 30, 30});
  v1::TrainingJob job;
  grpc::Status status =
      stub_->CreateTrainingJob(Context().get(), CreateRequest(dataset, owner), &job);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return job;
}

std::optional<queue::Delivery> TrainingHarness::NextEntry(const std::string& worker) {
  for (int i = 0; i < 50; ++i) {
    auto delivery = queue_->Consume(worker, absl::Milliseconds(200));
    // The first read after a Redis restart fails, and the client then reconnects.
    if (delivery.status().code() == absl::StatusCode::kUnavailable) continue;
    INFO(delivery.status().ToString());
    REQUIRE(delivery.ok());
    if (delivery->has_value()) return **delivery;
  }
  return std::nullopt;
}

v1::StartTrainingAttemptResponse TrainingHarness::StartNext(const std::string& worker) {
  std::optional<queue::Delivery> delivery = NextEntry(worker);
  REQUIRE(delivery.has_value());
  REQUIRE(*queue_->AcquireLease(delivery->entry.job, worker));
  v1::StartTrainingAttemptRequest request;
  request.set_name(delivery->entry.job);
  request.set_worker_id(worker);
  request.set_queued_attempt(delivery->entry.attempt);
  v1::StartTrainingAttemptResponse response;
  grpc::Status status = stub_->StartTrainingAttempt(Context().get(), request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response;
}

std::string TrainingHarness::PutBlob(const std::string& bytes) {
  absl::StatusOr<std::string> id = blobs_->Put(bytes);
  REQUIRE(id.ok());
  return *id;
}

}  // namespace ailab::training::testing
