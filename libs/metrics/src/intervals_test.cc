#include "ailab/metrics/intervals.h"

#include <cmath>
#include <random>
#include <vector>

#include "ailab/status/status.h"
#include "catch2/catch.hpp"

namespace ailab::metrics {
namespace {

TEST_CASE("NormalQuantileTwoSided: known quantiles") {
  CHECK(NormalQuantileTwoSided(0.95) == Approx(1.959963984540054).epsilon(1e-12));
  CHECK(NormalQuantileTwoSided(0.90) == Approx(1.6448536269514722).epsilon(1e-12));
  CHECK(NormalQuantileTwoSided(0.99) == Approx(2.5758293035489004).epsilon(1e-12));
}

TEST_CASE("AucDeLongInterval: hand-computed variance") {
  // Positives 0.35 and 0.8 outrank 1/2 and 2/2 negatives; negatives 0.1 and 0.4 are
  // outranked by 2/2 and 1/2 positives. Both component variances are 0.125, so the
  // variance is 0.125 / 2 + 0.125 / 2.
  const std::vector<int> truth = {0, 0, 1, 1};
  const std::vector<double> scores = {0.1, 0.4, 0.35, 0.8};
  auto result = AucDeLongInterval(truth, scores, 0.95);
  REQUIRE(result.ok());
  CHECK(result->auc == Approx(0.75));
  CHECK(result->variance == Approx(0.125));
  CHECK(result->interval.lower == Approx(0.75 - 1.959963984540054 * std::sqrt(0.125)));
  CHECK(result->interval.upper == 1.0);
}

TEST_CASE("AucDeLongInterval: ties count one half") {
  // Every score is tied: each component is 0.5, so the variance is 0.
  const std::vector<int> truth = {0, 1, 0, 1};
  const std::vector<double> scores = {0.3, 0.3, 0.3, 0.3};
  auto result = AucDeLongInterval(truth, scores);
  REQUIRE(result.ok());
  CHECK(result->auc == 0.5);
  CHECK(result->variance == 0.0);
  CHECK(result->interval.lower == 0.5);
  CHECK(result->interval.upper == 0.5);
}

TEST_CASE("AucDeLongInterval: undefined and invalid input") {
  const std::vector<int> one_positive = {0, 0, 1};
  const std::vector<double> scores = {0.1, 0.2, 0.3};
  auto small = AucDeLongInterval(one_positive, scores);
  REQUIRE(small.ok());
  CHECK(small->auc == 1.0);
  CHECK(std::isnan(small->variance));
  CHECK(std::isnan(small->interval.lower));

  const std::vector<int> no_positive = {0, 0, 0};
  CHECK(AucDeLongInterval(no_positive, scores).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(AucDeLongInterval(one_positive, scores, 1.0).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

// Rows with a true AUC of 0.875: negatives uniform on [0, 1], positives on [0.5, 1.5],
// rounded to two decimals so that ties occur.
void MakeRows(size_t n, uint64_t seed, std::vector<int>& truth, std::vector<double>& scores) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  truth.resize(n);
  scores.resize(n);
  for (size_t i = 0; i < n; ++i) {
    truth[i] = i % 3 == 0 ? 1 : 0;
    scores[i] = std::round((uniform(engine) + 0.5 * truth[i]) * 100) / 100;
  }
}

TEST_CASE("AucBootstrapInterval: close to DeLong and repeatable") {
  for (size_t n : {300, 20000}) {
    INFO("rows " << n);
    std::vector<int> truth;
    std::vector<double> scores;
    MakeRows(n, 5, truth, scores);
    auto delong = AucDeLongInterval(truth, scores);
    REQUIRE(delong.ok());
    BootstrapOptions options;
    options.replicates = 2000;
    auto bootstrap = AucBootstrapInterval(truth, scores, options);
    REQUIRE(bootstrap.ok());
    CHECK(bootstrap->lower < delong->auc);
    CHECK(bootstrap->upper > delong->auc);
    // Both estimate the same sampling spread; bootstrap noise with 2000 replicates is
    // a few percent of the width.
    const double width = delong->interval.upper - delong->interval.lower;
    CHECK(bootstrap->lower == Approx(delong->interval.lower).margin(0.1 * width));
    CHECK(bootstrap->upper == Approx(delong->interval.upper).margin(0.1 * width));

    auto again = AucBootstrapInterval(truth, scores, options);
    REQUIRE(again.ok());
    CHECK(again->lower == bootstrap->lower);
    CHECK(again->upper == bootstrap->upper);
  }
}

TEST_CASE("AucBootstrapInterval: rejects bad options and one class") {
  const std::vector<int> truth = {0, 1, 0, 1};
  const std::vector<double> scores = {0.1, 0.9, 0.2, 0.8};
  BootstrapOptions none;
  none.replicates = 0;
  CHECK(AucBootstrapInterval(truth, scores, none).status().code() ==
        absl::StatusCode::kInvalidArgument);
  const std::vector<int> negatives = {0, 0, 0, 0};
  CHECK(AucBootstrapInterval(negatives, scores).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("ConfusionBootstrapIntervals: kappa interval unchanged") {
  auto cm = ConfusionFromCounts(3, {40, 5, 2, 6, 30, 4, 1, 7, 25});
  REQUIRE(cm.ok());
  auto kappa = KappaBootstrapInterval(*cm, Weighting::kLinear);
  auto intervals = ConfusionBootstrapIntervals(
      *cm,
      {[](const ConfusionMatrix& m) { return CohenKappa(m, Weighting::kLinear); },
       [](const ConfusionMatrix& m) { return Accuracy(m); }});
  REQUIRE(kappa.ok());
  REQUIRE(intervals.ok());
  REQUIRE(intervals->size() == 2);
  CHECK((*intervals)[0].lower == kappa->lower);
  CHECK((*intervals)[0].upper == kappa->upper);
  const double accuracy = Accuracy(*cm);
  CHECK((*intervals)[1].lower < accuracy);
  CHECK((*intervals)[1].upper > accuracy);
}

TEST_CASE("ThresholdBootstrapIntervals: bracket each figure") {
  std::vector<int> truth;
  std::vector<double> scores;
  MakeRows(3000, 9, truth, scores);
  auto at = SensitivitySpecificity(truth, scores, 0.6);
  auto intervals = ThresholdBootstrapIntervals(truth, scores, 0.6);
  REQUIRE(at.ok());
  REQUIRE(intervals.ok());
  const std::vector<std::pair<double, Interval>> figures = {
      {at->sensitivity, intervals->sensitivity}, {at->specificity, intervals->specificity},
      {at->ppv, intervals->ppv},                 {at->npv, intervals->npv},
      {at->f1, intervals->f1},                   {at->accuracy, intervals->accuracy}};
  for (size_t i = 0; i < figures.size(); ++i) {
    INFO("figure " << i << " = " << figures[i].first);
    CHECK(figures[i].second.lower < figures[i].first);
    CHECK(figures[i].second.upper > figures[i].first);
    CHECK(figures[i].second.upper - figures[i].second.lower < 0.1);
  }
}

TEST_CASE("ThresholdBootstrapIntervals: undefined figure is NaN") {
  // No positives: sensitivity is undefined in every replicate.
  const std::vector<int> truth = {0, 0, 0};
  const std::vector<double> scores = {0.1, 0.7, 0.2};
  auto intervals = ThresholdBootstrapIntervals(truth, scores, 0.5);
  REQUIRE(intervals.ok());
  CHECK(std::isnan(intervals->sensitivity.lower));
  CHECK(std::isnan(intervals->sensitivity.upper));
  CHECK(intervals->specificity.lower >= 0.0);
}

}  // namespace
}  // namespace ailab::metrics
