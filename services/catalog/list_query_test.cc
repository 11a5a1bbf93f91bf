#include "list_query.h"

#include <catch2/catch.hpp>

#include "ailab/status/status.h"

namespace ailab::catalog {
namespace {

TEST_CASE("ParseUseCaseFilter: empty filter has no conditions", "[catalog]") {
  auto empty = ParseUseCaseFilter("");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  auto spaces = ParseUseCaseFilter("   ");
  REQUIRE(spaces.ok());
  CHECK(spaces->empty());
}

TEST_CASE("ParseUseCaseFilter: parses AND-joined conditions", "[catalog]") {
  auto conditions = ParseUseCaseFilter("body_area=BREAST AND state=PUBLISHED");
  REQUIRE(conditions.ok());
  REQUIRE(conditions->size() == 2);
  CHECK((*conditions)[0] == FilterCondition{"body_area", false, "BREAST"});
  CHECK((*conditions)[1] == FilterCondition{"state", false, "PUBLISHED"});
}

TEST_CASE("ParseUseCaseFilter: accepts spacing, case, quotes and !=", "[catalog]") {
  auto conditions =
      ParseUseCaseFilter("  modality = ct and task_kind!=\"DETECTION\" AND submitter=\"alice\" ");
  REQUIRE(conditions.ok());
  REQUIRE(conditions->size() == 3);
  CHECK((*conditions)[0] == FilterCondition{"modality", false, "CT"});
  CHECK((*conditions)[1] == FilterCondition{"task_kind", true, "DETECTION"});
  CHECK((*conditions)[2] == FilterCondition{"submitter", false, "alice"});
}

TEST_CASE("ParseUseCaseFilter: PET is an alias of modality PT", "[catalog]") {
  auto conditions = ParseUseCaseFilter("modality=PET");
  REQUIRE(conditions.ok());
  REQUIRE(conditions->size() == 1);
  CHECK((*conditions)[0].value == "PT");
}

TEST_CASE("ParseUseCaseFilter: rejects unknown fields", "[catalog]") {
  auto result = ParseUseCaseFilter("colour=BLUE");
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(result.status()) == "INVALID_FILTER");
  std::string message(result.status().message());
  CHECK(message.find("colour") != std::string::npos);
  CHECK(message.find("body_area") != std::string::npos);
}

TEST_CASE("ParseUseCaseFilter: rejects unknown enum values", "[catalog]") {
  auto result = ParseUseCaseFilter("body_area=ELBOW");
  REQUIRE_FALSE(result.ok());
  std::string message(result.status().message());
  CHECK(message.find("ELBOW") != std::string::npos);
  CHECK(message.find("BREAST") != std::string::npos);
}

TEST_CASE("ParseUseCaseFilter: rejects malformed syntax", "[catalog]") {
  const char* malformed =
      GENERATE("body_area", "body_area=", "=BREAST", "body_area BREAST", "state=PUBLISHED AND",
               "state=PUBLISHED OR state=DRAFT", "state=PUBLISHED state=DRAFT", "state!PUBLISHED",
               "submitter=\"alice", "state==PUBLISHED", "AND state=DRAFT");
  CAPTURE(malformed);
  auto result = ParseUseCaseFilter(malformed);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(result.status()) == "INVALID_FILTER");
  CHECK(std::string(result.status().message()).find(malformed) != std::string::npos);
}

TEST_CASE("ParseUseCaseFilter: rejects a submitter with spaces", "[catalog]") {
  CHECK_FALSE(ParseUseCaseFilter("submitter=\"alice smith\"").ok());
}

TEST_CASE("ParseUseCaseOrderBy: parses fields and directions", "[catalog]") {
  auto empty = ParseUseCaseOrderBy(" ");
  REQUIRE(empty.ok());
  CHECK(empty->empty());

  auto terms = ParseUseCaseOrderBy("update_time desc, display_name");
  REQUIRE(terms.ok());
  REQUIRE(terms->size() == 2);
  CHECK((*terms)[0] == OrderTerm{"update_time", true});
  CHECK((*terms)[1] == OrderTerm{"display_name", false});

  auto ascending = ParseUseCaseOrderBy("create_time ASC");
  REQUIRE(ascending.ok());
  CHECK((*ascending)[0] == OrderTerm{"create_time", false});
}

TEST_CASE("ParseUseCaseOrderBy: rejects bad input", "[catalog]") {
  const char* bad =
      GENERATE("name", "display_name sideways", "display_name desc extra", "display_name,",
               "display_name, display_name desc", "state; DROP TABLE use_cases");
  CAPTURE(bad);
  auto result = ParseUseCaseOrderBy(bad);
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(result.status()) == "INVALID_ORDER_BY");
}

TEST_CASE("BuildTextSearchQuery: makes prefix AND queries", "[catalog]") {
  auto query = BuildTextSearchQuery("Dense breast!");
  REQUIRE(query.ok());
  CHECK(*query == "dense:* & breast:*");

  auto quoted = BuildTextSearchQuery("it's' & | ! (x)");
  REQUIRE(quoted.ok());
  CHECK(*quoted == "it:* & s:* & x:*");

  auto empty = BuildTextSearchQuery("  ");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("BuildTextSearchQuery: rejects punctuation-only and long queries", "[catalog]") {
  auto punctuation = BuildTextSearchQuery("!!!");
  REQUIRE_FALSE(punctuation.ok());
  CHECK(GetErrorReason(punctuation.status()) == "INVALID_QUERY");
  CHECK(std::string(punctuation.status().message()).find("!!!") != std::string::npos);

  CHECK_FALSE(BuildTextSearchQuery(std::string(201, 'a')).ok());
  CHECK_FALSE(BuildTextSearchQuery("a b c d e f g h i j k l m n o p q r s t u").ok());
}

}  // namespace
}  // namespace ailab::catalog
