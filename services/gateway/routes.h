// The gateway's routing table: every gRPC method the HTTP API exposes, with the roles
// allowed to call it and the request field that must name the caller.
//
// A method not in the table (worker-only and service-to-service methods such as
// StartTrainingAttempt or ScoreAgainstReference) has no HTTP route and gets 404.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ailab::gateway {

struct Route {
  // Full method name, "ailab.annotation.v1.AnnotationService/SaveAnnotation".
  std::string method;
  // Roles allowed to call the method; empty means any signed-in user. Administrators
  // may call every method.
  std::vector<std::string> roles;
  // Request field (dotted path for nested messages, for example "training_job.owner")
  // that must equal the caller's user id unless the caller is an administrator. The
  // gateway fills it with the caller when it is empty; empty: no such field.
  std::string caller_field;
  // True for the few methods that need no signed-in user (SignIn).
  bool public_method = false;
  // True for methods whose request carries a whole file as a base64 `bytes` field
  // (Predict on an uploaded DICOM or PNG): their body limit is --max_file_body_bytes.
  bool file_body = false;
};

// Every exposed method, in a stable order.
const std::vector<Route>& Routes();

// The route of `method` ("<service>/<Method>"), or nullptr when it is not exposed.
const Route* FindRoute(absl::string_view method);

// Methods that exist in the protos but must never be reachable over HTTP.
const std::vector<std::string>& InternalMethods();

// The part before "/" of a full method name: "ailab.annotation.v1.AnnotationService".
std::string ServiceOf(absl::string_view method);

// The part after "/": "SaveAnnotation".
std::string MethodNameOf(absl::string_view method);

// True for methods that only read (Get*, List*, Lookup*, Count*, Watch*); the others are
// audited.
bool IsReadOnly(absl::string_view method);

// The API area of a service name, "annotation" for "ailab.annotation.v1.X".
std::string AreaOf(absl::string_view service);

}  // namespace ailab::gateway
