// Rule evaluation and report text for ACR Assist modules.
//
// The values of a module's data elements come from a reader (assignments such as
// "breast_density=C") or from a model's output (one probability per choice of a
// choice element, of which the most probable choice is taken). Evaluate() first
// applies the conditional properties of the data elements: it ignores the value of an
// element that is not relevant and rejects a required, relevant element without a
// value. It then walks the decision points of the rules to an end point and renders
// that end point's report sections. Site templates (site_templates.h) can replace the
// text of any section, for example to leave it blank for a negative result.
//
// Conditions on a data element without a value are false, NotEqualCondition included;
// SectionIfNot is the way to test for a missing value.
//
// All functions are thread-safe; they only read the module.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ailab/assist/module.h"

namespace ailab::assist {

class SiteTemplates;

// The value of one data element.
struct Value {
  std::vector<std::string> choices;  // choice: one value; multi-choice: one or more
  std::optional<double> number;      // numeric, integer, time span (in seconds)
  std::string text;                  // date-time, as ISO 8601 text
};

// Values by data element id.
using Values = std::map<std::string, Value, std::less<>>;

// Sets data element `data_element_id` from `text` (a choice value, or a number for a
// numeric element). A multi-choice element takes one choice per call. Errors are
// INVALID_ARGUMENT: ASSIST_UNKNOWN_DATA_ELEMENT (the message lists the ids),
// ASSIST_VALUE_NOT_ALLOWED (the message lists the choices), ASSIST_VALUE_NOT_A_NUMBER,
// ASSIST_VALUE_OUT_OF_RANGE, ASSIST_VALUE_REPEATED and ASSIST_VALUE_NOT_SETTABLE (a
// computed element).
absl::Status SetValue(const Module& module, absl::string_view data_element_id,
                      absl::string_view text, Values& values);

// Parses assignments "ID=VALUE" (as given to `ailab report --value`) with SetValue().
// An assignment without "=" or with an empty id is ASSIST_ASSIGNMENT_INVALID.
absl::StatusOr<Values> ParseAssignments(const Module& module,
                                        const std::vector<std::string>& assignments);

// Sets choice element `data_element_id` to its most probable choice. `probabilities`
// has one entry per choice, in module order, each from 0 to 1, and the first of equal
// maxima wins. When the module has a numeric element "<data_element_id>_probability"
// without a value, it gets the chosen probability in percent, rounded to 0.1. A wrong
// count or a value outside [0, 1] is INVALID_ARGUMENT (ASSIST_MODEL_OUTPUT_INVALID).
absl::Status SetFromModelOutput(const Module& module, absl::string_view data_element_id,
                                const std::vector<double>& probabilities, Values& values);

// Parses a model output given as "ID=P1,P2,..." and applies SetFromModelOutput().
absl::Status ParseModelOutput(const Module& module, absl::string_view assignment, Values& values);

// The text of one report section.
struct SectionText {
  std::string section_id;  // for example "findings"
  std::string text;        // empty when a site template leaves the section blank
};

// The outcome of evaluating a module on a set of values.
struct Report {
  std::string end_point_id;     // empty when a rule branch carries the report text itself
  std::string end_point_label;  // for example "LR-5"
  // Label (or, without one, line) of each branch taken, outermost first.
  std::vector<std::string> path;
  std::vector<SectionText> sections;  // module order, then sections a site template adds

  // Returns the text of the non-empty sections, separated by blank lines.
  std::string Text() const;
  // Returns the text of section `section_id`, or an empty string.
  std::string SectionTextOf(absl::string_view section_id) const;
};

// Evaluates the rules of `module` on `values` and renders the report text of the end
// point reached, applying `site_templates` when given. A required, relevant data
// element without a value is INVALID_ARGUMENT (ASSIST_VALUE_MISSING), and the message
// names every such element with its choices. Values that no branch of a decision point
// covers are FAILED_PRECONDITION (ASSIST_NO_MATCHING_RULE). A condition on a computed
// data element is UNIMPLEMENTED (ASSIST_COMPUTED_UNSUPPORTED).
absl::StatusOr<Report> Evaluate(const Module& module, const Values& values,
                                const SiteTemplates* site_templates = nullptr);

// Returns the text a report shows for the value of `element`. That is a choice's
// report text or else its label (several choices joined by ", "), a number with up to
// 15 significant digits, or the date-time text. It is empty when `value` is nullptr.
std::string DisplayValue(const DataElement& element, const Value* value);

}  // namespace ailab::assist
