// Error construction for every library of the platform.
//
// Errors are absl::Status values. Each error made here carries a google.rpc.ErrorInfo
// payload (an UPPER_SNAKE reason, the domain of the component that raised it and the
// values the message names) and, for a bad request field, a google.rpc.BadRequest
// payload. The RPC edge (ailab/rpc/status.h) turns these payloads into gRPC's binary
// error details, so clients see the same reason and metadata.
//
// All functions are thread-safe. SetErrorDomain() is meant to be called once at
// start-up, before other threads run.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/rpc/error_details.pb.h"

namespace ailab {

// Type URLs under which the detail messages are stored as absl::Status payloads.
inline constexpr absl::string_view kErrorInfoTypeUrl = "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr absl::string_view kBadRequestTypeUrl = "type.googleapis.com/google.rpc.BadRequest";

// One named value mentioned by an error message, copied into ErrorInfo.metadata.
using ErrorField = std::pair<absl::string_view, absl::string_view>;

// Sets the domain written into every ErrorInfo, for example "catalog.ailab".
void SetErrorDomain(absl::string_view domain);

// Makes an error with `code`, `message` and an ErrorInfo of `reason` and `metadata`.
// When `field` is not empty a BadRequest naming that request field is attached too.
absl::Status MakeError(absl::StatusCode code, absl::string_view reason, absl::string_view message,
                       std::initializer_list<ErrorField> metadata = {},
                       absl::string_view field = {});

// Shorthands for the codes the services use most.
absl::Status InvalidArgument(absl::string_view reason, absl::string_view field,
                             absl::string_view message,
                             std::initializer_list<ErrorField> metadata = {});
absl::Status NotFound(absl::string_view reason, absl::string_view message,
                      std::initializer_list<ErrorField> metadata = {});
absl::Status AlreadyExists(absl::string_view reason, absl::string_view message,
                           std::initializer_list<ErrorField> metadata = {});
absl::Status FailedPrecondition(absl::string_view reason, absl::string_view message,
                                std::initializer_list<ErrorField> metadata = {});
absl::Status PermissionDenied(absl::string_view reason, absl::string_view message,
                              std::initializer_list<ErrorField> metadata = {});
absl::Status Unavailable(absl::string_view reason, absl::string_view message,
                         std::initializer_list<ErrorField> metadata = {});
absl::Status Internal(absl::string_view reason, absl::string_view message,
                      std::initializer_list<ErrorField> metadata = {});
absl::Status ResourceExhausted(absl::string_view reason, absl::string_view message,
                               std::initializer_list<ErrorField> metadata = {});

// Returns the ErrorInfo payload of `status`, if it has one.
std::optional<google::rpc::ErrorInfo> GetErrorInfo(const absl::Status& status);

// Returns the ErrorInfo reason of `status`, or an empty string.
std::string GetErrorReason(const absl::Status& status);

// Prefixes the message of a non-OK `status` with `context`, keeping code and payloads.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace ailab

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define AILAB_RETURN_IF_ERROR(expr)                 \
  do {                                              \
    if (::absl::Status ailab_status_ = (expr);      \
        !ailab_status_.ok()) {                      \
      return ailab_status_;                         \
    }                                               \
  } while (false)

#define AILAB_STATUS_CONCAT_INNER(a, b) a##b
#define AILAB_STATUS_CONCAT(a, b) AILAB_STATUS_CONCAT_INNER(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, otherwise
// assigns the value to `lhs`, which may be a declaration such as `auto x`.
#define AILAB_ASSIGN_OR_RETURN(lhs, rexpr) \
  AILAB_ASSIGN_OR_RETURN_IMPL(AILAB_STATUS_CONCAT(ailab_statusor_, __LINE__), lhs, rexpr)

#define AILAB_ASSIGN_OR_RETURN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) {                                   \
    return std::move(statusor).status();                  \
  }                                                       \
  lhs = std::move(statusor).value()
