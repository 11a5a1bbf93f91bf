// Training losses on a batch of logits (N x C) and int64 class labels (N).
#pragma once

#include <ATen/ATen.h>

#include "options.h"

namespace ailab::torch::internal {

// Focal loss constants, as in Lin et al., "Focal Loss for Dense Object Detection"
// (2017), and torchvision.ops.sigmoid_focal_loss.
inline constexpr double kFocalAlpha = 0.25;
inline constexpr double kFocalGamma = 2.0;

// Mean loss over the batch:
//   cross_entropy: categorical cross-entropy of softmax(logits).
//   mae, mse: mean absolute / squared error between softmax(logits) and the one-hot
//     labels, averaged over every class and example (Keras' definition).
//   focal: sigmoid focal loss of each logit against the one-hot labels, with alpha
//     weighting the positive entries, averaged over every class and example.
at::Tensor ComputeLoss(Loss loss, const at::Tensor& logits, const at::Tensor& labels);

}  // namespace ailab::torch::internal
