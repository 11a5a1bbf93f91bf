// A fixed set of threads running queued tasks, with a bounded queue so that a flood
// of requests is rejected (503) instead of queued without limit.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace ailab::gateway {

class WorkerPool {
 public:
  WorkerPool(int threads, size_t max_queued);
  ~WorkerPool();  // runs the queued tasks, then joins

  // Queues `task`; false when the queue is full or the pool is stopping.
  bool Submit(std::function<void()> task);

 private:
  void Loop();

  const size_t max_queued_;
  absl::Mutex mutex_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace ailab::gateway
