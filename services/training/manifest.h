// Building a job's manifest: the join of its labels with the dataset's prepared
// instances, and the data rules a job must pass before it is queued.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ailab/training/v1/training.pb.h"
#include "data_sources.h"

namespace ailab::training {

// Labelled instances with prepared arrays that a job needs in all.
inline constexpr int kMinLabelledInstances = 100;
// Labelled training instances of each class that sampling "equal" needs.
inline constexpr int kMinPerClassForEqualSampling = 10;

// Input of BuildManifest().
struct ManifestInput {
  std::string training_job;
  std::string use_case;
  std::string dataset;
  std::string label_source;
  // Options with defaults applied.
  v1::TrainingOptions options;
  LabelSet labels;
  std::vector<InstanceRecord> instances;
};

// A manifest with the counts that explain it.
struct ManifestResult {
  v1::TrainingManifest manifest;
  // Usable instances per class and split, in category order.
  std::vector<v1::LabelCount> label_counts;
  // Labelled instances left out, by reason.
  int64_t not_in_dataset = 0;
  int64_t without_array = 0;
  int64_t without_split = 0;
  int64_t wrong_size = 0;
};

// Joins labels and instances and checks the data rules. An instance is usable when it
// is labelled, has a prepared array of options.image_size, and has a split. Errors are
// FAILED_PRECONDITION, with the counts per class in the message and metadata:
//   - TOO_FEW_LABELLED_INSTANCES: fewer than kMinLabelledInstances are usable;
//   - TOO_FEW_INSTANCES_PER_CLASS: sampling is "equal" and a class has fewer than
//     kMinPerClassForEqualSampling usable training instances;
//   - EMPTY_SPLIT: the TRAIN, VALIDATION or TEST split has no usable instance.
// INVALID_ARGUMENT when sampling is "positives_only" and the use case is not binary.
absl::StatusOr<ManifestResult> BuildManifest(const ManifestInput& input);

// Formats counts as "A: 10, B: 3".
std::string FormatCounts(const std::vector<v1::LabelCount>& counts);

}  // namespace ailab::training
