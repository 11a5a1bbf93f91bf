#include "names.h"

#include <catch2/catch.hpp>

#include "ailab/status/status.h"

namespace ailab::catalog {
namespace {

TEST_CASE("ParseUseCaseName: accepts valid names", "[catalog]") {
  auto id = ParseUseCaseName("useCases/breast-density", "name");
  REQUIRE(id.ok());
  CHECK(*id == "breast-density");

  auto short_id = ParseUseCaseName("useCases/abc", "name");
  REQUIRE(short_id.ok());
  CHECK(*short_id == "abc");

  std::string longest = "useCases/a" + std::string(62, 'b');
  CHECK(ParseUseCaseName(longest, "name").ok());
}

TEST_CASE("ParseUseCaseName: empty name is MISSING_FIELD", "[catalog]") {
  auto id = ParseUseCaseName("", "name");
  REQUIRE_FALSE(id.ok());
  CHECK(id.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(id.status()) == "MISSING_FIELD");
  CHECK(std::string(id.status().message()).find("name") != std::string::npos);
}

TEST_CASE("ParseUseCaseName: malformed names are rejected", "[catalog]") {
  const char* malformed =
      GENERATE("breast-density", "usecases/breast-density", "useCases/Breast-Density",
               "useCases/ab", "useCases/", "useCases/1abc", "useCases/abc-", "useCases/abc_def",
               "useCases/abc/def", "datasets/abc");
  CAPTURE(malformed);
  auto id = ParseUseCaseName(malformed, "name");
  REQUIRE_FALSE(id.ok());
  CHECK(id.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(id.status()) == "INVALID_USE_CASE_NAME");
  CHECK(std::string(id.status().message()).find(malformed) != std::string::npos);
}

TEST_CASE("ParseUseCaseName: id over 63 characters is rejected", "[catalog]") {
  std::string name = "useCases/a" + std::string(63, 'b');
  CHECK_FALSE(ParseUseCaseName(name, "name").ok());
}

TEST_CASE("ValidateUseCaseId: reports the field", "[catalog]") {
  absl::Status status = ValidateUseCaseId("Bad", "use_case_id");
  REQUIRE_FALSE(status.ok());
  CHECK(GetErrorReason(status) == "INVALID_USE_CASE_ID");
  CHECK(std::string(status.message()).find("\"Bad\"") != std::string::npos);
}

TEST_CASE("UseCaseIdFromDisplayName: slugs display names", "[catalog]") {
  CHECK(UseCaseIdFromDisplayName("Breast density") == "breast-density");
  CHECK(UseCaseIdFromDisplayName("  Pneumothorax (chest X-ray)! ") == "pneumothorax-chest-x-ray");
  CHECK(UseCaseIdFromDisplayName("3D liver") == "uc-3d-liver");
  CHECK(UseCaseIdFromDisplayName("???").empty());
  std::string long_id = UseCaseIdFromDisplayName(std::string(80, 'a'));
  CHECK(long_id.size() == 63);
  CHECK(ValidateUseCaseId(UseCaseIdFromDisplayName("Knee OA: grade " + std::string(70, 'x')),
                          "use_case_id")
            .ok());
}

TEST_CASE("ValidateUser: rejects empty and malformed users", "[catalog]") {
  CHECK(ValidateUser("alice").ok());
  CHECK(ValidateUser("users/alice@example.org").ok());

  absl::Status empty = ValidateUser("");
  CHECK(empty.code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(empty) == "MISSING_FIELD");

  absl::Status spaced = ValidateUser("alice smith");
  CHECK(spaced.code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(spaced) == "INVALID_USER");
  CHECK(std::string(spaced.message()).find("alice smith") != std::string::npos);

  CHECK_FALSE(ValidateUser(std::string(129, 'u')).ok());
}

TEST_CASE("Resource names: format comment and draft request names", "[catalog]") {
  CHECK(UseCaseName("breast-density") == "useCases/breast-density");
  CHECK(CommentName("breast-density", 7) == "useCases/breast-density/comments/7");
  CHECK(DraftRequestName(12) == "draftRequests/12");
}

}  // namespace
}  // namespace ailab::catalog
