#include "worker_support.h"

#include <catch2/catch.hpp>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ailab/imaging/npy.h"

namespace ailab::training::testing {

void AddSyntheticDataset(TrainingHarness& harness) {
  std::mt19937 random(7);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  std::vector<std::string> blobs;
  for (int index = 0; index < 2 * kSyntheticPerClass; ++index) {
    const float mean = index < kSyntheticPerClass ? 0.25f : 0.75f;
    std::vector<float> pixels(kSyntheticImageSize * kSyntheticImageSize);
    for (float& pixel : pixels) pixel = std::clamp(mean + noise(random), 0.0f, 1.0f);
    auto array = imaging::Array::FromFloat({kSyntheticImageSize, kSyntheticImageSize}, pixels);
    REQUIRE(array.ok());
    auto encoded = imaging::EncodeNpy(*array);
    REQUIRE(encoded.ok());
    blobs.push_back(harness.PutBlob(*encoded));
  }
  std::vector<FakeInstance> instances = FakeDataServices::MakeInstances(
      kSyntheticDataset, {kSyntheticPerClass, kSyntheticPerClass},
      [&](int index) { return blobs[index]; });
  for (FakeInstance& instance : instances) {
    instance.array_shape = {kSyntheticImageSize, kSyntheticImageSize};
  }
  harness.fakes().SetCategories(kSyntheticUseCase, {"absent", "present"});
  harness.fakes().SetDataset(kSyntheticUseCase, kSyntheticDataset, "ann1", instances);
}

v1::TrainingJob CreateSyntheticJob(TrainingHarness& harness, int max_epochs,
                                   const std::string& owner, int gpu_count, int64_t memory_mb) {
  v1::CreateTrainingJobRequest request = TrainingHarness::CreateRequest(kSyntheticDataset, owner);
  v1::TrainingJob* job = request.mutable_training_job();
  job->set_use_case(kSyntheticUseCase);
  v1::TrainingOptions* options = job->mutable_options();
  options->set_architecture("resnet18");
  options->set_image_size(kSyntheticImageSize);
  options->set_batch_size(16);
  options->set_max_epochs(max_epochs);
  options->set_early_stopping_patience(0);
  options->set_learning_rate(0.01);
  options->mutable_resources()->set_gpu_count(gpu_count);
  options->mutable_resources()->set_memory_mb(memory_mb);
  v1::TrainingJob created;
  grpc::Status status = harness.stub().CreateTrainingJob(Context().get(), request, &created);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return created;
}

std::unique_ptr<ailab::testing::ServiceProcess> StartWorker(
    TrainingHarness& harness, const std::string& work_dir, const std::string& worker_id,
    const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {
      absl::StrCat("--training_address=", harness.service().address()),
      absl::StrCat("--redis_address=", harness.redis_address()),
      absl::StrCat("--queue_stream=", harness.queue_prefix()),
      absl::StrCat("--blob_root=", harness.blob_root()),
      absl::StrCat("--work_dir=", work_dir),
      absl::StrCat("--worker_id=", worker_id),
      "--threads=2",
      "--device=cpu",
      "--heartbeat_interval=500ms",
      "--lease_ttl=5s"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto worker = ailab::testing::ServiceProcess::Start("ailab-worker", args);
  if (!worker.ok()) FAIL("ailab-worker did not start: " << worker.status().ToString());
  return *std::move(worker);
}

v1::TrainingJob GetJob(TrainingHarness& harness, const std::string& name) {
  v1::GetTrainingJobRequest request;
  request.set_name(name);
  v1::TrainingJob job;
  grpc::Status status = harness.stub().GetTrainingJob(Context().get(), request, &job);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return job;
}

v1::TrainingJob WaitFor(TrainingHarness& harness, const std::string& name,
                        const std::function<bool(const v1::TrainingJob&)>& done) {
  v1::TrainingJob job;
  for (int i = 0; i < 6000; ++i) {
    job = GetJob(harness, name);
    if (done(job)) return job;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return job;
}

bool IsTerminal(const v1::TrainingJob& job) {
  return job.state() == v1::TrainingJob::SUCCEEDED || job.state() == v1::TrainingJob::FAILED ||
         job.state() == v1::TrainingJob::CANCELLED;
}

std::vector<v1::Model> ListAllModels(TrainingHarness& harness) {
  v1::ListModelsRequest request;
  request.set_page_size(1000);
  request.set_show_hidden(true);
  v1::ListModelsResponse response;
  grpc::Status status = harness.stub().ListModels(Context().get(), request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return {response.models().begin(), response.models().end()};
}

}  // namespace ailab::training::testing
