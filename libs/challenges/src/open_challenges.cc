#include "ailab/challenges/open_challenges.h"

#include "ailab/rpc/client.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"

namespace ailab::challenges {

absl::StatusOr<std::vector<OpenChallenge>> ListOpenChallenges(
    evaluation::v1::EvaluationService::Stub& stub, absl::Duration timeout) {
  constexpr int kPageSize = 1000;
  std::vector<OpenChallenge> open;
  std::string page_token;
  do {
    evaluation::v1::ListChallengesRequest request;
    request.set_page_size(kPageSize);
    request.set_page_token(page_token);
    evaluation::v1::ListChallengesResponse response;
    grpc::ClientContext context;
    rpc::SetTimeout(context, timeout);
    rpc::AddInternalToken(context);
    grpc::Status status = stub.ListChallenges(&context, request, &response);
    if (!status.ok()) return rpc::FromGrpcStatus(status);
    for (const evaluation::v1::Challenge& challenge : response.challenges()) {
      if (challenge.state() == evaluation::v1::Challenge::CLOSED) continue;
      open.push_back({challenge.name(), challenge.owner(), challenge.test_dataset(),
                      challenge.final_dataset()});
    }
    page_token = response.next_page_token();
  } while (!page_token.empty());
  return open;
}

}  // namespace ailab::challenges
