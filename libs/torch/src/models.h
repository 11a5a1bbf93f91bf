// The classification networks, for one-channel input, built as TorchScript modules
// whose parameter and buffer names match torchvision's state dicts (so ImageNet
// weights converted from torchvision load by name).
//
// Every model takes N x 1 x S x S float input and returns N x num_classes logits. The
// root module carries the attributes `architecture` (str), `image_size` (int) and
// `num_classes` (int), and `training` selects batch statistics and dropout.
#pragma once

#include <torch/csrc/jit/api/module.h>

#include <string>

#include "absl/status/statusor.h"

namespace ailab::torch::internal {

struct ModelSpec {
  // One of ArchitectureNames().
  std::string architecture;
  // Side of the square input in pixels.
  int image_size = 0;
  int num_classes = 0;
};

// Builds a freshly initialised model on the CPU in training mode. Initial values come
// from LibTorch's default CPU generator, so seed it first for repeatable models.
// INVALID_ARGUMENT for an unknown architecture.
absl::StatusOr<::torch::jit::Module> BuildModel(const ModelSpec& spec);

// Name prefix of the final classification layer's tensors ("fc." for ResNet), whose
// shape depends on the class count.
std::string ClassifierPrefix(const std::string& architecture);

// Name of the first convolution's weight, the only one with one input channel.
std::string FirstConvWeight(const std::string& architecture);

}  // namespace ailab::torch::internal
