// The gRPC implementation of ailab.evaluation.v1.PublishingService.
//
// PublishModel builds the package in the calling thread (reading the model's files
// through Backends), stores the publication PUBLISHING, or finds the one that has the
// same model, destination and package checksum, and queues it. One publisher thread
// makes the delivery attempts in order of their due time. A failed attempt that may
// succeed later is queued again after an exponential back-off (initial_backoff,
// doubled per attempt, capped at max_backoff), up to max_attempts per PublishModel.
//
// Packages wait in memory while queued, so a restart cannot resume them: the
// constructor marks publications left PUBLISHING as FAILED, and publishing the same
// package again restarts the same publication.
//
// PublishingServiceImpl is thread-safe. Shutdown() (also run by the destructor) stops
// the publisher thread after its current attempt.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ailab/evaluation/v1/publishing.grpc.pb.h"
#include "services/evaluation/backends.h"
#include "services/evaluation/package.h"
#include "services/evaluation/publishing_store.h"

namespace ailab::evaluation {

// Settings of publishing.
struct PublishingOptions {
  // Delivery attempts per PublishModel call before the publication FAILS.
  int max_attempts = 5;
  // Wait before the second attempt; each later wait doubles, up to max_backoff.
  absl::Duration initial_backoff = absl::Seconds(2);
  absl::Duration max_backoff = absl::Minutes(5);
  // Limit of connecting, sending and receiving for one HTTP attempt.
  absl::Duration http_timeout = absl::Seconds(60);
  // User ids that may create destinations, besides callers without x-ailab-user.
  std::set<std::string> administrators;
  // Source of the recorded times; tests replace it. Back-off waits use real time.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

class PublishingServiceImpl final : public v1::PublishingService::Service {
 public:
  // `store` and `backends` are not owned and must outlive the service.
  PublishingServiceImpl(PublishingStore* store, Backends* backends, PublishingOptions options);
  ~PublishingServiceImpl() override;

  // Stops the publisher thread; queued attempts are dropped and stay PUBLISHING until
  // the next start marks them FAILED.
  void Shutdown();

  grpc::Status CreateDestination(grpc::ServerContext* context,
                                 const v1::CreateDestinationRequest* request,
                                 v1::Destination* response) override;
  grpc::Status GetDestination(grpc::ServerContext* context,
                              const v1::GetDestinationRequest* request,
                              v1::Destination* response) override;
  grpc::Status ListDestinations(grpc::ServerContext* context,
                                const v1::ListDestinationsRequest* request,
                                v1::ListDestinationsResponse* response) override;
  grpc::Status PublishModel(grpc::ServerContext* context, const v1::PublishModelRequest* request,
                            v1::Publication* response) override;
  grpc::Status GetPublication(grpc::ServerContext* context,
                              const v1::GetPublicationRequest* request,
                              v1::Publication* response) override;
  grpc::Status ListPublications(grpc::ServerContext* context,
                                const v1::ListPublicationsRequest* request,
                                v1::ListPublicationsResponse* response) override;

  // The handlers' logic; `caller` is the x-ailab-user of the call, if any.
  absl::StatusOr<v1::Destination> DoCreateDestination(const v1::CreateDestinationRequest& request,
                                                      const std::optional<std::string>& caller);
  absl::StatusOr<v1::Destination> DoGetDestination(const v1::GetDestinationRequest& request);
  absl::StatusOr<v1::ListDestinationsResponse> DoListDestinations(
      const v1::ListDestinationsRequest& request);
  absl::StatusOr<v1::Publication> DoPublishModel(const v1::PublishModelRequest& request,
                                                 const std::optional<std::string>& caller);
  absl::StatusOr<v1::Publication> DoGetPublication(const v1::GetPublicationRequest& request);
  absl::StatusOr<v1::ListPublicationsResponse> DoListPublications(
      const v1::ListPublicationsRequest& request);

 private:
  // A queued delivery attempt.
  struct Job {
    std::string publication_id;
    StoredDestination destination;
    std::string model_id;
    std::shared_ptr<const ModelPackage> package;
    // Attempts already made in this PublishModel run.
    int attempts_in_run = 0;
  };

  void RunPublisher();
  // Makes one attempt of `job`; returns the back-off when it should be queued again.
  std::optional<absl::Duration> Attempt(Job& job);
  void Enqueue(Job job, absl::Time due);

  PublishingStore* store_;
  Backends* backends_;
  PublishingOptions options_;

  // Held by PublishModel around the store call and the queueing, and by the publisher
  // around storing an attempt, so that a publication seen FAILED is never still queued
  // and one is never queued twice. Taken before `mutex_`.
  std::mutex publish_mutex_;
  std::mutex mutex_;
  std::condition_variable queue_changed_;
  // Jobs by the real time at which their next attempt is due.
  std::multimap<absl::Time, Job> queue_;
  bool stopping_ = false;
  std::thread publisher_;
};

}  // namespace ailab::evaluation
