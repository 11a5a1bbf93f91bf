#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <string>
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
#include "ailab/status/text.h"
#include "google/protobuf/util/time_util.h"
#include "internal.h"

namespace ailab::identity {

using google::protobuf::util::TimeUtil;

const std::vector<std::string>& KnownRoles() {
  static const auto* roles = new std::vector<std::string>{
      rpc::kRoleAdministrator, rpc::kRoleReviewer, rpc::kRoleDataManager, rpc::kRoleRadiologist,
      rpc::kRoleParticipant};
  return *roles;
}

bool IsKnownRole(absl::string_view role) {
  const auto& roles = KnownRoles();
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool HasRoleIn(const std::vector<std::string>& roles, absl::string_view role) {
  for (const std::string& held : roles) {
    if (held == role || held == rpc::kRoleAdministrator) return true;
  }
  return false;
}

std::string Sha256Hex(absl::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::StatusOr<std::string> RandomBytes(size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    return Internal("RANDOM_FAILED", "the system random generator failed; retry");
  }
  return bytes;
}

std::string TimeParam(int index) {
  return absl::StrCat("(timestamptz 'epoch' + $", index, "::bigint * interval '1 microsecond')");
}

std::string MicrosOf(absl::string_view column) {
  return absl::StrCat("(extract(epoch from ", column, ") * 1000000)::bigint");
}

absl::Time TimeFromField(const pqxx::field& field) {
  if (field.is_null()) return absl::InfinitePast();
  return absl::FromUnixMicros(field.as<int64_t>());
}

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

std::vector<std::string> SplitRoles(const std::string& joined) {
  if (joined.empty()) return {};
  return absl::StrSplit(joined, ',');
}

std::string UserColumns(absl::string_view table) {
  return absl::StrCat(table, ".id, ", table, ".username, ", table, ".display_name, ",
                      "array_to_string(", table, ".roles, ','), coalesce(", table,
                      ".password_hash, ''), ", table, ".provider, ", table, ".disabled, ",
                      MicrosOf(absl::StrCat(table, ".create_time")), ", ",
                      MicrosOf(absl::StrCat(table, ".last_sign_in_time")));
}

UserRow ReadUser(const pqxx::row& row, int first) {
  UserRow user;
  user.id = row[first + 0].as<std::string>();
  user.username = row[first + 1].as<std::string>();
  user.display_name = row[first + 2].as<std::string>();
  user.roles = SplitRoles(row[first + 3].as<std::string>());
  user.password_hash = row[first + 4].as<std::string>();
  user.provider = row[first + 5].as<std::string>();
  user.disabled = row[first + 6].as<bool>();
  user.create_time = TimeFromField(row[first + 7]);
  user.last_sign_in_time = TimeFromField(row[first + 8]);
  return user;
}

v1::User ToProto(const UserRow& row) {
  v1::User user;
  user.set_name(absl::StrCat(kUserPrefix, row.id));
  user.set_username(row.username);
  user.set_display_name(row.display_name);
  for (const std::string& role : row.roles) user.add_roles(role);
  user.set_disabled(row.disabled);
  user.set_provider(row.provider);
  *user.mutable_create_time() = ToTimestamp(row.create_time);
  if (row.last_sign_in_time != absl::InfinitePast()) {
    *user.mutable_last_sign_in_time() = ToTimestamp(row.last_sign_in_time);
  }
  return user;
}

Principal ToPrincipal(const UserRow& row) {
  Principal principal;
  principal.user_id = row.id;
  principal.username = row.username;
  principal.display_name = row.display_name;
  principal.roles = row.roles;
  return principal;
}

absl::Status Unauthenticated(absl::string_view reason, absl::string_view message) {
  return MakeError(absl::StatusCode::kUnauthenticated, reason, message);
}

absl::Status WrongCredentials() {
  return Unauthenticated("SIGN_IN_FAILED",
                         "the user name or password is wrong; check both and sign in again");
}

absl::Status RequireAdministrator(const Principal& caller, absl::string_view method) {
  if (caller.HasRole(rpc::kRoleAdministrator)) return absl::OkStatus();
  return PermissionDenied(
      "ADMINISTRATOR_REQUIRED",
      absl::StrCat(method, " is for administrators only; user \"", caller.username,
                   "\" does not have the administrator role"),
      {{"method", method}, {"user", caller.user_id}});
}

absl::Status CheckUsername(const std::string& username) {
  bool valid = username.size() >= 3 && username.size() <= 64;
  for (char c : username) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' &&
        c != '@') {
      valid = false;
    }
  }
  if (valid) return absl::OkStatus();
  return InvalidArgument("USERNAME_INVALID", "username",
                         absl::StrCat("user name \"", username,
                                      "\" is invalid; use 3 to 64 letters, digits, \".\", \"_\", "
                                      "\"-\" or \"@\""),
                         {{"username", username}});
}

absl::Status CheckPassword(const std::string& password, absl::string_view field) {
  if (password.size() < kMinPasswordLength) {
    return InvalidArgument("PASSWORD_TOO_SHORT", field,
                           absl::StrCat(field, " has ", password.size(),
                                        " characters; use at least ", kMinPasswordLength),
                           {{"field", field}});
  }
  if (password.size() > kMaxPasswordLength) {
    return InvalidArgument("PASSWORD_TOO_LONG", field,
                           absl::StrCat(field, " has ", password.size(),
                                        " characters; use at most ", kMaxPasswordLength),
                           {{"field", field}});
  }
  // Twelve spaces are twelve characters but no secret; neither is one character twelve
  // times.
  if (password.find_first_not_of(password[0]) == std::string::npos ||
      password.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument("PASSWORD_TOO_WEAK", field,
                           absl::StrCat(field, " repeats one character or is only white "
                                        "space; use a passphrase of several words"),
                           {{"field", field}});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> CheckRoles(
    const google::protobuf::RepeatedPtrField<std::string>& requested) {
  std::vector<std::string> roles;
  for (const auto& role : requested) {
    if (!IsKnownRole(role)) {
      return InvalidArgument(
          "ROLE_UNKNOWN", "roles",
          absl::StrCat("role \"", role, "\" is unknown; use any of ",
                       absl::StrJoin(KnownRoles(), ", ")),
          {{"role", role}});
    }
    if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.push_back(role);
  }
  if (roles.empty()) {
    return InvalidArgument("ROLES_MISSING", "roles",
                           absl::StrCat("roles is empty; give at least one of ",
                                        absl::StrJoin(KnownRoles(), ", ")));
  }
  return roles;
}

absl::Status CheckDisplayName(const std::string& display_name) {
  if (display_name.size() <= kMaxDisplayNameLength) {
    return CheckDisplayText("display_name", display_name);
  }
  return InvalidArgument("DISPLAY_NAME_TOO_LONG", "display_name",
                         absl::StrCat("display_name has ", display_name.size(),
                                      " bytes; use at most ", kMaxDisplayNameLength));
}

absl::StatusOr<std::string> ParseUserName(const std::string& name) {
  absl::string_view id = name;
  if (!absl::ConsumePrefix(&id, kUserPrefix) || id.empty() || absl::StrContains(id, '/')) {
    return InvalidArgument("NAME_INVALID", "name",
                           absl::StrCat("name \"", name,
                                        "\" is not a user name; use \"users/{user_id}\""),
                           {{"name", name}});
  }
  return std::string(id);
}

absl::Status UserNotFound(const std::string& id) {
  return NotFound("USER_NOT_FOUND",
                  absl::StrCat("user \"users/", id, "\" not found; list users with ListUsers"),
                  {{"user", id}});
}

absl::StatusOr<UserRow> LoadUser(pqxx::work& tx, const std::string& id) {
  pqxx::result rows =
      tx.exec_params(absl::StrCat("SELECT ", UserColumns(), " FROM users WHERE id = $1"), id);
  if (rows.empty()) return UserNotFound(id);
  return ReadUser(rows[0]);
}

absl::Status CheckAdministratorRemains(pqxx::work& tx) {
  pqxx::result rows = tx.exec(
      "SELECT count(*) FROM users WHERE NOT disabled AND 'administrator' = ANY(roles)");
  if (rows[0][0].as<int64_t>() > 0) return absl::OkStatus();
  return FailedPrecondition("LAST_ADMINISTRATOR",
                            "the change would leave no enabled administrator; give another "
                            "account the administrator role first");
}

void RevokeSessions(pqxx::work& tx, const std::string& user_id, const std::string& keep_session) {
  tx.exec_params(
      "UPDATE sessions SET revoked_time = now() WHERE user_id = $1 AND revoked_time IS NULL "
      "AND id <> $2",
      user_id, keep_session);
}


}  // namespace ailab::identity
