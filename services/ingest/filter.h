// The filter of ListInstances: conditions FIELD=VALUE joined by AND.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ailab::ingest {

// One condition: `column` is the instances table column, `value` the normalised value
// (upper case for split and codes, "true"/"false" for flags).
struct InstanceCondition {
  std::string field;
  std::string column;
  std::string value;
  bool boolean = false;
};

// Parses `filter`; INVALID_ARGUMENT naming `filter` and the supported fields when it is
// malformed. An empty filter gives no conditions.
absl::StatusOr<std::vector<InstanceCondition>> ParseInstanceFilter(absl::string_view filter);

}  // namespace ailab::ingest
