// Reads ACR Assist modules with libxml2 and checks them against the structure of
// schema 2.0 (CARDS_Schema_2.0.rnc, bundled in data/assist/).
//
// NOTE: the checks follow the schema's elements, attributes, cardinalities and value
// types, but not the order of sibling elements, which the tools that write modules do
// not always keep. <Metadata> follows a separate schema that is not published with
// version 2.0, so only its Label, ID and SchemaVersion are checked.
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/assist/module.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"
#include "src/text.h"

namespace ailab::assist {
namespace {

using internal::CollapseLayoutWhitespace;
using internal::NormalizeSpace;
using internal::ParseDecimal;
using internal::ParseInteger;

constexpr int kUnbounded = -1;

// Allowed count of one child element.
struct ChildRule {
  absl::string_view name;
  int min = 0;
  int max = 1;  // kUnbounded for no limit
};

// The condition elements of the schema's ConditionType pattern.
const std::map<std::string, Condition::Type, std::less<>>& ConditionTypes() {
  static const auto* types = new std::map<std::string, Condition::Type, std::less<>>{
      {"AndCondition", Condition::Type::kAnd},
      {"OrCondition", Condition::Type::kOr},
      {"NotCondition", Condition::Type::kNot},
      {"EqualCondition", Condition::Type::kEqual},
      {"NotEqualCondition", Condition::Type::kNotEqual},
      {"GreaterThanCondition", Condition::Type::kGreaterThan},
      {"LessThanCondition", Condition::Type::kLessThan},
      {"GreaterThanOrEqualsCondition", Condition::Type::kGreaterThanOrEquals},
      {"LessThanOrEqualsCondition", Condition::Type::kLessThanOrEquals},
      {"ContainsCondition", Condition::Type::kContains},
      {"HasAnyNChoicesCondition", Condition::Type::kHasAnyNChoices},
      {"SectionIf", Condition::Type::kSectionIf},
      {"SectionIfNot", Condition::Type::kSectionIfNot},
  };
  return *types;
}

const std::map<std::string, DataElementType, std::less<>>& DataElementTypes() {
  static const auto* types = new std::map<std::string, DataElementType, std::less<>>{
      {"ChoiceDataElement", DataElementType::kChoice},
      {"MultiChoiceDataElement", DataElementType::kMultiChoice},
      {"NumericDataElement", DataElementType::kNumeric},
      {"IntegerDataElement", DataElementType::kInteger},
      {"DateTimeDataElement", DataElementType::kDateTime},
      {"TimeSpanDataElement", DataElementType::kTimeSpan},
      {"ComputedDataElement", DataElementType::kComputed},
  };
  return *types;
}

const std::map<std::string, ReportText::Type, std::less<>>& ReportTextTypes() {
  static const auto* types = new std::map<std::string, ReportText::Type, std::less<>>{
      {"PlainText", ReportText::Type::kPlainText},
      {"InsertPartialTemplate", ReportText::Type::kInsertPartialTemplate},
      {"InsertDataElementValue", ReportText::Type::kInsertDataElementValue},
      {"Newline", ReportText::Type::kNewline},
      {"Tab", ReportText::Type::kTab},
      {"Space", ReportText::Type::kSpace},
  };
  return *types;
}

std::string Name(const xmlNode* node) { return reinterpret_cast<const char*>(node->name); }

int Line(const xmlNode* node) { return static_cast<int>(xmlGetLineNo(node)); }

std::optional<std::string> Attribute(const xmlNode* node, const char* name) {
  xmlChar* value = xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return std::nullopt;
  std::string text = reinterpret_cast<const char*>(value);
  xmlFree(value);
  return text;
}

std::vector<xmlNode*> ElementChildren(const xmlNode* node) {
  std::vector<xmlNode*> children;
  for (xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (child->type == XML_ELEMENT_NODE) children.push_back(child);
  }
  return children;
}

// Reads one module document; each method checks one element of the schema.
class ModuleParser {
 public:
  explicit ModuleParser(std::string source) : source_(std::move(source)) {}

  absl::StatusOr<Module> Parse(const xmlNode* root);

 private:
  // A reference to an id that is checked once the whole module has been read.
  struct PendingReference {
    enum class Target { kEndPoint, kTemplatePartial, kDataElement };
    Target target;
    std::string id;
    std::string element;
    std::string attribute;
    int line;
  };

  absl::Status Error(const xmlNode* node, absl::string_view problem) const {
    return ErrorAt(Name(node), Line(node), problem);
  }

  absl::Status ErrorAt(absl::string_view element, int line, absl::string_view problem) const {
    std::string line_text = absl::StrCat(line);
    return InvalidArgument("ASSIST_MODULE_INVALID", "module",
                           absl::StrCat(source_, ":", line, ": <", element, "> ", problem),
                           {{"source", source_}, {"line", line_text}, {"element", element}});
  }

  absl::Status CheckAttributes(const xmlNode* node, std::initializer_list<const char*> allowed,
                               std::initializer_list<const char*> required) const;
  absl::Status CheckChildren(const xmlNode* node, const std::vector<ChildRule>& rules) const;
  absl::Status CheckNoText(const xmlNode* node) const;
  absl::StatusOr<std::string> TextOf(const xmlNode* node) const;
  absl::StatusOr<std::optional<bool>> BoolAttribute(const xmlNode* node, const char* name,
                                                    bool allow_digits = false) const;
  absl::StatusOr<std::optional<double>> DecimalChild(const xmlNode* node, bool integer) const;
  absl::StatusOr<std::string> RegisterId(const xmlNode* node);
  absl::StatusOr<xmlNode*> OnlyChild(const xmlNode* node, absl::string_view name) const;

  absl::Status ParseMetadata(const xmlNode* node, Metadata& metadata) const;
  absl::Status ParseDataElements(const xmlNode* node, Module& module);
  absl::StatusOr<DataElement> ParseDataElement(const xmlNode* node, DataElementType type);
  absl::Status ParseBaseElementChildren(const xmlNode* child, DataElement& element,
                                        bool& handled) const;
  absl::Status ParseChoiceInfo(const xmlNode* node, DataElement& element) const;
  absl::Status ParseConditionalProperties(const xmlNode* node, DataElement& element);
  absl::StatusOr<Condition> ParseCondition(const xmlNode* node);
  absl::Status ParseDecisionPoint(const xmlNode* node, DecisionPoint& point);
  absl::StatusOr<Branch> ParseBranch(const xmlNode* node, bool in_rules);
  absl::StatusOr<ReportText> ParseReportText(const xmlNode* node);
  absl::Status ParseEndPoints(const xmlNode* node, Module& module);
  absl::Status CheckCodableConcept(const xmlNode* node) const;
  absl::Status CheckDiagrams(const xmlNode* node) const;
  absl::Status CheckSource(const xmlNode* node) const;
  absl::Status CheckImageMap(const xmlNode* node, std::vector<std::string>& area_values) const;
  absl::Status CheckTemplateContent(const xmlNode* node);
  absl::Status CheckValueElement(const xmlNode* node) const;

  absl::Status ResolveReferences(const Module& module) const;
  absl::Status CheckCondition(const Module& module, const Condition& condition) const;
  absl::Status CheckPartialCycles(const Module& module) const;

  std::string source_;
  // Every xsd:ID in the document, which share one id space, with the line of each.
  std::map<std::string, std::pair<std::string, int>> ids_;
  std::vector<PendingReference> references_;
  std::vector<Condition> conditions_;  // copies of every top-level condition
  // Choice values named by <ChoiceNotRelevant> and <Area>, checked after parsing.
  std::vector<std::tuple<std::string, std::string, std::string, int>> choice_references_;
};

absl::Status ModuleParser::CheckAttributes(const xmlNode* node,
                                           std::initializer_list<const char*> allowed,
                                           std::initializer_list<const char*> required) const {
  for (const xmlAttr* attribute = node->properties; attribute != nullptr;
       attribute = attribute->next) {
    std::string name = reinterpret_cast<const char*>(attribute->name);
    bool known = std::any_of(allowed.begin(), allowed.end(),
                             [&](const char* allowed_name) { return name == allowed_name; });
    if (!known) {
      std::vector<std::string> names(allowed.begin(), allowed.end());
      return Error(node, absl::StrCat("has attribute ", name, ", which the schema does not allow ",
                                      "here; allowed attributes: ",
                                      names.empty() ? "none" : absl::StrJoin(names, ", ")));
    }
  }
  for (const char* name : required) {
    if (!Attribute(node, name).has_value()) {
      return Error(node, absl::StrCat("is missing the required attribute ", name));
    }
  }
  return absl::OkStatus();
}

absl::Status ModuleParser::CheckChildren(const xmlNode* node,
                                         const std::vector<ChildRule>& rules) const {
  AILAB_RETURN_IF_ERROR(CheckNoText(node));
  std::map<std::string, int, std::less<>> counts;
  for (const xmlNode* child : ElementChildren(node)) {
    std::string name = Name(child);
    auto rule = std::find_if(rules.begin(), rules.end(),
                             [&](const ChildRule& r) { return r.name == name; });
    if (rule == rules.end()) {
      std::vector<std::string> names;
      for (const ChildRule& r : rules) names.emplace_back(r.name);
      return Error(child, absl::StrCat("is not allowed inside <", Name(node), ">; allowed: ",
                                       names.empty() ? "no elements" : absl::StrJoin(names, ", ")));
    }
    int count = ++counts[name];
    if (rule->max != kUnbounded && count > rule->max) {
      std::string limit = rule->max == 1 ? "once" : absl::StrCat(rule->max, " times");
      return Error(child, absl::StrCat("appears more than ", limit, " inside <", Name(node), ">"));
    }
  }
  for (const ChildRule& rule : rules) {
    auto it = counts.find(rule.name);
    int count = it == counts.end() ? 0 : it->second;
    if (count < rule.min) {
      return Error(node, absl::StrCat("is missing the required element <", rule.name, ">"));
    }
  }
  return absl::OkStatus();
}

absl::Status ModuleParser::CheckNoText(const xmlNode* node) const {
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) {
      const char* content = reinterpret_cast<const char*>(child->content);
      std::string text = NormalizeSpace(content == nullptr ? "" : content);
      if (!text.empty()) {
        // Quote at most 40 bytes, cut at a UTF-8 character boundary.
        size_t length = std::min<size_t>(text.size(), 40);
        while (length < text.size() && (static_cast<unsigned char>(text[length]) & 0xC0) == 0x80) {
          --length;
        }
        return Error(node, absl::StrCat("contains text \"", text.substr(0, length),
                                        "\", but only elements are allowed in it"));
      }
    } else if (child->type == XML_ENTITY_REF_NODE) {
      return Error(node,
                   "contains an entity reference; modules may use only the five "
                   "predefined XML entities and character references");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ModuleParser::TextOf(const xmlNode* node) const {
  std::string text;
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    switch (child->type) {
      case XML_TEXT_NODE:
      case XML_CDATA_SECTION_NODE:
        if (child->content != nullptr) text += reinterpret_cast<const char*>(child->content);
        break;
      case XML_COMMENT_NODE:
      case XML_PI_NODE:
        break;
      case XML_ELEMENT_NODE:
        return Error(child, absl::StrCat("is not allowed inside <", Name(node),
                                         ">, which contains text only"));
      default:
        return Error(node,
                     "contains an entity reference; modules may use only the five "
                     "predefined XML entities and character references");
    }
  }
  return text;
}

absl::StatusOr<std::optional<bool>> ModuleParser::BoolAttribute(const xmlNode* node,
                                                                const char* name,
                                                                bool allow_digits) const {
  std::optional<std::string> value = Attribute(node, name);
  if (!value.has_value()) return std::optional<bool>();
  if (*value == "true" || (allow_digits && *value == "1")) return std::optional<bool>(true);
  if (*value == "false" || (allow_digits && *value == "0")) return std::optional<bool>(false);
  return Error(node, absl::StrCat("has ", name, "=\"", *value,
                                  "\", which is invalid; use \"true\" or \"false\""));
}

absl::StatusOr<std::optional<double>> ModuleParser::DecimalChild(const xmlNode* node,
                                                                 bool integer) const {
  AILAB_ASSIGN_OR_RETURN(std::string text, TextOf(node));
  std::string trimmed = NormalizeSpace(text);
  std::optional<double> value;
  if (integer) {
    std::optional<int64_t> whole = ParseInteger(trimmed);
    if (whole.has_value()) value = static_cast<double>(*whole);
  } else {
    value = ParseDecimal(trimmed, /*allow_exponent=*/false);
  }
  if (!value.has_value()) {
    return Error(node, absl::StrCat("contains \"", trimmed, "\", which is not ",
                                    integer ? "a whole number" : "a decimal number"));
  }
  return value;
}

absl::StatusOr<std::string> ModuleParser::RegisterId(const xmlNode* node) {
  std::string id = Attribute(node, "Id").value_or("");
  if (!internal::IsValidId(id)) {
    return Error(node, absl::StrCat("has Id=\"", id,
                                    "\", which is not a valid XML id; start "
                                    "with a letter or _ and use letters, digits, _, - and ."));
  }
  auto [it, inserted] = ids_.emplace(id, std::make_pair(Name(node), Line(node)));
  if (!inserted) {
    return Error(node,
                 absl::StrCat("has Id=\"", id, "\", which <", it->second.first, "> on line ",
                              it->second.second, " already uses; ids must be unique in a module"));
  }
  return id;
}

absl::StatusOr<xmlNode*> ModuleParser::OnlyChild(const xmlNode* node,
                                                 absl::string_view name) const {
  for (xmlNode* child : ElementChildren(node)) {
    if (Name(child) == name) return child;
  }
  return Error(node, absl::StrCat("is missing the required element <", name, ">"));
}

// --- Metadata and data elements -------------------------------------------------

absl::Status ModuleParser::ParseMetadata(const xmlNode* node, Metadata& metadata) const {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {}, {}));
  AILAB_RETURN_IF_ERROR(CheckNoText(node));
  for (const char* name : {"Label", "ID", "SchemaVersion"}) {
    AILAB_ASSIGN_OR_RETURN(xmlNode * child, OnlyChild(node, name));
    AILAB_ASSIGN_OR_RETURN(std::string text, TextOf(child));
    std::string value = NormalizeSpace(text);
    if (value.empty()) return Error(child, "is empty; it must name the module");
    if (std::string(name) == "Label") metadata.label = value;
    if (std::string(name) == "ID") metadata.id = value;
    if (std::string(name) == "SchemaVersion") {
      if (value != "2.0") {
        return Error(child, absl::StrCat("is \"", value,
                                         "\", but only schema version 2.0 "
                                         "modules can be read"));
      }
      metadata.schema_version = value;
    }
  }
  for (const xmlNode* child : ElementChildren(node)) {
    if (Name(child) == "ModuleVersion") {
      AILAB_ASSIGN_OR_RETURN(std::string text, TextOf(child));
      metadata.module_version = NormalizeSpace(text);
    }
  }
  return absl::OkStatus();
}

absl::Status ModuleParser::ParseDataElements(const xmlNode* node, Module& module) {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {}, {}));
  AILAB_RETURN_IF_ERROR(CheckNoText(node));
  std::vector<xmlNode*> children = ElementChildren(node);
  if (children.empty()) return Error(node, "contains no data element; add at least one");
  for (const xmlNode* child : children) {
    std::string name = Name(child);
    if (name == "GlobalValue") {
      AILAB_RETURN_IF_ERROR(CheckAttributes(child, {"Id"}, {"Id"}));
      GlobalValue global;
      AILAB_ASSIGN_OR_RETURN(global.id, RegisterId(child));
      AILAB_ASSIGN_OR_RETURN(std::string text, TextOf(child));
      global.value = NormalizeSpace(text);
      global.line = Line(child);
      module.global_values.push_back(std::move(global));
      continue;
    }
    auto type = DataElementTypes().find(name);
    if (type == DataElementTypes().end()) {
      return Error(child,
                   "is not a data element; use ChoiceDataElement, "
                   "MultiChoiceDataElement, NumericDataElement, IntegerDataElement, "
                   "DateTimeDataElement, TimeSpanDataElement, ComputedDataElement "
                   "or GlobalValue");
    }
    AILAB_ASSIGN_OR_RETURN(DataElement element, ParseDataElement(child, type->second));
    module.data_elements.push_back(std::move(element));
  }
  return absl::OkStatus();
}

absl::StatusOr<DataElement> ModuleParser::ParseDataElement(const xmlNode* node,
                                                           DataElementType type) {
  DataElement element;
  element.type = type;
  element.line = Line(node);

  // Computed elements have a shape of their own.
  if (type == DataElementType::kComputed) {
    AILAB_RETURN_IF_ERROR(CheckAttributes(node, {"Id", "DisplaySequence", "ShowValue"}, {"Id"}));
    AILAB_RETURN_IF_ERROR(CheckChildren(node, {{"Label"},
                                               {"Hint"},
                                               {"Diagrams"},
                                               {"ArithmeticExpression"},
                                               {"TextExpression"},
                                               {"DecisionPoint"}}));
    AILAB_ASSIGN_OR_RETURN(element.id, RegisterId(node));
    int expressions = 0;
    for (const xmlNode* child : ElementChildren(node)) {
      std::string name = Name(child);
      if (name == "Label") {
        AILAB_ASSIGN_OR_RETURN(std::string text, TextOf(child));
        element.label = NormalizeSpace(text);
      } else if (name != "Hint" && name != "Diagrams") {
        ++expressions;
      }
    }
    if (expressions != 1) {
      return Error(node,
                   "must contain exactly one of <ArithmeticExpression>, "
                   "<TextExpression> or <DecisionPoint>");
    }
    return element;
  }

  // Attributes shared by every other kind (the schema's baseElementContents).
  std::vector<const char*> allowed = {
      "Id", "IsRequired", "DisplaySequence", "Editable", "Hasprefilled", "Output", "Unit"};
  if (type == DataElementType::kChoice || type == DataElementType::kMultiChoice) {
    allowed.push_back("AllowFreetext");
  }
  if (type == DataElementType::kTimeSpan) {
    for (const char* name : {"ShowDays", "ShowHours", "ShowMinutes", "ShowSeconds"}) {
      allowed.push_back(name);
    }
  }
  for (const xmlAttr* attribute = node->properties; attribute != nullptr;
       attribute = attribute->next) {
    std::string name = reinterpret_cast<const char*>(attribute->name);
    if (std::none_of(allowed.begin(), allowed.end(),
                     [&](const char* allowed_name) { return name == allowed_name; })) {
      std::vector<std::string> names(allowed.begin(), allowed.end());
      return Error(node, absl::StrCat("has attribute ", name,
                                      ", which the schema does not "
                                      "allow here; allowed attributes: ",
                                      absl::StrJoin(names, ", ")));
    }
  }
  if (!Attribute(node, "Id").has_value()) {
    return Error(node, "is missing the required attribute Id");
  }
  AILAB_ASSIGN_OR_RETURN(element.id, RegisterId(node));
  AILAB_ASSIGN_OR_RETURN(std::optional<bool> required, BoolAttribute(node, "IsRequired"));
  element.is_required = required.value_or(false);
  for (const char* name : {"Editable", "Hasprefilled", "Output", "AllowFreetext"}) {
    AILAB_RETURN_IF_ERROR(BoolAttribute(node, name).status());
  }
  for (const char* name : {"ShowDays", "ShowHours", "ShowMinutes", "ShowSeconds"}) {
    AILAB_RETURN_IF_ERROR(BoolAttribute(node, name, /*allow_digits=*/true).status());
  }
  if (std::optional<std::string> sequence = Attribute(node, "DisplaySequence")) {
    std::optional<int64_t> value = ParseInteger(*sequence);
    if (!value.has_value() || *value < 0) {
      return Error(node, absl::StrCat("has DisplaySequence=\"", *sequence,
                                      "\", which is invalid; use a whole number from 0"));
    }
  }
  element.unit = NormalizeSpace(Attribute(node, "Unit").value_or(""));

  // Child elements: the shared ones first, then those of each kind.
  std::vector<ChildRule> rules = {
      {"CodableConcept"}, {"Label", 1, 1},          {"Hint"}, {"Diagrams"}, {"VoiceCommand"},
      {"Source"},         {"ConditionalProperties"}};
  switch (type) {
    case DataElementType::kChoice:
    case DataElementType::kMultiChoice:
      rules.push_back({"ChoiceInfo", 1, 1});
      rules.push_back({"ImageMap"});
      break;
    case DataElementType::kNumeric:
    case DataElementType::kInteger:
      rules.push_back({"Minimum"});
      rules.push_back({"Maximum"});
      break;
    case DataElementType::kTimeSpan:
      for (const char* name :
           {"MinimumDay", "MaximumDay", "MinimumHours", "MaximumHours", "MinimumMinutes",
            "MaximumMinutes", "MinimumSeconds", "MaximumSeconds"}) {
        rules.push_back({name});
      }
      break;
    default:
      break;
  }
  AILAB_RETURN_IF_ERROR(CheckChildren(node, rules));

  std::vector<std::string> area_values;
  const xmlNode* area_node = nullptr;
  for (const xmlNode* child : ElementChildren(node)) {
    std::string name = Name(child);
    if (name == "Label") {
      AILAB_ASSIGN_OR_RETURN(std::string text, TextOf(child));
      element.label = NormalizeSpace(text);
    } else if (name == "Hint" || name == "VoiceCommand") {
      AILAB_RETURN_IF_ERROR(TextOf(child).status());
    } else if (name == "CodableConcept") {
      AILAB_RETURN_IF_ERROR(CheckCodableConcept(child));
    } else if (name == "Diagrams") {
      AILAB_RETURN_IF_ERROR(CheckDiagrams(child));
    } else if (name == "Source") {
      AILAB_RETURN_IF_ERROR(CheckSource(child));
    } else if (name == "ChoiceInfo") {
      AILAB_RETURN_IF_ERROR(ParseChoiceInfo(child, element));
    } else if (name == "ImageMap") {
      AILAB_RETURN_IF_ERROR(CheckImageMap(child, area_values));
      area_node = child;
    } else if (name == "Minimum" || name == "Maximum") {
      AILAB_RETURN_IF_ERROR(CheckAttributes(child, {}, {}));
      AILAB_ASSIGN_OR_RETURN(std::optional<double> bound,
                             DecimalChild(child, type == DataElementType::kInteger));
      (name == "Minimum" ? element.minimum : element.maximum) = bound;
    } else if (name == "ConditionalProperties") {
      // Parsed below, once the choices are known.
    } else {
      // The MinimumDay ... MaximumSeconds bounds of a time span.
      AILAB_RETURN_IF_ERROR(CheckAttributes(child, {}, {}));
      AILAB_RETURN_IF_ERROR(DecimalChild(child, /*integer=*/true).status());
    }
  }
  if (element.minimum && element.maximum && *element.minimum > *element.maximum) {
    return Error(node, absl::StrCat("has Minimum ", internal::FormatNumber(*element.minimum),
                                    " above Maximum ", internal::FormatNumber(*element.maximum)));
  }
  for (const std::string& value : area_values) {
    choice_references_.emplace_back(element.id, value, "Area", Line(area_node));
  }
  for (const xmlNode* child : ElementChildren(node)) {
    if (Name(child) == "ConditionalProperties") {
      AILAB_RETURN_IF_ERROR(ParseConditionalProperties(child, element));
    }
  }
  return element;
}

absl::Status ModuleParser::ParseChoiceInfo(const xmlNode* node, DataElement& element) const {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {}, {}));
  AILAB_RETURN_IF_ERROR(CheckChildren(node, {{"Choice", 1, kUnbounded}}));
  for (const xmlNode* child : ElementChildren(node)) {
    AILAB_RETURN_IF_ERROR(CheckAttributes(child, {"IsDefault"}, {}));
    AILAB_RETURN_IF_ERROR(CheckChildren(
        child, {{"Value", 1, 1}, {"Label", 1, 1}, {"Hint"}, {"VoiceCommand"}, {"ReportText"}}));
    Choice choice;
    AILAB_ASSIGN_OR_RETURN(std::optional<bool> is_default, BoolAttribute(child, "IsDefault"));
    choice.is_default = is_default.value_or(false);
    for (const xmlNode* part : ElementChildren(child)) {
      AILAB_RETURN_IF_ERROR(CheckAttributes(part, {}, {}));
      AILAB_ASSIGN_OR_RETURN(std::string text, TextOf(part));
      std::string name = Name(part);
      if (name == "Value") {
        choice.value = NormalizeSpace(text);
        if (choice.value.empty() || choice.value.find(' ') != std::string::npos) {
          return Error(part, absl::StrCat("contains \"", choice.value,
                                          "\"; a choice value "
                                          "must be one word without spaces"));
        }
        if (element.FindChoice(choice.value) != nullptr) {
          return Error(part, absl::StrCat("repeats the choice value \"", choice.value,
                                          "\" of data element ", element.id));
        }
      } else if (name == "Label") {
        choice.label = NormalizeSpace(text);
      } else if (name == "ReportText") {
        choice.report_text = NormalizeSpace(text);
      }
    }
    element.choices.push_back(std::move(choice));
  }
  return absl::OkStatus();
}

absl::Status ModuleParser::ParseConditionalProperties(const xmlNode* node, DataElement& element) {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {}, {}));
  AILAB_RETURN_IF_ERROR(CheckChildren(node, {{"ConditionalProperty", 1, kUnbounded}}));
  for (const xmlNode* child : ElementChildren(node)) {
    AILAB_RETURN_IF_ERROR(CheckAttributes(child, {}, {}));
    AILAB_RETURN_IF_ERROR(CheckNoText(child));
    ConditionalProperty property;
    property.line = Line(child);
    int conditions = 0;
    for (const xmlNode* part : ElementChildren(child)) {
      std::string name = Name(part);
      if (ConditionTypes().count(name) > 0) {
        if (++conditions > 1) {
          return Error(part,
                       "is a second condition; a <ConditionalProperty> has exactly one "
                       "(combine several with <AndCondition> or <OrCondition>)");
        }
        AILAB_ASSIGN_OR_RETURN(property.condition, ParseCondition(part));
        conditions_.push_back(property.condition);
        continue;
      }
      bool is_choice =
          element.type == DataElementType::kChoice || element.type == DataElementType::kMultiChoice;
      bool is_number =
          element.type == DataElementType::kNumeric || element.type == DataElementType::kInteger;
      if (is_choice && name == "ChoiceNotRelevant") {
        AILAB_RETURN_IF_ERROR(CheckAttributes(part, {"ChoiceValue"}, {"ChoiceValue"}));
      } else {
        AILAB_RETURN_IF_ERROR(CheckAttributes(part, {}, {}));
      }
      if (name == "IsRelevant" || name == "IsRequired") {
        AILAB_ASSIGN_OR_RETURN(std::string text, TextOf(part));
        std::string value = NormalizeSpace(text);
        if (value != "true" && value != "false") {
          return Error(part, absl::StrCat("contains \"", value, "\"; use true or false"));
        }
        (name == "IsRelevant" ? property.is_relevant : property.is_required) = value == "true";
      } else if (name == "DisplaySequence") {
        AILAB_RETURN_IF_ERROR(DecimalChild(part, /*integer=*/true).status());
      } else if (is_choice && name == "ChoiceNotRelevant") {
        AILAB_RETURN_IF_ERROR(CheckChildren(part, {}));
        choice_references_.emplace_back(element.id, *Attribute(part, "ChoiceValue"),
                                        "ChoiceNotRelevant", Line(part));
      } else if (is_number && (name == "Minimum" || name == "Maximum")) {
        AILAB_ASSIGN_OR_RETURN(std::optional<double> bound,
                               DecimalChild(part, element.type == DataElementType::kInteger));
        (name == "Minimum" ? property.minimum : property.maximum) = bound;
      } else if (element.type == DataElementType::kTimeSpan && name.rfind("M", 0) == 0 &&
                 (name.find("Day") != std::string::npos ||
                  name.find("Hours") != std::string::npos ||
                  name.find("Minutes") != std::string::npos ||
                  name.find("Seconds") != std::string::npos)) {
        AILAB_RETURN_IF_ERROR(DecimalChild(part, /*integer=*/true).status());
      } else {
        return Error(part, absl::StrCat("is not allowed inside the <ConditionalProperty> of <",
                                        DataElementElementName(element.type), ">"));
      }
    }
    if (conditions == 0) {
      return Error(child, "has no condition; add one such as <EqualCondition>");
    }
    element.conditional_properties.push_back(std::move(property));
  }
  return absl::OkStatus();
}

// --- Conditions and rules -------------------------------------------------------

absl::StatusOr<Condition> ModuleParser::ParseCondition(const xmlNode* node) {
  Condition condition;
  condition.type = ConditionTypes().find(Name(node))->second;
  condition.line = Line(node);
  switch (condition.type) {
    case Condition::Type::kAnd:
    case Condition::Type::kOr:
    case Condition::Type::kNot: {
      AILAB_RETURN_IF_ERROR(CheckAttributes(node, {}, {}));
      AILAB_RETURN_IF_ERROR(CheckNoText(node));
      for (const xmlNode* child : ElementChildren(node)) {
        if (ConditionTypes().count(Name(child)) == 0) {
          return Error(child, absl::StrCat("is not a condition, so it is not allowed inside <",
                                           Name(node), ">"));
        }
        AILAB_ASSIGN_OR_RETURN(Condition operand, ParseCondition(child));
        condition.operands.push_back(std::move(operand));
      }
      if (condition.operands.empty()) {
        return Error(node, "contains no condition; add at least one");
      }
      return condition;
    }
    case Condition::Type::kHasAnyNChoices: {
      AILAB_RETURN_IF_ERROR(CheckAttributes(node, {"DataElementId", "MinimumChoices"},
                                            {"DataElementId", "MinimumChoices"}));
      AILAB_RETURN_IF_ERROR(CheckChildren(node, {}));
      std::string minimum = *Attribute(node, "MinimumChoices");
      std::optional<int64_t> value = ParseInteger(minimum);
      if (!value.has_value() || *value < 1) {
        return Error(node, absl::StrCat("has MinimumChoices=\"", minimum,
                                        "\", which is invalid; use a whole number from 1"));
      }
      condition.minimum_choices = *value;
      condition.data_element_id = *Attribute(node, "DataElementId");
      return condition;
    }
    case Condition::Type::kSectionIf:
    case Condition::Type::kSectionIfNot: {
      AILAB_RETURN_IF_ERROR(CheckAttributes(node, {"DataElementId"}, {"DataElementId"}));
      AILAB_RETURN_IF_ERROR(CheckTemplateContent(node));
      condition.data_element_id = *Attribute(node, "DataElementId");
      return condition;
    }
    default: {
      AILAB_RETURN_IF_ERROR(CheckAttributes(node, {"DataElementId", "ComparisonValue"},
                                            {"DataElementId", "ComparisonValue"}));
      AILAB_RETURN_IF_ERROR(CheckChildren(node, {}));
      condition.data_element_id = *Attribute(node, "DataElementId");
      condition.comparison_value = NormalizeSpace(*Attribute(node, "ComparisonValue"));
      return condition;
    }
  }
}

absl::Status ModuleParser::CheckTemplateContent(const xmlNode* node) {
  // NOTE: the template content of <SectionIf> is checked but not rendered; the
  // condition only tests whether the data element has a value.
  for (const xmlNode* child : ElementChildren(node)) {
    std::string name = Name(child);
    if (name == "InsertValue") {
      AILAB_RETURN_IF_ERROR(
          CheckAttributes(child, {"DataElementId", "SignificantDigits"}, {"DataElementId"}));
      references_.push_back({PendingReference::Target::kDataElement,
                             *Attribute(child, "DataElementId"), name, "DataElementId",
                             Line(child)});
    } else if (name == "InsertPartial") {
      AILAB_RETURN_IF_ERROR(CheckAttributes(child, {"PartialId"}, {"PartialId"}));
      references_.push_back({PendingReference::Target::kTemplatePartial,
                             *Attribute(child, "PartialId"), name, "PartialId", Line(child)});
    } else if (name == "PlainText") {
      AILAB_RETURN_IF_ERROR(CheckAttributes(child, {}, {}));
      AILAB_RETURN_IF_ERROR(TextOf(child).status());
    } else if (name == "NewLine") {
      AILAB_RETURN_IF_ERROR(CheckAttributes(child, {}, {}));
      AILAB_RETURN_IF_ERROR(CheckChildren(child, {}));
    } else {
      return Error(child, absl::StrCat("is not allowed inside <", Name(node),
                                       ">; allowed: InsertValue, InsertPartial, PlainText, "
                                       "NewLine"));
    }
  }
  return absl::OkStatus();
}

absl::Status ModuleParser::ParseDecisionPoint(const xmlNode* node, DecisionPoint& point) {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {"Id"}, {"Id"}));
  AILAB_RETURN_IF_ERROR(CheckChildren(
      node, {{"Label", 1, 1}, {"Description"}, {"Branch", 1, kUnbounded}, {"DefaultBranch"}}));
  AILAB_ASSIGN_OR_RETURN(point.id, RegisterId(node));
  point.line = Line(node);
  for (const xmlNode* child : ElementChildren(node)) {
    std::string name = Name(child);
    if (name == "Label" || name == "Description") {
      AILAB_RETURN_IF_ERROR(CheckAttributes(child, {}, {}));
      AILAB_ASSIGN_OR_RETURN(std::string text, TextOf(child));
      if (name == "Label") point.label = NormalizeSpace(text);
    } else if (name == "Branch") {
      AILAB_ASSIGN_OR_RETURN(Branch branch, ParseBranch(child, /*in_rules=*/true));
      point.branches.push_back(std::move(branch));
    } else {
      // <DefaultBranch>: an optional label and exactly one end point or decision point.
      AILAB_RETURN_IF_ERROR(CheckAttributes(child, {}, {}));
      AILAB_RETURN_IF_ERROR(CheckChildren(child, {{"Label"}, {"EndPointRef"}, {"DecisionPoint"}}));
      Branch branch;
      branch.line = Line(child);
      for (const xmlNode* part : ElementChildren(child)) {
        std::string part_name = Name(part);
        if (part_name == "Label") {
          AILAB_ASSIGN_OR_RETURN(std::string text, TextOf(part));
          branch.label = NormalizeSpace(text);
        } else if (part_name == "EndPointRef") {
          AILAB_RETURN_IF_ERROR(CheckAttributes(part, {"EndPointId", "DiagramId"}, {"EndPointId"}));
          AILAB_RETURN_IF_ERROR(CheckChildren(part, {{"Label"}, {"Description"}}));
          branch.end_point_id = *Attribute(part, "EndPointId");
          references_.push_back({PendingReference::Target::kEndPoint, branch.end_point_id,
                                 part_name, "EndPointId", Line(part)});
        } else {
          branch.decision_point.emplace_back();
          AILAB_RETURN_IF_ERROR(ParseDecisionPoint(part, branch.decision_point.back()));
        }
      }
      if (branch.end_point_id.empty() == branch.decision_point.empty()) {
        return Error(child, "must contain exactly one <EndPointRef> or <DecisionPoint>");
      }
      point.default_branch = std::move(branch);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Branch> ModuleParser::ParseBranch(const xmlNode* node, bool in_rules) {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {}, {}));
  AILAB_RETURN_IF_ERROR(CheckNoText(node));
  Branch branch;
  branch.line = Line(node);
  int targets = 0;  // <EndPointRef>, <DecisionPoint> or a run of <ReportText>
  bool previous_was_text = false;
  for (const xmlNode* child : ElementChildren(node)) {
    std::string name = Name(child);
    bool is_text = name == "ReportText";
    if (name == "Label") {
      if (!branch.label.empty()) return Error(child, "appears more than once inside <Branch>");
      AILAB_RETURN_IF_ERROR(CheckAttributes(child, {}, {}));
      AILAB_ASSIGN_OR_RETURN(std::string text, TextOf(child));
      branch.label = NormalizeSpace(text);
      if (branch.label.empty()) branch.label = " ";  // Marks the label as seen.
    } else if (ConditionTypes().count(name) > 0) {
      if (branch.condition.has_value()) {
        return Error(child,
                     "is a second condition; a <Branch> has at most one (combine "
                     "several with <AndCondition> or <OrCondition>)");
      }
      AILAB_ASSIGN_OR_RETURN(Condition condition, ParseCondition(child));
      conditions_.push_back(condition);
      branch.condition = std::move(condition);
    } else if (name == "EndPointRef" || name == "DecisionPoint") {
      if (!in_rules) {
        return Error(child, "is only allowed in the branches of <Rules>, not in report text");
      }
      if (++targets > 1) {
        return Error(child,
                     "is a second target; a <Branch> leads to one <EndPointRef>, "
                     "<DecisionPoint> or report text");
      }
      if (name == "EndPointRef") {
        AILAB_RETURN_IF_ERROR(CheckAttributes(child, {"EndPointId", "DiagramId"}, {"EndPointId"}));
        AILAB_RETURN_IF_ERROR(CheckChildren(child, {{"Label"}, {"Description"}}));
        branch.end_point_id = *Attribute(child, "EndPointId");
        references_.push_back({PendingReference::Target::kEndPoint, branch.end_point_id, name,
                               "EndPointId", Line(child)});
      } else {
        branch.decision_point.emplace_back();
        AILAB_RETURN_IF_ERROR(ParseDecisionPoint(child, branch.decision_point.back()));
      }
    } else if (is_text) {
      if (!branch.branches.empty()) {
        return Error(child,
                     "comes after a nested <Branch>; put the report text of a branch "
                     "before its nested branches");
      }
      if (!previous_was_text && ++targets > 1) {
        return Error(child,
                     "starts a second target; a <Branch> leads to one <EndPointRef>, "
                     "<DecisionPoint> or run of report text");
      }
      AILAB_ASSIGN_OR_RETURN(ReportText text, ParseReportText(child));
      branch.report_text.push_back(std::move(text));
    } else if (name == "Branch") {
      AILAB_ASSIGN_OR_RETURN(Branch nested, ParseBranch(child, in_rules));
      branch.branches.push_back(std::move(nested));
    } else {
      return Error(child,
                   "is not allowed inside <Branch>; allowed: Label, a condition, "
                   "EndPointRef, DecisionPoint, ReportText, Branch");
    }
    previous_was_text = is_text;
  }
  if (branch.label == " ") branch.label.clear();
  if (in_rules && targets == 0 && branch.branches.empty()) {
    return Error(node,
                 "leads nowhere; add an <EndPointRef>, a <DecisionPoint>, "
                 "<ReportText> or nested branches");
  }
  return branch;
}

absl::StatusOr<ReportText> ModuleParser::ParseReportText(const xmlNode* node) {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {"Type", "Value"}, {"Type"}));
  std::string type_name = *Attribute(node, "Type");
  auto type = ReportTextTypes().find(type_name);
  if (type == ReportTextTypes().end()) {
    return Error(node, absl::StrCat("has Type=\"", type_name, "\", which is invalid; use ",
                                    "PlainText, InsertPartialTemplate, InsertDataElementValue, ",
                                    "Newline, Tab or Space"));
  }
  ReportText text;
  text.type = type->second;
  text.line = Line(node);
  text.value = NormalizeSpace(Attribute(node, "Value").value_or(""));
  AILAB_ASSIGN_OR_RETURN(std::string content, TextOf(node));
  text.text = CollapseLayoutWhitespace(content);
  if (text.type == ReportText::Type::kInsertPartialTemplate ||
      text.type == ReportText::Type::kInsertDataElementValue) {
    if (text.value.empty()) {
      return Error(
          node,
          absl::StrCat("of Type=\"", type_name, "\" is missing the Value attribute naming the ",
                       text.type == ReportText::Type::kInsertPartialTemplate ? "template partial"
                                                                             : "data element"));
    }
    references_.push_back({text.type == ReportText::Type::kInsertPartialTemplate
                               ? PendingReference::Target::kTemplatePartial
                               : PendingReference::Target::kDataElement,
                           text.value, "ReportText", "Value", text.line});
  }
  return text;
}

// --- End points ------------------------------------------------------------------

absl::Status ModuleParser::ParseEndPoints(const xmlNode* node, Module& module) {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {}, {}));
  AILAB_RETURN_IF_ERROR(
      CheckChildren(node, {{"TemplatePartial", 0, kUnbounded}, {"EndPoint", 1, kUnbounded}}));
  for (const xmlNode* child : ElementChildren(node)) {
    if (Name(child) == "TemplatePartial") {
      AILAB_RETURN_IF_ERROR(CheckAttributes(child, {"Id"}, {"Id"}));
      AILAB_RETURN_IF_ERROR(CheckChildren(child, {{"Branch", 1, kUnbounded}}));
      TemplatePartial partial;
      partial.line = Line(child);
      AILAB_ASSIGN_OR_RETURN(partial.id, RegisterId(child));
      for (const xmlNode* part : ElementChildren(child)) {
        AILAB_ASSIGN_OR_RETURN(Branch branch, ParseBranch(part, /*in_rules=*/false));
        partial.branches.push_back(std::move(branch));
      }
      module.template_partials.push_back(std::move(partial));
      continue;
    }

    AILAB_RETURN_IF_ERROR(CheckAttributes(child, {"Id"}, {"Id"}));
    AILAB_RETURN_IF_ERROR(CheckChildren(child, {{"Label"},
                                                {"Diagnosis"},
                                                {"ReportSections", 1, 1},
                                                {"ActionableFinding"},
                                                {"ImagingFollowup"}}));
    EndPoint end_point;
    end_point.line = Line(child);
    AILAB_ASSIGN_OR_RETURN(end_point.id, RegisterId(child));
    for (const xmlNode* part : ElementChildren(child)) {
      std::string name = Name(part);
      if (name == "Label") {
        AILAB_RETURN_IF_ERROR(CheckAttributes(part, {}, {}));
        AILAB_ASSIGN_OR_RETURN(std::string text, TextOf(part));
        end_point.label = NormalizeSpace(text);
      } else if (name == "Diagnosis") {
        AILAB_RETURN_IF_ERROR(CheckAttributes(part, {"CodingSystem", "Code"}, {"Code"}));
        AILAB_RETURN_IF_ERROR(TextOf(part).status());
      } else if (name == "ActionableFinding") {
        AILAB_RETURN_IF_ERROR(CheckAttributes(part, {"Category"}, {"Category"}));
        AILAB_RETURN_IF_ERROR(CheckChildren(part, {}));
      } else if (name == "ImagingFollowup") {
        // NOTE: only the children of <ImagingFollowup> are checked, not their content;
        // the platform does not use follow-up recommendations yet.
        AILAB_RETURN_IF_ERROR(CheckAttributes(part, {}, {}));
        AILAB_RETURN_IF_ERROR(CheckChildren(part, {{"ClinicalCondition"},
                                                   {"References"},
                                                   {"EvidenceLevel"},
                                                   {"PreferredImagingExam", 1, 1},
                                                   {"AcceptableImagingExams", 1, 1},
                                                   {"IndicationForFollowup", 1, 1},
                                                   {"RecommendedTimeFrame", 1, 1}}));
      } else {
        AILAB_RETURN_IF_ERROR(CheckAttributes(part, {}, {}));
        AILAB_RETURN_IF_ERROR(CheckChildren(part, {{"ReportSection", 1, kUnbounded}}));
        for (const xmlNode* section_node : ElementChildren(part)) {
          AILAB_RETURN_IF_ERROR(CheckAttributes(section_node, {"SectionId"}, {"SectionId"}));
          AILAB_RETURN_IF_ERROR(CheckChildren(section_node, {{"Branch", 1, kUnbounded}}));
          ReportSection section;
          section.line = Line(section_node);
          section.section_id = *Attribute(section_node, "SectionId");
          const std::vector<std::string>& ids = SectionIds();
          if (std::find(ids.begin(), ids.end(), section.section_id) == ids.end()) {
            return Error(section_node,
                         absl::StrCat("has SectionId=\"", section.section_id,
                                      "\", which is invalid; use ", absl::StrJoin(ids, ", ")));
          }
          for (const ReportSection& other : end_point.sections) {
            if (other.section_id == section.section_id) {
              return Error(section_node, absl::StrCat("repeats SectionId=\"", section.section_id,
                                                      "\" of end point ", end_point.id));
            }
          }
          for (const xmlNode* branch_node : ElementChildren(section_node)) {
            AILAB_ASSIGN_OR_RETURN(Branch branch, ParseBranch(branch_node, /*in_rules=*/false));
            section.branches.push_back(std::move(branch));
          }
          end_point.sections.push_back(std::move(section));
        }
      }
    }
    module.end_points.push_back(std::move(end_point));
  }
  return absl::OkStatus();
}

// --- Elements the platform checks but does not use --------------------------------

absl::Status ModuleParser::CheckValueElement(const xmlNode* node) const {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {"Value"}, {"Value"}));
  return CheckChildren(node, {});
}

absl::Status ModuleParser::CheckCodableConcept(const xmlNode* node) const {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {"Name"}, {"Name"}));
  AILAB_RETURN_IF_ERROR(CheckChildren(node, {{"Coding", 1, kUnbounded}}));
  for (const xmlNode* coding : ElementChildren(node)) {
    AILAB_RETURN_IF_ERROR(CheckAttributes(coding, {}, {}));
    AILAB_RETURN_IF_ERROR(CheckChildren(coding, {{"System", 1, 1},
                                                 {"Version", 1, 1},
                                                 {"Code", 1, 1},
                                                 {"Display", 1, 1},
                                                 {"UserSelected"},
                                                 {"Url"}}));
    for (const xmlNode* part : ElementChildren(coding)) {
      AILAB_RETURN_IF_ERROR(CheckValueElement(part));
      std::string value = *Attribute(part, "Value");
      std::string name = Name(part);
      if (name == "System" && value != "RadElement" && value != "Loinc" && value != "SnomedCT") {
        return Error(part, absl::StrCat("has Value=\"", value,
                                        "\", which is invalid; use RadElement, Loinc or "
                                        "SnomedCT"));
      }
      if (name == "UserSelected" && value != "true" && value != "false") {
        return Error(part, absl::StrCat("has Value=\"", value, "\"; use true or false"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ModuleParser::CheckDiagrams(const xmlNode* node) const {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {}, {}));
  AILAB_RETURN_IF_ERROR(CheckChildren(node, {{"Diagram", 1, kUnbounded}}));
  for (const xmlNode* diagram : ElementChildren(node)) {
    AILAB_RETURN_IF_ERROR(CheckAttributes(diagram, {"DisplaySequence", "IsKeyDiagram"}, {}));
    AILAB_RETURN_IF_ERROR(CheckChildren(diagram, {{"Location", 1, 1}, {"Label", 1, 1}}));
    AILAB_RETURN_IF_ERROR(BoolAttribute(diagram, "IsKeyDiagram").status());
    for (const xmlNode* part : ElementChildren(diagram)) {
      AILAB_RETURN_IF_ERROR(TextOf(part).status());
    }
  }
  return absl::OkStatus();
}

absl::Status ModuleParser::CheckSource(const xmlNode* node) const {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {}, {}));
  AILAB_RETURN_IF_ERROR(
      CheckChildren(node, {{"Vendor", 1, 1}, {"Appname", 1, 1}, {"Version", 1, 1}}));
  for (const xmlNode* part : ElementChildren(node)) {
    AILAB_RETURN_IF_ERROR(TextOf(part).status());
  }
  return absl::OkStatus();
}

absl::Status ModuleParser::CheckImageMap(const xmlNode* node,
                                         std::vector<std::string>& area_values) const {
  AILAB_RETURN_IF_ERROR(CheckAttributes(node, {}, {}));
  AILAB_RETURN_IF_ERROR(
      CheckChildren(node, {{"Location", 1, 1}, {"Label"}, {"DrawStyle"}, {"Map", 1, 1}}));
  for (const xmlNode* part : ElementChildren(node)) {
    std::string name = Name(part);
    if (name == "Location" || name == "Label") {
      AILAB_RETURN_IF_ERROR(TextOf(part).status());
    } else if (name == "DrawStyle") {
      AILAB_RETURN_IF_ERROR(CheckAttributes(part, {"Outline", "HoverFill", "SelectedFill"}, {}));
      AILAB_RETURN_IF_ERROR(CheckChildren(part, {}));
    } else {
      AILAB_RETURN_IF_ERROR(CheckAttributes(part, {}, {}));
      AILAB_RETURN_IF_ERROR(CheckChildren(part, {{"Area", 1, kUnbounded}}));
      for (const xmlNode* area : ElementChildren(part)) {
        AILAB_RETURN_IF_ERROR(CheckAttributes(
            area, {"Shape", "Coords", "ChoiceValue", "Outline", "HoverFill", "SelectedFill"},
            {"Shape", "Coords", "ChoiceValue"}));
        AILAB_RETURN_IF_ERROR(CheckChildren(area, {}));
        std::string shape = *Attribute(area, "Shape");
        if (shape != "rect" && shape != "poly" && shape != "circle") {
          return Error(area, absl::StrCat("has Shape=\"", shape,
                                          "\", which is invalid; use rect, poly or circle"));
        }
        area_values.push_back(*Attribute(area, "ChoiceValue"));
      }
    }
  }
  return absl::OkStatus();
}

// --- References between parts of the module ---------------------------------------

absl::Status ModuleParser::CheckCondition(const Module& module, const Condition& condition) const {
  absl::string_view element_name = ConditionElementName(condition.type);
  for (const Condition& operand : condition.operands) {
    AILAB_RETURN_IF_ERROR(CheckCondition(module, operand));
  }
  if (!condition.operands.empty() || condition.data_element_id.empty()) return absl::OkStatus();

  const DataElement* element = module.FindDataElement(condition.data_element_id);
  if (element == nullptr) {
    std::string description = module.FindGlobalValue(condition.data_element_id) != nullptr
                                  ? "a global value, not a data element"
                                  : "not defined in the module";
    std::vector<std::string> ids;
    for (const DataElement& e : module.data_elements) ids.push_back(e.id);
    return ErrorAt(element_name, condition.line,
                   absl::StrCat("has DataElementId=\"", condition.data_element_id, "\", which is ",
                                description, "; use one of: ", absl::StrJoin(ids, ", ")));
  }

  bool is_choice =
      element->type == DataElementType::kChoice || element->type == DataElementType::kMultiChoice;
  std::vector<std::string> choice_values;
  for (const Choice& choice : element->choices) choice_values.push_back(choice.value);
  switch (condition.type) {
    case Condition::Type::kSectionIf:
    case Condition::Type::kSectionIfNot:
      return absl::OkStatus();
    case Condition::Type::kHasAnyNChoices:
      if (element->type != DataElementType::kMultiChoice) {
        return ErrorAt(element_name, condition.line,
                       absl::StrCat("tests data element ", element->id, ", a <",
                                    DataElementElementName(element->type),
                                    ">; it applies to a <MultiChoiceDataElement> only"));
      }
      return absl::OkStatus();
    case Condition::Type::kContains:
      if (!is_choice) {
        return ErrorAt(element_name, condition.line,
                       absl::StrCat("tests data element ", element->id, ", a <",
                                    DataElementElementName(element->type),
                                    ">; it applies to choice elements only"));
      }
      break;
    case Condition::Type::kGreaterThan:
    case Condition::Type::kLessThan:
    case Condition::Type::kGreaterThanOrEquals:
    case Condition::Type::kLessThanOrEquals:
      if (is_choice) {
        return ErrorAt(element_name, condition.line,
                       absl::StrCat("compares choice data element ", element->id,
                                    " by order; use <EqualCondition> or <NotEqualCondition>"));
      }
      break;
    default:
      break;
  }

  // The comparison value: a choice of the element, or a number or numeric global value.
  const std::string& value = condition.comparison_value;
  if (is_choice) {
    if (element->FindChoice(value) == nullptr) {
      return ErrorAt(
          element_name, condition.line,
          absl::StrCat("has ComparisonValue=\"", value, "\", which is not a choice of ",
                       element->id, "; use one of: ", absl::StrJoin(choice_values, ", ")));
    }
  } else if (element->IsNumber()) {
    const GlobalValue* global = module.FindGlobalValue(value);
    std::string number = global != nullptr ? global->value : value;
    if (!ParseDecimal(number, /*allow_exponent=*/false).has_value()) {
      return ErrorAt(
          element_name, condition.line,
          absl::StrCat(
              "has ComparisonValue=\"", value, "\"",
              global != nullptr ? absl::StrCat(", a global value of \"", number, "\",") : "",
              " but data element ", element->id,
              " is a number; use a number or the id of a numeric global "
              "value"));
    }
  }
  return absl::OkStatus();
}

absl::Status ModuleParser::CheckPartialCycles(const Module& module) const {
  // Depth-first search over partial -> inserted partial edges.
  std::map<std::string, int> state;  // 1 while on the stack, 2 when done
  std::function<absl::Status(const TemplatePartial&)> visit;
  std::function<void(const Branch&, std::vector<std::string>&)> collect =
      [&](const Branch& branch, std::vector<std::string>& out) {
        for (const ReportText& text : branch.report_text) {
          if (text.type == ReportText::Type::kInsertPartialTemplate) out.push_back(text.value);
        }
        for (const Branch& nested : branch.branches) collect(nested, out);
      };
  visit = [&](const TemplatePartial& partial) -> absl::Status {
    state[partial.id] = 1;
    std::vector<std::string> inserted;
    for (const Branch& branch : partial.branches) collect(branch, inserted);
    for (const std::string& id : inserted) {
      const TemplatePartial* next = module.FindTemplatePartial(id);
      if (next == nullptr) continue;
      if (state[id] == 1) {
        return ErrorAt("TemplatePartial", partial.line,
                       absl::StrCat("with Id=\"", partial.id, "\" inserts template partial ", id,
                                    ", which inserts it again; remove the cycle"));
      }
      if (state[id] == 0) AILAB_RETURN_IF_ERROR(visit(*next));
    }
    state[partial.id] = 2;
    return absl::OkStatus();
  };
  for (const TemplatePartial& partial : module.template_partials) {
    if (state[partial.id] == 0) AILAB_RETURN_IF_ERROR(visit(partial));
  }
  return absl::OkStatus();
}

absl::Status ModuleParser::ResolveReferences(const Module& module) const {
  for (const PendingReference& reference : references_) {
    bool found = false;
    std::string kind;
    switch (reference.target) {
      case PendingReference::Target::kEndPoint:
        found = module.FindEndPoint(reference.id) != nullptr;
        kind = "end point";
        break;
      case PendingReference::Target::kTemplatePartial:
        found = module.FindTemplatePartial(reference.id) != nullptr;
        kind = "template partial";
        break;
      case PendingReference::Target::kDataElement:
        found = module.FindDataElement(reference.id) != nullptr;
        kind = "data element";
        break;
    }
    if (!found) {
      return ErrorAt(reference.element, reference.line,
                     absl::StrCat("has ", reference.attribute, "=\"", reference.id,
                                  "\", but the module defines no ", kind, " with that id"));
    }
  }
  for (const Condition& condition : conditions_) {
    AILAB_RETURN_IF_ERROR(CheckCondition(module, condition));
  }
  for (const auto& [element_id, value, element_name, line] : choice_references_) {
    const DataElement* element = module.FindDataElement(element_id);
    if (element != nullptr && element->FindChoice(value) == nullptr) {
      return ErrorAt(element_name, line,
                     absl::StrCat("names choice \"", value, "\", which data element ", element_id,
                                  " does not have"));
    }
  }
  return CheckPartialCycles(module);
}

absl::StatusOr<Module> ModuleParser::Parse(const xmlNode* root) {
  if (Name(root) != "ReportingModule") {
    return Error(root, "is not a reporting module; the root element must be <ReportingModule>");
  }
  AILAB_RETURN_IF_ERROR(CheckAttributes(root, {}, {}));
  AILAB_RETURN_IF_ERROR(CheckChildren(
      root, {{"Metadata", 1, 1}, {"DataElements", 1, 1}, {"Rules", 1, 1}, {"EndPoints", 1, 1}}));
  Module module;
  module.source = source_;
  for (const xmlNode* child : ElementChildren(root)) {
    std::string name = Name(child);
    if (name == "Metadata") {
      AILAB_RETURN_IF_ERROR(ParseMetadata(child, module.metadata));
    } else if (name == "DataElements") {
      AILAB_RETURN_IF_ERROR(ParseDataElements(child, module));
    } else if (name == "Rules") {
      AILAB_RETURN_IF_ERROR(CheckAttributes(child, {}, {}));
      AILAB_RETURN_IF_ERROR(CheckChildren(child, {{"DecisionPoint", 1, 1}}));
      AILAB_RETURN_IF_ERROR(ParseDecisionPoint(ElementChildren(child)[0], module.rules));
    } else {
      AILAB_RETURN_IF_ERROR(ParseEndPoints(child, module));
    }
  }
  AILAB_RETURN_IF_ERROR(ResolveReferences(module));
  return module;
}

void InitializeLibxml() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

}  // namespace

absl::StatusOr<Module> ParseModule(absl::string_view xml, absl::string_view source) {
  std::string source_name(source.empty() ? "module" : source);
  if (xml.size() > kMaxModuleBytes) {
    std::string size = absl::StrCat(xml.size());
    return InvalidArgument(
        "ASSIST_MODULE_TOO_LARGE", "module",
        absl::StrCat(source_name, " is ", xml.size(), " bytes; modules may be at most ",
                     kMaxModuleBytes, " bytes"),
        {{"source", source_name}, {"bytes", size}});
  }
  InitializeLibxml();

  // No network, no DTD loading, no entity substitution, no messages on stderr.
  std::unique_ptr<xmlParserCtxt, decltype(&xmlFreeParserCtxt)> context(xmlNewParserCtxt(),
                                                                       &xmlFreeParserCtxt);
  if (context == nullptr) {
    return Internal("ASSIST_PARSER_FAILED", "could not allocate the XML parser");
  }
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                      XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES;
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> document(
      xmlCtxtReadMemory(context.get(), xml.data(), static_cast<int>(xml.size()),
                        /*URL=*/nullptr, /*encoding=*/nullptr, options),
      &xmlFreeDoc);
  if (document == nullptr || !context->wellFormed) {
    const xmlError* error = xmlCtxtGetLastError(context.get());
    int line = error != nullptr ? error->line : 0;
    std::string detail = error != nullptr && error->message != nullptr
                             ? NormalizeSpace(error->message)
                             : "the document is not well-formed";
    std::string line_text = absl::StrCat(line);
    return InvalidArgument("ASSIST_MODULE_INVALID", "module",
                           absl::StrCat(source_name, ":", line, ": not well-formed XML: ", detail),
                           {{"source", source_name}, {"line", line_text}, {"element", ""}});
  }
  if (document->intSubset != nullptr || document->extSubset != nullptr) {
    int line =
        document->intSubset != nullptr ? Line(reinterpret_cast<xmlNode*>(document->intSubset)) : 1;
    std::string line_text = absl::StrCat(line);
    return InvalidArgument(
        "ASSIST_MODULE_INVALID", "module",
        absl::StrCat(source_name, ":", line,
                     ": <!DOCTYPE> declarations are not allowed in a module; remove it"),
        {{"source", source_name}, {"line", line_text}, {"element", "!DOCTYPE"}});
  }
  const xmlNode* root = xmlDocGetRootElement(document.get());
  if (root == nullptr) {
    return InvalidArgument("ASSIST_MODULE_INVALID", "module",
                           absl::StrCat(source_name, ":1: the document has no root element"),
                           {{"source", source_name}, {"line", "1"}, {"element", ""}});
  }
  ModuleParser parser(source_name);
  return parser.Parse(root);
}

absl::StatusOr<Module> LoadModule(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return NotFound(
        "ASSIST_MODULE_NOT_FOUND",
        absl::StrCat("cannot read module file \"", path, "\"; check the path and its permissions"),
        {{"path", path}});
  }
  std::string xml;
  char buffer[65536];
  while (file.read(buffer, sizeof(buffer)) || file.gcount() > 0) {
    xml.append(buffer, static_cast<size_t>(file.gcount()));
    if (xml.size() > kMaxModuleBytes) break;
  }
  size_t slash = path.find_last_of('/');
  std::string source = slash == std::string::npos ? path : path.substr(slash + 1);
  absl::StatusOr<Module> module = ParseModule(xml, source);
  if (module.ok()) {
    log::Logger("assist")->debug("module loaded id={} data_elements={} end_points={}",
                                 module->metadata.id, module->data_elements.size(),
                                 module->end_points.size());
  }
  return module;
}

}  // namespace ailab::assist
