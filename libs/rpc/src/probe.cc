#include "ailab/rpc/probe.h"

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"

namespace ailab::rpc {
namespace {

using google::protobuf::internal::WireFormatLite;

absl::Status CallFailed(const std::string& target, const grpc::Status& status) {
  return Unavailable("PROBE_FAILED",
                     absl::StrCat("call to ", target, " failed: ", status.error_message()),
                     {{"target", target}});
}

// The reflection messages are encoded by hand because gRPC's reflection server library,
// linked into every service, already registers generated classes under the same names.
// Request: ServerReflectionRequest{list_services (field 7) = "*"}.
std::string ListServicesRequest() {
  std::string bytes;
  bytes.push_back(static_cast<char>((7 << 3) | 2));
  bytes.push_back(1);
  bytes.push_back('*');
  return bytes;
}

// Reads the length-delimited field `field` of `message` (all occurrences).
std::vector<std::string> LengthDelimitedFields(const std::string& message, int field) {
  std::vector<std::string> values;
  google::protobuf::io::CodedInputStream input(
      reinterpret_cast<const uint8_t*>(message.data()), static_cast<int>(message.size()));
  while (uint32_t tag = input.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == field &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::string value;
      if (!WireFormatLite::ReadBytes(&input, &value)) break;
      values.push_back(std::move(value));
    } else if (!WireFormatLite::SkipField(&input, tag)) {
      break;
    }
  }
  return values;
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
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::CompletionQueue queue;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  queue.Next(&tag, &ok);

  std::string request = ListServicesRequest();
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  call->WriteLast(request_buffer, grpc::WriteOptions(), reinterpret_cast<void*>(2));
  queue.Next(&tag, &ok);

  std::vector<std::string> names;
  grpc::ByteBuffer response_buffer;
  call->Read(&response_buffer, reinterpret_cast<void*>(3));
  queue.Next(&tag, &ok);
  if (ok) {
    std::vector<grpc::Slice> slices;
    (void)response_buffer.Dump(&slices);
    std::string response;
    for (const auto& s : slices) response.append(reinterpret_cast<const char*>(s.begin()), s.size());
    // ServerReflectionResponse.list_services_response (6) -> service (1) -> name (1).
    for (const auto& list : LengthDelimitedFields(response, 6)) {
      for (const auto& service : LengthDelimitedFields(list, 1)) {
        for (const auto& name : LengthDelimitedFields(service, 1)) names.push_back(name);
      }
    }
  }

  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  if (!status.ok()) return CallFailed(target, status);
  return names;
}

}  // namespace ailab::rpc
