#include "ailab/assist/evaluate.h"

#include <string>
#include <vector>

#include "ailab/assist/module.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"

namespace ailab::assist {
namespace {

// A module with a nested decision point, a default branch, conditional properties and
// each kind of condition the evaluator handles.
constexpr char kModule[] = R"(<?xml version="1.0"?>
<ReportingModule>
  <Metadata><Label>Evaluation test</Label><ID>Eval_1</ID><SchemaVersion>2.0</SchemaVersion></Metadata>
  <DataElements>
    <GlobalValue Id="Many">3</GlobalValue>
    <ChoiceDataElement Id="present" IsRequired="true">
      <Label>Present</Label>
      <ChoiceInfo>
        <Choice><Value>yes</Value><Label>Yes</Label></Choice>
        <Choice><Value>no</Value><Label>No</Label></Choice>
      </ChoiceInfo>
    </ChoiceDataElement>
    <MultiChoiceDataElement Id="sites">
      <Label>Sites</Label>
      <ChoiceInfo>
        <Choice><Value>left</Value><Label>Left</Label><ReportText>left breast</ReportText></Choice>
        <Choice><Value>right</Value><Label>Right</Label></Choice>
      </ChoiceInfo>
      <ConditionalProperties>
        <ConditionalProperty>
          <EqualCondition DataElementId="present" ComparisonValue="yes"/>
          <IsRequired>true</IsRequired>
        </ConditionalProperty>
        <ConditionalProperty>
          <EqualCondition DataElementId="present" ComparisonValue="no"/>
          <IsRelevant>false</IsRelevant>
        </ConditionalProperty>
      </ConditionalProperties>
    </MultiChoiceDataElement>
    <IntegerDataElement Id="count">
      <Label>Count</Label>
      <Minimum>1</Minimum>
      <Maximum>20</Maximum>
    </IntegerDataElement>
    <ComputedDataElement Id="score">
      <Label>Score</Label>
      <ArithmeticExpression>count * 2</ArithmeticExpression>
    </ComputedDataElement>
  </DataElements>
  <Rules>
    <DecisionPoint Id="PresentDp">
      <Label>Present</Label>
      <Branch>
        <Label>Absent</Label>
        <NotCondition><EqualCondition DataElementId="present" ComparisonValue="yes"/></NotCondition>
        <EndPointRef EndPointId="AbsentEp"/>
      </Branch>
      <Branch>
        <Label>Present</Label>
        <DecisionPoint Id="SitesDp">
          <Label>Sites</Label>
          <Branch>
            <Label>Both sides</Label>
            <HasAnyNChoicesCondition DataElementId="sites" MinimumChoices="2"/>
            <EndPointRef EndPointId="BothEp"/>
          </Branch>
          <Branch>
            <Label>Many on one side</Label>
            <GreaterThanOrEqualsCondition DataElementId="count" ComparisonValue="Many"/>
            <EndPointRef EndPointId="ManyEp"/>
          </Branch>
          <DefaultBranch>
            <Label>One side</Label>
            <EndPointRef EndPointId="OneEp"/>
          </DefaultBranch>
        </DecisionPoint>
      </Branch>
    </DecisionPoint>
  </Rules>
  <EndPoints>
    <EndPoint Id="AbsentEp">
      <ReportSections>
        <ReportSection SectionId="findings">
          <Branch><ReportText Type="PlainText">Nothing found.</ReportText></Branch>
        </ReportSection>
      </ReportSections>
    </EndPoint>
    <EndPoint Id="BothEp">
      <ReportSections>
        <ReportSection SectionId="findings">
          <Branch><ReportText Type="PlainText">Findings in both breasts.</ReportText></Branch>
        </ReportSection>
        <ReportSection SectionId="impression">
          <Branch><ReportText Type="PlainText">Bilateral.</ReportText></Branch>
        </ReportSection>
      </ReportSections>
    </EndPoint>
    <EndPoint Id="ManyEp">
      <ReportSections>
        <ReportSection SectionId="findings">
          <Branch>
            <ReportText Type="PlainText">Several findings (</ReportText>
            <ReportText Type="InsertDataElementValue" Value="count"/>
            <ReportText Type="PlainText">)</ReportText>
            <Branch>
              <ContainsCondition DataElementId="sites" ComparisonValue="left"/>
              <ReportText Type="PlainText"> in the </ReportText>
              <ReportText Type="InsertDataElementValue" Value="sites"/>
            </Branch>
          </Branch>
          <Branch><ReportText Type="PlainText">.</ReportText></Branch>
        </ReportSection>
      </ReportSections>
    </EndPoint>
    <EndPoint Id="OneEp">
      <ReportSections>
        <ReportSection SectionId="findings">
          <Branch>
            <ReportText Type="PlainText">One finding: </ReportText>
            <ReportText Type="InsertDataElementValue" Value="sites"/>
            <ReportText Type="PlainText">.</ReportText>
          </Branch>
          <Branch>
            <SectionIfNot DataElementId="count"/>
            <ReportText Type="PlainText"> Count not given.</ReportText>
          </Branch>
          <Branch>
            <NotEqualCondition DataElementId="count" ComparisonValue="1"/>
            <ReportText Type="PlainText"> Count:</ReportText>
            <ReportText Type="Space"/>
            <ReportText Type="InsertDataElementValue" Value="count"/>
            <ReportText Type="PlainText">.</ReportText>
          </Branch>
        </ReportSection>
      </ReportSections>
    </EndPoint>
  </EndPoints>
</ReportingModule>
)";

const Module& TestModule() {
  static const Module* module = [] {
    absl::StatusOr<Module> parsed = ParseModule(kModule, "eval.xml");
    if (!parsed.ok()) throw std::runtime_error(std::string(parsed.status().message()));
    return new Module(*std::move(parsed));
  }();
  return *module;
}

absl::StatusOr<Report> Run(const std::vector<std::string>& assignments) {
  AILAB_ASSIGN_OR_RETURN(Values values, ParseAssignments(TestModule(), assignments));
  return Evaluate(TestModule(), values);
}

// Returns the ErrorInfo reason of the failed evaluation of `assignments`.
std::string RejectReason(const std::vector<std::string>& assignments) {
  absl::StatusOr<Report> report = Run(assignments);
  if (report.ok()) return "OK";
  INFO(report.status().message());
  CHECK(report.status().code() == absl::StatusCode::kInvalidArgument);
  return GetErrorReason(report.status());
}

TEST_CASE("Evaluate: NotCondition reaches the first end point") {
  absl::StatusOr<Report> report = Run({"present=no"});
  REQUIRE(report.ok());
  CHECK(report->end_point_id == "AbsentEp");
  CHECK(report->Text() == "Nothing found.");
  CHECK(report->path == std::vector<std::string>{"Absent"});
}

TEST_CASE("Evaluate: value of an irrelevant element is ignored") {
  absl::StatusOr<Report> report = Run({"present=no", "sites=left", "sites=right"});
  REQUIRE(report.ok());
  CHECK(report->end_point_id == "AbsentEp");
}

TEST_CASE("Evaluate: nested decision point and multi-choice count") {
  absl::StatusOr<Report> report = Run({"present=yes", "sites=left", "sites=right"});
  REQUIRE(report.ok());
  CHECK(report->end_point_id == "BothEp");
  CHECK(report->path == std::vector<std::string>{"Present", "Both sides"});
  CHECK(report->Text() == "Findings in both breasts.\n\nBilateral.");
  CHECK(report->SectionTextOf("impression") == "Bilateral.");
  CHECK(report->SectionTextOf("citation").empty());
}

TEST_CASE("Evaluate: global value threshold and Contains") {
  absl::StatusOr<Report> report = Run({"present=yes", "sites=left", "count=3"});
  REQUIRE(report.ok());
  CHECK(report->end_point_id == "ManyEp");
  CHECK(report->Text() == "Several findings (3) in the left breast.");

  report = Run({"present=yes", "sites=right", "count=4"});
  REQUIRE(report.ok());
  CHECK(report->Text() == "Several findings (4).");
}

TEST_CASE("Evaluate: default branch and missing-value conditions") {
  // Without a count, SectionIfNot is true and NotEqualCondition is false.
  absl::StatusOr<Report> report = Run({"present=yes", "sites=right"});
  REQUIRE(report.ok());
  CHECK(report->end_point_id == "OneEp");
  CHECK(report->path == std::vector<std::string>{"Present", "One side"});
  CHECK(report->Text() == "One finding: Right. Count not given.");

  report = Run({"present=yes", "sites=right", "count=2"});
  REQUIRE(report.ok());
  CHECK(report->Text() == "One finding: Right. Count: 2.");

  report = Run({"present=yes", "sites=right", "count=1"});
  REQUIRE(report.ok());
  CHECK(report->Text() == "One finding: Right.");
}

TEST_CASE("Evaluate: required elements without values are named") {
  absl::StatusOr<Report> report = Run({});
  REQUIRE_FALSE(report.ok());
  CHECK(GetErrorReason(report.status()) == "ASSIST_VALUE_MISSING");
  CHECK(std::string(report.status().message()) ==
        "required data element has no value: present (one of yes (Yes), no (No)); set it as "
        "ID=VALUE");

  // A conditional property makes sites required once present is yes.
  report = Run({"present=yes"});
  REQUIRE_FALSE(report.ok());
  CHECK(GetErrorReason(report.status()) == "ASSIST_VALUE_MISSING");
  CHECK(std::string(report.status().message()).find("sites (one of left (Left), right (Right))") !=
        std::string::npos);
}

TEST_CASE("SetValue: bad values are rejected with reasons") {
  CHECK(RejectReason({"presence=yes"}) == "ASSIST_UNKNOWN_DATA_ELEMENT");
  CHECK(RejectReason({"Many=4"}) == "ASSIST_UNKNOWN_DATA_ELEMENT");
  CHECK(RejectReason({"present=maybe"}) == "ASSIST_VALUE_NOT_ALLOWED");
  CHECK(RejectReason({"present=yes", "present=no"}) == "ASSIST_VALUE_REPEATED");
  CHECK(RejectReason({"present=yes", "sites=left", "sites=left"}) == "ASSIST_VALUE_REPEATED");
  CHECK(RejectReason({"present=yes", "sites=left", "count=many"}) == "ASSIST_VALUE_NOT_A_NUMBER");
  CHECK(RejectReason({"present=yes", "sites=left", "count=2.5"}) == "ASSIST_VALUE_NOT_A_NUMBER");
  CHECK(RejectReason({"present=yes", "sites=left", "count=nan"}) == "ASSIST_VALUE_NOT_A_NUMBER");
  CHECK(RejectReason({"present=yes", "sites=left", "count=0"}) == "ASSIST_VALUE_OUT_OF_RANGE");
  CHECK(RejectReason({"present=yes", "sites=left", "count=21"}) == "ASSIST_VALUE_OUT_OF_RANGE");
  CHECK(RejectReason({"score=4"}) == "ASSIST_VALUE_NOT_SETTABLE");
  CHECK(RejectReason({"present"}) == "ASSIST_ASSIGNMENT_INVALID");
  CHECK(RejectReason({"=yes"}) == "ASSIST_ASSIGNMENT_INVALID");
}

TEST_CASE("SetValue: messages name the value and the fix") {
  Values values;
  absl::Status unknown = SetValue(TestModule(), "presence", "yes", values);
  CHECK(std::string(unknown.message()) ==
        "\"presence\" is not a data element of module Eval_1; use one of: present, sites, count");
  absl::Status global = SetValue(TestModule(), "Many", "4", values);
  CHECK(std::string(global.message()).find("global value") != std::string::npos);
  absl::Status not_number = SetValue(TestModule(), "count", "many", values);
  CHECK(std::string(not_number.message()) ==
        "\"many\" is not a valid value of data element count; use a whole number");
  std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(not_number);
  REQUIRE(info.has_value());
  CHECK(info->metadata().at("data_element") == "count");
  CHECK(info->metadata().at("value") == "many");
}

TEST_CASE("SetFromModelOutput: picks the most probable choice") {
  Values values;
  REQUIRE(SetFromModelOutput(TestModule(), "present", {0.3, 0.7}, values).ok());
  CHECK(values.at("present").choices == std::vector<std::string>{"no"});

  // The first of equal maxima wins.
  Values tie;
  REQUIRE(SetFromModelOutput(TestModule(), "present", {0.5, 0.5}, tie).ok());
  CHECK(tie.at("present").choices == std::vector<std::string>{"yes"});

  Values parsed;
  REQUIRE(ParseModelOutput(TestModule(), "present=0.9, 0.1", parsed).ok());
  CHECK(parsed.at("present").choices == std::vector<std::string>{"yes"});
}

TEST_CASE("SetFromModelOutput: invalid outputs are rejected") {
  Values values;
  absl::Status wrong_count = SetFromModelOutput(TestModule(), "present", {1.0}, values);
  CHECK(GetErrorReason(wrong_count) == "ASSIST_MODEL_OUTPUT_INVALID");
  CHECK(std::string(wrong_count.message()).find("has 1 probabilities") != std::string::npos);
  CHECK(GetErrorReason(SetFromModelOutput(TestModule(), "present", {1.5, -0.5}, values)) ==
        "ASSIST_MODEL_OUTPUT_INVALID");
  CHECK(GetErrorReason(SetFromModelOutput(TestModule(), "sites", {0.5, 0.5}, values)) ==
        "ASSIST_MODEL_OUTPUT_INVALID");
  CHECK(GetErrorReason(ParseModelOutput(TestModule(), "present=0.2,abc", values)) ==
        "ASSIST_MODEL_OUTPUT_INVALID");
  CHECK(GetErrorReason(ParseModelOutput(TestModule(), "0.2,0.8", values)) ==
        "ASSIST_MODEL_OUTPUT_INVALID");
  CHECK(values.empty());
}

TEST_CASE("Evaluate: condition on a computed element is unimplemented") {
  std::string text = kModule;
  const std::string find = "<GreaterThanOrEqualsCondition DataElementId=\"count\"";
  text.replace(text.find(find), find.size(),
               "<GreaterThanOrEqualsCondition DataElementId=\"score\"");
  absl::StatusOr<Module> module = ParseModule(text, "eval.xml");
  REQUIRE(module.ok());
  absl::StatusOr<Values> values = ParseAssignments(*module, {"present=yes", "sites=left"});
  REQUIRE(values.ok());
  absl::StatusOr<Report> report = Evaluate(*module, *values);
  REQUIRE_FALSE(report.ok());
  CHECK(report.status().code() == absl::StatusCode::kUnimplemented);
  CHECK(GetErrorReason(report.status()) == "ASSIST_COMPUTED_UNSUPPORTED");
}

TEST_CASE("Evaluate: rule branch may carry the text") {
  // Nested rule branches without a decision point, the inner one with report text.
  constexpr char kInlineModule[] = R"(<?xml version="1.0"?>
<ReportingModule>
  <Metadata><Label>Inline</Label><ID>Inline_1</ID><SchemaVersion>2.0</SchemaVersion></Metadata>
  <DataElements>
    <ChoiceDataElement Id="present" IsRequired="true">
      <Label>Present</Label>
      <ChoiceInfo>
        <Choice><Value>yes</Value><Label>Yes</Label></Choice>
        <Choice><Value>no</Value><Label>No</Label></Choice>
      </ChoiceInfo>
    </ChoiceDataElement>
  </DataElements>
  <Rules>
    <DecisionPoint Id="InlineDp">
      <Label>Inline</Label>
      <Branch>
        <Label>Outer</Label>
        <EqualCondition DataElementId="present" ComparisonValue="yes"/>
        <Branch>
          <Label>Inner</Label>
          <ReportText Type="PlainText">Answer: </ReportText>
          <ReportText Type="InsertDataElementValue" Value="present"/>
        </Branch>
      </Branch>
      <DefaultBranch><EndPointRef EndPointId="NoEp"/></DefaultBranch>
    </DecisionPoint>
  </Rules>
  <EndPoints>
    <EndPoint Id="NoEp">
      <ReportSections>
        <ReportSection SectionId="findings">
          <Branch><ReportText Type="PlainText">Nothing.</ReportText></Branch>
        </ReportSection>
      </ReportSections>
    </EndPoint>
  </EndPoints>
</ReportingModule>
)";
  absl::StatusOr<Module> module = ParseModule(kInlineModule, "inline.xml");
  REQUIRE(module.ok());
  absl::StatusOr<Values> yes = ParseAssignments(*module, {"present=yes"});
  REQUIRE(yes.ok());
  absl::StatusOr<Report> report = Evaluate(*module, *yes);
  REQUIRE(report.ok());
  CHECK(report->end_point_id.empty());
  CHECK(report->path == std::vector<std::string>{"Outer", "Inner"});
  CHECK(report->Text() == "Answer: Yes");

  absl::StatusOr<Values> no = ParseAssignments(*module, {"present=no"});
  REQUIRE(no.ok());
  report = Evaluate(*module, *no);
  REQUIRE(report.ok());
  CHECK(report->end_point_id == "NoEp");
  CHECK(report->path == std::vector<std::string>{"default (line 25)"});
}

TEST_CASE("DisplayValue: prefers report text, then label") {
  const DataElement* sites = TestModule().FindDataElement("sites");
  REQUIRE(sites != nullptr);
  Value both;
  both.choices = {"left", "right"};
  CHECK(DisplayValue(*sites, &both) == "left breast, Right");
  CHECK(DisplayValue(*sites, nullptr).empty());
  const DataElement* count = TestModule().FindDataElement("count");
  Value number;
  number.number = 12;
  CHECK(DisplayValue(*count, &number) == "12");
}

}  // namespace
}  // namespace ailab::assist
