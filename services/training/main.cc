// ailab-training: the training queue API (ailab.training.v1.TrainingService).
//
// Stores jobs and models in the PostgreSQL schema `training`, queues jobs on the Redis
// stream <queue_stream>:jobs for the workers, reads labels from the annotation service
// and instances from the ingest service, and keeps manifests in the blob store.
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ailab/blob/blob_store.h"
#include "ailab/config/flags.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/queue/job_queue.h"
#include "ailab/rpc/server.h"
#include "ailab/status/status.h"
#include "data_sources.h"
#include "service.h"
#include "store.h"

ABSL_FLAG(std::string, queue_stream, "ailab:training",
          "key prefix of the Redis training queue: the stream is <prefix>:jobs and job leases "
          "are <prefix>:lease:<job>");
ABSL_FLAG(int, max_attempts, 3, "failed attempts after which a training job is FAILED");
ABSL_FLAG(absl::Duration, reclaim_min_idle, absl::Seconds(30),
          "time a queue entry stays pending before its lease is checked; must exceed the "
          "workers' lease TTL");
ABSL_FLAG(absl::Duration, maintenance_interval, absl::Seconds(5),
          "time between passes that write missing queue entries and take back entries of "
          "lost workers");
ABSL_FLAG(absl::Duration, watch_poll, absl::Milliseconds(500),
          "how often WatchTrainingJob reads the job for changes made by other replicas");
ABSL_FLAG(int, dispatch_window, 8,
          "queue entries that may wait unread in Redis at once; further queued jobs wait in "
          "PostgreSQL and are written as workers take entries, the owner with the fewest "
          "active jobs first");
ABSL_FLAG(std::string, replica_id, "",
          "consumer name of this replica in the queue group; empty: training-<host>-<pid>");

namespace ailab::training {
namespace {

std::string DefaultReplicaId() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat("training-", host, "-", getpid());
}

absl::Status Run() {
  auto logger = log::Logger("training");

  pg::PoolOptions pool_options;
  pool_options.url = absl::GetFlag(FLAGS_database_url);
  pool_options.size = config::DatabasePoolSize(4);
  pool_options.schema = "training";
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<pg::Pool> pool, pg::Pool::Create(pool_options));
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(pool.get()));
  if (absl::GetFlag(FLAGS_migrate_only)) {
    logger->info("migrations applied; exiting as --migrate_only asks");
    return absl::OkStatus();
  }

  queue::QueueOptions queue_options;
  queue_options.redis_address = absl::GetFlag(FLAGS_redis_address);
  queue_options.redis_password = absl::GetFlag(FLAGS_redis_password);
  queue_options.prefix = absl::GetFlag(FLAGS_queue_stream);
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<queue::JobQueue> queue,
                         queue::JobQueue::Open(queue_options));

  AILAB_ASSIGN_OR_RETURN(blob::BlobStore blobs,
                         blob::BlobStore::Open(absl::GetFlag(FLAGS_blob_root)));

  std::unique_ptr<LabelSource> labels =
      MakeAnnotationLabelSource(absl::GetFlag(FLAGS_annotation_address));
  std::unique_ptr<InstanceSource> instances =
      MakeIngestInstanceSource(absl::GetFlag(FLAGS_ingest_address));
  // The evaluation service names the datasets that open challenges score on. An empty
  // address turns that check off, for tests of the queue alone.
  std::unique_ptr<ChallengeSource> challenges;
  if (const std::string address = absl::GetFlag(FLAGS_evaluation_address); !address.empty()) {
    challenges = MakeEvaluationChallengeSource(address);
  } else {
    logger->warn("no --evaluation_address, so jobs may train on the datasets of open challenges");
  }

  ServiceOptions options;
  options.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  options.reclaim_min_idle = absl::GetFlag(FLAGS_reclaim_min_idle);
  options.maintenance_interval = absl::GetFlag(FLAGS_maintenance_interval);
  options.watch_poll = absl::GetFlag(FLAGS_watch_poll);
  options.dispatch_window = absl::GetFlag(FLAGS_dispatch_window);
  options.replica_id = absl::GetFlag(FLAGS_replica_id);
  if (options.replica_id.empty()) options.replica_id = DefaultReplicaId();
  if (options.max_attempts < 1) {
    return InvalidArgument(
        "INVALID_FLAG", "max_attempts",
        absl::StrCat("--max_attempts is ", options.max_attempts, "; it must be 1 or more"));
  }

  if (options.dispatch_window < 1) {
    return InvalidArgument(
        "INVALID_FLAG", "dispatch_window",
        absl::StrCat("--dispatch_window is ", options.dispatch_window, "; it must be 1 or more"));
  }

  TrainingService service(store.get(), queue.get(), blobs, labels.get(), instances.get(),
                          challenges.get(), options);
  service.StartMaintenance();
  logger->info("starting stream={} replica={} max_attempts={} dispatch_window={}",
               queue->stream(), options.replica_id, options.max_attempts,
               options.dispatch_window);

  rpc::ServerConfig config;
  config.name = "training";
  config.listen = config::ListenAddress(absl::GetFlag(FLAGS_training_address));
  config.port_file = absl::GetFlag(FLAGS_port_file);
  return rpc::RunServer(config, {&service}, [&service] { service.Shutdown(); });
}

}  // namespace
}  // namespace ailab::training

int main(int argc, char** argv) {
  ailab::rpc::BlockShutdownSignals();
  ailab::config::ParseFlags("training", argc, argv,
                            "ailab-training: training jobs, the GPU worker queue and models");
  ailab::log::SetLevel(absl::GetFlag(FLAGS_log_level));
  ailab::SetErrorDomain("training.ailab");
  absl::Status status = ailab::training::Run();
  if (!status.ok()) {
    ailab::log::Logger("training")->critical("exiting error={}", status.ToString());
    return 1;
  }
  return 0;
}
