// Checks libs/metrics against scikit-learn: sklearn_reference.json holds the values
// that tests/metrics/make_reference.py computed with scikit-learn (and a NumPy DeLong
// variance), and every case is recomputed here. The 10^6-row cases are rebuilt from
// the same splitmix64 formula as the script's generate_rows.
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ailab/metrics/classification.h"
#include "ailab/metrics/intervals.h"
#include "catch2/catch.hpp"
#include "fixtures.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace {

using ::google::protobuf::ListValue;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;
namespace metrics = ::ailab::metrics;

// Relative and absolute tolerance: both sides compute in double precision, in
// different orders of summation.
constexpr double kTolerance = 1e-12;

const Struct& ReferenceFile() {
  static const Struct* reference = [] {
    const std::string path =
        ailab::testing::SourceDir() + "/tests/metrics/sklearn_reference.json";
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    auto* parsed = new Struct;
    const auto status = google::protobuf::util::JsonStringToMessage(text.str(), parsed);
    INFO("reading " << path << ": " << status.ToString());
    REQUIRE(status.ok());
    return parsed;
  }();
  return *reference;
}

std::vector<const Struct*> Cases(int num_classes, bool generated) {
  std::vector<const Struct*> cases;
  for (const Value& value : ReferenceFile().fields().at("cases").list_value().values()) {
    const Struct& one = value.struct_value();
    if (static_cast<int>(one.fields().at("num_classes").number_value()) != num_classes) continue;
    if ((one.fields().count("generator") > 0) != generated) continue;
    cases.push_back(&one);
  }
  return cases;
}

const Value& Field(const Struct& object, const std::string& key) {
  INFO("key " << key);
  REQUIRE(object.fields().count(key) > 0);
  return object.fields().at(key);
}

std::vector<double> Numbers(const ListValue& list) {
  std::vector<double> numbers;
  for (const Value& value : list.values()) numbers.push_back(value.number_value());
  return numbers;
}

std::vector<int> Labels(const ListValue& list) {
  std::vector<int> labels;
  for (const Value& value : list.values()) labels.push_back(static_cast<int>(value.number_value()));
  return labels;
}

// Checks `actual` against an expected number, where JSON null stands for NaN.
void CheckValue(const Struct& expected, const std::string& key, double actual) {
  const Value& value = Field(expected, key);
  INFO(key << ": expected " << value.ShortDebugString() << ", actual " << actual);
  if (value.has_null_value()) {
    CHECK(std::isnan(actual));
  } else {
    CHECK(actual == Approx(value.number_value()).epsilon(kTolerance).margin(kTolerance));
  }
}

void CheckConfusion(const Struct& expected, const metrics::ConfusionMatrix& cm) {
  const auto& rows = Field(expected, "confusion_matrix").list_value().values();
  REQUIRE(static_cast<int>(rows.size()) == cm.num_classes);
  for (int t = 0; t < cm.num_classes; ++t) {
    const auto& row = rows[t].list_value().values();
    for (int p = 0; p < cm.num_classes; ++p) {
      INFO("confusion matrix cell " << t << "," << p);
      CHECK(cm.at(t, p) == static_cast<int64_t>(row[p].number_value()));
    }
  }
}

void CheckAgreement(const Struct& expected, const metrics::ConfusionMatrix& cm) {
  CheckConfusion(expected, cm);
  CheckValue(expected, "kappa", metrics::CohenKappa(cm, metrics::Weighting::kNone));
  CheckValue(expected, "linear_kappa", metrics::CohenKappa(cm, metrics::Weighting::kLinear));
  CheckValue(expected, "quadratic_kappa",
             metrics::CohenKappa(cm, metrics::Weighting::kQuadratic));
  CheckValue(expected, "accuracy", metrics::Accuracy(cm));
}

void CheckRoc(const Struct& expected_roc, const std::vector<metrics::RocPoint>& roc) {
  const std::vector<double> fpr = Numbers(Field(expected_roc, "fpr").list_value());
  const std::vector<double> tpr = Numbers(Field(expected_roc, "tpr").list_value());
  const std::vector<double> thresholds = Numbers(Field(expected_roc, "thresholds").list_value());
  REQUIRE(roc.size() == fpr.size());
  REQUIRE(thresholds.size() + 1 == fpr.size());
  for (size_t i = 0; i < roc.size(); ++i) {
    INFO("ROC point " << i);
    CHECK(roc[i].fpr == Approx(fpr[i]).epsilon(kTolerance).margin(kTolerance));
    CHECK(roc[i].tpr == Approx(tpr[i]).epsilon(kTolerance).margin(kTolerance));
    // scikit-learn 1.2 writes max + 1 as the first threshold where libs/metrics writes
    // +infinity, so the first one is skipped.
    if (i > 0) CHECK(roc[i].threshold == thresholds[i - 1]);
  }
}

uint64_t SplitMix64(uint64_t seed, uint64_t index) {
  uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The rows of make_reference.py's generate_rows(kind, seed, rows).
struct GeneratedRows {
  std::vector<int> truth;
  std::vector<double> scores;         // binary: the positive class's score
  std::vector<double> probabilities;  // four_class: rows x 4, row-major
};

GeneratedRows GenerateRows(const std::string& kind, uint64_t seed, size_t rows) {
  auto h = [seed](int j, size_t i) { return SplitMix64(seed * 16 + j, i); };
  GeneratedRows out;
  out.truth.resize(rows);
  if (kind == "binary") {
    out.scores.resize(rows);
    for (size_t i = 0; i < rows; ++i) {
      out.truth[i] = static_cast<int>(h(1, i) & 1);
      out.scores[i] = static_cast<double>(static_cast<int64_t>(h(2, i) % 1000) +
                                          300 * out.truth[i]) /
                      1300.0;
    }
    return out;
  }
  out.probabilities.resize(rows * 4);
  for (size_t i = 0; i < rows; ++i) {
    out.truth[i] = static_cast<int>(h(1, i) % 4);
    int64_t units[4];
    int64_t sum = 0;
    for (int c = 0; c < 4; ++c) {
      units[c] = static_cast<int64_t>(h(c + 2, i) % 16) + 8 * (out.truth[i] == c) + 1;
      sum += units[c];
    }
    for (int c = 0; c < 4; ++c) {
      out.probabilities[i * 4 + c] = static_cast<double>(units[c]) / static_cast<double>(sum);
    }
  }
  return out;
}

void CheckBinary(const Struct& one, const std::vector<int>& truth,
                 const std::vector<double>& scores) {
  const Struct& expected = Field(one, "expected").struct_value();
  const double threshold = Field(one, "threshold").number_value();
  std::vector<int> predicted(truth.size());
  for (size_t i = 0; i < truth.size(); ++i) predicted[i] = scores[i] >= threshold ? 1 : 0;
  auto cm = metrics::Confusion(truth, predicted, 2);
  REQUIRE(cm.ok());
  CheckAgreement(expected, *cm);
  auto fused = metrics::ConfusionAtThreshold(truth, scores, threshold);
  REQUIRE(fused.ok());
  CheckConfusion(expected, *fused);

  auto at = metrics::SensitivitySpecificity(truth, scores, threshold);
  REQUIRE(at.ok());
  CheckValue(expected, "sensitivity", at->sensitivity);
  CheckValue(expected, "specificity", at->specificity);
  CheckValue(expected, "ppv", at->ppv);
  CheckValue(expected, "npv", at->npv);
  CheckValue(expected, "f1", at->f1);

  auto auc = metrics::BinaryAuc(truth, scores);
  if (Field(expected, "auc").has_null_value()) {
    // scikit-learn raises ValueError when one class is absent.
    CHECK(auc.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(metrics::RocCurve(truth, scores).status().code() ==
          absl::StatusCode::kFailedPrecondition);
    return;
  }
  REQUIRE(auc.ok());
  CheckValue(expected, "auc", *auc);

  auto roc = metrics::RocCurve(truth, scores);
  REQUIRE(roc.ok());
  auto roc_drop = metrics::RocCurve(truth, scores, /*drop_intermediate=*/true);
  REQUIRE(roc_drop.ok());
  if (expected.fields().count("roc") > 0) {
    CheckRoc(Field(expected, "roc").struct_value(), *roc);
    CheckRoc(Field(expected, "roc_drop").struct_value(), *roc_drop);
  } else {
    CHECK(roc->size() == static_cast<size_t>(Field(expected, "roc_points").number_value()));
    CHECK(roc_drop->size() ==
          static_cast<size_t>(Field(expected, "roc_drop_points").number_value()));
    const Struct& sample = Field(expected, "roc_sample").struct_value();
    const size_t step = static_cast<size_t>(Field(sample, "step").number_value());
    const std::vector<double> fpr = Numbers(Field(sample, "fpr").list_value());
    const std::vector<double> tpr = Numbers(Field(sample, "tpr").list_value());
    for (size_t s = 0; s < fpr.size(); ++s) {
      INFO("ROC point " << s * step);
      REQUIRE(s * step < roc->size());
      CHECK((*roc)[s * step].fpr == Approx(fpr[s]).epsilon(kTolerance).margin(kTolerance));
      CHECK((*roc)[s * step].tpr == Approx(tpr[s]).epsilon(kTolerance).margin(kTolerance));
    }
  }

  if (expected.fields().count("delong") > 0) {
    const Value& delong = Field(expected, "delong");
    auto interval = metrics::AucDeLongInterval(truth, scores, 0.95);
    REQUIRE(interval.ok());
    if (delong.has_null_value()) {
      CHECK(std::isnan(interval->variance));
    } else {
      const Struct& values = delong.struct_value();
      CheckValue(values, "auc", interval->auc);
      CheckValue(values, "variance", interval->variance);
      CheckValue(values, "lower", interval->interval.lower);
      CheckValue(values, "upper", interval->interval.upper);
    }
  }
}

void CheckMulticlass(const Struct& one, const std::vector<int>& truth,
                     const std::vector<double>& probabilities) {
  const Struct& expected = Field(one, "expected").struct_value();
  const int k = static_cast<int>(Field(one, "num_classes").number_value());
  auto predicted = metrics::Argmax(probabilities, k);
  REQUIRE(predicted.ok());
  auto cm = metrics::Confusion(truth, *predicted, k);
  REQUIRE(cm.ok());
  CheckAgreement(expected, *cm);
  auto fused = metrics::ConfusionOfArgmax(truth, probabilities, k);
  REQUIRE(fused.ok());
  CheckConfusion(expected, *fused);

  auto macro = metrics::OneVsRestAuc(truth, probabilities, k, metrics::AucAverage::kMacro);
  auto weighted = metrics::OneVsRestAuc(truth, probabilities, k, metrics::AucAverage::kWeighted);
  if (Field(expected, "auc_macro").has_null_value()) {
    CHECK(macro.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(weighted.status().code() == absl::StatusCode::kFailedPrecondition);
    return;
  }
  REQUIRE(macro.ok());
  REQUIRE(weighted.ok());
  CheckValue(expected, "auc_macro", *macro);
  CheckValue(expected, "auc_weighted", *weighted);
  auto per_class = metrics::OneVsRestAucPerClass(truth, probabilities, k);
  REQUIRE(per_class.ok());
  const std::vector<double> expected_per_class =
      Numbers(Field(expected, "auc_per_class").list_value());
  REQUIRE(per_class->size() == expected_per_class.size());
  for (size_t c = 0; c < expected_per_class.size(); ++c) {
    INFO("class " << c);
    CHECK((*per_class)[c] == Approx(expected_per_class[c]).epsilon(kTolerance));
  }
}

TEST_CASE("sklearn reference: file matches the script's cases") {
  const Struct& reference = ReferenceFile();
  CHECK(Field(reference, "generated_by").string_value() == "tests/metrics/make_reference.py");
  CHECK(Cases(2, false).size() >= 6);
  CHECK(Cases(4, false).size() >= 4);
  CHECK(Cases(2, true).size() == 1);
  CHECK(Cases(4, true).size() == 1);
}

TEST_CASE("sklearn reference: binary cases") {
  for (const Struct* one : Cases(2, false)) {
    INFO("case " << Field(*one, "name").string_value());
    CheckBinary(*one, Labels(Field(*one, "truth").list_value()),
                Numbers(Field(*one, "scores").list_value()));
  }
}

TEST_CASE("sklearn reference: four-class cases") {
  for (const Struct* one : Cases(4, false)) {
    INFO("case " << Field(*one, "name").string_value());
    std::vector<double> probabilities;
    for (const Value& row : Field(*one, "probabilities").list_value().values()) {
      for (double p : Numbers(row.list_value())) probabilities.push_back(p);
    }
    CheckMulticlass(*one, Labels(Field(*one, "truth").list_value()), probabilities);
  }
}

TEST_CASE("sklearn reference: a million rows") {
  for (int k : {2, 4}) {
    for (const Struct* one : Cases(k, true)) {
      INFO("case " << Field(*one, "name").string_value());
      const Struct& generator = Field(*one, "generator").struct_value();
      const GeneratedRows rows =
          GenerateRows(Field(generator, "kind").string_value(),
                       static_cast<uint64_t>(Field(generator, "seed").number_value()),
                       static_cast<size_t>(Field(generator, "rows").number_value()));
      if (k == 2) {
        CheckBinary(*one, rows.truth, rows.scores);
      } else {
        CheckMulticlass(*one, rows.truth, rows.probabilities);
      }
    }
  }
}

}  // namespace
