#include "services/inference/directories.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ailab/catalog/v1/catalog.grpc.pb.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/training/v1/training.grpc.pb.h"

namespace ailab::inference {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(30);

// Converts the status of a call to another service, naming the call.
absl::Status CallError(const grpc::Status& status, absl::string_view call) {
  return Annotate(rpc::FromGrpcStatus(status), call);
}

class GrpcModelDirectory : public ModelDirectory {
 public:
  explicit GrpcModelDirectory(std::shared_ptr<grpc::Channel> channel)
      : stub_(training::v1::TrainingService::NewStub(std::move(channel))) {}

  absl::StatusOr<ModelInfo> GetModel(const std::string& name) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    rpc::AddInternalToken(context);
    training::v1::GetModelRequest request;
    request.set_name(name);
    training::v1::Model model;
    grpc::Status status = stub_->GetModel(&context, request, &model);
    if (!status.ok()) return CallError(status, "training service GetModel");
    ModelInfo info;
    info.name = model.name();
    info.display_name = model.display_name();
    info.use_case = model.use_case();
    info.classes.assign(model.classes().begin(), model.classes().end());
    info.image_size = model.image_size();
    info.torchscript_blob = model.torchscript_blob();
    return info;
  }

 private:
  std::unique_ptr<training::v1::TrainingService::Stub> stub_;
};

class GrpcUseCaseDirectory : public UseCaseDirectory {
 public:
  explicit GrpcUseCaseDirectory(std::shared_ptr<grpc::Channel> channel)
      : stub_(catalog::v1::CatalogService::NewStub(std::move(channel))) {}

  absl::StatusOr<UseCaseInfo> GetUseCase(const std::string& name) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    rpc::AddInternalToken(context);
    catalog::v1::GetUseCaseRequest request;
    request.set_name(name);
    catalog::v1::UseCase use_case;
    grpc::Status status = stub_->GetUseCase(&context, request, &use_case);
    if (!status.ok()) return CallError(status, "catalog service GetUseCase");
    UseCaseInfo info;
    info.name = use_case.name();
    info.binary = use_case.task_kind() == catalog::v1::UseCase::BINARY_CLASSIFICATION;
    if (use_case.modality() != catalog::v1::UseCase::MODALITY_UNSPECIFIED) {
      info.modality = catalog::v1::UseCase::Modality_Name(use_case.modality());
    }
    if (use_case.data_elements_size() > 0) {
      for (const auto& value : use_case.data_elements(0).allowed_values()) {
        info.categories.push_back({value.value(), value.label(), value.report_text()});
      }
    }
    return info;
  }

 private:
  std::unique_ptr<catalog::v1::CatalogService::Stub> stub_;
};

class GrpcInstanceDirectory : public InstanceDirectory {
 public:
  explicit GrpcInstanceDirectory(std::shared_ptr<grpc::Channel> channel)
      : stub_(ingest::v1::IngestService::NewStub(std::move(channel))) {}

  absl::StatusOr<InstanceInfo> GetInstance(const std::string& name) override {
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    rpc::AddInternalToken(context);
    ingest::v1::GetInstanceRequest request;
    request.set_name(name);
    ingest::v1::Instance instance;
    grpc::Status status = stub_->GetInstance(&context, request, &instance);
    if (!status.ok()) return CallError(status, "ingest service GetInstance");
    InstanceInfo info;
    info.name = instance.name();
    info.study_date = instance.study_date();
    // An array that is still being prepared is not used.
    if (instance.array_ready()) info.array_blob = instance.array_blob();
    info.array_size = instance.array_shape_size() > 0
                          ? static_cast<int>(instance.array_shape(instance.array_shape_size() - 1))
                          : 0;
    info.dicom_blob = instance.dicom_blob();
    info.modality = instance.modality();
    info.body_part = instance.body_part();
    return info;
  }

 private:
  std::unique_ptr<ingest::v1::IngestService::Stub> stub_;
};

}  // namespace

std::unique_ptr<ModelDirectory> NewGrpcModelDirectory(std::shared_ptr<grpc::Channel> channel) {
  return std::make_unique<GrpcModelDirectory>(std::move(channel));
}

std::unique_ptr<UseCaseDirectory> NewGrpcUseCaseDirectory(std::shared_ptr<grpc::Channel> channel) {
  return std::make_unique<GrpcUseCaseDirectory>(std::move(channel));
}

std::unique_ptr<InstanceDirectory> NewGrpcInstanceDirectory(std::shared_ptr<grpc::Channel> channel) {
  return std::make_unique<GrpcInstanceDirectory>(std::move(channel));
}

}  // namespace ailab::inference
