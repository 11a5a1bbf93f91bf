#include "ailab/rpc/identity.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ailab/config/flags.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "identity_internal.h"

namespace ailab::rpc {
namespace {

constexpr char kKey[] = "internal-token-for-tests";
const absl::Time kNow = absl::FromUnixSeconds(1800000000);

Identity Alice() {
  Identity identity;
  identity.user = "a1b2c3d4e5f60718";
  identity.roles = {kRoleRadiologist, kRoleParticipant};
  identity.expires = kNow + absl::Minutes(5);
  identity.request_id = "req-\"quoted\"\n1";
  return identity;
}

// Replaces the part `index` of a signed value.
std::string ReplacePart(const std::string& value, size_t index, const std::string& part) {
  std::vector<std::string> parts = absl::StrSplit(value, '.');
  parts.at(index) = part;
  return absl::StrJoin(parts, ".");
}

void CheckInvalid(const absl::StatusOr<Identity>& result) {
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(GetErrorReason(result.status()) == "IDENTITY_INVALID");
}

TEST_CASE("VerifyIdentity: round trip") {
  const std::string value = SignIdentity(Alice(), kKey);
  CHECK(absl::StartsWith(value, "v1."));
  absl::StatusOr<Identity> identity = VerifyIdentity(value, kKey, kNow);
  REQUIRE(identity.ok());
  CHECK(identity->user == "a1b2c3d4e5f60718");
  CHECK(identity->roles == std::vector<std::string>{"radiologist", "participant"});
  CHECK(identity->expires == kNow + absl::Minutes(5));
  CHECK(identity->request_id == "req-\"quoted\"\n1");
}

TEST_CASE("VerifyIdentity: tampered payload rejected") {
  const std::string forged_payload = absl::WebSafeBase64Escape(
      absl::StrCat("{\"sub\":\"a1b2c3d4e5f60718\",\"roles\":[\"administrator\"],\"exp\":",
                   absl::ToUnixSeconds(kNow) + 300, ",\"rid\":\"x\"}"));
  const std::string value = ReplacePart(SignIdentity(Alice(), kKey), 1, forged_payload);
  CheckInvalid(VerifyIdentity(value, kKey, kNow));
}

TEST_CASE("VerifyIdentity: tampered signature rejected") {
  const std::string value = SignIdentity(Alice(), kKey);
  std::string changed = value;
  changed.back() = changed.back() == 'A' ? 'B' : 'A';
  CheckInvalid(VerifyIdentity(changed, kKey, kNow));
  CheckInvalid(VerifyIdentity(ReplacePart(value, 2, ""), kKey, kNow));
  CheckInvalid(VerifyIdentity(ReplacePart(value, 2, "not*base64"), kKey, kNow));
}

TEST_CASE("VerifyIdentity: wrong key rejected") {
  CheckInvalid(VerifyIdentity(SignIdentity(Alice(), kKey), "another-token", kNow));
  CheckInvalid(VerifyIdentity(SignIdentity(Alice(), ""), kKey, kNow));
}

TEST_CASE("VerifyIdentity: expired identity rejected") {
  const std::string value = SignIdentity(Alice(), kKey);
  CHECK(VerifyIdentity(value, kKey, kNow + absl::Minutes(5) - absl::Seconds(1)).ok());
  absl::StatusOr<Identity> late = VerifyIdentity(value, kKey, kNow + absl::Minutes(5));
  REQUIRE_FALSE(late.ok());
  CHECK(late.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(GetErrorReason(late.status()) == "IDENTITY_EXPIRED");
}

TEST_CASE("VerifyIdentity: garbage rejected") {
  for (const char* value : {"", "garbage", "v1", "v1.", "v1..", "...", "v1.e30.e30",
                            "\xff\xfe.\x01.\x02"}) {
    INFO("value \"" << value << "\"");
    CheckInvalid(VerifyIdentity(value, kKey, kNow));
  }
}

TEST_CASE("VerifyIdentity: missing or extra parts rejected") {
  const std::string value = SignIdentity(Alice(), kKey);
  std::vector<std::string> parts = absl::StrSplit(value, '.');
  CheckInvalid(VerifyIdentity(absl::StrCat(parts[0], ".", parts[1]), kKey, kNow));
  CheckInvalid(VerifyIdentity(absl::StrCat(parts[1], ".", parts[2]), kKey, kNow));
  CheckInvalid(VerifyIdentity(absl::StrCat(value, ".extra"), kKey, kNow));
  CheckInvalid(VerifyIdentity(ReplacePart(value, 0, "v2"), kKey, kNow));
}

// Signs `json` the way the gateway does, to reach the payload checks.
std::string SignPayload(const std::string& json) {
  const std::string signed_part = absl::StrCat("v1.", absl::WebSafeBase64Escape(json));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kKey, sizeof(kKey) - 1,
       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), digest,
       &length);
  return absl::StrCat(signed_part, ".",
                      absl::WebSafeBase64Escape(
                          absl::string_view(reinterpret_cast<const char*>(digest), length)));
}

TEST_CASE("VerifyIdentity: signed bad payloads rejected") {
  CHECK(VerifyIdentity(SignPayload("{\"sub\":\"u1\",\"roles\":[],\"exp\":1900000000}"), kKey,
                       kNow)
            .ok());
  for (const char* json : {
           "not json",
           "{\"sub\":\"u1\",\"roles\":[",
           "[1,2]",
           "{}",
           "{\"sub\":\"\",\"roles\":[],\"exp\":1900000000}",
           "{\"sub\":7,\"roles\":[],\"exp\":1900000000}",
           "{\"sub\":\"u1\",\"exp\":1900000000}",
           "{\"sub\":\"u1\",\"roles\":[3],\"exp\":1900000000}",
           "{\"sub\":\"u1\",\"roles\":[]}",
           "{\"sub\":\"u1\",\"roles\":[],\"exp\":\"1900000000\"}",
           "{\"sub\":\"u1\",\"roles\":[],\"exp\":1900000000.5}",
           "{\"sub\":\"u1\",\"roles\":[],\"exp\":-1}",
           "{\"sub\":\"u1\",\"roles\":[],\"exp\":1e300}",
           "{\"sub\":\"u1\",\"roles\":[],\"exp\":1900000000,\"rid\":5}",
       }) {
    INFO("payload " << json);
    CheckInvalid(VerifyIdentity(SignPayload(json), kKey, kNow));
  }
}

TEST_CASE("ResolveCaller: signed identity is the caller") {
  internal::CallerMetadata metadata;
  metadata.identity = SignIdentity(Alice(), kKey);
  absl::StatusOr<CallerInfo> caller = internal::ResolveCaller(metadata, kKey, kNow);
  REQUIRE(caller.ok());
  REQUIRE(caller->identity.has_value());
  CHECK(caller->identity->user == "a1b2c3d4e5f60718");
  CHECK_FALSE(caller->internal);

  metadata.internal_token = kKey;
  metadata.user = "someone-else";
  caller = internal::ResolveCaller(metadata, kKey, kNow);
  REQUIRE(caller.ok());
  CHECK(caller->internal);
  CHECK(caller->identity->user == "a1b2c3d4e5f60718");
}

TEST_CASE("ResolveCaller: bad signature is unauthenticated") {
  internal::CallerMetadata metadata;
  metadata.identity = SignIdentity(Alice(), "wrong-key");
  metadata.internal_token = kKey;
  absl::StatusOr<CallerInfo> caller = internal::ResolveCaller(metadata, kKey, kNow);
  REQUIRE_FALSE(caller.ok());
  CHECK(caller.status().code() == absl::StatusCode::kUnauthenticated);
}

TEST_CASE("ResolveCaller: legacy user with internal token") {
  internal::CallerMetadata metadata;
  metadata.user = "bob";
  metadata.internal_token = kKey;
  absl::StatusOr<CallerInfo> caller = internal::ResolveCaller(metadata, kKey, kNow);
  REQUIRE(caller.ok());
  CHECK(caller->internal);
  REQUIRE(caller->identity.has_value());
  CHECK(caller->identity->user == "bob");
  CHECK(caller->identity->roles.empty());
}

TEST_CASE("ResolveCaller: legacy user without token") {
  internal::CallerMetadata metadata;
  metadata.user = "bob";
  absl::StatusOr<CallerInfo> caller = internal::ResolveCaller(metadata, kKey, kNow);
  REQUIRE_FALSE(caller.ok());
  CHECK(caller.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(GetErrorReason(caller.status()) == "USER_UNSIGNED");

  metadata.internal_token = "wrong";
  caller = internal::ResolveCaller(metadata, kKey, kNow);
  REQUIRE_FALSE(caller.ok());
  CHECK(caller.status().code() == absl::StatusCode::kUnauthenticated);
}

TEST_CASE("ResolveCaller: legacy user when no token configured") {
  internal::CallerMetadata metadata;
  metadata.user = "bob";
  absl::StatusOr<CallerInfo> caller = internal::ResolveCaller(metadata, "", kNow);
  REQUIRE(caller.ok());
  CHECK(caller->internal);
  REQUIRE(caller->identity.has_value());
  CHECK(caller->identity->user == "bob");
}

TEST_CASE("ResolveCaller: platform service without user") {
  internal::CallerMetadata metadata;
  metadata.internal_token = kKey;
  absl::StatusOr<CallerInfo> caller = internal::ResolveCaller(metadata, kKey, kNow);
  REQUIRE(caller.ok());
  CHECK(caller->internal);
  CHECK_FALSE(caller->identity.has_value());

  metadata.internal_token.reset();
  caller = internal::ResolveCaller(metadata, kKey, kNow);
  CHECK(caller.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(GetErrorReason(caller.status()) == "CALLER_UNKNOWN");

  metadata.internal_token = "guessed";
  caller = internal::ResolveCaller(metadata, kKey, kNow);
  CHECK(GetErrorReason(caller.status()) == "CALLER_UNKNOWN");
}

TEST_CASE("ResolveCaller: anyone is a platform caller when no token is configured") {
  internal::CallerMetadata metadata;
  absl::StatusOr<CallerInfo> caller = internal::ResolveCaller(metadata, "", kNow);
  REQUIRE(caller.ok());
  CHECK(caller->internal);
  CHECK_FALSE(caller->identity.has_value());
}

TEST_CASE("Identity: administrator has every role") {
  Identity identity;
  identity.roles = {kRoleAdministrator};
  CHECK(identity.HasRole(kRoleReviewer));
  identity.roles = {kRoleRadiologist};
  CHECK(identity.HasRole(kRoleRadiologist));
  CHECK_FALSE(identity.HasRole(kRoleReviewer));
}

// A Health service whose Check returns CallerOf's error, or the caller's user id in a
// NOT_FOUND message ("user=<id> internal=<0|1>") so the test can read it back.
class CallerEchoService final : public grpc::health::v1::Health::Service {
 public:
  grpc::Status Check(grpc::ServerContext* context, const grpc::health::v1::HealthCheckRequest*,
                     grpc::health::v1::HealthCheckResponse*) override {
    absl::StatusOr<CallerInfo> caller = CallerOf(*context);
    if (!caller.ok()) return ToGrpcStatus(caller.status());
    const std::string user = caller->identity.has_value() ? caller->identity->user : "(none)";
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("user=", user, " internal=", caller->internal ? 1 : 0));
  }
};

TEST_CASE("CallerOf: reads metadata of a real call") {
  absl::SetFlag(&FLAGS_internal_token, kKey);
  CallerEchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  REQUIRE(server != nullptr);
  auto stub = grpc::health::v1::Health::NewStub(Connect(absl::StrCat("127.0.0.1:", port)));

  auto call = [&](const std::function<void(grpc::ClientContext&)>& add_metadata) {
    grpc::ClientContext context;
    SetTimeout(context, absl::Seconds(10));
    add_metadata(context);
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    return stub->Check(&context, request, &response);
  };

  Identity alice = Alice();
  alice.expires = absl::Now() + absl::Minutes(5);
  grpc::Status signed_call = call([&](grpc::ClientContext& context) {
    AddIdentity(context, alice);
    AddInternalToken(context);
  });
  CHECK(signed_call.error_message() == "user=a1b2c3d4e5f60718 internal=1");

  grpc::Status legacy_with_token = call([&](grpc::ClientContext& context) {
    context.AddMetadata(kUserKey, "bob");
    AddInternalToken(context);
  });
  CHECK(legacy_with_token.error_message() == "user=bob internal=1");

  grpc::Status legacy_without_token =
      call([&](grpc::ClientContext& context) { context.AddMetadata(kUserKey, "bob"); });
  CHECK(legacy_without_token.error_code() == grpc::StatusCode::UNAUTHENTICATED);

  grpc::Status forged = call([&](grpc::ClientContext& context) {
    context.AddMetadata(kIdentityKey, SignIdentity(alice, "not-the-token"));
  });
  CHECK(forged.error_code() == grpc::StatusCode::UNAUTHENTICATED);

  grpc::Status anonymous = call([](grpc::ClientContext&) {});
  CHECK(anonymous.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(anonymous.error_message().find("AILAB_INTERNAL_TOKEN") != std::string::npos);

  grpc::Status platform = call([](grpc::ClientContext& context) { AddInternalToken(context); });
  CHECK(platform.error_message() == "user=(none) internal=1");

  server->Shutdown();
  absl::SetFlag(&FLAGS_internal_token, "");
}

}  // namespace
}  // namespace ailab::rpc
