// Throughput of ailab-inference with concurrent clients, once with dynamic batching
// (--max_batch_size) and once without (--max_batch_size=1), on the same model, image
// and request count. The model is a ResNet-18 trained for one epoch on a few synthetic
// images (the weights do not change the cost). Fake training, catalog and ingest
// servers in this process serve the model, its use case and the instance; predictions
// are recorded in a scratch PostgreSQL database as in production.
//
// Prints "FIGURE <name> <value>" lines for run.sh.
// Usage: bench_inference_batching [--clients=16] [--requests=40] [--size=128]
//                                 [--batch=16] [--threads=2]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ailab/blob/blob_store.h"
#include "ailab/catalog/v1/catalog.grpc.pb.h"
#include "ailab/imaging/npy.h"
#include "ailab/inference/v1/inference.grpc.pb.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/log/log.h"
#include "ailab/rpc/client.h"
#include "ailab/torch/trainer.h"
#include "ailab/training/v1/training.grpc.pb.h"
#include "fixtures.h"
#include "grpcpp/server_builder.h"

namespace {

namespace inference = ailab::inference::v1;
namespace training = ailab::training::v1;
using Clock = std::chrono::steady_clock;

constexpr char kModel[] = "models/bench";
constexpr char kUseCase[] = "useCases/bench";
constexpr char kInstance[] = "datasets/bench/instances/i1";

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bench_inference_batching: %s\n", message.c_str());
  std::exit(1);
}

int IntArgument(int argc, char** argv, const std::string& name, int fallback) {
  const std::string prefix = absl::StrCat("--", name, "=");
  for (int i = 1; i < argc; ++i) {
    int value = 0;
    if (absl::StartsWith(argv[i], prefix) &&
        absl::SimpleAtoi(std::string(argv[i]).substr(prefix.size()), &value)) {
      return value;
    }
  }
  return fallback;
}

std::string EncodeArray(int size, float value) {
  auto array = ailab::imaging::Array::FromFloat({size, size},
                                                std::vector<float>(size * size, value));
  if (!array.ok()) Die(array.status().ToString());
  auto bytes = ailab::imaging::EncodeNpy(*array);
  if (!bytes.ok()) Die(bytes.status().ToString());
  return *bytes;
}

// Trains one epoch on eight dark and bright images; returns the TorchScript path.
std::string TrainModel(const std::string& dir, int size) {
  std::vector<ailab::torch::Example> examples;
  for (int i = 0; i < 8; ++i) {
    const std::string path = absl::StrCat(dir, "/train", i, ".npy");
    auto array = ailab::imaging::Array::FromFloat(
        {size, size}, std::vector<float>(size * size, i % 2 == 1 ? 0.9f : 0.1f));
    if (!array.ok() || !ailab::imaging::WriteNpy(path, *array).ok()) Die("array not written");
    examples.push_back({path, i % 2, absl::StrCat("i", i)});
  }
  ailab::torch::TrainingOptions options;
  options.architecture = "resnet18";
  options.image_size = size;
  options.num_classes = 2;
  options.batch_size = 4;
  options.max_epochs = 1;
  options.early_stopping_patience = 0;
  options.threads = 2;
  options.device = "cpu";
  auto result = ailab::torch::Train(options, examples, examples, dir, std::nullopt, {});
  if (!result.ok()) Die(result.status().ToString());
  return result->torchscript_path;
}

class FakeTraining : public training::TrainingService::Service {
 public:
  FakeTraining(std::string blob, int size) : blob_(std::move(blob)), size_(size) {}
  grpc::Status GetModel(grpc::ServerContext*, const training::GetModelRequest* request,
                        training::Model* model) override {
    if (request->name() != kModel) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no model");
    model->set_name(kModel);
    model->set_use_case(kUseCase);
    model->add_classes("absent");
    model->add_classes("present");
    model->set_image_size(size_);
    model->set_torchscript_blob(blob_);
    return grpc::Status::OK;
  }

 private:
  std::string blob_;
  int size_;
};

class FakeCatalog : public ailab::catalog::v1::CatalogService::Service {
 public:
  grpc::Status GetUseCase(grpc::ServerContext*, const ailab::catalog::v1::GetUseCaseRequest* request,
                          ailab::catalog::v1::UseCase* use_case) override {
    if (request->name() != kUseCase) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no use case");
    use_case->set_name(kUseCase);
    use_case->set_task_kind(ailab::catalog::v1::UseCase::BINARY_CLASSIFICATION);
    auto* element = use_case->add_data_elements();
    auto* absent = element->add_allowed_values();
    absent->set_value("absent");
    absent->set_report_text("No finding.");
    auto* present = element->add_allowed_values();
    present->set_value("present");
    present->set_report_text("Finding present.");
    return grpc::Status::OK;
  }
};

class FakeIngest : public ailab::ingest::v1::IngestService::Service {
 public:
  FakeIngest(std::string blob, int size) : blob_(std::move(blob)), size_(size) {}
  grpc::Status GetInstance(grpc::ServerContext*, const ailab::ingest::v1::GetInstanceRequest* request,
                           ailab::ingest::v1::Instance* instance) override {
    if (request->name() != kInstance) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no instance");
    }
    instance->set_name(kInstance);
    instance->set_study_date("2025-11-02");
    instance->set_array_blob(blob_);
    instance->set_array_ready(true);
    instance->add_array_shape(size_);
    instance->add_array_shape(size_);
    return grpc::Status::OK;
  }

 private:
  std::string blob_;
  int size_;
};

// Runs `clients` threads that each send `requests` Predict calls; returns predictions
// per second.
double MeasureThroughput(const std::string& address, int clients, int requests) {
  auto channel = ailab::rpc::Connect(address);
  auto stub = inference::InferenceService::NewStub(channel);
  inference::PredictRequest request;
  request.set_model(kModel);
  request.set_instance(kInstance);
  auto predict = [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
    inference::Prediction prediction;
    grpc::Status status = stub->Predict(&context, request, &prediction);
    if (!status.ok()) Die(status.error_message());
  };
  // Loads the model and warms the service before timing.
  for (int i = 0; i < 3; ++i) predict();

  std::vector<std::thread> threads;
  Clock::time_point begin = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      for (int i = 0; i < requests; ++i) predict();
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  return clients * requests / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const int clients = IntArgument(argc, argv, "clients", 16);
  const int requests = IntArgument(argc, argv, "requests", 40);
  const int size = IntArgument(argc, argv, "size", 128);
  const int batch = IntArgument(argc, argv, "batch", 16);
  const int threads = IntArgument(argc, argv, "threads", 2);
  ailab::log::SetLevel("warn");

  ailab::testing::TempDir work;
  ailab::testing::TempDir blob_root;
  ailab::testing::ScratchDatabase database;
  auto blobs = ailab::blob::BlobStore::Open(blob_root.path());
  if (!blobs.ok()) Die(blobs.status().ToString());
  auto model_blob = blobs->PutFile(TrainModel(work.path(), size));
  auto array_blob = blobs->Put(EncodeArray(size, 0.9f));
  if (!model_blob.ok() || !array_blob.ok()) Die("blobs not stored");

  FakeTraining training_fake(*model_blob, size);
  FakeCatalog catalog_fake;
  FakeIngest ingest_fake(*array_blob, size);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&training_fake);
  builder.RegisterService(&catalog_fake);
  builder.RegisterService(&ingest_fake);
  std::unique_ptr<grpc::Server> fakes = builder.BuildAndStart();
  if (port == 0) Die("fake servers did not start");
  const std::string fake = absl::StrCat("127.0.0.1:", port);

  auto run = [&](int max_batch_size) {
    auto process = ailab::testing::ServiceProcess::Start(
        "ailab-inference",
        {absl::StrCat("--database_url=", database.url()),
         absl::StrCat("--blob_root=", blob_root.path()), absl::StrCat("--training_address=", fake),
         absl::StrCat("--catalog_address=", fake), absl::StrCat("--ingest_address=", fake),
         absl::StrCat("--torch_threads=", threads), "--torch_device=cpu",
         absl::StrCat("--max_batch_size=", max_batch_size), "--log_level=warn"});
    if (!process.ok()) Die(process.status().ToString());
    double throughput = MeasureThroughput((*process)->address(), clients, requests);
    (void)(*process)->Stop();
    return throughput;
  };
  const double batched = run(batch);
  const double unbatched = run(1);
  std::printf("FIGURE batched_per_s %.3f\n", batched);
  std::printf("FIGURE unbatched_per_s %.3f\n", unbatched);
  fakes->Shutdown();
  return 0;
}
