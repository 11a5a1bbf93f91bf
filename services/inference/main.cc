// ailab-inference: the inference service (ailab.inference.v1.InferenceService).
//
// Stores predictions in the PostgreSQL schema "inference" and applies its migrations
// at start. Reads models from training (--training_address), use cases from the
// catalog (--catalog_address), instances from ingest (--ingest_address), and blobs
// from the shared store (--blob_root). Stops on SIGTERM.
#include <cstdint>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "ailab/blob/blob_store.h"
#include "ailab/config/flags.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/server.h"
#include "ailab/status/status.h"
#include "ailab/torch/trainer.h"
#include "services/inference/directories.h"
#include "services/inference/model_cache.h"
#include "services/inference/service.h"
#include "services/inference/store.h"

ABSL_FLAG(int, model_cache_size, 4, "models kept loaded at once; the least recently used is "
                                    "unloaded beyond this");
ABSL_FLAG(int, max_batch_size, 8,
          "images of concurrent requests run through a model in one call; 1 turns batching off");
ABSL_FLAG(double, batch_delay_ms, 2,
          "milliseconds the first image of a batch waits for other requests to join it");
ABSL_FLAG(double, directory_cache_seconds, 30,
          "seconds a model's and a use case's details are reused before being read again");
ABSL_FLAG(int, torch_threads, 0, "CPU threads of the loaded models; 0 uses every core");
ABSL_FLAG(std::string, torch_device, "auto",
          "where models run: cpu, cuda, or auto (CUDA when a GPU is present)");

namespace {

constexpr char kUsage[] =
    "ailab-inference: runs trained models on images and records the predictions.\n"
    "  ailab-inference [--listen=127.0.0.1:7105] [--database_url=...] [--blob_root=...] "
    "[--training_address=...] [--catalog_address=...] [--ingest_address=...]";

absl::Status Run() {
  auto logger = ailab::log::Logger("inference");
  if (absl::GetFlag(FLAGS_model_cache_size) < 1) {
    return ailab::InvalidArgument("INVALID_FLAG", "model_cache_size",
                                  "--model_cache_size must be at least 1");
  }
  if (absl::GetFlag(FLAGS_max_batch_size) < 1) {
    return ailab::InvalidArgument("INVALID_FLAG", "max_batch_size",
                                  "--max_batch_size must be at least 1");
  }
  if (!(absl::GetFlag(FLAGS_batch_delay_ms) >= 0) ||
      !(absl::GetFlag(FLAGS_directory_cache_seconds) >= 0)) {
    return ailab::InvalidArgument("INVALID_FLAG", "batch_delay_ms",
                                  "--batch_delay_ms and --directory_cache_seconds must be 0 or more");
  }

  // Database and blob store.
  ailab::pg::PoolOptions pool_options;
  pool_options.url = absl::GetFlag(FLAGS_database_url);
  pool_options.size = ailab::config::DatabasePoolSize(4);
  pool_options.schema = "inference";
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<ailab::pg::Pool> pool,
                         ailab::pg::Pool::Create(pool_options));
  AILAB_RETURN_IF_ERROR(pool->Migrate(ailab::inference::PredictionStore::Migrations()));
  logger->info("database ready schema=inference pool_size={}", pool_options.size);
  if (absl::GetFlag(FLAGS_migrate_only)) {
    logger->info("migrations applied; exiting as --migrate_only asks");
    return absl::OkStatus();
  }
  ailab::inference::PredictionStore store(*pool);
  AILAB_ASSIGN_OR_RETURN(ailab::blob::BlobStore blobs,
                         ailab::blob::BlobStore::Open(absl::GetFlag(FLAGS_blob_root)));

  // Other services.
  const std::string training_address = absl::GetFlag(FLAGS_training_address);
  const std::string catalog_address = absl::GetFlag(FLAGS_catalog_address);
  const std::string ingest_address = absl::GetFlag(FLAGS_ingest_address);
  auto models = ailab::inference::NewGrpcModelDirectory(ailab::rpc::Connect(training_address));
  auto use_cases = ailab::inference::NewGrpcUseCaseDirectory(ailab::rpc::Connect(catalog_address));
  auto instances = ailab::inference::NewGrpcInstanceDirectory(ailab::rpc::Connect(ingest_address));
  logger->info("dependencies training_address={} catalog_address={} ingest_address={}",
               training_address, catalog_address, ingest_address);

  // Loaded models.
  ailab::torch::PredictorOptions predictor_options;
  predictor_options.threads = absl::GetFlag(FLAGS_torch_threads);
  predictor_options.device = absl::GetFlag(FLAGS_torch_device);
  ailab::inference::PredictorLoader loader =
      [&blobs, predictor_options](const ailab::inference::ModelInfo& model)
      -> absl::StatusOr<std::unique_ptr<ailab::torch::Predictor>> {
    AILAB_ASSIGN_OR_RETURN(std::string path, blobs.PathOf(model.torchscript_blob));
    return ailab::torch::Predictor::Load(path, predictor_options);
  };
  ailab::inference::BatchOptions batch_options;
  batch_options.max_batch_size = absl::GetFlag(FLAGS_max_batch_size);
  batch_options.max_delay = absl::Microseconds(absl::GetFlag(FLAGS_batch_delay_ms) * 1000);
  ailab::inference::ModelCache model_cache(absl::GetFlag(FLAGS_model_cache_size), loader,
                                           batch_options);

  ailab::inference::ServiceDependencies dependencies;
  dependencies.models = models.get();
  dependencies.use_cases = use_cases.get();
  dependencies.instances = instances.get();
  dependencies.blobs = &blobs;
  dependencies.store = &store;
  dependencies.model_cache = &model_cache;
  ailab::inference::ServiceOptions options;
  options.directory_cache_ttl = absl::Seconds(absl::GetFlag(FLAGS_directory_cache_seconds));
  ailab::inference::InferenceServiceImpl service(dependencies, options);

  ailab::rpc::ServerConfig config;
  config.name = "inference";
  config.listen = ailab::config::ListenAddress(absl::GetFlag(FLAGS_inference_address));
  config.port_file = absl::GetFlag(FLAGS_port_file);
  return ailab::rpc::RunServer(config, {&service});
}

}  // namespace

int main(int argc, char** argv) {
  ailab::rpc::BlockShutdownSignals();
  ailab::config::ParseFlags("inference", argc, argv, kUsage);
  ailab::log::SetLevel(absl::GetFlag(FLAGS_log_level));
  ailab::SetErrorDomain("inference.ailab");

  absl::Status status = Run();
  if (!status.ok()) {
    ailab::log::Logger("inference")
        ->error("inference service failed reason={} error={}", ailab::GetErrorReason(status),
                std::string(status.message()));
    return 1;
  }
  return 0;
}
