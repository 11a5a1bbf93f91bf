// ACR Assist reporting modules (schema version 2.0): their data model and parser.
//
// A module is an XML document with four parts. Data elements are the findings that a
// reader or a model fills in, such as a choice among categories or a measured diameter.
// Global values are named constants that the rules compare against. The rules are a
// tree of decision points whose branches carry conditions on the data elements. End
// points are the results of the rules, and their report sections contain the report
// text. ParseModule() reads such a document and checks it against the structure of
// the schema. It rejects unknown or misplaced elements and attributes, missing
// required ones, values of the wrong type, duplicate ids and references to ids that
// the module does not define, and each error names the element and line at fault.
//
// The parser reads untrusted input: it never loads a DTD or an external entity, never
// touches the network, and rejects documents that declare a DOCTYPE.
//
// A parsed Module is an immutable value; reading it from several threads is safe.
// ParseModule() and LoadModule() are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ailab::assist {

// Largest module document ParseModule() accepts, in bytes.
inline constexpr size_t kMaxModuleBytes = 16 * 1024 * 1024;

// Kind of a data element, named after its XML element (<ChoiceDataElement> ...).
enum class DataElementType {
  kChoice,       // exactly one of the listed choices
  kMultiChoice,  // any number of the listed choices
  kNumeric,      // a decimal number, optionally with a unit and bounds
  kInteger,      // a whole number, optionally with bounds
  kDateTime,     // an ISO 8601 date or date and time, compared as text
  kTimeSpan,     // a duration in seconds
  kComputed,     // derived from other elements; never set directly
};

// One allowed value of a choice data element.
struct Choice {
  std::string value;        // code used in conditions and assignments, for example "A"
  std::string label;        // text shown to the reader
  std::string report_text;  // sentence inserted into the report; empty when not given
  bool is_default = false;
};

// A condition of a branch or conditional property; a tree for And/Or/Not.
struct Condition {
  enum class Type {
    kAnd,
    kOr,
    kNot,  // true when none of its operands is true
    kEqual,
    kNotEqual,
    kGreaterThan,
    kLessThan,
    kGreaterThanOrEquals,
    kLessThanOrEquals,
    kContains,        // a multi-choice value includes the comparison value
    kHasAnyNChoices,  // a multi-choice value has at least `minimum_choices` choices
    kSectionIf,       // the data element has a value
    kSectionIfNot,    // the data element has no value
  };
  Type type = Type::kAnd;
  std::string data_element_id;      // comparisons, Contains, HasAnyNChoices, SectionIf(Not)
  std::string comparison_value;     // as written: a choice value, a number or a global value id
  int64_t minimum_choices = 0;      // kHasAnyNChoices only
  std::vector<Condition> operands;  // kAnd, kOr, kNot
  int line = 0;
};

// Returns the XML element name of a condition type, for example "EqualCondition".
absl::string_view ConditionElementName(Condition::Type type);

// Change of a data element's relevance or requirement while `condition` holds.
struct ConditionalProperty {
  Condition condition;
  std::optional<bool> is_relevant;
  std::optional<bool> is_required;
  std::optional<double> minimum;
  std::optional<double> maximum;
  int line = 0;
};

// One data element: a finding that a reader, a model or a rule fills in.
struct DataElement {
  std::string id;
  DataElementType type = DataElementType::kChoice;
  std::string label;
  std::string unit;  // for example "mm"; empty when not given
  bool is_required = false;
  std::optional<double> minimum;  // numeric and integer elements
  std::optional<double> maximum;
  std::vector<Choice> choices;  // choice and multi-choice elements, in module order
  std::vector<ConditionalProperty> conditional_properties;
  int line = 0;

  // Returns the choice whose value is `value`, or nullptr.
  const Choice* FindChoice(absl::string_view value) const;
  // Returns true for numeric, integer and time span elements.
  bool IsNumber() const;
};

// Returns the XML element name of a data element type, for example "ChoiceDataElement".
absl::string_view DataElementElementName(DataElementType type);

// A named constant, such as a size threshold that several rules compare against.
struct GlobalValue {
  std::string id;
  std::string value;
  int line = 0;
};

// One piece of report text, as given by a <ReportText> element.
struct ReportText {
  enum class Type {
    kPlainText,
    kInsertPartialTemplate,   // `value` is the id of a <TemplatePartial>
    kInsertDataElementValue,  // `value` is the id of a data element
    kNewline,
    kTab,
    kSpace,
  };
  Type type = Type::kPlainText;
  std::string text;   // kPlainText: the text with layout whitespace collapsed
  std::string value;  // the Value attribute
  int line = 0;
};

struct DecisionPoint;

// A branch of a decision point, report section or template partial. It applies when
// it has no condition or when its condition holds.
struct Branch {
  std::string label;
  std::optional<Condition> condition;
  std::string end_point_id;                   // rules: the end point this branch reaches
  std::vector<DecisionPoint> decision_point;  // rules: zero or one nested decision point
  std::vector<ReportText> report_text;        // text, in document order
  std::vector<Branch> branches;               // nested branches, in document order
  int line = 0;
};

// A decision point of the rules. The first branch whose condition is true is taken,
// or the default branch when no condition is true.
struct DecisionPoint {
  std::string id;
  std::string label;
  std::vector<Branch> branches;
  std::optional<Branch> default_branch;
  int line = 0;
};

// The report text of one section of an end point.
struct ReportSection {
  // "findings", "impression", "recommendation", "impressionRecommendation" or "citation".
  std::string section_id;
  std::vector<Branch> branches;
  int line = 0;
};

// Report text shared by several end points, inserted with InsertPartialTemplate.
struct TemplatePartial {
  std::string id;
  std::vector<Branch> branches;
  int line = 0;
};

// A result of the rules, such as one BI-RADS density category, with its report text.
struct EndPoint {
  std::string id;
  std::string label;
  std::vector<ReportSection> sections;  // in module order
  int line = 0;
};

// The <Metadata> fields the platform uses; the rest of <Metadata> is not kept.
struct Metadata {
  std::string label;
  std::string id;
  std::string schema_version;  // always "2.0" in a parsed module
  std::string module_version;
};

// A parsed reporting module.
struct Module {
  std::string source;  // file name or label used in messages
  Metadata metadata;
  std::vector<GlobalValue> global_values;
  std::vector<DataElement> data_elements;  // in module order
  DecisionPoint rules;
  std::vector<TemplatePartial> template_partials;
  std::vector<EndPoint> end_points;  // in module order

  // Each returns the item with id `id`, or nullptr.
  const DataElement* FindDataElement(absl::string_view id) const;
  const GlobalValue* FindGlobalValue(absl::string_view id) const;
  const EndPoint* FindEndPoint(absl::string_view id) const;
  const TemplatePartial* FindTemplatePartial(absl::string_view id) const;
};

// The report section ids that schema 2.0 allows, in their usual report order.
const std::vector<std::string>& SectionIds();

// Parses the module document `xml`. `source` names it in error messages, for example
// its file name. A document that is not well-formed XML or does not follow the schema
// is INVALID_ARGUMENT with reason ASSIST_MODULE_INVALID, whose message and ErrorInfo
// metadata ("source", "line", "element") name the element and line at fault.
absl::StatusOr<Module> ParseModule(absl::string_view xml, absl::string_view source);

// Reads and parses the module file at `path`. A missing or unreadable file is
// NOT_FOUND (ASSIST_MODULE_NOT_FOUND); a file over kMaxModuleBytes is INVALID_ARGUMENT.
absl::StatusOr<Module> LoadModule(const std::string& path);

}  // namespace ailab::assist
