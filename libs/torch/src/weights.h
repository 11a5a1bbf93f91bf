// Pretrained weights: a file mapping parameter names (torchvision's) to tensors,
// loaded into a freshly built model before training.
//
// Accepted files:
//   - torch.save() of a plain dict {name: tensor} in Python, or torch::pickle_save()
//     of a Dict[str, Tensor] in C++ (a dict under the key "state_dict" also works);
//   - a TorchScript module (torch.jit.save in Python) or a torch::save() archive in
//     C++, whose parameters and buffers are taken by their dotted names.
// A common "module." prefix (from torch.nn.DataParallel) is removed.
#pragma once

#include <torch/csrc/jit/api/module.h>

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace ailab::torch::internal {

// Summary of one LoadPretrainedWeights call, for logs and tests.
struct WeightsReport {
  // Model tensors copied from the file.
  int loaded = 0;
  // True when the classifier layer kept its initial values because its shape (class
  // count) differs from the file's.
  bool classifier_skipped = false;
  // True when the first convolution's three-channel weights were summed to one channel.
  bool first_conv_summed = false;
  // File entries no model tensor uses (num_batches_tracked, an auxiliary head).
  int unused = 0;
};

// Reads the name-to-tensor map of `path` onto the CPU. INVALID_ARGUMENT when the file
// has neither format or contains no tensors.
absl::StatusOr<std::map<std::string, at::Tensor>> ReadStateDict(const std::string& path);

// Copies the tensors of the file at `path` into `model` (a BuildModel() result) by name.
// The first convolution's RGB weights become one channel by summing over the input
// channels, which keeps its response to a grey image whose three channels are equal.
// FAILED_PRECONDITION naming the tensor when the file lacks a model tensor or its shape
// differs (other than the classifier and the first convolution).
absl::StatusOr<WeightsReport> LoadPretrainedWeights(::torch::jit::Module& model,
                                                    const std::string& architecture,
                                                    const std::string& path);

}  // namespace ailab::torch::internal
