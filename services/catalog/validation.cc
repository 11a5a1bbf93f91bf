#include "validation.h"

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "ailab/status/text.h"

namespace ailab::catalog {
namespace {

using ::ailab::catalog::v1::AllowedValue;
using ::ailab::catalog::v1::DataElement;
using ::ailab::catalog::v1::UseCase;

constexpr size_t kMaxNameLength = 200;
constexpr size_t kMaxDescriptionLength = 10000;
constexpr size_t kMaxReportTextLength = 2000;
constexpr size_t kMaxValueCodeLength = 64;
constexpr size_t kMaxElementIdLength = 63;
constexpr size_t kMaxUnitLength = 32;
constexpr int kMaxDataElements = 100;
constexpr int kMaxAllowedValues = 1000;

absl::Status Missing(const std::string& field, absl::string_view fix) {
  return InvalidArgument("MISSING_FIELD", field, absl::StrCat(field, " is required: ", fix),
                         {{"field", field}});
}

absl::Status CheckLength(const std::string& field, const std::string& value, size_t max) {
  const size_t length = CharacterCount(value);
  if (length <= max) return absl::OkStatus();
  return InvalidArgument(
      "FIELD_TOO_LONG", field,
      absl::StrCat(field, " has ", length, " characters; shorten it to at most ", max),
      {{"field", field}, {"length", absl::StrCat(length)}});
}

bool IsBlank(const std::string& value) { return absl::StripAsciiWhitespace(value).empty(); }

absl::Status CheckElementId(const std::string& field, const std::string& id) {
  if (id.empty()) return Missing(field, "give the element an id such as \"breast_density\"");
  bool valid = id.size() <= kMaxElementIdLength && absl::ascii_islower(id.front());
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') valid = false;
  }
  if (valid) return absl::OkStatus();
  return InvalidArgument("INVALID_DATA_ELEMENT_ID", field,
                         absl::StrCat(field, " \"", id,
                                      "\" is invalid; use 1 to 63 lowercase letters, digits and "
                                      "underscores starting with a letter, for example "
                                      "\"breast_density\""),
                         {{"data_element_id", id}});
}

absl::Status CheckValueCode(const std::string& field, const std::string& code) {
  if (code.empty()) return Missing(field, "give the allowed value a code such as \"A\"");
  AILAB_RETURN_IF_ERROR(CheckLength(field, code, kMaxValueCodeLength));
  for (char c : code) {
    if (!absl::ascii_isgraph(c)) {
      return InvalidArgument("INVALID_ALLOWED_VALUE", field,
                             absl::StrCat(field, " \"", code,
                                          "\" contains spaces or non-printable characters; use "
                                          "a short code such as \"A\" or \"PRESENT\""),
                             {{"value", code}});
    }
  }
  return absl::OkStatus();
}

absl::Status CheckAllowedValues(const std::string& field, const DataElement& element,
                                ValidationLevel level) {
  if (element.allowed_values_size() > kMaxAllowedValues) {
    return InvalidArgument(
        "TOO_MANY_ALLOWED_VALUES", field,
        absl::StrCat("data element \"", element.id(), "\" has ", element.allowed_values_size(),
                     " allowed values; the maximum is 1000"),
        {{"data_element_id", element.id()}});
  }
  std::set<std::string> codes;
  for (int i = 0; i < element.allowed_values_size(); ++i) {
    const AllowedValue& value = element.allowed_values(i);
    std::string prefix = absl::StrCat(field, "[", i, "]");
    AILAB_RETURN_IF_ERROR(CheckValueCode(prefix + ".value", value.value()));
    if (!codes.insert(value.value()).second) {
      return InvalidArgument("DUPLICATE_ALLOWED_VALUE", prefix + ".value",
                             absl::StrCat("allowed value \"", value.value(),
                                          "\" appears more than once in data element \"",
                                          element.id(), "\"; give each value its own code"),
                             {{"data_element_id", element.id()}, {"value", value.value()}});
    }
    AILAB_RETURN_IF_ERROR(CheckLength(prefix + ".label", value.label(), kMaxNameLength));
    AILAB_RETURN_IF_ERROR(CheckDisplayText(prefix + ".label", value.label()));
    AILAB_RETURN_IF_ERROR(
        CheckLength(prefix + ".report_text", value.report_text(), kMaxReportTextLength));
    if (level == ValidationLevel::kSubmission && IsBlank(value.label())) {
      return Missing(prefix + ".label", absl::StrCat("give allowed value \"", value.value(),
                                                     "\" a label shown to users"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDataElement(const std::string& field, const DataElement& element,
                              ValidationLevel level) {
  AILAB_RETURN_IF_ERROR(CheckElementId(field + ".id", element.id()));
  AILAB_RETURN_IF_ERROR(CheckLength(field + ".name", element.name(), kMaxNameLength));
  AILAB_RETURN_IF_ERROR(CheckDisplayText(field + ".name", element.name()));
  AILAB_RETURN_IF_ERROR(
      CheckLength(field + ".description", element.description(), kMaxDescriptionLength));
  AILAB_RETURN_IF_ERROR(CheckLength(field + ".unit", element.unit(), kMaxUnitLength));
  if (!DataElement::ValueKind_IsValid(element.value_kind())) {
    return InvalidArgument(
        "INVALID_VALUE_KIND", field + ".value_kind",
        absl::StrCat(field, ".value_kind ", element.value_kind(), " is not a known value kind"),
        {{"value_kind", absl::StrCat(element.value_kind())}});
  }
  if (element.value_kind() == DataElement::NUMERIC && element.allowed_values_size() > 0) {
    return InvalidArgument("UNEXPECTED_ALLOWED_VALUES", field + ".allowed_values",
                           absl::StrCat("numeric data element \"", element.id(),
                                        "\" lists allowed values; remove them, or make the "
                                        "element CATEGORICAL"),
                           {{"data_element_id", element.id()}});
  }
  AILAB_RETURN_IF_ERROR(CheckAllowedValues(field + ".allowed_values", element, level));
  if (level == ValidationLevel::kDraft) return absl::OkStatus();

  // Completeness, checked on submission only.
  if (IsBlank(element.name())) {
    return Missing(field + ".name",
                   absl::StrCat("give data element \"", element.id(), "\" a name"));
  }
  DataElement::ValueKind kind = element.value_kind();
  bool categorical =
      kind == DataElement::CATEGORICAL || kind == DataElement::VALUE_KIND_UNSPECIFIED;
  if (categorical && element.allowed_values_size() < 2) {
    return InvalidArgument(
        "TOO_FEW_ALLOWED_VALUES", field + ".allowed_values",
        absl::StrCat("categorical data element \"", element.id(), "\" has ",
                     element.allowed_values_size(), " allowed values; list at least 2"),
        {{"data_element_id", element.id()},
         {"count", absl::StrCat(element.allowed_values_size())}});
  }
  return absl::OkStatus();
}

// Checks that data_elements[0], the primary output, fits the task kind.
absl::Status CheckPrimaryElement(const UseCase& use_case) {
  const DataElement& primary = use_case.data_elements(0);
  DataElement::ValueKind kind = primary.value_kind();
  if (kind == DataElement::VALUE_KIND_UNSPECIFIED) kind = DataElement::CATEGORICAL;
  std::string task = UseCase::TaskKind_Name(use_case.task_kind());
  std::string kind_name = DataElement::ValueKind_Name(kind);
  auto mismatch = [&](absl::string_view expected) {
    return InvalidArgument("TASK_KIND_MISMATCH", "use_case.data_elements[0].value_kind",
                           absl::StrCat("the first data element \"", primary.id(), "\" is ",
                                        kind_name, " but task kind ", task, " needs ", expected,
                                        "; reorder the elements or change the task kind"),
                           {{"task_kind", task}, {"value_kind", kind_name}});
  };
  switch (use_case.task_kind()) {
    case UseCase::BINARY_CLASSIFICATION:
      if (kind != DataElement::CATEGORICAL) return mismatch("a CATEGORICAL element");
      if (primary.allowed_values_size() != 2) {
        return InvalidArgument(
            "BINARY_NEEDS_TWO_VALUES", "use_case.data_elements[0].allowed_values",
            absl::StrCat("binary classification needs exactly 2 allowed values in data element \"",
                         primary.id(), "\", which has ", primary.allowed_values_size(),
                         "; use MULTICLASS_CLASSIFICATION for more"),
            {{"data_element_id", primary.id()},
             {"count", absl::StrCat(primary.allowed_values_size())}});
      }
      return absl::OkStatus();
    case UseCase::MULTICLASS_CLASSIFICATION:
      if (kind != DataElement::CATEGORICAL) return mismatch("a CATEGORICAL element");
      return absl::OkStatus();
    case UseCase::DETECTION:
      if (kind != DataElement::BOUNDING_BOX && kind != DataElement::POINT) {
        return mismatch("a BOUNDING_BOX or POINT element");
      }
      return absl::OkStatus();
    case UseCase::SEGMENTATION:
      if (kind != DataElement::MASK) return mismatch("a MASK element");
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

}  // namespace

void NormalizeUseCase(UseCase& use_case) {
  for (DataElement& element : *use_case.mutable_data_elements()) {
    if (element.value_kind() == DataElement::VALUE_KIND_UNSPECIFIED) {
      element.set_value_kind(DataElement::CATEGORICAL);
    }
  }
}

absl::Status ValidateUseCaseContent(const UseCase& use_case, ValidationLevel level) {
  // Fields every stored use case needs.
  if (IsBlank(use_case.display_name())) {
    return Missing("use_case.display_name", "give the use case a title such as \"Breast density\"");
  }
  AILAB_RETURN_IF_ERROR(
      CheckLength("use_case.display_name", use_case.display_name(), kMaxNameLength));
  AILAB_RETURN_IF_ERROR(CheckDisplayText("use_case.display_name", use_case.display_name()));
  AILAB_RETURN_IF_ERROR(
      CheckLength("use_case.description", use_case.description(), kMaxDescriptionLength));
  if (!UseCase::BodyArea_IsValid(use_case.body_area())) {
    return InvalidArgument(
        "INVALID_BODY_AREA", "use_case.body_area",
        absl::StrCat("use_case.body_area ", use_case.body_area(), " is not a known body area"),
        {{"body_area", absl::StrCat(use_case.body_area())}});
  }
  if (!UseCase::Modality_IsValid(use_case.modality())) {
    return InvalidArgument(
        "INVALID_MODALITY", "use_case.modality",
        absl::StrCat("use_case.modality ", use_case.modality(), " is not a known modality"),
        {{"modality", absl::StrCat(use_case.modality())}});
  }
  if (!UseCase::TaskKind_IsValid(use_case.task_kind())) {
    return InvalidArgument(
        "INVALID_TASK_KIND", "use_case.task_kind",
        absl::StrCat("use_case.task_kind ", use_case.task_kind(), " is not a known task kind"),
        {{"task_kind", absl::StrCat(use_case.task_kind())}});
  }

  // Data elements: well-formed and unique ids.
  if (use_case.data_elements_size() > kMaxDataElements) {
    return InvalidArgument("TOO_MANY_DATA_ELEMENTS", "use_case.data_elements",
                           absl::StrCat("the use case has ", use_case.data_elements_size(),
                                        " data elements; the maximum is 100"));
  }
  std::set<std::string> element_ids;
  for (int i = 0; i < use_case.data_elements_size(); ++i) {
    const DataElement& element = use_case.data_elements(i);
    std::string field = absl::StrCat("use_case.data_elements[", i, "]");
    AILAB_RETURN_IF_ERROR(CheckDataElement(field, element, level));
    if (!element_ids.insert(element.id()).second) {
      return InvalidArgument("DUPLICATE_DATA_ELEMENT_ID", field + ".id",
                             absl::StrCat("data element id \"", element.id(),
                                          "\" appears more than once; give each element its "
                                          "own id"),
                             {{"data_element_id", element.id()}});
    }
  }
  if (level == ValidationLevel::kDraft) return absl::OkStatus();

  // Completeness of a submission.
  if (IsBlank(use_case.description())) {
    return Missing("use_case.description",
                   "describe the purpose of the use case and its clinical value");
  }
  if (use_case.body_area() == UseCase::BODY_AREA_UNSPECIFIED) {
    return Missing("use_case.body_area", "set the body area, for example BREAST or CHEST");
  }
  if (use_case.modality() == UseCase::MODALITY_UNSPECIFIED) {
    return Missing("use_case.modality", "set the modality, for example MG, DX or CT");
  }
  if (use_case.task_kind() == UseCase::TASK_KIND_UNSPECIFIED) {
    return Missing("use_case.task_kind",
                   "set the task kind: BINARY_CLASSIFICATION, MULTICLASS_CLASSIFICATION, "
                   "DETECTION or SEGMENTATION");
  }
  if (use_case.data_elements_size() == 0) {
    return Missing("use_case.data_elements",
                   "list at least one data element, the output a model produces");
  }
  return CheckPrimaryElement(use_case);
}

}  // namespace ailab::catalog
