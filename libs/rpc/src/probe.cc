#include "ailab/rpc/probe.h"

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace ailab::rpc {
namespace {

absl::Status CallFailed(const std::string& target, const grpc::Status& status) {
  return Unavailable("PROBE_FAILED",
                     absl::StrCat("call to ", target, " failed: ", status.error_message()),
                     {{"target", target}});
}

}  // namespace

absl::StatusOr<bool> CheckHealth(const std::string& target, const std::string& service,
                                 absl::Duration timeout) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return CallFailed(target, status);
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

absl::StatusOr<std::vector<std::string>> ListServices(const std::string& target,
                                                      absl::Duration timeout) {
  using grpc::reflection::v1alpha::ServerReflection;
  using grpc::reflection::v1alpha::ServerReflectionRequest;
  using grpc::reflection::v1alpha::ServerReflectionResponse;

  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  auto stream = stub->ServerReflectionInfo(&context);

  ServerReflectionRequest request;
  request.set_list_services("*");
  stream->Write(request);
  stream->WritesDone();

  std::vector<std::string> names;
  ServerReflectionResponse response;
  while (stream->Read(&response)) {
    for (const auto& service : response.list_services_response().service()) {
      names.push_back(service.name());
    }
  }
  grpc::Status status = stream->Finish();
  if (!status.ok()) return CallFailed(target, status);
  return names;
}

}  // namespace ailab::rpc
