// The challenges that are not closed and the datasets they score on, from the
// evaluation service. Ingest keeps those datasets from being deleted, and keeps each
// challenge's hidden final dataset out of sight of the people who compete in it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ailab/challenges/open_challenges.h"

namespace ailab::ingest {

using challenges::OpenChallenge;

class ChallengeDirectory {
 public:
  virtual ~ChallengeDirectory() = default;

  // Lists every challenge that is not closed. UNAVAILABLE (reason
  // CHALLENGES_UNAVAILABLE) when the directory cannot be reached.
  virtual absl::StatusOr<std::vector<OpenChallenge>> ListOpenChallenges() = 0;
};

// Calls the evaluation service at `address` (host:port) with the internal token, so the
// list includes the hidden final datasets.
std::unique_ptr<ChallengeDirectory> MakeEvaluationChallengeDirectory(const std::string& address);

}  // namespace ailab::ingest
