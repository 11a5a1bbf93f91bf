#include "ailab/rpc/status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "ailab/status/status.h"
#include "google/rpc/status.pb.h"

namespace ailab::rpc {
namespace {

// The message and ErrorInfo values travel in trailing metadata, which the receiving side
// rejects above GRPC_ARG_MAX_METADATA_SIZE (8 KiB by default). A request with a long
// invalid value would otherwise turn its INVALID_ARGUMENT into the client's
// RESOURCE_EXHAUSTED, so long texts keep their start and their end (where messages
// state what to do next).
constexpr size_t kMaxMessageBytes = 1024;
constexpr size_t kMaxMetadataValueBytes = 256;

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Moves `index` back, or forward, to the start of a UTF-8 sequence, so that a cut never
// splits one.
size_t CharacterStartBefore(absl::string_view text, size_t index) {
  while (index > 0 && index < text.size() && IsContinuationByte(text[index])) --index;
  return index;
}
size_t CharacterStartAfter(absl::string_view text, size_t index) {
  while (index < text.size() && IsContinuationByte(text[index])) ++index;
  return index;
}

std::string Shorten(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  constexpr absl::string_view kGap = " [...] ";
  const size_t keep = max_bytes - kGap.size();
  const size_t head = CharacterStartBefore(text, keep * 2 / 3);
  const size_t tail = CharacterStartAfter(text, text.size() - (keep - keep * 2 / 3));
  return absl::StrCat(text.substr(0, head), kGap, text.substr(tail));
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;

  std::string message = Shorten(status.message(), kMaxMessageBytes);
  if (message.empty()) {
    message = absl::StrCat("request failed with ", absl::StatusCodeToString(status.code()));
  }

  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    auto* any = details.add_details();
    any->set_type_url(std::string(type_url));
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad_request;
    if (type_url == kErrorInfoTypeUrl && info.ParseFromString(std::string(payload))) {
      for (auto& [key, value] : *info.mutable_metadata()) {
        value = Shorten(value, kMaxMetadataValueBytes);
      }
      any->set_value(info.SerializeAsString());
    } else if (type_url == kBadRequestTypeUrl &&
               bad_request.ParseFromString(std::string(payload))) {
      for (auto& violation : *bad_request.mutable_field_violations()) {
        violation.set_description(Shorten(violation.description(), kMaxMessageBytes));
      }
      any->set_value(bad_request.SerializeAsString());
    } else {
      any->set_value(std::string(payload));
    }
  });
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      result.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return result;
}

}  // namespace ailab::rpc
