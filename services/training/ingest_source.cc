// InstanceSource over the ingest service's ListInstances.
#include "absl/strings/str_cat.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "data_sources.h"

namespace ailab::training {
namespace {

namespace ingest = ::ailab::ingest::v1;

constexpr absl::Duration kCallTimeout = absl::Seconds(60);
constexpr int kPageSize = 1000;

// Maps the ingest service's split to the manifest's, by name, so that the two enums
// need not share numbers.
v1::DataSplit ToDataSplit(const std::string& name) {
  v1::DataSplit split = v1::DATA_SPLIT_UNSPECIFIED;
  if (!v1::DataSplit_Parse(name, &split)) return v1::DATA_SPLIT_UNSPECIFIED;
  return split;
}

class IngestInstanceSource : public InstanceSource {
 public:
  explicit IngestInstanceSource(const std::string& address)
      : address_(address), stub_(ingest::IngestService::NewStub(rpc::Connect(address))) {}

  absl::StatusOr<std::vector<InstanceRecord>> ListInstances(const std::string& dataset) override {
    std::vector<InstanceRecord> records;
    std::string page_token;
    do {
      ingest::ListInstancesRequest request;
      request.set_parent(dataset);
      request.set_page_size(kPageSize);
      request.set_page_token(page_token);
      ingest::ListInstancesResponse response;
      grpc::ClientContext context;
      rpc::SetTimeout(context, kCallTimeout);
      rpc::AddInternalToken(context);
      grpc::Status status = stub_->ListInstances(&context, request, &response);
      if (!status.ok()) {
        return Annotate(rpc::FromGrpcStatus(status),
                        absl::StrCat("ingest service ", address_, " ListInstances"));
      }
      for (const ingest::Instance& instance : response.instances()) {
        InstanceRecord record;
        record.name = instance.name();
        // An array that is still being prepared does not count as prepared.
        if (instance.array_ready()) record.array_blob = instance.array_blob();
        record.array_shape.assign(instance.array_shape().begin(), instance.array_shape().end());
        record.split = ToDataSplit(ingest::DataSplit_Name(instance.split()));
        records.push_back(std::move(record));
      }
      page_token = response.next_page_token();
    } while (!page_token.empty());
    return records;
  }

 private:
  std::string address_;
  std::unique_ptr<ingest::IngestService::Stub> stub_;
};

}  // namespace

std::unique_ptr<InstanceSource> MakeIngestInstanceSource(const std::string& address) {
  return std::make_unique<IngestInstanceSource>(address);
}

}  // namespace ailab::training
