#include <algorithm>
#include <stdexcept>
#include <string>

#include "absl/strings/str_cat.h"
#include "ailab/assist/module.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"

namespace ailab::assist {
namespace {

// A small module that follows the schema; the rejection tests break one part of it.
constexpr char kValidModule[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<ReportingModule>
  <Metadata>
    <Label>Test module</Label>
    <ID>Test_1</ID>
    <SchemaVersion>2.0</SchemaVersion>
  </Metadata>
  <DataElements>
    <GlobalValue Id="Limit">10</GlobalValue>
    <ChoiceDataElement Id="finding" IsRequired="true">
      <Label>Finding</Label>
      <ChoiceInfo>
        <Choice><Value>yes</Value><Label>Yes</Label></Choice>
        <Choice><Value>no</Value><Label>No</Label></Choice>
      </ChoiceInfo>
    </ChoiceDataElement>
    <NumericDataElement Id="size" Unit="mm">
      <Label>Size</Label>
      <Minimum>0</Minimum>
    </NumericDataElement>
  </DataElements>
  <Rules>
    <DecisionPoint Id="FindingDp">
      <Label>Finding</Label>
      <Branch>
        <Label>Large</Label>
        <AndCondition>
          <EqualCondition DataElementId="finding" ComparisonValue="yes"/>
          <GreaterThanOrEqualsCondition DataElementId="size" ComparisonValue="Limit"/>
        </AndCondition>
        <EndPointRef EndPointId="LargeEp"/>
      </Branch>
      <Branch>
        <EqualCondition DataElementId="finding" ComparisonValue="yes"/>
        <EndPointRef EndPointId="SmallEp"/>
      </Branch>
      <DefaultBranch>
        <EndPointRef EndPointId="NoneEp"/>
      </DefaultBranch>
    </DecisionPoint>
  </Rules>
  <EndPoints>
    <TemplatePartial Id="SizePartial">
      <Branch>
        <ReportText Type="PlainText">It measures </ReportText>
        <ReportText Type="InsertDataElementValue" Value="size"/>
        <ReportText Type="PlainText"> mm.</ReportText>
      </Branch>
    </TemplatePartial>
    <EndPoint Id="LargeEp">
      <Label>Large</Label>
      <ReportSections>
        <ReportSection SectionId="findings">
          <Branch>
            <ReportText Type="PlainText">A large finding.</ReportText>
            <ReportText Type="Space"/>
            <ReportText Type="InsertPartialTemplate" Value="SizePartial"/>
          </Branch>
        </ReportSection>
      </ReportSections>
    </EndPoint>
    <EndPoint Id="SmallEp">
      <Label>Small</Label>
      <ReportSections>
        <ReportSection SectionId="findings">
          <Branch><ReportText Type="PlainText">A small finding.</ReportText></Branch>
        </ReportSection>
      </ReportSections>
    </EndPoint>
    <EndPoint Id="NoneEp">
      <Label>None</Label>
      <ReportSections>
        <ReportSection SectionId="findings">
          <Branch><ReportText Type="PlainText">No finding.</ReportText></Branch>
        </ReportSection>
      </ReportSections>
    </EndPoint>
  </EndPoints>
</ReportingModule>
)";

// Returns kValidModule with the first `find` replaced by `replacement`.
std::string Break(const std::string& find, const std::string& replacement) {
  std::string text = kValidModule;
  size_t at = text.find(find);
  if (at == std::string::npos) throw std::runtime_error("test text not found: " + find);
  return text.replace(at, find.size(), replacement);
}

// Returns the 1-based line of the first `marker` in `text`.
int LineOf(const std::string& text, const std::string& marker) {
  size_t at = text.find(marker);
  if (at == std::string::npos) throw std::runtime_error("marker not found: " + marker);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

// Checks that `text` is rejected at `line` with `element` named, and returns the message.
std::string ExpectRejected(const std::string& text, const std::string& element, int line) {
  absl::StatusOr<Module> module = ParseModule(text, "test.xml");
  REQUIRE_FALSE(module.ok());
  const absl::Status& status = module.status();
  std::string message(status.message());
  INFO(message);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(status) == "ASSIST_MODULE_INVALID");
  CHECK(message.find(absl::StrCat("test.xml:", line, ":")) == 0);
  CHECK(message.find(absl::StrCat("<", element, ">")) != std::string::npos);
  std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(status);
  REQUIRE(info.has_value());
  CHECK(info->metadata().at("line") == absl::StrCat(line));
  CHECK(info->metadata().at("element") == element);
  CHECK(info->metadata().at("source") == "test.xml");
  return message;
}

TEST_CASE("ParseModule: valid module is read") {
  absl::StatusOr<Module> module = ParseModule(kValidModule, "test.xml");
  REQUIRE(module.ok());
  CHECK(module->metadata.id == "Test_1");
  CHECK(module->metadata.schema_version == "2.0");
  REQUIRE(module->global_values.size() == 1);
  CHECK(module->global_values[0].value == "10");
  REQUIRE(module->data_elements.size() == 2);
  CHECK(module->data_elements[0].type == DataElementType::kChoice);
  CHECK(module->data_elements[0].is_required);
  REQUIRE(module->data_elements[0].choices.size() == 2);
  CHECK(module->data_elements[0].choices[1].value == "no");
  CHECK(module->data_elements[1].unit == "mm");
  REQUIRE(module->data_elements[1].minimum.has_value());
  CHECK(*module->data_elements[1].minimum == 0);
  CHECK(module->rules.id == "FindingDp");
  CHECK(module->rules.branches.size() == 2);
  CHECK(module->rules.default_branch.has_value());
  CHECK(module->end_points.size() == 3);
  CHECK(module->template_partials.size() == 1);
  // Layout whitespace goes, but the space that joins text pieces stays.
  CHECK(module->template_partials[0].branches[0].report_text[0].text == "It measures ");
  CHECK(module->data_elements[0].line == LineOf(kValidModule, "<ChoiceDataElement"));
}

TEST_CASE("ParseModule: unknown element is rejected") {
  std::string text = Break("<GlobalValue Id=\"Limit\">",
                           "<BlobDataElement Id=\"x\"/>\n"
                           "    <GlobalValue Id=\"Limit\">");
  std::string message = ExpectRejected(text, "BlobDataElement", LineOf(text, "<BlobData"));
  CHECK(message.find("ChoiceDataElement") != std::string::npos);
}

TEST_CASE("ParseModule: misplaced element is rejected") {
  std::string text = Break("<Label>Size</Label>", "<Label>Size</Label><ChoiceInfo/>");
  ExpectRejected(text, "ChoiceInfo", LineOf(text, "<ChoiceInfo/>"));
}

TEST_CASE("ParseModule: missing required attribute is rejected") {
  std::string text = Break("<EqualCondition DataElementId=\"finding\" ComparisonValue=\"yes\"/>",
                           "<EqualCondition ComparisonValue=\"yes\"/>");
  std::string message =
      ExpectRejected(text, "EqualCondition", LineOf(text, "<EqualCondition ComparisonValue"));
  CHECK(message.find("DataElementId") != std::string::npos);
}

TEST_CASE("ParseModule: unknown attribute is rejected") {
  std::string text = Break("<ChoiceDataElement Id=\"finding\" IsRequired=\"true\">",
                           "<ChoiceDataElement Id=\"finding\" Colour=\"red\">");
  std::string message = ExpectRejected(text, "ChoiceDataElement", LineOf(text, "Colour"));
  CHECK(message.find("Colour") != std::string::npos);
}

TEST_CASE("ParseModule: invalid boolean attribute is rejected") {
  std::string text = Break("IsRequired=\"true\"", "IsRequired=\"yes\"");
  std::string message = ExpectRejected(text, "ChoiceDataElement", LineOf(text, "IsRequired"));
  CHECK(message.find("\"true\" or \"false\"") != std::string::npos);
}

TEST_CASE("ParseModule: missing required element is rejected") {
  std::string text = Break("<Label>Finding</Label>\n      <ChoiceInfo>", "<ChoiceInfo>");
  std::string message =
      ExpectRejected(text, "ChoiceDataElement", LineOf(text, "<ChoiceDataElement"));
  CHECK(message.find("<Label>") != std::string::npos);
}

TEST_CASE("ParseModule: repeated element is rejected") {
  std::string text = Break("<Minimum>0</Minimum>", "<Minimum>0</Minimum><Minimum>1</Minimum>");
  ExpectRejected(text, "Minimum", LineOf(text, "<Minimum>0"));
}

TEST_CASE("ParseModule: undefined data element reference is rejected") {
  std::string text = Break(
      "<EqualCondition DataElementId=\"finding\" ComparisonValue=\"yes\"/>\n"
      "        <EndPointRef EndPointId=\"SmallEp\"/>",
      "<EqualCondition DataElementId=\"findng\" ComparisonValue=\"yes\"/>\n"
      "        <EndPointRef EndPointId=\"SmallEp\"/>");
  std::string message = ExpectRejected(text, "EqualCondition", LineOf(text, "findng"));
  CHECK(message.find("findng") != std::string::npos);
  CHECK(message.find("finding, size") != std::string::npos);
}

TEST_CASE("ParseModule: global value as data element is rejected") {
  std::string text = Break("<GreaterThanOrEqualsCondition DataElementId=\"size\"",
                           "<GreaterThanOrEqualsCondition DataElementId=\"Limit\"");
  std::string message =
      ExpectRejected(text, "GreaterThanOrEqualsCondition", LineOf(text, "DataElementId=\"Limit\""));
  CHECK(message.find("global value") != std::string::npos);
}

TEST_CASE("ParseModule: comparison with unknown choice is rejected") {
  std::string text = Break("ComparisonValue=\"yes\"/>\n          <Greater",
                           "ComparisonValue=\"maybe\"/>\n          <Greater");
  std::string message = ExpectRejected(text, "EqualCondition", LineOf(text, "maybe"));
  CHECK(message.find("yes, no") != std::string::npos);
}

TEST_CASE("ParseModule: non-numeric comparison of a number is rejected") {
  std::string text = Break("ComparisonValue=\"Limit\"", "ComparisonValue=\"big\"");
  ExpectRejected(text, "GreaterThanOrEqualsCondition", LineOf(text, "\"big\""));
}

TEST_CASE("ParseModule: ordered comparison of a choice is rejected") {
  std::string text = Break("<GreaterThanOrEqualsCondition DataElementId=\"size\"",
                           "<GreaterThanOrEqualsCondition DataElementId=\"finding\"");
  ExpectRejected(text, "GreaterThanOrEqualsCondition",
                 LineOf(text, "\"finding\" ComparisonValue=\"Limit\""));
}

TEST_CASE("ParseModule: undefined end point is rejected") {
  std::string text =
      Break("<EndPointRef EndPointId=\"SmallEp\"/>", "<EndPointRef EndPointId=\"TinyEp\"/>");
  std::string message = ExpectRejected(text, "EndPointRef", LineOf(text, "TinyEp"));
  CHECK(message.find("TinyEp") != std::string::npos);
}

TEST_CASE("ParseModule: undefined template partial is rejected") {
  std::string text = Break("Value=\"SizePartial\"", "Value=\"NoPartial\"");
  ExpectRejected(text, "ReportText", LineOf(text, "NoPartial"));
}

TEST_CASE("ParseModule: duplicate id is rejected") {
  std::string text = Break("<EndPoint Id=\"SmallEp\">", "<EndPoint Id=\"LargeEp\">");
  std::string message = ExpectRejected(
      text, "EndPoint", LineOf(text, "<EndPoint Id=\"LargeEp\">\n      <Label>Small"));
  CHECK(message.find(absl::StrCat("line ", LineOf(kValidModule, "<EndPoint Id=\"LargeEp\">"))) !=
        std::string::npos);
}

TEST_CASE("ParseModule: invalid section id is rejected") {
  std::string text = Break(
      "<ReportSection SectionId=\"findings\">\n          <Branch><ReportText "
      "Type=\"PlainText\">A small",
      "<ReportSection SectionId=\"summary\">\n          <Branch><ReportText "
      "Type=\"PlainText\">A small");
  ExpectRejected(text, "ReportSection", LineOf(text, "summary"));
}

TEST_CASE("ParseModule: invalid report text type is rejected") {
  std::string text = Break("<ReportText Type=\"Space\"/>", "<ReportText Type=\"Blank\"/>");
  ExpectRejected(text, "ReportText", LineOf(text, "Blank"));
}

TEST_CASE("ParseModule: non-numeric bound is rejected") {
  std::string text = Break("<Minimum>0</Minimum>", "<Minimum>zero</Minimum>");
  ExpectRejected(text, "Minimum", LineOf(text, "zero"));
}

TEST_CASE("ParseModule: text in element-only content is rejected") {
  std::string text = Break("<ChoiceInfo>", "<ChoiceInfo>stray words");
  ExpectRejected(text, "ChoiceInfo", LineOf(text, "stray"));
}

TEST_CASE("ParseModule: branch without target is rejected") {
  std::string text = Break("<EndPointRef EndPointId=\"SmallEp\"/>", "");
  ExpectRejected(text, "Branch",
                 LineOf(kValidModule,
                        "<EqualCondition DataElementId=\"finding\" "
                        "ComparisonValue=\"yes\"/>\n        <End") -
                     1);
}

TEST_CASE("ParseModule: report text after a nested branch is rejected") {
  // The schema puts a branch's report text before its nested branches.
  std::string text = Break("<ReportText Type=\"PlainText\">A small finding.</ReportText>",
                           "<ReportText Type=\"PlainText\">A small</ReportText>\n"
                           "          <Branch><ReportText Type=\"Space\"/></Branch>\n"
                           "          <ReportText Type=\"PlainText\">finding.</ReportText>");
  std::string message = ExpectRejected(text, "ReportText", LineOf(text, "\"PlainText\">finding."));
  CHECK(message.find("after a nested <Branch>") != std::string::npos);
}

TEST_CASE("ParseModule: template partial cycle is rejected") {
  std::string text = Break("<ReportText Type=\"PlainText\"> mm.</ReportText>",
                           "<ReportText Type=\"InsertPartialTemplate\" Value=\"SizePartial\"/>");
  ExpectRejected(text, "TemplatePartial", LineOf(text, "<TemplatePartial"));
}

TEST_CASE("ParseModule: other schema version is rejected") {
  std::string text =
      Break("<SchemaVersion>2.0</SchemaVersion>", "<SchemaVersion>1.0</SchemaVersion>");
  std::string message = ExpectRejected(text, "SchemaVersion", LineOf(text, "<SchemaVersion>"));
  CHECK(message.find("2.0") != std::string::npos);
}

TEST_CASE("ParseModule: wrong root element is rejected") {
  ExpectRejected("<?xml version=\"1.0\"?>\n<Module/>\n", "Module", 2);
}

TEST_CASE("ParseModule: malformed XML names the line") {
  std::string text = Break("<Label>Size</Label>", "<Label>Size</Lable>");
  absl::StatusOr<Module> module = ParseModule(text, "test.xml");
  REQUIRE_FALSE(module.ok());
  std::string message(module.status().message());
  INFO(message);
  CHECK(module.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(message.find(absl::StrCat("test.xml:", LineOf(text, "</Lable>"), ":")) == 0);
  CHECK(message.find("not well-formed") != std::string::npos);
}

TEST_CASE("ParseModule: DOCTYPE and external entities are rejected") {
  // The entity would read a local file if the parser loaded external entities.
  std::string body = Break("<Label>Test module</Label>", "<Label>&secret;</Label>");
  std::string text =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE ReportingModule [<!ENTITY secret "
      "SYSTEM \"file:///etc/hostname\">]>\n" +
      body.substr(body.find("<ReportingModule>"));
  absl::StatusOr<Module> module = ParseModule(text, "test.xml");
  REQUIRE_FALSE(module.ok());
  std::string message(module.status().message());
  INFO(message);
  CHECK(module.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(message.find("DOCTYPE") != std::string::npos);
}

TEST_CASE("ParseModule: oversized document is rejected") {
  std::string text(kMaxModuleBytes + 1, ' ');
  absl::StatusOr<Module> module = ParseModule(text, "big.xml");
  REQUIRE_FALSE(module.ok());
  CHECK(GetErrorReason(module.status()) == "ASSIST_MODULE_TOO_LARGE");
}

TEST_CASE("ParseModule: nested entity expansion is rejected") {
  // Entities that would expand a billion times if the parser substituted them.
  std::string text =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE ReportingModule [\n"
      "<!ENTITY a \"aaaaaaaaaa\">\n";
  for (char name = 'b'; name <= 'j'; ++name) {
    std::string previous(1, static_cast<char>(name - 1));
    text += absl::StrCat("<!ENTITY ", std::string(1, name), " \"");
    for (int i = 0; i < 10; ++i) text += "&" + previous + ";";
    text += "\">\n";
  }
  text += "]>\n<ReportingModule><Metadata><Label>&j;</Label></Metadata></ReportingModule>\n";
  absl::StatusOr<Module> module = ParseModule(text, "laughs.xml");
  REQUIRE_FALSE(module.ok());
  CHECK(module.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(module.status()) == "ASSIST_MODULE_INVALID");
}

TEST_CASE("ParseModule: damaged documents return errors") {
  // Every truncation and single-character damage of a valid module is rejected or
  // read, never a crash; each rejection names the source and a line.
  const std::string valid = kValidModule;
  // Cuts before the last ">" leave the root element open.
  const size_t last_bracket = valid.rfind('>');
  int rejected = 0;
  for (size_t length = 0; length <= last_bracket; ++length) {
    absl::StatusOr<Module> module = ParseModule(valid.substr(0, length), "cut.xml");
    if (!module.ok()) {
      ++rejected;
      CHECK(std::string(module.status().message()).rfind("cut.xml:", 0) == 0);
    }
  }
  CHECK(rejected == static_cast<int>(last_bracket + 1));
  for (size_t at = 0; at < valid.size(); ++at) {
    for (char replacement : {'<', '"', 'x', '\0'}) {
      std::string damaged = valid;
      damaged[at] = replacement;
      absl::StatusOr<Module> module = ParseModule(damaged, "damaged.xml");
      if (!module.ok()) {
        CHECK(std::string(module.status().message()).rfind("damaged.xml:", 0) == 0);
      }
    }
  }
}

TEST_CASE("LoadModule: missing file is not found") {
  absl::StatusOr<Module> module = LoadModule("no-such-dir/no-such-module.xml");
  REQUIRE_FALSE(module.ok());
  CHECK(module.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(module.status().message()).find("no-such-module.xml") != std::string::npos);
}

}  // namespace
}  // namespace ailab::assist
