// Internal CSV and JSON text helpers shared by the offline reports.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ailab/metrics/classification.h"

namespace ailab::metrics::internal {

// One CSV field with surrounding spaces and double quotes removed.
std::string CleanField(absl::string_view field);

// Splits one CSV line (without its line break) at commas and cleans each field. Quoted
// fields cannot contain commas.
std::vector<std::string> SplitCsvLine(absl::string_view line);

// INVALID_ARGUMENT with reason INVALID_CSV: "<source>line <line>, column "<column>":
// <problem>", where `source` (a file name, possibly empty) comes first when given.
absl::Status CsvError(absl::string_view source, size_t line, absl::string_view column,
                      absl::string_view problem);

// `value` as a JSON number, or null when it is not finite.
std::string JsonNumber(double value);

// `text` as a JSON string literal.
std::string JsonQuoted(absl::string_view text);

// An interval as a JSON array [lower, upper].
std::string JsonInterval(const Interval& interval);

}  // namespace ailab::metrics::internal
