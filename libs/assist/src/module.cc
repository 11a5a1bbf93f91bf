#include "ailab/assist/module.h"

#include <algorithm>

namespace ailab::assist {
namespace {

template <typename T>
const T* FindById(const std::vector<T>& items, absl::string_view id) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& item) { return item.id == id; });
  return it == items.end() ? nullptr : &*it;
}

}  // namespace

absl::string_view ConditionElementName(Condition::Type type) {
  switch (type) {
    case Condition::Type::kAnd:
      return "AndCondition";
    case Condition::Type::kOr:
      return "OrCondition";
    case Condition::Type::kNot:
      return "NotCondition";
    case Condition::Type::kEqual:
      return "EqualCondition";
    case Condition::Type::kNotEqual:
      return "NotEqualCondition";
    case Condition::Type::kGreaterThan:
      return "GreaterThanCondition";
    case Condition::Type::kLessThan:
      return "LessThanCondition";
    case Condition::Type::kGreaterThanOrEquals:
      return "GreaterThanOrEqualsCondition";
    case Condition::Type::kLessThanOrEquals:
      return "LessThanOrEqualsCondition";
    case Condition::Type::kContains:
      return "ContainsCondition";
    case Condition::Type::kHasAnyNChoices:
      return "HasAnyNChoicesCondition";
    case Condition::Type::kSectionIf:
      return "SectionIf";
    case Condition::Type::kSectionIfNot:
      return "SectionIfNot";
  }
  return "Condition";
}

absl::string_view DataElementElementName(DataElementType type) {
  switch (type) {
    case DataElementType::kChoice:
      return "ChoiceDataElement";
    case DataElementType::kMultiChoice:
      return "MultiChoiceDataElement";
    case DataElementType::kNumeric:
      return "NumericDataElement";
    case DataElementType::kInteger:
      return "IntegerDataElement";
    case DataElementType::kDateTime:
      return "DateTimeDataElement";
    case DataElementType::kTimeSpan:
      return "TimeSpanDataElement";
    case DataElementType::kComputed:
      return "ComputedDataElement";
  }
  return "DataElement";
}

const Choice* DataElement::FindChoice(absl::string_view value) const {
  auto it = std::find_if(choices.begin(), choices.end(),
                         [&](const Choice& choice) { return choice.value == value; });
  return it == choices.end() ? nullptr : &*it;
}

bool DataElement::IsNumber() const {
  return type == DataElementType::kNumeric || type == DataElementType::kInteger ||
         type == DataElementType::kTimeSpan;
}

const DataElement* Module::FindDataElement(absl::string_view id) const {
  return FindById(data_elements, id);
}

const GlobalValue* Module::FindGlobalValue(absl::string_view id) const {
  return FindById(global_values, id);
}

const EndPoint* Module::FindEndPoint(absl::string_view id) const {
  return FindById(end_points, id);
}

const TemplatePartial* Module::FindTemplatePartial(absl::string_view id) const {
  return FindById(template_partials, id);
}

const std::vector<std::string>& SectionIds() {
  static const auto* ids = new std::vector<std::string>{"findings", "impression", "recommendation",
                                                        "impressionRecommendation", "citation"};
  return *ids;
}

}  // namespace ailab::assist
