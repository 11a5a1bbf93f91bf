// ailab-evaluation: the evaluation service (ailab.evaluation.v1.EvaluationService).
//
// Stores evaluations, challenges and submissions in the PostgreSQL schema
// "evaluation" and applies its migrations at start. Calls training, catalog, ingest,
// annotation and inference at their --*_address flags. Stops on SIGTERM.
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "ailab/config/flags.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/server.h"
#include "ailab/status/status.h"
#include "services/evaluation/backends.h"
#include "services/evaluation/service.h"
#include "services/evaluation/store.h"

ABSL_FLAG(int, evaluation_runners, 2,
          "evaluations that make predictions at the same time; more wait in a queue");
ABSL_FLAG(int, prediction_parallelism, 4,
          "inference calls in flight per evaluated model, submission or final scoring");

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

  ailab::pg::PoolOptions pool_options;
  pool_options.url = absl::GetFlag(FLAGS_database_url);
  pool_options.size = absl::GetFlag(FLAGS_database_pool_size);
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

  ailab::rpc::ServerConfig config;
  config.name = "evaluation";
  config.listen = ailab::config::ListenAddress(absl::GetFlag(FLAGS_evaluation_address));
  config.port_file = absl::GetFlag(FLAGS_port_file);
  return ailab::rpc::RunServer(config, {&service}, [&service] { service.Shutdown(); });
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
