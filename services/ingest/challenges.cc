#include "challenges.h"

#include "absl/strings/str_cat.h"
#include "ailab/rpc/client.h"
#include "ailab/status/status.h"

namespace ailab::ingest {
namespace {

namespace evaluation = ::ailab::evaluation::v1;

constexpr absl::Duration kCallTimeout = absl::Seconds(10);

class EvaluationChallengeDirectory : public ChallengeDirectory {
 public:
  explicit EvaluationChallengeDirectory(const std::string& address)
      : address_(address), stub_(evaluation::EvaluationService::NewStub(rpc::Connect(address))) {}

  absl::StatusOr<std::vector<OpenChallenge>> ListOpenChallenges() override {
    absl::StatusOr<std::vector<OpenChallenge>> open =
        challenges::ListOpenChallenges(*stub_, kCallTimeout);
    if (!open.ok()) {
      return Unavailable("CHALLENGES_UNAVAILABLE",
                         absl::StrCat("could not list the challenges of the evaluation service "
                                      "at ",
                                      address_, " (", open.status().message(),
                                      "); retry once it is reachable, or check "
                                      "--evaluation_address"));
    }
    return open;
  }

 private:
  std::string address_;
  std::unique_ptr<evaluation::EvaluationService::Stub> stub_;
};

}  // namespace

std::unique_ptr<ChallengeDirectory> MakeEvaluationChallengeDirectory(const std::string& address) {
  return std::make_unique<EvaluationChallengeDirectory>(address);
}

}  // namespace ailab::ingest
