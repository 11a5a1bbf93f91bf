#include "ailab/config/flags.h"

#include <cstdlib>

#include <catch2/catch.hpp>

#include "absl/flags/flag.h"

TEST_CASE("EnvironmentNames lists service-specific name first", "[config]") {
  auto names = ailab::config::EnvironmentNames("training-worker", "blob_root");
  REQUIRE(names.size() == 2);
  CHECK(names[0] == "AILAB_TRAINING_WORKER_BLOB_ROOT");
  CHECK(names[1] == "AILAB_BLOB_ROOT");
}

TEST_CASE("ParseFlags applies environment then command line", "[config]") {
  setenv("AILAB_BLOB_ROOT", "/from/shared/env", 1);
  setenv("AILAB_CATALOG_DATABASE_POOL_SIZE", "9", 1);
  setenv("AILAB_DATABASE_POOL_SIZE", "3", 1);
  setenv("AILAB_LOG_LEVEL", "debug", 1);

  char arg0[] = "config_test";
  char arg1[] = "--log_level=warn";
  char* argv[] = {arg0, arg1};
  ailab::config::ParseFlags("catalog", 2, argv, "test");

  CHECK(absl::GetFlag(FLAGS_blob_root) == "/from/shared/env");
  CHECK(absl::GetFlag(FLAGS_database_pool_size) == 9);
  CHECK(absl::GetFlag(FLAGS_log_level) == "warn");
  CHECK(ailab::config::ListenAddress("127.0.0.1:1") == "127.0.0.1:1");
}

TEST_CASE("DatabasePoolSize falls back to the service's number", "[config]") {
  absl::SetFlag(&FLAGS_database_pool_size, 0);
  CHECK(ailab::config::DatabasePoolSize(8) == 8);

  absl::SetFlag(&FLAGS_database_pool_size, 3);
  CHECK(ailab::config::DatabasePoolSize(8) == 3);
}
