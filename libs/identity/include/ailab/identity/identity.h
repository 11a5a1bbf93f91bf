// Identity adapter: local accounts with Argon2id password hashes, sign-in sessions
// with sliding expiry and revocation, OpenID Connect ID tokens checked against a
// configured JWKS, and the audit log. State lives in the PostgreSQL schema "identity".
//
// The gateway owns an IdentityApi: it calls Authenticate on every request's
// Authorization header, serves ailab.identity.v1.IdentityService from the methods
// below, and records every request with RecordAudit. libargon2, OpenSSL and libpqxx
// errors do not leave this library; every method returns absl::Status.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ailab/identity/v1/identity.pb.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/identity.h"

namespace ailab::identity {

// Argon2id cost. The defaults follow OWASP's 2023 minimum (19 MiB, 2 passes).
struct PasswordParams {
  uint32_t memory_kib = 19456;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

// Returns a PHC string "$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>" with a random
// 16-byte salt.
absl::StatusOr<std::string> HashPassword(absl::string_view password, const PasswordParams& params);

// True when `password` matches `phc`; INVALID_ARGUMENT when `phc` is not an argon2id
// PHC string.
absl::StatusOr<bool> VerifyPassword(absl::string_view password, absl::string_view phc);

// OpenID Connect settings; issuer empty turns single sign-on off.
struct OidcOptions {
  // Expected "iss", exactly.
  std::string issuer;
  // Expected "aud" (a string or one entry of an array).
  std::string audience;
  // JSON Web Key Set as a JSON text (RSA keys for RS256, EC P-256 keys for ES256).
  std::string jwks_json;
  // Claim holding the platform roles (an array of strings); roles not known to the
  // platform are ignored.
  std::string roles_claim = "roles";
  // Roles given to a single sign-on user whose token names none.
  std::vector<std::string> default_roles = {"radiologist"};
  // Allowed clock difference for "exp" and "nbf".
  absl::Duration leeway = absl::Seconds(60);
};

// Claims of a verified ID token.
struct OidcClaims {
  std::string subject;
  std::string email;
  std::string name;
  std::vector<std::string> roles;
  absl::Time expires;
};

// Checks an ID token (compact JWS) against the key set: algorithm RS256 or ES256 only
// ("none" and HS* are refused), key chosen by "kid", signature, iss, aud, exp, nbf.
// UNAUTHENTICATED with a reason naming the failed check.
absl::StatusOr<OidcClaims> VerifyIdToken(absl::string_view token, const OidcOptions& options,
                                         absl::Time now);

struct IdentityOptions {
  // A session ends this long after its last use.
  absl::Duration session_idle_timeout = absl::Hours(8);
  // ... and at the latest this long after sign-in.
  absl::Duration session_max_lifetime = absl::Hours(24);
  PasswordParams password;
  OidcOptions oidc;
  // Sessions are looked up in PostgreSQL at most this often per token; revocation
  // through this process is immediate, through another gateway replica within this time.
  absl::Duration session_cache_ttl = absl::Seconds(5);
};

// The signed-in caller of a request.
struct Principal {
  std::string user_id;
  std::string username;
  std::string display_name;
  std::vector<std::string> roles;
  // Hash of the session token (empty for an OpenID Connect token), for SignOut.
  std::string session_id;
  absl::Time expires;

  // True when `role` is among roles, or the user is an administrator.
  bool HasRole(absl::string_view role) const;
  // The identity passed to services.
  rpc::Identity ToIdentity(absl::string_view request_id, absl::Time expires) const;
};

class IdentityApi {
 public:
  // Migrations of the "identity" schema.
  static std::vector<pg::Migration> Migrations();

  // `pool` (schema "identity", migrated) is not owned and must outlive the result.
  static absl::StatusOr<std::unique_ptr<IdentityApi>> Create(pg::Pool* pool, IdentityOptions options);
  ~IdentityApi();

  // Creates the administrator account `username` with `password` when no
  // administrator exists yet; does nothing otherwise. For the first start.
  absl::Status EnsureAdministrator(absl::string_view username, absl::string_view password);

  // Checks an Authorization header value: "Bearer <session token>" or "Bearer <ID
  // token>". UNAUTHENTICATED (reason AUTH_MISSING, SESSION_EXPIRED, SESSION_REVOKED,
  // TOKEN_INVALID, USER_DISABLED) otherwise.
  absl::StatusOr<Principal> Authenticate(absl::string_view authorization, absl::Time now);

  // IdentityService methods. The gateway has authenticated `caller`; each method
  // checks the caller's role itself (PERMISSION_DENIED).
  absl::StatusOr<v1::SignInResponse> SignIn(const v1::SignInRequest& request, absl::Time now);
  absl::StatusOr<v1::SignOutResponse> SignOut(const Principal& caller, const v1::SignOutRequest& request);
  absl::StatusOr<v1::User> GetCurrentUser(const Principal& caller, const v1::GetCurrentUserRequest& request);
  absl::StatusOr<v1::User> CreateUser(const Principal& caller, const v1::CreateUserRequest& request);
  absl::StatusOr<v1::ListUsersResponse> ListUsers(const Principal& caller, const v1::ListUsersRequest& request);
  absl::StatusOr<v1::LookupUsersResponse> LookupUsers(const Principal& caller,
                                                      const v1::LookupUsersRequest& request);
  absl::StatusOr<v1::User> UpdateUser(const Principal& caller, const v1::UpdateUserRequest& request);
  absl::StatusOr<v1::ChangePasswordResponse> ChangePassword(const Principal& caller,
                                                            const v1::ChangePasswordRequest& request);
  absl::StatusOr<v1::ListAuditEventsResponse> ListAuditEvents(const Principal& caller,
                                                               const v1::ListAuditEventsRequest& request);

  // Queues an audit event; a background thread writes queued events in batches at
  // least every 200 ms. Never blocks on the database.
  void RecordAudit(v1::AuditEvent event);
  // Writes every queued event now.
  absl::Status FlushAudit();

 private:
  class Impl;
  explicit IdentityApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ailab::identity
