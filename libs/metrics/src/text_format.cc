#include "src/text_format.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "ailab/status/status.h"

namespace ailab::metrics::internal {

std::string CleanField(absl::string_view field) {
  field = absl::StripAsciiWhitespace(field);
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
    field = field.substr(1, field.size() - 2);
  }
  return std::string(field);
}

std::vector<std::string> SplitCsvLine(absl::string_view line) {
  std::vector<std::string> fields;
  for (absl::string_view field : absl::StrSplit(line, ',')) fields.push_back(CleanField(field));
  return fields;
}

absl::Status CsvError(absl::string_view source, size_t line, absl::string_view column,
                      absl::string_view problem) {
  const std::string line_text = absl::StrCat(line);
  const std::string prefix = source.empty() ? std::string() : absl::StrCat(source, ": ");
  return InvalidArgument(
      "INVALID_CSV", "input",
      absl::StrCat(prefix, "line ", line, ", column \"", column, "\": ", problem),
      {{"line", line_text}, {"column", column}});
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.10g", value);
}

std::string JsonQuoted(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string JsonInterval(const Interval& interval) {
  return absl::StrCat("[", JsonNumber(interval.lower), ", ", JsonNumber(interval.upper), "]");
}

}  // namespace ailab::metrics::internal
