#include "ailab/metrics/segmentation.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"

namespace ailab::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// The two-sided 95% standard normal quantile, rounded to 1.96 as is usual for
// Bland-Altman limits of agreement.
constexpr double kLimitsOfAgreementZ = 1.96;

}  // namespace

absl::StatusOr<MaskOverlap> CompareMasks(std::span<const uint8_t> truth,
                                         std::span<const uint8_t> predicted) {
  if (truth.size() != predicted.size()) {
    const std::string truth_size = absl::StrCat(truth.size());
    const std::string predicted_size = absl::StrCat(predicted.size());
    return InvalidArgument("SIZE_MISMATCH", "predicted",
                           absl::StrCat("the truth mask has ", truth.size(),
                                        " voxels but the predicted mask has ", predicted.size(),
                                        "; both masks must have the same size"),
                           {{"truth_size", truth_size}, {"predicted_size", predicted_size}});
  }
  MaskOverlap overlap;
  for (size_t i = 0; i < truth.size(); ++i) {
    const bool in_truth = truth[i] != 0;
    const bool in_predicted = predicted[i] != 0;
    overlap.truth_voxels += in_truth;
    overlap.predicted_voxels += in_predicted;
    overlap.intersection_voxels += in_truth && in_predicted;
  }
  const int64_t sum = overlap.truth_voxels + overlap.predicted_voxels;
  const int64_t union_voxels = sum - overlap.intersection_voxels;
  if (sum == 0) {
    overlap.dice = 1;
    overlap.iou = 1;
  } else {
    overlap.dice = 2.0 * static_cast<double>(overlap.intersection_voxels) / static_cast<double>(sum);
    overlap.iou = static_cast<double>(overlap.intersection_voxels) /
                  static_cast<double>(union_voxels);
  }
  return overlap;
}

absl::StatusOr<BlandAltman> BlandAltmanAgreement(std::span<const double> truth,
                                                 std::span<const double> predicted) {
  if (truth.size() != predicted.size()) {
    const std::string truth_size = absl::StrCat(truth.size());
    const std::string predicted_size = absl::StrCat(predicted.size());
    return InvalidArgument("SIZE_MISMATCH", "predicted",
                           absl::StrCat(truth.size(), " truth values but ", predicted.size(),
                                        " predicted values; pass one pair per image"),
                           {{"truth_size", truth_size}, {"predicted_size", predicted_size}});
  }
  for (size_t i = 0; i < truth.size(); ++i) {
    if (!std::isfinite(truth[i]) || !std::isfinite(predicted[i])) {
      const std::string row = absl::StrCat(i);
      return InvalidArgument("INVALID_VALUE", "truth",
                             absl::StrCat("pair ", i, " (", truth[i], ", ", predicted[i],
                                          ") is not finite; pass numbers"),
                             {{"row", row}});
    }
  }
  BlandAltman agreement{kNaN, kNaN, kNaN, kNaN};
  const size_t n = truth.size();
  if (n == 0) return agreement;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += predicted[i] - truth[i];
  agreement.bias = sum / static_cast<double>(n);
  if (n < 2) return agreement;
  double squares = 0;
  for (size_t i = 0; i < n; ++i) {
    const double deviation = predicted[i] - truth[i] - agreement.bias;
    squares += deviation * deviation;
  }
  agreement.sd = std::sqrt(squares / static_cast<double>(n - 1));
  agreement.lower = agreement.bias - kLimitsOfAgreementZ * agreement.sd;
  agreement.upper = agreement.bias + kLimitsOfAgreementZ * agreement.sd;
  return agreement;
}

absl::StatusOr<SegmentationMetrics> EvaluateSegmentations(const std::vector<MaskPair>& pairs,
                                                          double voxel_volume) {
  if (!(voxel_volume > 0) || !std::isfinite(voxel_volume)) {
    const std::string volume = absl::StrCat(voxel_volume);
    return InvalidArgument("INVALID_VOXEL_VOLUME", "voxel_volume",
                           absl::StrCat("voxel volume ", voxel_volume,
                                        " is not a positive number; pass the product of the "
                                        "voxel spacings, or 1 to count voxels"),
                           {{"voxel_volume", volume}});
  }
  SegmentationMetrics result;
  double dice_sum = 0;
  double iou_sum = 0;
  for (const MaskPair& pair : pairs) {
    absl::StatusOr<MaskOverlap> overlap = CompareMasks(pair.truth, pair.predicted);
    if (!overlap.ok()) return Annotate(overlap.status(), absl::StrCat("image \"", pair.image, "\""));
    dice_sum += overlap->dice;
    iou_sum += overlap->iou;
    result.truth_volumes.push_back(static_cast<double>(overlap->truth_voxels) * voxel_volume);
    result.predicted_volumes.push_back(static_cast<double>(overlap->predicted_voxels) *
                                       voxel_volume);
    result.images.push_back(*overlap);
  }
  const double n = static_cast<double>(pairs.size());
  result.mean_dice = pairs.empty() ? kNaN : dice_sum / n;
  result.mean_iou = pairs.empty() ? kNaN : iou_sum / n;
  AILAB_ASSIGN_OR_RETURN(result.volume_agreement,
                         BlandAltmanAgreement(result.truth_volumes, result.predicted_volumes));
  return result;
}

}  // namespace ailab::metrics
