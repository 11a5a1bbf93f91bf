#include "ailab/status/status.h"

#include <mutex>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace ailab {
namespace {

std::mutex domain_mutex;
std::string& DomainStorage() {
  static std::string* domain = new std::string("ailab");
  return *domain;
}

std::string CurrentDomain() {
  std::lock_guard<std::mutex> lock(domain_mutex);
  return DomainStorage();
}

}  // namespace

void SetErrorDomain(absl::string_view domain) {
  std::lock_guard<std::mutex> lock(domain_mutex);
  DomainStorage() = std::string(domain);
}

absl::Status MakeError(absl::StatusCode code, absl::string_view reason, absl::string_view message,
                       std::initializer_list<ErrorField> metadata, absl::string_view field) {
  absl::Status status(code, message);

  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(CurrentDomain());
  for (const auto& [key, value] : metadata) {
    (*info.mutable_metadata())[std::string(key)] = std::string(value);
  }
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));

  if (!field.empty()) {
    google::rpc::BadRequest bad_request;
    auto* violation = bad_request.add_field_violations();
    violation->set_field(std::string(field));
    violation->set_description(std::string(message));
    status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
  }
  return status;
}

absl::Status InvalidArgument(absl::string_view reason, absl::string_view field,
                             absl::string_view message, std::initializer_list<ErrorField> metadata) {
  return MakeError(absl::StatusCode::kInvalidArgument, reason, message, metadata, field);
}

absl::Status NotFound(absl::string_view reason, absl::string_view message,
                      std::initializer_list<ErrorField> metadata) {
  return MakeError(absl::StatusCode::kNotFound, reason, message, metadata);
}

absl::Status AlreadyExists(absl::string_view reason, absl::string_view message,
                           std::initializer_list<ErrorField> metadata) {
  return MakeError(absl::StatusCode::kAlreadyExists, reason, message, metadata);
}

absl::Status FailedPrecondition(absl::string_view reason, absl::string_view message,
                                std::initializer_list<ErrorField> metadata) {
  return MakeError(absl::StatusCode::kFailedPrecondition, reason, message, metadata);
}

absl::Status PermissionDenied(absl::string_view reason, absl::string_view message,
                              std::initializer_list<ErrorField> metadata) {
  return MakeError(absl::StatusCode::kPermissionDenied, reason, message, metadata);
}

absl::Status Unavailable(absl::string_view reason, absl::string_view message,
                         std::initializer_list<ErrorField> metadata) {
  return MakeError(absl::StatusCode::kUnavailable, reason, message, metadata);
}

absl::Status Internal(absl::string_view reason, absl::string_view message,
                      std::initializer_list<ErrorField> metadata) {
  return MakeError(absl::StatusCode::kInternal, reason, message, metadata);
}

absl::Status ResourceExhausted(absl::string_view reason, absl::string_view message,
                               std::initializer_list<ErrorField> metadata) {
  return MakeError(absl::StatusCode::kResourceExhausted, reason, message, metadata);
}

std::optional<google::rpc::ErrorInfo> GetErrorInfo(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoTypeUrl);
  if (!payload.has_value()) return std::nullopt;
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info;
}

std::string GetErrorReason(const absl::Status& status) {
  std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(status);
  return info.has_value() ? info->reason() : std::string();
}

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  absl::Status annotated(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    annotated.SetPayload(type_url, payload);
  });
  return annotated;
}

}  // namespace ailab
