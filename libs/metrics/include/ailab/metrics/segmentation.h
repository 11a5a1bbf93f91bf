// Segmentation metrics of binary masks: Dice and IoU per image and their means,
// truth and predicted volumes, and Bland-Altman agreement of the volumes.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ailab::metrics {

// Overlap of one truth mask with one predicted mask (non-zero values are foreground).
struct MaskOverlap {
  int64_t truth_voxels = 0;
  int64_t predicted_voxels = 0;
  int64_t intersection_voxels = 0;
  // 2|T n P| / (|T| + |P|); 1 when both masks are empty, since they agree exactly.
  double dice = 0;
  // |T n P| / |T u P|; 1 when both masks are empty.
  double iou = 0;
};

// Compares two masks of equal size. INVALID_ARGUMENT when the sizes differ.
absl::StatusOr<MaskOverlap> CompareMasks(std::span<const uint8_t> truth,
                                         std::span<const uint8_t> predicted);

// Bland-Altman agreement of paired measurements (predicted minus truth).
struct BlandAltman {
  double bias = 0;   // mean difference
  double sd = 0;     // sample standard deviation of the differences (n - 1)
  double lower = 0;  // bias - 1.96 sd, the lower 95% limit of agreement
  double upper = 0;  // bias + 1.96 sd
};

// Computes Bland-Altman bias and 95% limits of agreement of `predicted` against
// `truth`. With one pair the standard deviation and limits are NaN, and everything is
// NaN without pairs. INVALID_ARGUMENT when the sizes differ or a value is not finite.
absl::StatusOr<BlandAltman> BlandAltmanAgreement(std::span<const double> truth,
                                                 std::span<const double> predicted);

// One image of a segmentation evaluation.
struct MaskPair {
  std::string image;
  std::vector<uint8_t> truth;
  std::vector<uint8_t> predicted;
};

// Results of EvaluateSegmentations.
struct SegmentationMetrics {
  std::vector<MaskOverlap> images;  // in input order
  double mean_dice = 0;             // NaN without images
  double mean_iou = 0;
  // Voxel count times voxel_volume, per image in input order.
  std::vector<double> truth_volumes;
  std::vector<double> predicted_volumes;
  BlandAltman volume_agreement;
};

// Compares every pair; `voxel_volume` is the volume (or area, for 2-D masks) of one
// voxel, for example the product of the pixel spacings in mm. INVALID_ARGUMENT for a
// pair of different sizes (naming the image) or a voxel_volume that is not positive.
absl::StatusOr<SegmentationMetrics> EvaluateSegmentations(const std::vector<MaskPair>& pairs,
                                                          double voxel_volume = 1.0);

}  // namespace ailab::metrics
