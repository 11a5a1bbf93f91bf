// The training service's view of the services that own its input data: labels from
// the annotation service, prepared instances from the ingest service, and the datasets
// that open challenges keep for scoring, from the evaluation service. Each sits behind
// an interface, so the manifest logic can be tested without those services. The gRPC
// implementations are in annotation_source.cc, ingest_source.cc and
// challenge_source.cc.
//
// Implementations must be thread-safe: the service calls them from request threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ailab/training/v1/training.pb.h"

namespace ailab::training {

// Training labels of one (use case, dataset, label source).
struct LabelSet {
  // Category codes of the use case, in order.
  std::vector<std::string> categories;
  // Instance name and category index of every labelled instance.
  std::vector<std::pair<std::string, int>> labels;
  // Instances left out because the consensus vote was tied.
  int64_t tied_count = 0;
};

// Labels per category, in category order.
struct LabelTotals {
  std::vector<std::pair<std::string, int64_t>> counts;
  int64_t total = 0;
};

// Source of training labels (the annotation service).
class LabelSource {
 public:
  virtual ~LabelSource() = default;

  // Counts the labels that ExportLabels() would return. `annotator` empty means the
  // consensus of all non-reference annotators.
  virtual absl::StatusOr<LabelTotals> CountLabels(const std::string& use_case,
                                                  const std::string& dataset,
                                                  const std::string& annotator) = 0;

  // Returns every label of `annotator` (empty: the consensus, ties left out).
  virtual absl::StatusOr<LabelSet> ExportLabels(const std::string& use_case,
                                                const std::string& dataset,
                                                const std::string& annotator) = 0;
};

// One instance of a dataset as far as training cares.
struct InstanceRecord {
  // "datasets/{d}/instances/{i}".
  std::string name;
  // Blob id of the prepared array; empty when the instance is not prepared.
  std::string array_blob;
  // Shape of the prepared array (for example {128, 128} or {1, 128, 128}).
  std::vector<int64_t> array_shape;
  // Split assigned by the ingest service.
  v1::DataSplit split = v1::DATA_SPLIT_UNSPECIFIED;
};

// Source of a dataset's instances (the ingest service).
class InstanceSource {
 public:
  virtual ~InstanceSource() = default;

  // Returns every instance of `dataset`.
  virtual absl::StatusOr<std::vector<InstanceRecord>> ListInstances(const std::string& dataset) = 0;
};

// The datasets a challenge scores submissions on, while it is not closed.
struct ReservedDatasets {
  // "challenges/{id}".
  std::string challenge;
  // User id of the challenge's owner, who may still train on them.
  std::string owner;
  // Its test dataset and its hidden final dataset.
  std::vector<std::string> datasets;
};

// Source of the challenges that are not closed (the evaluation service).
class ChallengeSource {
 public:
  virtual ~ChallengeSource() = default;

  // Returns the datasets of every challenge that is not closed.
  virtual absl::StatusOr<std::vector<ReservedDatasets>> ListReservedDatasets() = 0;
};

// Returns FAILED_PRECONDITION (DATASET_RESERVED_FOR_CHALLENGE) when `dataset` is one
// that a challenge in `reserved` scores on and `owner` does not own that challenge: a
// model trained on it would be scored on its own training labels.
absl::Status CheckDatasetNotReserved(const std::vector<ReservedDatasets>& reserved,
                                     const std::string& owner, const std::string& dataset);

// Makes the gRPC clients of the annotation, ingest and evaluation services at `address`.
std::unique_ptr<LabelSource> MakeAnnotationLabelSource(const std::string& address);
std::unique_ptr<InstanceSource> MakeIngestInstanceSource(const std::string& address);
std::unique_ptr<ChallengeSource> MakeEvaluationChallengeSource(const std::string& address);

}  // namespace ailab::training
