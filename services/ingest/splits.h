// Patient-level assignment of a dataset to training, validation and test splits.
//
// Patients are ordered by SHA-256 of "<seed>:<pseudonym>", which depends on nothing
// but the seed and the patient. The first round(n * train) patients go to TRAIN, the
// next ones up to round(n * (train + validation)) to VALIDATION, and the rest to TEST.
// So the same seed and patients always give the same assignment, adding patients
// moves few others, and all images of one patient share a split.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ailab/ingest/v1/ingest.pb.h"

namespace ailab::ingest {

// Shares of patients per split.
struct SplitFractions {
  double train = 0.7;
  double validation = 0.15;
  double test = 0.15;
};

// Checks that each fraction is 0 to 1 and that they sum to 1 within 0.001.
absl::Status ValidateSplitFractions(const SplitFractions& fractions);

// Returns the split of each of `patients` (duplicates are ignored).
absl::StatusOr<std::map<std::string, v1::DataSplit>> AssignPatientSplits(
    const std::vector<std::string>& patients, const SplitFractions& fractions, int64_t seed);

}  // namespace ailab::ingest
