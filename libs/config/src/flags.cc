#include "ailab/config/flags.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

ABSL_FLAG(std::string, database_url, "postgresql://ailab@127.0.0.1:55432/ailab",
          "PostgreSQL connection URL (libpq syntax)");
ABSL_FLAG(int, database_pool_size, 0,
          "connections kept open to PostgreSQL; 0: the service's own number (8 for "
          "annotation, whose saves are the busiest writes, and 4 for the others)");
ABSL_FLAG(std::string, redis_address, "127.0.0.1:56379", "Redis server as host:port");
ABSL_FLAG(std::string, redis_password, "",
          "Redis password sent with AUTH after connecting; empty: none (prefer the environment)");
ABSL_FLAG(std::string, internal_token, "",
          "secret that calls reserved for the platform's services carry; empty: every caller "
          "may make them (prefer the environment)");
ABSL_FLAG(bool, migrate_only, false,
          "apply the database migrations of the service, then exit without serving");
ABSL_FLAG(std::string, blob_root, "var/blobs", "root folder of the blob store");
ABSL_FLAG(std::string, listen, "", "address to bind, host:port; empty: the service's own address");
ABSL_FLAG(std::string, port_file, "", "file to write the bound port into once listening");
ABSL_FLAG(std::string, log_level, "info", "log level: trace, debug, info, warn, error");
ABSL_FLAG(std::string, catalog_address, "127.0.0.1:7101", "catalog service, host:port");
ABSL_FLAG(std::string, ingest_address, "127.0.0.1:7102", "ingest service, host:port");
ABSL_FLAG(std::string, annotation_address, "127.0.0.1:7103", "annotation service, host:port");
ABSL_FLAG(std::string, training_address, "127.0.0.1:7104", "training service, host:port");
ABSL_FLAG(std::string, inference_address, "127.0.0.1:7105", "inference service, host:port");
ABSL_FLAG(std::string, evaluation_address, "127.0.0.1:7106", "evaluation service, host:port");
ABSL_FLAG(std::string, worker_address, "127.0.0.1:7107", "training worker, host:port");

namespace ailab::config {

std::vector<std::string> EnvironmentNames(absl::string_view service, absl::string_view flag) {
  std::string upper_flag = absl::AsciiStrToUpper(flag);
  std::string upper_service = absl::AsciiStrToUpper(service);
  for (char& c : upper_service) {
    if (c == '-') c = '_';
  }
  return {absl::StrCat("AILAB_", upper_service, "_", upper_flag),
          absl::StrCat("AILAB_", upper_flag)};
}

std::vector<char*> ParseFlags(absl::string_view service, int argc, char** argv,
                              absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  // Debian builds Abseil with its mutex deadlock detection on. It records every lock
  // order in a global graph, which took 4 % of the annotation service's CPU in a
  // profile of the save benchmark.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Environment first, so that the command line parsed next overrides it.
  for (auto& [name, flag] : absl::GetAllFlags()) {
    for (const std::string& env_name : EnvironmentNames(service, name)) {
      const char* value = std::getenv(env_name.c_str());
      if (value == nullptr) continue;
      std::string error;
      if (!flag->ParseFrom(value, &error)) {
        std::fprintf(stderr, "invalid value in environment variable %s for --%s: %s\n",
                     env_name.c_str(), std::string(name).c_str(), error.c_str());
        std::exit(2);
      }
      break;
    }
  }
  return absl::ParseCommandLine(argc, argv);
}

int DatabasePoolSize(int service_default) {
  const int size = absl::GetFlag(FLAGS_database_pool_size);
  return size > 0 ? size : service_default;
}

std::string ListenAddress(const std::string& own_address) {
  std::string listen = absl::GetFlag(FLAGS_listen);
  return listen.empty() ? own_address : listen;
}

}  // namespace ailab::config
