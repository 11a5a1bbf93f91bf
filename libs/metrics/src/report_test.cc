#include "ailab/metrics/report.h"

#include <string>

#include "absl/strings/match.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"

namespace ailab::metrics {
namespace {

constexpr char kBinaryCsv[] =
    "id,truth,neg,pos\n"
    "a,neg,0.9,0.1\n"
    "b,neg,0.6,0.4\n"
    "c,pos,0.65,0.35\r\n"
    "\n"
    "\"d\", pos , 0.2, 0.8\n";

void CheckCsvError(absl::string_view csv, const std::string& text) {
  auto table = ParseClassificationCsv(csv);
  INFO("status: " << table.status().ToString());
  REQUIRE(table.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(table.status().message(), text));
}

TEST_CASE("ParseClassificationCsv: reads classes and rows") {
  auto table = ParseClassificationCsv(kBinaryCsv);
  REQUIRE(table.ok());
  CHECK(table->classes == std::vector<std::string>{"neg", "pos"});
  CHECK(table->ids == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(table->truth == std::vector<int>{0, 0, 1, 1});
  REQUIRE(table->probabilities.size() == 8);
  CHECK(table->probabilities[7] == Approx(0.8));
}

TEST_CASE("ParseClassificationCsv: errors name line and column") {
  CheckCsvError("", "empty");
  CheckCsvError("\n\n", "empty");
  CheckCsvError("name,truth,a,b\n", "\"id\"");
  CheckCsvError("id,label,a,b\n", "\"truth\"");
  CheckCsvError("id,truth,a\nx,a,1\n", "at least two");
  CheckCsvError("id,truth,a,a\n", "appears twice");
  CheckCsvError("id,truth,a,b\n", "no rows");
  CheckCsvError("id,truth,a,b\nx,c,0.5,0.5\n", "line 2, column \"truth\": label \"c\"");
  CheckCsvError("id,truth,a,b\nx,a,0.5,high\n", "line 2, column \"b\": \"high\"");
  CheckCsvError("id,truth,a,b\nx,a,0.5,1.5\n", "\"1.5\" is not a probability");
  CheckCsvError("id,truth,a,b\nx,a,0.5,0.5\ny,b,0.5\n", "line 3");
}

TEST_CASE("ClassificationReportJson: binary figures") {
  auto table = ParseClassificationCsv(kBinaryCsv);
  REQUIRE(table.ok());
  ReportOptions options;
  options.threshold = 0.35;
  auto json = ClassificationReportJson(*table, options);
  REQUIRE(json.ok());
  INFO(*json);
  // The same rows as the BinaryAuc and SensitivitySpecificity unit tests.
  CHECK(absl::StrContains(*json, "\"n\": 4"));
  CHECK(absl::StrContains(*json, "\"classes\": [\"neg\", \"pos\"]"));
  CHECK(absl::StrContains(*json, "\"confusion_matrix\": [[2, 0], [1, 1]]"));
  CHECK(absl::StrContains(*json, "\"auc\": 0.75"));
  CHECK(absl::StrContains(*json, "\"accuracy\": 0.75"));
  CHECK(absl::StrContains(*json, "\"kappa\": 0.5"));
  CHECK(absl::StrContains(*json, "\"sensitivity\": 1,"));
  CHECK(absl::StrContains(*json, "\"specificity\": 0.5,"));
  CHECK(absl::StrContains(*json, "\"ppv\": 0.6666666667"));
  CHECK(absl::StrContains(*json, "\"npv\": 1,"));
  CHECK(absl::StrContains(*json, "{\"fpr\": 0, \"tpr\": 0, \"threshold\": null}"));
  CHECK(absl::StrContains(*json, "\"positive\": \"pos\""));
}

TEST_CASE("ClassificationReportJson: multiclass and options") {
  const char* csv =
      "id,truth,A,B,C\n"
      "1,A,0.7,0.2,0.1\n"
      "2,B,0.1,0.8,0.1\n"
      "3,C,0.1,0.3,0.6\n"
      "4,C,0.2,0.5,0.3\n";
  auto table = ParseClassificationCsv(csv);
  REQUIRE(table.ok());
  ReportOptions options;
  options.positive = "C";
  auto json = ClassificationReportJson(*table, options);
  REQUIRE(json.ok());
  INFO(*json);
  CHECK(absl::StrContains(*json, "\"confusion_matrix\": [[1, 0, 0], [0, 1, 0], [0, 1, 1]]"));
  CHECK(absl::StrContains(*json, "\"positive\": \"C\""));
  CHECK(absl::StrContains(*json, "\"accuracy\": 0.75"));

  options.positive = "Z";
  CHECK(ClassificationReportJson(*table, options).status().code() ==
        absl::StatusCode::kInvalidArgument);
  options.positive = "";
  options.threshold = 2;
  CHECK(ClassificationReportJson(*table, options).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ClassificationReportJson: undefined figures are null") {
  auto table = ParseClassificationCsv("id,truth,a,b\nx,a,0.9,0.1\ny,a,0.8,0.2\n");
  REQUIRE(table.ok());
  auto json = ClassificationReportJson(*table, ReportOptions());
  REQUIRE(json.ok());
  INFO(*json);
  CHECK(absl::StrContains(*json, "\"kappa\": null"));
  CHECK(absl::StrContains(*json, "\"auc\": null"));
  CHECK(absl::StrContains(*json, "\"sensitivity\": null"));
  CHECK(absl::StrContains(*json, "\"roc\": []"));
}

}  // namespace
}  // namespace ailab::metrics
