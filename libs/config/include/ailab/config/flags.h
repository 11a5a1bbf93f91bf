// Configuration shared by every service binary: command-line flags (Abseil flags)
// with environment variables as a fallback.
//
// For a flag `foo_bar` of the service `catalog`, the value comes from, in order of
// precedence: `--foo_bar=` on the command line, the environment variable
// `AILAB_CATALOG_FOO_BAR`, the environment variable `AILAB_FOO_BAR`, the flag's
// default. So one environment file can serve every service, with per-service
// overrides. `--helpfull` lists every flag with its default.
//
// ParseFlags() must be called once from main() before other threads start.
#pragma once

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/flags/declare.h"

// Connection URL of PostgreSQL, libpq syntax.
ABSL_DECLARE_FLAG(std::string, database_url);
// Connections each service keeps open to PostgreSQL; 0 means the service's own number.
ABSL_DECLARE_FLAG(int, database_pool_size);
// Redis server carrying the training queue, as host:port.
ABSL_DECLARE_FLAG(std::string, redis_address);
// Password sent to Redis with AUTH; empty sends none.
ABSL_DECLARE_FLAG(std::string, redis_password);
// Secret shared by the platform's services for calls only they may make; empty: open.
ABSL_DECLARE_FLAG(std::string, internal_token);
// Apply the service's database migrations, then exit without serving.
ABSL_DECLARE_FLAG(bool, migrate_only);
// Root folder of the content-addressed blob store.
ABSL_DECLARE_FLAG(std::string, blob_root);
// Address the service binds; empty means the service's own *_address flag.
ABSL_DECLARE_FLAG(std::string, listen);
// File to write the bound port into once the server listens (for port 0).
ABSL_DECLARE_FLAG(std::string, port_file);
// Log level: trace, debug, info, warn, error.
ABSL_DECLARE_FLAG(std::string, log_level);
// gRPC addresses of the services, as host:port.
ABSL_DECLARE_FLAG(std::string, catalog_address);
ABSL_DECLARE_FLAG(std::string, ingest_address);
ABSL_DECLARE_FLAG(std::string, annotation_address);
ABSL_DECLARE_FLAG(std::string, training_address);
ABSL_DECLARE_FLAG(std::string, inference_address);
ABSL_DECLARE_FLAG(std::string, evaluation_address);
ABSL_DECLARE_FLAG(std::string, worker_address);

namespace ailab::config {

// Applies environment overrides for `service`, then parses the command line.
// Returns the positional arguments (argv[0] first). Exits with a message on a bad
// value, as Abseil's parser does. Also turns off Abseil's mutex deadlock detection.
std::vector<char*> ParseFlags(absl::string_view service, int argc, char** argv,
                              absl::string_view usage);

// Returns the environment variable names consulted for `flag` of `service`, most
// specific first.
std::vector<std::string> EnvironmentNames(absl::string_view service, absl::string_view flag);

// Returns --database_pool_size, or `service_default` when the flag is 0 (its default).
int DatabasePoolSize(int service_default);

// Returns `--listen` when set, otherwise `own_address`.
std::string ListenAddress(const std::string& own_address);

}  // namespace ailab::config
