// Tests of the PostgreSQL adapter against the test server, one scratch database each.
#include "ailab/pg/pg.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "fixtures.h"

namespace {

using ailab::pg::Migration;
using ailab::pg::Pool;
using ailab::pg::PoolOptions;

std::unique_ptr<Pool> MakePool(const std::string& url, const std::string& schema, int size = 4) {
  PoolOptions options;
  options.url = url;
  options.schema = schema;
  options.size = size;
  auto pool = Pool::Create(options);
  INFO(pool.status().ToString());
  REQUIRE(pool.ok());
  return std::move(pool).value();
}

absl::Status Exec(Pool& pool, const std::string& sql) {
  return pool.Run([&](pqxx::work& tx) {
    tx.exec(sql);
    return absl::OkStatus();
  });
}

int64_t CountRows(Pool& pool, const std::string& sql) {
  auto count = pool.Query<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    return tx.exec1(sql)[0].as<int64_t>();
  });
  INFO(count.status().ToString());
  REQUIRE(count.ok());
  return *count;
}

// Ends the server process behind `pool`'s only connection, through `admin`, and returns
// that process's id.
int64_t TerminateConnection(Pool& pool, Pool& admin) {
  int64_t pid = CountRows(pool, "SELECT pg_backend_pid()");
  auto terminated = admin.Query<bool>([&](pqxx::work& tx) -> absl::StatusOr<bool> {
    return tx.exec_params1("SELECT pg_terminate_backend($1)", pid)[0].as<bool>();
  });
  REQUIRE(terminated.ok());
  REQUIRE(*terminated);
  return pid;
}

}  // namespace

TEST_CASE("Pool: SQL errors map to status codes", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  auto pool = MakePool(db.url(), "errors");
  REQUIRE(Exec(*pool,
               "CREATE TABLE parent (id int PRIMARY KEY);"
               "CREATE TABLE child (id int PRIMARY KEY, parent int NOT NULL REFERENCES parent,"
               " size int CHECK (size > 0))")
              .ok());
  REQUIRE(Exec(*pool, "INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1, 5)").ok());

  SECTION("unique violation is ALREADY_EXISTS") {
    absl::Status status = Exec(*pool, "INSERT INTO parent VALUES (1)");
    CHECK(status.code() == absl::StatusCode::kAlreadyExists);
    CHECK(ailab::GetErrorReason(status) == "ROW_ALREADY_EXISTS");
    CHECK(ailab::GetErrorInfo(status)->metadata().at("sqlstate") == "23505");
    // The constraint is named, the DETAIL line with the key values is not included.
    CHECK(status.message().find("parent_pkey") != absl::string_view::npos);
    CHECK(status.message().find("Key (id)") == absl::string_view::npos);
  }
  SECTION("foreign key violation is FAILED_PRECONDITION") {
    absl::Status status = Exec(*pool, "INSERT INTO child VALUES (2, 99, 1)");
    CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(ailab::GetErrorReason(status) == "CONSTRAINT_VIOLATION");
  }
  SECTION("check violation is FAILED_PRECONDITION") {
    CHECK(Exec(*pool, "INSERT INTO child VALUES (2, 1, -1)").code() ==
          absl::StatusCode::kFailedPrecondition);
  }
  SECTION("not-null violation is FAILED_PRECONDITION") {
    CHECK(Exec(*pool, "INSERT INTO child (id) VALUES (3)").code() ==
          absl::StatusCode::kFailedPrecondition);
  }
  SECTION("syntax error is INTERNAL") {
    absl::Status status = Exec(*pool, "SELEC 1");
    CHECK(status.code() == absl::StatusCode::kInternal);
    CHECK(ailab::GetErrorReason(status) == "DATABASE_ERROR");
  }
  SECTION("reading NULL as an integer is INTERNAL") {
    auto value = pool->Query<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
      return tx.exec1("SELECT NULL::int")[0].as<int>();
    });
    CHECK(value.status().code() == absl::StatusCode::kInternal);
  }
  SECTION("an exception thrown by the function is INTERNAL") {
    absl::Status status = pool->Run([](pqxx::work&) -> absl::Status {
      throw std::runtime_error("boom");
    });
    CHECK(status.code() == absl::StatusCode::kInternal);
    CHECK(status.message().find("boom") != absl::string_view::npos);
  }
  SECTION("the pool stays usable after errors") {
    CHECK(Exec(*pool, "INSERT INTO parent VALUES (1)").code() ==
          absl::StatusCode::kAlreadyExists);
    CHECK(CountRows(*pool, "SELECT count(*) FROM parent") == 1);
  }
}

TEST_CASE("Pool: returned error rolls back", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  auto pool = MakePool(db.url(), "rollback");
  REQUIRE(Exec(*pool, "CREATE TABLE items (id int PRIMARY KEY)").ok());

  absl::Status status = pool->Run([](pqxx::work& tx) {
    tx.exec("INSERT INTO items VALUES (1)");
    return ailab::NotFound("ITEM_NOT_FOUND", "item 2 not found");
  });
  CHECK(status.code() == absl::StatusCode::kNotFound);
  CHECK(ailab::GetErrorReason(status) == "ITEM_NOT_FOUND");
  CHECK(CountRows(*pool, "SELECT count(*) FROM items") == 0);

  auto failed_query = pool->Query<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
    tx.exec("INSERT INTO items VALUES (3)");
    return absl::InvalidArgumentError("bad");
  });
  CHECK(failed_query.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(CountRows(*pool, "SELECT count(*) FROM items") == 0);
}

TEST_CASE("Pool: search_path isolates schemas", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  auto first = MakePool(db.url(), "first", 2);
  auto second = MakePool(db.url(), "second", 2);
  CHECK(first->schema() == "first");

  REQUIRE(Exec(*first, "CREATE TABLE things (id int)").ok());
  REQUIRE(Exec(*second, "CREATE TABLE things (id int)").ok());
  REQUIRE(Exec(*first, "INSERT INTO things VALUES (1), (2)").ok());

  CHECK(CountRows(*first, "SELECT count(*) FROM things") == 2);
  CHECK(CountRows(*second, "SELECT count(*) FROM things") == 0);
  CHECK(CountRows(*first, "SELECT count(*) FROM first.things") == 2);
}

TEST_CASE("Pool: Create rejects bad options", "[postgres]") {
  PoolOptions options;
  options.url = ailab::testing::AdminDatabaseUrl();
  options.schema = "x";

  SECTION("empty URL") {
    options.url = "";
    CHECK(Pool::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("malformed URL") {
    options.url = "postgresql://ailab@127.0.0.1:notaport/ailab";
    CHECK(Pool::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("empty schema") {
    options.schema = "";
    CHECK(Pool::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("zero size") {
    options.size = 0;
    CHECK(Pool::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("unreachable server is UNAVAILABLE after the timeout") {
    // Port 1 on loopback refuses connections.
    options.url = "postgresql://ailab@127.0.0.1:1/ailab";
    options.connect_timeout = absl::Milliseconds(300);
    auto pool = Pool::Create(options);
    CHECK(pool.status().code() == absl::StatusCode::kUnavailable);
  }
  SECTION("missing database is UNAVAILABLE naming the URL without a password") {
    // The test server trusts local connections, so the password is never checked.
    std::string url = ailab::testing::AdminDatabaseUrl();
    size_t user = url.find("://") + 3;
    size_t at = url.find('@', user);
    REQUIRE(at != std::string::npos);
    options.url = url.substr(0, at) + ":topsecret" + url.substr(at, url.rfind('/') - at) +
                  "/no_such_database_here";
    auto pool = Pool::Create(options);
    CHECK(pool.status().code() == absl::StatusCode::kUnavailable);
    CHECK(pool.status().message().find("no_such_database_here") != absl::string_view::npos);
    CHECK(pool.status().message().find("topsecret") == absl::string_view::npos);
  }
}

TEST_CASE("Pool: migrations apply once and in order", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  auto pool = MakePool(db.url(), "migrated");
  std::vector<Migration> migrations = {
      {1, "create items", "CREATE TABLE items (id int PRIMARY KEY)"},
      {2, "seed items", "INSERT INTO items VALUES (1), (2)"},
  };

  REQUIRE(pool->Migrate(migrations).ok());
  // Applying again changes nothing, or the INSERT would fail on the primary key.
  REQUIRE(pool->Migrate(migrations).ok());
  CHECK(CountRows(*pool, "SELECT count(*) FROM items") == 2);
  CHECK(CountRows(*pool, "SELECT count(*) FROM schema_migrations") == 2);
  CHECK(CountRows(*pool, "SELECT count(*) FROM schema_migrations WHERE version = 2 AND "
                         "description = 'seed items' AND applied_at IS NOT NULL") == 1);

  // A later release adds a version.
  migrations.push_back({3, "add name", "ALTER TABLE items ADD COLUMN name text"});
  REQUIRE(pool->Migrate(migrations).ok());
  CHECK(CountRows(*pool, "SELECT count(*) FROM schema_migrations") == 3);
  CHECK(CountRows(*pool, "SELECT count(*) FROM information_schema.columns WHERE "
                         "table_schema = 'migrated' AND table_name = 'items' AND "
                         "column_name = 'name'") == 1);
}

TEST_CASE("Pool: failed migration is not recorded", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  auto pool = MakePool(db.url(), "broken");
  std::vector<Migration> migrations = {
      {1, "create items", "CREATE TABLE items (id int PRIMARY KEY)"},
      {2, "add x", "ALTER TABLE no_such_table ADD COLUMN x int"},
  };
  absl::Status status = pool->Migrate(migrations);
  CHECK(status.code() == absl::StatusCode::kInternal);
  CHECK(status.message().find("migration 2") != absl::string_view::npos);
  CHECK(CountRows(*pool, "SELECT count(*) FROM schema_migrations") == 1);

  // The fixed migration applies on the next start.
  migrations[1] = {2, "add x", "ALTER TABLE items ADD COLUMN x int"};
  CHECK(pool->Migrate(migrations).ok());
  CHECK(CountRows(*pool, "SELECT count(*) FROM schema_migrations") == 2);
}

TEST_CASE("Pool: migrations with non-increasing versions are rejected", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  auto pool = MakePool(db.url(), "versions", 1);

  std::vector<std::vector<Migration>> bad_lists = {
      {{1, "a", "SELECT 1"}, {1, "b", "SELECT 1"}},
      {{2, "a", "SELECT 1"}, {1, "b", "SELECT 1"}},
      {{0, "a", "SELECT 1"}},
      {{-1, "a", "SELECT 1"}},
  };
  for (const auto& migrations : bad_lists) {
    absl::Status status = pool->Migrate(migrations);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(ailab::GetErrorReason(status) == "INVALID_MIGRATION_VERSION");
  }
  // Nothing was applied, not even the bookkeeping table.
  CHECK(CountRows(*pool, "SELECT count(*) FROM information_schema.tables WHERE "
                         "table_schema = 'versions'") == 0);
  // Gaps are allowed.
  CHECK(pool->Migrate({{1, "a", "SELECT 1"}, {5, "b", "SELECT 1"}}).ok());
}

TEST_CASE("Pool: concurrent migrations apply once", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  // Two pools, as two replicas of a service starting together would have.
  auto first = MakePool(db.url(), "shared", 2);
  auto second = MakePool(db.url(), "shared", 2);
  std::vector<Migration> migrations = {
      {1, "create log", "CREATE TABLE log (id serial PRIMARY KEY, note text)"},
      {2, "first note", "INSERT INTO log (note) VALUES ('v2')"},
      {3, "second note", "INSERT INTO log (note) VALUES ('v3')"},
  };

  absl::Status first_status, second_status;
  std::thread a([&] { first_status = first->Migrate(migrations); });
  std::thread b([&] { second_status = second->Migrate(migrations); });
  a.join();
  b.join();
  INFO(first_status.ToString() << " / " << second_status.ToString());
  CHECK(first_status.ok());
  CHECK(second_status.ok());
  CHECK(CountRows(*first, "SELECT count(*) FROM log") == 2);
  CHECK(CountRows(*first, "SELECT count(*) FROM schema_migrations") == 3);
}

TEST_CASE("Pool: 16 threads share 4 connections", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  auto pool = MakePool(db.url(), "busy", 4);
  REQUIRE(Exec(*pool, "CREATE TABLE counter (n int); INSERT INTO counter VALUES (0)").ok());
  constexpr int kThreads = 16;
  constexpr int kIncrements = 25;

  SECTION("read committed updates all apply") {
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kIncrements; ++i) {
          if (!Exec(*pool, "UPDATE counter SET n = n + 1").ok()) ++failures;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    CHECK(failures == 0);
    CHECK(CountRows(*pool, "SELECT n FROM counter") == kThreads * kIncrements);
  }

  SECTION("serializable conflicts are retried or ABORTED, never lost") {
    std::atomic<int> committed{0};
    std::atomic<int> aborted{0};
    std::atomic<int> other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kIncrements; ++i) {
          absl::Status status = pool->Run([](pqxx::work& tx) {
            tx.exec("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
            int n = tx.exec1("SELECT n FROM counter")[0].as<int>();
            tx.exec_params("UPDATE counter SET n = $1", n + 1);
            return absl::OkStatus();
          });
          if (status.ok()) {
            ++committed;
          } else if (status.code() == absl::StatusCode::kAborted) {
            ++aborted;
          } else {
            ++other;
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
    CHECK(other == 0);
    CHECK(committed + aborted == kThreads * kIncrements);
    CHECK(committed > 0);
    CHECK(CountRows(*pool, "SELECT n FROM counter") == committed);
  }
}

TEST_CASE("Pool: reconnects after the server ends a connection", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  auto pool = MakePool(db.url(), "reconnect", 1);
  auto admin = MakePool(db.url(), "admin", 1);
  REQUIRE(Exec(*pool, "CREATE TABLE items (id int)").ok());

  int64_t before = TerminateConnection(*pool, *admin);

  // The broken connection is noticed at BEGIN, before the function runs, so the call
  // is retried on a new connection and succeeds.
  CHECK(Exec(*pool, "INSERT INTO items VALUES (1)").ok());
  int64_t after = CountRows(*pool, "SELECT pg_backend_pid()");
  CHECK(after != before);
  // The new connection has the pool's search_path too.
  CHECK(CountRows(*pool, "SELECT count(*) FROM items") == 1);
  auto schema = pool->Query<std::string>([](pqxx::work& tx) -> absl::StatusOr<std::string> {
    return tx.exec1("SELECT current_schema()")[0].as<std::string>();
  });
  REQUIRE(schema.ok());
  CHECK(*schema == "reconnect");
}

TEST_CASE("Pool: connection lost inside the function is UNAVAILABLE or retried", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  auto pool = MakePool(db.url(), "midway", 1);
  int calls = 0;
  // The function ends its own connection on the first call only.
  absl::Status status = pool->Run([&](pqxx::work& tx) {
    ++calls;
    if (calls == 1) tx.exec("SELECT pg_terminate_backend(pg_backend_pid())");
    return absl::OkStatus();
  });
  CHECK(status.ok());
  CHECK(calls == 2);
}

TEST_CASE("Pool: autocommit statements commit one by one", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  auto pool = MakePool(db.url(), "autocommit", 1);
  REQUIRE(Exec(*pool, "CREATE TABLE items (id int PRIMARY KEY)").ok());

  auto inserted = pool->QueryAutocommit<int64_t>(
      [](pqxx::nontransaction& tx) -> absl::StatusOr<int64_t> {
        return tx.exec("INSERT INTO items VALUES (1), (2) RETURNING id").size();
      });
  REQUIRE(inserted.ok());
  CHECK(*inserted == 2);

  // An error returned after a statement leaves that statement applied.
  absl::Status failed = pool->RunAutocommit([](pqxx::nontransaction& tx) {
    tx.exec("INSERT INTO items VALUES (3)");
    return absl::InvalidArgumentError("stop here");
  });
  CHECK(failed.code() == absl::StatusCode::kInvalidArgument);
  CHECK(CountRows(*pool, "SELECT count(*) FROM items") == 3);

  // SQL errors map as in Run.
  absl::Status duplicate = pool->RunAutocommit([](pqxx::nontransaction& tx) {
    tx.exec("INSERT INTO items VALUES (1)");
    return absl::OkStatus();
  });
  CHECK(duplicate.code() == absl::StatusCode::kAlreadyExists);
  CHECK(CountRows(*pool, "SELECT count(*) FROM items") == 3);
}

TEST_CASE("Pool: autocommit reconnects an idle connection the server ended", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  auto pool = MakePool(db.url(), "autocommit_idle", 1);
  auto admin = MakePool(db.url(), "admin", 1);
  REQUIRE(Exec(*pool, "CREATE TABLE items (id int)").ok());
  int64_t before = TerminateConnection(*pool, *admin);

  // Past the idle limit the connection is checked, found closed and replaced before the
  // statement is sent.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  absl::Status status = pool->RunAutocommit([](pqxx::nontransaction& tx) {
    tx.exec("INSERT INTO items VALUES (1)");
    return absl::OkStatus();
  });
  INFO(status.ToString());
  CHECK(status.ok());
  CHECK(CountRows(*pool, "SELECT count(*) FROM items") == 1);
  CHECK(CountRows(*pool, "SELECT pg_backend_pid()") != before);
}

TEST_CASE("Pool: autocommit connection lost mid-statement is not retried", "[postgres]") {
  ailab::testing::ScratchDatabase db;
  auto pool = MakePool(db.url(), "autocommit_lost", 1);
  int calls = 0;
  absl::Status status = pool->RunAutocommit([&](pqxx::nontransaction& tx) {
    ++calls;
    tx.exec("SELECT pg_terminate_backend(pg_backend_pid())");
    return absl::OkStatus();
  });
  CHECK(calls == 1);
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(ailab::GetErrorReason(status) == "STATEMENT_OUTCOME_UNKNOWN");
  // The next call gets a new connection.
  CHECK(CountRows(*pool, "SELECT 1") == 1);
}

TEST_CASE("Page tokens round-trip and reject garbage", "[postgres]") {
  for (int64_t offset : {int64_t{0}, int64_t{1}, int64_t{50}, int64_t{1} << 40}) {
    auto decoded = ailab::pg::DecodePageToken(ailab::pg::EncodePageToken(offset));
    REQUIRE(decoded.ok());
    CHECK(*decoded == offset);
  }
  auto empty = ailab::pg::DecodePageToken("");
  REQUIRE(empty.ok());
  CHECK(*empty == 0);

  for (const char* bad : {"garbage!", "MTIz", "cGcxOi01", "cGcxOmFiYw"}) {
    // "MTIz" is "123" without the tag, "cGcxOi01" is "pg1:-5", "cGcxOmFiYw" is "pg1:abc".
    absl::StatusOr<int64_t> decoded = ailab::pg::DecodePageToken(bad);
    INFO(bad);
    CHECK(decoded.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(ailab::GetErrorReason(decoded.status()) == "INVALID_PAGE_TOKEN");
  }
}

TEST_CASE("ResolvePageSize applies default and maximum", "[postgres]") {
  CHECK(*ailab::pg::ResolvePageSize(0) == 50);
  CHECK(*ailab::pg::ResolvePageSize(0, 10) == 10);
  CHECK(*ailab::pg::ResolvePageSize(7) == 7);
  CHECK(*ailab::pg::ResolvePageSize(5000) == 1000);
  CHECK(*ailab::pg::ResolvePageSize(30, 10, 20) == 20);
  absl::StatusOr<int> negative = ailab::pg::ResolvePageSize(-1);
  CHECK(negative.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ailab::GetErrorReason(negative.status()) == "INVALID_PAGE_SIZE");
}
