// Tests of the ailab-inference binary over gRPC with a real TorchScript model. The
// test trains a tiny ResNet-18 for one epoch with ailab::torch::Train and puts the
// file in a temporary blob store. Fake training, catalog and ingest servers serve the
// model, its use case and an instance.
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/blob/blob_store.h"
#include "ailab/catalog/v1/catalog.grpc.pb.h"
#include "ailab/imaging/npy.h"
#include "ailab/imaging/png.h"
#include "ailab/inference/v1/inference.grpc.pb.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/torch/trainer.h"
#include "ailab/training/v1/training.grpc.pb.h"
#include "catch2/catch.hpp"
#include "fixtures.h"
#include "grpcpp/server_builder.h"

namespace ailab::inference {
namespace {

constexpr int kSize = 32;

// Writes a size x size .npy of `value` and returns its path.
std::string WriteArray(const std::string& dir, const std::string& name, float value) {
  std::vector<float> pixels(kSize * kSize, value);
  auto array = imaging::Array::FromFloat({kSize, kSize}, pixels);
  const std::string path = absl::StrCat(dir, "/", name, ".npy");
  absl::Status written = imaging::WriteNpy(path, *array);
  if (!written.ok()) throw std::runtime_error(written.ToString());
  return path;
}

// Trains one epoch on 8 dark and bright images and returns the TorchScript path.
std::string TrainTinyModel(const std::string& dir) {
  std::vector<torch::Example> examples;
  for (int i = 0; i < 8; ++i) {
    const int label = i % 2;
    examples.push_back(
        {WriteArray(dir, absl::StrCat("train", i), label == 1 ? 0.9f : 0.1f), label,
         absl::StrCat("i", i)});
  }
  torch::TrainingOptions options;
  options.architecture = "resnet18";
  options.image_size = kSize;
  options.num_classes = 2;
  options.batch_size = 4;
  options.max_epochs = 1;
  options.early_stopping_patience = 0;
  options.threads = 1;
  options.device = "cpu";
  auto result = torch::Train(options, examples, examples, dir, std::nullopt, {});
  if (!result.ok()) throw std::runtime_error(result.status().ToString());
  return result->torchscript_path;
}

class FakeTraining : public training::v1::TrainingService::Service {
 public:
  explicit FakeTraining(std::string blob) : blob_(std::move(blob)) {}
  grpc::Status GetModel(grpc::ServerContext*, const training::v1::GetModelRequest* request,
                        training::v1::Model* model) override {
    if (request->name() != "models/tiny") {
      return rpc::ToGrpcStatus(NotFound("MODEL_NOT_FOUND", "model not found"));
    }
    model->set_name("models/tiny");
    model->set_use_case("useCases/pneumothorax");
    model->add_classes("absent");
    model->add_classes("present");
    model->set_image_size(kSize);
    model->set_torchscript_blob(blob_);
    return grpc::Status::OK;
  }

 private:
  std::string blob_;
};

class FakeCatalog : public catalog::v1::CatalogService::Service {
 public:
  grpc::Status GetUseCase(grpc::ServerContext*, const catalog::v1::GetUseCaseRequest* request,
                          catalog::v1::UseCase* use_case) override {
    if (request->name() != "useCases/pneumothorax") {
      return rpc::ToGrpcStatus(NotFound("USE_CASE_NOT_FOUND", "use case not found"));
    }
    use_case->set_name(request->name());
    use_case->set_task_kind(catalog::v1::UseCase::BINARY_CLASSIFICATION);
    auto* element = use_case->add_data_elements();
    auto* absent = element->add_allowed_values();
    absent->set_value("absent");
    absent->set_report_text("No pneumothorax is seen.");
    auto* present = element->add_allowed_values();
    present->set_value("present");
    present->set_report_text("A pneumothorax is present.");
    return grpc::Status::OK;
  }
};

class FakeIngest : public ingest::v1::IngestService::Service {
 public:
  explicit FakeIngest(std::string array_blob) : array_blob_(std::move(array_blob)) {}
  grpc::Status GetInstance(grpc::ServerContext*, const ingest::v1::GetInstanceRequest* request,
                           ingest::v1::Instance* instance) override {
    if (request->name() != "datasets/d/instances/i1") {
      return rpc::ToGrpcStatus(NotFound("INSTANCE_NOT_FOUND", "instance not found"));
    }
    instance->set_name(request->name());
    instance->set_study_date("2025-11-02");
    instance->set_array_blob(array_blob_);
    instance->set_array_ready(true);
    instance->add_array_shape(kSize);
    instance->add_array_shape(kSize);
    return grpc::Status::OK;
  }

 private:
  std::string array_blob_;
};

TEST_CASE("ailab-inference: TorchScript model over gRPC") {
  ailab::testing::TempDir work;
  ailab::testing::TempDir blob_root;
  ailab::testing::ScratchDatabase database;
  const std::string torchscript = TrainTinyModel(work.path());
  auto blobs = blob::BlobStore::Open(blob_root.path());
  REQUIRE(blobs.ok());
  auto model_blob = blobs->PutFile(torchscript);
  REQUIRE(model_blob.ok());
  auto array_bytes = imaging::EncodeNpy(*imaging::Array::FromFloat(
      {kSize, kSize}, std::vector<float>(kSize * kSize, 0.9f)));
  REQUIRE(array_bytes.ok());
  auto array_blob = blobs->Put(*array_bytes);
  REQUIRE(array_blob.ok());

  FakeTraining training(*model_blob);
  FakeCatalog catalog;
  FakeIngest ingest(*array_blob);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&training);
  builder.RegisterService(&catalog);
  builder.RegisterService(&ingest);
  std::unique_ptr<grpc::Server> fakes = builder.BuildAndStart();
  REQUIRE(port > 0);
  const std::string fake = absl::StrCat("127.0.0.1:", port);

  auto process = ailab::testing::ServiceProcess::Start(
      "ailab-inference",
      {absl::StrCat("--database_url=", database.url()), absl::StrCat("--blob_root=", blob_root.path()),
       absl::StrCat("--training_address=", fake), absl::StrCat("--catalog_address=", fake),
       absl::StrCat("--ingest_address=", fake), "--torch_threads=1", "--torch_device=cpu"});
  REQUIRE(process.ok());
  auto stub = v1::InferenceService::NewStub(rpc::Connect((*process)->address()));
  auto call_predict = [&](const v1::PredictRequest& request) -> absl::StatusOr<v1::Prediction> {
    grpc::ClientContext context;
    rpc::SetTimeout(context, absl::Seconds(120));
    v1::Prediction prediction;
    grpc::Status status = stub->Predict(&context, request, &prediction);
    if (!status.ok()) return rpc::FromGrpcStatus(status);
    return prediction;
  };

  // An instance with a prepared array, recorded with its study date.
  v1::PredictRequest request;
  request.set_model("models/tiny");
  request.set_instance("datasets/d/instances/i1");
  auto from_instance = call_predict(request);
  REQUIRE(from_instance.ok());
  REQUIRE(from_instance->probabilities_size() == 2);
  const double sum =
      from_instance->probabilities(0).probability() + from_instance->probabilities(1).probability();
  CHECK(sum == Approx(1.0).margin(1e-5));
  CHECK(from_instance->study_date() == "2025-11-02");
  CHECK(absl::StartsWith(from_instance->name(), "predictions/"));
  CHECK((from_instance->report_text() == "A pneumothorax is present." ||
         from_instance->report_text() == "No pneumothorax is seen."));

  // The same image as a PNG upload gives the same probabilities.
  std::vector<uint8_t> png_pixels(kSize * kSize, static_cast<uint8_t>(0.9 * 255 + 0.5));
  auto png = imaging::EncodePng8(png_pixels, kSize, kSize);
  REQUIRE(png.ok());
  v1::PredictRequest upload;
  upload.set_model("models/tiny");
  upload.set_png(*png);
  upload.set_file_name("bright.png");
  auto from_png = call_predict(upload);
  REQUIRE(from_png.ok());
  CHECK(from_png->source() == v1::Prediction::UPLOADED_PNG);
  CHECK(from_png->probabilities(1).probability() ==
        Approx(from_instance->probabilities(1).probability()).margin(0.02));

  // Review over the wire, then list the reviewed predictions.
  grpc::ClientContext review_context;
  v1::ReviewPredictionRequest review;
  review.set_name(from_instance->name());
  review.set_state(v1::Review::CONFIRMED);
  review.set_reviewer("dr-lee");
  v1::Prediction reviewed;
  REQUIRE(stub->ReviewPrediction(&review_context, review, &reviewed).ok());
  grpc::ClientContext list_context;
  v1::ListPredictionsRequest list;
  list.set_model("models/tiny");
  list.set_reviewed(true);
  v1::ListPredictionsResponse listed;
  REQUIRE(stub->ListPredictions(&list_context, list, &listed).ok());
  REQUIRE(listed.predictions_size() == 1);
  CHECK(listed.predictions(0).name() == from_instance->name());
  CHECK(listed.predictions(0).study_date() == "2025-11-02");

  // Errors carry the service's domain and reason.
  request.set_model("models/missing");
  auto missing = call_predict(request);
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  upload.set_png("definitely not a png");
  auto bad_png = call_predict(upload);
  CHECK(bad_png.status().code() == absl::StatusCode::kInvalidArgument);
  request.set_model("tiny");
  auto bad_name = call_predict(request);
  CHECK(bad_name.status().code() == absl::StatusCode::kInvalidArgument);
  auto info = GetErrorInfo(bad_name.status());
  REQUIRE(info.has_value());
  CHECK(info->domain() == "inference.ailab");
  CHECK(info->reason() == "INVALID_NAME");

  CHECK((*process)->Stop().ok());
  fakes->Shutdown();
}

}  // namespace
}  // namespace ailab::inference
