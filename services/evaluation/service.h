// The gRPC implementation of ailab.evaluation.v1.EvaluationService.
//
// Evaluations: CreateEvaluation checks the request, the use case, the models, the
// dataset's instances and the labels at once, then stores the evaluation RUNNING and
// queues it. A fixed set of runner threads takes each model's stored test predictions
// from training where they cover an instance, makes the missing predictions (several
// inference calls at a time) and computes the metrics (scoring.h). The metrics are stored with
// each model's predictions, which ComputeAtThreshold reads later.
//
// Challenges: SubmitToChallenge and CloseChallenge run in the calling thread. They
// send the model's probabilities to annotation's ScoreAgainstReference and keep only
// the aggregate scores it returns, so no reference label of a single image is ever
// seen here.
//
// EvaluationServiceImpl is thread-safe; gRPC calls its handlers concurrently.
// Shutdown() (also run by the destructor) cancels queued work and joins the runners.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ailab/evaluation/v1/evaluation.grpc.pb.h"
#include "services/evaluation/assessment.h"
#include "services/evaluation/backends.h"
#include "services/evaluation/scoring.h"
#include "services/evaluation/store.h"

namespace ailab::evaluation {

// Settings of the service.
struct ServiceOptions {
  // Evaluations that make predictions at the same time; more wait in a queue.
  int evaluation_runners = 2;
  // Inference calls in flight per evaluation model, submission or final scoring.
  int prediction_parallelism = 4;
  // Source of the current time; tests replace it.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

class EvaluationServiceImpl final : public v1::EvaluationService::Service {
 public:
  // `store` and `backends` are not owned and must outlive the service. Marks
  // evaluations and submissions left RUNNING or SCORING by an earlier process FAILED.
  // NOTE: this assumes one replica per database; a second replica starting would fail
  // the first one's work in progress.
  EvaluationServiceImpl(EvaluationStore* store, Backends* backends, ServiceOptions options);
  ~EvaluationServiceImpl() override;

  // Cancels queued evaluations and waits for the running ones to stop.
  void Shutdown();

  grpc::Status CreateEvaluation(grpc::ServerContext* context,
                                const v1::CreateEvaluationRequest* request,
                                v1::Evaluation* response) override;
  grpc::Status GetEvaluation(grpc::ServerContext* context, const v1::GetEvaluationRequest* request,
                             v1::Evaluation* response) override;
  grpc::Status ListEvaluations(grpc::ServerContext* context,
                               const v1::ListEvaluationsRequest* request,
                               v1::ListEvaluationsResponse* response) override;
  grpc::Status CancelEvaluation(grpc::ServerContext* context,
                                const v1::CancelEvaluationRequest* request,
                                v1::Evaluation* response) override;
  grpc::Status ComputeAtThreshold(grpc::ServerContext* context,
                                  const v1::ComputeAtThresholdRequest* request,
                                  v1::ComputeAtThresholdResponse* response) override;
  grpc::Status AssessModel(grpc::ServerContext* context, const v1::AssessModelRequest* request,
                           v1::AssessModelResponse* response) override;
  grpc::Status CreateChallenge(grpc::ServerContext* context,
                               const v1::CreateChallengeRequest* request,
                               v1::Challenge* response) override;
  grpc::Status GetChallenge(grpc::ServerContext* context, const v1::GetChallengeRequest* request,
                            v1::Challenge* response) override;
  grpc::Status ListChallenges(grpc::ServerContext* context,
                              const v1::ListChallengesRequest* request,
                              v1::ListChallengesResponse* response) override;
  grpc::Status SubmitToChallenge(grpc::ServerContext* context,
                                 const v1::SubmitToChallengeRequest* request,
                                 v1::Submission* response) override;
  grpc::Status ListSubmissions(grpc::ServerContext* context,
                               const v1::ListSubmissionsRequest* request,
                               v1::ListSubmissionsResponse* response) override;
  grpc::Status ListLeaderboardEntries(grpc::ServerContext* context,
                                      const v1::ListLeaderboardEntriesRequest* request,
                                      v1::ListLeaderboardEntriesResponse* response) override;
  grpc::Status CloseChallenge(grpc::ServerContext* context, const v1::CloseChallengeRequest* request,
                              v1::Challenge* response) override;

  // The handlers' logic; `caller` is the x-ailab-user of the call, if any.
  absl::StatusOr<v1::Evaluation> DoCreateEvaluation(const v1::CreateEvaluationRequest& request,
                                                    const std::optional<std::string>& caller);
  // Only the evaluation's owner may cancel it when `caller` is set (administrators and
  // platform services call with none).
  absl::StatusOr<v1::Evaluation> DoCancelEvaluation(
      const v1::CancelEvaluationRequest& request,
      const std::optional<std::string>& caller = std::nullopt);
  absl::StatusOr<v1::ComputeAtThresholdResponse> DoComputeAtThreshold(
      const v1::ComputeAtThresholdRequest& request);
  absl::StatusOr<v1::AssessModelResponse> DoAssessModel(const v1::AssessModelRequest& request);
  absl::StatusOr<v1::Challenge> DoCreateChallenge(const v1::CreateChallengeRequest& request,
                                                  const std::optional<std::string>& caller);
  absl::StatusOr<v1::Challenge> DoGetChallenge(const v1::GetChallengeRequest& request,
                                               const std::optional<std::string>& caller);
  absl::StatusOr<v1::ListChallengesResponse> DoListChallenges(
      const v1::ListChallengesRequest& request, const std::optional<std::string>& caller);
  absl::StatusOr<v1::Submission> DoSubmitToChallenge(const v1::SubmitToChallengeRequest& request,
                                                     const std::optional<std::string>& caller);
  absl::StatusOr<v1::ListSubmissionsResponse> DoListSubmissions(
      const v1::ListSubmissionsRequest& request, const std::optional<std::string>& caller);
  absl::StatusOr<v1::ListLeaderboardEntriesResponse> DoListLeaderboardEntries(
      const v1::ListLeaderboardEntriesRequest& request);
  absl::StatusOr<v1::Challenge> DoCloseChallenge(const v1::CloseChallengeRequest& request,
                                                 const std::optional<std::string>& caller);

 private:
  // A queued evaluation with what the runner needs.
  struct EvaluationJob {
    std::string id;
    std::vector<std::string> categories;
    // Labelled instances of the split, and their truth category indices.
    std::vector<std::string> instances;
    std::vector<int> truth;
    // Models with the mapping of their outputs onto the categories.
    std::vector<ModelInfo> models;
    std::vector<std::vector<int>> class_maps;
    double threshold = 0.5;
    std::shared_ptr<std::atomic<bool>> cancelled;
  };

  // Scores of one model on one dataset against its reference reader.
  struct DatasetScore {
    ReferenceScore score;
    v1::Interval kappa_interval;
  };

  void RunEvaluations();
  void RunEvaluation(const EvaluationJob& job);
  absl::StatusOr<v1::ModelResult> EvaluateModel(const EvaluationJob& job, size_t model_index,
                                                std::atomic<int64_t>& completed);
  absl::StatusOr<DatasetScore> ScoreOnDataset(const v1::Challenge& challenge,
                                              const std::string& model,
                                              const std::vector<int>& class_map,
                                              const std::string& dataset,
                                              const std::string& reference_reader);
  absl::StatusOr<std::vector<int>> ChallengeModelClasses(const v1::Challenge& challenge,
                                                         const ModelInfo& model);
  absl::StatusOr<UseCaseInfo> ClassificationUseCase(const std::string& name);
  // Checks AssessModel's window against its time range; `end` defaults to now.
  absl::StatusOr<WindowSpec> CheckWindows(const v1::AssessModelRequest& request,
                                          const std::optional<absl::Time>& start,
                                          const std::optional<absl::Time>& end);

  EvaluationStore* store_;
  Backends* backends_;
  ServiceOptions options_;

  std::mutex mutex_;
  std::condition_variable queue_changed_;
  std::deque<EvaluationJob> queue_;
  // Cancellation flags of queued and running evaluations, by id.
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> cancel_flags_;
  bool stopping_ = false;
  std::vector<std::thread> runners_;
};

}  // namespace ailab::evaluation
