#include "filter.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

}  // namespace

absl::StatusOr<std::vector<InstanceCondition>> ParseInstanceFilter(absl::string_view filter) {
  std::vector<InstanceCondition> conditions;
  std::string text(absl::StripAsciiWhitespace(filter));
  if (text.empty()) return conditions;

  // Split on the word AND (any case) between conditions.
  std::vector<std::string> terms;
  std::string current;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (absl::AsciiStrToUpper(word) == "AND") {
      terms.push_back(current);
      current.clear();
    } else {
      absl::StrAppend(&current, word);
    }
  }
  terms.push_back(current);

  for (const std::string& term : terms) {
    size_t eq = term.find('=');
    if (term.empty() || eq == std::string::npos) {
      return Invalid(filter, absl::StrCat("\"", term, "\" is not FIELD=VALUE"));
    }
    std::string field = absl::AsciiStrToLower(term.substr(0, eq));
    std::string value = term.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
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
