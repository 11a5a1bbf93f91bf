#include <catch2/catch.hpp>

#include <string>

#include "absl/strings/match.h"
#include "ailab/identity/identity.h"
#include "ailab/status/status.h"
#include "password.h"

namespace ailab::identity {
namespace {

const PasswordParams kCheap{64, 1, 1};

TEST_CASE("HashPassword: verifies with the same password") {
  auto hash = HashPassword("a long enough password", kCheap);
  REQUIRE(hash.ok());
  CHECK(absl::StartsWith(*hash, "$argon2id$v=19$m=64,t=1,p=1$"));
  auto matches = VerifyPassword("a long enough password", *hash);
  REQUIRE(matches.ok());
  CHECK(*matches);
}

TEST_CASE("HashPassword: wrong password does not verify") {
  auto hash = HashPassword("a long enough password", kCheap);
  REQUIRE(hash.ok());
  for (const char* wrong : {"", "a long enough passwor", "A long enough password",
                            "a long enough password "}) {
    INFO("password \"" << wrong << "\"");
    auto matches = VerifyPassword(wrong, *hash);
    REQUIRE(matches.ok());
    CHECK_FALSE(*matches);
  }
}

TEST_CASE("HashPassword: salts differ") {
  auto first = HashPassword("same password here", kCheap);
  auto second = HashPassword("same password here", kCheap);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(*first != *second);
}

TEST_CASE("HashPassword: default cost parameters") {
  auto hash = HashPassword("a long enough password", PasswordParams{});
  REQUIRE(hash.ok());
  auto params = internal::ParsePhcParams(*hash);
  REQUIRE(params.ok());
  CHECK(params->memory_kib == 19456);
  CHECK(params->iterations == 2);
  CHECK(params->parallelism == 1);
}

TEST_CASE("HashPassword: out of range cost rejected") {
  CHECK(HashPassword("x", PasswordParams{4, 1, 1}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(HashPassword("x", PasswordParams{64, 0, 1}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(HashPassword("x", PasswordParams{64, 1, 0}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ParsePhcParams: reads m t p") {
  auto params = internal::ParsePhcParams("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g");
  REQUIRE(params.ok());
  CHECK(params->memory_kib == 65536);
  CHECK(params->iterations == 3);
  CHECK(params->parallelism == 4);
}

TEST_CASE("VerifyPassword: non-argon2id strings rejected") {
  for (const char* phc : {
           "",
           "plain-text",
           "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
           "$argon2d$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
           "$2b$12$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY",
           "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
           "$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$aGFzaGhhc2g",
           "$argon2id$v=19$m=x,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
           "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
           "$argon2id$v=19$m=64,t=1,p=1$$aGFzaGhhc2g",
           "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ",
       }) {
    INFO("phc \"" << phc << "\"");
    absl::StatusOr<bool> result = VerifyPassword("password", phc);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(GetErrorReason(result.status()) == "PASSWORD_HASH_INVALID");
  }
}

}  // namespace
}  // namespace ailab::identity
