// The identity of the person a call acts for, passed from the gateway to every
// service in signed gRPC metadata.
//
// The gateway authenticates the browser's request, then adds the metadata key
// "x-ailab-identity" with the value
//     v1.<base64url(payload)>.<base64url(HMAC-SHA256(key, "v1." + base64url(payload)))>
// where the payload is the JSON object {"sub": user id, "roles": [...], "exp": unix
// seconds, "rid": request id}. The key is the platform's --internal_token, which every
// service already holds; a service checks the signature and the expiry before it
// trusts the user id and roles.
//
// A call without x-ailab-identity comes from a platform service or an operator's
// tool, and must carry the internal token (rpc::AddInternalToken) unless no
// --internal_token is configured (a developer's machine). Such a call may name a user
// in the older, unsigned "x-ailab-user" key. Every handler of every service checks its
// caller this way (CallerOf, or CheckCaller where the caller's name does not matter),
// so a local account that can reach a service's port cannot call it without the token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace ailab::rpc {

inline constexpr char kIdentityKey[] = "x-ailab-identity";
inline constexpr char kUserKey[] = "x-ailab-user";
inline constexpr char kRequestIdKey[] = "x-request-id";

// Role names.
inline constexpr char kRoleAdministrator[] = "administrator";
inline constexpr char kRoleReviewer[] = "reviewer";
inline constexpr char kRoleDataManager[] = "data_manager";
inline constexpr char kRoleRadiologist[] = "radiologist";
inline constexpr char kRoleParticipant[] = "participant";

// Who a call acts for.
struct Identity {
  // User id ("users/{id}" without the prefix).
  std::string user;
  // Role names, see above.
  std::vector<std::string> roles;
  // The signature stops being valid at this time.
  absl::Time expires = absl::InfinitePast();
  // Request id from the gateway, for logs.
  std::string request_id;

  // True when `role` is among roles, or the user is an administrator.
  bool HasRole(absl::string_view role) const;
};

// Returns the metadata value for `identity`, signed with `key`.
std::string SignIdentity(const Identity& identity, absl::string_view key);

// Checks a metadata value: UNAUTHENTICATED (reason IDENTITY_INVALID or
// IDENTITY_EXPIRED) when the format, the signature or the expiry is wrong.
absl::StatusOr<Identity> VerifyIdentity(absl::string_view value, absl::string_view key,
                                        absl::Time now);

// Adds x-ailab-identity for `identity`, signed with this process's --internal_token.
void AddIdentity(grpc::ClientContext& context, const Identity& identity);

// The caller of a call, as a service sees it.
struct CallerInfo {
  // The person the call acts for; nullopt for a trusted platform service acting for
  // no one.
  std::optional<Identity> identity;
  // True when the call carried this process's internal token (or none is
  // configured), so it comes from the platform itself.
  bool internal = false;
};

// Reads x-ailab-identity (verified with --internal_token), else x-ailab-user with the
// rules above. UNAUTHENTICATED when a signature is wrong or expired, or when a call
// without a signed identity lacks the internal token while one is configured
// (reason USER_UNSIGNED when it names a user, CALLER_UNKNOWN when it does not).
absl::StatusOr<CallerInfo> CallerOf(const grpc::ServerContextBase& context);

// Runs CallerOf's check for handlers that do not need the caller's name, and returns
// OK or the UNAUTHENTICATED status to send back.
grpc::Status CheckCaller(const grpc::ServerContextBase& context);

}  // namespace ailab::rpc
