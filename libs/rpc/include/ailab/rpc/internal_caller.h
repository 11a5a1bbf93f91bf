// Calls that only the platform's own services may make, such as scoring predictions
// against a challenge's hidden reference labels. Such a call carries the shared secret
// of --internal_token (AILAB_INTERNAL_TOKEN) in the metadata key
// "x-ailab-internal-token"; the receiving service compares it with its own.
//
// With an empty --internal_token the check lets every caller through and logs a warning
// once, which suits a developer's machine but not a hospital install (the Helm chart
// and deploy/start-services.sh always set one).
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"

namespace ailab::rpc {

// Metadata key of the internal token.
inline constexpr char kInternalTokenKey[] = "x-ailab-internal-token";

// Adds this process's --internal_token to `context`; does nothing when it is empty.
void AddInternalToken(grpc::ClientContext& context);

// Returns PERMISSION_DENIED naming `method` unless the call carries this process's
// --internal_token (compared in constant time), or OK when no token is configured.
absl::Status RequireInternalCaller(const grpc::ServerContextBase& context,
                                   absl::string_view method);

// The same check on a token taken from a call's metadata; for tests.
absl::Status CheckInternalToken(absl::string_view expected, absl::string_view received,
                                absl::string_view method);

}  // namespace ailab::rpc
