#include "ailab/metrics/classification.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "ailab/status/status.h"
#include "catch2/catch.hpp"

namespace ailab::metrics {
namespace {


constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// O(n^2) Mann-Whitney AUC straight from the definition.
double BruteForceAuc(const std::vector<int>& truth, const std::vector<double>& scores) {
  double wins = 0;
  double pairs = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] != 1) continue;
    for (size_t j = 0; j < truth.size(); ++j) {
      if (truth[j] != 0) continue;
      pairs += 1;
      if (scores[i] > scores[j]) wins += 1;
      if (scores[i] == scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

TEST_CASE("Confusion: counts truth rows by predicted columns") {
  const std::vector<int> truth = {0, 1, 2, 2, 2};
  const std::vector<int> predicted = {0, 2, 2, 1, 2};
  auto cm = Confusion(truth, predicted, 3);
  REQUIRE(cm.ok());
  CHECK(cm->num_classes == 3);
  CHECK(cm->counts == std::vector<int64_t>{1, 0, 0, 0, 0, 1, 0, 1, 2});
  CHECK(cm->at(2, 2) == 2);
  CHECK(cm->at(1, 2) == 1);
  CHECK(cm->total() == 5);
}

TEST_CASE("Confusion: rejects bad labels and sizes") {
  const std::vector<int> good = {0, 1};
  SECTION("truth label out of range") {
    const std::vector<int> truth = {0, 3};
    auto cm = Confusion(truth, good, 3);
    REQUIRE(cm.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(GetErrorReason(cm.status()) == "INVALID_LABEL");
    CHECK(cm.status().message().find("row 1") != absl::string_view::npos);
    CHECK(cm.status().message().find("3") != absl::string_view::npos);
  }
  SECTION("negative predicted label") {
    const std::vector<int> predicted = {0, -1};
    auto cm = Confusion(good, predicted, 2);
    REQUIRE(cm.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(cm.status().message().find("predicted label -1") != absl::string_view::npos);
  }
  SECTION("size mismatch") {
    const std::vector<int> predicted = {0};
    auto cm = Confusion(good, predicted, 2);
    REQUIRE(cm.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(GetErrorReason(cm.status()) == "SIZE_MISMATCH");
  }
  SECTION("no classes") {
    CHECK(Confusion(good, good, 0).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("ConfusionFromCounts: checks shape and signs") {
  CHECK(ConfusionFromCounts(2, {1, 2, 3, 4}).ok());
  CHECK(ConfusionFromCounts(2, {1, 2, 3}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ConfusionFromCounts(2, {1, -2, 3, 4}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("CohenKappa: binary textbook example") {
  // 50 rows, observed agreement 0.7, chance agreement 0.5: kappa = 0.2 / 0.5.
  auto cm = ConfusionFromCounts(2, {20, 5, 10, 15});
  REQUIRE(cm.ok());
  CHECK(CohenKappa(*cm, Weighting::kNone) == Approx(0.4));
  // With two classes every weighting is the same.
  CHECK(CohenKappa(*cm, Weighting::kLinear) == Approx(0.4));
  CHECK(CohenKappa(*cm, Weighting::kQuadratic) == Approx(0.4));
}

TEST_CASE("CohenKappa: weightings differ on three classes") {
  // Row and column totals are all 2 of 6, so every expected cell is 2/3.
  // Unweighted: 2 disagreements observed, 6 * 2/3 = 4 expected.
  // Linear: observed 2 + 2 = 4, expected 8 * 2/3. Quadratic: observed 4 + 4, expected 8.
  const std::vector<int> truth = {0, 0, 1, 1, 2, 2};
  const std::vector<int> predicted = {0, 2, 1, 1, 2, 0};
  auto cm = Confusion(truth, predicted, 3);
  REQUIRE(cm.ok());
  CHECK(CohenKappa(*cm, Weighting::kNone) == Approx(0.5));
  CHECK(CohenKappa(*cm, Weighting::kLinear) == Approx(0.25));
  CHECK(CohenKappa(*cm, Weighting::kQuadratic) == Approx(0.0).margin(1e-12));
}

// Appends `count` copies of `label` to `labels`.
void Repeat(std::vector<int>& labels, int label, int count) {
  labels.insert(labels.end(), count, label);
}

TEST_CASE("CohenKappa: agrees with scikit-learn's test values") {
  // Expected values from scikit-learn's test_cohen_kappa.
  std::vector<int> a;
  std::vector<int> b;
  Repeat(a, 0, 40);
  Repeat(a, 1, 60);
  Repeat(b, 0, 20);
  Repeat(b, 1, 20);
  Repeat(b, 0, 10);
  Repeat(b, 1, 50);
  auto binary = Confusion(a, b, 2);
  REQUIRE(binary.ok());
  CHECK(CohenKappa(*binary, Weighting::kNone) == Approx(0.348).margin(5e-4));

  std::vector<int> c;
  std::vector<int> d;
  std::vector<int> e;
  Repeat(c, 0, 46);
  Repeat(c, 1, 44);
  Repeat(c, 2, 10);
  Repeat(d, 0, 52);
  Repeat(d, 1, 32);
  Repeat(d, 2, 16);
  Repeat(e, 0, 50);
  Repeat(e, 1, 40);
  Repeat(e, 2, 10);
  auto first = Confusion(c, d, 3);
  REQUIRE(first.ok());
  CHECK(CohenKappa(*first, Weighting::kNone) == Approx(0.8013).margin(5e-5));
  auto second = Confusion(c, e, 3);
  REQUIRE(second.ok());
  CHECK(CohenKappa(*second, Weighting::kNone) == Approx(0.9315).margin(5e-5));
  CHECK(CohenKappa(*second, Weighting::kLinear) == Approx(0.9412).margin(5e-5));
  CHECK(CohenKappa(*second, Weighting::kQuadratic) == Approx(0.9541).margin(5e-5));
}

TEST_CASE("CohenKappa: perfect and degenerate agreement") {
  const std::vector<int> labels = {0, 1, 2, 3};
  auto perfect = Confusion(labels, labels, 4);
  REQUIRE(perfect.ok());
  CHECK(CohenKappa(*perfect, Weighting::kQuadratic) == Approx(1.0));

  // Both raters always choose class 0: no disagreement is expected, so kappa is NaN.
  const std::vector<int> zeros = {0, 0, 0};
  auto single = Confusion(zeros, zeros, 2);
  REQUIRE(single.ok());
  CHECK(std::isnan(CohenKappa(*single, Weighting::kNone)));

  auto empty = Confusion({}, {}, 3);
  REQUIRE(empty.ok());
  CHECK(std::isnan(CohenKappa(*empty, Weighting::kLinear)));
}

TEST_CASE("Accuracy: diagonal share") {
  auto cm = ConfusionFromCounts(2, {20, 5, 10, 15});
  REQUIRE(cm.ok());
  CHECK(Accuracy(*cm) == Approx(0.7));
  auto empty = Confusion({}, {}, 2);
  REQUIRE(empty.ok());
  CHECK(std::isnan(Accuracy(*empty)));
}

TEST_CASE("BinaryAuc: hand-computed values") {
  SECTION("no ties") {
    // Pairs (pos, neg): 0.35 beats 0.1 only, 0.8 beats both: 3 of 4.
    const std::vector<int> truth = {0, 0, 1, 1};
    const std::vector<double> scores = {0.1, 0.4, 0.35, 0.8};
    auto auc = BinaryAuc(truth, scores);
    REQUIRE(auc.ok());
    CHECK(*auc == Approx(0.75));
  }
  SECTION("tie counts one half") {
    // 0.5 vs 0.5 ties (0.5), the other three pairs are wins: 3.5 of 4.
    const std::vector<int> truth = {0, 1, 0, 1};
    const std::vector<double> scores = {0.5, 0.5, 0.2, 0.9};
    auto auc = BinaryAuc(truth, scores);
    REQUIRE(auc.ok());
    CHECK(*auc == Approx(0.875));
  }
  SECTION("constant scores give one half") {
    const std::vector<int> truth = {0, 1, 1, 0, 1};
    const std::vector<double> scores(5, 0.3);
    auto auc = BinaryAuc(truth, scores);
    REQUIRE(auc.ok());
    CHECK(*auc == Approx(0.5));
  }
  SECTION("inverted ranking gives zero") {
    const std::vector<int> truth = {1, 1, 0, 0};
    const std::vector<double> scores = {0.1, 0.2, 0.8, 0.9};
    auto auc = BinaryAuc(truth, scores);
    REQUIRE(auc.ok());
    CHECK(*auc == Approx(0.0));
  }
}

TEST_CASE("BinaryAuc: matches brute force with many ties") {
  std::mt19937 engine(7);
  std::uniform_int_distribution<int> label(0, 1);
  std::uniform_int_distribution<int> level(0, 20);
  std::vector<int> truth(3000);
  std::vector<double> scores(3000);
  for (size_t i = 0; i < truth.size(); ++i) {
    truth[i] = label(engine);
    // Scores on 21 levels, shifted up for positives, so ties are common.
    scores[i] = (level(engine) + 3 * truth[i]) / 23.0;
  }
  auto auc = BinaryAuc(truth, scores);
  REQUIRE(auc.ok());
  CHECK(*auc == Approx(BruteForceAuc(truth, scores)).epsilon(1e-12));
}

TEST_CASE("BinaryAuc: rejects bad input") {
  SECTION("one class absent") {
    const std::vector<int> truth = {1, 1, 1};
    const std::vector<double> scores = {0.1, 0.2, 0.3};
    auto auc = BinaryAuc(truth, scores);
    REQUIRE(auc.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(GetErrorReason(auc.status()) == "AUC_UNDEFINED");
  }
  SECTION("label not 0 or 1") {
    const std::vector<int> truth = {0, 2};
    const std::vector<double> scores = {0.1, 0.2};
    auto auc = BinaryAuc(truth, scores);
    REQUIRE(auc.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(auc.status().message().find("row 1") != absl::string_view::npos);
  }
  SECTION("NaN score") {
    const std::vector<int> truth = {0, 1};
    const std::vector<double> scores = {kNaN, 0.2};
    auto auc = BinaryAuc(truth, scores);
    REQUIRE(auc.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(GetErrorReason(auc.status()) == "INVALID_SCORE");
  }
  SECTION("size mismatch") {
    const std::vector<int> truth = {0, 1};
    const std::vector<double> scores = {0.2};
    CHECK(BinaryAuc(truth, scores).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("OneVsRestAuc: macro and prevalence-weighted") {
  // Class 0 (3 rows): 0.8 and 0.6 beat all 4 negatives, 0.4 beats 3 of them: 11/12.
  // Class 1 (2 rows): both beat all 5 negatives: 1.
  // Class 2 (2 rows): 0.7 beats all 5, 0.4 beats 4 (not 0.5): 9/10.
  const std::vector<int> truth = {0, 0, 1, 1, 2, 2, 0};
  const std::vector<double> probabilities = {
      0.8, 0.1, 0.1,  //
      0.6, 0.2, 0.2,  //
      0.3, 0.4, 0.5,  //
      0.2, 0.7, 0.1,  //
      0.1, 0.2, 0.7,  //
      0.5, 0.1, 0.4,  //
      0.4, 0.3, 0.3,  //
  };
  auto per_class = OneVsRestAucPerClass(truth, probabilities, 3);
  REQUIRE(per_class.ok());
  REQUIRE(per_class->size() == 3);
  CHECK((*per_class)[0] == Approx(11.0 / 12.0));
  CHECK((*per_class)[1] == Approx(1.0));
  CHECK((*per_class)[2] == Approx(0.9));

  auto macro = OneVsRestAuc(truth, probabilities, 3, AucAverage::kMacro);
  REQUIRE(macro.ok());
  CHECK(*macro == Approx((11.0 / 12.0 + 1.0 + 0.9) / 3.0));

  auto weighted = OneVsRestAuc(truth, probabilities, 3, AucAverage::kWeighted);
  REQUIRE(weighted.ok());
  CHECK(*weighted == Approx(3.0 / 7.0 * 11.0 / 12.0 + 2.0 / 7.0 * 1.0 + 2.0 / 7.0 * 0.9));
}

TEST_CASE("OneVsRestAuc: two classes equal binary AUC") {
  const std::vector<int> truth = {0, 0, 1, 1};
  const std::vector<double> probabilities = {0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8};
  auto ovr = OneVsRestAuc(truth, probabilities, 2);
  REQUIRE(ovr.ok());
  const std::vector<double> column1 = {0.1, 0.4, 0.35, 0.8};
  auto binary = BinaryAuc(truth, column1);
  REQUIRE(binary.ok());
  CHECK(*ovr == Approx(*binary));
}

TEST_CASE("OneVsRestAuc: rejects absent class and bad shapes") {
  const std::vector<int> truth = {0, 0, 1, 1};
  const std::vector<double> probabilities(12, 1.0 / 3.0);
  auto absent = OneVsRestAuc(truth, probabilities, 3);
  REQUIRE(absent.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absent.status().message().find("class 2") != absl::string_view::npos);

  const std::vector<double> short_probabilities(11, 0.5);
  CHECK(OneVsRestAuc(truth, short_probabilities, 3).status().code() ==
        absl::StatusCode::kInvalidArgument);
  const std::vector<int> bad_truth = {0, 5, 1, 2};
  CHECK(OneVsRestAuc(bad_truth, probabilities, 3).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("RocCurve: one point per distinct score") {
  const std::vector<int> truth = {0, 0, 1, 1};
  const std::vector<double> scores = {0.1, 0.4, 0.35, 0.8};
  auto roc = RocCurve(truth, scores);
  REQUIRE(roc.ok());
  const std::vector<RocPoint> expected = {
      {0.0, 0.0, kInf}, {0.0, 0.5, 0.8}, {0.5, 0.5, 0.4}, {0.5, 1.0, 0.35}, {1.0, 1.0, 0.1}};
  REQUIRE(roc->size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("point " << i);
    CHECK((*roc)[i].fpr == Approx(expected[i].fpr));
    CHECK((*roc)[i].tpr == Approx(expected[i].tpr));
    CHECK((*roc)[i].threshold == expected[i].threshold);
  }
}

TEST_CASE("RocCurve: tied scores share one point") {
  const std::vector<int> truth = {0, 1, 0, 1};
  const std::vector<double> scores = {0.5, 0.5, 0.2, 0.9};
  auto roc = RocCurve(truth, scores);
  REQUIRE(roc.ok());
  REQUIRE(roc->size() == 4);
  CHECK((*roc)[2].threshold == 0.5);
  CHECK((*roc)[2].fpr == Approx(0.5));
  CHECK((*roc)[2].tpr == Approx(1.0));
}

TEST_CASE("RocCurve: drop_intermediate keeps only bends") {
  // Cumulative TP 1, 2, 3, 3 and FP 0, 0, 0, 1: the point at 0.8 is on a straight line.
  const std::vector<int> truth = {1, 1, 1, 0};
  const std::vector<double> scores = {0.9, 0.8, 0.7, 0.1};
  auto roc = RocCurve(truth, scores, /*drop_intermediate=*/true);
  REQUIRE(roc.ok());
  REQUIRE(roc->size() == 4);
  CHECK((*roc)[1].threshold == 0.9);
  CHECK((*roc)[1].tpr == Approx(1.0 / 3.0));
  CHECK((*roc)[2].threshold == 0.7);
  CHECK((*roc)[3].threshold == 0.1);
  auto full = RocCurve(truth, scores, /*drop_intermediate=*/false);
  REQUIRE(full.ok());
  CHECK(full->size() == 5);
}

TEST_CASE("RocCurve: trapezoid area equals AUC") {
  std::mt19937 engine(11);
  std::uniform_int_distribution<int> label(0, 1);
  std::uniform_int_distribution<int> level(0, 50);
  std::vector<int> truth(2000);
  std::vector<double> scores(2000);
  for (size_t i = 0; i < truth.size(); ++i) {
    truth[i] = label(engine);
    scores[i] = level(engine) + 10 * truth[i];
  }
  auto roc = RocCurve(truth, scores);
  REQUIRE(roc.ok());
  double area = 0;
  for (size_t i = 1; i < roc->size(); ++i) {
    area += ((*roc)[i].fpr - (*roc)[i - 1].fpr) * ((*roc)[i].tpr + (*roc)[i - 1].tpr) / 2;
  }
  auto auc = BinaryAuc(truth, scores);
  REQUIRE(auc.ok());
  CHECK(area == Approx(*auc).epsilon(1e-12));
}

TEST_CASE("RocCurve: one class absent is an error") {
  const std::vector<int> truth = {0, 0};
  const std::vector<double> scores = {0.1, 0.2};
  CHECK(RocCurve(truth, scores).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("SensitivitySpecificity: counts at a threshold") {
  const std::vector<int> truth = {0, 0, 1, 1};
  const std::vector<double> scores = {0.1, 0.4, 0.35, 0.8};
  SECTION("threshold 0.35 calls three rows positive") {
    auto m = SensitivitySpecificity(truth, scores, 0.35);
    REQUIRE(m.ok());
    CHECK(m->true_positives == 2);
    CHECK(m->false_positives == 1);
    CHECK(m->true_negatives == 1);
    CHECK(m->false_negatives == 0);
    CHECK(m->sensitivity == Approx(1.0));
    CHECK(m->specificity == Approx(0.5));
    CHECK(m->ppv == Approx(2.0 / 3.0));
    CHECK(m->npv == Approx(1.0));
    CHECK(m->f1 == Approx(0.8));
    CHECK(m->accuracy == Approx(0.75));
  }
  SECTION("threshold above every score") {
    auto m = SensitivitySpecificity(truth, scores, 0.95);
    REQUIRE(m.ok());
    CHECK(m->sensitivity == Approx(0.0));
    CHECK(m->specificity == Approx(1.0));
    CHECK(std::isnan(m->ppv));
    CHECK(m->npv == Approx(0.5));
  }
  SECTION("NaN threshold") {
    auto m = SensitivitySpecificity(truth, scores, kNaN);
    CHECK(m.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Argmax: first maximum wins") {
  const std::vector<double> probabilities = {0.2, 0.5, 0.3, 0.4, 0.2, 0.4};
  auto labels = Argmax(probabilities, 3);
  REQUIRE(labels.ok());
  CHECK(*labels == std::vector<int>{1, 0});
  CHECK(Argmax(probabilities, 4).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("KappaBootstrapInterval: brackets kappa and repeats") {
  auto cm = ConfusionFromCounts(3, {40, 8, 2, 6, 30, 9, 1, 7, 37});
  REQUIRE(cm.ok());
  const double kappa = CohenKappa(*cm, Weighting::kLinear);
  auto interval = KappaBootstrapInterval(*cm, Weighting::kLinear);
  REQUIRE(interval.ok());
  CHECK(interval->lower < kappa);
  CHECK(interval->upper > kappa);
  CHECK(interval->upper - interval->lower < 0.5);
  auto again = KappaBootstrapInterval(*cm, Weighting::kLinear);
  REQUIRE(again.ok());
  CHECK(again->lower == interval->lower);
  CHECK(again->upper == interval->upper);
}

TEST_CASE("KappaBootstrapInterval: degenerate and bad options") {
  auto single = ConfusionFromCounts(2, {5, 0, 0, 0});
  REQUIRE(single.ok());
  auto interval = KappaBootstrapInterval(*single, Weighting::kNone);
  REQUIRE(interval.ok());
  CHECK(std::isnan(interval->lower));
  CHECK(std::isnan(interval->upper));

  BootstrapOptions bad;
  bad.confidence = 1.0;
  CHECK(KappaBootstrapInterval(*single, Weighting::kNone, bad).status().code() ==
        absl::StatusCode::kInvalidArgument);
  bad.confidence = 0.95;
  bad.replicates = 0;
  CHECK(KappaBootstrapInterval(*single, Weighting::kNone, bad).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("BinaryAuc: radix sort with signs and zeros") {
  // More than 4096 rows so that the scores go through the radix sort; -0.0 and +0.0
  // must tie, and infinities sort at the ends.
  const std::vector<double> levels = {-1e300, -2.5, -0.0, 0.0, 1e-300, 3.0, kInf, -kInf};
  std::mt19937_64 engine(11);
  std::vector<int> truth(6000);
  std::vector<double> scores(truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    truth[i] = static_cast<int>(engine() % 2);
    scores[i] = levels[(engine() % levels.size() + truth[i]) % levels.size()];
  }
  auto auc = BinaryAuc(truth, scores);
  REQUIRE(auc.ok());
  CHECK(*auc == Approx(BruteForceAuc(truth, scores)).epsilon(1e-12));
  auto roc = RocCurve(truth, scores);
  REQUIRE(roc.ok());
  // -0.0 and +0.0 share a point, so 7 distinct scores give 8 points.
  CHECK(roc->size() == 8);
  CHECK((*roc)[1].threshold == kInf);
  CHECK(roc->back().threshold == -kInf);
}

TEST_CASE("ConfusionAtThreshold: same as thresholded labels") {
  const std::vector<int> truth = {0, 0, 1, 1, 1};
  const std::vector<double> scores = {0.1, 0.5, 0.4, 0.5, 0.9};
  auto cm = ConfusionAtThreshold(truth, scores, 0.5);
  REQUIRE(cm.ok());
  // Called positive at or above 0.5: rows 1, 3 and 4.
  CHECK(cm->counts == std::vector<int64_t>{1, 1, 1, 2});
  const std::vector<int> bad = {0, 2, 1, 1, 1};
  CHECK(ConfusionAtThreshold(bad, scores, 0.5).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ConfusionOfArgmax: same as Argmax then Confusion") {
  const std::vector<int> truth = {0, 1, 2, 2};
  const std::vector<double> probabilities = {0.5, 0.5, 0.0,  // tie: class 0
                                             0.1, 0.8, 0.1,  //
                                             0.2, 0.3, 0.5,  //
                                             0.6, 0.3, 0.1};
  auto fused = ConfusionOfArgmax(truth, probabilities, 3);
  REQUIRE(fused.ok());
  auto predicted = Argmax(probabilities, 3);
  REQUIRE(predicted.ok());
  auto unfused = Confusion(truth, *predicted, 3);
  REQUIRE(unfused.ok());
  CHECK(fused->counts == unfused->counts);

  const std::vector<int> out_of_range = {0, 1, 3, 2};
  auto bad_label = ConfusionOfArgmax(out_of_range, probabilities, 3);
  REQUIRE(bad_label.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad_label.status().message().find("row 2") != absl::string_view::npos);
  std::vector<double> with_nan = probabilities;
  with_nan[4] = kNaN;
  CHECK(ConfusionOfArgmax(truth, with_nan, 3).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ConfusionOfArgmax(truth, probabilities, 4).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("BinaryAuc: a million rows") {
  std::mt19937_64 engine(3);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<int> truth(1000000);
  std::vector<double> scores(truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    truth[i] = i % 2;
    scores[i] = uniform(engine);
  }
  auto auc = BinaryAuc(truth, scores);
  REQUIRE(auc.ok());
  CHECK(*auc == Approx(0.5).margin(0.01));
}

}  // namespace
}  // namespace ailab::metrics
