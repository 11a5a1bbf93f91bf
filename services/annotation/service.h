// The gRPC implementation of ailab.annotation.v1.AnnotationService.
//
// Each handler checks its request, looks up the use case and dataset through the
// CachingDirectory (catalog and ingest), applies the caller rules described in
// annotation.proto, and reads or writes the AnnotationStore. Handlers return
// absl::Status internally and convert it with ailab::rpc::ToGrpcStatus at the edge.
//
// AnnotationServiceImpl is thread-safe; gRPC calls its handlers concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ailab/annotation/v1/annotation.grpc.pb.h"
#include "grpcpp/server_context.h"
#include "services/annotation/directories.h"
#include "services/annotation/store.h"

namespace ailab::annotation {

// gRPC metadata key carrying the authenticated user id of the caller.
inline constexpr char kUserMetadataKey[] = "x-ailab-user";

// Settings of the service.
struct ServiceOptions {
  // Minimum number of instances that GetAgreement compares and ScoreAgainstReference
  // scores. Below it they fail with FAILED_PRECONDITION.
  int64_t min_reference_overlap = 10;
};

// Identity of the caller: the user of a signed x-ailab-identity, or of kUserMetadataKey
// from a caller holding the internal token (see ailab/rpc/identity.h); none for a
// trusted platform service.
struct Caller {
  std::optional<std::string> user;
};

// Returns the caller of a call from its metadata; UNAUTHENTICATED for a bad or expired
// signature, or an unsigned user without the internal token while one is configured.
absl::StatusOr<Caller> CallerOf(const grpc::ServerContextBase& context);

// SaveAnnotation, the busiest method, uses gRPC's callback API. It queues the save in
// the store, and the store's writer thread finishes the call once the save is written,
// so no thread waits for PostgreSQL per call. The other methods are synchronous.
class AnnotationServiceImpl final : public v1::AnnotationService::WithCallbackMethod_SaveAnnotation<
                                        v1::AnnotationService::Service> {
 public:
  // `store` and `directory` are not owned and must outlive the service.
  AnnotationServiceImpl(AnnotationStore* store, CachingDirectory* directory,
                        ServiceOptions options);

  grpc::ServerUnaryReactor* SaveAnnotation(grpc::CallbackServerContext* context,
                                           const v1::SaveAnnotationRequest* request,
                                           v1::SaveAnnotationResponse* response) override;
  grpc::Status SkipInstance(grpc::ServerContext* context, const v1::SkipInstanceRequest* request,
                            v1::SkipInstanceResponse* response) override;
  grpc::Status GetNextInstance(grpc::ServerContext* context,
                               const v1::GetNextInstanceRequest* request,
                               v1::GetNextInstanceResponse* response) override;
  grpc::Status FinishSession(grpc::ServerContext* context, const v1::FinishSessionRequest* request,
                             v1::FinishSessionResponse* response) override;
  grpc::Status ListAnnotations(grpc::ServerContext* context,
                               const v1::ListAnnotationsRequest* request,
                               v1::ListAnnotationsResponse* response) override;
  grpc::Status GetAnnotation(grpc::ServerContext* context, const v1::GetAnnotationRequest* request,
                             v1::Annotation* response) override;
  grpc::Status GetAnnotationProgress(grpc::ServerContext* context,
                                     const v1::GetAnnotationProgressRequest* request,
                                     v1::AnnotationProgress* response) override;
  grpc::Status SetQuota(grpc::ServerContext* context, const v1::SetQuotaRequest* request,
                        v1::Quota* response) override;
  grpc::Status CreateContest(grpc::ServerContext* context, const v1::CreateContestRequest* request,
                             v1::Contest* response) override;
  grpc::Status GetContest(grpc::ServerContext* context, const v1::GetContestRequest* request,
                          v1::Contest* response) override;
  grpc::Status ListContests(grpc::ServerContext* context, const v1::ListContestsRequest* request,
                            v1::ListContestsResponse* response) override;
  grpc::Status ListAnnotatorRankings(grpc::ServerContext* context,
                                     const v1::ListAnnotatorRankingsRequest* request,
                                     v1::ListAnnotatorRankingsResponse* response) override;
  grpc::Status SetReferenceReader(grpc::ServerContext* context,
                                  const v1::SetReferenceReaderRequest* request,
                                  v1::ReferenceReader* response) override;
  grpc::Status GetReferenceReader(grpc::ServerContext* context,
                                  const v1::GetReferenceReaderRequest* request,
                                  v1::ReferenceReader* response) override;
  grpc::Status GetAgreement(grpc::ServerContext* context, const v1::GetAgreementRequest* request,
                            v1::Agreement* response) override;
  grpc::Status ExportLabels(grpc::ServerContext* context, const v1::ExportLabelsRequest* request,
                            v1::ExportLabelsResponse* response) override;
  grpc::Status CountLabels(grpc::ServerContext* context, const v1::CountLabelsRequest* request,
                           v1::CountLabelsResponse* response) override;
  grpc::Status ScoreAgainstReference(grpc::ServerContext* context,
                                     const v1::ScoreAgainstReferenceRequest* request,
                                     v1::ScoreAgainstReferenceResponse* response) override;

  // The handlers without gRPC types, for tests and for the gRPC methods above.
  absl::StatusOr<v1::SaveAnnotationResponse> DoSaveAnnotation(
      const Caller& caller, const v1::SaveAnnotationRequest& request);
  // Checks the request, then queues the save. Runs `done` once: on the store's writer
  // thread, or before returning when a check fails. NOTE: a check can block, because a
  // use case or listing missing from the cache is fetched, and a caller acting for no
  // user needs a database look-up of the reference reader.
  using SaveAnnotationDone = std::function<void(absl::StatusOr<v1::SaveAnnotationResponse>)>;
  void DoSaveAnnotationAsync(const Caller& caller, const v1::SaveAnnotationRequest& request,
                             SaveAnnotationDone done);
  absl::StatusOr<v1::SkipInstanceResponse> DoSkipInstance(const Caller& caller,
                                                          const v1::SkipInstanceRequest& request);
  absl::StatusOr<v1::GetNextInstanceResponse> DoGetNextInstance(
      const Caller& caller, const v1::GetNextInstanceRequest& request);
  absl::StatusOr<v1::FinishSessionResponse> DoFinishSession(
      const Caller& caller, const v1::FinishSessionRequest& request);
  absl::StatusOr<v1::ListAnnotationsResponse> DoListAnnotations(
      const Caller& caller, const v1::ListAnnotationsRequest& request);
  absl::StatusOr<v1::Annotation> DoGetAnnotation(const Caller& caller,
                                                 const v1::GetAnnotationRequest& request);
  absl::StatusOr<v1::AnnotationProgress> DoGetAnnotationProgress(
      const Caller& caller, const v1::GetAnnotationProgressRequest& request);
  absl::StatusOr<v1::Quota> DoSetQuota(const v1::SetQuotaRequest& request);
  absl::StatusOr<v1::Contest> DoCreateContest(const v1::CreateContestRequest& request);
  absl::StatusOr<v1::Contest> DoGetContest(const v1::GetContestRequest& request);
  absl::StatusOr<v1::ListContestsResponse> DoListContests(const v1::ListContestsRequest& request);
  absl::StatusOr<v1::ListAnnotatorRankingsResponse> DoListAnnotatorRankings(
      const v1::ListAnnotatorRankingsRequest& request);
  absl::StatusOr<v1::ReferenceReader> DoSetReferenceReader(
      const v1::SetReferenceReaderRequest& request);
  absl::StatusOr<v1::ReferenceReader> DoGetReferenceReader(
      const v1::GetReferenceReaderRequest& request);
  absl::StatusOr<v1::Agreement> DoGetAgreement(const Caller& caller,
                                               const v1::GetAgreementRequest& request);
  absl::StatusOr<v1::ExportLabelsResponse> DoExportLabels(const v1::ExportLabelsRequest& request);
  absl::StatusOr<v1::CountLabelsResponse> DoCountLabels(const v1::CountLabelsRequest& request);
  absl::StatusOr<v1::ScoreAgainstReferenceResponse> DoScoreAgainstReference(
      const v1::ScoreAgainstReferenceRequest& request);

 private:
  // Labels chosen for training: one annotator's or the majority vote, in dataset order.
  struct TrainingLabels {
    UseCaseInfo use_case;
    std::vector<v1::InstanceLabel> labels;
    int64_t tied_count = 0;
  };

  // Checks the use case and dataset fields and that both exist; returns the use case.
  absl::StatusOr<UseCaseInfo> ResolveSet(const std::string& use_case, const std::string& dataset);

  // Rejects a call that acts for `annotator` when the caller is someone else, and any
  // call acting for the reference reader of the use case and dataset unless the
  // caller is that reader.
  absl::Status CheckActingAs(const Caller& caller, const std::string& use_case,
                             const std::string& dataset, const std::string& annotator);

  // Returns the reference reader's user id, or FAILED_PRECONDITION when none is set.
  absl::StatusOr<std::string> RequireReferenceReader(const std::string& use_case,
                                                     const std::string& dataset);

  // Returns the progress of `set` (counts, total instances and quota).
  absl::StatusOr<v1::AnnotationProgress> Progress(const AnnotatorSet& set);

  // Collects ExportLabels' labels; shared with CountLabels.
  absl::StatusOr<TrainingLabels> CollectTrainingLabels(const std::string& use_case,
                                                       const std::string& dataset,
                                                       const std::string& annotator,
                                                       v1::TieRule tie_rule);

  AnnotationStore* store_;
  CachingDirectory* directory_;
  ServiceOptions options_;
};

}  // namespace ailab::annotation
