// Text and number helpers shared by the module parser, the rule evaluator and the site
// templates. Internal to libs/assist.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace ailab::assist::internal {

// Collapses each run of whitespace to one space and drops a leading or trailing run
// that contains a line break, which is layout of the XML rather than text. A single
// trailing space such as "density is " stays, so that text pieces join as written.
std::string CollapseLayoutWhitespace(absl::string_view text);

// Collapses each run of whitespace to one space and trims both ends.
std::string NormalizeSpace(absl::string_view text);

// Parses a decimal number: an optional sign, digits with an optional fraction, and,
// when `allow_exponent`, an exponent. Returns nullopt for anything else, including
// "nan", "inf", hexadecimal and empty text.
std::optional<double> ParseDecimal(absl::string_view text, bool allow_exponent);

// Parses a whole number with an optional sign. Returns nullopt for anything else.
std::optional<int64_t> ParseInteger(absl::string_view text);

// Formats `value` with up to 15 significant digits and no trailing zeros: 10, 19.5.
std::string FormatNumber(double value);

// Returns true when `id` is an XML name without a colon (xsd:NCName, ASCII subset).
bool IsValidId(absl::string_view id);

}  // namespace ailab::assist::internal
