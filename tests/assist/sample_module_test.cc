// Report text of the real ACR Assist sample module (Hello_Assist2.0.xml, LI-RADS for
// liver observations on MRI), read from the shared test data beside the checkout.
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "ailab/assist/evaluate.h"
#include "ailab/assist/module.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"
#include "fixtures.h"

namespace ailab::assist {
namespace {

const Module& SampleModule() {
  static const Module* module = [] {
    absl::StatusOr<Module> loaded =
        LoadModule(testing::SharedDataDir() + "/assist/Hello_Assist2.0.xml");
    if (!loaded.ok()) throw std::runtime_error(std::string(loaded.status().message()));
    return new Module(*std::move(loaded));
  }();
  return *module;
}

absl::StatusOr<Report> Run(const std::vector<std::string>& assignments) {
  AILAB_ASSIGN_OR_RETURN(Values values, ParseAssignments(SampleModule(), assignments));
  return Evaluate(SampleModule(), values);
}

// Assignments for an observation that is neither definitely nor probably benign.
std::vector<std::string> Observation(const std::string& enhancement, const std::string& diameter,
                                     const std::string& washout, const std::string& capsule,
                                     const std::string& growth) {
  return {"ObservationCharacter=notDefProbBenign",
          "ArterialEnhancement=" + enhancement,
          "diameter=" + diameter,
          "washout=" + washout,
          "capsule=" + capsule,
          "thresholdgrowth=" + growth};
}

struct Case {
  std::string name;
  std::vector<std::string> assignments;
  std::string end_point;
  std::string findings;
};

const std::map<std::string, std::string>& ExpectedText() {
  static const auto* text = new std::map<std::string, std::string>{
      {"LR1Ep",
       "[LR-1] Imaging features diagnostic of a benign entity or definite spontaneous "
       "disappearance at follow up."},
      {"LR2Ep",
       "[LR-2] Observation with imaging features suggestive but not diagnostic of a benign "
       "entity."},
      {"LR3Ep",
       "[LR-3] Observation that does not meet unequivocal criteria for other LI-RADS "
       "categories."},
      {"LR4Ep", "[LR-4] Observation with imaging features suggestive but not diagnostic of LR."},
      {"LR5Ep", "[LR-5] Observation with imaging features diagnostic of LR."},
      {"LR5vEp", "[LR-5V] Presence of tumor in vein."},
      {"LRmEp",
       "[LR-M] Observation with one or more imaging features that favor non-LR malignancy"},
      {"LRtreatedEp", "[LR-Treated] An observation that has undergone loco-regional treatment."},
      {"LR4_5",
       "[LR-4/LR-5] Refers to a cell in the LI-RADS table where observations may be "
       "considered LR-4, LR-5us, or LR-5g"},
  };
  return *text;
}

std::vector<Case> Cases() {
  std::vector<Case> cases = {
      {"treated", {"ObservationCharacter=treatedObservation"}, "LRtreatedEp", ""},
      {"definitely benign", {"ObservationCharacter=definitelyBenign"}, "LR1Ep", ""},
      {"probably benign", {"ObservationCharacter=probablyBenign"}, "LR2Ep", ""},
      {"malignant, not LR", {"ObservationCharacter=notspecificforLR"}, "LRmEp", ""},
      {"tumor in vein", {"ObservationCharacter=tumorInVein"}, "LR5vEp", ""},
      {"hyper, <10 mm, no feature", Observation("hyperEnhancing", "8", "no", "no", "no"), "LR3Ep",
       ""},
      {"hyper, <10 mm, one feature", Observation("hyperEnhancing", "8", "yes", "no", "no"), "LR4Ep",
       ""},
      {"hyper, <10 mm, two features", Observation("hyperEnhancing", "8", "yes", "yes", "no"),
       "LR4Ep", ""},
      {"hyper, 10-19 mm, no feature", Observation("hyperEnhancing", "10", "no", "no", "no"),
       "LR3Ep", ""},
      {"hyper, 10-19 mm, one feature", Observation("hyperEnhancing", "15", "no", "yes", "no"),
       "LR4_5", ""},
      {"hyper, 10-19 mm, two features", Observation("hyperEnhancing", "19", "no", "yes", "yes"),
       "LR5Ep", ""},
      {"hyper, >=20 mm, no feature", Observation("hyperEnhancing", "20", "no", "no", "no"), "LR4Ep",
       ""},
      {"hyper, >=20 mm, one feature", Observation("hyperEnhancing", "30", "no", "no", "yes"),
       "LR5Ep", ""},
      {"hyper, >=20 mm, three features", Observation("hyperEnhancing", "30", "yes", "yes", "yes"),
       "LR5Ep", ""},
      {"hypo, <20 mm, no feature", Observation("hypoEnhancing", "12", "no", "no", "no"), "LR3Ep",
       ""},
      {"iso, <20 mm, one feature", Observation("isoEnhancing", "12", "yes", "no", "no"), "LR3Ep",
       ""},
      {"hypo, <20 mm, two features", Observation("hypoEnhancing", "12", "yes", "no", "yes"),
       "LR4Ep", ""},
      {"iso, >=20 mm, no feature", Observation("isoEnhancing", "25", "no", "no", "no"), "LR3Ep",
       ""},
      {"hypo, >=20 mm, one feature", Observation("hypoEnhancing", "25", "no", "yes", "no"), "LR4Ep",
       ""},
      {"iso, >=20 mm, three features", Observation("isoEnhancing", "25", "yes", "yes", "yes"),
       "LR4Ep", ""},
  };
  for (Case& c : cases) c.findings = ExpectedText().at(c.end_point);
  return cases;
}

TEST_CASE("Sample module: parses with its parts") {
  const Module& module = SampleModule();
  CHECK(module.metadata.id == "Hello_Assist_1_0");
  CHECK(module.metadata.schema_version == "2.0");
  CHECK(module.global_values.size() == 2);
  CHECK(module.data_elements.size() == 6);
  CHECK(module.end_points.size() == 9);
  CHECK(module.rules.id == "ObservationDp");
  CHECK(module.rules.branches.size() == 20);
}

TEST_CASE("Sample module: each case gives its end point and text") {
  for (const Case& c : Cases()) {
    INFO(c.name);
    absl::StatusOr<Report> report = Run(c.assignments);
    REQUIRE(report.ok());
    CHECK(report->end_point_id == c.end_point);
    REQUIRE(report->sections.size() == 1);
    CHECK(report->sections[0].section_id == "findings");
    CHECK(report->sections[0].text == c.findings);
    CHECK(report->Text() == c.findings);
  }
}

TEST_CASE("Sample module: cases reach every end point") {
  std::set<std::string> reached;
  for (const Case& c : Cases()) reached.insert(c.end_point);
  for (const EndPoint& end_point : SampleModule().end_points) {
    INFO(end_point.id);
    CHECK(reached.count(end_point.id) == 1);
    CHECK(ExpectedText().count(end_point.id) == 1);
  }
}

TEST_CASE("Sample module: every whole-number input reaches an end point") {
  // All combinations of the choices with diameters on both sides of each threshold.
  const DataElement* character = SampleModule().FindDataElement("ObservationCharacter");
  REQUIRE(character != nullptr);
  std::set<std::string> reached;
  int evaluated = 0;
  for (const Choice& observation : character->choices) {
    if (observation.value != "notDefProbBenign") {
      absl::StatusOr<Report> report = Run({"ObservationCharacter=" + observation.value});
      REQUIRE(report.ok());
      reached.insert(report->end_point_id);
      ++evaluated;
      continue;
    }
    for (const char* enhancement : {"hypoEnhancing", "isoEnhancing", "hyperEnhancing"}) {
      for (const char* diameter : {"1", "9", "10", "19", "20", "100"}) {
        for (int features = 0; features < 8; ++features) {
          auto yes_no = [&](int bit) { return (features >> bit & 1) != 0 ? "yes" : "no"; };
          std::vector<std::string> input =
              Observation(enhancement, diameter, yes_no(0), yes_no(1), yes_no(2));
          INFO(absl::StrJoin(input, " "));
          absl::StatusOr<Report> report = Run(input);
          REQUIRE(report.ok());
          CHECK(ExpectedText().at(report->end_point_id) == report->Text());
          reached.insert(report->end_point_id);
          ++evaluated;
        }
      }
    }
  }
  CHECK(evaluated == 5 + 3 * 6 * 8);
  CHECK(reached.size() == SampleModule().end_points.size());
}

TEST_CASE("Sample module: gap between 19 and 20 mm is reported") {
  // The module's hyper-enhancing rules cover up to 19 mm and from 20 mm, not 19.5 mm.
  absl::StatusOr<Report> report = Run(Observation("hyperEnhancing", "19.5", "no", "no", "no"));
  REQUIRE_FALSE(report.ok());
  INFO(report.status().message());
  CHECK(report.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(GetErrorReason(report.status()) == "ASSIST_NO_MATCHING_RULE");
  CHECK(std::string(report.status().message()).find("ObservationDp") != std::string::npos);
  CHECK(std::string(report.status().message()).find("diameter=19.5") != std::string::npos);
}

TEST_CASE("Sample module: missing relevant values are named") {
  absl::StatusOr<Report> report =
      Run({"ObservationCharacter=notDefProbBenign", "ArterialEnhancement=hypoEnhancing"});
  REQUIRE_FALSE(report.ok());
  std::string message(report.status().message());
  INFO(message);
  CHECK(report.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(report.status()) == "ASSIST_VALUE_MISSING");
  for (const char* id : {"diameter", "washout", "capsule", "thresholdgrowth"}) {
    CHECK(message.find(id) != std::string::npos);
  }
  CHECK(message.find("ArterialEnhancement") == std::string::npos);
}

TEST_CASE("Sample module: values of irrelevant elements are ignored") {
  // For a benign observation the other findings are not relevant, so they do not count.
  absl::StatusOr<Report> report =
      Run({"ObservationCharacter=definitelyBenign", "ArterialEnhancement=hyperEnhancing",
           "diameter=30", "washout=yes"});
  REQUIRE(report.ok());
  CHECK(report->end_point_id == "LR1Ep");
}

TEST_CASE("Sample module: path names the branch taken") {
  absl::StatusOr<Report> report = Run(Observation("hyperEnhancing", "15", "no", "yes", "no"));
  REQUIRE(report.ok());
  REQUIRE(report->path.size() == 1);
  CHECK(report->path[0] == "Hyper-enhancement (Washout/Capsule/Thresholdgrowth)");
}

TEST_CASE("Sample module: truncated copies are rejected") {
  std::ifstream file(testing::SharedDataDir() + "/assist/Hello_Assist2.0.xml");
  std::stringstream content;
  content << file.rdbuf();
  const std::string xml = content.str();
  REQUIRE(xml.size() > 40000);
  for (size_t length = 0; length < xml.rfind("</ReportingModule>"); length += 97) {
    absl::StatusOr<Module> module = ParseModule(xml.substr(0, length), "cut.xml");
    INFO("length " << length);
    REQUIRE_FALSE(module.ok());
    CHECK(GetErrorReason(module.status()) == "ASSIST_MODULE_INVALID");
  }
}

}  // namespace
}  // namespace ailab::assist
