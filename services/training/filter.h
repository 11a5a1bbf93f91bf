// Parsing of ListTrainingJobs' filter: conditions `field=value` joined by AND, with
// field one of state, owner, use_case or dataset and the value bare or double-quoted.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "store.h"

namespace ailab::training {

// Parses `filter`; an empty filter matches every job. INVALID_ARGUMENT naming the
// condition at fault and the accepted form.
absl::StatusOr<JobFilter> ParseJobFilter(const std::string& filter);

}  // namespace ailab::training
