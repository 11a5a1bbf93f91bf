// The training worker's job loop: takes entries from the Redis training queue, runs
// each job's attempt with ailab::torch, tests the model on the TEST split and reports
// everything to the training service.
//
// One job at a time. While an attempt runs, a heartbeat thread renews the job's lease
// in Redis and checks with the service whether the job was cancelled. Stop() (SIGTERM) makes
// the loop take no new entry and stops the running attempt at the next training step;
// the attempt is then reported as preempted, so the service queues the job again.
//
// Run() and Stop() may be called from different threads; everything else is internal.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "ailab/blob/blob_store.h"
#include "ailab/queue/job_queue.h"
#include "ailab/training/v1/training.grpc.pb.h"

namespace ailab::worker {

namespace v1 = ::ailab::training::v1;

// Settings of a worker, from its flags.
struct WorkerOptions {
  // Consumer name in the queue group and holder name of leases.
  std::string worker_id;
  // GPUs and memory (MiB, 0: no limit) this worker offers; larger jobs are passed on.
  int gpu_count = 0;
  int64_t memory_mb = 0;
  // LibTorch CPU threads (0: the number of cores).
  int threads = 0;
  // cpu, cuda or auto.
  std::string device = "auto";
  // Folder for per-attempt files (checkpoints, exported models); removed after each job.
  std::string work_dir = "var/worker";
  // Folder with ImageNet weights as <architecture>.pt, for jobs with pretrained set.
  std::string pretrained_weights_dir;
  // Time between heartbeats (lease renewal and cancellation check).
  absl::Duration heartbeat_interval = absl::Seconds(2);
  // Maximum wait for a new queue entry before checking for Stop().
  absl::Duration consume_block = absl::Seconds(2);
  // Queue settings (Redis address, key prefix, lease TTL).
  queue::QueueOptions queue;
};

class Worker {
 public:
  Worker(WorkerOptions options, std::shared_ptr<v1::TrainingService::Stub> service,
         blob::BlobStore blobs);
  ~Worker();

  // Runs the loop until Stop(); reconnects to Redis with back-off when it is down.
  void Run();

  // Asks the loop to stop: no new job is taken and the current attempt stops soon.
  void Stop();

 private:
  class Attempt;

  // Handles one queue entry from reading to acknowledging.
  void Handle(const queue::Delivery& delivery);
  // Passes an entry this worker cannot run back to the queue for other workers.
  void Bounce(const queue::Delivery& delivery);

  WorkerOptions options_;
  std::shared_ptr<v1::TrainingService::Stub> service_;
  blob::BlobStore blobs_;
  std::unique_ptr<queue::JobQueue> queue_;
  absl::Notification stop_;
};

// Returns true for error codes after which another attempt may succeed.
bool IsRetryable(absl::StatusCode code);

}  // namespace ailab::worker
