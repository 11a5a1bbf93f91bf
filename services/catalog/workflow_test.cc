#include "workflow.h"

#include <catch2/catch.hpp>

#include "ailab/status/status.h"
#include "google/protobuf/text_format.h"

namespace ailab::catalog {
namespace {

using ::ailab::catalog::v1::ReviewUseCaseRequest;
using ::ailab::catalog::v1::UseCase;

UseCase Stored(UseCase::State state) {
  UseCase use_case;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "useCases/pneumothorax"
        display_name: "Pneumothorax"
        description: "Air in the pleural space."
        body_area: CHEST
        modality: DX
        task_kind: BINARY_CLASSIFICATION
        submitter: "sam"
        etag: "3"
        data_elements {
          id: "pneumothorax"
          name: "Pneumothorax"
          value_kind: CATEGORICAL
          allowed_values { value: "ABSENT" label: "Absent" }
          allowed_values { value: "PRESENT" label: "Present" }
        }
      )pb",
      &use_case));
  use_case.set_state(state);
  return use_case;
}

TEST_CASE("ApplyReview: decisions move SUBMITTED to their states", "[catalog]") {
  auto [decision, expected] =
      GENERATE(std::make_pair(ReviewUseCaseRequest::ACCEPT, UseCase::PUBLISHED),
               std::make_pair(ReviewUseCaseRequest::RETURN, UseCase::RETURNED),
               std::make_pair(ReviewUseCaseRequest::REJECT, UseCase::REJECTED));
  UseCase use_case = Stored(UseCase::SUBMITTED);
  auto change = ApplyReview(decision, "looks fine", "rita", use_case);
  REQUIRE(change.ok());
  CHECK(change->from_state == UseCase::SUBMITTED);
  CHECK(change->to_state == expected);
  CHECK(change->actor == "rita");
  CHECK(change->notes == "looks fine");
  CHECK(use_case.state() == expected);
  CHECK(use_case.reviewer() == "rita");
  CHECK(use_case.reviewer_notes() == "looks fine");
}

TEST_CASE("ApplyReview: only SUBMITTED can be reviewed", "[catalog]") {
  UseCase::State state =
      GENERATE(UseCase::DRAFT, UseCase::RETURNED, UseCase::PUBLISHED, UseCase::REJECTED);
  UseCase use_case = Stored(state);
  auto change = ApplyReview(ReviewUseCaseRequest::ACCEPT, "", "rita", use_case);
  REQUIRE_FALSE(change.ok());
  CHECK(change.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(GetErrorReason(change.status()) == "WRONG_USE_CASE_STATE");
  CHECK(std::string(change.status().message()).find(UseCase::State_Name(state)) !=
        std::string::npos);
  CHECK(use_case.state() == state);
}

TEST_CASE("ApplyReview: submitter cannot review own use case", "[catalog]") {
  UseCase use_case = Stored(UseCase::SUBMITTED);
  auto change = ApplyReview(ReviewUseCaseRequest::ACCEPT, "", "sam", use_case);
  REQUIRE_FALSE(change.ok());
  CHECK(change.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(GetErrorReason(change.status()) == "SELF_REVIEW");
}

TEST_CASE("ApplyResubmit: DRAFT and RETURNED go to SUBMITTED", "[catalog]") {
  UseCase::State state = GENERATE(UseCase::DRAFT, UseCase::RETURNED);
  UseCase use_case = Stored(state);
  auto change = ApplyResubmit("sam", "fixed", use_case);
  REQUIRE(change.ok());
  CHECK(change->from_state == state);
  CHECK(change->to_state == UseCase::SUBMITTED);
  CHECK(use_case.state() == UseCase::SUBMITTED);
}

TEST_CASE("ApplyResubmit: checks submitter, state and completeness", "[catalog]") {
  SECTION("another user") {
    UseCase use_case = Stored(UseCase::RETURNED);
    auto change = ApplyResubmit("eve", "", use_case);
    REQUIRE_FALSE(change.ok());
    CHECK(change.status().code() == absl::StatusCode::kPermissionDenied);
    CHECK(std::string(change.status().message()).find("eve") != std::string::npos);
  }
  SECTION("published") {
    UseCase use_case = Stored(UseCase::PUBLISHED);
    auto change = ApplyResubmit("sam", "", use_case);
    REQUIRE_FALSE(change.ok());
    CHECK(change.status().code() == absl::StatusCode::kFailedPrecondition);
  }
  SECTION("incomplete draft") {
    UseCase use_case = Stored(UseCase::DRAFT);
    use_case.clear_data_elements();
    auto change = ApplyResubmit("sam", "", use_case);
    REQUIRE_FALSE(change.ok());
    CHECK(change.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(GetErrorReason(change.status()) == "USE_CASE_INCOMPLETE");
    CHECK(use_case.state() == UseCase::DRAFT);
  }
}

TEST_CASE("CheckEditable: submitter edits DRAFT and RETURNED", "[catalog]") {
  CHECK(CheckEditable(Stored(UseCase::DRAFT), "sam", "").ok());
  CHECK(CheckEditable(Stored(UseCase::RETURNED), "sam", "3").ok());
  CHECK(CheckEditable(Stored(UseCase::SUBMITTED), "sam", "").code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(CheckEditable(Stored(UseCase::PUBLISHED), "sam", "").code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(CheckEditable(Stored(UseCase::DRAFT), "eve", "").code() ==
        absl::StatusCode::kPermissionDenied);
  absl::Status stale = CheckEditable(Stored(UseCase::DRAFT), "sam", "2");
  CHECK(stale.code() == absl::StatusCode::kAborted);
  CHECK(GetErrorReason(stale) == "ETAG_MISMATCH");
}

TEST_CASE("ApplyUpdate: copies masked fields only", "[catalog]") {
  UseCase use_case = Stored(UseCase::DRAFT);
  UseCase update;
  update.set_display_name("New title");
  update.set_description("New description");
  google::protobuf::FieldMask mask;
  mask.add_paths("display_name");
  REQUIRE(ApplyUpdate(update, mask, use_case).ok());
  CHECK(use_case.display_name() == "New title");
  CHECK(use_case.description() == "Air in the pleural space.");
  CHECK(use_case.data_elements_size() == 1);
}

TEST_CASE("ApplyUpdate: empty mask copies every editable field", "[catalog]") {
  UseCase use_case = Stored(UseCase::DRAFT);
  UseCase update;
  update.set_display_name("Only a title");
  REQUIRE(ApplyUpdate(update, google::protobuf::FieldMask(), use_case).ok());
  CHECK(use_case.display_name() == "Only a title");
  CHECK(use_case.description().empty());
  CHECK(use_case.data_elements_size() == 0);
  CHECK(use_case.submitter() == "sam");
  CHECK(use_case.state() == UseCase::DRAFT);
}

TEST_CASE("ApplyUpdate: rejects unknown mask paths", "[catalog]") {
  UseCase use_case = Stored(UseCase::DRAFT);
  google::protobuf::FieldMask mask;
  mask.add_paths("state");
  absl::Status status = ApplyUpdate(UseCase(), mask, use_case);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(status) == "INVALID_UPDATE_MASK");
  CHECK(std::string(status.message()).find("state") != std::string::npos);
  CHECK(use_case.state() == UseCase::DRAFT);
}

TEST_CASE("CheckCommentable and CheckDraftRequestable: follow PUBLISHED", "[catalog]") {
  CHECK(CheckCommentable(Stored(UseCase::PUBLISHED)).ok());
  CHECK(CheckCommentable(Stored(UseCase::SUBMITTED)).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(CheckDraftRequestable(Stored(UseCase::DRAFT)).ok());
  CHECK(CheckDraftRequestable(Stored(UseCase::PUBLISHED)).code() ==
        absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ailab::catalog
