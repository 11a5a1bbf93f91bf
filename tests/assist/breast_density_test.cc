// Report text of the platform's breast density module (data/assist/breast_density.xml)
// for each BI-RADS density category, with and without a model probability, from a
// model's output, and with the example site templates.
#include <set>
#include <string>
#include <vector>

#include "ailab/assist/evaluate.h"
#include "ailab/assist/module.h"
#include "ailab/assist/site_templates.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"
#include "fixtures.h"

namespace ailab::assist {
namespace {

const Module& DensityModule() {
  static const Module* module = [] {
    absl::StatusOr<Module> loaded =
        LoadModule(testing::SourceDir() + "/data/assist/breast_density.xml");
    if (!loaded.ok()) throw std::runtime_error(std::string(loaded.status().message()));
    return new Module(*std::move(loaded));
  }();
  return *module;
}

const SiteTemplates& ExampleSiteTemplates() {
  static const SiteTemplates* templates = [] {
    absl::StatusOr<SiteTemplates> loaded = SiteTemplates::Load(
        testing::SourceDir() + "/data/assist/breast_density.site-example.txt", DensityModule());
    if (!loaded.ok()) throw std::runtime_error(std::string(loaded.status().message()));
    return new SiteTemplates(*std::move(loaded));
  }();
  return *templates;
}

absl::StatusOr<Report> Run(const std::vector<std::string>& assignments,
                           const SiteTemplates* site_templates = nullptr) {
  AILAB_ASSIGN_OR_RETURN(Values values, ParseAssignments(DensityModule(), assignments));
  return Evaluate(DensityModule(), values, site_templates);
}

constexpr char kDenseRecommendation[] =
    "Depending on the patient's risk and local policy, discuss supplemental screening such as "
    "ultrasound or MRI.";

struct Expected {
  std::string category;
  std::string end_point;
  std::string findings;
  std::string impression;
  std::string recommendation;
};

const std::vector<Expected>& Categories() {
  static const auto* categories = new std::vector<Expected>{
      {"A", "DensityAEp", "Breast density category A. The breast tissue is almost entirely fat.",
       "Fatty breasts, density A.", ""},
      {"B", "DensityBEp",
       "Breast density category B. The breast tissue shows scattered areas of fibroglandular "
       "density.",
       "Non-dense breasts, density B.", ""},
      {"C", "DensityCEp",
       "Breast density category C. The breast tissue is heterogeneously dense, and dense areas "
       "can hide small masses.",
       "Dense breasts, density C.", kDenseRecommendation},
      {"D", "DensityDEp",
       "Breast density category D. The breast tissue is extremely dense, which makes "
       "mammography less sensitive.",
       "Dense breasts, density D.", kDenseRecommendation},
  };
  return *categories;
}

TEST_CASE("Density module: follows the platform's use case") {
  const Module& module = DensityModule();
  REQUIRE(!module.data_elements.empty());
  const DataElement& density = module.data_elements[0];
  CHECK(density.id == "breast_density");
  CHECK(density.type == DataElementType::kChoice);
  CHECK(density.is_required);
  std::vector<std::string> values;
  for (const Choice& choice : density.choices) values.push_back(choice.value);
  CHECK(values == std::vector<std::string>{"A", "B", "C", "D"});
  CHECK(module.end_points.size() == 4);
}

TEST_CASE("Density module: each category gives its text") {
  std::set<std::string> reached;
  for (const Expected& expected : Categories()) {
    INFO("category " << expected.category);
    absl::StatusOr<Report> report = Run({"breast_density=" + expected.category});
    REQUIRE(report.ok());
    CHECK(report->end_point_id == expected.end_point);
    CHECK(report->SectionTextOf("findings") == expected.findings);
    CHECK(report->SectionTextOf("impression") == expected.impression);
    CHECK(report->SectionTextOf("recommendation") == expected.recommendation);
    std::string text = expected.findings + "\n\n" + expected.impression;
    if (!expected.recommendation.empty()) text += "\n\n" + expected.recommendation;
    CHECK(report->Text() == text);
    reached.insert(report->end_point_id);
  }
  CHECK(reached.size() == DensityModule().end_points.size());
}

TEST_CASE("Density module: model probability is reported") {
  absl::StatusOr<Report> report = Run({"breast_density=B", "breast_density_probability=85"});
  REQUIRE(report.ok());
  CHECK(report->SectionTextOf("findings") ==
        "Breast density category B. The breast tissue shows scattered areas of fibroglandular "
        "density. Model probability for this category: 85%.");
}

TEST_CASE("Density module: low probability asks for confirmation") {
  absl::StatusOr<Report> report = Run({"breast_density=D", "breast_density_probability=42.5"});
  REQUIRE(report.ok());
  CHECK(report->SectionTextOf("findings") ==
        "Breast density category D. The breast tissue is extremely dense, which makes "
        "mammography less sensitive. Model probability for this category: 42.5%. The model is "
        "unsure, so a radiologist should confirm the category.");
}

TEST_CASE("Density module: probability above 100 is rejected") {
  absl::StatusOr<Report> report = Run({"breast_density=D", "breast_density_probability=101"});
  REQUIRE_FALSE(report.ok());
  CHECK(GetErrorReason(report.status()) == "ASSIST_VALUE_OUT_OF_RANGE");
}

TEST_CASE("Density module: model output picks the most probable category") {
  Values values;
  REQUIRE(
      SetFromModelOutput(DensityModule(), "breast_density", {0.05, 0.15, 0.7, 0.1}, values).ok());
  absl::StatusOr<Report> report = Evaluate(DensityModule(), values);
  REQUIRE(report.ok());
  CHECK(report->end_point_id == "DensityCEp");
  CHECK(values.at("breast_density_probability").number == 70);
  CHECK(report->SectionTextOf("findings") ==
        Categories()[2].findings + " Model probability for this category: 70%.");
}

TEST_CASE("Density module: missing category is named") {
  absl::StatusOr<Report> report = Run({"breast_density_probability=90"});
  REQUIRE_FALSE(report.ok());
  std::string message(report.status().message());
  INFO(message);
  CHECK(GetErrorReason(report.status()) == "ASSIST_VALUE_MISSING");
  CHECK(message.find("breast_density (one of A (Almost entirely fatty), B") != std::string::npos);
}

TEST_CASE("Density site templates: negative categories are blank") {
  for (const char* category : {"A", "B"}) {
    INFO("category " << category);
    absl::StatusOr<Report> report =
        Run({std::string("breast_density=") + category}, &ExampleSiteTemplates());
    REQUIRE(report.ok());
    CHECK(report->SectionTextOf("findings").empty());
    CHECK(report->SectionTextOf("impression").empty());
    CHECK(report->Text().empty());
  }
}

TEST_CASE("Density site templates: dense categories use site wording") {
  absl::StatusOr<Report> c = Run({"breast_density=C"}, &ExampleSiteTemplates());
  REQUIRE(c.ok());
  CHECK(c->SectionTextOf("findings") == Categories()[2].findings);
  CHECK(c->SectionTextOf("impression") ==
        "Breast density C: The breast tissue is heterogeneously dense, and dense areas can hide "
        "small masses.");
  CHECK(c->SectionTextOf("recommendation") == kDenseRecommendation);

  absl::StatusOr<Report> d = Run({"breast_density=D"}, &ExampleSiteTemplates());
  REQUIRE(d.ok());
  CHECK(d->SectionTextOf("recommendation") ==
        std::string(kDenseRecommendation) +
            " Send the patient the written notice about dense breast tissue that local rules "
            "require.");
}

}  // namespace
}  // namespace ailab::assist
