#include "ailab/rpc/internal_caller.h"

#include <catch2/catch.hpp>

namespace ailab::rpc {
namespace {

TEST_CASE("CheckInternalToken: matching token passes") {
  CHECK(CheckInternalToken("s3cret-token", "s3cret-token", "Score").ok());
}

TEST_CASE("CheckInternalToken: wrong or missing token denied") {
  for (const char* given : {"", "s3cret-toke", "s3cret-token2", "S3CRET-TOKEN"}) {
    INFO("given \"" << given << "\"");
    absl::Status status = CheckInternalToken("s3cret-token", given, "Score");
    CHECK(status.code() == absl::StatusCode::kPermissionDenied);
    CHECK(status.message().find("Score") != absl::string_view::npos);
  }
}

TEST_CASE("CheckInternalToken: no configured token lets calls through") {
  CHECK(CheckInternalToken("", "", "Score").ok());
  CHECK(CheckInternalToken("", "anything", "Score").ok());
}

}  // namespace
}  // namespace ailab::rpc
