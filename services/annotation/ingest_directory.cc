// InstanceDirectory over the ingest service's gRPC API.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "services/annotation/directories.h"

namespace ailab::annotation {
namespace {

namespace ingest = ::ailab::ingest::v1;

constexpr absl::Duration kCallTimeout = absl::Seconds(30);
// Instances asked for per ListInstances page.
constexpr int kPageSize = 1000;

class GrpcInstanceDirectory : public InstanceDirectory {
 public:
  explicit GrpcInstanceDirectory(const std::string& address)
      : address_(address), stub_(ingest::IngestService::NewStub(rpc::Connect(address))) {}

  absl::StatusOr<std::vector<std::string>> List(const std::string& dataset) override {
    std::vector<std::string> names;
    std::string token;
    do {
      ingest::ListInstancesRequest request;
      request.set_parent(dataset);
      request.set_page_size(kPageSize);
      request.set_page_token(token);
      // Objects without pixel data (reports, presentation states) are not annotated.
      request.set_filter("has_image=true");
      ingest::ListInstancesResponse response;
      grpc::ClientContext context;
      rpc::SetTimeout(context, kCallTimeout);
      rpc::AddInternalToken(context);
      grpc::Status status = stub_->ListInstances(&context, request, &response);
      if (!status.ok()) return CallError(dataset, status);
      for (const ingest::Instance& instance : response.instances()) {
        names.push_back(instance.name());
      }
      token = response.next_page_token();
    } while (!token.empty());
    return names;
  }

 private:
  absl::Status CallError(const std::string& dataset, const grpc::Status& status) {
    absl::Status error = rpc::FromGrpcStatus(status);
    if (error.code() == absl::StatusCode::kNotFound) {
      return NotFound("DATASET_NOT_FOUND",
                      absl::StrCat("dataset \"", dataset,
                                   "\" not found in ingest; list datasets with "
                                   "`ailab dataset list`"),
                      {{"dataset", dataset}});
    }
    if (error.code() == absl::StatusCode::kUnavailable ||
        error.code() == absl::StatusCode::kDeadlineExceeded) {
      return Unavailable("INGEST_UNAVAILABLE",
                         absl::StrCat("ingest service at ", address_,
                                      " did not respond: ", error.message(),
                                      "; check that it runs and --ingest_address"),
                         {{"ingest_address", address_}, {"dataset", dataset}});
    }
    return Annotate(error, absl::StrCat("ingest ListInstances(\"", dataset, "\")"));
  }

  std::string address_;
  std::unique_ptr<ingest::IngestService::Stub> stub_;
};

}  // namespace

std::unique_ptr<InstanceDirectory> MakeGrpcInstanceDirectory(const std::string& address) {
  return std::make_unique<GrpcInstanceDirectory>(address);
}

}  // namespace ailab::annotation
