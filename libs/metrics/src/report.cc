#include "ailab/metrics/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ailab/metrics/classification.h"
#include "ailab/metrics/intervals.h"
#include "ailab/status/status.h"
#include "src/text_format.h"

namespace ailab::metrics {
namespace {

using internal::JsonInterval;
using internal::JsonNumber;
using internal::JsonQuoted;

absl::Status CsvError(size_t line, absl::string_view column, absl::string_view problem) {
  return internal::CsvError("", line, column, problem);
}

// The "confidence_intervals" object of the report: bootstrap intervals of the
// agreement and threshold figures, and DeLong and bootstrap intervals of the AUC of
// the positive class.
absl::StatusOr<std::string> IntervalsJson(const ConfusionMatrix& matrix,
                                          const std::vector<int>& is_positive,
                                          const std::vector<double>& scores,
                                          const ReportOptions& options) {
  BootstrapOptions bootstrap;
  bootstrap.replicates = options.replicates;
  bootstrap.confidence = options.confidence;
  bootstrap.seed = options.seed;
  AILAB_ASSIGN_OR_RETURN(
      std::vector<Interval> agreement,
      ConfusionBootstrapIntervals(
          matrix,
          {[](const ConfusionMatrix& m) { return CohenKappa(m, Weighting::kNone); },
           [](const ConfusionMatrix& m) { return CohenKappa(m, Weighting::kLinear); },
           [](const ConfusionMatrix& m) { return CohenKappa(m, Weighting::kQuadratic); },
           [](const ConfusionMatrix& m) { return Accuracy(m); }},
          bootstrap));
  AILAB_ASSIGN_OR_RETURN(ThresholdIntervals at, ThresholdBootstrapIntervals(
                                                    is_positive, scores, options.threshold,
                                                    bootstrap));
  // Without both classes the AUC and its intervals are undefined, hence null.
  const Interval undefined{std::nan(""), std::nan("")};
  absl::StatusOr<AucWithInterval> delong =
      AucDeLongInterval(is_positive, scores, options.confidence);
  absl::StatusOr<Interval> auc_bootstrap = AucBootstrapInterval(is_positive, scores, bootstrap);

  std::string json = "{\n";
  absl::StrAppend(&json, "    \"confidence\": ", JsonNumber(options.confidence), ",\n");
  absl::StrAppend(&json, "    \"replicates\": ", options.replicates, ",\n");
  absl::StrAppend(&json, "    \"kappa\": ", JsonInterval(agreement[0]), ",\n");
  absl::StrAppend(&json, "    \"linear_kappa\": ", JsonInterval(agreement[1]), ",\n");
  absl::StrAppend(&json, "    \"quadratic_kappa\": ", JsonInterval(agreement[2]), ",\n");
  absl::StrAppend(&json, "    \"accuracy\": ", JsonInterval(agreement[3]), ",\n");
  absl::StrAppend(&json, "    \"auc_delong\": ",
                  JsonInterval(delong.ok() ? delong->interval : undefined), ",\n");
  absl::StrAppend(&json, "    \"auc_bootstrap\": ",
                  JsonInterval(auc_bootstrap.ok() ? *auc_bootstrap : undefined), ",\n");
  absl::StrAppend(&json, "    \"sensitivity\": ", JsonInterval(at.sensitivity), ",\n");
  absl::StrAppend(&json, "    \"specificity\": ", JsonInterval(at.specificity), ",\n");
  absl::StrAppend(&json, "    \"ppv\": ", JsonInterval(at.ppv), ",\n");
  absl::StrAppend(&json, "    \"npv\": ", JsonInterval(at.npv), ",\n");
  absl::StrAppend(&json, "    \"f1\": ", JsonInterval(at.f1), "\n");
  json += "  }";
  return json;
}

}  // namespace

absl::StatusOr<ClassificationTable> ParseClassificationCsv(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  ClassificationTable table;
  size_t header_line = 0;
  size_t columns = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::string_view line = absl::StripSuffix(lines[i], "\r");
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    std::vector<std::string> fields = internal::SplitCsvLine(line);

    // Header.
    if (header_line == 0) {
      header_line = i + 1;
      if (fields.size() < 1 || fields[0] != "id") {
        return CsvError(header_line, fields.empty() ? "" : fields[0],
                        "the first column must be \"id\"");
      }
      if (fields.size() < 2 || fields[1] != "truth") {
        return CsvError(header_line, fields.size() < 2 ? "" : fields[1],
                        "the second column must be \"truth\"");
      }
      if (fields.size() < 4) {
        return CsvError(header_line, "", "the header needs one probability column per class, "
                                         "at least two");
      }
      for (size_t c = 2; c < fields.size(); ++c) {
        if (fields[c].empty()) return CsvError(header_line, "", "a class column has no name");
        if (std::find(table.classes.begin(), table.classes.end(), fields[c]) != table.classes.end()) {
          return CsvError(header_line, fields[c], "the class appears twice");
        }
        table.classes.push_back(fields[c]);
      }
      columns = fields.size();
      continue;
    }

    // Data row.
    const size_t line_number = i + 1;
    if (fields.size() != columns) {
      return CsvError(line_number, "",
                      absl::StrCat("the row has ", fields.size(), " fields but the header has ",
                                   columns));
    }
    auto label = std::find(table.classes.begin(), table.classes.end(), fields[1]);
    if (label == table.classes.end()) {
      return CsvError(line_number, "truth",
                      absl::StrCat("label \"", fields[1], "\" is not one of the classes ",
                                   absl::StrJoin(table.classes, ", ")));
    }
    table.ids.push_back(fields[0]);
    table.truth.push_back(static_cast<int>(label - table.classes.begin()));
    for (size_t c = 2; c < columns; ++c) {
      double probability = 0;
      if (!absl::SimpleAtod(fields[c], &probability) || !std::isfinite(probability) ||
          probability < 0 || probability > 1) {
        return CsvError(line_number, table.classes[c - 2],
                        absl::StrCat("\"", fields[c], "\" is not a probability in [0, 1]"));
      }
      table.probabilities.push_back(probability);
    }
  }
  if (header_line == 0) {
    return InvalidArgument("EMPTY_CSV", "input",
                           "the CSV is empty; it needs a header id,truth,<class>,... and rows");
  }
  if (table.truth.empty()) {
    return CsvError(header_line, "", "the CSV has a header but no rows");
  }
  return table;
}

absl::StatusOr<std::string> ClassificationReportJson(const ClassificationTable& table,
                                                     const ReportOptions& options) {
  const int k = static_cast<int>(table.classes.size());
  if (!(options.threshold >= 0 && options.threshold <= 1)) {
    const std::string threshold = absl::StrCat(options.threshold);
    return InvalidArgument("INVALID_THRESHOLD", "threshold",
                           absl::StrCat("threshold ", options.threshold,
                                        " is outside [0, 1]; pass a probability such as 0.5"),
                           {{"threshold", threshold}});
  }
  int positive = k >= 2 ? 1 : 0;
  if (!options.positive.empty()) {
    auto it = std::find(table.classes.begin(), table.classes.end(), options.positive);
    if (it == table.classes.end()) {
      return InvalidArgument("UNKNOWN_CLASS", "positive",
                             absl::StrCat("positive class \"", options.positive,
                                          "\" is not one of ", absl::StrJoin(table.classes, ", ")),
                             {{"positive", options.positive}});
    }
    positive = static_cast<int>(it - table.classes.begin());
  }

  // Figures of the positive class against the rest.
  const size_t n = table.truth.size();
  std::vector<int> is_positive(n);
  std::vector<double> scores(n);
  for (size_t i = 0; i < n; ++i) {
    is_positive[i] = table.truth[i] == positive ? 1 : 0;
    scores[i] = table.probabilities[i * k + positive];
  }

  // Predicted classes: with two classes the positive one when its probability reaches
  // the threshold, else the most probable class.
  std::vector<int> predicted(n);
  if (k == 2) {
    for (size_t i = 0; i < n; ++i) {
      predicted[i] = scores[i] >= options.threshold ? positive : 1 - positive;
    }
  } else {
    AILAB_ASSIGN_OR_RETURN(predicted, Argmax(table.probabilities, k));
  }
  AILAB_ASSIGN_OR_RETURN(ConfusionMatrix matrix, Confusion(table.truth, predicted, k));

  absl::StatusOr<double> auc = k == 2 ? BinaryAuc(is_positive, scores)
                                      : OneVsRestAuc(table.truth, table.probabilities, k);
  absl::StatusOr<double> auc_weighted =
      OneVsRestAuc(table.truth, table.probabilities, k, AucAverage::kWeighted);
  absl::StatusOr<std::vector<RocPoint>> roc = RocCurve(is_positive, scores);
  AILAB_ASSIGN_OR_RETURN(ThresholdMetrics at, SensitivitySpecificity(is_positive, scores,
                                                                    options.threshold));

  std::vector<std::string> classes;
  for (const std::string& name : table.classes) classes.push_back(JsonQuoted(name));
  std::vector<std::string> rows;
  for (int t = 0; t < k; ++t) {
    std::vector<int64_t> row(matrix.counts.begin() + t * k, matrix.counts.begin() + (t + 1) * k);
    rows.push_back(absl::StrCat("[", absl::StrJoin(row, ", "), "]"));
  }
  std::vector<std::string> points;
  if (roc.ok()) {
    for (const RocPoint& point : *roc) {
      points.push_back(absl::StrCat("{\"fpr\": ", JsonNumber(point.fpr), ", \"tpr\": ",
                                    JsonNumber(point.tpr),
                                    ", \"threshold\": ", JsonNumber(point.threshold), "}"));
    }
  }
  std::string json = "{\n";
  absl::StrAppend(&json, "  \"n\": ", n, ",\n");
  absl::StrAppend(&json, "  \"classes\": [", absl::StrJoin(classes, ", "), "],\n");
  absl::StrAppend(&json, "  \"confusion_matrix\": [", absl::StrJoin(rows, ", "), "],\n");
  absl::StrAppend(&json, "  \"kappa\": ", JsonNumber(CohenKappa(matrix, Weighting::kNone)),
                  ",\n");
  absl::StrAppend(&json, "  \"linear_kappa\": ",
                  JsonNumber(CohenKappa(matrix, Weighting::kLinear)), ",\n");
  absl::StrAppend(&json, "  \"quadratic_kappa\": ",
                  JsonNumber(CohenKappa(matrix, Weighting::kQuadratic)), ",\n");
  absl::StrAppend(&json, "  \"accuracy\": ", JsonNumber(Accuracy(matrix)), ",\n");
  absl::StrAppend(&json, "  \"auc\": ", auc.ok() ? JsonNumber(*auc) : "null", ",\n");
  absl::StrAppend(&json, "  \"auc_weighted\": ",
                  auc_weighted.ok() ? JsonNumber(*auc_weighted) : "null", ",\n");
  absl::StrAppend(&json, "  \"roc\": [", absl::StrJoin(points, ", "), "],\n");
  absl::StrAppend(&json, "  \"positive\": ", JsonQuoted(table.classes[positive]), ",\n");
  absl::StrAppend(&json, "  \"threshold\": ", JsonNumber(options.threshold), ",\n");
  absl::StrAppend(&json, "  \"sensitivity\": ", JsonNumber(at.sensitivity), ",\n");
  absl::StrAppend(&json, "  \"specificity\": ", JsonNumber(at.specificity), ",\n");
  absl::StrAppend(&json, "  \"ppv\": ", JsonNumber(at.ppv), ",\n");
  absl::StrAppend(&json, "  \"npv\": ", JsonNumber(at.npv), ",\n");
  absl::StrAppend(&json, "  \"f1\": ", JsonNumber(at.f1));
  if (options.replicates > 0) {
    AILAB_ASSIGN_OR_RETURN(std::string intervals,
                           IntervalsJson(matrix, is_positive, scores, options));
    absl::StrAppend(&json, ",\n  \"confidence_intervals\": ", intervals);
  }
  json += "\n}\n";
  return json;
}

}  // namespace ailab::metrics
