#include <openssl/rand.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ailab/identity/identity.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "internal.h"

namespace ailab::identity {

bool Principal::HasRole(absl::string_view role) const { return HasRoleIn(roles, role); }

rpc::Identity Principal::ToIdentity(absl::string_view request_id, absl::Time expires) const {
  rpc::Identity identity;
  identity.user = user_id;
  identity.roles = roles;
  identity.expires = expires;
  identity.request_id = std::string(request_id);
  return identity;
}

std::vector<pg::Migration> IdentityApi::Migrations() {
  return {
      {1, "users, sessions and audit events", R"sql(
CREATE TABLE users (
  id text PRIMARY KEY,
  username text NOT NULL UNIQUE CHECK (username = lower(username)),
  display_name text NOT NULL DEFAULT '',
  roles text[] NOT NULL DEFAULT '{}',
  password_hash text,
  provider text NOT NULL DEFAULT 'local',
  oidc_subject text,
  disabled boolean NOT NULL DEFAULT false,
  create_time timestamptz NOT NULL DEFAULT now(),
  last_sign_in_time timestamptz,
  UNIQUE (provider, oidc_subject)
);
CREATE TABLE sessions (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  create_time timestamptz NOT NULL,
  last_used_time timestamptz NOT NULL,
  expire_time timestamptz NOT NULL,
  revoked_time timestamptz
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  time timestamptz NOT NULL,
  user_id text NOT NULL DEFAULT '',
  http_method text NOT NULL DEFAULT '',
  path text NOT NULL DEFAULT '',
  rpc_method text NOT NULL DEFAULT '',
  resource text NOT NULL DEFAULT '',
  http_status integer NOT NULL DEFAULT 0,
  request_id text NOT NULL DEFAULT '',
  client_address text NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_time ON audit_events (time DESC, id DESC);
)sql"},
  };
}


absl::StatusOr<UserRow> IdentityApi::Impl::InsertUser(const std::string& username,
                                                      const std::string& display_name,
                                                      const std::vector<std::string>& roles,
                                                      const std::string& password_hash,
                                                      bool only_without_administrator) {
  AILAB_ASSIGN_OR_RETURN(std::string random, RandomBytes(8));
  const std::string id = absl::BytesToHexString(random);
  return pool_->Query<UserRow>([&](pqxx::work& tx) -> absl::StatusOr<UserRow> {
    if (only_without_administrator) {
      tx.exec("SELECT pg_advisory_xact_lock(hashtext('identity.ensure_administrator'))");
      pqxx::result admins = tx.exec(
          "SELECT 1 FROM users WHERE NOT disabled AND 'administrator' = ANY(roles) LIMIT 1");
      if (!admins.empty()) return UserRow{};
    }
    pqxx::result rows = tx.exec_params(
        absl::StrCat("INSERT INTO users (id, username, display_name, roles, password_hash, "
                     "provider) VALUES ($1, $2, $3, string_to_array($4, ','), $5, $6) "
                     "ON CONFLICT (username) DO NOTHING RETURNING ",
                     UserColumns()),
        id, username, display_name, absl::StrJoin(roles, ","), password_hash, kLocalProvider);
    if (rows.empty()) {
      return AlreadyExists("USERNAME_TAKEN",
                           absl::StrCat("user name \"", username,
                                        "\" is taken; choose another user name"),
                           {{"username", username}});
    }
    return ReadUser(rows[0]);
  });
}

absl::Status IdentityApi::Impl::EnsureAdministrator(absl::string_view username_in,
                                                    absl::string_view password_in) {
  const std::string username = absl::AsciiStrToLower(username_in);
  const std::string password(password_in);
  AILAB_RETURN_IF_ERROR(CheckUsername(username));
  AILAB_RETURN_IF_ERROR(CheckPassword(password, "password"));

  absl::StatusOr<bool> exists = pool_->Query<bool>([&](pqxx::work& tx) -> absl::StatusOr<bool> {
    return !tx.exec("SELECT 1 FROM users WHERE NOT disabled AND 'administrator' = ANY(roles) "
                    "LIMIT 1")
                .empty();
  });
  AILAB_RETURN_IF_ERROR(exists.status());
  if (*exists) return absl::OkStatus();

  AILAB_ASSIGN_OR_RETURN(std::string hash, HashPassword(password, options_.password));
  AILAB_ASSIGN_OR_RETURN(UserRow user, InsertUser(username, username, {rpc::kRoleAdministrator},
                                                  hash, /*only_without_administrator=*/true));
  if (!user.id.empty()) {
    log::Logger("identity")->info("administrator created user={} username={}", user.id,
                                  user.username);
  }
  return absl::OkStatus();
}

absl::StatusOr<IdentityApi::Impl::CachedSession> IdentityApi::Impl::LoadSession(
    const std::string& session_id) {
  return pool_->Query<CachedSession>([&](pqxx::work& tx) -> absl::StatusOr<CachedSession> {
    pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT ", UserColumns("u"), ", ", MicrosOf("s.create_time"), ", ",
                     MicrosOf("s.last_used_time"), ", ", MicrosOf("s.expire_time"),
                     ", s.revoked_time IS NOT NULL FROM sessions s JOIN users u ON "
                     "u.id = s.user_id WHERE s.id = $1"),
        session_id);
    if (rows.empty()) {
      return Unauthenticated("TOKEN_INVALID",
                             "the session token is not valid; sign in again to get a new one");
    }
    const pqxx::row& row = rows[0];
    if (row[kUserColumnCount + 3].as<bool>()) {
      return Unauthenticated("SESSION_REVOKED",
                             "the session was ended (signed out, password changed or account "
                             "disabled); sign in again");
    }
    UserRow user = ReadUser(row);
    if (user.disabled) {
      return Unauthenticated("USER_DISABLED",
                             absl::StrCat("account \"", user.username,
                                          "\" is disabled; ask an administrator to enable it"));
    }
    CachedSession session;
    session.principal = ToPrincipal(user);
    session.principal.session_id = session_id;
    session.create_time = TimeFromField(row[kUserColumnCount + 0]);
    session.last_used_time = TimeFromField(row[kUserColumnCount + 1]);
    session.expire_time = TimeFromField(row[kUserColumnCount + 2]);
    return session;
  });
}

absl::StatusOr<Principal> IdentityApi::Impl::AuthenticateSession(const std::string& token,
                                                                 absl::Time now) {
  const std::string session_id = Sha256Hex(token);
  CachedSession session;
  bool cached = false;
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto found = cache_.find(session_id);
    if (found != cache_.end() && now - found->second.loaded_at < options_.session_cache_ttl &&
        now >= found->second.loaded_at) {
      session = found->second;
      cached = true;
    }
  }
  if (!cached) {
    absl::StatusOr<CachedSession> loaded = LoadSession(session_id);
    if (!loaded.ok()) {
      EvictSession(session_id);
      return loaded.status();
    }
    session = *std::move(loaded);
    session.loaded_at = now;
  }

  if (now >= session.expire_time) {
    EvictSession(session_id);
    return Unauthenticated("SESSION_EXPIRED", "the session has expired; sign in again");
  }

  if (now - session.last_used_time >= kLastUsedWriteInterval) {
    const absl::Time expire_time = std::min(now + options_.session_idle_timeout,
                                            session.create_time + options_.session_max_lifetime);
    absl::Status written = pool_->Run([&](pqxx::work& tx) -> absl::Status {
      tx.exec_params(absl::StrCat("UPDATE sessions SET last_used_time = ", TimeParam(2),
                                  ", expire_time = ", TimeParam(3), " WHERE id = $1"),
                     session_id, absl::ToUnixMicros(now), absl::ToUnixMicros(expire_time));
      return absl::OkStatus();
    });
    if (written.ok()) {
      session.last_used_time = now;
      session.expire_time = expire_time;
    } else {
      // The session stays valid until its stored expiry, and the next request retries.
      log::Logger("identity")->warn("session last use not written user={} error={}",
                                    session.principal.user_id, written.ToString());
    }
  }

  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= kMaxCachedSessions) cache_.clear();
    cache_[session_id] = session;
  }
  Principal principal = session.principal;
  principal.expires = session.expire_time;
  return principal;
}

absl::StatusOr<Principal> IdentityApi::Impl::AuthenticateIdToken(const std::string& token,
                                                                 absl::Time now) {
  if (options_.oidc.issuer.empty()) {
    return Unauthenticated("TOKEN_INVALID",
                           "the bearer token looks like an ID token, but single sign-on is not "
                           "configured; sign in with a user name and password");
  }
  const std::string cache_key = absl::StrCat("oidc:", Sha256Hex(token));
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto found = cache_.find(cache_key);
    if (found != cache_.end() && now - found->second.loaded_at < options_.session_cache_ttl &&
        now >= found->second.loaded_at && now < found->second.expire_time) {
      Principal principal = found->second.principal;
      principal.expires = found->second.expire_time;
      return principal;
    }
  }

  absl::StatusOr<OidcClaims> claims = VerifyIdToken(token, options_.oidc, now);
  if (!claims.ok()) {
    const std::string check = GetErrorReason(claims.status());
    return MakeError(absl::StatusCode::kUnauthenticated, "TOKEN_INVALID",
                     claims.status().message(), {{"check", check}});
  }
  std::vector<std::string> roles = claims->roles;
  if (roles.empty()) roles = options_.oidc.default_roles;
  std::string username = absl::AsciiStrToLower(claims->email.empty() ? claims->subject
                                                                      : claims->email);
  if (!CheckUsername(username).ok()) username.clear();
  std::string display_name = claims->name.empty() ? username : claims->name;
  if (display_name.size() > kMaxDisplayNameLength) display_name.resize(kMaxDisplayNameLength);
  AILAB_ASSIGN_OR_RETURN(std::string random, RandomBytes(8));
  const std::string new_id = absl::BytesToHexString(random);

  AILAB_ASSIGN_OR_RETURN(
      UserRow user, pool_->Query<UserRow>([&](pqxx::work& tx) -> absl::StatusOr<UserRow> {
        // NOTE: the identity provider owns a single sign-on user's roles, so each check
        // of a new token overwrites roles set with UpdateUser.
        pqxx::result existing = tx.exec_params(
            absl::StrCat("UPDATE users SET roles = string_to_array($3, ','), display_name = $4, "
                         "last_sign_in_time = now() WHERE provider = $1 AND oidc_subject = $2 "
                         "RETURNING ",
                         UserColumns()),
            options_.oidc.issuer, claims->subject, absl::StrJoin(roles, ","), display_name);
        if (!existing.empty()) return ReadUser(existing[0]);
        // A user name already taken by another account falls back to the new user id.
        std::string chosen = username;
        if (chosen.empty() ||
            !tx.exec_params("SELECT 1 FROM users WHERE username = $1", chosen).empty()) {
          chosen = absl::StrCat("sso-", new_id);
        }
        pqxx::result inserted = tx.exec_params(
            absl::StrCat("INSERT INTO users (id, username, display_name, roles, provider, "
                         "oidc_subject, last_sign_in_time) VALUES ($1, $2, $3, "
                         "string_to_array($4, ','), $5, $6, now()) RETURNING ",
                         UserColumns()),
            new_id, chosen, display_name, absl::StrJoin(roles, ","), options_.oidc.issuer,
            claims->subject);
        log::Logger("identity")->info("single sign-on user created user={} issuer={}", new_id,
                                      options_.oidc.issuer);
        return ReadUser(inserted[0]);
      }));
  if (user.disabled) {
    return Unauthenticated("USER_DISABLED",
                           absl::StrCat("account \"", user.username,
                                        "\" is disabled; ask an administrator to enable it"));
  }
  CachedSession entry;
  entry.principal = ToPrincipal(user);
  entry.expire_time = claims->expires;
  entry.loaded_at = now;
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= kMaxCachedSessions) cache_.clear();
    cache_[cache_key] = entry;
  }
  Principal principal = entry.principal;
  principal.expires = claims->expires;
  return principal;
}

absl::StatusOr<Principal> IdentityApi::Impl::Authenticate(absl::string_view authorization,
                                                          absl::Time now) {
  absl::string_view value = absl::StripAsciiWhitespace(authorization);
  if (value.empty()) {
    return Unauthenticated("AUTH_MISSING",
                           "the request has no Authorization header; sign in and send "
                           "\"Authorization: Bearer <token>\"");
  }
  if (value.size() < 7 || !absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) {
    return Unauthenticated("AUTH_MISSING",
                           "the Authorization header is not \"Bearer <token>\"; send the token "
                           "from SignIn as \"Authorization: Bearer <token>\"");
  }
  const std::string token(absl::StripAsciiWhitespace(value.substr(7)));
  if (token.empty()) {
    return Unauthenticated("AUTH_MISSING", "the Authorization header has an empty bearer token");
  }
  // Session tokens are base64url and have no dots; ID tokens (compact JWS) have two.
  if (absl::StrContains(token, '.')) return AuthenticateIdToken(token, now);
  return AuthenticateSession(token, now);
}

namespace {

// Failed sign-ins of one user name allowed before the throttle starts, the pause it
// imposes after each further failure, and how long failures are remembered.
constexpr int kFreeFailures = 5;
constexpr absl::Duration kFailurePause = absl::Seconds(30);
constexpr absl::Duration kFailureMemory = absl::Minutes(15);

}  // namespace

absl::Status IdentityApi::Impl::CheckThrottle(const std::string& username, absl::Time now) {
  std::lock_guard<std::mutex> lock(failures_mutex_);
  auto it = failures_.find(username);
  if (it == failures_.end()) return absl::OkStatus();
  if (now - it->second.last > kFailureMemory) {
    failures_.erase(it);
    return absl::OkStatus();
  }
  const absl::Time until = it->second.last + kFailurePause;
  if (it->second.count >= kFreeFailures && now < until) {
    return MakeError(absl::StatusCode::kResourceExhausted, "SIGN_IN_THROTTLED",
                     absl::StrCat("too many failed sign-ins for this user name; try again in ",
                                  absl::ToInt64Seconds(until - now) + 1, " s"));
  }
  return absl::OkStatus();
}

void IdentityApi::Impl::RecordFailure(const std::string& username, absl::Time now) {
  std::lock_guard<std::mutex> lock(failures_mutex_);
  // Bounded: a flood of made-up user names cannot grow the map without end.
  if (failures_.size() > 100000) failures_.clear();
  Failures& failures = failures_[username];
  if (now - failures.last > kFailureMemory) failures.count = 0;
  ++failures.count;
  failures.last = now;
}

absl::StatusOr<v1::SignInResponse> IdentityApi::Impl::SignIn(const v1::SignInRequest& request,
                                                             absl::Time now) {
  if (request.username().empty()) {
    return InvalidArgument("MISSING_FIELD", "username", "username is required");
  }
  if (request.password().empty()) {
    return InvalidArgument("MISSING_FIELD", "password", "password is required");
  }
  if (request.password().size() > kMaxPasswordLength) return WrongCredentials();
  const std::string username = absl::AsciiStrToLower(request.username());
  // Guessing passwords: after a few failures each user name waits between attempts.
  AILAB_RETURN_IF_ERROR(CheckThrottle(username, now));

  AILAB_ASSIGN_OR_RETURN(
      std::vector<UserRow> found,
      pool_->Query<std::vector<UserRow>>([&](pqxx::work& tx) -> absl::StatusOr<std::vector<UserRow>> {
        pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT ", UserColumns(), " FROM users WHERE username = $1"), username);
        std::vector<UserRow> users;
        for (const pqxx::row& row : rows) users.push_back(ReadUser(row));
        return users;
      }));

  const bool has_password = !found.empty() && !found[0].password_hash.empty();
  // Unknown users and accounts without a password are checked against the dummy hash,
  // so the time taken does not reveal which user names exist.
  absl::StatusOr<bool> matches =
      VerifyPassword(request.password(), has_password ? found[0].password_hash : dummy_hash_);
  if (!matches.ok()) {
    log::Logger("identity")->error("password check failed user={} error={}",
                                   has_password ? found[0].id : "", matches.status().ToString());
    return WrongCredentials();
  }
  if (!has_password || !*matches) {
    log::Logger("identity")->info("sign-in rejected known_user={}", has_password);
    RecordFailure(username, now);
    return WrongCredentials();
  }
  {
    std::lock_guard<std::mutex> lock(failures_mutex_);
    failures_.erase(username);
  }
  const UserRow& user = found[0];
  if (user.disabled) {
    log::Logger("identity")->info("sign-in rejected user={} disabled=true", user.id);
    return Unauthenticated("USER_DISABLED",
                           absl::StrCat("account \"", user.username,
                                        "\" is disabled; ask an administrator to enable it"));
  }

  AILAB_ASSIGN_OR_RETURN(std::string random, RandomBytes(32));
  const std::string token = absl::WebSafeBase64Escape(random);
  const std::string session_id = Sha256Hex(token);
  const absl::Time expire_time =
      std::min(now + options_.session_idle_timeout, now + options_.session_max_lifetime);
  AILAB_ASSIGN_OR_RETURN(
      UserRow signed_in, pool_->Query<UserRow>([&](pqxx::work& tx) -> absl::StatusOr<UserRow> {
        tx.exec_params(absl::StrCat("INSERT INTO sessions (id, user_id, create_time, "
                                    "last_used_time, expire_time) VALUES ($1, $2, ",
                                    TimeParam(3), ", ", TimeParam(3), ", ", TimeParam(4), ")"),
                       session_id, user.id, absl::ToUnixMicros(now),
                       absl::ToUnixMicros(expire_time));
        pqxx::result rows = tx.exec_params(
            absl::StrCat("UPDATE users SET last_sign_in_time = ", TimeParam(2),
                         " WHERE id = $1 RETURNING ", UserColumns()),
            user.id, absl::ToUnixMicros(now));
        return ReadUser(rows[0]);
      }));
  log::Logger("identity")->info("signed in user={}", user.id);

  v1::SignInResponse response;
  response.set_token(token);
  *response.mutable_expire_time() = ToTimestamp(expire_time);
  *response.mutable_user() = ToProto(signed_in);
  return response;
}

absl::StatusOr<v1::SignOutResponse> IdentityApi::Impl::SignOut(const Principal& caller) {
  if (!caller.session_id.empty()) {
    AILAB_RETURN_IF_ERROR(pool_->Run([&](pqxx::work& tx) -> absl::Status {
      tx.exec_params(
          "UPDATE sessions SET revoked_time = now() WHERE id = $1 AND revoked_time IS NULL",
          caller.session_id);
      return absl::OkStatus();
    }));
    EvictSession(caller.session_id);
    log::Logger("identity")->info("signed out user={}", caller.user_id);
  }
  return v1::SignOutResponse();
}

void IdentityApi::Impl::EvictSession(const std::string& session_id) {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  cache_.erase(session_id);
}

void IdentityApi::Impl::EvictUser(const std::string& user_id, const std::string& keep_session) {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.principal.user_id == user_id && it->first != keep_session) {
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
}


IdentityApi::IdentityApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IdentityApi::~IdentityApi() = default;

absl::StatusOr<std::unique_ptr<IdentityApi>> IdentityApi::Create(pg::Pool* pool,
                                                                 IdentityOptions options) {
  if (pool == nullptr) {
    return InvalidArgument("POOL_MISSING", "pool", "IdentityApi::Create needs a database pool");
  }
  if (options.session_idle_timeout <= absl::ZeroDuration() ||
      options.session_max_lifetime <= absl::ZeroDuration()) {
    return InvalidArgument("SESSION_TIMEOUT_INVALID", "session_idle_timeout",
                           "session_idle_timeout and session_max_lifetime must be positive");
  }
  for (const std::string& role : options.oidc.default_roles) {
    if (!IsKnownRole(role)) {
      return InvalidArgument("ROLE_UNKNOWN", "default_roles",
                             absl::StrCat("single sign-on default role \"", role,
                                          "\" is unknown; use any of ",
                                          absl::StrJoin(KnownRoles(), ", ")),
                             {{"role", role}});
    }
  }
  AILAB_ASSIGN_OR_RETURN(std::string random, RandomBytes(32));
  AILAB_ASSIGN_OR_RETURN(std::string dummy_hash,
                         HashPassword(absl::BytesToHexString(random), options.password));
  log::Logger("identity")->info("identity ready oidc_issuer={}",
                                options.oidc.issuer.empty() ? "(off)" : options.oidc.issuer);
  return std::unique_ptr<IdentityApi>(
      new IdentityApi(std::make_unique<Impl>(pool, std::move(options), std::move(dummy_hash))));
}

absl::Status IdentityApi::EnsureAdministrator(absl::string_view username,
                                              absl::string_view password) {
  return impl_->EnsureAdministrator(username, password);
}
absl::StatusOr<Principal> IdentityApi::Authenticate(absl::string_view authorization,
                                                    absl::Time now) {
  return impl_->Authenticate(authorization, now);
}
absl::StatusOr<v1::SignInResponse> IdentityApi::SignIn(const v1::SignInRequest& request,
                                                       absl::Time now) {
  return impl_->SignIn(request, now);
}
absl::StatusOr<v1::SignOutResponse> IdentityApi::SignOut(const Principal& caller,
                                                         const v1::SignOutRequest&) {
  return impl_->SignOut(caller);
}
absl::StatusOr<v1::User> IdentityApi::GetCurrentUser(const Principal& caller,
                                                     const v1::GetCurrentUserRequest&) {
  return impl_->GetCurrentUser(caller);
}
absl::StatusOr<v1::User> IdentityApi::CreateUser(const Principal& caller,
                                                 const v1::CreateUserRequest& request) {
  return impl_->CreateUser(caller, request);
}
absl::StatusOr<v1::ListUsersResponse> IdentityApi::ListUsers(const Principal& caller,
                                                             const v1::ListUsersRequest& request) {
  return impl_->ListUsers(caller, request);
}
absl::StatusOr<v1::LookupUsersResponse> IdentityApi::LookupUsers(
    const Principal&, const v1::LookupUsersRequest& request) {
  // Any signed-in user: the gateway authenticated the caller.
  return impl_->LookupUsers(request);
}
absl::StatusOr<v1::User> IdentityApi::UpdateUser(const Principal& caller,
                                                 const v1::UpdateUserRequest& request) {
  return impl_->UpdateUser(caller, request);
}
absl::StatusOr<v1::ChangePasswordResponse> IdentityApi::ChangePassword(
    const Principal& caller, const v1::ChangePasswordRequest& request) {
  return impl_->ChangePassword(caller, request);
}
absl::StatusOr<v1::ListAuditEventsResponse> IdentityApi::ListAuditEvents(
    const Principal& caller, const v1::ListAuditEventsRequest& request) {
  return impl_->ListAuditEvents(caller, request);
}
void IdentityApi::RecordAudit(v1::AuditEvent event) { impl_->RecordAudit(std::move(event)); }
absl::Status IdentityApi::FlushAudit() { return impl_->FlushAudit(); }

}  // namespace ailab::identity
