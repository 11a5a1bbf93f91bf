#include "ailab/metrics/segmentation.h"

#include <cmath>
#include <vector>

#include "ailab/status/status.h"
#include "catch2/catch.hpp"

namespace ailab::metrics {
namespace {

TEST_CASE("CompareMasks: hand-computed overlap") {
  const std::vector<uint8_t> truth = {1, 1, 0, 0, 0, 255};
  const std::vector<uint8_t> predicted = {1, 0, 1, 0, 0, 7};
  auto overlap = CompareMasks(truth, predicted);
  REQUIRE(overlap.ok());
  CHECK(overlap->truth_voxels == 3);
  CHECK(overlap->predicted_voxels == 3);
  CHECK(overlap->intersection_voxels == 2);
  CHECK(overlap->dice == Approx(4.0 / 6.0));
  CHECK(overlap->iou == Approx(2.0 / 4.0));
}

TEST_CASE("CompareMasks: empty and disjoint masks") {
  const std::vector<uint8_t> empty = {0, 0, 0, 0};
  const std::vector<uint8_t> left = {1, 1, 0, 0};
  const std::vector<uint8_t> right = {0, 0, 1, 1};
  auto both_empty = CompareMasks(empty, empty);
  REQUIRE(both_empty.ok());
  CHECK(both_empty->dice == 1.0);
  CHECK(both_empty->iou == 1.0);
  auto disjoint = CompareMasks(left, right);
  REQUIRE(disjoint.ok());
  CHECK(disjoint->dice == 0.0);
  CHECK(disjoint->iou == 0.0);
  auto missed = CompareMasks(left, empty);
  REQUIRE(missed.ok());
  CHECK(missed->dice == 0.0);
  const std::vector<uint8_t> shorter = {1};
  CHECK(CompareMasks(left, shorter).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("BlandAltmanAgreement: hand-computed limits") {
  // Differences 2, -1, 3: mean 4/3, sample variance ((2/3)^2 + (7/3)^2 + (5/3)^2) / 2 = 13/3.
  const std::vector<double> truth = {10, 20, 30};
  const std::vector<double> predicted = {12, 19, 33};
  auto agreement = BlandAltmanAgreement(truth, predicted);
  REQUIRE(agreement.ok());
  const double sd = std::sqrt(13.0 / 3.0);
  CHECK(agreement->bias == Approx(4.0 / 3.0));
  CHECK(agreement->sd == Approx(sd));
  CHECK(agreement->lower == Approx(4.0 / 3.0 - 1.96 * sd));
  CHECK(agreement->upper == Approx(4.0 / 3.0 + 1.96 * sd));
}

TEST_CASE("BlandAltmanAgreement: few pairs and bad input") {
  const std::vector<double> one_truth = {5};
  const std::vector<double> one_predicted = {7};
  auto single = BlandAltmanAgreement(one_truth, one_predicted);
  REQUIRE(single.ok());
  CHECK(single->bias == 2.0);
  CHECK(std::isnan(single->sd));
  CHECK(std::isnan(single->lower));
  auto none = BlandAltmanAgreement({}, {});
  REQUIRE(none.ok());
  CHECK(std::isnan(none->bias));
  const std::vector<double> infinite = {INFINITY};
  CHECK(BlandAltmanAgreement(one_truth, infinite).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(BlandAltmanAgreement(one_truth, {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("EvaluateSegmentations: means and volumes") {
  std::vector<MaskPair> pairs = {
      {"a.png", {1, 1, 0, 0}, {1, 1, 0, 0}},  // dice 1, iou 1, volumes 2 and 2
      {"b.png", {1, 1, 1, 1}, {1, 1, 0, 0}},  // dice 2*2/6, iou 2/4, volumes 4 and 2
  };
  auto result = EvaluateSegmentations(pairs, 0.5);
  REQUIRE(result.ok());
  REQUIRE(result->images.size() == 2);
  CHECK(result->mean_dice == Approx((1.0 + 4.0 / 6.0) / 2));
  CHECK(result->mean_iou == Approx((1.0 + 0.5) / 2));
  CHECK(result->truth_volumes == std::vector<double>{1.0, 2.0});
  CHECK(result->predicted_volumes == std::vector<double>{1.0, 1.0});
  // Differences 0 and -1.
  CHECK(result->volume_agreement.bias == Approx(-0.5));
  CHECK(result->volume_agreement.sd == Approx(std::sqrt(0.5)));
}

TEST_CASE("EvaluateSegmentations: rejects bad pairs") {
  std::vector<MaskPair> pairs = {{"odd.png", {1, 1}, {1}}};
  auto result = EvaluateSegmentations(pairs);
  REQUIRE(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(result.status().message().find("odd.png") != absl::string_view::npos);
  CHECK(EvaluateSegmentations({}, 0.0).status().code() == absl::StatusCode::kInvalidArgument);
  auto none = EvaluateSegmentations({});
  REQUIRE(none.ok());
  CHECK(std::isnan(none->mean_dice));
}

}  // namespace
}  // namespace ailab::metrics
