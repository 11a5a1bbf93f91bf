#include "validation.h"

#include <catch2/catch.hpp>

#include "ailab/status/status.h"
#include "google/protobuf/text_format.h"

namespace ailab::catalog {
namespace {

using ::ailab::catalog::v1::DataElement;
using ::ailab::catalog::v1::UseCase;

UseCase Parse(const std::string& text) {
  UseCase use_case;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &use_case));
  return use_case;
}

// A complete multi-class submission to start each case from.
UseCase ValidSubmission() {
  return Parse(R"pb(
    display_name: "Breast density"
    description: "Density category of a mammogram."
    body_area: BREAST
    modality: MG
    task_kind: MULTICLASS_CLASSIFICATION
    data_elements {
      id: "breast_density"
      name: "Breast density"
      allowed_values { value: "A" label: "Fatty" }
      allowed_values { value: "B" label: "Scattered" }
      allowed_values { value: "C" label: "Heterogeneous" }
      allowed_values { value: "D" label: "Extreme" }
    }
  )pb");
}

// Returns the error reason and BadRequest-named field of a failed validation.
std::string Reason(const UseCase& use_case, ValidationLevel level = ValidationLevel::kSubmission) {
  absl::Status status = ValidateUseCaseContent(use_case, level);
  if (status.ok()) return "OK";
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  return GetErrorReason(status);
}

TEST_CASE("ValidateUseCaseContent: accepts a complete submission", "[catalog]") {
  CHECK(Reason(ValidSubmission()) == "OK");
}

TEST_CASE("ValidateUseCaseContent: requires the use case fields", "[catalog]") {
  UseCase use_case = ValidSubmission();
  SECTION("display name") {
    use_case.set_display_name("  ");
    CHECK(Reason(use_case) == "MISSING_FIELD");
    CHECK(Reason(use_case, ValidationLevel::kDraft) == "MISSING_FIELD");
  }
  SECTION("description") {
    use_case.clear_description();
    CHECK(Reason(use_case) == "MISSING_FIELD");
    CHECK(Reason(use_case, ValidationLevel::kDraft) == "OK");
  }
  SECTION("body area") {
    use_case.clear_body_area();
    CHECK(Reason(use_case) == "MISSING_FIELD");
  }
  SECTION("modality") {
    use_case.clear_modality();
    CHECK(Reason(use_case) == "MISSING_FIELD");
  }
  SECTION("task kind") {
    use_case.clear_task_kind();
    CHECK(Reason(use_case) == "MISSING_FIELD");
  }
  SECTION("at least one data element") {
    use_case.clear_data_elements();
    absl::Status status = ValidateUseCaseContent(use_case, ValidationLevel::kSubmission);
    CHECK(GetErrorReason(status) == "MISSING_FIELD");
    CHECK(std::string(status.message()).find("use_case.data_elements") != std::string::npos);
    CHECK(Reason(use_case, ValidationLevel::kDraft) == "OK");
  }
}

TEST_CASE("ValidateUseCaseContent: rejects out-of-range enums", "[catalog]") {
  UseCase use_case = ValidSubmission();
  use_case.set_body_area(static_cast<UseCase::BodyArea>(99));
  CHECK(Reason(use_case, ValidationLevel::kDraft) == "INVALID_BODY_AREA");
}

TEST_CASE("ValidateUseCaseContent: rejects too long text", "[catalog]") {
  UseCase use_case = ValidSubmission();
  use_case.set_display_name(std::string(201, 'x'));
  CHECK(Reason(use_case, ValidationLevel::kDraft) == "FIELD_TOO_LONG");
}

TEST_CASE("ValidateUseCaseContent: classification needs two allowed values", "[catalog]") {
  UseCase use_case = ValidSubmission();
  DataElement* element = use_case.mutable_data_elements(0);
  while (element->allowed_values_size() > 1) element->mutable_allowed_values()->RemoveLast();
  absl::Status status = ValidateUseCaseContent(use_case, ValidationLevel::kSubmission);
  CHECK(GetErrorReason(status) == "TOO_FEW_ALLOWED_VALUES");
  CHECK(std::string(status.message()).find("breast_density") != std::string::npos);
  CHECK(Reason(use_case, ValidationLevel::kDraft) == "OK");
}

TEST_CASE("ValidateUseCaseContent: binary needs exactly two values", "[catalog]") {
  UseCase use_case = ValidSubmission();
  use_case.set_task_kind(UseCase::BINARY_CLASSIFICATION);
  absl::Status status = ValidateUseCaseContent(use_case, ValidationLevel::kSubmission);
  CHECK(GetErrorReason(status) == "BINARY_NEEDS_TWO_VALUES");
  CHECK(std::string(status.message()).find("4") != std::string::npos);

  DataElement* element = use_case.mutable_data_elements(0);
  while (element->allowed_values_size() > 2) element->mutable_allowed_values()->RemoveLast();
  CHECK(Reason(use_case) == "OK");
}

TEST_CASE("ValidateUseCaseContent: allowed value codes must be unique", "[catalog]") {
  UseCase use_case = ValidSubmission();
  use_case.mutable_data_elements(0)->mutable_allowed_values(2)->set_value("A");
  absl::Status status = ValidateUseCaseContent(use_case, ValidationLevel::kDraft);
  CHECK(GetErrorReason(status) == "DUPLICATE_ALLOWED_VALUE");
  CHECK(std::string(status.message()).find("\"A\"") != std::string::npos);
}

TEST_CASE("ValidateUseCaseContent: allowed values need codes and labels", "[catalog]") {
  UseCase use_case = ValidSubmission();
  SECTION("empty code") {
    use_case.mutable_data_elements(0)->mutable_allowed_values(1)->clear_value();
    CHECK(Reason(use_case, ValidationLevel::kDraft) == "MISSING_FIELD");
  }
  SECTION("code with a space") {
    use_case.mutable_data_elements(0)->mutable_allowed_values(1)->set_value("B 1");
    CHECK(Reason(use_case, ValidationLevel::kDraft) == "INVALID_ALLOWED_VALUE");
  }
  SECTION("empty label") {
    use_case.mutable_data_elements(0)->mutable_allowed_values(1)->clear_label();
    CHECK(Reason(use_case) == "MISSING_FIELD");
    CHECK(Reason(use_case, ValidationLevel::kDraft) == "OK");
  }
}

TEST_CASE("ValidateUseCaseContent: element ids are well-formed and unique", "[catalog]") {
  UseCase use_case = ValidSubmission();
  SECTION("malformed id") {
    use_case.mutable_data_elements(0)->set_id("Breast-Density");
    CHECK(Reason(use_case, ValidationLevel::kDraft) == "INVALID_DATA_ELEMENT_ID");
  }
  SECTION("missing id") {
    use_case.mutable_data_elements(0)->clear_id();
    CHECK(Reason(use_case, ValidationLevel::kDraft) == "MISSING_FIELD");
  }
  SECTION("duplicate id") {
    *use_case.add_data_elements() = use_case.data_elements(0);
    CHECK(Reason(use_case, ValidationLevel::kDraft) == "DUPLICATE_DATA_ELEMENT_ID");
  }
  SECTION("missing name") {
    use_case.mutable_data_elements(0)->clear_name();
    CHECK(Reason(use_case) == "MISSING_FIELD");
  }
}

TEST_CASE("ValidateUseCaseContent: first element must fit the task kind", "[catalog]") {
  UseCase use_case = ValidSubmission();
  SECTION("detection needs boxes or points") {
    use_case.set_task_kind(UseCase::DETECTION);
    CHECK(Reason(use_case) == "TASK_KIND_MISMATCH");
    DataElement* element = use_case.mutable_data_elements(0);
    element->set_value_kind(DataElement::BOUNDING_BOX);
    CHECK(Reason(use_case) == "OK");
    element->set_value_kind(DataElement::POINT);
    CHECK(Reason(use_case) == "OK");
  }
  SECTION("segmentation needs a mask") {
    use_case.set_task_kind(UseCase::SEGMENTATION);
    CHECK(Reason(use_case) == "TASK_KIND_MISMATCH");
    use_case.mutable_data_elements(0)->set_value_kind(DataElement::MASK);
    use_case.mutable_data_elements(0)->clear_allowed_values();
    CHECK(Reason(use_case) == "OK");
  }
  SECTION("classification needs a categorical element") {
    use_case.mutable_data_elements(0)->set_value_kind(DataElement::MASK);
    CHECK(Reason(use_case) == "TASK_KIND_MISMATCH");
  }
}

TEST_CASE("ValidateUseCaseContent: numeric elements take no allowed values", "[catalog]") {
  UseCase use_case = ValidSubmission();
  DataElement* numeric = use_case.add_data_elements();
  numeric->set_id("density_percent");
  numeric->set_name("Density percentage");
  numeric->set_value_kind(DataElement::NUMERIC);
  numeric->set_unit("%");
  CHECK(Reason(use_case) == "OK");
  numeric->add_allowed_values()->set_value("X");
  CHECK(Reason(use_case) == "UNEXPECTED_ALLOWED_VALUES");
}

TEST_CASE("NormalizeUseCase: unset value kind becomes CATEGORICAL", "[catalog]") {
  UseCase use_case = ValidSubmission();
  use_case.mutable_data_elements(0)->clear_value_kind();
  NormalizeUseCase(use_case);
  CHECK(use_case.data_elements(0).value_kind() == DataElement::CATEGORICAL);
}

}  // namespace
}  // namespace ailab::catalog
