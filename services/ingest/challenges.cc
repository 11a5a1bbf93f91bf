#include "challenges.h"

#include "absl/strings/str_cat.h"
#include "ailab/evaluation/v1/evaluation.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"

namespace ailab::ingest {
namespace {

namespace evaluation = ::ailab::evaluation::v1;

constexpr absl::Duration kCallTimeout = absl::Seconds(10);
constexpr int kPageSize = 1000;

class EvaluationChallengeDirectory : public ChallengeDirectory {
 public:
  explicit EvaluationChallengeDirectory(const std::string& address)
      : address_(address), stub_(evaluation::EvaluationService::NewStub(rpc::Connect(address))) {}

  absl::StatusOr<std::vector<OpenChallenge>> ListOpenChallenges() override {
    std::vector<OpenChallenge> open;
    std::string page_token;
    do {
      evaluation::ListChallengesRequest request;
      request.set_page_size(kPageSize);
      request.set_page_token(page_token);
      evaluation::ListChallengesResponse response;
      grpc::ClientContext context;
      rpc::SetTimeout(context, kCallTimeout);
      // A platform call acting for no one gets every challenge's final dataset.
      rpc::AddInternalToken(context);
      grpc::Status status = stub_->ListChallenges(&context, request, &response);
      if (!status.ok()) {
        return Unavailable("CHALLENGES_UNAVAILABLE",
                           absl::StrCat("could not list the challenges of the evaluation service "
                                        "at ",
                                        address_, " (", status.error_message(),
                                        "); retry once it is reachable, or check "
                                        "--evaluation_address"));
      }
      for (const evaluation::Challenge& challenge : response.challenges()) {
        if (challenge.state() == evaluation::Challenge::CLOSED) continue;
        open.push_back({challenge.name(), challenge.owner(), challenge.test_dataset(),
                        challenge.final_dataset()});
      }
      page_token = response.next_page_token();
    } while (!page_token.empty());
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
