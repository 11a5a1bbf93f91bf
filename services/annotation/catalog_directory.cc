// UseCaseDirectory over the catalog's gRPC API.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "ailab/catalog/v1/catalog.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "services/annotation/directories.h"

namespace ailab::annotation {
namespace {

namespace catalog = ::ailab::catalog::v1;

constexpr absl::Duration kCallTimeout = absl::Seconds(10);

class GrpcUseCaseDirectory : public UseCaseDirectory {
 public:
  explicit GrpcUseCaseDirectory(const std::string& address)
      : address_(address), stub_(catalog::CatalogService::NewStub(rpc::Connect(address))) {}

  absl::StatusOr<UseCaseInfo> Get(const std::string& name) override {
    catalog::GetUseCaseRequest request;
    request.set_name(name);
    catalog::UseCase use_case;
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    rpc::AddInternalToken(context);
    grpc::Status status = stub_->GetUseCase(&context, request, &use_case);
    if (!status.ok()) return CallError(name, status);
    return ToInfo(use_case);
  }

 private:
  absl::Status CallError(const std::string& name, const grpc::Status& status) {
    absl::Status error = rpc::FromGrpcStatus(status);
    if (error.code() == absl::StatusCode::kNotFound) {
      return NotFound("USE_CASE_NOT_FOUND",
                      absl::StrCat("use case \"", name,
                                   "\" not found in the catalog; list use cases with "
                                   "`ailab catalog list`"),
                      {{"use_case", name}});
    }
    if (error.code() == absl::StatusCode::kUnavailable ||
        error.code() == absl::StatusCode::kDeadlineExceeded) {
      return Unavailable("CATALOG_UNAVAILABLE",
                         absl::StrCat("catalog service at ", address_,
                                      " did not respond: ", error.message(),
                                      "; check that it runs and --catalog_address"),
                         {{"catalog_address", address_}, {"use_case", name}});
    }
    return Annotate(error, absl::StrCat("catalog GetUseCase(\"", name, "\")"));
  }

  absl::StatusOr<UseCaseInfo> ToInfo(const catalog::UseCase& use_case) {
    UseCaseInfo info;
    info.name = use_case.name();
    switch (use_case.task_kind()) {
      case catalog::UseCase::BINARY_CLASSIFICATION:
        info.task_kind = TaskKind::kBinaryClassification;
        break;
      case catalog::UseCase::MULTICLASS_CLASSIFICATION:
        info.task_kind = TaskKind::kMulticlassClassification;
        break;
      case catalog::UseCase::DETECTION:
        info.task_kind = TaskKind::kDetection;
        break;
      case catalog::UseCase::SEGMENTATION:
        info.task_kind = TaskKind::kSegmentation;
        break;
      default:
        return FailedPrecondition(
            "USE_CASE_WITHOUT_TASK_KIND",
            absl::StrCat("use case \"", use_case.name(),
                         "\" has no task kind; set one in the catalog before annotating"),
            {{"use_case", use_case.name()}});
    }
    if (use_case.data_elements_size() > 0) {
      for (const auto& value : use_case.data_elements(0).allowed_values()) {
        info.categories.push_back(value.value());
      }
    }
    return info;
  }

  std::string address_;
  std::unique_ptr<catalog::CatalogService::Stub> stub_;
};

}  // namespace

std::unique_ptr<UseCaseDirectory> MakeGrpcUseCaseDirectory(const std::string& address) {
  return std::make_unique<GrpcUseCaseDirectory>(address);
}

}  // namespace ailab::annotation
