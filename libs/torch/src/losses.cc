#include "losses.h"

namespace ailab::torch::internal {
namespace {

at::Tensor OneHot(const at::Tensor& labels, int64_t num_classes, const at::Tensor& like) {
  return at::one_hot(labels, num_classes).to(like.scalar_type());
}

}  // namespace

at::Tensor ComputeLoss(Loss loss, const at::Tensor& logits, const at::Tensor& labels) {
  const int64_t num_classes = logits.size(1);
  switch (loss) {
    case Loss::kCrossEntropy:
      return at::cross_entropy_loss(logits, labels);
    case Loss::kMae:
      return at::l1_loss(at::softmax(logits, 1), OneHot(labels, num_classes, logits));
    case Loss::kMse:
      return at::mse_loss(at::softmax(logits, 1), OneHot(labels, num_classes, logits));
    case Loss::kFocal: {
      at::Tensor targets = OneHot(labels, num_classes, logits);
      at::Tensor p = at::sigmoid(logits);
      at::Tensor ce =
          at::binary_cross_entropy_with_logits(logits, targets, {}, {}, at::Reduction::None);
      at::Tensor p_t = p * targets + (1 - p) * (1 - targets);
      at::Tensor alpha_t = kFocalAlpha * targets + (1 - kFocalAlpha) * (1 - targets);
      return (alpha_t * ce * at::pow(1 - p_t, kFocalGamma)).mean();
    }
  }
  return at::cross_entropy_loss(logits, labels);
}

}  // namespace ailab::torch::internal
