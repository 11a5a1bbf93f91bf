// Detection metrics for axis-aligned boxes of one class: IoU, the per-image mean
// average precision of the reference product, COCO-style AP, and the mean IoU of
// matched boxes.
//
// Matching at an IoU threshold t follows COCO. Within one image, predictions are taken
// in decreasing score order (input order on equal scores). Each is matched to the
// unmatched truth box it overlaps most, if that IoU is at least t. A matched
// prediction is a true positive, an unmatched one a false positive, and an unmatched
// truth box a false negative.
//
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ailab::metrics {

// An axis-aligned box: top-left corner (x, y) and size, in pixels.
struct Box {
  double x = 0;
  double y = 0;
  double width = 0;
  double height = 0;
  // Confidence of a predicted box; ignored for truth boxes.
  double score = 1;
};

// Intersection over union of two boxes; 0 when the union is empty.
double BoxIou(const Box& a, const Box& b);

// Truth and predicted boxes of one image.
struct ImageBoxes {
  std::string image;
  std::vector<Box> truth;
  std::vector<Box> predicted;
};

// Counts of one image at one IoU threshold.
struct MatchCounts {
  int64_t true_positives = 0;
  int64_t false_positives = 0;
  int64_t false_negatives = 0;
  // IoU of each matched (truth, prediction) pair.
  std::vector<double> matched_ious;
};

// Matches `image` at `iou_threshold` as described at the top of this file.
MatchCounts MatchBoxes(const ImageBoxes& image, double iou_threshold);

// IoU thresholds 0.50, 0.55, ..., 0.95 (ten values).
std::vector<double> StandardIouThresholds();

// Results of EvaluateDetections.
struct DetectionMetrics {
  // Mean over images of the mean over thresholds of TP / (TP + FP + FN), as the
  // reference product defines its mean average precision. An image without truth and
  // without predicted boxes scores 1 at every threshold. NaN without images.
  double map = 0;
  // The per-image values behind `map`, in input order.
  std::vector<double> image_map;
  // COCO-style average precision: predictions of all images ranked by score, precision
  // made non-increasing in recall, sampled at the 101 recalls 0, 0.01, ..., 1, and
  // averaged over the thresholds. NaN when no image has a truth box. Unlike
  // pycocotools there is no limit of 100 predictions per image and no area ranges.
  double coco_ap = 0;
  // COCO-style AP at IoU 0.5 alone (the PASCAL VOC threshold), 101-point as above.
  double coco_ap50 = 0;
  // Mean IoU of the pairs matched at IoU 0.5, over all images; NaN without a match.
  double mean_iou = 0;
  int64_t truth_boxes = 0;
  int64_t predicted_boxes = 0;
};

// Computes every figure of DetectionMetrics. INVALID_ARGUMENT for a box with a
// negative or non-finite size or position, or a NaN score; the message names the image
// and the box.
absl::StatusOr<DetectionMetrics> EvaluateDetections(const std::vector<ImageBoxes>& images);

}  // namespace ailab::metrics
