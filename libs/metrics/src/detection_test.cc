#include "ailab/metrics/detection.h"

#include <cmath>
#include <vector>

#include "ailab/status/status.h"
#include "catch2/catch.hpp"

namespace ailab::metrics {
namespace {

TEST_CASE("BoxIou: hand-computed overlaps") {
  const Box a{0, 0, 2, 2};
  CHECK(BoxIou(a, Box{1, 1, 2, 2}) == Approx(1.0 / 7.0));
  CHECK(BoxIou(a, a) == 1.0);
  CHECK(BoxIou(a, Box{2, 0, 2, 2}) == 0.0);  // touching edges
  CHECK(BoxIou(a, Box{5, 5, 1, 1}) == 0.0);
  CHECK(BoxIou(a, Box{0, 0, 2, 1}) == Approx(0.5));
  CHECK(BoxIou(Box{1, 1, 0, 0}, Box{1, 1, 0, 0}) == 0.0);  // empty union
}

TEST_CASE("StandardIouThresholds: 0.5 to 0.95") {
  const std::vector<double> thresholds = StandardIouThresholds();
  REQUIRE(thresholds.size() == 10);
  CHECK(thresholds.front() == 0.5);
  CHECK(thresholds[1] == 0.55);
  CHECK(thresholds.back() == 0.95);
}

TEST_CASE("MatchBoxes: higher score matches first") {
  // Both predictions overlap the single truth box; the higher-scored one takes it even
  // though the other overlaps more.
  ImageBoxes image{"a", {Box{0, 0, 10, 10}}, {Box{0, 0, 10, 6, 0.9}, Box{0, 0, 10, 9, 0.4}}};
  const MatchCounts counts = MatchBoxes(image, 0.5);
  CHECK(counts.true_positives == 1);
  CHECK(counts.false_positives == 1);
  CHECK(counts.false_negatives == 0);
  REQUIRE(counts.matched_ious.size() == 1);
  CHECK(counts.matched_ious[0] == Approx(0.6));

  // At 0.7 the first prediction cannot match, so the second one does.
  const MatchCounts strict = MatchBoxes(image, 0.7);
  CHECK(strict.true_positives == 1);
  REQUIRE(strict.matched_ious.size() == 1);
  CHECK(strict.matched_ious[0] == Approx(0.9));
}

TEST_CASE("EvaluateDetections: reference mean average precision") {
  const std::vector<ImageBoxes> images = {
      // IoU 0.8: a true positive at the 7 thresholds 0.50..0.80, then one FP and one FN,
      // so 7 / 10.
      {"one", {Box{0, 0, 10, 10}}, {Box{0, 0, 10, 8, 0.9}}},
      // One exact match, one missed truth box, one false positive: 1 / 3 everywhere.
      {"two", {Box{0, 0, 10, 10}, Box{20, 20, 10, 10}}, {Box{0, 0, 10, 10, 0.9},
                                                         Box{50, 50, 5, 5, 0.8}}},
      // Nothing to find and nothing found.
      {"three", {}, {}},
      // A missed box.
      {"four", {Box{0, 0, 4, 4}}, {}},
  };
  auto result = EvaluateDetections(images);
  REQUIRE(result.ok());
  REQUIRE(result->image_map.size() == 4);
  CHECK(result->image_map[0] == Approx(0.7));
  CHECK(result->image_map[1] == Approx(1.0 / 3.0));
  CHECK(result->image_map[2] == 1.0);
  CHECK(result->image_map[3] == 0.0);
  CHECK(result->map == Approx((0.7 + 1.0 / 3.0 + 1.0 + 0.0) / 4.0));
  // Matched at IoU 0.5: 0.8 in "one" and 1 in "two".
  CHECK(result->mean_iou == Approx(0.9));
  CHECK(result->truth_boxes == 4);
  CHECK(result->predicted_boxes == 3);
}

TEST_CASE("EvaluateDetections: COCO-style AP") {
  // Ranking over both images: TP (0.9), FP (0.8), TP (0.7) with two truth boxes.
  // Precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1; the envelope is 1 up to recall 0.5
  // (51 of the 101 recall levels) and 2/3 above it (50 levels).
  const std::vector<ImageBoxes> images = {
      {"a", {Box{0, 0, 10, 10}}, {Box{0, 0, 10, 10, 0.9}}},
      {"b", {Box{0, 0, 10, 10}}, {Box{40, 40, 10, 10, 0.8}, Box{0, 0, 10, 10, 0.7}}},
  };
  auto result = EvaluateDetections(images);
  REQUIRE(result.ok());
  const double expected = (51 * 1.0 + 50 * 2.0 / 3.0) / 101;
  CHECK(result->coco_ap == Approx(expected));
  CHECK(result->coco_ap50 == Approx(expected));
  CHECK(result->mean_iou == 1.0);
  CHECK(result->map == Approx((1.0 + 0.5) / 2));
}

TEST_CASE("EvaluateDetections: AP falls with localisation") {
  // IoU 0.64 matches at 0.50..0.60 only: AP 1 at 3 of 10 thresholds.
  const std::vector<ImageBoxes> images = {{"a", {Box{0, 0, 10, 10}}, {Box{0, 0, 8, 8, 0.5}}}};
  auto result = EvaluateDetections(images);
  REQUIRE(result.ok());
  CHECK(result->coco_ap == Approx(0.3));
  CHECK(result->coco_ap50 == 1.0);
  CHECK(result->map == Approx(0.3));
  CHECK(result->mean_iou == Approx(0.64));
}

TEST_CASE("EvaluateDetections: undefined and invalid input") {
  auto empty = EvaluateDetections({});
  REQUIRE(empty.ok());
  CHECK(std::isnan(empty->map));
  CHECK(std::isnan(empty->coco_ap));
  CHECK(std::isnan(empty->mean_iou));

  // Predictions without any truth box: COCO AP is undefined, the per-image score is 0.
  auto no_truth = EvaluateDetections({{"a", {}, {Box{0, 0, 1, 1, 0.5}}}});
  REQUIRE(no_truth.ok());
  CHECK(std::isnan(no_truth->coco_ap));
  CHECK(no_truth->map == 0.0);

  auto negative = EvaluateDetections({{"bad", {Box{0, 0, -1, 1}}, {}}});
  REQUIRE(negative.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(negative.status()) == "INVALID_BOX");
  CHECK(negative.status().message().find("\"bad\"") != absl::string_view::npos);
  auto nan_score = EvaluateDetections({{"a", {}, {Box{0, 0, 1, 1, NAN}}}});
  CHECK(nan_score.status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ailab::metrics
