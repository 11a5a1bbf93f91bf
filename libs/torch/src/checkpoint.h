// Training checkpoints: one file with the model, the optimiser state, the random
// generator states, the history and the best epoch so far, from which Train()
// continues exactly where the run that wrote it stopped.
#pragma once

#include <ATen/ATen.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/optim/optimizer.h>

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ailab/torch/trainer.h"

namespace ailab::torch::internal {

// Progress of a run, as stored in a checkpoint.
struct TrainingState {
  // Epochs completed.
  int epoch = 0;
  // Optimiser steps taken.
  int64_t step = 0;
  std::vector<EpochReport> history;
  // Epoch whose model is the best so far (0: none yet) and its metric value.
  int best_epoch = 0;
  double best_metric = std::numeric_limits<double>::quiet_NaN();
  int epochs_without_improvement = 0;
  // State of the data pipeline's Random.
  std::string data_random;
};

// A model's parameters and buffers by dotted name.
using TensorMap = std::map<std::string, at::Tensor>;

// Copies of every parameter and buffer of `model`.
TensorMap CopyWeights(const ::torch::jit::Module& model);

// Copies every parameter and buffer of `model` into `weights`, reusing its tensors
// when it already contains a snapshot of the same model.
void SnapshotWeights(const ::torch::jit::Module& model, TensorMap* weights);

// Copies `weights` into `model`'s tensors of the same names.
void RestoreWeights(::torch::jit::Module& model, const TensorMap& weights);

// Writes a checkpoint to `path` (through a temporary file and a rename). `fingerprint`
// identifies the model layout and optimiser, and must match when reading. Pass the
// best epoch's weights only when they differ from the current model. `device` is the
// training device, whose generator state is saved besides the CPU one.
absl::Status WriteCheckpoint(const std::string& path, const std::string& fingerprint,
                             const TrainingState& state, const ::torch::jit::Module& model,
                             ::torch::optim::Optimizer& optimizer, const TensorMap* best_weights,
                             c10::Device device);

// Reads a checkpoint written by WriteCheckpoint into `model` (already on `device`),
// `optimizer`, the generators and `state`. `best_weights` receives the best epoch's
// weights, or stays empty when they are the current model's. INVALID_ARGUMENT for an
// unreadable file, FAILED_PRECONDITION when it was written for another model layout.
absl::Status ReadCheckpoint(const std::string& path, const std::string& fingerprint,
                            c10::Device device, TrainingState* state, ::torch::jit::Module& model,
                            ::torch::optim::Optimizer& optimizer, TensorMap* best_weights);

}  // namespace ailab::torch::internal
