// ailab-annotation: the annotation service (ailab.annotation.v1.AnnotationService).
//
// Stores annotations in the PostgreSQL schema "annotation" and applies its migrations
// at start. Reads use cases from the catalog (--catalog_address) and dataset listings
// from ingest (--ingest_address). Stops on SIGTERM.
#include <cstdint>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "ailab/config/flags.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/server.h"
#include "ailab/status/status.h"
#include "services/annotation/directories.h"
#include "services/annotation/service.h"
#include "services/annotation/store.h"

ABSL_FLAG(int64_t, min_reference_overlap, 10,
          "fewest instances that GetAgreement compares and ScoreAgainstReference scores "
          "before returning a result, so that small sets do not show reference labels");
ABSL_FLAG(double, directory_cache_seconds, 10,
          "seconds a use case from the catalog and a dataset listing from ingest are "
          "reused before being fetched again");

namespace {

// Connections to PostgreSQL unless --database_pool_size sets another number. Saves are
// the busiest writes of the platform, and with 4 connections the 64-connection
// benchmark's p99 was 55 to 66 ms, against 40 to 50 ms with 8 (docs/bench/gateway.md).
constexpr int kDatabasePoolSize = 8;

constexpr char kUsage[] =
    "ailab-annotation: serves annotation, progress, contests and reference-reader "
    "agreement over gRPC.\n"
    "  ailab-annotation [--listen=127.0.0.1:7103] [--database_url=...] "
    "[--catalog_address=...] [--ingest_address=...]";

absl::Status Run() {
  auto logger = ailab::log::Logger("annotation");

  if (absl::GetFlag(FLAGS_min_reference_overlap) < 1) {
    return ailab::InvalidArgument("INVALID_FLAG", "min_reference_overlap",
                                  "--min_reference_overlap must be at least 1");
  }
  if (!(absl::GetFlag(FLAGS_directory_cache_seconds) >= 0)) {
    return ailab::InvalidArgument("INVALID_FLAG", "directory_cache_seconds",
                                  "--directory_cache_seconds must be 0 or more");
  }

  ailab::pg::PoolOptions options;
  options.url = absl::GetFlag(FLAGS_database_url);
  options.size = ailab::config::DatabasePoolSize(kDatabasePoolSize);
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<ailab::annotation::AnnotationStore> store,
                         ailab::annotation::AnnotationStore::Open(options));
  logger->info("database ready schema=annotation pool_size={}", options.size);
  if (absl::GetFlag(FLAGS_migrate_only)) {
    logger->info("migrations applied; exiting as --migrate_only asks");
    return absl::OkStatus();
  }

  const std::string catalog_address = absl::GetFlag(FLAGS_catalog_address);
  const std::string ingest_address = absl::GetFlag(FLAGS_ingest_address);
  ailab::annotation::CachingDirectory directory(
      ailab::annotation::MakeGrpcUseCaseDirectory(catalog_address),
      ailab::annotation::MakeGrpcInstanceDirectory(ingest_address),
      absl::Seconds(absl::GetFlag(FLAGS_directory_cache_seconds)));
  logger->info("dependencies catalog_address={} ingest_address={}", catalog_address,
               ingest_address);

  ailab::annotation::ServiceOptions service_options;
  service_options.min_reference_overlap = absl::GetFlag(FLAGS_min_reference_overlap);
  ailab::annotation::AnnotationServiceImpl service(store.get(), &directory, service_options);

  ailab::rpc::ServerConfig config;
  config.name = "annotation";
  config.listen = ailab::config::ListenAddress(absl::GetFlag(FLAGS_annotation_address));
  config.port_file = absl::GetFlag(FLAGS_port_file);
  return ailab::rpc::RunServer(config, {&service});
}

}  // namespace

int main(int argc, char** argv) {
  ailab::rpc::BlockShutdownSignals();
  ailab::config::ParseFlags("annotation", argc, argv, kUsage);
  ailab::log::SetLevel(absl::GetFlag(FLAGS_log_level));
  ailab::SetErrorDomain("annotation.ailab");

  absl::Status status = Run();
  if (!status.ok()) {
    ailab::log::Logger("annotation")
        ->error("annotation service failed reason={} error={}", ailab::GetErrorReason(status),
                std::string(status.message()));
    return 1;
  }
  return 0;
}
