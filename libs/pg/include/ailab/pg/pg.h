// PostgreSQL adapter: a connection pool, transactions and schema migrations over
// libpqxx.
//
// libpqxx exceptions never leave this library: Pool::Run() executes the caller's
// function inside a transaction and a try block, and turns every exception into an
// absl::Status:
//   - unique or exclusion violation                 -> ALREADY_EXISTS
//   - foreign key, check or not-null violation      -> FAILED_PRECONDITION
//   - serialization failure or deadlock             -> ABORTED (after retries)
//   - broken connection, server starting or stopping -> UNAVAILABLE
//   - anything else                                 -> INTERNAL
// A function may also return its own absl::Status error; the transaction is then
// rolled back. Serialization failures and deadlocks are retried up to three times.
//
// Each service owns one PostgreSQL schema (named like the service) and no other
// service touches it. Migrate() applies that schema's numbered migrations once, in
// order, under an advisory lock, so several replicas can start together.
//
// Pool is thread-safe. A pqxx::work passed to a function belongs to that call only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include <pqxx/pqxx>

namespace ailab::pg {

// Settings of a pool.
struct PoolOptions {
  // libpq connection URL, e.g. postgresql://ailab@127.0.0.1:55432/ailab.
  std::string url;
  // Connections opened at start and kept.
  int size = 4;
  // search_path set on every connection: the owning service's schema.
  std::string schema;
  // How long Pool::Create keeps retrying while the server is not reachable.
  absl::Duration connect_timeout = absl::Seconds(30);
};

// One numbered migration of a schema.
struct Migration {
  // Strictly increasing, starting at 1.
  int version;
  // Short description, stored with the applied version.
  std::string description;
  // SQL run in one transaction, unqualified names resolving to the schema.
  std::string sql;
};

// A fixed-size pool of connections to one database and schema.
class Pool {
 public:
  // Connects `options.size` connections, retrying until `connect_timeout`, and
  // creates the schema if it does not exist.
  static absl::StatusOr<std::unique_ptr<Pool>> Create(const PoolOptions& options);
  ~Pool();

  // Runs `fn` in a read-write transaction on a pooled connection and commits it when
  // `fn` returns OK. Blocks while all connections are busy, so `fn` must not call Run
  // on the same pool. `fn` may run more than once (see the retries above).
  absl::Status Run(const std::function<absl::Status(pqxx::work&)>& fn);

  // Same as Run, for functions that produce a value.
  template <typename T>
  absl::StatusOr<T> Query(const std::function<absl::StatusOr<T>(pqxx::work&)>& fn) {
    absl::StatusOr<T> result = absl::UnknownError("query did not run");
    absl::Status status = Run([&](pqxx::work& tx) -> absl::Status {
      result = fn(tx);
      return result.status();
    });
    if (!status.ok()) return status;
    return result;
  }

  // Runs `fn` on a pooled connection outside a transaction block, so that each statement
  // commits on its own and no BEGIN or COMMIT round trip is made. Meant for a function
  // that runs one write statement, or reads that need no common snapshot. An error that
  // `fn` returns does not undo statements that already ran. Errors map as in Run, but
  // nothing is retried: when the connection breaks during a statement, that statement
  // may or may not have been applied, and the result is UNAVAILABLE with reason
  // STATEMENT_OUTCOME_UNKNOWN. A connection that was idle for over a second is checked
  // with an empty query first and re-opened if the server ended it, so that a
  // PostgreSQL restart does not fail the first call on each pooled connection.
  absl::Status RunAutocommit(const std::function<absl::Status(pqxx::nontransaction&)>& fn);

  // Same as RunAutocommit, for functions that produce a value.
  template <typename T>
  absl::StatusOr<T> QueryAutocommit(
      const std::function<absl::StatusOr<T>(pqxx::nontransaction&)>& fn) {
    absl::StatusOr<T> result = absl::UnknownError("query did not run");
    absl::Status status = RunAutocommit([&](pqxx::nontransaction& tx) -> absl::Status {
      result = fn(tx);
      return result.status();
    });
    if (!status.ok()) return status;
    return result;
  }

  // Applies the migrations of this pool's schema that are not applied yet.
  absl::Status Migrate(const std::vector<Migration>& migrations);

  // Schema this pool works in.
  const std::string& schema() const;

 private:
  class Impl;
  explicit Pool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Opens a connection to `url`, runs `sql` outside any transaction and closes the
// connection again. For statements that PostgreSQL does not allow inside a transaction
// block, such as CREATE DATABASE and DROP DATABASE. Errors map as in Pool::Run.
absl::Status ExecuteStatement(const std::string& url, const std::string& sql);

// Makes an opaque page token from an offset (base64 of a tagged integer), and reads it
// back. An empty token is offset 0, the first page. An unreadable token is
// INVALID_ARGUMENT naming `page_token`.
std::string EncodePageToken(int64_t offset);
absl::StatusOr<int64_t> DecodePageToken(absl::string_view token);

// Resolves a List request's page_size: 0 means `default_size`, negative is
// INVALID_ARGUMENT, above `max_size` is clamped to it.
absl::StatusOr<int> ResolvePageSize(int page_size, int default_size = 50, int max_size = 1000);

}  // namespace ailab::pg
