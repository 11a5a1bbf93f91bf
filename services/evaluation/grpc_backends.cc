// Backends over the gRPC APIs of training, catalog, ingest, annotation and inference.
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ailab/annotation/v1/annotation.grpc.pb.h"
#include "ailab/blob/blob_store.h"
#include "ailab/catalog/v1/catalog.grpc.pb.h"
#include "ailab/inference/v1/inference.grpc.pb.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/training/v1/training.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "services/evaluation/backends.h"

namespace ailab::evaluation {
namespace {

using ::google::protobuf::util::TimeUtil;

constexpr absl::Duration kCallTimeout = absl::Seconds(60);
// Inference of one image may wait for a model to load.
constexpr absl::Duration kPredictTimeout = absl::Minutes(5);

// Converts the status of a call to another service, naming the service and the call.
absl::Status CallError(const grpc::Status& status, absl::string_view service,
                       const std::string& address, absl::string_view call) {
  absl::Status error = rpc::FromGrpcStatus(status);
  if (error.code() == absl::StatusCode::kUnavailable ||
      error.code() == absl::StatusCode::kDeadlineExceeded) {
    const std::string address_key = absl::StrCat(service, "_address");
    return Unavailable(
        absl::StrCat(absl::AsciiStrToUpper(service), "_UNAVAILABLE"),
        absl::StrCat(service, " service at ", address, " did not respond to ", call, ": ",
                     error.message(), "; check that it runs and --", service, "_address"),
        {{address_key, address}});
  }
  return Annotate(error, absl::StrCat(service, " ", call));
}

class GrpcBackends : public Backends {
 public:
  explicit GrpcBackends(const BackendAddresses& addresses)
      : addresses_(addresses),
        training_(training::v1::TrainingService::NewStub(rpc::Connect(addresses.training))),
        catalog_(catalog::v1::CatalogService::NewStub(rpc::Connect(addresses.catalog))),
        ingest_(ingest::v1::IngestService::NewStub(rpc::Connect(addresses.ingest))),
        annotation_(annotation::v1::AnnotationService::NewStub(rpc::Connect(addresses.annotation))),
        inference_(inference::v1::InferenceService::NewStub(rpc::Connect(addresses.inference))) {}

  absl::StatusOr<ModelInfo> GetModel(const std::string& name) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    rpc::AddInternalToken(context);
    training::v1::GetModelRequest request;
    request.set_name(name);
    training::v1::Model model;
    grpc::Status status = training_->GetModel(&context, request, &model);
    if (!status.ok()) return CallError(status, "training", addresses_.training, "GetModel");
    ModelInfo info;
    info.name = model.name();
    info.display_name = model.display_name();
    info.use_case = model.use_case();
    info.classes.assign(model.classes().begin(), model.classes().end());
    info.owner = model.owner();
    info.dataset = model.dataset();
    return info;
  }

  absl::StatusOr<ModelArtifacts> GetModelArtifacts(const std::string& name) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    rpc::AddInternalToken(context);
    training::v1::GetModelRequest request;
    request.set_name(name);
    training::v1::Model model;
    grpc::Status status = training_->GetModel(&context, request, &model);
    if (!status.ok()) return CallError(status, "training", addresses_.training, "GetModel");

    if (model.torchscript_blob().empty()) {
      return FailedPrecondition("MODEL_HAS_NO_TORCHSCRIPT",
                                absl::StrCat("model \"", name,
                                             "\" has no TorchScript file; publish a model whose "
                                             "training job succeeded"),
                                {{"model", name}});
    }
    if (addresses_.blob_root.empty()) {
      return FailedPrecondition("BLOB_ROOT_NOT_SET",
                                "--blob_root is not set, so model files cannot be read; start "
                                "the evaluation service with the shared blob store's root");
    }
    AILAB_ASSIGN_OR_RETURN(blob::BlobStore blobs, blob::BlobStore::Open(addresses_.blob_root));

    ModelArtifacts artifacts;
    artifacts.info.name = model.name();
    artifacts.info.display_name = model.display_name();
    artifacts.info.use_case = model.use_case();
    artifacts.info.classes.assign(model.classes().begin(), model.classes().end());
    absl::StatusOr<std::string> torchscript = blobs.Get(model.torchscript_blob());
    if (!torchscript.ok()) return Annotate(torchscript.status(), "reading the TorchScript blob");
    artifacts.torchscript = *std::move(torchscript);
    if (!model.model_card_blob().empty()) {
      absl::StatusOr<std::string> card = blobs.Get(model.model_card_blob());
      if (!card.ok()) return Annotate(card.status(), "reading the model card blob");
      artifacts.model_card = *std::move(card);
    } else {
      // Models registered before model cards existed.
      artifacts.model_card = "{}";
    }
    return artifacts;
  }

  absl::StatusOr<std::map<std::string, std::vector<double>>> ListTestPredictions(
      const std::string& model) override {
    std::map<std::string, std::vector<double>> predictions;
    std::string token;
    do {
      grpc::ClientContext context;
      rpc::SetTimeout(context, kCallTimeout);
      rpc::AddInternalToken(context);
      training::v1::ListTestPredictionsRequest request;
      request.set_parent(model);
      request.set_page_size(1000);
      request.set_page_token(token);
      training::v1::ListTestPredictionsResponse response;
      grpc::Status status = training_->ListTestPredictions(&context, request, &response);
      if (!status.ok()) {
        return CallError(status, "training", addresses_.training, "ListTestPredictions");
      }
      for (const auto& prediction : response.test_predictions()) {
        predictions[prediction.instance()].assign(prediction.probabilities().begin(),
                                                  prediction.probabilities().end());
      }
      token = response.next_page_token();
    } while (!token.empty());
    return predictions;
  }

  absl::StatusOr<UseCaseInfo> GetUseCase(const std::string& name) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    rpc::AddInternalToken(context);
    catalog::v1::GetUseCaseRequest request;
    request.set_name(name);
    catalog::v1::UseCase use_case;
    grpc::Status status = catalog_->GetUseCase(&context, request, &use_case);
    if (!status.ok()) return CallError(status, "catalog", addresses_.catalog, "GetUseCase");
    UseCaseInfo info;
    info.name = use_case.name();
    info.binary = use_case.task_kind() == catalog::v1::UseCase::BINARY_CLASSIFICATION;
    info.classification =
        info.binary || use_case.task_kind() == catalog::v1::UseCase::MULTICLASS_CLASSIFICATION;
    if (use_case.data_elements_size() > 0) {
      for (const auto& value : use_case.data_elements(0).allowed_values()) {
        info.categories.push_back(value.value());
      }
    }
    return info;
  }

  absl::Status CheckDataset(const std::string& dataset) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    rpc::AddInternalToken(context);
    ingest::v1::GetDatasetRequest request;
    request.set_name(dataset);
    ingest::v1::Dataset response;
    grpc::Status status = ingest_->GetDataset(&context, request, &response);
    if (!status.ok()) return CallError(status, "ingest", addresses_.ingest, "GetDataset");
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> ListInstances(const std::string& dataset,
                                                         Split split) override {
    std::vector<std::string> names;
    std::string token;
    do {
      grpc::ClientContext context;
      rpc::SetTimeout(context, kCallTimeout);
      rpc::AddInternalToken(context);
      ingest::v1::ListInstancesRequest request;
      request.set_parent(dataset);
      request.set_page_size(1000);
      request.set_page_token(token);
      switch (split) {
        case Split::kAll:
          break;
        case Split::kTrain:
          request.set_filter("split=TRAIN");
          break;
        case Split::kValidation:
          request.set_filter("split=VALIDATION");
          break;
        case Split::kTest:
          request.set_filter("split=TEST");
          break;
      }
      ingest::v1::ListInstancesResponse response;
      grpc::Status status = ingest_->ListInstances(&context, request, &response);
      if (!status.ok()) return CallError(status, "ingest", addresses_.ingest, "ListInstances");
      for (const auto& instance : response.instances()) names.push_back(instance.name());
      token = response.next_page_token();
    } while (!token.empty());
    return names;
  }

  absl::StatusOr<LabelSet> ExportLabels(const std::string& use_case, const std::string& dataset,
                                        const std::string& annotator) override {
    LabelSet set;
    std::string token;
    do {
      grpc::ClientContext context;
      rpc::SetTimeout(context, kCallTimeout);
      rpc::AddInternalToken(context);
      annotation::v1::ExportLabelsRequest request;
      request.set_use_case(use_case);
      request.set_dataset(dataset);
      request.set_annotator(annotator);
      request.set_page_token(token);
      annotation::v1::ExportLabelsResponse response;
      grpc::Status status = annotation_->ExportLabels(&context, request, &response);
      if (!status.ok()) {
        return CallError(status, "annotation", addresses_.annotation, "ExportLabels");
      }
      set.categories.assign(response.categories().begin(), response.categories().end());
      for (const auto& label : response.labels()) {
        set.labels[label.instance()] = label.category_index();
      }
      token = response.next_page_token();
    } while (!token.empty());
    return set;
  }

  absl::StatusOr<ReferenceScore> ScoreAgainstReference(
      const std::string& use_case, const std::string& dataset, const std::string& reference_reader,
      const std::vector<ScoredPrediction>& predictions) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    rpc::AddInternalToken(context);
    annotation::v1::ScoreAgainstReferenceRequest request;
    request.set_use_case(use_case);
    request.set_dataset(dataset);
    request.set_reference_reader(reference_reader);
    for (const ScoredPrediction& prediction : predictions) {
      auto* entry = request.add_predictions();
      entry->set_instance(prediction.instance);
      for (double p : prediction.probabilities) entry->add_probabilities(p);
    }
    annotation::v1::ScoreAgainstReferenceResponse response;
    grpc::Status status = annotation_->ScoreAgainstReference(&context, request, &response);
    if (!status.ok()) {
      return CallError(status, "annotation", addresses_.annotation, "ScoreAgainstReference");
    }
    ReferenceScore score;
    score.categories.assign(response.confusion_matrix().categories().begin(),
                            response.confusion_matrix().categories().end());
    score.confusion_counts.assign(response.confusion_matrix().counts().begin(),
                                  response.confusion_matrix().counts().end());
    score.kappa = response.kappa();
    score.linear_kappa = response.linear_kappa();
    score.auc = response.auc();
    score.accuracy = response.accuracy();
    score.scored_count = response.scored_count();
    return score;
  }

  absl::StatusOr<InstanceOutput> Predict(const std::string& model,
                                         const std::string& instance) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, kPredictTimeout);
    rpc::AddInternalToken(context);
    inference::v1::PredictRequest request;
    request.set_model(model);
    request.set_instance(instance);
    request.set_skip_recording(true);
    inference::v1::Prediction prediction;
    grpc::Status status = inference_->Predict(&context, request, &prediction);
    if (!status.ok()) return CallError(status, "inference", addresses_.inference, "Predict");
    InstanceOutput output;
    for (const auto& entry : prediction.probabilities()) {
      output.probabilities.push_back(entry.probability());
    }
    return output;
  }

  absl::StatusOr<ReviewedPredictions> ListReviewedPredictions(
      const std::string& model, std::optional<absl::Time> start,
      std::optional<absl::Time> end) override {
    ReviewedPredictions result;
    std::string token;
    do {
      grpc::ClientContext context;
      rpc::SetTimeout(context, kCallTimeout);
      rpc::AddInternalToken(context);
      inference::v1::ListPredictionsRequest request;
      request.set_model(model);
      request.set_page_size(1000);
      request.set_page_token(token);
      if (start) {
        *request.mutable_start_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(*start));
      }
      if (end) {
        *request.mutable_end_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(*end));
      }
      inference::v1::ListPredictionsResponse response;
      grpc::Status status = inference_->ListPredictions(&context, request, &response);
      if (!status.ok()) {
        return CallError(status, "inference", addresses_.inference, "ListPredictions");
      }
      for (const auto& prediction : response.predictions()) {
        const auto state = prediction.review().state();
        if (state != inference::v1::Review::CONFIRMED && state != inference::v1::Review::CORRECTED) {
          ++result.unreviewed_count;
          continue;
        }
        ReviewedPrediction reviewed;
        reviewed.name = prediction.name();
        reviewed.study_date = prediction.study_date();
        reviewed.create_time = absl::FromUnixMicros(
            TimeUtil::TimestampToMicroseconds(prediction.create_time()));
        for (const auto& entry : prediction.probabilities()) {
          reviewed.categories.push_back(entry.category());
          reviewed.probabilities.push_back(entry.probability());
        }
        reviewed.predicted_category = prediction.category();
        reviewed.truth_category = state == inference::v1::Review::CORRECTED
                                      ? prediction.review().corrected_category()
                                      : prediction.category();
        result.reviewed.push_back(std::move(reviewed));
      }
      token = response.next_page_token();
    } while (!token.empty());
    return result;
  }

 private:
  BackendAddresses addresses_;
  std::unique_ptr<training::v1::TrainingService::Stub> training_;
  std::unique_ptr<catalog::v1::CatalogService::Stub> catalog_;
  std::unique_ptr<ingest::v1::IngestService::Stub> ingest_;
  std::unique_ptr<annotation::v1::AnnotationService::Stub> annotation_;
  std::unique_ptr<inference::v1::InferenceService::Stub> inference_;
};

}  // namespace

std::unique_ptr<Backends> NewGrpcBackends(const BackendAddresses& addresses) {
  return std::make_unique<GrpcBackends>(addresses);
}

}  // namespace ailab::evaluation
