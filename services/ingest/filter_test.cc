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

TEST_CASE("ParseInstanceFilter: quoted values keep spaces and AND", "[filter]") {
  auto conditions =
      ParseInstanceFilter("source_file=\"scan AND view.dcm\" and modality='MG' AND view=CC");
  REQUIRE(conditions.ok());
  REQUIRE(conditions->size() == 3);
  CHECK((*conditions)[0].value == "scan AND view.dcm");
  CHECK((*conditions)[1].value == "MG");
  CHECK((*conditions)[2].value == "CC");
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
                          "split=TRAIN OR split=TEST", "modality=\"MG\" OR 1=1",
                          "modality=\"MG\"x", "source_file=my scan.dcm", "view=\"MLO"}) {
    INFO(bad);
    auto conditions = ParseInstanceFilter(bad);
    REQUIRE_FALSE(conditions.ok());
    CHECK(conditions.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
