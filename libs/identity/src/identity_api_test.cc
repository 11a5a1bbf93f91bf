#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ailab/identity/identity.h"
#include "ailab/status/status.h"
#include "fixtures.h"
#include "google/protobuf/util/time_util.h"

namespace ailab::identity {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1800000000);
constexpr char kAdminPassword[] = "correct horse battery";
constexpr char kUserPassword[] = "radiology-reads-42";

// A migrated "identity" schema in a scratch database and an IdentityApi on it, with a
// cheap Argon2 cost so the tests run quickly.
struct Fixture {
  testing::ScratchDatabase database;
  std::unique_ptr<pg::Pool> pool;
  std::unique_ptr<IdentityApi> api;

  explicit Fixture(IdentityOptions options = {}) {
    auto created = pg::Pool::Create({database.url(), 2, "identity"});
    REQUIRE(created.ok());
    pool = *std::move(created);
    REQUIRE(pool->Migrate(IdentityApi::Migrations()).ok());
    options.password = {64, 1, 1};
    auto identity_api = IdentityApi::Create(pool.get(), options);
    REQUIRE(identity_api.ok());
    api = *std::move(identity_api);
  }

  // Signs in and returns the principal of the new session.
  Principal SignInAs(const std::string& username, const std::string& password,
                     absl::Time now = kStart, std::string* token_out = nullptr) {
    v1::SignInRequest request;
    request.set_username(username);
    request.set_password(password);
    auto response = api->SignIn(request, now);
    REQUIRE(response.ok());
    if (token_out != nullptr) *token_out = response->token();
    auto principal = api->Authenticate(absl::StrCat("Bearer ", response->token()), now);
    REQUIRE(principal.ok());
    return *principal;
  }

  Principal Admin() {
    REQUIRE(api->EnsureAdministrator("admin", kAdminPassword).ok());
    return SignInAs("admin", kAdminPassword);
  }

  v1::User CreateUser(const Principal& admin, const std::string& username,
                      std::vector<std::string> roles = {"radiologist"}) {
    v1::CreateUserRequest request;
    request.set_username(username);
    request.set_password(kUserPassword);
    for (const std::string& role : roles) request.add_roles(role);
    auto user = api->CreateUser(admin, request);
    REQUIRE(user.ok());
    return *user;
  }
};

absl::StatusCode CodeOf(const absl::Status& status) { return status.code(); }

TEST_CASE("IdentityApi: administrator created once") {
  Fixture fixture;
  REQUIRE(fixture.api->EnsureAdministrator("Admin", kAdminPassword).ok());
  REQUIRE(fixture.api->EnsureAdministrator("second-admin", kAdminPassword).ok());
  Principal admin = fixture.SignInAs("admin", kAdminPassword);
  CHECK(admin.HasRole("administrator"));
  CHECK(admin.HasRole("reviewer"));
  v1::SignInRequest request;
  request.set_username("second-admin");
  request.set_password(kAdminPassword);
  CHECK(CodeOf(fixture.api->SignIn(request, kStart).status()) ==
        absl::StatusCode::kUnauthenticated);
}

TEST_CASE("IdentityApi: administrator password too short") {
  Fixture fixture;
  absl::Status status = fixture.api->EnsureAdministrator("admin", "short");
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(status) == "PASSWORD_TOO_SHORT");
}

TEST_CASE("IdentityApi: sign in and authenticate") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  v1::User created = fixture.CreateUser(admin, "Dr.Jones", {"radiologist", "participant"});
  CHECK(created.username() == "dr.jones");
  CHECK(created.display_name() == "dr.jones");
  CHECK(created.provider() == "local");

  v1::SignInRequest request;
  request.set_username("DR.JONES");
  request.set_password(kUserPassword);
  auto response = fixture.api->SignIn(request, kStart);
  REQUIRE(response.ok());
  CHECK(response->token().size() == 43);
  CHECK(response->user().name() == created.name());
  CHECK(response->user().has_last_sign_in_time());

  auto principal = fixture.api->Authenticate(absl::StrCat("Bearer ", response->token()), kStart);
  REQUIRE(principal.ok());
  CHECK(absl::StrCat("users/", principal->user_id) == created.name());
  CHECK(principal->roles == std::vector<std::string>{"radiologist", "participant"});
  CHECK_FALSE(principal->session_id.empty());
  CHECK(principal->session_id != response->token());
  CHECK(principal->expires == kStart + absl::Hours(8));

  rpc::Identity identity = principal->ToIdentity("req-1", kStart + absl::Minutes(5));
  CHECK(identity.user == principal->user_id);
  CHECK(identity.request_id == "req-1");
  CHECK(identity.expires == kStart + absl::Minutes(5));

  auto current = fixture.api->GetCurrentUser(*principal, {});
  REQUIRE(current.ok());
  CHECK(current->username() == "dr.jones");
}

TEST_CASE("IdentityApi: wrong password and unknown user look alike") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  fixture.CreateUser(admin, "jones");
  v1::SignInRequest wrong;
  wrong.set_username("jones");
  wrong.set_password("not the password");
  v1::SignInRequest unknown;
  unknown.set_username("nobody");
  unknown.set_password(kUserPassword);
  absl::Status wrong_status = fixture.api->SignIn(wrong, kStart).status();
  absl::Status unknown_status = fixture.api->SignIn(unknown, kStart).status();
  CHECK(wrong_status.code() == absl::StatusCode::kUnauthenticated);
  CHECK(unknown_status.code() == absl::StatusCode::kUnauthenticated);
  CHECK(wrong_status.message() == unknown_status.message());
  CHECK(GetErrorReason(wrong_status) == GetErrorReason(unknown_status));

  v1::SignInRequest empty;
  CHECK(fixture.api->SignIn(empty, kStart).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("IdentityApi: repeated wrong passwords slow down one user name") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  fixture.CreateUser(admin, "jones");
  fixture.CreateUser(admin, "smith");
  v1::SignInRequest wrong;
  wrong.set_username("jones");
  wrong.set_password("not the password");
  for (int i = 0; i < 5; ++i) {
    CHECK(fixture.api->SignIn(wrong, kStart).status().code() == absl::StatusCode::kUnauthenticated);
  }
  // The sixth attempt, even with the right password, waits.
  v1::SignInRequest right;
  right.set_username("JONES");
  right.set_password(kUserPassword);
  absl::Status throttled = fixture.api->SignIn(right, kStart + absl::Seconds(1)).status();
  CHECK(throttled.code() == absl::StatusCode::kResourceExhausted);
  CHECK(GetErrorReason(throttled) == "SIGN_IN_THROTTLED");
  // Other user names are not affected.
  v1::SignInRequest other;
  other.set_username("smith");
  other.set_password(kUserPassword);
  CHECK(fixture.api->SignIn(other, kStart + absl::Seconds(1)).ok());
  // After the pause the right password works and clears the count.
  CHECK(fixture.api->SignIn(right, kStart + absl::Seconds(40)).ok());
  CHECK(fixture.api->SignIn(wrong, kStart + absl::Seconds(41)).status().code() ==
        absl::StatusCode::kUnauthenticated);
}

TEST_CASE("IdentityApi: bad authorization headers") {
  Fixture fixture;
  for (const char* header : {"", "   ", "Basic abc", "Bearer", "Bearer  "}) {
    INFO("header \"" << header << "\"");
    absl::Status status = fixture.api->Authenticate(header, kStart).status();
    CHECK(status.code() == absl::StatusCode::kUnauthenticated);
    CHECK(GetErrorReason(status) == "AUTH_MISSING");
  }
  absl::Status unknown = fixture.api->Authenticate("Bearer unknown-token", kStart).status();
  CHECK(unknown.code() == absl::StatusCode::kUnauthenticated);
  CHECK(GetErrorReason(unknown) == "TOKEN_INVALID");
  absl::Status jwt = fixture.api->Authenticate("Bearer a.b.c", kStart).status();
  CHECK(jwt.code() == absl::StatusCode::kUnauthenticated);
  CHECK(GetErrorReason(jwt) == "TOKEN_INVALID");
}

TEST_CASE("IdentityApi: sign out ends session") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  fixture.CreateUser(admin, "jones");
  std::string token;
  Principal jones = fixture.SignInAs("jones", kUserPassword, kStart, &token);
  REQUIRE(fixture.api->SignOut(jones, {}).ok());
  absl::Status status =
      fixture.api->Authenticate(absl::StrCat("bearer ", token), kStart).status();
  CHECK(status.code() == absl::StatusCode::kUnauthenticated);
  CHECK(GetErrorReason(status) == "SESSION_REVOKED");
}

TEST_CASE("IdentityApi: idle and maximum expiry") {
  IdentityOptions options;
  options.session_idle_timeout = absl::Hours(1);
  options.session_max_lifetime = absl::Hours(3);
  Fixture fixture(options);
  Principal admin = fixture.Admin();
  fixture.CreateUser(admin, "jones");
  std::string token;
  fixture.SignInAs("jones", kUserPassword, kStart, &token);
  const std::string header = absl::StrCat("Bearer ", token);

  // Each use within the idle timeout slides the expiry forward.
  absl::Time now = kStart;
  for (int i = 0; i < 5; ++i) {
    now += absl::Minutes(50);
    auto principal = fixture.api->Authenticate(header, now);
    if (now < kStart + absl::Hours(3)) {
      REQUIRE(principal.ok());
      CHECK(principal->expires == std::min(now + absl::Hours(1), kStart + absl::Hours(3)));
    } else {
      REQUIRE_FALSE(principal.ok());
      CHECK(GetErrorReason(principal.status()) == "SESSION_EXPIRED");
    }
  }

  std::string idle_token;
  fixture.SignInAs("jones", kUserPassword, kStart, &idle_token);
  auto idle = fixture.api->Authenticate(absl::StrCat("Bearer ", idle_token),
                                        kStart + absl::Minutes(61));
  REQUIRE_FALSE(idle.ok());
  CHECK(idle.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(GetErrorReason(idle.status()) == "SESSION_EXPIRED");
}

TEST_CASE("IdentityApi: disabled user cannot sign in") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  v1::User jones = fixture.CreateUser(admin, "jones");
  std::string token;
  fixture.SignInAs("jones", kUserPassword, kStart, &token);

  v1::UpdateUserRequest update;
  update.set_name(jones.name());
  update.add_update_fields("disabled");
  update.set_disabled(true);
  auto updated = fixture.api->UpdateUser(admin, update);
  REQUIRE(updated.ok());
  CHECK(updated->disabled());

  absl::Status session = fixture.api->Authenticate(absl::StrCat("Bearer ", token), kStart).status();
  CHECK(session.code() == absl::StatusCode::kUnauthenticated);

  v1::SignInRequest request;
  request.set_username("jones");
  request.set_password(kUserPassword);
  absl::Status signed_in = fixture.api->SignIn(request, kStart).status();
  CHECK(signed_in.code() == absl::StatusCode::kUnauthenticated);
  CHECK(GetErrorReason(signed_in) == "USER_DISABLED");
}

TEST_CASE("IdentityApi: last administrator kept") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  v1::UpdateUserRequest update;
  update.set_name(absl::StrCat("users/", admin.user_id));
  update.add_update_fields("roles");
  update.add_roles("reviewer");
  absl::Status status = fixture.api->UpdateUser(admin, update).status();
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(GetErrorReason(status) == "LAST_ADMINISTRATOR");
}

TEST_CASE("IdentityApi: password change ends other sessions") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  v1::User jones = fixture.CreateUser(admin, "jones");
  std::string first_token;
  std::string second_token;
  Principal first = fixture.SignInAs("jones", kUserPassword, kStart, &first_token);
  fixture.SignInAs("jones", kUserPassword, kStart, &second_token);

  v1::ChangePasswordRequest change;
  change.set_name(jones.name());
  change.set_new_password("a-new-password-123");
  absl::Status missing = fixture.api->ChangePassword(first, change).status();
  CHECK(missing.code() == absl::StatusCode::kInvalidArgument);
  change.set_current_password("wrong-password-1");
  absl::Status wrong = fixture.api->ChangePassword(first, change).status();
  CHECK(GetErrorReason(wrong) == "CURRENT_PASSWORD_WRONG");
  change.set_current_password(kUserPassword);
  REQUIRE(fixture.api->ChangePassword(first, change).ok());

  CHECK(fixture.api->Authenticate(absl::StrCat("Bearer ", first_token), kStart).ok());
  absl::Status other =
      fixture.api->Authenticate(absl::StrCat("Bearer ", second_token), kStart).status();
  CHECK(GetErrorReason(other) == "SESSION_REVOKED");

  v1::SignInRequest old_password;
  old_password.set_username("jones");
  old_password.set_password(kUserPassword);
  CHECK(fixture.api->SignIn(old_password, kStart).status().code() ==
        absl::StatusCode::kUnauthenticated);
  fixture.SignInAs("jones", "a-new-password-123");

  // An administrator sets a password without the current one and ends every session.
  v1::ChangePasswordRequest reset;
  reset.set_name(jones.name());
  reset.set_new_password("set-by-the-admin-1");
  REQUIRE(fixture.api->ChangePassword(admin, reset).ok());
  CHECK_FALSE(fixture.api->Authenticate(absl::StrCat("Bearer ", first_token), kStart).ok());
}

TEST_CASE("IdentityApi: user management needs administrator") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  v1::User jones = fixture.CreateUser(admin, "jones", {"radiologist", "reviewer"});
  Principal user = fixture.SignInAs("jones", kUserPassword);

  v1::CreateUserRequest create;
  create.set_username("other");
  create.set_password(kUserPassword);
  create.add_roles("radiologist");
  CHECK(fixture.api->CreateUser(user, create).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(fixture.api->ListUsers(user, {}).status().code() == absl::StatusCode::kPermissionDenied);
  v1::UpdateUserRequest update;
  update.set_name(jones.name());
  update.add_update_fields("roles");
  update.add_roles("administrator");
  CHECK(fixture.api->UpdateUser(user, update).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(fixture.api->ListAuditEvents(user, {}).status().code() ==
        absl::StatusCode::kPermissionDenied);
  v1::ChangePasswordRequest change;
  change.set_name(absl::StrCat("users/", admin.user_id));
  change.set_new_password("taken-over-password");
  CHECK(fixture.api->ChangePassword(user, change).status().code() ==
        absl::StatusCode::kPermissionDenied);
}

TEST_CASE("IdentityApi: create user validation") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  struct Case {
    const char* username;
    std::vector<std::string> roles;
    const char* password;
    const char* reason;
  };
  for (const Case& c : std::vector<Case>{
           {"ab", {"radiologist"}, kUserPassword, "USERNAME_INVALID"},
           {"has space", {"radiologist"}, kUserPassword, "USERNAME_INVALID"},
           {"jones", {}, kUserPassword, "ROLES_MISSING"},
           {"jones", {"surgeon"}, kUserPassword, "ROLE_UNKNOWN"},
           {"jones", {"radiologist"}, "elevenchars", "PASSWORD_TOO_SHORT"},
           {"jones", {"radiologist"}, "            ", "PASSWORD_TOO_WEAK"},
           {"jones", {"radiologist"}, "aaaaaaaaaaaaaaaa", "PASSWORD_TOO_WEAK"},
       }) {
    INFO("username " << c.username << " reason " << c.reason);
    v1::CreateUserRequest request;
    request.set_username(c.username);
    request.set_password(c.password);
    for (const std::string& role : c.roles) request.add_roles(role);
    absl::Status status = fixture.api->CreateUser(admin, request).status();
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(GetErrorReason(status) == c.reason);
  }
  fixture.CreateUser(admin, "jones");
  v1::CreateUserRequest again;
  again.set_username("JONES");
  again.set_password(kUserPassword);
  again.add_roles("radiologist");
  CHECK(fixture.api->CreateUser(admin, again).status().code() ==
        absl::StatusCode::kAlreadyExists);
}

TEST_CASE("IdentityApi: list users pages") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  for (int i = 0; i < 5; ++i) fixture.CreateUser(admin, absl::StrCat("user-", i));
  std::vector<std::string> seen;
  v1::ListUsersRequest request;
  request.set_page_size(2);
  for (int page = 0; page < 10; ++page) {
    auto response = fixture.api->ListUsers(admin, request);
    REQUIRE(response.ok());
    for (const v1::User& user : response->users()) seen.push_back(user.username());
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  CHECK(seen == std::vector<std::string>{"admin", "user-0", "user-1", "user-2", "user-3",
                                         "user-4"});
}

TEST_CASE("IdentityApi: lookup gives display names to anyone") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  v1::CreateUserRequest create;
  create.set_username("rita");
  create.set_display_name("Dr. Rita Moreno");
  create.set_password(kUserPassword);
  create.add_roles("radiologist");
  auto rita = fixture.api->CreateUser(admin, create);
  REQUIRE(rita.ok());
  v1::User paul = fixture.CreateUser(admin, "paul", {"participant"});
  Principal participant = fixture.SignInAs("paul", kUserPassword);
  const std::string rita_id = rita->name().substr(std::string("users/").size());
  const std::string paul_id = paul.name().substr(std::string("users/").size());

  // A participant without any other role reads names in the order asked, and ids of
  // no account, or repeated ones, are left out.
  v1::LookupUsersRequest request;
  for (const std::string& id : {paul_id, std::string("nobody"), rita_id, paul_id}) {
    request.add_user_ids(id);
  }
  auto found = fixture.api->LookupUsers(participant, request);
  REQUIRE(found.ok());
  REQUIRE(found->users_size() == 2);
  CHECK(found->users(0).name() == paul.name());
  CHECK(found->users(0).display_name() == "paul");
  CHECK(found->users(1).name() == rita->name());
  CHECK(found->users(1).display_name() == "Dr. Rita Moreno");

  // Bad requests name the value.
  v1::LookupUsersRequest empty;
  CHECK(CodeOf(fixture.api->LookupUsers(participant, empty).status()) ==
        absl::StatusCode::kInvalidArgument);
  v1::LookupUsersRequest injected;
  injected.add_user_ids("x','y");
  auto rejected = fixture.api->LookupUsers(participant, injected);
  CHECK(CodeOf(rejected.status()) == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(rejected.status().message(), "x','y"));
  v1::LookupUsersRequest many;
  for (int i = 0; i < 501; ++i) many.add_user_ids(absl::StrCat("u", i));
  CHECK(CodeOf(fixture.api->LookupUsers(participant, many).status()) ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("IdentityApi: audit write list and page") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  for (int i = 0; i < 7; ++i) {
    v1::AuditEvent event;
    *event.mutable_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
        absl::ToUnixSeconds(kStart) + i);
    event.set_user(i % 2 == 0 ? admin.user_id : "someone");
    event.set_http_method("POST");
    event.set_path("/api/ailab.catalog.v1.CatalogService/GetUseCase");
    event.set_rpc_method("ailab.catalog.v1.CatalogService/GetUseCase");
    event.set_resource(absl::StrCat("useCases/case-", i));
    event.set_http_status(200);
    event.set_request_id(absl::StrCat("req-", i));
    event.set_client_address("127.0.0.1");
    fixture.api->RecordAudit(event);
  }
  REQUIRE(fixture.api->FlushAudit().ok());

  std::vector<std::string> ids;
  v1::ListAuditEventsRequest request;
  request.set_page_size(3);
  for (int page = 0; page < 10; ++page) {
    auto response = fixture.api->ListAuditEvents(admin, request);
    REQUIRE(response.ok());
    for (const v1::AuditEvent& event : response->events()) ids.push_back(event.request_id());
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  CHECK(ids == std::vector<std::string>{"req-6", "req-5", "req-4", "req-3", "req-2", "req-1",
                                        "req-0"});

  v1::ListAuditEventsRequest by_user;
  by_user.set_user("someone");
  auto user_events = fixture.api->ListAuditEvents(admin, by_user);
  REQUIRE(user_events.ok());
  CHECK(user_events->events_size() == 3);

  v1::ListAuditEventsRequest by_resource;
  by_resource.set_resource_prefix("useCases/case-4");
  auto resource_events = fixture.api->ListAuditEvents(admin, by_resource);
  REQUIRE(resource_events.ok());
  REQUIRE(resource_events->events_size() == 1);
  CHECK(resource_events->events(0).http_status() == 200);
  CHECK(resource_events->events(0).path() == "/api/ailab.catalog.v1.CatalogService/GetUseCase");

  v1::ListAuditEventsRequest bad_token;
  bad_token.set_page_token("not-a-token");
  CHECK(fixture.api->ListAuditEvents(admin, bad_token).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("IdentityApi: audit text and time round-trip") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  // COPY's text format gives tab, newline, backslash and "\N" a meaning of their own.
  const std::string resource = "useCases/a\tb\nc\\d \\N 'x' \"y\" \xc3\xa9";
  v1::AuditEvent event;
  *event.mutable_time() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(kStart) + 123457);
  event.set_user("user\twith tab");
  event.set_resource(resource);
  event.set_http_status(404);
  event.set_request_id("escape-1");
  fixture.api->RecordAudit(event);
  REQUIRE(fixture.api->FlushAudit().ok());

  auto response = fixture.api->ListAuditEvents(admin, {});
  REQUIRE(response.ok());
  REQUIRE(response->events_size() == 1);
  const v1::AuditEvent& stored = response->events(0);
  CHECK(stored.resource() == resource);
  CHECK(stored.user() == "user\twith tab");
  CHECK(stored.http_status() == 404);
  CHECK(stored.http_method().empty());
  CHECK(google::protobuf::util::TimeUtil::TimestampToMicroseconds(stored.time()) ==
        absl::ToUnixMicros(kStart) + 123457);
}

TEST_CASE("IdentityApi: audit written by background thread") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  v1::AuditEvent event;
  event.set_request_id("background-1");
  fixture.api->RecordAudit(event);
  // The thread writes within 200 ms; poll without asserting on the time taken.
  bool found = false;
  for (int attempt = 0; attempt < 200 && !found; ++attempt) {
    auto response = fixture.api->ListAuditEvents(admin, {});
    REQUIRE(response.ok());
    found = response->events_size() == 1;
    if (!found) absl::SleepFor(absl::Milliseconds(50));
  }
  CHECK(found);
}

TEST_CASE("IdentityApi: destructor flushes audit") {
  Fixture fixture;
  Principal admin = fixture.Admin();
  v1::AuditEvent event;
  event.set_request_id("at-shutdown");
  fixture.api->RecordAudit(event);
  fixture.api.reset();
  auto reopened = IdentityApi::Create(fixture.pool.get(), IdentityOptions{});
  REQUIRE(reopened.ok());
  auto response = (*reopened)->ListAuditEvents(admin, {});
  REQUIRE(response.ok());
  REQUIRE(response->events_size() == 1);
  CHECK(response->events(0).request_id() == "at-shutdown");
}

}  // namespace
}  // namespace ailab::identity
