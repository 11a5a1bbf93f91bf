// ChallengeSource over the evaluation service's ListChallenges.
#include "absl/strings/str_cat.h"
#include "ailab/evaluation/v1/evaluation.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "data_sources.h"

namespace ailab::training {
namespace {

namespace evaluation = ::ailab::evaluation::v1;

constexpr absl::Duration kCallTimeout = absl::Seconds(30);
constexpr int kPageSize = 1000;

class EvaluationChallengeSource : public ChallengeSource {
 public:
  explicit EvaluationChallengeSource(const std::string& address)
      : address_(address),
        stub_(evaluation::EvaluationService::NewStub(rpc::Connect(address))) {}

  absl::StatusOr<std::vector<ReservedDatasets>> ListReservedDatasets() override {
    std::vector<ReservedDatasets> reserved;
    std::string page_token;
    do {
      evaluation::ListChallengesRequest request;
      request.set_page_size(kPageSize);
      request.set_page_token(page_token);
      evaluation::ListChallengesResponse response;
      grpc::ClientContext context;
      rpc::SetTimeout(context, kCallTimeout);
      // As a platform call acting for no one, the response keeps the final datasets.
      rpc::AddInternalToken(context);
      grpc::Status status = stub_->ListChallenges(&context, request, &response);
      if (!status.ok()) {
        return Annotate(rpc::FromGrpcStatus(status),
                        absl::StrCat("evaluation service ", address_, " ListChallenges"));
      }
      for (const evaluation::Challenge& challenge : response.challenges()) {
        if (challenge.state() == evaluation::Challenge::CLOSED) continue;
        ReservedDatasets datasets;
        datasets.challenge = challenge.name();
        datasets.owner = challenge.owner();
        datasets.datasets = {challenge.test_dataset(), challenge.final_dataset()};
        reserved.push_back(std::move(datasets));
      }
      page_token = response.next_page_token();
    } while (!page_token.empty());
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
