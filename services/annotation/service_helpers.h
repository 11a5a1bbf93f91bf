// Helpers shared by the two files that implement AnnotationServiceImpl (service.cc
// and service_reference.cc). Not part of the service's interface.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ailab/annotation/v1/annotation.pb.h"
#include "ailab/log/log.h"
#include "ailab/metrics/classification.h"
#include "ailab/pg/pg.h"
#include "ailab/status/status.h"
#include "services/annotation/directories.h"

namespace ailab::annotation::internal {

// Page sizes of the List methods: default and maximum.
inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;
inline constexpr int kDefaultExportPageSize = 10000;
inline constexpr int kMaxExportPageSize = 100000;

inline std::shared_ptr<spdlog::logger> Log() { return log::Logger("annotation"); }

// Reads a page token; an empty one starts at offset 0.
inline absl::StatusOr<int64_t> DecodeToken(const std::string& token) {
  if (token.empty()) return 0;
  return pg::DecodePageToken(token);
}

// Returns the token of the page after `returned` rows from `offset`, or "" after the last.
inline std::string NextToken(int64_t offset, size_t returned, int64_t total) {
  int64_t next = offset + static_cast<int64_t>(returned);
  return next < total ? pg::EncodePageToken(next) : std::string();
}

// Checks that `use_case` is a classification use case with at least two categories.
inline absl::Status RequireClassification(const UseCaseInfo& use_case, absl::string_view method) {
  if (IsClassification(use_case.task_kind) && use_case.categories.size() >= 2) {
    return absl::OkStatus();
  }
  if (IsClassification(use_case.task_kind)) {
    return FailedPrecondition(
        "USE_CASE_WITHOUT_CATEGORIES",
        absl::StrCat("use case \"", use_case.name, "\" has ", use_case.categories.size(),
                     " categories; a classification use case needs at least 2 allowed values"),
        {{"use_case", use_case.name}});
  }
  return FailedPrecondition(
      "NOT_A_CLASSIFICATION_USE_CASE",
      absl::StrCat(method, " needs a classification use case; \"", use_case.name, "\" is ",
                   TaskKindName(use_case.task_kind)),
      {{"use_case", use_case.name}, {"task_kind", TaskKindName(use_case.task_kind)}});
}

// Converts `matrix` over the categories of `use_case` to its proto form.
inline v1::ConfusionMatrix ToProto(const metrics::ConfusionMatrix& matrix, const UseCaseInfo& use_case) {
  v1::ConfusionMatrix proto;
  for (const std::string& category : use_case.categories) proto.add_categories(category);
  for (int64_t count : matrix.counts) proto.add_counts(count);
  return proto;
}

}  // namespace ailab::annotation::internal
