// Checks and parsing of annotation request fields: resource names, user ids, the
// ListAnnotations filter and the boxes and masks of an annotation.
//
// Every error is INVALID_ARGUMENT with a BadRequest naming the request field, unless
// stated otherwise. Functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ailab/annotation/v1/annotation.pb.h"
#include "google/protobuf/repeated_field.h"
#include "services/annotation/directories.h"

namespace ailab::annotation {

namespace v1 = ::ailab::annotation::v1;

// Maximum length of a user id, in bytes.
inline constexpr size_t kMaxUserIdBytes = 128;

// Checks that `value` is "useCases/{id}" with a non-empty id without '/'.
absl::Status CheckUseCaseName(absl::string_view field, const std::string& value);

// Checks that `value` is "datasets/{id}".
absl::Status CheckDatasetName(absl::string_view field, const std::string& value);

// Checks that `value` is "datasets/{d}/instances/{i}" and that {d} is `dataset`.
absl::Status CheckInstanceName(absl::string_view field, const std::string& value,
                               const std::string& dataset);

// Checks that `value` is a user id: 1 to 128 bytes of printable ASCII without spaces.
absl::Status CheckUserId(absl::string_view field, const std::string& value);

// Returns the id of "annotations/{id}", a positive decimal number.
absl::StatusOr<int64_t> ParseAnnotationName(absl::string_view field, const std::string& value);

// Returns the id of "contests/{id}", a positive decimal number.
absl::StatusOr<int64_t> ParseContestName(absl::string_view field, const std::string& value);

// Returns "annotations/{id}" or "contests/{id}".
std::string AnnotationName(int64_t id);
std::string ContestName(int64_t id);

// Conditions of a ListAnnotations filter; an unset member matches everything.
struct AnnotationFilter {
  std::optional<v1::Annotation::State> state;
  std::optional<std::string> label;
  std::optional<std::string> instance;
};

// Parses terms `state=ANNOTATED|SKIPPED`, `label=CODE` and `instance=NAME`, joined by
// AND (case-insensitive); values may be in double quotes. Empty gives no conditions.
absl::StatusOr<AnnotationFilter> ParseAnnotationFilter(const std::string& filter);

// Checks the content of a SaveAnnotation request against `use_case`. A classification
// use case needs a `label` among its categories and no boxes or masks. Boxes are only
// for DETECTION and masks only for SEGMENTATION, and each needs a valid geometry and,
// when the use case has categories, a label among them. A classification use case
// with fewer than two categories is FAILED_PRECONDITION.
absl::Status CheckAnnotationContent(const UseCaseInfo& use_case, const std::string& label,
                                    const google::protobuf::RepeatedPtrField<v1::Box>& boxes,
                                    const google::protobuf::RepeatedPtrField<v1::Mask>& masks);

// Returns the categories of `use_case` as "A, B, C, D", for messages.
std::string JoinCategories(const UseCaseInfo& use_case);

}  // namespace ailab::annotation
