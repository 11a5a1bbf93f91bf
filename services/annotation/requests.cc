#include "services/annotation/requests.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ailab/status/status.h"

namespace ailab::annotation {
namespace {

// Largest mask accepted, in pixels (a 16384 x 16384 image).
constexpr int64_t kMaxMaskPixels = int64_t{16384} * 16384;
// Most boxes or masks in one annotation.
constexpr int kMaxShapes = 1000;

absl::Status Missing(absl::string_view field, absl::string_view example) {
  return InvalidArgument("MISSING_FIELD", field,
                         absl::StrCat(field, " is required, for example \"", example, "\""),
                         {{"field", field}});
}

// True when `id` is a non-empty path segment.
bool IsSegment(absl::string_view id) {
  if (id.empty()) return false;
  for (char c : id) {
    if (c == '/' || !absl::ascii_isgraph(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::StatusOr<int64_t> ParseNumberedName(absl::string_view field, const std::string& value,
                                          absl::string_view collection,
                                          absl::string_view reason) {
  if (value.empty()) return Missing(field, absl::StrCat(collection, "/1"));
  absl::string_view id = value;
  int64_t number = 0;
  const bool prefixed = absl::ConsumePrefix(&id, absl::StrCat(collection, "/"));
  const bool digits =
      !id.empty() && std::all_of(id.begin(), id.end(), [](char c) { return absl::ascii_isdigit(c); });
  if (!prefixed || !digits || !absl::SimpleAtoi(id, &number) || number <= 0) {
    return InvalidArgument(reason, field,
                           absl::StrCat(field, " \"", value, "\" is not a valid name; expected \"",
                                        collection, "/{number}\""),
                           {{"field", field}, {"value", value}});
  }
  return number;
}

bool IsFiniteNonNegative(double value) { return std::isfinite(value) && value >= 0; }

absl::Status CheckBox(const UseCaseInfo& use_case, int i, const v1::Box& box) {
  std::string field = absl::StrCat("boxes[", i, "]");
  if (!IsFiniteNonNegative(box.x()) || !IsFiniteNonNegative(box.y())) {
    return InvalidArgument("INVALID_BOX", field,
                           absl::StrCat(field, " has x=", box.x(), " y=", box.y(),
                                        "; both must be finite and >= 0 (pixels from the top "
                                        "left corner of the original image)"),
                           {{"field", field}});
  }
  if (!std::isfinite(box.width()) || !std::isfinite(box.height()) || box.width() <= 0 ||
      box.height() <= 0) {
    return InvalidArgument("INVALID_BOX", field,
                           absl::StrCat(field, " has width=", box.width(), " height=",
                                        box.height(), "; both must be finite and > 0 pixels"),
                           {{"field", field}});
  }
  if (box.has_score() && !(box.score() >= 0 && box.score() <= 1)) {
    return InvalidArgument("INVALID_BOX", field,
                           absl::StrCat(field, " has score=", box.score(),
                                        "; a score must be in [0, 1]"),
                           {{"field", field}});
  }
  if (!use_case.categories.empty() && use_case.CategoryIndex(box.label()) < 0) {
    return InvalidArgument(
        "LABEL_NOT_IN_USE_CASE", absl::StrCat(field, ".label"),
        absl::StrCat(field, ".label \"", box.label(), "\" is not a category of use case \"",
                     use_case.name, "\"; allowed values: ", JoinCategories(use_case)),
        {{"label", box.label()}, {"use_case", use_case.name},
         {"allowed_values", JoinCategories(use_case)}});
  }
  return absl::OkStatus();
}

absl::Status CheckMask(const UseCaseInfo& use_case, int i, const v1::Mask& mask) {
  std::string field = absl::StrCat("masks[", i, "]");
  int64_t pixels = int64_t{mask.width()} * mask.height();
  if (mask.width() <= 0 || mask.height() <= 0 || pixels > kMaxMaskPixels) {
    return InvalidArgument("INVALID_MASK", field,
                           absl::StrCat(field, " has width=", mask.width(), " height=",
                                        mask.height(), "; both must be > 0 and the mask at most ",
                                        kMaxMaskPixels, " pixels"),
                           {{"field", field}});
  }
  if (mask.counts_size() == 0 || mask.counts_size() > pixels + 1) {
    return InvalidArgument("INVALID_MASK", field,
                           absl::StrCat(field, " has ", mask.counts_size(),
                                        " run lengths; expected 1 to width * height + 1"),
                           {{"field", field}});
  }
  int64_t sum = 0;
  for (uint32_t count : mask.counts()) sum += count;
  if (sum != pixels) {
    return InvalidArgument("INVALID_MASK", field,
                           absl::StrCat(field, " run lengths add up to ", sum,
                                        " pixels; they must add up to width * height = ", pixels),
                           {{"field", field}});
  }
  if (!use_case.categories.empty() && use_case.CategoryIndex(mask.label()) < 0) {
    return InvalidArgument(
        "LABEL_NOT_IN_USE_CASE", absl::StrCat(field, ".label"),
        absl::StrCat(field, ".label \"", mask.label(), "\" is not a category of use case \"",
                     use_case.name, "\"; allowed values: ", JoinCategories(use_case)),
        {{"label", mask.label()}, {"use_case", use_case.name},
         {"allowed_values", JoinCategories(use_case)}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckUseCaseName(absl::string_view field, const std::string& value) {
  if (value.empty()) return Missing(field, "useCases/breast-density");
  absl::string_view id = value;
  if (!absl::ConsumePrefix(&id, "useCases/") || !IsSegment(id)) {
    return InvalidArgument("INVALID_USE_CASE_NAME", field,
                           absl::StrCat(field, " \"", value,
                                        "\" is not a use case name; expected \"useCases/{id}\""),
                           {{"field", field}, {"value", value}});
  }
  return absl::OkStatus();
}

absl::Status CheckDatasetName(absl::string_view field, const std::string& value) {
  if (value.empty()) return Missing(field, "datasets/density-train");
  absl::string_view id = value;
  if (!absl::ConsumePrefix(&id, "datasets/") || !IsSegment(id)) {
    return InvalidArgument("INVALID_DATASET_NAME", field,
                           absl::StrCat(field, " \"", value,
                                        "\" is not a dataset name; expected \"datasets/{id}\""),
                           {{"field", field}, {"value", value}});
  }
  return absl::OkStatus();
}

absl::Status CheckInstanceName(absl::string_view field, const std::string& value,
                               const std::string& dataset) {
  if (value.empty()) return Missing(field, absl::StrCat(dataset, "/instances/1"));
  std::vector<absl::string_view> parts = absl::StrSplit(value, '/');
  if (parts.size() != 4 || parts[0] != "datasets" || !IsSegment(parts[1]) ||
      parts[2] != "instances" || !IsSegment(parts[3])) {
    return InvalidArgument(
        "INVALID_INSTANCE_NAME", field,
        absl::StrCat(field, " \"", value,
                     "\" is not an instance name; expected \"datasets/{d}/instances/{i}\""),
        {{"field", field}, {"value", value}});
  }
  if (absl::StrCat("datasets/", parts[1]) != dataset) {
    return InvalidArgument("INSTANCE_NOT_IN_DATASET", field,
                           absl::StrCat(field, " \"", value, "\" belongs to another dataset than \"",
                                        dataset, "\""),
                           {{"field", field}, {"value", value}, {"dataset", dataset}});
  }
  return absl::OkStatus();
}

absl::Status CheckUserId(absl::string_view field, const std::string& value) {
  if (value.empty()) return Missing(field, "alice");
  bool printable = true;
  for (char c : value) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c))) printable = false;
  }
  if (!printable || value.size() > kMaxUserIdBytes) {
    return InvalidArgument("INVALID_USER_ID", field,
                           absl::StrCat(field, " \"", absl::CHexEscape(value),
                                        "\" is not a valid user id; use 1 to ", kMaxUserIdBytes,
                                        " printable ASCII characters without spaces"),
                           {{"field", field}, {"value", absl::CHexEscape(value)}});
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseAnnotationName(absl::string_view field, const std::string& value) {
  return ParseNumberedName(field, value, "annotations", "INVALID_ANNOTATION_NAME");
}

absl::StatusOr<int64_t> ParseContestName(absl::string_view field, const std::string& value) {
  return ParseNumberedName(field, value, "contests", "INVALID_CONTEST_NAME");
}

std::string AnnotationName(int64_t id) { return absl::StrCat("annotations/", id); }
std::string ContestName(int64_t id) { return absl::StrCat("contests/", id); }

absl::StatusOr<AnnotationFilter> ParseAnnotationFilter(const std::string& filter) {
  AnnotationFilter result;
  if (absl::StripAsciiWhitespace(filter).empty()) return result;

  // Terms are the words between the word AND (in any case). Category codes and resource
  // names contain no spaces, so the words of one term are joined without them.
  std::vector<std::string> terms(1);
  for (absl::string_view word : absl::StrSplit(filter, ' ', absl::SkipWhitespace())) {
    word = absl::StripAsciiWhitespace(word);
    if (absl::EqualsIgnoreCase(word, "AND")) {
      terms.emplace_back();
    } else {
      absl::StrAppend(&terms.back(), word);
    }
  }
  for (absl::string_view term : terms) {
    std::vector<absl::string_view> sides = absl::StrSplit(term, absl::MaxSplits('=', 1));
    if (sides.size() != 2) {
      return InvalidArgument("INVALID_FILTER", "filter",
                             absl::StrCat("filter term \"", term,
                                          "\" is not of the form field=value; for example "
                                          "state=SKIPPED AND label=\"B\""),
                             {{"filter", filter}});
    }
    std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(sides[0]));
    absl::string_view value = absl::StripAsciiWhitespace(sides[1]);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "state") {
      std::string upper = absl::AsciiStrToUpper(value);
      if (upper == "ANNOTATED") {
        result.state = v1::Annotation::ANNOTATED;
      } else if (upper == "SKIPPED") {
        result.state = v1::Annotation::SKIPPED;
      } else {
        return InvalidArgument("INVALID_FILTER", "filter",
                               absl::StrCat("filter state \"", value,
                                            "\" is not valid; use ANNOTATED or SKIPPED"),
                               {{"filter", filter}, {"value", value}});
      }
    } else if (key == "label") {
      result.label = std::string(value);
    } else if (key == "instance") {
      result.instance = std::string(value);
    } else {
      return InvalidArgument("INVALID_FILTER", "filter",
                             absl::StrCat("filter field \"", key,
                                          "\" is not supported; use state, label or instance"),
                             {{"filter", filter}, {"field", key}});
    }
  }
  return result;
}

std::string JoinCategories(const UseCaseInfo& use_case) {
  return absl::StrJoin(use_case.categories, ", ");
}

absl::Status CheckAnnotationContent(const UseCaseInfo& use_case, const std::string& label,
                                    const google::protobuf::RepeatedPtrField<v1::Box>& boxes,
                                    const google::protobuf::RepeatedPtrField<v1::Mask>& masks) {
  const bool classification = IsClassification(use_case.task_kind);
  if (classification && use_case.categories.size() < 2) {
    return FailedPrecondition(
        "USE_CASE_WITHOUT_CATEGORIES",
        absl::StrCat("use case \"", use_case.name, "\" has ", use_case.categories.size(),
                     " categories; a classification use case needs at least 2 allowed values "
                     "in its first data element"),
        {{"use_case", use_case.name}});
  }

  // Shapes must match the task kind.
  if (!boxes.empty() && use_case.task_kind != TaskKind::kDetection) {
    return InvalidArgument("BOXES_NOT_ALLOWED", "boxes",
                           absl::StrCat("use case \"", use_case.name, "\" is ",
                                        TaskKindName(use_case.task_kind),
                                        "; boxes are only accepted for DETECTION use cases"),
                           {{"use_case", use_case.name},
                            {"task_kind", TaskKindName(use_case.task_kind)}});
  }
  if (!masks.empty() && use_case.task_kind != TaskKind::kSegmentation) {
    return InvalidArgument("MASKS_NOT_ALLOWED", "masks",
                           absl::StrCat("use case \"", use_case.name, "\" is ",
                                        TaskKindName(use_case.task_kind),
                                        "; masks are only accepted for SEGMENTATION use cases"),
                           {{"use_case", use_case.name},
                            {"task_kind", TaskKindName(use_case.task_kind)}});
  }
  if (boxes.size() > kMaxShapes || masks.size() > kMaxShapes) {
    return InvalidArgument("TOO_MANY_SHAPES", boxes.size() > kMaxShapes ? "boxes" : "masks",
                           absl::StrCat("an annotation may have at most ", kMaxShapes,
                                        " boxes and ", kMaxShapes, " masks"),
                           {{"use_case", use_case.name}});
  }

  // The image-level label.
  if (label.empty() && classification) {
    return InvalidArgument("MISSING_FIELD", "label",
                           absl::StrCat("label is required for use case \"", use_case.name,
                                        "\"; allowed values: ", JoinCategories(use_case)),
                           {{"field", "label"}, {"allowed_values", JoinCategories(use_case)}});
  }
  if (!label.empty() && use_case.CategoryIndex(label) < 0) {
    return InvalidArgument(
        "LABEL_NOT_IN_USE_CASE", "label",
        absl::StrCat("label \"", label, "\" is not a category of use case \"", use_case.name,
                     "\"; allowed values: ", JoinCategories(use_case)),
        {{"label", label}, {"use_case", use_case.name},
         {"allowed_values", JoinCategories(use_case)}});
  }

  for (int i = 0; i < boxes.size(); ++i) AILAB_RETURN_IF_ERROR(CheckBox(use_case, i, boxes[i]));
  for (int i = 0; i < masks.size(); ++i) AILAB_RETURN_IF_ERROR(CheckMask(use_case, i, masks[i]));
  return absl::OkStatus();
}

}  // namespace ailab::annotation
