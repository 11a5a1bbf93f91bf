#include "ailab/status/status.h"

#include <catch2/catch.hpp>

namespace {

absl::StatusOr<int> ParsePositive(int value) {
  if (value <= 0) {
    return ailab::InvalidArgument("NOT_POSITIVE", "value", "value must be positive");
  }
  return value;
}

absl::Status UseMacros(int value, int* out) {
  AILAB_ASSIGN_OR_RETURN(int parsed, ParsePositive(value));
  AILAB_RETURN_IF_ERROR(parsed > 100 ? ailab::FailedPrecondition("TOO_BIG", "too big")
                                     : absl::OkStatus());
  *out = parsed;
  return absl::OkStatus();
}

TEST_CASE("MakeError attaches ErrorInfo with domain and metadata", "[status]") {
  ailab::SetErrorDomain("test.ailab");
  absl::Status status = ailab::NotFound("USE_CASE_NOT_FOUND", "use case useCases/x not found",
                                        {{"name", "useCases/x"}});
  CHECK(status.code() == absl::StatusCode::kNotFound);
  auto info = ailab::GetErrorInfo(status);
  REQUIRE(info.has_value());
  CHECK(info->reason() == "USE_CASE_NOT_FOUND");
  CHECK(info->domain() == "test.ailab");
  CHECK(info->metadata().at("name") == "useCases/x");
}

TEST_CASE("InvalidArgument attaches a BadRequest naming the field", "[status]") {
  absl::Status status = ailab::InvalidArgument("MISSING_FIELD", "parent", "parent is required");
  auto payload = status.GetPayload(ailab::kBadRequestTypeUrl);
  REQUIRE(payload.has_value());
  google::rpc::BadRequest bad_request;
  REQUIRE(bad_request.ParseFromString(std::string(*payload)));
  REQUIRE(bad_request.field_violations_size() == 1);
  CHECK(bad_request.field_violations(0).field() == "parent");
}

TEST_CASE("Annotate keeps code and payloads", "[status]") {
  absl::Status annotated =
      ailab::Annotate(ailab::Unavailable("DB_DOWN", "connection refused"), "saving annotation");
  CHECK(annotated.code() == absl::StatusCode::kUnavailable);
  CHECK(annotated.message() == "saving annotation: connection refused");
  CHECK(ailab::GetErrorReason(annotated) == "DB_DOWN");
  CHECK(ailab::Annotate(absl::OkStatus(), "ignored").ok());
}

TEST_CASE("Status macros return early and assign", "[status]") {
  int out = 0;
  CHECK(UseMacros(5, &out).ok());
  CHECK(out == 5);
  CHECK(UseMacros(-1, &out).code() == absl::StatusCode::kInvalidArgument);
  CHECK(UseMacros(500, &out).code() == absl::StatusCode::kFailedPrecondition);
}

}  // namespace
