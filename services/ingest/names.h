// Resource names of the ingest API and the ids inside them.
//
//   datasets/{dataset}
//   datasets/{dataset}/studies/{study}
//   datasets/{dataset}/studies/{study}/series/{series}
//   datasets/{dataset}/instances/{instance}
//   datasets/{dataset}/preparationRuns/{preparation_run}
//
// Parsers return INVALID_ARGUMENT naming the request field and the expected format.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ailab::ingest {

// Ids of a child resource of a dataset.
struct ChildName {
  std::string dataset_id;
  std::string id;
};

// Ids of a series.
struct SeriesName {
  std::string dataset_id;
  std::string study_id;
  std::string id;
};

// Checks a client-chosen dataset id: 1 to 63 lower-case letters, digits and hyphens,
// starting with a letter and not ending with a hyphen.
absl::Status ValidateDatasetId(absl::string_view id);

// Parses "datasets/{dataset}"; `field` names the request field in errors.
absl::StatusOr<std::string> ParseDatasetName(absl::string_view name, absl::string_view field);

// Parses "datasets/{dataset}/{collection}/{id}", for example collection "instances".
absl::StatusOr<ChildName> ParseChildName(absl::string_view name, absl::string_view collection,
                                         absl::string_view field);

std::string DatasetName(absl::string_view dataset_id);
std::string InstanceName(absl::string_view dataset_id, absl::string_view id);
std::string StudyName(absl::string_view dataset_id, absl::string_view id);
std::string SeriesResourceName(absl::string_view dataset_id, absl::string_view study_id,
                               absl::string_view id);
std::string PreparationRunName(absl::string_view dataset_id, absl::string_view id);

// Returns a stable 16-hex-digit id derived from `key` (a de-identified UID), so the
// same instance, series or study always gets the same name.
std::string DerivedId(absl::string_view key);

// Returns a random 16-hex-digit id, for datasets without a client id and for runs.
std::string RandomId();

}  // namespace ailab::ingest
