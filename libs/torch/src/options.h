// Parsed forms of the string options in TrainingOptions, shared by the trainer's
// source files. No LibTorch type appears here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ailab/torch/trainer.h"

namespace ailab::torch::internal {

enum class Augmentation { kNone, kFlipRotate };
enum class Sampling { kRandom, kEqual, kPositivesOnly };
enum class Loss { kCrossEntropy, kMae, kMse, kFocal };
enum class Optimizer { kAdam, kSgd };
enum class Metric { kKappa, kLinearKappa, kAuc, kValLoss };
enum class DeviceChoice { kAuto, kCpu, kCuda };

// Architecture names in the order the training form lists them.
const std::vector<std::string>& ArchitectureNames();

// Smallest and largest accepted image side in pixels. Every architecture reduces the
// input by a factor of 32 before its classifier, so 32 is the smallest side that
// leaves a 1x1 feature map.
inline constexpr int kMinImageSize = 32;
inline constexpr int kMaxImageSize = 2048;

// Categories per model, at least binary.
inline constexpr int kMinClasses = 2;
inline constexpr int kMaxClasses = 1000;

// Bounds of the remaining numeric options.
inline constexpr int kMinBatchSize = 2;
inline constexpr int kMaxBatchSize = 4096;
inline constexpr int kMaxEpochs = 10000;
inline constexpr int kMaxThreads = 1024;

// Minimum number of training examples of each class for "equal" sampling.
inline constexpr int kMinExamplesPerClassForEqual = 10;

// The class index that "positives_only" sampling treats as positive.
inline constexpr int kPositiveClass = 1;

// All options in parsed form; built by ParseOptions after ValidateOptions passed.
struct ParsedOptions {
  Augmentation augmentation = Augmentation::kNone;
  Sampling sampling = Sampling::kRandom;
  Loss loss = Loss::kCrossEntropy;
  Optimizer optimizer = Optimizer::kAdam;
  Metric metric = Metric::kLinearKappa;
  DeviceChoice device = DeviceChoice::kAuto;
};

std::optional<Augmentation> ParseAugmentation(const std::string& name);
std::optional<Sampling> ParseSampling(const std::string& name);
std::optional<Loss> ParseLoss(const std::string& name);
std::optional<Optimizer> ParseOptimizer(const std::string& name);
std::optional<Metric> ParseMetric(const std::string& name);
std::optional<DeviceChoice> ParseDevice(const std::string& name);

// Parses every named option; INVALID_ARGUMENT naming the first unknown one.
absl::StatusOr<ParsedOptions> ParseOptions(const TrainingOptions& options);

// Whether a larger value of `metric` is better (true for all but val_loss).
bool HigherIsBetter(Metric metric);

// Number of training examples of each class 0..num_classes-1; labels outside the
// range are not counted.
std::vector<int64_t> CountPerClass(const std::vector<Example>& examples, int num_classes);

// Checks `examples` (labels in range, array paths set) for the set named `role`
// ("train" or "validation").
absl::Status ValidateExamples(const std::vector<Example>& examples, int num_classes,
                              absl::string_view role);

}  // namespace ailab::torch::internal
