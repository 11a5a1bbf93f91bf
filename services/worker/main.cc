// ailab-worker: a GPU (or CPU) training worker. It reads jobs from the Redis training
// queue, trains them with LibTorch, and reports to the training service. It also serves
// gRPC health checking and reflection on --worker_address, like every service, so that
// deployments can probe it.
//
// SIGTERM or SIGINT: no new job is taken, the running attempt stops at the next
// training step and is reported as preempted (the service queues it again), then the
// process exits.
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ailab/blob/blob_store.h"
#include "ailab/config/flags.h"
#include "ailab/log/log.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/server.h"
#include "ailab/status/status.h"
#include "ailab/torch/trainer.h"
#include "worker.h"

ABSL_FLAG(std::string, worker_id, "",
          "name of this worker in the queue group and in job records; empty: "
          "worker-<host>-<pid>");
ABSL_FLAG(int, gpu_count, 0, "GPUs this worker offers; jobs that need more are passed on");
ABSL_FLAG(int64_t, memory_mb, 0,
          "memory this worker offers in MiB; jobs that need more are passed on (0: no limit)");
ABSL_FLAG(int, threads, 0, "LibTorch CPU threads (0: the number of cores)");
ABSL_FLAG(std::string, device, "auto", "where to train: cpu, cuda, or auto (CUDA when present)");
ABSL_FLAG(std::string, work_dir, "var/worker",
          "folder for checkpoints and exported models of the running attempt");
ABSL_FLAG(std::string, pretrained_weights_dir, "",
          "folder with ImageNet weights as <architecture>.pt, for jobs that ask for "
          "pretrained weights");
ABSL_FLAG(std::string, queue_stream, "ailab:training",
          "key prefix of the Redis training queue; must match the training service's");
ABSL_FLAG(absl::Duration, lease_ttl, absl::Seconds(15),
          "lifetime of the job lease; the worker renews it every --heartbeat_interval");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(2),
          "time between lease renewals and cancellation checks; must be well below "
          "--lease_ttl");

namespace ailab::worker {
namespace {

std::string DefaultWorkerId() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat("worker-", host, "-", getpid());
}

absl::Status Run() {
  auto logger = log::Logger("worker");

  WorkerOptions options;
  options.worker_id = absl::GetFlag(FLAGS_worker_id);
  if (options.worker_id.empty()) options.worker_id = DefaultWorkerId();
  options.gpu_count = absl::GetFlag(FLAGS_gpu_count);
  options.memory_mb = absl::GetFlag(FLAGS_memory_mb);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.device = absl::GetFlag(FLAGS_device);
  options.work_dir = absl::GetFlag(FLAGS_work_dir);
  options.pretrained_weights_dir = absl::GetFlag(FLAGS_pretrained_weights_dir);
  options.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  options.queue.redis_address = absl::GetFlag(FLAGS_redis_address);
  options.queue.redis_password = absl::GetFlag(FLAGS_redis_password);
  options.queue.prefix = absl::GetFlag(FLAGS_queue_stream);
  options.queue.lease_ttl = absl::GetFlag(FLAGS_lease_ttl);
  if (options.heartbeat_interval * 3 > options.queue.lease_ttl) {
    return InvalidArgument(
        "INVALID_FLAG", "heartbeat_interval",
        absl::StrCat("--heartbeat_interval (", absl::FormatDuration(options.heartbeat_interval),
                     ") must be at most a third of --lease_ttl (",
                     absl::FormatDuration(options.queue.lease_ttl),
                     "), so that one missed renewal does not lose the lease"));
  }
  if (options.gpu_count < 0 || options.memory_mb < 0 || options.threads < 0) {
    return InvalidArgument("INVALID_FLAG", "gpu_count",
                           "--gpu_count, --memory_mb and --threads must not be negative");
  }

  AILAB_ASSIGN_OR_RETURN(blob::BlobStore blobs,
                         blob::BlobStore::Open(absl::GetFlag(FLAGS_blob_root)));
  auto service = std::shared_ptr<v1::TrainingService::Stub>(
      v1::TrainingService::NewStub(rpc::Connect(absl::GetFlag(FLAGS_training_address))));

  Worker worker(options, service, blobs);
  std::thread loop([&worker] { worker.Run(); });

  rpc::ServerConfig config;
  config.name = "worker";
  config.listen = config::ListenAddress(absl::GetFlag(FLAGS_worker_address));
  config.port_file = absl::GetFlag(FLAGS_port_file);
  // RunServer returns after a shutdown signal; the running attempt is reported
  // before the health server goes away.
  absl::Status served = rpc::RunServer(config, {}, [&] {
    logger->info("stopping worker={}", options.worker_id);
    worker.Stop();
    loop.join();
  });
  if (loop.joinable()) {
    worker.Stop();
    loop.join();
  }
  return served;
}

}  // namespace
}  // namespace ailab::worker

int main(int argc, char** argv) {
  ailab::rpc::BlockShutdownSignals();
  ailab::config::ParseFlags("worker", argc, argv,
                            "ailab-worker: trains queued jobs with LibTorch and reports them");
  ailab::log::SetLevel(absl::GetFlag(FLAGS_log_level));
  ailab::SetErrorDomain("training.ailab");
  if (absl::GetFlag(FLAGS_migrate_only)) {
    ailab::log::Logger("worker")->info("no database to migrate; exiting as --migrate_only asks");
    return 0;
  }
  // Training is this process's work: keep the memory of its tensors for the next step.
  if (!ailab::torch::KeepTrainingMemoryInHeap()) {
    ailab::log::Logger("worker")->warn("glibc rejected the allocator settings for training");
  }
  absl::Status status = ailab::worker::Run();
  if (!status.ok()) {
    ailab::log::Logger("worker")->critical("exiting error={}", status.ToString());
    return 1;
  }
  return 0;
}
