// The gRPC implementation of ailab.inference.v1.InferenceService.
//
// Predict looks up the model (training) and its use case (catalog), both cached for
// a short time, and turns the request's image into a model input (images.h). It runs
// the input through the model's batching queue (model_cache.h), writes the report
// text and records the prediction (store.h). Handlers work with absl::Status and convert it
// with ailab::rpc::ToGrpcStatus at the edge.
//
// InferenceServiceImpl is thread-safe; gRPC calls its handlers concurrently.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ailab/blob/blob_store.h"
#include "ailab/inference/v1/inference.grpc.pb.h"
#include "services/inference/directories.h"
#include "services/inference/model_cache.h"
#include "services/inference/store.h"

namespace ailab::inference {

// Settings of the service.
struct ServiceOptions {
  // How long a model's and a use case's details are reused before being read again.
  absl::Duration directory_cache_ttl = absl::Seconds(30);
};

// Collaborators of the service; none is owned, and all must outlive the service.
struct ServiceDependencies {
  ModelDirectory* models = nullptr;
  UseCaseDirectory* use_cases = nullptr;
  InstanceDirectory* instances = nullptr;
  const blob::BlobStore* blobs = nullptr;
  PredictionStore* store = nullptr;
  ModelCache* model_cache = nullptr;
};

class InferenceServiceImpl final : public v1::InferenceService::Service {
 public:
  InferenceServiceImpl(ServiceDependencies dependencies, ServiceOptions options);

  grpc::Status Predict(grpc::ServerContext* context, const v1::PredictRequest* request,
                       v1::Prediction* response) override;
  grpc::Status GetPrediction(grpc::ServerContext* context, const v1::GetPredictionRequest* request,
                             v1::Prediction* response) override;
  grpc::Status ListPredictions(grpc::ServerContext* context,
                               const v1::ListPredictionsRequest* request,
                               v1::ListPredictionsResponse* response) override;
  grpc::Status ReviewPrediction(grpc::ServerContext* context,
                                const v1::ReviewPredictionRequest* request,
                                v1::Prediction* response) override;
  grpc::Status UpdateReportTemplate(grpc::ServerContext* context,
                                    const v1::UpdateReportTemplateRequest* request,
                                    v1::ReportTemplate* response) override;
  grpc::Status GetReportTemplate(grpc::ServerContext* context,
                                 const v1::GetReportTemplateRequest* request,
                                 v1::ReportTemplate* response) override;

  // The handlers' logic, returning absl::Status; public for tests.
  absl::StatusOr<v1::Prediction> DoPredict(const v1::PredictRequest& request);
  // A review by another user than the earlier reviewer is rejected unless
  // `may_replace_others` (administrators and platform services).
  absl::StatusOr<v1::Prediction> DoReviewPrediction(const v1::ReviewPredictionRequest& request,
                                                    bool may_replace_others = false);
  absl::StatusOr<v1::ListPredictionsResponse> DoListPredictions(
      const v1::ListPredictionsRequest& request);

 private:
  // A model input with what is known about its image.
  struct Input {
    std::vector<float> pixels;
    std::string study_date;
    v1::Prediction::Source source = v1::Prediction::SOURCE_UNSPECIFIED;
    // DICOM Modality and Body Part Examined of the image; empty when unknown (PNG uploads).
    std::string modality;
    std::string body_part;
  };

  absl::StatusOr<ModelInfo> LookUpModel(const std::string& name);
  absl::StatusOr<UseCaseInfo> LookUpUseCase(const std::string& name);
  absl::StatusOr<Input> PrepareInput(const v1::PredictRequest& request, const ModelInfo& model);
  absl::StatusOr<Input> PrepareInstance(const std::string& instance, const ModelInfo& model);
  absl::StatusOr<bool> BlankWhenNegative(const std::string& site, const std::string& use_case);

  ServiceDependencies deps_;
  ServiceOptions options_;

  template <typename T>
  struct Cached {
    T value;
    absl::Time fetch_time;
  };
  std::mutex cache_mutex_;
  std::map<std::string, Cached<ModelInfo>> model_infos_;
  std::map<std::string, Cached<UseCaseInfo>> use_case_infos_;
};

}  // namespace ailab::inference
