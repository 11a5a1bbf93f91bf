// Parsing of ListUseCases' `filter`, `order_by` and `query` fields into a form the
// store turns into SQL.
//
// The parsers only produce column names from fixed lists, so a caller may put them
// into SQL text. Values always travel as statement parameters. Every function is
// pure and thread-safe; errors are INVALID_ARGUMENT naming the request field and the
// value at fault.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ailab::catalog {

// One condition of a filter: `column = value` or, when `negated`, `column <> value`.
struct FilterCondition {
  // Column of the use_cases table: body_area, modality, state, task_kind or
  // submitter.
  std::string column;
  // True for `!=`.
  bool negated = false;
  // Canonical value: an enum name such as "BREAST", or a user id.
  std::string value;

  bool operator==(const FilterCondition&) const = default;
};

// Parses a filter such as `body_area=BREAST AND state!=REJECTED`. Enum values are
// case-insensitive and come back as enum names; "PET" is accepted for modality PT.
// An empty or all-space filter gives no conditions.
absl::StatusOr<std::vector<FilterCondition>> ParseUseCaseFilter(absl::string_view filter);

// One sort key.
struct OrderTerm {
  // Column of the use_cases table: display_name, create_time or update_time.
  std::string column;
  bool descending = false;

  bool operator==(const OrderTerm&) const = default;
};

// Parses an order_by such as "update_time desc, display_name". A field may appear
// once. An empty order_by gives no terms.
absl::StatusOr<std::vector<OrderTerm>> ParseUseCaseOrderBy(absl::string_view order_by);

// Turns a free-text query into PostgreSQL tsquery syntax: every word (a run of ASCII
// letters and digits) as a prefix match, joined with AND, for example
// "dense breast!" -> "dense:* & breast:*". Empty input gives an empty string; input
// over 200 characters, or with text but no words, is INVALID_ARGUMENT.
absl::StatusOr<std::string> BuildTextSearchQuery(absl::string_view query);

}  // namespace ailab::catalog
