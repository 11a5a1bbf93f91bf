// Lists the challenges that are not closed, with the datasets they score on, for the
// services that guard those datasets: training (no training on them) and ingest (no
// deletion, and the final dataset hidden from competitors).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ailab/evaluation/v1/evaluation.grpc.pb.h"

namespace ailab::challenges {

// A challenge that is open, or not yet open, and so not closed.
struct OpenChallenge {
  // "challenges/ID".
  std::string name;
  // User id of its creator.
  std::string owner;
  // "datasets/ID" scored on every submission.
  std::string test_dataset;
  // "datasets/ID" scored at the close, hidden from participants.
  std::string final_dataset;
};

// Lists every challenge that is not closed, page by page, through `stub`. Each call
// carries the internal token and acts for no one, so the final datasets are included.
// `timeout` bounds each page. A failed call returns its gRPC status as an absl::Status.
absl::StatusOr<std::vector<OpenChallenge>> ListOpenChallenges(
    evaluation::v1::EvaluationService::Stub& stub, absl::Duration timeout);

}  // namespace ailab::challenges
