#include "ailab/rpc/status.h"

#include <catch2/catch.hpp>

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
