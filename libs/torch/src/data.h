// Training data: prepared arrays loaded into one tensor, the epoch order of each
// sampling mode, and random flips, rotations and scaling of a batch.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ailab/torch/trainer.h"
#include "options.h"

namespace ailab::torch::internal {

// Random numbers of the data pipeline (epoch order and augmentation). Built on
// std::mt19937_64, whose sequence the C++ standard fixes, with our own bounded and
// uniform draws (the standard distributions differ between libraries), so a seed
// gives the same draws everywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  // Uniform integer in [0, n); n must be positive.
  uint64_t Below(uint64_t n);
  // Uniform double in [0, 1).
  double Uniform();
  // Fisher-Yates shuffle.
  void Shuffle(std::vector<int64_t>& values);

  // Engine state as text, and back; Restore returns false for malformed text.
  std::string Save() const;
  bool Restore(const std::string& state);

 private:
  std::mt19937_64 engine_;
};

// Examples as tensors on the CPU: N x 1 x S x S float32 images and N int64 labels.
struct ImageSet {
  at::Tensor images;
  at::Tensor labels;
  std::vector<int> label_values;
};

// Reads every example's .npy array (float32, or uint16 and uint8 scaled to 0..1) into
// one tensor. Accepted shapes: S x S, 1 x S x S and S x S x 1 with S == image_size.
// INVALID_ARGUMENT naming the example for a missing file, another shape or dtype.
absl::StatusOr<ImageSet> LoadImageSet(const std::vector<Example>& examples, int image_size,
                                      absl::string_view role);

// The order in which one epoch visits training examples.
//   random: every example once, shuffled.
//   equal: as many draws as examples, cycling through the classes in shuffled rounds
//     so that each class appears equally often. Within a class, examples are drawn
//     without replacement and reshuffled once all were used, so small classes repeat.
//     Each epoch starts fresh queues, so the sampler keeps no state between epochs and
//     a checkpoint only needs the Random state.
//   positives_only (binary): every positive (class 1) example once plus as many
//     negatives drawn without replacement (all when there are fewer), shuffled. The
//     positives set the epoch's length and the negatives are undersampled. (A
//     classifier trained on positives alone would only learn to predict "positive".)
class EpochSampler {
 public:
  EpochSampler(Sampling sampling, const std::vector<int>& labels, int num_classes);

  // Example indices of the next epoch.
  std::vector<int64_t> NextEpoch(Random& random) const;

  // Length of every epoch.
  int64_t epoch_size() const { return epoch_size_; }

 private:
  std::vector<int64_t> EqualEpoch(Random& random) const;
  std::vector<int64_t> PositivesEpoch(Random& random) const;

  Sampling sampling_;
  int64_t example_count_ = 0;
  int64_t epoch_size_ = 0;
  // Example indices of each class, in input order.
  std::vector<std::vector<int64_t>> by_class_;
};

// Random flips, rotations and scaling of each image of a batch, applied together as
// one affine resampling (bilinear, zeros outside the image).
struct AugmentationRanges {
  double max_rotation_degrees = 15;
  double min_scale = 0.9;
  double max_scale = 1.1;
  double flip_probability = 0.5;
};

// Returns the augmented copy of `batch` (N x 1 x S x S, any device). The random draws
// happen on the CPU from `random`, in image order.
at::Tensor Augment(const at::Tensor& batch, Random& random, const AugmentationRanges& ranges = {});

}  // namespace ailab::torch::internal
