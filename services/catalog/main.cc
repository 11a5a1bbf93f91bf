// ailab-catalog: the use-case catalog service (ailab.catalog.v1.CatalogService).
//
// Stores use cases in the PostgreSQL schema "catalog", applies its migrations and,
// unless --seed=false, loads the built-in use cases at start. Stops on SIGTERM.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "ailab/config/flags.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/server.h"
#include "ailab/status/status.h"
#include "seed.h"
#include "service.h"
#include "store.h"

ABSL_FLAG(bool, seed, true,
          "insert the built-in use cases that are missing at start (existing ones are kept)");

namespace {

constexpr char kUsage[] =
    "ailab-catalog: serves the AI use-case catalog over gRPC.\n"
    "  ailab-catalog [--listen=127.0.0.1:7101] [--database_url=...] [--seed=true]";

absl::Status Run() {
  auto logger = ailab::log::Logger("catalog");

  ailab::pg::PoolOptions options;
  options.url = absl::GetFlag(FLAGS_database_url);
  options.size = ailab::config::DatabasePoolSize(4);
  options.schema = "catalog";
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<ailab::pg::Pool> pool, ailab::pg::Pool::Create(options));
  AILAB_RETURN_IF_ERROR(pool->Migrate(ailab::catalog::CatalogStore::Migrations()));
  logger->info("database ready schema={} pool_size={}", options.schema, options.size);
  if (absl::GetFlag(FLAGS_migrate_only)) {
    logger->info("migrations applied; exiting as --migrate_only asks");
    return absl::OkStatus();
  }

  ailab::catalog::CatalogStore store(*pool);
  if (absl::GetFlag(FLAGS_seed)) {
    AILAB_RETURN_IF_ERROR(ailab::catalog::SeedCatalog(store).status());
  }

  ailab::catalog::CatalogServiceImpl service(store);
  ailab::rpc::ServerConfig config;
  config.name = "catalog";
  config.listen = ailab::config::ListenAddress(absl::GetFlag(FLAGS_catalog_address));
  config.port_file = absl::GetFlag(FLAGS_port_file);
  return ailab::rpc::RunServer(config, {&service});
}

}  // namespace

int main(int argc, char** argv) {
  ailab::rpc::BlockShutdownSignals();
  ailab::config::ParseFlags("catalog", argc, argv, kUsage);
  ailab::log::SetLevel(absl::GetFlag(FLAGS_log_level));
  ailab::SetErrorDomain("catalog.ailab");

  absl::Status status = Run();
  if (!status.ok()) {
    ailab::log::Logger("catalog")->error("catalog service failed reason={} error={}",
                                         ailab::GetErrorReason(status),
                                         std::string(status.message()));
    return 1;
  }
  return 0;
}
