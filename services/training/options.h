// Defaults and checks of TrainingOptions, shared by the training service (at job
// creation) and its tests.
#pragma once

#include "absl/status/status.h"
#include "ailab/training/v1/training.pb.h"

namespace ailab::training {

// Limits of the numeric options (batch norm needs at least 2 examples per step).
inline constexpr int kMinImageSize = 32;
inline constexpr int kMaxImageSize = 1024;
inline constexpr int kMinBatchSize = 2;
inline constexpr int kMaxBatchSize = 1024;
inline constexpr int kMaxEpochs = 1000;
inline constexpr int kMaxGpuCount = 16;
inline constexpr int64_t kMaxMemoryMb = 1024 * 1024;

// Fills every unset option with its documented default (see training.proto).
void ApplyDefaults(v1::TrainingOptions& options);

// Checks options that ApplyDefaults() has filled. Returns INVALID_ARGUMENT with reason
// INVALID_TRAINING_OPTION, naming the field (as "training_job.options.<field>"), the
// value and the accepted values.
absl::Status ValidateOptions(const v1::TrainingOptions& options);

}  // namespace ailab::training
