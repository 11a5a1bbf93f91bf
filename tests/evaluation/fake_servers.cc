#include "fake_servers.h"

#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "ailab/blob/blob_store.h"
#include "ailab/annotation/v1/annotation.grpc.pb.h"
#include "ailab/catalog/v1/catalog.grpc.pb.h"
#include "ailab/inference/v1/inference.grpc.pb.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/rpc/status.h"
#include "ailab/training/v1/training.grpc.pb.h"
#include "grpcpp/server_builder.h"

namespace ailab::evaluation::testing {
namespace {

class Training : public training::v1::TrainingService::Service {
 public:
  Training(FakeBackends* backends, std::string blob_root)
      : backends_(backends), blob_root_(std::move(blob_root)) {}
  grpc::Status GetModel(grpc::ServerContext*, const training::v1::GetModelRequest* request,
                        training::v1::Model* response) override {
    absl::StatusOr<ModelInfo> model = backends_->GetModel(request->name());
    if (!model.ok()) return rpc::ToGrpcStatus(model.status());
    response->set_name(model->name);
    response->set_display_name(model->display_name);
    response->set_use_case(model->use_case);
    response->set_owner(model->owner);
    response->set_dataset(model->dataset);
    for (const std::string& code : model->classes) response->add_classes(code);
    absl::StatusOr<ModelArtifacts> artifacts = backends_->GetModelArtifacts(request->name());
    if (!blob_root_.empty() && artifacts.ok()) {
      absl::StatusOr<blob::BlobStore> blobs = blob::BlobStore::Open(blob_root_);
      if (!blobs.ok()) return rpc::ToGrpcStatus(blobs.status());
      absl::StatusOr<std::string> torchscript = blobs->Put(artifacts->torchscript);
      absl::StatusOr<std::string> card = blobs->Put(artifacts->model_card);
      if (!torchscript.ok()) return rpc::ToGrpcStatus(torchscript.status());
      if (!card.ok()) return rpc::ToGrpcStatus(card.status());
      response->set_torchscript_blob(*torchscript);
      response->set_model_card_blob(*card);
    }
    return grpc::Status::OK;
  }

  grpc::Status ListTestPredictions(grpc::ServerContext*,
                                   const training::v1::ListTestPredictionsRequest* request,
                                   training::v1::ListTestPredictionsResponse* response) override {
    auto predictions = backends_->ListTestPredictions(request->parent());
    if (!predictions.ok()) return rpc::ToGrpcStatus(predictions.status());
    for (const auto& [instance, probabilities] : *predictions) {
      training::v1::TestPrediction* prediction = response->add_test_predictions();
      prediction->set_instance(instance);
      for (double p : probabilities) prediction->add_probabilities(static_cast<float>(p));
    }
    return grpc::Status::OK;
  }

 private:
  FakeBackends* backends_;
  std::string blob_root_;
};

class Catalog : public catalog::v1::CatalogService::Service {
 public:
  explicit Catalog(FakeBackends* backends) : backends_(backends) {}
  grpc::Status GetUseCase(grpc::ServerContext*, const catalog::v1::GetUseCaseRequest* request,
                          catalog::v1::UseCase* response) override {
    absl::StatusOr<UseCaseInfo> use_case = backends_->GetUseCase(request->name());
    if (!use_case.ok()) return rpc::ToGrpcStatus(use_case.status());
    response->set_name(use_case->name);
    response->set_task_kind(!use_case->classification ? catalog::v1::UseCase::DETECTION
                            : use_case->binary ? catalog::v1::UseCase::BINARY_CLASSIFICATION
                                               : catalog::v1::UseCase::MULTICLASS_CLASSIFICATION);
    catalog::v1::DataElement* element = response->add_data_elements();
    for (const std::string& code : use_case->categories) {
      element->add_allowed_values()->set_value(code);
    }
    return grpc::Status::OK;
  }

 private:
  FakeBackends* backends_;
};

class Ingest : public ingest::v1::IngestService::Service {
 public:
  explicit Ingest(FakeBackends* backends) : backends_(backends) {}
  grpc::Status GetDataset(grpc::ServerContext*, const ingest::v1::GetDatasetRequest* request,
                          ingest::v1::Dataset* response) override {
    absl::Status found = backends_->CheckDataset(request->name());
    if (!found.ok()) return rpc::ToGrpcStatus(found);
    response->set_name(request->name());
    return grpc::Status::OK;
  }
  grpc::Status ListInstances(grpc::ServerContext*, const ingest::v1::ListInstancesRequest* request,
                             ingest::v1::ListInstancesResponse* response) override {
    Split split = Split::kAll;
    if (request->filter() == "split=TEST") split = Split::kTest;
    if (request->filter() == "split=TRAIN") split = Split::kTrain;
    if (request->filter() == "split=VALIDATION") split = Split::kValidation;
    absl::StatusOr<std::vector<std::string>> names =
        backends_->ListInstances(request->parent(), split);
    if (!names.ok()) return rpc::ToGrpcStatus(names.status());
    // Two instances per page, so that the client has to follow the pages.
    const size_t offset = request->page_token().empty() ? 0 : std::stoul(request->page_token());
    for (size_t i = offset; i < names->size() && i < offset + 2; ++i) {
      response->add_instances()->set_name((*names)[i]);
    }
    if (offset + 2 < names->size()) response->set_next_page_token(absl::StrCat(offset + 2));
    return grpc::Status::OK;
  }

 private:
  FakeBackends* backends_;
};

class Annotation : public annotation::v1::AnnotationService::Service {
 public:
  explicit Annotation(FakeBackends* backends) : backends_(backends) {}
  grpc::Status ExportLabels(grpc::ServerContext*, const annotation::v1::ExportLabelsRequest* request,
                            annotation::v1::ExportLabelsResponse* response) override {
    absl::StatusOr<LabelSet> labels =
        backends_->ExportLabels(request->use_case(), request->dataset(), request->annotator());
    if (!labels.ok()) return rpc::ToGrpcStatus(labels.status());
    for (const std::string& category : labels->categories) response->add_categories(category);
    for (const auto& [instance, index] : labels->labels) {
      annotation::v1::InstanceLabel* label = response->add_labels();
      label->set_instance(instance);
      label->set_category_index(index);
      label->set_label(labels->categories[index]);
    }
    return grpc::Status::OK;
  }

  grpc::Status ScoreAgainstReference(grpc::ServerContext*,
                                     const annotation::v1::ScoreAgainstReferenceRequest* request,
                                     annotation::v1::ScoreAgainstReferenceResponse* response) override {
    std::vector<ScoredPrediction> predictions;
    for (const auto& prediction : request->predictions()) {
      predictions.push_back({prediction.instance(), {prediction.probabilities().begin(),
                                                     prediction.probabilities().end()}});
    }
    absl::StatusOr<ReferenceScore> score = backends_->ScoreAgainstReference(
        request->use_case(), request->dataset(), request->reference_reader(), predictions);
    if (!score.ok()) return rpc::ToGrpcStatus(score.status());
    for (const std::string& category : score->categories) {
      response->mutable_confusion_matrix()->add_categories(category);
    }
    for (int64_t count : score->confusion_counts) {
      response->mutable_confusion_matrix()->add_counts(count);
    }
    response->set_kappa(score->kappa);
    response->set_linear_kappa(score->linear_kappa);
    response->set_auc(score->auc);
    response->set_accuracy(score->accuracy);
    response->set_scored_count(score->scored_count);
    return grpc::Status::OK;
  }

 private:
  FakeBackends* backends_;
};

class Inference : public inference::v1::InferenceService::Service {
 public:
  explicit Inference(FakeBackends* backends) : backends_(backends) {}
  grpc::Status Predict(grpc::ServerContext*, const inference::v1::PredictRequest* request,
                       inference::v1::Prediction* response) override {
    absl::StatusOr<InstanceOutput> output = backends_->Predict(request->model(), request->instance());
    if (!output.ok()) return rpc::ToGrpcStatus(output.status());
    for (double p : output->probabilities) response->add_probabilities()->set_probability(p);
    return grpc::Status::OK;
  }

 private:
  FakeBackends* backends_;
};

}  // namespace

struct FakeServers::Services {
  Services(FakeBackends* backends, const std::string& blob_root)
      : training(backends, blob_root),
        catalog(backends),
        ingest(backends),
        annotation(backends),
        inference(backends) {}
  Training training;
  Catalog catalog;
  Ingest ingest;
  Annotation annotation;
  Inference inference;
};

FakeServers::FakeServers(FakeBackends* backends, const std::string& blob_root)
    : services_(std::make_unique<Services>(backends, blob_root)) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(&services_->training);
  builder.RegisterService(&services_->catalog);
  builder.RegisterService(&services_->ingest);
  builder.RegisterService(&services_->annotation);
  builder.RegisterService(&services_->inference);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) throw std::runtime_error("fake servers did not start");
}

FakeServers::~FakeServers() { server_->Shutdown(); }

std::string FakeServers::address() const { return absl::StrCat("127.0.0.1:", port_); }

}  // namespace ailab::evaluation::testing
