#include "src/text.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace ailab::assist::internal {

std::string CollapseLayoutWhitespace(absl::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(text[i]))) {
      out.push_back(text[i++]);
      continue;
    }

    // One whitespace run: keep it as a single space unless it is layout at an end.
    size_t start = i;
    bool has_line_break = false;
    while (i < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[i]))) {
      has_line_break = has_line_break || text[i] == '\n' || text[i] == '\r';
      ++i;
    }
    bool at_end = start == 0 || i == text.size();
    if (!(at_end && has_line_break)) out.push_back(' ');
  }
  return out;
}

std::string NormalizeSpace(absl::string_view text) {
  std::string out;
  for (absl::string_view word :
       absl::StrSplit(text, absl::ByAnyChar(" \t\r\n\f\v"), absl::SkipEmpty())) {
    if (!out.empty()) out.push_back(' ');
    out.append(word.data(), word.size());
  }
  return out;
}

std::optional<double> ParseDecimal(absl::string_view text, bool allow_exponent) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  size_t integer_digits = 0;
  while (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
    ++i;
    ++integer_digits;
  }
  size_t fraction_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      ++fraction_digits;
    }
  }
  if (integer_digits + fraction_digits == 0) return std::nullopt;
  if (allow_exponent && i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    size_t exponent_digits = 0;
    while (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      ++exponent_digits;
    }
    if (exponent_digits == 0) return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;

  double value = 0;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<int64_t> ParseInteger(absl::string_view text) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  if (i == text.size()) return std::nullopt;
  for (size_t j = i; j < text.size(); ++j) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[j]))) return std::nullopt;
  }
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) return std::nullopt;
  return value;
}

std::string FormatNumber(double value) { return absl::StrFormat("%.15g", value); }

bool IsValidId(absl::string_view id) {
  if (id.empty()) return false;
  unsigned char first = static_cast<unsigned char>(id[0]);
  if (!absl::ascii_isalpha(first) && first != '_') return false;
  for (char c : id) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!absl::ascii_isalnum(u) && u != '_' && u != '-' && u != '.') return false;
  }
  return true;
}

}  // namespace ailab::assist::internal
