// ChallengeSource over the evaluation service's ListChallenges.
#include <utility>

#include "absl/strings/str_cat.h"
#include "ailab/challenges/open_challenges.h"
#include "ailab/evaluation/v1/evaluation.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/status/status.h"
#include "data_sources.h"

namespace ailab::training {
namespace {

namespace evaluation = ::ailab::evaluation::v1;

constexpr absl::Duration kCallTimeout = absl::Seconds(30);

class EvaluationChallengeSource : public ChallengeSource {
 public:
  explicit EvaluationChallengeSource(const std::string& address)
      : address_(address),
        stub_(evaluation::EvaluationService::NewStub(rpc::Connect(address))) {}

  absl::StatusOr<std::vector<ReservedDatasets>> ListReservedDatasets() override {
    absl::StatusOr<std::vector<challenges::OpenChallenge>> open =
        challenges::ListOpenChallenges(*stub_, kCallTimeout);
    if (!open.ok()) {
      return Annotate(open.status(),
                      absl::StrCat("evaluation service ", address_, " ListChallenges"));
    }
    std::vector<ReservedDatasets> reserved;
    for (challenges::OpenChallenge& challenge : *open) {
      reserved.push_back({std::move(challenge.name),
                          std::move(challenge.owner),
                          {std::move(challenge.test_dataset), std::move(challenge.final_dataset)}});
    }
    return reserved;
  }

 private:
  std::string address_;
  std::unique_ptr<evaluation::EvaluationService::Stub> stub_;
};

}  // namespace

absl::Status CheckDatasetNotReserved(const std::vector<ReservedDatasets>& reserved,
                                     const std::string& owner, const std::string& dataset) {
  for (const ReservedDatasets& challenge : reserved) {
    if (challenge.owner == owner) continue;
    for (const std::string& scored : challenge.datasets) {
      if (scored != dataset) continue;
      return FailedPrecondition(
          "DATASET_RESERVED_FOR_CHALLENGE",
          absl::StrCat("dataset \"", dataset, "\" is scored by ", challenge.challenge,
                       ", which is not closed, so a model trained on it would be scored on its "
                       "own training labels; train on another dataset, or after the challenge "
                       "closes"),
          {{"dataset", dataset}, {"challenge", challenge.challenge}});
    }
  }
  return absl::OkStatus();
}

std::unique_ptr<ChallengeSource> MakeEvaluationChallengeSource(const std::string& address) {
  return std::make_unique<EvaluationChallengeSource>(address);
}

}  // namespace ailab::training
