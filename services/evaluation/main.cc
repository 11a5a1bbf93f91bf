// ailab-evaluation: the evaluation service (ailab.evaluation.v1.EvaluationService and
// PublishingService).
//
// Stores evaluations, challenges, submissions, destinations and publications in the
// PostgreSQL schema "evaluation" and applies its migrations at start. Calls training,
// catalog, ingest, annotation and inference at their --*_address flags and reads
// model files from --blob_root. Stops on SIGTERM.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "ailab/config/flags.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/server.h"
#include "ailab/status/status.h"
#include "services/evaluation/backends.h"
#include "services/evaluation/publishing.h"
#include "services/evaluation/publishing_store.h"
#include "services/evaluation/service.h"
#include "services/evaluation/store.h"

ABSL_FLAG(int, evaluation_runners, 2,
          "evaluations that make predictions at the same time; more wait in a queue");
ABSL_FLAG(int, prediction_parallelism, 4,
          "inference calls in flight per evaluated model, submission or final scoring");
ABSL_FLAG(std::string, administrators, "",
          "comma-separated user ids that may create publishing destinations, besides "
          "signed-in users with the administrator role");
ABSL_FLAG(int, publish_max_attempts, 5,
          "delivery attempts of a publication before it fails, per PublishModel call");
ABSL_FLAG(absl::Duration, publish_initial_backoff, absl::Seconds(2),
          "wait before retrying a failed delivery; it doubles per attempt up to "
          "--publish_max_backoff");
ABSL_FLAG(absl::Duration, publish_max_backoff, absl::Minutes(5),
          "longest wait between delivery attempts");

namespace {

constexpr char kUsage[] =
    "ailab-evaluation: evaluates models, assesses deployed ones and runs challenges.\n"
    "  ailab-evaluation [--listen=127.0.0.1:7106] [--database_url=...] "
    "[--inference_address=...] [--annotation_address=...] ...";

absl::Status Run() {
  auto logger = ailab::log::Logger("evaluation");
  if (absl::GetFlag(FLAGS_evaluation_runners) < 1 ||
      absl::GetFlag(FLAGS_prediction_parallelism) < 1) {
    return ailab::InvalidArgument(
        "INVALID_FLAG", "evaluation_runners",
        "--evaluation_runners and --prediction_parallelism must be at least 1");
  }
  if (absl::GetFlag(FLAGS_publish_max_attempts) < 1 ||
      absl::GetFlag(FLAGS_publish_initial_backoff) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_publish_max_backoff) < absl::GetFlag(FLAGS_publish_initial_backoff)) {
    return ailab::InvalidArgument(
        "INVALID_FLAG", "publish_max_attempts",
        "--publish_max_attempts must be at least 1 and --publish_initial_backoff positive and "
        "at most --publish_max_backoff");
  }

  ailab::pg::PoolOptions pool_options;
  pool_options.url = absl::GetFlag(FLAGS_database_url);
  pool_options.size = ailab::config::DatabasePoolSize(4);
  pool_options.schema = "evaluation";
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<ailab::pg::Pool> pool,
                         ailab::pg::Pool::Create(pool_options));
  AILAB_RETURN_IF_ERROR(pool->Migrate(ailab::evaluation::EvaluationStore::Migrations()));
  logger->info("database ready schema=evaluation pool_size={}", pool_options.size);
  if (absl::GetFlag(FLAGS_migrate_only)) {
    logger->info("migrations applied; exiting as --migrate_only asks");
    return absl::OkStatus();
  }
  ailab::evaluation::EvaluationStore store(*pool);

  ailab::evaluation::BackendAddresses addresses;
  addresses.training = absl::GetFlag(FLAGS_training_address);
  addresses.catalog = absl::GetFlag(FLAGS_catalog_address);
  addresses.ingest = absl::GetFlag(FLAGS_ingest_address);
  addresses.annotation = absl::GetFlag(FLAGS_annotation_address);
  addresses.inference = absl::GetFlag(FLAGS_inference_address);
  addresses.blob_root = absl::GetFlag(FLAGS_blob_root);
  std::unique_ptr<ailab::evaluation::Backends> backends =
      ailab::evaluation::NewGrpcBackends(addresses);
  logger->info(
      "dependencies training_address={} catalog_address={} ingest_address={} "
      "annotation_address={} inference_address={}",
      addresses.training, addresses.catalog, addresses.ingest, addresses.annotation,
      addresses.inference);

  ailab::evaluation::ServiceOptions options;
  options.evaluation_runners = absl::GetFlag(FLAGS_evaluation_runners);
  options.prediction_parallelism = absl::GetFlag(FLAGS_prediction_parallelism);
  ailab::evaluation::EvaluationServiceImpl service(&store, backends.get(), options);

  ailab::evaluation::PublishingOptions publishing_options;
  publishing_options.max_attempts = absl::GetFlag(FLAGS_publish_max_attempts);
  publishing_options.initial_backoff = absl::GetFlag(FLAGS_publish_initial_backoff);
  publishing_options.max_backoff = absl::GetFlag(FLAGS_publish_max_backoff);
  for (absl::string_view user :
       absl::StrSplit(absl::GetFlag(FLAGS_administrators), ',', absl::SkipWhitespace())) {
    publishing_options.administrators.insert(std::string(user));
  }
  ailab::evaluation::PublishingStore publishing_store(*pool);
  ailab::evaluation::PublishingServiceImpl publishing(&publishing_store, backends.get(),
                                                      publishing_options);
  logger->info("publishing ready administrators={} max_attempts={} blob_root={}",
               publishing_options.administrators.size(), publishing_options.max_attempts,
               addresses.blob_root);

  ailab::rpc::ServerConfig config;
  config.name = "evaluation";
  config.listen = ailab::config::ListenAddress(absl::GetFlag(FLAGS_evaluation_address));
  config.port_file = absl::GetFlag(FLAGS_port_file);
  return ailab::rpc::RunServer(config, {&service, &publishing}, [&service, &publishing] {
    service.Shutdown();
    publishing.Shutdown();
  });
}

}  // namespace

int main(int argc, char** argv) {
  ailab::rpc::BlockShutdownSignals();
  ailab::config::ParseFlags("evaluation", argc, argv, kUsage);
  ailab::log::SetLevel(absl::GetFlag(FLAGS_log_level));
  ailab::SetErrorDomain("evaluation.ailab");

  absl::Status status = Run();
  if (!status.ok()) {
    ailab::log::Logger("evaluation")
        ->error("evaluation service failed reason={} error={}", ailab::GetErrorReason(status),
                std::string(status.message()));
    return 1;
  }
  return 0;
}
