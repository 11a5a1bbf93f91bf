#include "notifier.h"

namespace ailab::training {

std::unique_ptr<JobNotifier::Subscription> JobNotifier::Subscribe(const std::string& job) {
  absl::MutexLock lock(&mutex_);
  Slot& slot = slots_[job];
  slot.subscribers += 1;
  return std::unique_ptr<Subscription>(new Subscription(this, job, slot.sequence));
}

JobNotifier::Subscription::~Subscription() {
  absl::MutexLock lock(&notifier_->mutex_);
  auto it = notifier_->slots_.find(job_);
  if (it != notifier_->slots_.end() && --it->second.subscribers == 0) {
    notifier_->slots_.erase(it);
  }
}

bool JobNotifier::Subscription::WaitForChange(absl::Duration timeout) {
  absl::MutexLock lock(&notifier_->mutex_);
  const Slot& slot = notifier_->slots_[job_];
  auto changed = [this, &slot]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(notifier_->mutex_) {
    return slot.sequence != seen_ || notifier_->shut_down_;
  };
  bool notified = notifier_->mutex_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  bool was_changed = slot.sequence != seen_;
  seen_ = slot.sequence;
  return notified && was_changed;
}

void JobNotifier::Notify(const std::string& job) {
  absl::MutexLock lock(&mutex_);
  auto it = slots_.find(job);
  if (it != slots_.end()) it->second.sequence += 1;
}

void JobNotifier::Shutdown() {
  absl::MutexLock lock(&mutex_);
  shut_down_ = true;
}

bool JobNotifier::shut_down() const {
  absl::MutexLock lock(&mutex_);
  return shut_down_;
}

}  // namespace ailab::training
