// Tests of the shared test fixtures: scratch databases, names, temporary folders and
// service processes (with the health-only echo server).
#include "fixtures.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "ailab/pg/pg.h"

namespace {

int64_t CountDatabases(const std::string& name) {
  ailab::pg::PoolOptions options;
  options.url = ailab::testing::AdminDatabaseUrl();
  options.schema = "public";
  options.size = 1;
  auto pool = ailab::pg::Pool::Create(options);
  REQUIRE(pool.ok());
  auto count = (*pool)->Query<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    return tx.exec_params1("SELECT count(*) FROM pg_database WHERE datname = $1", name)[0]
        .as<int64_t>();
  });
  REQUIRE(count.ok());
  return *count;
}

}  // namespace

TEST_CASE("ScratchDatabase: usable, then dropped", "[fixtures]") {
  std::string name;
  // Declared first so that it outlives the database: an open pool must not stop the drop.
  std::unique_ptr<ailab::pg::Pool> pool;
  {
    ailab::testing::ScratchDatabase db;
    name = db.name();
    CHECK(name.rfind("t_", 0) == 0);
    CHECK(db.url().find(name) != std::string::npos);
    CHECK(CountDatabases(name) == 1);

    ailab::pg::PoolOptions options;
    options.url = db.url();
    options.schema = "fixture";
    options.size = 2;
    auto created = ailab::pg::Pool::Create(options);
    REQUIRE(created.ok());
    pool = std::move(created).value();
    auto database = pool->Query<std::string>([](pqxx::work& tx) -> absl::StatusOr<std::string> {
      return tx.exec1("SELECT current_database()")[0].as<std::string>();
    });
    REQUIRE(database.ok());
    CHECK(*database == name);
  }
  CHECK(CountDatabases(name) == 0);
}

TEST_CASE("UniqueName: distinct and identifier-safe", "[fixtures]") {
  std::set<std::string> names;
  for (int i = 0; i < 100; ++i) names.insert(ailab::testing::UniqueName("stream"));
  CHECK(names.size() == 100);
  for (const std::string& name : names) {
    CHECK(name.rfind("stream_", 0) == 0);
    CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos);
  }
}

TEST_CASE("TempDir: removed with its contents", "[fixtures]") {
  std::string path;
  {
    ailab::testing::TempDir dir;
    path = dir.path();
    CHECK(std::filesystem::is_directory(path));
    std::filesystem::create_directories(path + "/a/b");
    std::ofstream(path + "/a/b/file") << "x";
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("Paths come from the CTest environment", "[fixtures]") {
  CHECK(std::filesystem::exists(ailab::testing::SourceDir() + "/CMakeLists.txt"));
  CHECK(std::filesystem::exists(ailab::testing::BinaryPath("ailab-test-echo")));
  CHECK_FALSE(ailab::testing::RedisAddress().empty());
}

TEST_CASE("ServiceProcess: start, stop and restart", "[fixtures]") {
  auto started = ailab::testing::ServiceProcess::Start("ailab-test-echo", {"--echo_greeting=hi"},
                                                       {{"AILAB_LOG_LEVEL", "debug"}});
  INFO(started.status().ToString());
  REQUIRE(started.ok());
  auto& service = **started;
  CHECK(service.running());
  CHECK(service.port() > 0);
  CHECK(service.address() == "127.0.0.1:" + std::to_string(service.port()));
  CHECK(service.ReadLogTail().find("greeting=hi") != std::string::npos);

  SECTION("Stop ends it cleanly") {
    CHECK(service.Stop().ok());
    CHECK_FALSE(service.running());
    CHECK(service.ReadLogTail().find("stopped") != std::string::npos);
    // Stopping again is a no-op.
    CHECK(service.Stop().ok());
  }
  SECTION("Restart after Kill comes back on the same port") {
    int port = service.port();
    service.Kill();
    CHECK_FALSE(service.running());
    absl::Status restarted = service.Restart();
    INFO(restarted.ToString());
    REQUIRE(restarted.ok());
    CHECK(service.running());
    CHECK(service.port() == port);
  }
  SECTION("Restart of a running service stops it first") {
    int port = service.port();
    REQUIRE(service.Restart().ok());
    CHECK(service.port() == port);
    CHECK(service.Stop().ok());
  }
}

TEST_CASE("ServiceProcess: environment reaches the child", "[fixtures]") {
  auto started = ailab::testing::ServiceProcess::Start("ailab-test-echo", {},
                                                       {{"AILAB_ECHO_ECHO_GREETING", "from-env"}});
  REQUIRE(started.ok());
  CHECK((*started)->ReadLogTail().find("greeting=from-env") != std::string::npos);
}

TEST_CASE("ServiceProcess: bad binaries are reported", "[fixtures]") {
  SECTION("missing binary is NOT_FOUND") {
    auto started = ailab::testing::ServiceProcess::Start("ailab-no-such-binary", {});
    CHECK(started.status().code() == absl::StatusCode::kNotFound);
  }
  SECTION("a binary that exits at once is FAILED_PRECONDITION") {
    auto started = ailab::testing::ServiceProcess::Start("/bin/false", {});
    CHECK(started.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(started.status().message().find("exited with status 1") != absl::string_view::npos);
  }
}
