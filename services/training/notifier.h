// Wakes WatchTrainingJob streams of this replica when a request of this replica
// changes their job. Changes made by other replicas are found by polling the
// database, so a missed notification only delays an update.
//
// JobNotifier is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ailab::training {

class JobNotifier {
 public:
  // Interest in one job's changes, from its creation on.
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

    // Waits until the job was notified since the last call (or since the subscription
    // was made), the notifier shuts down, or `timeout` passes. Returns true when
    // notified.
    bool WaitForChange(absl::Duration timeout);

   private:
    friend class JobNotifier;
    Subscription(JobNotifier* notifier, std::string job, uint64_t seen)
        : notifier_(notifier), job_(std::move(job)), seen_(seen) {}
    JobNotifier* notifier_;
    std::string job_;
    uint64_t seen_;
  };

  // Subscribes to changes of `job` (a job name).
  std::unique_ptr<Subscription> Subscribe(const std::string& job);

  // Wakes the subscribers of `job`.
  void Notify(const std::string& job);

  // Wakes every subscriber for good, so that streams end before the server stops.
  void Shutdown();

  bool shut_down() const;

 private:
  struct Slot {
    uint64_t sequence = 0;
    int subscribers = 0;
  };
  mutable absl::Mutex mutex_;
  std::map<std::string, Slot> slots_ ABSL_GUARDED_BY(mutex_);
  bool shut_down_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace ailab::training
