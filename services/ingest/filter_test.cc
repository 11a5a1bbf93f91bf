#include "filter.h"

#include <catch2/catch.hpp>

namespace {

using ailab::ingest::ParseInstanceFilter;

TEST_CASE("ParseInstanceFilter: conditions joined by AND", "[filter]") {
  auto conditions = ParseInstanceFilter("split=train AND array_ready=TRUE and view = \"MLO\"");
  REQUIRE(conditions.ok());
  REQUIRE(conditions->size() == 3);
  CHECK((*conditions)[0].field == "split");
  CHECK((*conditions)[0].value == "TRAIN");
  CHECK((*conditions)[1].boolean);
  CHECK((*conditions)[1].value == "true");
  CHECK((*conditions)[2].value == "MLO");
}

TEST_CASE("ParseInstanceFilter: empty filter has no conditions", "[filter]") {
  auto conditions = ParseInstanceFilter("  ");
  REQUIRE(conditions.ok());
  CHECK(conditions->empty());
}

TEST_CASE("ParseInstanceFilter: study names reduce to ids", "[filter]") {
  auto conditions = ParseInstanceFilter("study=datasets/d/studies/abc123");
  REQUIRE(conditions.ok());
  CHECK((*conditions)[0].value == "abc123");
}

TEST_CASE("ParseInstanceFilter: malformed filters are rejected", "[filter]") {
  for (const char* bad : {"split", "color=red", "split=LATER", "png_ready=maybe", "split=TRAIN AND",
                          "split=TRAIN OR split=TEST"}) {
    INFO(bad);
    auto conditions = ParseInstanceFilter(bad);
    REQUIRE_FALSE(conditions.ok());
    CHECK(conditions.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
