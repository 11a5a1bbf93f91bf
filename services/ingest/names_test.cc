#include "names.h"

#include <catch2/catch.hpp>

namespace {

using ailab::ingest::ParseChildName;
using ailab::ingest::ParseDatasetName;

TEST_CASE("ParseDatasetName: valid and invalid names", "[names]") {
  auto id = ParseDatasetName("datasets/breast-2024", "name");
  REQUIRE(id.ok());
  CHECK(*id == "breast-2024");
  for (const char* bad : {"", "datasets/", "datasets/Upper", "useCases/x", "datasets/a/b",
                          "datasets/a b"}) {
    INFO(bad);
    auto parsed = ParseDatasetName(bad, "name");
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("ParseChildName: instances and runs", "[names]") {
  auto name = ParseChildName("datasets/d1/instances/0123abcd", "instances", "name");
  REQUIRE(name.ok());
  CHECK(name->dataset_id == "d1");
  CHECK(name->id == "0123abcd");
  CHECK(ParseChildName("datasets/d1/studies/x", "instances", "name").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ParseChildName("datasets/d1/instances", "instances", "name").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ValidateDatasetId: rules for client ids", "[names]") {
  CHECK(ailab::ingest::ValidateDatasetId("mammo-1").ok());
  CHECK_FALSE(ailab::ingest::ValidateDatasetId("1mammo").ok());
  CHECK_FALSE(ailab::ingest::ValidateDatasetId("mammo-").ok());
  CHECK_FALSE(ailab::ingest::ValidateDatasetId(std::string(64, 'a')).ok());
}

TEST_CASE("DerivedId: stable and short", "[names]") {
  CHECK(ailab::ingest::DerivedId("2.25.1") == ailab::ingest::DerivedId("2.25.1"));
  CHECK(ailab::ingest::DerivedId("2.25.1") != ailab::ingest::DerivedId("2.25.2"));
  CHECK(ailab::ingest::DerivedId("x").size() == 16);
}

}  // namespace
