#include "ailab/assist/site_templates.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "ailab/assist/evaluate.h"
#include "ailab/assist/module.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"

namespace ailab::assist {
namespace {

// A binary module: a positive and a negative end point with findings and impression.
constexpr char kModule[] = R"(<?xml version="1.0"?>
<ReportingModule>
  <Metadata><Label>Nodule</Label><ID>Nodule_1</ID><SchemaVersion>2.0</SchemaVersion></Metadata>
  <DataElements>
    <ChoiceDataElement Id="nodule" IsRequired="true">
      <Label>Nodule</Label>
      <ChoiceInfo>
        <Choice><Value>present</Value><Label>Present</Label><ReportText>a nodule</ReportText></Choice>
        <Choice><Value>absent</Value><Label>Absent</Label></Choice>
      </ChoiceInfo>
    </ChoiceDataElement>
    <NumericDataElement Id="size.mm" Unit="mm"><Label>Size</Label></NumericDataElement>
  </DataElements>
  <Rules>
    <DecisionPoint Id="NoduleDp">
      <Label>Nodule</Label>
      <Branch>
        <EqualCondition DataElementId="nodule" ComparisonValue="present"/>
        <EndPointRef EndPointId="PositiveEp"/>
      </Branch>
      <DefaultBranch><EndPointRef EndPointId="NegativeEp"/></DefaultBranch>
    </DecisionPoint>
  </Rules>
  <EndPoints>
    <EndPoint Id="PositiveEp">
      <ReportSections>
        <ReportSection SectionId="findings">
          <Branch><ReportText Type="PlainText">There is a nodule.</ReportText></Branch>
        </ReportSection>
        <ReportSection SectionId="impression">
          <Branch><ReportText Type="PlainText">Nodule.</ReportText></Branch>
        </ReportSection>
      </ReportSections>
    </EndPoint>
    <EndPoint Id="NegativeEp">
      <ReportSections>
        <ReportSection SectionId="findings">
          <Branch><ReportText Type="PlainText">No nodule.</ReportText></Branch>
        </ReportSection>
      </ReportSections>
    </EndPoint>
  </EndPoints>
</ReportingModule>
)";

const Module& TestModule() {
  static const Module* module = [] {
    absl::StatusOr<Module> parsed = ParseModule(kModule, "nodule.xml");
    if (!parsed.ok()) throw std::runtime_error(std::string(parsed.status().message()));
    return new Module(*std::move(parsed));
  }();
  return *module;
}

absl::StatusOr<Report> Run(const std::string& templates,
                           const std::vector<std::string>& assignments) {
  AILAB_ASSIGN_OR_RETURN(SiteTemplates site,
                         SiteTemplates::Parse(templates, "site.txt", TestModule()));
  AILAB_ASSIGN_OR_RETURN(Values values, ParseAssignments(TestModule(), assignments));
  return Evaluate(TestModule(), values, &site);
}

// Checks that `templates` is rejected at `line` and returns the message.
std::string ExpectRejected(const std::string& templates, int line) {
  absl::StatusOr<SiteTemplates> site = SiteTemplates::Parse(templates, "site.txt", TestModule());
  REQUIRE_FALSE(site.ok());
  std::string message(site.status().message());
  INFO(message);
  CHECK(site.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(site.status()) == "ASSIST_SITE_TEMPLATE_INVALID");
  CHECK(message.find(absl::StrCat("site.txt:", line, ": ")) == 0);
  std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(site.status());
  REQUIRE(info.has_value());
  CHECK(info->metadata().at("line") == absl::StrCat(line));
  return message;
}

TEST_CASE("SiteTemplates: blank when negative") {
  absl::StatusOr<Report> negative =
      Run("# Negative results need no text.\n"
          "NegativeEp.findings =\n",
          {"nodule=absent"});
  REQUIRE(negative.ok());
  CHECK(negative->end_point_id == "NegativeEp");
  REQUIRE(negative->sections.size() == 1);
  CHECK(negative->sections[0].text.empty());
  CHECK(negative->Text().empty());

  // The positive result keeps the module's text.
  absl::StatusOr<Report> positive = Run("NegativeEp.findings =\n", {"nodule=present"});
  REQUIRE(positive.ok());
  CHECK(positive->Text() == "There is a nodule.\n\nNodule.");
}

TEST_CASE("SiteTemplates: placeholders are filled") {
  absl::StatusOr<Report> report =
      Run("PositiveEp.findings = Site: {default} Value {nodule.value} is {nodule}; "
          "{size.mm} mm {{literal}}\\nNext line.\n",
          {"nodule=present", "size.mm=7.5"});
  REQUIRE(report.ok());
  CHECK(report->SectionTextOf("findings") ==
        "Site: There is a nodule. Value present is a nodule; 7.5 mm {literal}\nNext line.");
  CHECK(report->SectionTextOf("impression") == "Nodule.");
}

TEST_CASE("SiteTemplates: end point template beats the wildcard") {
  std::string templates =
      "*.impression = Site impression: {default}\n"
      "PositiveEp.impression = Positive: {default}\n";
  absl::StatusOr<Report> positive = Run(templates, {"nodule=present"});
  REQUIRE(positive.ok());
  CHECK(positive->SectionTextOf("impression") == "Positive: Nodule.");

  // The negative end point has no impression in the module; the wildcard adds one.
  absl::StatusOr<Report> negative = Run(templates, {"nodule=absent"});
  REQUIRE(negative.ok());
  REQUIRE(negative->sections.size() == 2);
  CHECK(negative->sections[1].section_id == "impression");
  CHECK(negative->sections[1].text == "Site impression:");
}

TEST_CASE("SiteTemplates: value placeholder without value is empty") {
  absl::StatusOr<Report> report =
      Run("PositiveEp.findings = Size: {size.mm}.\n", {"nodule=present"});
  REQUIRE(report.ok());
  CHECK(report->SectionTextOf("findings") == "Size: .");
}

TEST_CASE("SiteTemplates: invalid lines are rejected with their line") {
  CHECK(ExpectRejected("# comment\n\nNegativeEp.findings\n", 3).find("END_POINT.SECTION") !=
        std::string::npos);
  ExpectRejected("findings = text\n", 1);
  CHECK(ExpectRejected("UnknownEp.findings = text\n", 1).find("PositiveEp, NegativeEp") !=
        std::string::npos);
  CHECK(ExpectRejected("\nPositiveEp.summary = text\n", 2).find("impressionRecommendation") !=
        std::string::npos);
  CHECK(ExpectRejected("PositiveEp.findings = a\nPositiveEp.findings = b\n", 2).find("line 1") !=
        std::string::npos);
  CHECK(ExpectRejected("PositiveEp.findings = {size}\n", 1).find("{size}") != std::string::npos);
  ExpectRejected("PositiveEp.findings = {nodule\n", 1);
  ExpectRejected("PositiveEp.findings = nodule}\n", 1);
}

TEST_CASE("SiteTemplates: missing file is not found") {
  absl::StatusOr<SiteTemplates> site = SiteTemplates::Load("no-such-site.txt", TestModule());
  REQUIRE_FALSE(site.ok());
  CHECK(site.status().code() == absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ailab::assist
