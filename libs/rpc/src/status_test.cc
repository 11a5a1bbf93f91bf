#include "ailab/rpc/status.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"

TEST_CASE("ToGrpcStatus round-trips code, message and ErrorInfo", "[rpc]") {
  absl::Status original = ailab::NotFound("DATASET_NOT_FOUND", "dataset datasets/d1 not found",
                                          {{"name", "datasets/d1"}});
  grpc::Status wire = ailab::rpc::ToGrpcStatus(original);
  CHECK(wire.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(wire.error_message() == "dataset datasets/d1 not found");
  CHECK_FALSE(wire.error_details().empty());

  absl::Status back = ailab::rpc::FromGrpcStatus(wire);
  CHECK(back.code() == absl::StatusCode::kNotFound);
  CHECK(ailab::GetErrorReason(back) == "DATASET_NOT_FOUND");
  CHECK(ailab::GetErrorInfo(back)->metadata().at("name") == "datasets/d1");
}

TEST_CASE("ToGrpcStatus never sends an empty message", "[rpc]") {
  grpc::Status wire = ailab::rpc::ToGrpcStatus(absl::InternalError(""));
  CHECK(wire.error_code() == grpc::StatusCode::INTERNAL);
  CHECK_FALSE(wire.error_message().empty());
  CHECK(ailab::rpc::ToGrpcStatus(absl::OkStatus()).ok());
}

TEST_CASE("ToGrpcStatus shortens long messages and values", "[rpc]") {
  const std::string name(5000, 'x');
  absl::Status original = ailab::InvalidArgument(
      "INVALID_NAME", "name", absl::StrCat("name \"", name, "\" is invalid; use datasets/{id}"),
      {{"name", name}});
  grpc::Status wire = ailab::rpc::ToGrpcStatus(original);
  CHECK(wire.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(wire.error_message().size() <= 1024);
  // The end, which states what to do, is kept.
  CHECK(absl::EndsWith(wire.error_message(), "use datasets/{id}"));
  // Message, BadRequest description and ErrorInfo value, each shortened.
  CHECK(wire.error_details().size() < 3 * 1024);

  absl::Status back = ailab::rpc::FromGrpcStatus(wire);
  CHECK(ailab::GetErrorReason(back) == "INVALID_NAME");
  CHECK(ailab::GetErrorInfo(back)->metadata().at("name").size() <= 256);
}

TEST_CASE("ToGrpcStatus cuts between UTF-8 characters", "[rpc]") {
  std::string text;
  for (int i = 0; i < 800; ++i) text += "\u00e9";  // é, two bytes
  grpc::Status wire = ailab::rpc::ToGrpcStatus(absl::InvalidArgumentError(text));
  const std::string& message = wire.error_message();
  REQUIRE(message.size() <= 1024);
  // Every multi-byte sequence is whole: no lead byte without its continuation byte.
  for (size_t i = 0; i < message.size(); ++i) {
    const auto byte = static_cast<unsigned char>(message[i]);
    if (byte == 0xC3) {
      REQUIRE(i + 1 < message.size());
      CHECK((static_cast<unsigned char>(message[i + 1]) & 0xC0) == 0x80);
    }
    if ((byte & 0xC0) == 0x80) CHECK(i > 0);
  }
}
