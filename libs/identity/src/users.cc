#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
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

absl::StatusOr<v1::User> IdentityApi::Impl::GetCurrentUser(const Principal& caller) {
  AILAB_ASSIGN_OR_RETURN(UserRow user,
                         pool_->Query<UserRow>([&](pqxx::work& tx) -> absl::StatusOr<UserRow> {
                           return LoadUser(tx, caller.user_id);
                         }));
  return ToProto(user);
}

absl::StatusOr<v1::User> IdentityApi::Impl::CreateUser(const Principal& caller,
                                                       const v1::CreateUserRequest& request) {
  AILAB_RETURN_IF_ERROR(RequireAdministrator(caller, "CreateUser"));
  const std::string username = absl::AsciiStrToLower(request.username());
  if (username.empty()) {
    return InvalidArgument("MISSING_FIELD", "username", "username is required");
  }
  AILAB_RETURN_IF_ERROR(CheckUsername(username));
  AILAB_RETURN_IF_ERROR(CheckDisplayName(request.display_name()));
  AILAB_ASSIGN_OR_RETURN(std::vector<std::string> roles, CheckRoles(request.roles()));
  AILAB_RETURN_IF_ERROR(CheckPassword(request.password(), "password"));
  AILAB_ASSIGN_OR_RETURN(std::string hash, HashPassword(request.password(), options_.password));
  const std::string display_name =
      request.display_name().empty() ? username : request.display_name();
  AILAB_ASSIGN_OR_RETURN(UserRow user, InsertUser(username, display_name, roles, hash,
                                                  /*only_without_administrator=*/false));
  log::Logger("identity")->info("user created user={} by={} roles={}", user.id, caller.user_id,
                                absl::StrJoin(roles, ","));
  return ToProto(user);
}

absl::StatusOr<v1::ListUsersResponse> IdentityApi::Impl::ListUsers(
    const Principal& caller, const v1::ListUsersRequest& request) {
  AILAB_RETURN_IF_ERROR(RequireAdministrator(caller, "ListUsers"));
  AILAB_ASSIGN_OR_RETURN(int page_size, pg::ResolvePageSize(request.page_size(), 50, 500));
  AILAB_ASSIGN_OR_RETURN(int64_t offset, pg::DecodePageToken(request.page_token()));
  return pool_->Query<v1::ListUsersResponse>(
      [&](pqxx::work& tx) -> absl::StatusOr<v1::ListUsersResponse> {
        pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT ", UserColumns(),
                         " FROM users ORDER BY username LIMIT $1 OFFSET $2"),
            page_size + 1, offset);
        v1::ListUsersResponse response;
        for (size_t i = 0; i < rows.size() && static_cast<int>(i) < page_size; ++i) {
          *response.add_users() = ToProto(ReadUser(rows[i]));
        }
        if (static_cast<int>(rows.size()) > page_size) {
          response.set_next_page_token(pg::EncodePageToken(offset + page_size));
        }
        return response;
      });
}

absl::StatusOr<v1::LookupUsersResponse> IdentityApi::Impl::LookupUsers(
    const v1::LookupUsersRequest& request) {
  constexpr int kMaxIds = 500;
  if (request.user_ids().empty() || request.user_ids_size() > kMaxIds) {
    return InvalidArgument("INVALID_USER_IDS", "user_ids",
                           absl::StrCat("user_ids has ", request.user_ids_size(),
                                        " entries; give 1 to ", kMaxIds, " user ids"));
  }
  // The ids are checked here so that they can travel as one comma-separated parameter.
  for (const std::string& id : request.user_ids()) {
    bool valid = !id.empty() && id.size() <= 64;
    for (char c : id) {
      valid = valid && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
    }
    if (!valid) {
      return InvalidArgument("INVALID_USER_ID", "user_ids",
                             absl::StrCat("user id \"", id,
                                          "\" is invalid; user ids are 1 to 64 "
                                          "letters, digits, \"-\" and \"_\""),
                             {{"user_id", id}});
    }
  }
  const std::string joined = absl::StrJoin(request.user_ids(), ",");
  return pool_->Query<v1::LookupUsersResponse>(
      [&](pqxx::work& tx) -> absl::StatusOr<v1::LookupUsersResponse> {
        pqxx::result rows = tx.exec_params(
            "SELECT id, display_name FROM users WHERE id = ANY(string_to_array($1, ','))", joined);
        absl::flat_hash_map<std::string, std::string> names;
        for (const auto& row : rows) {
          names[row[0].as<std::string>()] = row[1].as<std::string>();
        }
        v1::LookupUsersResponse response;
        absl::flat_hash_set<std::string> added;
        for (const std::string& id : request.user_ids()) {
          auto it = names.find(id);
          if (it == names.end() || !added.insert(id).second) continue;
          v1::UserSummary* user = response.add_users();
          user->set_name(absl::StrCat(kUserPrefix, id));
          user->set_display_name(it->second);
        }
        return response;
      });
}

absl::StatusOr<v1::User> IdentityApi::Impl::UpdateUser(const Principal& caller,
                                                       const v1::UpdateUserRequest& request) {
  AILAB_RETURN_IF_ERROR(RequireAdministrator(caller, "UpdateUser"));
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseUserName(request.name()));
  bool set_display_name = false;
  bool set_roles = false;
  bool set_disabled = false;
  for (const std::string& field : request.update_fields()) {
    if (field == "display_name") {
      set_display_name = true;
    } else if (field == "roles") {
      set_roles = true;
    } else if (field == "disabled") {
      set_disabled = true;
    } else {
      return InvalidArgument("UPDATE_FIELD_UNKNOWN", "update_fields",
                             absl::StrCat("update field \"", field,
                                          "\" is unknown; use display_name, roles or disabled"),
                             {{"field", field}});
    }
  }
  if (!set_display_name && !set_roles && !set_disabled) {
    return InvalidArgument("MISSING_FIELD", "update_fields",
                           "update_fields is empty; name display_name, roles or disabled");
  }
  std::vector<std::string> roles;
  if (set_roles) {
    AILAB_ASSIGN_OR_RETURN(roles, CheckRoles(request.roles()));
  }
  if (set_display_name) AILAB_RETURN_IF_ERROR(CheckDisplayName(request.display_name()));

  AILAB_ASSIGN_OR_RETURN(
      UserRow user, pool_->Query<UserRow>([&](pqxx::work& tx) -> absl::StatusOr<UserRow> {
        AILAB_ASSIGN_OR_RETURN(UserRow current, LoadUser(tx, id));
        const std::string display_name =
            set_display_name ? request.display_name() : current.display_name;
        const std::vector<std::string>& new_roles = set_roles ? roles : current.roles;
        const bool disabled = set_disabled ? request.disabled() : current.disabled;
        pqxx::result rows = tx.exec_params(
            absl::StrCat("UPDATE users SET display_name = $2, roles = string_to_array($3, ','), "
                         "disabled = $4 WHERE id = $1 RETURNING ",
                         UserColumns()),
            id, display_name, absl::StrJoin(new_roles, ","), disabled);
        AILAB_RETURN_IF_ERROR(CheckAdministratorRemains(tx));
        if (disabled && !current.disabled) RevokeSessions(tx, id, "");
        return ReadUser(rows[0]);
      }));
  // Cached sessions carry the old roles, so drop them (disabling also ended them above).
  EvictUser(id, "");
  log::Logger("identity")->info("user updated user={} by={} disabled={}", id, caller.user_id,
                                user.disabled);
  return ToProto(user);
}

absl::StatusOr<v1::ChangePasswordResponse> IdentityApi::Impl::ChangePassword(
    const Principal& caller, const v1::ChangePasswordRequest& request) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseUserName(request.name()));
  const bool own = id == caller.user_id;
  if (!own) AILAB_RETURN_IF_ERROR(RequireAdministrator(caller, "ChangePassword for another user"));
  AILAB_RETURN_IF_ERROR(CheckPassword(request.new_password(), "new_password"));

  AILAB_ASSIGN_OR_RETURN(UserRow user,
                         pool_->Query<UserRow>([&](pqxx::work& tx) -> absl::StatusOr<UserRow> {
                           return LoadUser(tx, id);
                         }));
  if (user.provider != kLocalProvider) {
    return FailedPrecondition("PASSWORD_NOT_LOCAL",
                              absl::StrCat("account \"", user.username, "\" signs in through ",
                                           user.provider,
                                           "; change its password there"),
                              {{"user", id}});
  }
  if (own) {
    if (request.current_password().empty()) {
      return InvalidArgument("MISSING_FIELD", "current_password",
                             "current_password is required to change your own password");
    }
    absl::StatusOr<bool> matches =
        user.password_hash.empty() ? absl::StatusOr<bool>(false)
                                   : VerifyPassword(request.current_password(), user.password_hash);
    AILAB_RETURN_IF_ERROR(matches.status());
    if (!*matches) {
      return InvalidArgument("CURRENT_PASSWORD_WRONG", "current_password",
                             "current_password is wrong; enter the password you sign in with");
    }
  }
  AILAB_ASSIGN_OR_RETURN(std::string hash,
                         HashPassword(request.new_password(), options_.password));
  const std::string keep_session = own ? caller.session_id : "";
  AILAB_RETURN_IF_ERROR(pool_->Run([&](pqxx::work& tx) -> absl::Status {
    tx.exec_params("UPDATE users SET password_hash = $2 WHERE id = $1", id, hash);
    RevokeSessions(tx, id, keep_session);
    return absl::OkStatus();
  }));
  EvictUser(id, keep_session);
  log::Logger("identity")->info("password changed user={} by={}", id, caller.user_id);
  return v1::ChangePasswordResponse();
}


}  // namespace ailab::identity
