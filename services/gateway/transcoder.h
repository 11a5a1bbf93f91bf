// JSON <-> protobuf for the routes of the table, using the descriptors of every
// linked *_proto library (DescriptorPool::generated_pool()). Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace ailab::gateway {

// Descriptor of a full method name "<service>/<Method>"; nullptr when the pool has
// no such method (its proto library is not linked).
const google::protobuf::MethodDescriptor* FindMethod(absl::string_view method);

// A new, empty message of `descriptor`'s type.
std::unique_ptr<google::protobuf::Message> NewMessage(
    const google::protobuf::Descriptor* descriptor);

// Parses `json` (protobuf's JSON mapping; an empty body is an empty message) into
// `message`. INVALID_ARGUMENT (reason INVALID_JSON) with the parser's message, which
// names the unknown field or the bad value.
absl::Status ParseJson(absl::string_view json, google::protobuf::Message& message);

// Prints `message` in the JSON mapping with lowerCamelCase names.
absl::StatusOr<std::string> PrintJson(const google::protobuf::Message& message);

// Applies the route's caller binding to the string field at `path` (dotted): fills it
// with `user` when empty; PERMISSION_DENIED (CALLER_MISMATCH) when it names someone
// else and `may_act_for_others` is false.
absl::Status BindCallerField(google::protobuf::Message& message, absl::string_view path,
                             absl::string_view user, bool may_act_for_others);

// True when `path` (dotted) names a string field of `descriptor`.
bool HasStringField(const google::protobuf::Descriptor* descriptor, absl::string_view path);

// The resource a request names, for the audit log. It is the first non-empty string
// field among name, parent, use_case, dataset, challenge, model and instance, else the
// "name" of the first set message field, else empty.
std::string ResourceOf(const google::protobuf::Message& message);

// The OpenAPI 3.0 document of every route of the table, with request and response
// schemas from the descriptors, the special routes and a bearer security scheme.
std::string OpenApiJson();

}  // namespace ailab::gateway
