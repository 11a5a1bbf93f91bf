#include "fake_servers.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ailab/catalog/v1/catalog.grpc.pb.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"

namespace ailab::annotation::testing {
namespace {

namespace catalog = ::ailab::catalog::v1;
namespace ingest = ::ailab::ingest::v1;

catalog::UseCase::TaskKind ToProto(TaskKind kind) {
  switch (kind) {
    case TaskKind::kBinaryClassification:
      return catalog::UseCase::BINARY_CLASSIFICATION;
    case TaskKind::kMulticlassClassification:
      return catalog::UseCase::MULTICLASS_CLASSIFICATION;
    case TaskKind::kDetection:
      return catalog::UseCase::DETECTION;
    case TaskKind::kSegmentation:
      return catalog::UseCase::SEGMENTATION;
  }
  return catalog::UseCase::TASK_KIND_UNSPECIFIED;
}

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace

class FakeServers::CatalogImpl final : public catalog::CatalogService::Service {
 public:
  explicit CatalogImpl(FakeCatalog* catalog) : catalog_(catalog) {}

  grpc::Status GetUseCase(grpc::ServerContext*, const catalog::GetUseCaseRequest* request,
                          catalog::UseCase* response) override {
    absl::StatusOr<UseCaseInfo> info = catalog_->Get(request->name());
    if (!info.ok()) return ToGrpc(info.status());
    response->set_name(info->name);
    response->set_display_name(info->name);
    response->set_task_kind(ToProto(info->task_kind));
    response->set_state(catalog::UseCase::PUBLISHED);
    catalog::DataElement* element = response->add_data_elements();
    element->set_id("finding");
    element->set_name("Finding");
    for (const std::string& code : info->categories) {
      catalog::AllowedValue* value = element->add_allowed_values();
      value->set_value(code);
      value->set_label(absl::StrCat("Category ", code));
    }
    return grpc::Status::OK;
  }

 private:
  FakeCatalog* catalog_;
};

class FakeServers::IngestImpl final : public ingest::IngestService::Service {
 public:
  explicit IngestImpl(FakeIngest* ingest) : ingest_(ingest) {}

  grpc::Status ListInstances(grpc::ServerContext*, const ingest::ListInstancesRequest* request,
                             ingest::ListInstancesResponse* response) override {
    absl::StatusOr<std::vector<std::string>> names = ingest_->List(request->parent());
    if (!names.ok()) return ToGrpc(names.status());
    int64_t offset = 0;
    if (!request->page_token().empty() && !absl::SimpleAtoi(request->page_token(), &offset)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad page_token");
    }
    int64_t size = request->page_size() == 0 ? 50 : std::min(request->page_size(), 1000);
    const int64_t total = static_cast<int64_t>(names->size());
    for (int64_t i = offset; i < total && i < offset + size; ++i) {
      ingest::Instance* instance = response->add_instances();
      instance->set_name((*names)[i]);
      instance->set_source_file(ingest_->SourceFile((*names)[i]));
      instance->set_has_image(true);
    }
    if (offset + size < total) response->set_next_page_token(absl::StrCat(offset + size));
    response->set_total_size(total);
    return grpc::Status::OK;
  }

  grpc::Status GetInstance(grpc::ServerContext*, const ingest::GetInstanceRequest* request,
                           ingest::Instance* response) override {
    std::vector<std::string> parts = absl::StrSplit(request->name(), '/');
    if (parts.size() != 4) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad name");
    absl::StatusOr<std::vector<std::string>> names =
        ingest_->List(absl::StrCat(parts[0], "/", parts[1]));
    if (!names.ok()) return ToGrpc(names.status());
    if (std::find(names->begin(), names->end(), request->name()) == names->end()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "instance not found");
    }
    response->set_name(request->name());
    response->set_source_file(ingest_->SourceFile(request->name()));
    response->set_has_image(true);
    return grpc::Status::OK;
  }

 private:
  FakeIngest* ingest_;
};

absl::StatusOr<std::unique_ptr<FakeServers>> FakeServers::Start(FakeCatalog* catalog,
                                                                FakeIngest* ingest) {
  std::unique_ptr<FakeServers> servers(new FakeServers());
  servers->catalog_ = std::make_unique<CatalogImpl>(catalog);
  servers->ingest_ = std::make_unique<IngestImpl>(ingest);
  rpc::ServerConfig config;
  config.name = "fake-directories";
  config.listen = "127.0.0.1:0";
  config.shutdown_grace = absl::Seconds(1);
  auto server = rpc::Server::Start(config, {servers->catalog_.get(), servers->ingest_.get()});
  if (!server.ok()) return server.status();
  servers->server_ = *std::move(server);
  return servers;
}

FakeServers::~FakeServers() {
  if (server_ != nullptr) server_->Shutdown();
}

std::string FakeServers::address() const { return absl::StrCat("127.0.0.1:", server_->port()); }

}  // namespace ailab::annotation::testing
