// Which datasets the challenges that are not closed score on, so that the ingest
// service does not delete a dataset a challenge still needs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ailab::ingest {

class ChallengeDirectory {
 public:
  virtual ~ChallengeDirectory() = default;

  // Names ("challenges/ID") of the challenges that are not closed and score `dataset`
  // ("datasets/ID") on every submission or at their close. UNAVAILABLE when the
  // directory cannot be asked.
  virtual absl::StatusOr<std::vector<std::string>> ChallengesScoring(
      const std::string& dataset) = 0;
};

// Calls the evaluation service at `address` (host:port) with the internal token, so the
// list includes the hidden final datasets.
std::unique_ptr<ChallengeDirectory> MakeEvaluationChallengeDirectory(const std::string& address);

}  // namespace ailab::ingest
