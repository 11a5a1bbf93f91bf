// ailab.training.v1.TrainingService: training jobs, the worker protocol and models.
//
// Request handlers run on gRPC's thread pool and keep no state of their own: every
// job change goes through Store::UpdateJob, which serialises changes of one job
// across threads and replicas. A maintenance thread writes queue entries that a
// crash or a Redis outage left unwritten, and takes back queue entries of workers
// whose lease expired (re-queueing their jobs or failing them after max_attempts).
// Jobs reach the queue through a dispatch window: at most dispatch_window entries wait
// unread in Redis, and the rest are written in an order that is fair between owners.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "ailab/blob/blob_store.h"
#include "ailab/queue/job_queue.h"
#include "ailab/training/v1/training.grpc.pb.h"
#include "data_sources.h"
#include "notifier.h"
#include "store.h"

namespace ailab::training {

// Settings of the service.
struct ServiceOptions {
  // Failed attempts after which a job is FAILED.
  int max_attempts = 3;
  // How often WatchTrainingJob reads the job for changes made by other replicas.
  absl::Duration watch_poll = absl::Milliseconds(500);
  // How long a queue entry stays pending before the maintenance pass checks its lease.
  // Must exceed the workers' lease TTL.
  absl::Duration reclaim_min_idle = absl::Seconds(30);
  // Time between maintenance passes.
  absl::Duration maintenance_interval = absl::Seconds(5);
  // Queue entries that may wait unread at once. Jobs beyond it stay in PostgreSQL and
  // are written one by one as workers read entries, choosing first the owner with the
  // fewest active jobs, so that one owner's many jobs cannot delay everyone else's.
  int dispatch_window = 8;
  // Consumer name of this replica in the queue's consumer group.
  std::string replica_id = "training-service";
};

class TrainingService final : public v1::TrainingService::Service {
 public:
  // None of the pointers is owned; all must outlive the service. `challenges` may be
  // null, which turns off the check that jobs avoid the datasets of open challenges.
  TrainingService(Store* store, queue::JobQueue* queue, blob::BlobStore blobs, LabelSource* labels,
                  InstanceSource* instances, ChallengeSource* challenges,
                  ServiceOptions options);
  ~TrainingService() override;

  // Starts the maintenance thread.
  void StartMaintenance();

  // Stops the maintenance thread and ends every WatchTrainingJob stream.
  void Shutdown();

  // Runs one maintenance pass: writes missing queue entries and handles stale ones.
  void RunMaintenance();

  grpc::Status CreateTrainingJob(grpc::ServerContext* context,
                                 const v1::CreateTrainingJobRequest* request,
                                 v1::TrainingJob* response) override;
  grpc::Status GetTrainingJob(grpc::ServerContext* context,
                              const v1::GetTrainingJobRequest* request,
                              v1::TrainingJob* response) override;
  grpc::Status ListTrainingJobs(grpc::ServerContext* context,
                                const v1::ListTrainingJobsRequest* request,
                                v1::ListTrainingJobsResponse* response) override;
  grpc::Status CancelTrainingJob(grpc::ServerContext* context,
                                 const v1::CancelTrainingJobRequest* request,
                                 v1::TrainingJob* response) override;
  grpc::Status WatchTrainingJob(grpc::ServerContext* context,
                                const v1::WatchTrainingJobRequest* request,
                                grpc::ServerWriter<v1::TrainingJob>* writer) override;
  grpc::Status StartTrainingAttempt(grpc::ServerContext* context,
                                    const v1::StartTrainingAttemptRequest* request,
                                    v1::StartTrainingAttemptResponse* response) override;
  grpc::Status ReportTrainingProgress(grpc::ServerContext* context,
                                      const v1::ReportTrainingProgressRequest* request,
                                      v1::ReportTrainingProgressResponse* response) override;
  grpc::Status CompleteTrainingJob(grpc::ServerContext* context,
                                   const v1::CompleteTrainingJobRequest* request,
                                   v1::Model* response) override;
  grpc::Status FailTrainingAttempt(grpc::ServerContext* context,
                                   const v1::FailTrainingAttemptRequest* request,
                                   v1::TrainingJob* response) override;
  grpc::Status GetModel(grpc::ServerContext* context, const v1::GetModelRequest* request,
                        v1::Model* response) override;
  grpc::Status ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  grpc::Status UpdateModel(grpc::ServerContext* context, const v1::UpdateModelRequest* request,
                           v1::Model* response) override;
  grpc::Status DeleteModel(grpc::ServerContext* context, const v1::DeleteModelRequest* request,
                           google::protobuf::Empty* response) override;
  grpc::Status ListTestPredictions(grpc::ServerContext* context,
                                   const v1::ListTestPredictionsRequest* request,
                                   v1::ListTestPredictionsResponse* response) override;

 private:
  absl::Status Create(const v1::CreateTrainingJobRequest& request, v1::TrainingJob* response);
  absl::Status Cancel(const grpc::ServerContext* context,
                      const v1::CancelTrainingJobRequest& request, v1::TrainingJob* response);
  absl::Status Watch(grpc::ServerContext* context, const v1::WatchTrainingJobRequest& request,
                     grpc::ServerWriter<v1::TrainingJob>* writer);
  absl::Status StartAttempt(const v1::StartTrainingAttemptRequest& request,
                            v1::StartTrainingAttemptResponse* response);
  absl::Status ReportProgress(const v1::ReportTrainingProgressRequest& request,
                              v1::ReportTrainingProgressResponse* response);
  absl::Status Complete(const v1::CompleteTrainingJobRequest& request, v1::Model* response);
  absl::Status Fail(const v1::FailTrainingAttemptRequest& request, v1::TrainingJob* response);
  absl::Status ChangeModel(const grpc::ServerContext* context, const v1::UpdateModelRequest& request,
                           v1::Model* response);

  // Writes the queue entry of the job's current generation.
  absl::Status WriteEntry(const StoredJob& stored);
  // Writes entries of waiting jobs, fairly between owners, until the window is full
  // or no job waits.
  void Dispatch();
  // Asks the dispatcher thread to run Dispatch() soon; returns at once.
  void RequestDispatch();
  // Body of the dispatcher thread.
  void RunDispatcher();
  // Settles a queue entry whose worker lost its lease.
  absl::Status HandleStaleEntry(const queue::Delivery& delivery);
  // Ends the attempt of a RUNNING or CANCELLING job whose worker is gone: queues it
  // again (or fails it after max_attempts, or ends a cancellation). Does nothing when
  // the job moved past queue generation `generation` meanwhile.
  absl::StatusOr<StoredJob> RecoverLostJob(const std::string& id, int32_t generation);
  // Recovers active jobs without a live lease that have not changed for
  // reclaim_min_idle.
  void SweepActiveJobs();
  // Reads and parses a manifest blob.
  absl::StatusOr<v1::TrainingManifest> ReadManifest(const std::string& blob_id);
  // Checks that `blob_id` is a stored blob; `field` names the request field.
  absl::Status CheckBlob(const std::string& blob_id, absl::string_view field);

  Store* store_;
  queue::JobQueue* queue_;
  blob::BlobStore blobs_;
  LabelSource* labels_;
  InstanceSource* instances_;
  ChallengeSource* challenges_;
  ServiceOptions options_;
  JobNotifier notifier_;
  absl::Notification stop_;
  std::thread maintenance_;
  // Serialises Dispatch() within this replica (the store serialises replicas).
  absl::Mutex dispatch_mutex_;
  absl::Mutex dispatch_request_mutex_;
  absl::CondVar dispatch_requested_changed_;
  bool dispatch_requested_ ABSL_GUARDED_BY(dispatch_request_mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(dispatch_request_mutex_) = false;
  std::thread dispatcher_;
};

}  // namespace ailab::training
