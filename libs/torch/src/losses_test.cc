// LibTorch first: its glog headers define CHECK, which Catch2 must override.
#include "losses.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cmath>

namespace ailab::torch::internal {
namespace {

double Value(Loss loss, const at::Tensor& logits, const at::Tensor& labels) {
  return ComputeLoss(loss, logits, labels).item<double>();
}

TEST_CASE("ComputeLoss: cross entropy is the mean negative log softmax") {
  at::Tensor logits = at::tensor({2.0, 0.0, 0.0, 1.0}, at::kFloat).reshape({2, 2});
  at::Tensor labels = at::tensor({0, 0}, at::kLong);
  double first = -std::log(std::exp(2.0) / (std::exp(2.0) + 1));
  double second = -std::log(1 / (1 + std::exp(1.0)));
  CHECK(Value(Loss::kCrossEntropy, logits, labels) == Approx((first + second) / 2).epsilon(1e-6));
}

TEST_CASE("ComputeLoss: mae and mse compare softmax with one-hot labels") {
  // Equal logits give probabilities 0.5, so every entry is 0.5 away from its target.
  at::Tensor logits = at::zeros({3, 2}, at::kFloat);
  at::Tensor labels = at::tensor({0, 1, 1}, at::kLong);
  CHECK(Value(Loss::kMae, logits, labels) == Approx(0.5));
  CHECK(Value(Loss::kMse, logits, labels) == Approx(0.25));

  // Three classes: probabilities 1/3 against the targets (1, 0, 0).
  at::Tensor three = at::zeros({1, 3}, at::kFloat);
  at::Tensor first = at::tensor({0}, at::kLong);
  CHECK(Value(Loss::kMae, three, first) == Approx((2.0 / 3 + 1.0 / 3 + 1.0 / 3) / 3));
  CHECK(Value(Loss::kMse, three, first) == Approx((4.0 / 9 + 1.0 / 9 + 1.0 / 9) / 3));
}

TEST_CASE("ComputeLoss: focal loss follows the sigmoid focal formula") {
  at::Tensor logits = at::tensor({1.5, -0.5}, at::kFloat).reshape({1, 2});
  at::Tensor labels = at::tensor({1}, at::kLong);
  // Entry 0 is a negative with logit 1.5, entry 1 a positive with logit -0.5.
  auto sigmoid = [](double x) { return 1 / (1 + std::exp(-x)); };
  double p0 = sigmoid(1.5);
  double p1 = sigmoid(-0.5);
  double negative = (1 - kFocalAlpha) * -std::log(1 - p0) * std::pow(p0, kFocalGamma);
  double positive = kFocalAlpha * -std::log(p1) * std::pow(1 - p1, kFocalGamma);
  CHECK(Value(Loss::kFocal, logits, labels) == Approx((negative + positive) / 2).epsilon(1e-6));
}

TEST_CASE("ComputeLoss: every loss is lower for correct logits") {
  Loss loss = GENERATE(Loss::kCrossEntropy, Loss::kMae, Loss::kMse, Loss::kFocal);
  at::Tensor labels = at::tensor({0, 1}, at::kLong);
  at::Tensor right = at::tensor({3.0, -3.0, -3.0, 3.0}, at::kFloat).reshape({2, 2});
  at::Tensor wrong = -right;
  CHECK(Value(loss, right, labels) < Value(loss, wrong, labels));

  at::Tensor logits = wrong.clone().requires_grad_(true);
  ComputeLoss(loss, logits, labels).backward();
  REQUIRE(logits.grad().defined());
  CHECK(at::isfinite(logits.grad()).all().item<bool>());
  CHECK(logits.grad().abs().sum().item<double>() > 0);
}

}  // namespace
}  // namespace ailab::torch::internal
