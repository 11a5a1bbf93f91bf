// Private parts of the identity library shared by its source files: limits, row
// helpers for the "identity" schema, request checks and the IdentityApi::Impl class.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ailab/identity/identity.h"
#include "ailab/log/log.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"

namespace ailab::identity {

constexpr char kLocalProvider[] = "local";
constexpr char kUserPrefix[] = "users/";
constexpr size_t kMinPasswordLength = 12;
// Argon2 accepts longer input. The limit bounds the hashing work one request can cause.
constexpr size_t kMaxPasswordLength = 1024;
constexpr size_t kMaxDisplayNameLength = 200;
// A session's last use is written to PostgreSQL at most this often.
constexpr absl::Duration kLastUsedWriteInterval = absl::Minutes(1);
// Audit events kept in memory while the database is slow or down. The oldest go first.
constexpr size_t kMaxQueuedAuditEvents = 100000;
// Rows per INSERT statement when the queue is long.
constexpr size_t kAuditBatchRows = 5000;
constexpr absl::Duration kAuditFlushInterval = absl::Milliseconds(200);
// Cached sessions beyond this many are dropped all at once (they are reloaded on use).
constexpr size_t kMaxCachedSessions = 100000;

// Number of columns that UserColumns() selects.
constexpr int kUserColumnCount = 9;

// One row of `users`.
struct UserRow {
  std::string id;
  std::string username;
  std::string display_name;
  std::vector<std::string> roles;
  std::string password_hash;
  std::string provider;
  bool disabled = false;
  absl::Time create_time;
  absl::Time last_sign_in_time;
};

const std::vector<std::string>& KnownRoles();

bool IsKnownRole(absl::string_view role);

bool HasRoleIn(const std::vector<std::string>& roles, absl::string_view role);

std::string Sha256Hex(absl::string_view text);

absl::StatusOr<std::string> RandomBytes(size_t count);

// SQL for a timestamptz parameter given as Unix microseconds.
std::string TimeParam(int index);

// SQL reading a timestamptz column as Unix microseconds.
std::string MicrosOf(absl::string_view column);

absl::Time TimeFromField(const pqxx::field& field);

google::protobuf::Timestamp ToTimestamp(absl::Time time);

std::vector<std::string> SplitRoles(const std::string& joined);

// Columns of `users` in the order UserRow reads them.
std::string UserColumns(absl::string_view table = "users");

UserRow ReadUser(const pqxx::row& row, int first = 0);

v1::User ToProto(const UserRow& row);

Principal ToPrincipal(const UserRow& row);

absl::Status Unauthenticated(absl::string_view reason, absl::string_view message);

absl::Status WrongCredentials();

absl::Status RequireAdministrator(const Principal& caller, absl::string_view method);

absl::Status CheckUsername(const std::string& username);

absl::Status CheckPassword(const std::string& password, absl::string_view field);

// Checks and de-duplicates requested roles: at least one, each known.
absl::StatusOr<std::vector<std::string>> CheckRoles(
    const google::protobuf::RepeatedPtrField<std::string>& requested);

absl::Status CheckDisplayName(const std::string& display_name);

absl::StatusOr<std::string> ParseUserName(const std::string& name);

absl::Status UserNotFound(const std::string& id);

absl::StatusOr<UserRow> LoadUser(pqxx::work& tx, const std::string& id);

// Fails when no enabled administrator is left, so that the platform always keeps one.
absl::Status CheckAdministratorRemains(pqxx::work& tx);

void RevokeSessions(pqxx::work& tx, const std::string& user_id, const std::string& keep_session);

class IdentityApi::Impl {
 public:
  Impl(pg::Pool* pool, IdentityOptions options, std::string dummy_hash)
      : pool_(pool), options_(std::move(options)), dummy_hash_(std::move(dummy_hash)) {
    audit_thread_ = std::thread([this] { AuditLoop(); });
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(audit_mutex_);
      stopping_ = true;
    }
    audit_wake_.notify_all();
    audit_thread_.join();
    absl::Status flushed = FlushAudit();
    if (!flushed.ok()) {
      log::Logger("identity")->error("audit events lost at shutdown error={}", flushed.ToString());
    }
  }

  absl::Status EnsureAdministrator(absl::string_view username_in, absl::string_view password_in);
  absl::StatusOr<Principal> Authenticate(absl::string_view authorization, absl::Time now);
  absl::StatusOr<v1::SignInResponse> SignIn(const v1::SignInRequest& request, absl::Time now);
  absl::StatusOr<v1::SignOutResponse> SignOut(const Principal& caller);
  absl::StatusOr<v1::User> GetCurrentUser(const Principal& caller);
  absl::StatusOr<v1::User> CreateUser(const Principal& caller, const v1::CreateUserRequest& request);
  absl::StatusOr<v1::ListUsersResponse> ListUsers(const Principal& caller,
                                                  const v1::ListUsersRequest& request);
  absl::StatusOr<v1::LookupUsersResponse> LookupUsers(const v1::LookupUsersRequest& request);
  absl::StatusOr<v1::User> UpdateUser(const Principal& caller, const v1::UpdateUserRequest& request);
  absl::StatusOr<v1::ChangePasswordResponse> ChangePassword(
      const Principal& caller, const v1::ChangePasswordRequest& request);
  absl::StatusOr<v1::ListAuditEventsResponse> ListAuditEvents(
      const Principal& caller, const v1::ListAuditEventsRequest& request);
  void RecordAudit(v1::AuditEvent event);
  absl::Status FlushAudit();

 private:
  // A session or ID token seen recently, so that not every request reads PostgreSQL.
  struct CachedSession {
    Principal principal;
    absl::Time create_time;
    absl::Time last_used_time;
    absl::Time expire_time;
    absl::Time loaded_at;
  };

  absl::StatusOr<UserRow> InsertUser(const std::string& username, const std::string& display_name,
                                     const std::vector<std::string>& roles,
                                     const std::string& password_hash,
                                     bool only_without_administrator);
  absl::StatusOr<Principal> AuthenticateSession(const std::string& token, absl::Time now);
  absl::StatusOr<Principal> AuthenticateIdToken(const std::string& token, absl::Time now);
  absl::StatusOr<CachedSession> LoadSession(const std::string& session_id);
  void EvictUser(const std::string& user_id, const std::string& keep_session);
  void EvictSession(const std::string& session_id);
  void AuditLoop();
  absl::Status WriteAudit(std::vector<v1::AuditEvent>& events);

  pg::Pool* pool_;
  const IdentityOptions options_;
  // Hash checked for unknown user names, so that SignIn takes as long as for known ones.
  const std::string dummy_hash_;

  std::mutex cache_mutex_;
  std::unordered_map<std::string, CachedSession> cache_;

  // Failed sign-ins per (lower-case) user name, for the throttle in SignIn.
  struct Failures {
    int count = 0;
    absl::Time last;
  };
  // Returns RESOURCE_EXHAUSTED while `username` is throttled at `now`.
  absl::Status CheckThrottle(const std::string& username, absl::Time now);
  void RecordFailure(const std::string& username, absl::Time now);
  std::mutex failures_mutex_;
  std::unordered_map<std::string, Failures> failures_;

  std::mutex audit_mutex_;
  std::condition_variable audit_wake_;
  std::deque<v1::AuditEvent> audit_queue_;
  uint64_t audit_dropped_ = 0;
  bool stopping_ = false;
  // Held while writing, so that FlushAudit and the thread keep events in order.
  std::mutex audit_write_mutex_;
  std::thread audit_thread_;
};

}  // namespace ailab::identity
