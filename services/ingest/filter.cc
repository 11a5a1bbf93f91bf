#include "filter.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "ailab/status/status.h"

namespace ailab::ingest {
namespace {

struct FieldSpec {
  const char* column;
  bool boolean;
  bool upper;
};

const std::map<std::string, FieldSpec>& Fields() {
  static const auto* fields = new std::map<std::string, FieldSpec>{
      {"split", {"split", false, true}},
      {"modality", {"modality", false, true}},
      {"laterality", {"laterality", false, true}},
      {"view", {"view", false, true}},
      {"study", {"study_id", false, false}},
      {"source_file", {"source_file", false, false}},
      {"png_ready", {"png_blob", true, false}},
      {"array_ready", {"array_blob", true, false}},
      {"has_image", {"has_image", true, false}},
  };
  return *fields;
}

absl::Status Invalid(absl::string_view filter, absl::string_view why) {
  return InvalidArgument("INVALID_FILTER", "filter",
                         absl::StrCat("filter \"", filter, "\" is invalid: ", why,
                                      ". Use FIELD=VALUE joined by AND, with FIELD one of split, "
                                      "modality, laterality, view, study, source_file, png_ready, "
                                      "array_ready, has_image"),
                         {{"filter", filter}});
}

// Splits `text` into conditions at the word AND (any case) between spaces, outside
// quoted values.
absl::StatusOr<std::vector<std::string>> SplitTerms(absl::string_view filter,
                                                    absl::string_view text) {
  std::vector<std::string> terms;
  std::string current;
  char quote = 0;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (quote != 0 || c == '"' || c == '\'') {
      if (quote == 0) {
        quote = c;
      } else if (c == quote) {
        quote = 0;
      }
      current.push_back(c);
      ++i;
      continue;
    }
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      size_t word = i;
      while (word < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[word]))) {
        ++word;
      }
      const bool is_and = word + 3 <= text.size() &&
                          absl::EqualsIgnoreCase(text.substr(word, 3), "AND") &&
                          (word + 3 == text.size() ||
                           absl::ascii_isspace(static_cast<unsigned char>(text[word + 3])));
      if (is_and) {
        terms.push_back(std::move(current));
        current.clear();
        i = word + 3;
        continue;
      }
    }
    current.push_back(c);
    ++i;
  }
  if (quote != 0) return Invalid(filter, "a quoted value is not closed");
  terms.push_back(std::move(current));
  return terms;
}

}  // namespace

absl::StatusOr<std::vector<InstanceCondition>> ParseInstanceFilter(absl::string_view filter) {
  std::vector<InstanceCondition> conditions;
  std::string text(absl::StripAsciiWhitespace(filter));
  if (text.empty()) return conditions;

  AILAB_ASSIGN_OR_RETURN(std::vector<std::string> terms, SplitTerms(filter, text));
  for (const std::string& raw_term : terms) {
    const absl::string_view term = absl::StripAsciiWhitespace(raw_term);
    size_t eq = term.find('=');
    if (term.empty() || eq == absl::string_view::npos) {
      return Invalid(filter, absl::StrCat("\"", term, "\" is not FIELD=VALUE"));
    }
    std::string field = absl::AsciiStrToLower(absl::StripAsciiWhitespace(term.substr(0, eq)));
    std::string value(absl::StripAsciiWhitespace(term.substr(eq + 1)));
    const bool quoted = !value.empty() && (value.front() == '"' || value.front() == '\'');
    if (quoted) {
      const char quote = value.front();
      if (value.size() < 2 || value.back() != quote ||
          value.find(quote, 1) != value.size() - 1) {
        return Invalid(filter, absl::StrCat("the value of ", field,
                                            " has text after its closing quote"));
      }
      value = value.substr(1, value.size() - 2);
    } else if (value.find_first_of(" \t\"'") != std::string::npos) {
      return Invalid(filter, absl::StrCat("the value \"", value, "\" of ", field,
                                          " has spaces or quotes; put it in double quotes"));
    }
    auto it = Fields().find(field);
    if (it == Fields().end()) return Invalid(filter, absl::StrCat("unknown field \"", field, "\""));
    InstanceCondition condition{field, it->second.column, value, it->second.boolean};
    if (it->second.boolean) {
      std::string lower = absl::AsciiStrToLower(value);
      if (lower != "true" && lower != "false") {
        return Invalid(filter, absl::StrCat(field, " must be true or false"));
      }
      condition.value = lower;
    } else if (it->second.upper) {
      condition.value = absl::AsciiStrToUpper(value);
    }
    if (field == "split" && condition.value != "TRAIN" && condition.value != "VALIDATION" &&
        condition.value != "TEST" && condition.value != "UNSPECIFIED") {
      return Invalid(filter, "split must be TRAIN, VALIDATION, TEST or UNSPECIFIED");
    }
    if (field == "study") {
      // A study name "datasets/{d}/studies/{s}" or the bare id.
      size_t slash = condition.value.rfind('/');
      if (slash != std::string::npos) condition.value = condition.value.substr(slash + 1);
    }
    conditions.push_back(std::move(condition));
  }
  return conditions;
}

}  // namespace ailab::ingest
