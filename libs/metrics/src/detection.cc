#include "ailab/metrics/detection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"

namespace ailab::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Recall levels of COCO's 101-point interpolation: 0, 0.01, ..., 1.
constexpr int kRecallLevels = 101;

absl::Status ValidateBox(const ImageBoxes& image, const Box& box, absl::string_view kind,
                         size_t index) {
  const bool finite = std::isfinite(box.x) && std::isfinite(box.y) && std::isfinite(box.width) &&
                      std::isfinite(box.height);
  if (finite && box.width >= 0 && box.height >= 0 && !std::isnan(box.score)) {
    return absl::OkStatus();
  }
  const std::string box_index = absl::StrCat(index);
  return InvalidArgument(
      "INVALID_BOX", kind,
      absl::StrCat(kind, " box ", index, " of image \"", image.image, "\" (x=", box.x,
                   ", y=", box.y, ", width=", box.width, ", height=", box.height,
                   ", score=", box.score,
                   ") is invalid; positions must be finite, sizes at least 0 and scores numbers"),
      {{"image", image.image}, {"box", box_index}});
}

// Indices of `boxes` by decreasing score, input order on equal scores.
std::vector<size_t> ByDecreasingScore(const std::vector<Box>& boxes) {
  std::vector<size_t> order(boxes.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return boxes[a].score > boxes[b].score; });
  return order;
}

// Result of matching one image: for each prediction in `order`, the IoU of its match,
// or -1 when unmatched.
struct ImageMatch {
  std::vector<size_t> order;
  std::vector<double> match_iou;
  int64_t matched_truth = 0;
};

ImageMatch Match(const ImageBoxes& image, double iou_threshold) {
  ImageMatch match;
  match.order = ByDecreasingScore(image.predicted);
  match.match_iou.assign(image.predicted.size(), -1.0);
  std::vector<bool> truth_taken(image.truth.size(), false);
  for (size_t rank = 0; rank < match.order.size(); ++rank) {
    const Box& prediction = image.predicted[match.order[rank]];
    double best_iou = -1;
    size_t best_truth = 0;
    for (size_t t = 0; t < image.truth.size(); ++t) {
      if (truth_taken[t]) continue;
      const double iou = BoxIou(prediction, image.truth[t]);
      if (iou >= iou_threshold && iou > best_iou) {
        best_iou = iou;
        best_truth = t;
      }
    }
    if (best_iou >= 0) {
      truth_taken[best_truth] = true;
      match.match_iou[rank] = best_iou;
      ++match.matched_truth;
    }
  }
  return match;
}

// A prediction in the ranking of all images for COCO-style AP.
struct RankedPrediction {
  double score;
  bool true_positive;
};

// 101-point interpolated AP of predictions ranked by decreasing score.
double InterpolatedAp(const std::vector<RankedPrediction>& ranked, int64_t truth_boxes) {
  const size_t n = ranked.size();
  std::vector<double> precision(n);
  std::vector<double> recall(n);
  int64_t true_positives = 0;
  for (size_t i = 0; i < n; ++i) {
    if (ranked[i].true_positive) ++true_positives;
    precision[i] = static_cast<double>(true_positives) / static_cast<double>(i + 1);
    recall[i] = static_cast<double>(true_positives) / static_cast<double>(truth_boxes);
  }
  // The precision envelope: the best precision at this recall or any higher one.
  for (size_t i = n; i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
  double sum = 0;
  for (int level = 0; level < kRecallLevels; ++level) {
    const double target = static_cast<double>(level) / (kRecallLevels - 1);
    // First rank whose recall reaches the target; recall levels never reached count 0.
    auto reached = std::lower_bound(recall.begin(), recall.end(), target);
    if (reached != recall.end()) sum += precision[reached - recall.begin()];
  }
  return sum / kRecallLevels;
}

}  // namespace

double BoxIou(const Box& a, const Box& b) {
  const double overlap_width =
      std::max(0.0, std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x));
  const double overlap_height =
      std::max(0.0, std::min(a.y + a.height, b.y + b.height) - std::max(a.y, b.y));
  const double intersection = overlap_width * overlap_height;
  const double union_area = a.width * a.height + b.width * b.height - intersection;
  if (union_area <= 0) return 0;
  return intersection / union_area;
}

MatchCounts MatchBoxes(const ImageBoxes& image, double iou_threshold) {
  const ImageMatch match = Match(image, iou_threshold);
  MatchCounts counts;
  counts.true_positives = match.matched_truth;
  counts.false_positives = static_cast<int64_t>(image.predicted.size()) - match.matched_truth;
  counts.false_negatives = static_cast<int64_t>(image.truth.size()) - match.matched_truth;
  for (double iou : match.match_iou) {
    if (iou >= 0) counts.matched_ious.push_back(iou);
  }
  return counts;
}

std::vector<double> StandardIouThresholds() {
  std::vector<double> thresholds;
  // Computed as k / 100 rather than by repeated addition, so 0.55 is the double
  // nearest 0.55.
  for (int percent = 50; percent <= 95; percent += 5) thresholds.push_back(percent / 100.0);
  return thresholds;
}

absl::StatusOr<DetectionMetrics> EvaluateDetections(const std::vector<ImageBoxes>& images) {
  DetectionMetrics result;
  for (const ImageBoxes& image : images) {
    for (size_t i = 0; i < image.truth.size(); ++i) {
      AILAB_RETURN_IF_ERROR(ValidateBox(image, image.truth[i], "truth", i));
    }
    for (size_t i = 0; i < image.predicted.size(); ++i) {
      AILAB_RETURN_IF_ERROR(ValidateBox(image, image.predicted[i], "predicted", i));
    }
    result.truth_boxes += static_cast<int64_t>(image.truth.size());
    result.predicted_boxes += static_cast<int64_t>(image.predicted.size());
  }
  const std::vector<double> thresholds = StandardIouThresholds();

  // Per-image mean of TP / (TP + FP + FN) over thresholds.
  result.image_map.assign(images.size(), 0.0);
  std::vector<double> ap_per_threshold;
  double matched_iou_sum = 0;
  int64_t matched_count = 0;
  for (double threshold : thresholds) {
    std::vector<RankedPrediction> ranked;
    ranked.reserve(result.predicted_boxes);
    for (size_t i = 0; i < images.size(); ++i) {
      const ImageMatch match = Match(images[i], threshold);
      const int64_t errors = static_cast<int64_t>(images[i].predicted.size()) +
                             static_cast<int64_t>(images[i].truth.size()) -
                             2 * match.matched_truth;
      const int64_t denominator = match.matched_truth + errors;
      const double precision = denominator == 0 ? 1.0
                                                : static_cast<double>(match.matched_truth) /
                                                      static_cast<double>(denominator);
      result.image_map[i] += precision;  // a sum here, divided into the mean below
      for (size_t rank = 0; rank < match.order.size(); ++rank) {
        ranked.push_back({images[i].predicted[match.order[rank]].score,
                          match.match_iou[rank] >= 0});
        if (threshold == thresholds.front() && match.match_iou[rank] >= 0) {
          matched_iou_sum += match.match_iou[rank];
          ++matched_count;
        }
      }
    }
    // Images in input order, then each image's own order, break ties of the stable sort.
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const RankedPrediction& a, const RankedPrediction& b) {
                       return a.score > b.score;
                     });
    if (result.truth_boxes > 0) ap_per_threshold.push_back(InterpolatedAp(ranked, result.truth_boxes));
  }

  for (double& image_map : result.image_map) image_map /= static_cast<double>(thresholds.size());
  result.map = images.empty() ? kNaN
                              : std::accumulate(result.image_map.begin(), result.image_map.end(),
                                                0.0) /
                                    static_cast<double>(images.size());
  if (ap_per_threshold.empty()) {
    result.coco_ap = kNaN;
    result.coco_ap50 = kNaN;
  } else {
    result.coco_ap = std::accumulate(ap_per_threshold.begin(), ap_per_threshold.end(), 0.0) /
                     static_cast<double>(ap_per_threshold.size());
    result.coco_ap50 = ap_per_threshold.front();
  }
  result.mean_iou = matched_count == 0 ? kNaN
                                       : matched_iou_sum / static_cast<double>(matched_count);
  return result;
}

}  // namespace ailab::metrics
