#include "ailab/assist/evaluate.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ailab/assist/site_templates.h"
#include "ailab/status/status.h"
#include "src/text.h"

namespace ailab::assist {
namespace {

using internal::FormatNumber;
using internal::ParseDecimal;

// Nesting limit of template partials and decision points while rendering, a guard on
// top of the parser's cycle check.
constexpr int kMaxDepth = 64;

std::string ChoiceList(const DataElement& element) {
  std::vector<std::string> parts;
  for (const Choice& choice : element.choices) {
    parts.push_back(choice.label.empty() || choice.label == choice.value
                        ? choice.value
                        : absl::StrCat(choice.value, " (", choice.label, ")"));
  }
  return absl::StrJoin(parts, ", ");
}

std::string DataElementIds(const Module& module) {
  std::vector<std::string> ids;
  for (const DataElement& element : module.data_elements) {
    if (element.type != DataElementType::kComputed) ids.push_back(element.id);
  }
  return absl::StrJoin(ids, ", ");
}

// Returns a description of the values that `element` accepts, for messages.
std::string ExpectedValue(const DataElement& element) {
  switch (element.type) {
    case DataElementType::kChoice:
    case DataElementType::kMultiChoice:
      return absl::StrCat("one of ", ChoiceList(element));
    case DataElementType::kInteger:
      return "a whole number";
    case DataElementType::kTimeSpan:
      return "a number of seconds";
    case DataElementType::kDateTime:
      return "an ISO 8601 date such as 2026-12-04";
    default:
      return element.unit.empty() ? "a number" : absl::StrCat("a number in ", element.unit);
  }
}

// Evaluation state: the module, the values in effect and the branches taken.
class Evaluator {
 public:
  Evaluator(const Module& module, const Values& values) : module_(module), values_(values) {}

  absl::StatusOr<bool> Holds(const Condition& condition) const;
  absl::Status Walk(const DecisionPoint& point, int depth);
  absl::Status WalkBranches(const std::vector<Branch>& branches, const Branch* default_branch,
                            absl::string_view label, absl::string_view name, int line, int depth);
  absl::Status Take(const Branch& branch, absl::string_view fallback_label, int depth);
  absl::Status Render(const std::vector<Branch>& branches, std::string& out, int depth) const;

  const Branch* text_branch() const { return text_branch_; }
  const std::string& end_point_id() const { return end_point_id_; }
  std::vector<std::string>& path() { return path_; }

 private:
  const Module& module_;
  const Values& values_;
  std::string end_point_id_;
  const Branch* text_branch_ = nullptr;
  std::vector<std::string> path_;
};

absl::StatusOr<bool> Evaluator::Holds(const Condition& condition) const {
  switch (condition.type) {
    case Condition::Type::kAnd:
      for (const Condition& operand : condition.operands) {
        AILAB_ASSIGN_OR_RETURN(bool holds, Holds(operand));
        if (!holds) return false;
      }
      return true;
    case Condition::Type::kOr:
      for (const Condition& operand : condition.operands) {
        AILAB_ASSIGN_OR_RETURN(bool holds, Holds(operand));
        if (holds) return true;
      }
      return false;
    case Condition::Type::kNot:
      for (const Condition& operand : condition.operands) {
        AILAB_ASSIGN_OR_RETURN(bool holds, Holds(operand));
        if (holds) return false;
      }
      return true;
    default:
      break;
  }

  // A test of one data element; the parser checked that the element exists.
  const DataElement* element = module_.FindDataElement(condition.data_element_id);
  if (element == nullptr) return false;
  if (element->type == DataElementType::kComputed) {
    std::string line = absl::StrCat(condition.line);
    return MakeError(
        absl::StatusCode::kUnimplemented, "ASSIST_COMPUTED_UNSUPPORTED",
        absl::StrCat(module_.source, ":", condition.line, ": <",
                     ConditionElementName(condition.type), "> tests computed data element ",
                     element->id, ", but computed data elements are not evaluated yet"),
        {{"data_element", element->id}, {"line", line}});
  }
  auto found = values_.find(element->id);
  const Value* value = found == values_.end() ? nullptr : &found->second;
  if (condition.type == Condition::Type::kSectionIf) return value != nullptr;
  if (condition.type == Condition::Type::kSectionIfNot) return value == nullptr;
  if (value == nullptr) return false;

  const std::string& comparison = condition.comparison_value;
  if (!element->choices.empty() || element->type == DataElementType::kChoice ||
      element->type == DataElementType::kMultiChoice) {
    bool contains =
        std::find(value->choices.begin(), value->choices.end(), comparison) != value->choices.end();
    switch (condition.type) {
      case Condition::Type::kEqual:
      case Condition::Type::kContains:
        return contains;
      case Condition::Type::kNotEqual:
        return !contains;
      case Condition::Type::kHasAnyNChoices:
        return static_cast<int64_t>(value->choices.size()) >= condition.minimum_choices;
      default:
        return false;
    }
  }

  if (element->type == DataElementType::kDateTime) {
    int order = value->text.compare(comparison);
    switch (condition.type) {
      case Condition::Type::kEqual:
        return order == 0;
      case Condition::Type::kNotEqual:
        return order != 0;
      case Condition::Type::kGreaterThan:
        return order > 0;
      case Condition::Type::kLessThan:
        return order < 0;
      case Condition::Type::kGreaterThanOrEquals:
        return order >= 0;
      case Condition::Type::kLessThanOrEquals:
        return order <= 0;
      default:
        return false;
    }
  }

  // Numbers: the comparison value is a literal or the id of a global value.
  if (!value->number.has_value()) return false;
  const GlobalValue* global = module_.FindGlobalValue(comparison);
  std::optional<double> threshold =
      ParseDecimal(global != nullptr ? global->value : comparison, /*allow_exponent=*/false);
  if (!threshold.has_value()) return false;
  double number = *value->number;
  switch (condition.type) {
    case Condition::Type::kEqual:
      return number == *threshold;
    case Condition::Type::kNotEqual:
      return number != *threshold;
    case Condition::Type::kGreaterThan:
      return number > *threshold;
    case Condition::Type::kLessThan:
      return number < *threshold;
    case Condition::Type::kGreaterThanOrEquals:
      return number >= *threshold;
    case Condition::Type::kLessThanOrEquals:
      return number <= *threshold;
    default:
      return false;
  }
}

absl::Status Evaluator::Walk(const DecisionPoint& point, int depth) {
  return WalkBranches(point.branches,
                      point.default_branch.has_value() ? &*point.default_branch : nullptr,
                      point.label, absl::StrCat("decision point ", point.id), point.line, depth);
}

absl::Status Evaluator::WalkBranches(const std::vector<Branch>& branches,
                                     const Branch* default_branch, absl::string_view label,
                                     absl::string_view name, int line, int depth) {
  if (depth > kMaxDepth) {
    return FailedPrecondition("ASSIST_RULES_TOO_DEEP",
                              absl::StrCat("decision points in ", module_.source,
                                           " nest more than ", kMaxDepth, " levels deep"));
  }
  for (const Branch& branch : branches) {
    bool holds = true;
    if (branch.condition.has_value()) {
      AILAB_ASSIGN_OR_RETURN(holds, Holds(*branch.condition));
    }
    if (holds) return Take(branch, label, depth);
  }
  if (default_branch != nullptr) return Take(*default_branch, "default", depth);

  std::vector<std::string> assignments;
  for (const auto& [id, value] : values_) {
    std::string text = value.number.has_value() ? FormatNumber(*value.number)
                       : !value.choices.empty() ? absl::StrJoin(value.choices, "+")
                                                : value.text;
    assignments.push_back(absl::StrCat(id, "=", text));
  }
  std::string name_text(name);
  std::string line_text = absl::StrCat(line);
  return FailedPrecondition(
      "ASSIST_NO_MATCHING_RULE",
      absl::StrCat("no branch of ", name, " (", module_.source, ":", line, ") matches the values ",
                   assignments.empty() ? "(none)" : absl::StrJoin(assignments, ", "),
                   ", and it has no <DefaultBranch>; check the values, or add a branch or a "
                   "default branch to the module"),
      {{"rule", name_text}, {"line", line_text}});
}

absl::Status Evaluator::Take(const Branch& branch, absl::string_view fallback_label, int depth) {
  path_.push_back(branch.label.empty() ? absl::StrCat(fallback_label, " (line ", branch.line, ")")
                                       : branch.label);
  if (!branch.end_point_id.empty()) {
    end_point_id_ = branch.end_point_id;
    return absl::OkStatus();
  }
  if (!branch.decision_point.empty()) return Walk(branch.decision_point.front(), depth + 1);
  if (!branch.report_text.empty()) {
    text_branch_ = &branch;
    return absl::OkStatus();
  }

  // Only nested branches: they act as the branches of an unnamed decision point.
  return WalkBranches(branch.branches, nullptr, branch.label,
                      absl::StrCat("the branch on line ", branch.line), branch.line, depth + 1);
}

absl::Status Evaluator::Render(const std::vector<Branch>& branches, std::string& out,
                               int depth) const {
  if (depth > kMaxDepth) {
    return FailedPrecondition("ASSIST_RULES_TOO_DEEP",
                              absl::StrCat("report text in ", module_.source, " nests more than ",
                                           kMaxDepth, " levels deep"));
  }
  for (const Branch& branch : branches) {
    if (branch.condition.has_value()) {
      AILAB_ASSIGN_OR_RETURN(bool holds, Holds(*branch.condition));
      if (!holds) continue;
    }
    for (const ReportText& text : branch.report_text) {
      switch (text.type) {
        case ReportText::Type::kPlainText:
          out += text.text;
          break;
        case ReportText::Type::kNewline:
          out += "\n";
          break;
        case ReportText::Type::kTab:
          out += "\t";
          break;
        case ReportText::Type::kSpace:
          out += " ";
          break;
        case ReportText::Type::kInsertDataElementValue: {
          const DataElement* element = module_.FindDataElement(text.value);
          if (element == nullptr) break;
          auto found = values_.find(element->id);
          out += DisplayValue(*element, found == values_.end() ? nullptr : &found->second);
          break;
        }
        case ReportText::Type::kInsertPartialTemplate: {
          const TemplatePartial* partial = module_.FindTemplatePartial(text.value);
          if (partial != nullptr) AILAB_RETURN_IF_ERROR(Render(partial->branches, out, depth + 1));
          break;
        }
      }
    }
    AILAB_RETURN_IF_ERROR(Render(branch.branches, out, depth + 1));
  }
  return absl::OkStatus();
}

// Applies the conditional properties: drops values of elements that are not relevant
// and checks that every relevant, required element has a value within its bounds.
absl::StatusOr<Values> EffectiveValues(const Module& module, const Values& assigned) {
  Evaluator evaluator(module, assigned);
  Values effective;
  std::vector<std::string> missing;
  std::vector<std::string> missing_ids;
  for (const DataElement& element : module.data_elements) {
    bool relevant = true;
    bool required = element.is_required;
    std::optional<double> minimum = element.minimum;
    std::optional<double> maximum = element.maximum;
    for (const ConditionalProperty& property : element.conditional_properties) {
      AILAB_ASSIGN_OR_RETURN(bool holds, evaluator.Holds(property.condition));
      if (!holds) continue;
      if (property.is_relevant.has_value()) relevant = *property.is_relevant;
      if (property.is_required.has_value()) required = *property.is_required;
      if (property.minimum.has_value()) minimum = property.minimum;
      if (property.maximum.has_value()) maximum = property.maximum;
    }
    if (!relevant) continue;

    auto found = assigned.find(element.id);
    if (found == assigned.end()) {
      if (required && element.type != DataElementType::kComputed) {
        missing.push_back(absl::StrCat(element.id, " (", ExpectedValue(element), ")"));
        missing_ids.push_back(element.id);
      }
      continue;
    }
    const Value& value = found->second;
    if (value.number.has_value() &&
        ((minimum && *value.number < *minimum) || (maximum && *value.number > *maximum))) {
      std::string number = FormatNumber(*value.number);
      return InvalidArgument(
          "ASSIST_VALUE_OUT_OF_RANGE", "value",
          absl::StrCat("value ", number, " of data element ", element.id, " is out of range ",
                       minimum ? FormatNumber(*minimum) : "-inf", " to ",
                       maximum ? FormatNumber(*maximum) : "inf", " for these findings"),
          {{"data_element", element.id}, {"value", number}});
    }
    effective.emplace(element.id, value);
  }
  if (!missing.empty()) {
    std::string ids = absl::StrJoin(missing_ids, ",");
    return InvalidArgument(
        "ASSIST_VALUE_MISSING", "value",
        absl::StrCat("required data element", missing.size() == 1 ? " has" : "s have",
                     " no value: ", absl::StrJoin(missing, "; "), "; set ",
                     missing.size() == 1 ? "it" : "each", " as ID=VALUE"),
        {{"data_elements", ids}});
  }
  return effective;
}

// Renders a site template, with `module_text` for {default}.
std::string RenderTemplate(const Module& module, const SiteTemplate& site_template,
                           const std::string& module_text, const Values& values) {
  std::string out;
  for (const TemplatePiece& piece : site_template.pieces) {
    switch (piece.type) {
      case TemplatePiece::Type::kText:
        out += piece.text;
        break;
      case TemplatePiece::Type::kModuleText:
        out += module_text;
        break;
      case TemplatePiece::Type::kDisplayValue:
      case TemplatePiece::Type::kRawValue: {
        const DataElement* element = module.FindDataElement(piece.text);
        auto found = values.find(piece.text);
        if (element == nullptr || found == values.end()) break;
        if (piece.type == TemplatePiece::Type::kDisplayValue) {
          out += DisplayValue(*element, &found->second);
        } else if (found->second.number.has_value()) {
          out += FormatNumber(*found->second.number);
        } else if (!found->second.choices.empty()) {
          out += absl::StrJoin(found->second.choices, ", ");
        } else {
          out += found->second.text;
        }
        break;
      }
    }
  }
  return out;
}

std::string TrimSection(absl::string_view text) {
  return std::string(absl::StripAsciiWhitespace(text));
}

}  // namespace

std::string DisplayValue(const DataElement& element, const Value* value) {
  if (value == nullptr) return "";
  if (value->number.has_value()) return FormatNumber(*value->number);
  if (!value->choices.empty()) {
    std::vector<std::string> parts;
    for (const std::string& code : value->choices) {
      const Choice* choice = element.FindChoice(code);
      if (choice == nullptr) {
        parts.push_back(code);
      } else {
        parts.push_back(!choice->report_text.empty() ? choice->report_text
                        : !choice->label.empty()     ? choice->label
                                                     : choice->value);
      }
    }
    return absl::StrJoin(parts, ", ");
  }
  return value->text;
}

absl::Status SetValue(const Module& module, absl::string_view data_element_id,
                      absl::string_view text, Values& values) {
  const DataElement* element = module.FindDataElement(data_element_id);
  if (element == nullptr) {
    std::string id(data_element_id);
    std::string description =
        module.FindGlobalValue(data_element_id) != nullptr
            ? "is a global value of the module, which cannot be set"
            : absl::StrCat("is not a data element of module ", module.metadata.id);
    return InvalidArgument("ASSIST_UNKNOWN_DATA_ELEMENT", "value",
                           absl::StrCat("\"", data_element_id, "\" ", description,
                                        "; use one of: ", DataElementIds(module)),
                           {{"data_element", id}});
  }
  if (element->type == DataElementType::kComputed) {
    return InvalidArgument("ASSIST_VALUE_NOT_SETTABLE", "value",
                           absl::StrCat("data element ", element->id,
                                        " is computed from other elements and cannot be set"),
                           {{"data_element", element->id}});
  }
  std::string value_text(absl::StripAsciiWhitespace(text));
  auto existing = values.find(element->id);
  if (existing != values.end() && element->type != DataElementType::kMultiChoice) {
    return InvalidArgument(
        "ASSIST_VALUE_REPEATED", "value",
        absl::StrCat("data element ", element->id, " is set twice; give it one value"),
        {{"data_element", element->id}});
  }

  Value value;
  switch (element->type) {
    case DataElementType::kChoice:
    case DataElementType::kMultiChoice: {
      if (element->FindChoice(value_text) == nullptr) {
        return InvalidArgument(
            "ASSIST_VALUE_NOT_ALLOWED", "value",
            absl::StrCat("\"", value_text, "\" is not an allowed value of data element ",
                         element->id, "; use one of ", ChoiceList(*element)),
            {{"data_element", element->id}, {"value", value_text}});
      }
      if (existing != values.end()) {
        std::vector<std::string>& choices = existing->second.choices;
        if (std::find(choices.begin(), choices.end(), value_text) != choices.end()) {
          return InvalidArgument("ASSIST_VALUE_REPEATED", "value",
                                 absl::StrCat("choice ", value_text, " of data element ",
                                              element->id, " is given twice"),
                                 {{"data_element", element->id}, {"value", value_text}});
        }
        choices.push_back(value_text);
        return absl::OkStatus();
      }
      value.choices.push_back(value_text);
      break;
    }
    case DataElementType::kDateTime:
      if (value_text.size() < 10 || !absl::ascii_isdigit(value_text[0]) || value_text[4] != '-' ||
          value_text[7] != '-') {
        return InvalidArgument(
            "ASSIST_VALUE_NOT_A_DATE", "value",
            absl::StrCat("\"", value_text, "\" is not a valid value of data ", "element ",
                         element->id, "; use ", ExpectedValue(*element)),
            {{"data_element", element->id}, {"value", value_text}});
      }
      value.text = value_text;
      break;
    default: {
      std::optional<double> number = ParseDecimal(value_text, /*allow_exponent=*/true);
      bool whole = number.has_value() && std::floor(*number) == *number;
      if (!number.has_value() || (element->type == DataElementType::kInteger && !whole)) {
        return InvalidArgument(
            "ASSIST_VALUE_NOT_A_NUMBER", "value",
            absl::StrCat("\"", value_text, "\" is not a valid value of data ", "element ",
                         element->id, "; use ", ExpectedValue(*element)),
            {{"data_element", element->id}, {"value", value_text}});
      }
      if ((element->minimum && *number < *element->minimum) ||
          (element->maximum && *number > *element->maximum)) {
        return InvalidArgument(
            "ASSIST_VALUE_OUT_OF_RANGE", "value",
            absl::StrCat("value ", value_text, " of data element ", element->id,
                         " is out of range; use ",
                         element->minimum ? FormatNumber(*element->minimum) : "-inf", " to ",
                         element->maximum ? FormatNumber(*element->maximum) : "inf"),
            {{"data_element", element->id}, {"value", value_text}});
      }
      value.number = number;
      break;
    }
  }
  values.emplace(element->id, std::move(value));
  return absl::OkStatus();
}

absl::StatusOr<Values> ParseAssignments(const Module& module,
                                        const std::vector<std::string>& assignments) {
  Values values;
  for (const std::string& assignment : assignments) {
    size_t equals = assignment.find('=');
    std::string id = equals == std::string::npos
                         ? ""
                         : std::string(absl::StripAsciiWhitespace(assignment.substr(0, equals)));
    if (id.empty()) {
      return InvalidArgument("ASSIST_ASSIGNMENT_INVALID", "value",
                             absl::StrCat("\"", assignment, "\" is not an assignment; write ",
                                          "ID=VALUE, for example breast_density=C"),
                             {{"assignment", assignment}});
    }
    AILAB_RETURN_IF_ERROR(SetValue(module, id, assignment.substr(equals + 1), values));
  }
  return values;
}

absl::Status SetFromModelOutput(const Module& module, absl::string_view data_element_id,
                                const std::vector<double>& probabilities, Values& values) {
  const DataElement* element = module.FindDataElement(data_element_id);
  if (element == nullptr || element->type != DataElementType::kChoice) {
    std::string id(data_element_id);
    return InvalidArgument(
        "ASSIST_MODEL_OUTPUT_INVALID", "output",
        absl::StrCat("model output names \"", data_element_id,
                     "\", which is not a choice data element of module ", module.metadata.id),
        {{"data_element", id}});
  }
  if (probabilities.size() != element->choices.size()) {
    std::string count = absl::StrCat(probabilities.size());
    return InvalidArgument(
        "ASSIST_MODEL_OUTPUT_INVALID", "output",
        absl::StrCat("model output for ", element->id, " has ", probabilities.size(),
                     " probabilities, but the element has ", element->choices.size(),
                     " choices; give one per choice in this order: ", ChoiceList(*element)),
        {{"data_element", element->id}, {"count", count}});
  }
  size_t best = 0;
  for (size_t i = 0; i < probabilities.size(); ++i) {
    double p = probabilities[i];
    if (!std::isfinite(p) || p < 0 || p > 1) {
      std::string text = FormatNumber(p);
      return InvalidArgument(
          "ASSIST_MODEL_OUTPUT_INVALID", "output",
          absl::StrCat("probability ", text, " of choice ", element->choices[i].value, " of ",
                       element->id, " is invalid; probabilities are from 0 to 1"),
          {{"data_element", element->id}, {"value", text}});
    }
    if (p > probabilities[best]) best = i;
  }
  AILAB_RETURN_IF_ERROR(SetValue(module, element->id, element->choices[best].value, values));

  // The probability of the chosen category, for modules that report it.
  const std::string probability_id = absl::StrCat(element->id, "_probability");
  const DataElement* probability = module.FindDataElement(probability_id);
  if (probability != nullptr && probability->type == DataElementType::kNumeric &&
      values.count(probability_id) == 0) {
    Value percent;
    percent.number = std::round(probabilities[best] * 1000) / 10;
    values.emplace(probability_id, std::move(percent));
  }
  return absl::OkStatus();
}

absl::Status ParseModelOutput(const Module& module, absl::string_view assignment, Values& values) {
  size_t equals = assignment.find('=');
  std::string text(assignment);
  if (equals == absl::string_view::npos || equals == 0) {
    return InvalidArgument("ASSIST_MODEL_OUTPUT_INVALID", "output",
                           absl::StrCat("\"", assignment, "\" is not a model output; write ",
                                        "ID=P1,P2,... with one probability per choice"),
                           {{"output", text}});
  }
  std::string id(absl::StripAsciiWhitespace(assignment.substr(0, equals)));
  std::vector<double> probabilities;
  for (absl::string_view part : absl::StrSplit(assignment.substr(equals + 1), ',')) {
    std::string item(absl::StripAsciiWhitespace(part));
    std::optional<double> p = ParseDecimal(item, /*allow_exponent=*/true);
    if (!p.has_value()) {
      return InvalidArgument("ASSIST_MODEL_OUTPUT_INVALID", "output",
                             absl::StrCat("\"", item, "\" in model output for ", id,
                                          " is not a number; give probabilities from 0 to 1"),
                             {{"output", text}});
    }
    probabilities.push_back(*p);
  }
  return SetFromModelOutput(module, id, probabilities, values);
}

std::string Report::Text() const {
  std::vector<std::string> parts;
  for (const SectionText& section : sections) {
    if (!section.text.empty()) parts.push_back(section.text);
  }
  return absl::StrJoin(parts, "\n\n");
}

std::string Report::SectionTextOf(absl::string_view section_id) const {
  for (const SectionText& section : sections) {
    if (section.section_id == section_id) return section.text;
  }
  return "";
}

absl::StatusOr<Report> Evaluate(const Module& module, const Values& values,
                                const SiteTemplates* site_templates) {
  AILAB_ASSIGN_OR_RETURN(Values effective, EffectiveValues(module, values));

  // Walk the rules to an end point.
  Evaluator evaluator(module, effective);
  AILAB_RETURN_IF_ERROR(evaluator.Walk(module.rules, 0));
  Report report;
  report.path = std::move(evaluator.path());

  // Render the module's sections, then let the site templates replace or add some.
  std::vector<std::pair<std::string, std::string>> sections;
  if (const Branch* branch = evaluator.text_branch()) {
    std::string text;
    AILAB_RETURN_IF_ERROR(evaluator.Render({*branch}, text, 0));
    sections.emplace_back("findings", TrimSection(text));
  } else {
    const EndPoint* end_point = module.FindEndPoint(evaluator.end_point_id());
    if (end_point == nullptr) {
      return Internal("ASSIST_END_POINT_MISSING",
                      absl::StrCat("rules reached end point ", evaluator.end_point_id(),
                                   ", which the module does not define"));
    }
    report.end_point_id = end_point->id;
    report.end_point_label = end_point->label;
    for (const ReportSection& section : end_point->sections) {
      std::string text;
      AILAB_RETURN_IF_ERROR(evaluator.Render(section.branches, text, 0));
      sections.emplace_back(section.section_id, TrimSection(text));
    }
  }
  if (site_templates != nullptr) {
    std::string end_point_id = report.end_point_id.empty() ? "*" : report.end_point_id;
    for (auto& [section_id, text] : sections) {
      if (const SiteTemplate* site = site_templates->Find(end_point_id, section_id)) {
        text = TrimSection(RenderTemplate(module, *site, text, effective));
      }
    }
    for (const std::string& section_id : SectionIds()) {
      bool present = std::any_of(sections.begin(), sections.end(),
                                 [&](const auto& section) { return section.first == section_id; });
      const SiteTemplate* site = site_templates->Find(end_point_id, section_id);
      if (!present && site != nullptr) {
        sections.emplace_back(section_id,
                              TrimSection(RenderTemplate(module, *site, "", effective)));
      }
    }
  }
  for (auto& [section_id, text] : sections) {
    report.sections.push_back({section_id, std::move(text)});
  }
  return report;
}

}  // namespace ailab::assist
