#include "ailab/pg/pg.h"

#include <libpq-fe.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"

namespace ailab::pg {
namespace {

// Retries of a transaction after a serialization failure, a deadlock or a connection
// that broke before the commit.
constexpr int kMaxRetries = 3;

// Tag in front of the offset inside a page token, so that a token from another
// encoding is rejected instead of misread.
constexpr absl::string_view kPageTokenTag = "pg1:";

std::shared_ptr<spdlog::logger> PgLogger() { return log::Logger("pg"); }

// Replaces the password of a libpq URL or keyword string with "***", so that URLs can
// be logged and returned in messages.
std::string RedactUrl(const std::string& url) {
  std::string redacted = url;

  // postgresql://user:password@host/...
  size_t scheme = redacted.find("://");
  if (scheme != std::string::npos) {
    size_t at = redacted.find('@', scheme + 3);
    size_t colon = redacted.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      redacted.replace(colon + 1, at - colon - 1, "***");
    }
  }

  // ...?password=secret&... or "password=secret" in keyword form.
  size_t key = redacted.find("password=");
  while (key != std::string::npos) {
    size_t begin = key + 9;
    size_t end = redacted.find_first_of("& ", begin);
    if (end == std::string::npos) end = redacted.size();
    redacted.replace(begin, end - begin, "***");
    key = redacted.find("password=", begin + 3);
  }
  return redacted;
}

// Returns the first line of a PostgreSQL error text without its "ERROR:" prefix. The
// DETAIL lines that follow can contain row values, so they stay out of messages and logs.
std::string FirstLine(absl::string_view text) {
  absl::string_view line = text.substr(0, text.find('\n'));
  absl::ConsumePrefix(&line, "ERROR:");
  absl::ConsumePrefix(&line, "FATAL:");
  return std::string(absl::StripAsciiWhitespace(line));
}

bool IsRetryableConflict(const std::string& sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01";
}

// SQLSTATE class 08 (connection exception) and the shutdown codes 57P01-57P03 mean that
// the connection is gone or about to go.
bool IsConnectionLoss(const std::string& sqlstate) {
  return absl::StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

// Maps an SQL error that is not retried to a status, following the table in pg.h.
absl::Status SqlErrorToStatus(const pqxx::sql_error& error) {
  const std::string& sqlstate = error.sqlstate();
  std::string text = FirstLine(error.what());

  if (sqlstate == "23505" || sqlstate == "23P01") {
    return AlreadyExists("ROW_ALREADY_EXISTS", absl::StrCat("row already exists: ", text),
                         {{"sqlstate", sqlstate}});
  }
  if (sqlstate == "23503" || sqlstate == "23514" || sqlstate == "23502" ||
      sqlstate == "23001") {
    return FailedPrecondition(
        "CONSTRAINT_VIOLATION",
        absl::StrCat("row violates a constraint: ", text,
                     "; create the rows it refers to or supply every required value first"),
        {{"sqlstate", sqlstate}});
  }
  if (IsRetryableConflict(sqlstate)) {
    return MakeError(absl::StatusCode::kAborted, "TRANSACTION_CONFLICT",
                     absl::StrCat("transaction conflicted with a concurrent one ", kMaxRetries,
                                  " times in a row: ", text, "; retry the request"),
                     {{"sqlstate", sqlstate}});
  }
  if (IsConnectionLoss(sqlstate)) {
    return Unavailable("DATABASE_UNAVAILABLE",
                       absl::StrCat("database connection lost: ", text,
                                    "; retry once PostgreSQL is reachable"),
                       {{"sqlstate", sqlstate}});
  }
  return Internal("DATABASE_ERROR", absl::StrCat("database statement failed: ", text),
                  {{"sqlstate", sqlstate}});
}

absl::Status BrokenConnectionStatus(absl::string_view what) {
  return Unavailable("DATABASE_UNAVAILABLE",
                     absl::StrCat("database connection lost: ", FirstLine(what),
                                  "; retry once PostgreSQL is reachable"));
}

// Waits a random 1 to 10 * 2^attempt milliseconds, so that transactions that conflicted
// do not collide again straight away.
void SleepBeforeRetry(int attempt) {
  thread_local std::minstd_rand random(std::random_device{}());
  std::uniform_int_distribution<int> millis(1, 10 << attempt);
  std::this_thread::sleep_for(std::chrono::milliseconds(millis(random)));
}

// FNV-1a, so that every process derives the same advisory lock key from a schema name.
int64_t AdvisoryLockKey(absl::string_view purpose, absl::string_view schema) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : absl::StrCat("ailab.pg.", purpose, ":", schema)) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return static_cast<int64_t>(hash);
}

absl::Status InvalidUrl(const std::string& url, absl::string_view problem) {
  return InvalidArgument("INVALID_DATABASE_URL", "database_url",
                         absl::StrCat("database URL \"", RedactUrl(url), "\" is invalid (",
                                      problem,
                                      "); use the form postgresql://user@host:port/database"),
                         {{"url", RedactUrl(url)}});
}

// Checks the syntax of `url` and its port, which libpq would otherwise only reject
// when connecting, so that WaitForServer() does not wait on a typo.
absl::Status ValidateUrl(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string problem = error != nullptr ? FirstLine(error) : "unreadable";
    PQfreemem(error);
    return InvalidUrl(url, problem);
  }
  absl::Status status;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::string(option->keyword) != "port" || option->val == nullptr) continue;
    // A URL with several hosts lists their ports separated by commas.
    for (absl::string_view port : absl::StrSplit(option->val, ',')) {
      int number = 0;
      if (!port.empty() && (!absl::SimpleAtoi(port, &number) || number < 1 || number > 65535)) {
        status = InvalidUrl(url, absl::StrCat("port \"", port, "\" is not a number from 1 to 65535"));
      }
    }
  }
  PQconninfoFree(options);
  return status;
}

// Waits until the server at `url` accepts connections or `timeout` passes.
absl::Status WaitForServer(const std::string& url, absl::Duration timeout) {
  AILAB_RETURN_IF_ERROR(ValidateUrl(url));
  absl::Time deadline = absl::Now() + timeout;
  absl::Duration backoff = absl::Milliseconds(100);
  int attempt = 0;
  while (true) {
    PGPing ping = PQping(url.c_str());
    if (ping == PQPING_OK) return absl::OkStatus();
    if (ping == PQPING_NO_ATTEMPT) return InvalidUrl(url, "libpq did not attempt to connect");
    if (absl::Now() + backoff > deadline) {
      return Unavailable("DATABASE_UNAVAILABLE",
                         absl::StrCat("PostgreSQL at ", RedactUrl(url),
                                      " did not accept connections within ",
                                      absl::FormatDuration(timeout),
                                      "; start it (deploy/start-infra.sh) or fix --database_url"),
                         {{"url", RedactUrl(url)}});
    }
    ++attempt;
    if (attempt == 1 || attempt % 10 == 0) {
      PgLogger()->warn("database not reachable, retrying url={} attempt={} state={}",
                       RedactUrl(url), attempt, ping == PQPING_REJECT ? "rejecting" : "no_response");
    }
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(backoff));
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

// Opens one connection with search_path set to `schema` (when not empty).
absl::StatusOr<std::unique_ptr<pqxx::connection>> OpenConnection(const std::string& url,
                                                                  const std::string& schema) {
  try {
    auto connection = std::make_unique<pqxx::connection>(url);
    if (!schema.empty()) {
      // set_variable also restores the setting if libpqxx itself re-establishes the
      // connection.
      connection->set_variable("search_path", connection->quote_name(schema));
    }
    return connection;
  } catch (const pqxx::broken_connection& error) {
    return Unavailable("DATABASE_CONNECT_FAILED",
                       absl::StrCat("could not connect to PostgreSQL at ", RedactUrl(url), ": ",
                                    FirstLine(error.what()),
                                    "; check --database_url and that the server is running"),
                       {{"url", RedactUrl(url)}});
  } catch (const pqxx::sql_error& error) {
    return SqlErrorToStatus(error);
  } catch (const std::exception& error) {
    return Internal("DATABASE_CONNECT_FAILED",
                    absl::StrCat("could not set up a connection to ", RedactUrl(url), ": ",
                                 FirstLine(error.what())),
                    {{"url", RedactUrl(url)}});
  }
}

}  // namespace

// ---------------------------------------------------------------------------------
// Pool

class Pool::Impl {
 public:
  explicit Impl(PoolOptions options) : options_(std::move(options)) {}

  // A connection taken from the pool; null when it broke and must be re-opened.
  using Connection = std::unique_ptr<pqxx::connection>;

  void AddConnection(Connection connection) {
    idle_.push_back({std::move(connection), absl::Now()});
  }

  // Takes an idle connection, waiting for one, and stores in `*idle_since` when it was
  // last released.
  Connection Acquire(absl::Time* idle_since = nullptr) {
    std::unique_lock<std::mutex> lock(mutex_);
    available_.wait(lock, [this] { return !idle_.empty(); });
    IdleConnection idle = std::move(idle_.back());
    idle_.pop_back();
    if (idle_since != nullptr) *idle_since = idle.since;
    return std::move(idle.connection);
  }

  void Release(Connection connection) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      idle_.push_back({std::move(connection), absl::Now()});
    }
    available_.notify_one();
  }

  // Re-opens `connection` when it is null.
  absl::Status EnsureOpen(Connection& connection) {
    if (connection != nullptr) return absl::OkStatus();
    auto opened = OpenConnection(options_.url, options_.schema);
    if (!opened.ok()) {
      PgLogger()->warn("reconnect failed schema={} error={}", options_.schema,
                       std::string(opened.status().message()));
      return opened.status();
    }
    PgLogger()->info("reconnected schema={}", options_.schema);
    connection = std::move(opened).value();
    return absl::OkStatus();
  }

  absl::Status Run(const std::function<absl::Status(pqxx::work&)>& fn);
  absl::Status RunAutocommit(const std::function<absl::Status(pqxx::nontransaction&)>& fn);

  const PoolOptions& options() const { return options_; }

 private:
  // Outcome of one attempt at running a transaction.
  struct Attempt {
    absl::Status status;
    bool retry = false;
  };
  Attempt RunOnce(Connection& connection, const std::function<absl::Status(pqxx::work&)>& fn,
                  int attempt);
  // Checks a connection that sat idle with a query that changes nothing, and re-opens it
  // when the server has ended it.
  absl::Status CheckIdle(Connection& connection);
  absl::Status RunAutocommitOnce(Connection& connection,
                                 const std::function<absl::Status(pqxx::nontransaction&)>& fn);
  // Logs an SQL error that is not retried and maps it to a status (the table in pg.h).
  absl::Status FailedStatement(const pqxx::sql_error& error);
  // Logs an error that is neither an SQL nor a connection error, such as a libpqxx usage
  // or conversion error or anything a function threw itself, and maps it to INTERNAL.
  // `what` names the failed work in the log and the message.
  absl::Status UnexpectedError(Connection& connection, const std::exception& error,
                               absl::string_view what);

  struct IdleConnection {
    Connection connection;
    // When the connection was last released to the pool.
    absl::Time since;
  };

  const PoolOptions options_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<IdleConnection> idle_;
};

absl::Status Pool::Impl::Run(const std::function<absl::Status(pqxx::work&)>& fn) {
  Connection connection = Acquire();
  absl::Status status;
  for (int attempt = 0; attempt <= kMaxRetries; ++attempt) {
    status = EnsureOpen(connection);
    if (!status.ok()) break;
    Attempt outcome = RunOnce(connection, fn, attempt);
    status = outcome.status;
    if (!outcome.retry) break;
  }
  Release(std::move(connection));
  return status;
}

Pool::Impl::Attempt Pool::Impl::RunOnce(Connection& connection,
                                        const std::function<absl::Status(pqxx::work&)>& fn,
                                        int attempt) {
  const bool may_retry = attempt < kMaxRetries;
  bool committing = false;
  absl::Status fn_status;
  try {
    // The constructor sends BEGIN, so a connection that broke while idle fails here,
    // before `fn` has run.
    pqxx::work tx(*connection);
    fn_status = fn(tx);
    if (!fn_status.ok()) {
      // NOTE: abort() can itself throw when the connection broke. The handlers below
      // then return `fn_status` without retrying.
      tx.abort();
      return {fn_status, false};
    }
    committing = true;
    tx.commit();
    return {absl::OkStatus(), false};
  } catch (const pqxx::in_doubt_error& error) {
    connection.reset();
    PgLogger()->error("commit outcome unknown schema={} error={}", options_.schema,
                      FirstLine(error.what()));
    return {Unavailable("COMMIT_OUTCOME_UNKNOWN",
                        absl::StrCat("the database connection broke during COMMIT, so the "
                                     "transaction may or may not have been applied: ",
                                     FirstLine(error.what()),
                                     "; read the data back before retrying"),
                        {{"schema", options_.schema}}),
            false};
  } catch (const pqxx::broken_connection& error) {
    connection.reset();
    PgLogger()->warn("connection broken schema={} attempt={} committing={} error={}",
                     options_.schema, attempt + 1, committing, FirstLine(error.what()));
    if (!fn_status.ok()) return {fn_status, false};
    if (committing) {
      return {Unavailable("COMMIT_OUTCOME_UNKNOWN",
                          absl::StrCat("the database connection broke during COMMIT, so the "
                                       "transaction may or may not have been applied: ",
                                       FirstLine(error.what()),
                                       "; read the data back before retrying"),
                          {{"schema", options_.schema}}),
              false};
    }
    return {BrokenConnectionStatus(error.what()), may_retry};
  } catch (const pqxx::statement_completion_unknown& error) {
    connection.reset();
    PgLogger()->error("statement outcome unknown schema={} error={}", options_.schema,
                      FirstLine(error.what()));
    return {Unavailable("STATEMENT_OUTCOME_UNKNOWN",
                        absl::StrCat("the database could not tell whether the last statement "
                                     "completed: ",
                                     FirstLine(error.what()),
                                     "; read the data back before retrying"),
                        {{"schema", options_.schema}, {"sqlstate", "40003"}}),
            false};
  } catch (const pqxx::transaction_rollback& error) {
    // libpqxx 6 reports SQLSTATE class 40 with these classes, without an SQLSTATE.
    const bool conflict = dynamic_cast<const pqxx::serialization_failure*>(&error) != nullptr ||
                          dynamic_cast<const pqxx::deadlock_detected*>(&error) != nullptr;
    if (conflict && may_retry) {
      PgLogger()->info("retrying transaction schema={} attempt={} error={}", options_.schema,
                       attempt + 1, FirstLine(error.what()));
      SleepBeforeRetry(attempt);
      return {absl::OkStatus(), true};
    }
    PgLogger()->warn("transaction rolled back schema={} attempts={} error={}", options_.schema,
                     attempt + 1, FirstLine(error.what()));
    return {MakeError(absl::StatusCode::kAborted,
                      conflict ? "TRANSACTION_CONFLICT" : "TRANSACTION_ROLLED_BACK",
                      absl::StrCat("the database rolled the transaction back after ",
                                   attempt + 1, " attempts: ", FirstLine(error.what()),
                                   "; retry the request"),
                      {{"schema", options_.schema}}),
            false};
  } catch (const pqxx::sql_error& error) {
    const std::string& sqlstate = error.sqlstate();
    if (IsConnectionLoss(sqlstate)) {
      connection.reset();
      PgLogger()->warn("connection lost schema={} attempt={} sqlstate={} error={}",
                       options_.schema, attempt + 1, sqlstate, FirstLine(error.what()));
      if (!fn_status.ok()) return {fn_status, false};
      return {SqlErrorToStatus(error), may_retry && !committing};
    }
    if (IsRetryableConflict(sqlstate) && may_retry) {
      PgLogger()->info("retrying transaction schema={} attempt={} sqlstate={}", options_.schema,
                       attempt + 1, sqlstate);
      SleepBeforeRetry(attempt);
      return {SqlErrorToStatus(error), true};
    }
    return {FailedStatement(error), false};
  } catch (const std::exception& error) {
    return {UnexpectedError(connection, error, "transaction"), false};
  }
}

absl::Status Pool::Impl::RunAutocommit(
    const std::function<absl::Status(pqxx::nontransaction&)>& fn) {
  // Under load connections go back and forth within milliseconds. One idle for longer
  // may have been ended by a server restart, which only the next statement would notice.
  constexpr absl::Duration kCheckIdleAfter = absl::Seconds(1);
  absl::Time idle_since;
  Connection connection = Acquire(&idle_since);
  absl::Status status = EnsureOpen(connection);
  if (status.ok() && absl::Now() - idle_since > kCheckIdleAfter) status = CheckIdle(connection);
  if (status.ok()) status = RunAutocommitOnce(connection, fn);
  Release(std::move(connection));
  return status;
}

absl::Status Pool::Impl::CheckIdle(Connection& connection) {
  try {
    pqxx::nontransaction tx(*connection);
    tx.exec("SELECT 1");
    return absl::OkStatus();
  } catch (const pqxx::broken_connection& error) {
    PgLogger()->info("idle connection was closed, reconnecting schema={} error={}",
                     options_.schema, FirstLine(error.what()));
  } catch (const pqxx::sql_error& error) {
    if (!IsConnectionLoss(error.sqlstate())) return SqlErrorToStatus(error);
    PgLogger()->info("idle connection was ended by the server, reconnecting schema={} error={}",
                     options_.schema, FirstLine(error.what()));
  } catch (const std::exception& error) {
    PgLogger()->error("idle connection check failed schema={} error={}", options_.schema,
                      FirstLine(error.what()));
  }
  connection.reset();
  return EnsureOpen(connection);
}

absl::Status Pool::Impl::RunAutocommitOnce(
    Connection& connection, const std::function<absl::Status(pqxx::nontransaction&)>& fn) {
  auto outcome_unknown = [&](const char* what) {
    connection.reset();
    PgLogger()->error("connection lost during an autocommit statement schema={} error={}",
                      options_.schema, FirstLine(what));
    return Unavailable("STATEMENT_OUTCOME_UNKNOWN",
                       absl::StrCat("the database connection broke during a statement, so it "
                                    "may or may not have been applied: ",
                                    FirstLine(what), "; read the data back before retrying"),
                       {{"schema", options_.schema}});
  };
  try {
    pqxx::nontransaction tx(*connection);
    return fn(tx);
  } catch (const pqxx::broken_connection& error) {
    return outcome_unknown(error.what());
  } catch (const pqxx::in_doubt_error& error) {
    return outcome_unknown(error.what());
  } catch (const pqxx::statement_completion_unknown& error) {
    return outcome_unknown(error.what());
  } catch (const pqxx::sql_error& error) {
    const std::string& sqlstate = error.sqlstate();
    if (IsConnectionLoss(sqlstate)) return outcome_unknown(error.what());
    // libpqxx 6 reports serialization failures and deadlocks as transaction_rollback
    // subclasses, sometimes without an SQLSTATE.
    const bool conflict = IsRetryableConflict(sqlstate) ||
                          dynamic_cast<const pqxx::serialization_failure*>(&error) != nullptr ||
                          dynamic_cast<const pqxx::deadlock_detected*>(&error) != nullptr;
    if (conflict) {
      PgLogger()->warn("statement conflicted schema={} sqlstate={} error={}", options_.schema,
                       sqlstate, FirstLine(error.what()));
      return MakeError(absl::StatusCode::kAborted, "TRANSACTION_CONFLICT",
                       absl::StrCat("the statement conflicted with a concurrent one: ",
                                    FirstLine(error.what()), "; retry the request"),
                       {{"schema", options_.schema}, {"sqlstate", sqlstate}});
    }
    return FailedStatement(error);
  } catch (const std::exception& error) {
    return UnexpectedError(connection, error, "autocommit statement");
  }
}

absl::Status Pool::Impl::FailedStatement(const pqxx::sql_error& error) {
  absl::Status status = SqlErrorToStatus(error);
  if (status.code() == absl::StatusCode::kInternal ||
      status.code() == absl::StatusCode::kAborted) {
    PgLogger()->warn("statement failed schema={} sqlstate={} error={}", options_.schema,
                     error.sqlstate(), FirstLine(error.what()));
  } else {
    PgLogger()->debug("constraint violation schema={} sqlstate={} error={}", options_.schema,
                      error.sqlstate(), FirstLine(error.what()));
  }
  return status;
}

absl::Status Pool::Impl::UnexpectedError(Connection& connection, const std::exception& error,
                                         absl::string_view what) {
  PgLogger()->error("{} failed schema={} error={}", std::string(what), options_.schema,
                    FirstLine(error.what()));
  if (connection != nullptr && !connection->is_open()) connection.reset();
  return Internal("DATABASE_ERROR",
                  absl::StrCat("database ", what, " failed: ", FirstLine(error.what())),
                  {{"schema", options_.schema}});
}

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(const PoolOptions& options) {
  if (options.url.empty()) {
    return InvalidArgument("MISSING_DATABASE_URL", "database_url",
                           "database URL is empty; set --database_url, for example "
                           "postgresql://ailab@127.0.0.1:55432/ailab");
  }
  if (options.size < 1) {
    return InvalidArgument("INVALID_POOL_SIZE", "database_pool_size",
                           absl::StrCat("pool size ", options.size,
                                        " is invalid; use at least 1 connection"),
                           {{"size", absl::StrCat(options.size)}});
  }
  if (options.schema.empty()) {
    return InvalidArgument("MISSING_SCHEMA", "schema",
                           "schema is empty; name the owning service's schema");
  }
  AILAB_RETURN_IF_ERROR(WaitForServer(options.url, options.connect_timeout));

  // Creates the schema first, on a connection without search_path. The advisory lock
  // serialises replicas that start together, because two concurrent CREATE SCHEMA IF
  // NOT EXISTS can still collide on the catalog's unique index.
  auto impl = std::make_unique<Impl>(options);
  {
    AILAB_ASSIGN_OR_RETURN(auto setup, OpenConnection(options.url, ""));
    Impl setup_pool(options);
    setup_pool.AddConnection(std::move(setup));
    AILAB_RETURN_IF_ERROR(Annotate(
        setup_pool.Run([&](pqxx::work& tx) {
          tx.exec_params("SELECT pg_advisory_xact_lock($1)", AdvisoryLockKey("schema", options.schema));
          tx.exec("CREATE SCHEMA IF NOT EXISTS " + tx.quote_name(options.schema));
          return absl::OkStatus();
        }),
        absl::StrCat("creating schema ", options.schema)));
  }

  for (int i = 0; i < options.size; ++i) {
    AILAB_ASSIGN_OR_RETURN(auto connection, OpenConnection(options.url, options.schema));
    impl->AddConnection(std::move(connection));
  }
  PgLogger()->info("pool ready url={} schema={} size={}", RedactUrl(options.url), options.schema,
                   options.size);
  return std::unique_ptr<Pool>(new Pool(std::move(impl)));
}

Pool::Pool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Pool::~Pool() = default;

absl::Status Pool::Run(const std::function<absl::Status(pqxx::work&)>& fn) {
  return impl_->Run(fn);
}

absl::Status Pool::RunAutocommit(const std::function<absl::Status(pqxx::nontransaction&)>& fn) {
  return impl_->RunAutocommit(fn);
}

const std::string& Pool::schema() const { return impl_->options().schema; }

// ---------------------------------------------------------------------------------
// Migrations

absl::Status Pool::Migrate(const std::vector<Migration>& migrations) {
  // Checks the list before touching the database.
  int previous = 0;
  for (const Migration& migration : migrations) {
    if (migration.version <= previous) {
      return InvalidArgument(
          "INVALID_MIGRATION_VERSION", "version",
          absl::StrCat("migration version ", migration.version, " (\"", migration.description,
                       "\") of schema ", schema(), " must be greater than ", previous,
                       "; number migrations 1, 2, 3, ... in the order they apply"),
          {{"version", absl::StrCat(migration.version)}, {"schema", schema()}});
    }
    previous = migration.version;
  }

  const std::string& name = schema();
  const int64_t lock_key = AdvisoryLockKey("migrate", name);
  auto lock = [lock_key](pqxx::work& tx) {
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", lock_key);
  };

  AILAB_RETURN_IF_ERROR(Annotate(
      Run([&](pqxx::work& tx) {
        lock(tx);
        tx.exec("CREATE TABLE IF NOT EXISTS " + tx.quote_name(name) +
                ".schema_migrations (version int PRIMARY KEY, description text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now())");
        return absl::OkStatus();
      }),
      absl::StrCat("creating ", name, ".schema_migrations")));

  // Applies each missing version in its own transaction. The lock makes a concurrent
  // migrator wait, after which it finds the version recorded and skips it.
  int applied = 0;
  for (const Migration& migration : migrations) {
    bool ran = false;
    absl::Status status = Run([&](pqxx::work& tx) {
      ran = false;
      lock(tx);
      pqxx::result existing =
          tx.exec_params("SELECT 1 FROM " + tx.quote_name(name) +
                             ".schema_migrations WHERE version = $1",
                         migration.version);
      if (!existing.empty()) return absl::OkStatus();
      tx.exec(migration.sql);
      tx.exec_params("INSERT INTO " + tx.quote_name(name) +
                         ".schema_migrations (version, description) VALUES ($1, $2)",
                     migration.version, migration.description);
      ran = true;
      return absl::OkStatus();
    });
    if (!status.ok()) {
      PgLogger()->error("migration failed schema={} version={} error={}", name,
                        migration.version, std::string(status.message()));
      return Annotate(status, absl::StrCat("applying migration ", migration.version, " (\"",
                                           migration.description, "\") of schema ", name));
    }
    if (ran) {
      ++applied;
      PgLogger()->info("migration applied schema={} version={} description=\"{}\"", name,
                       migration.version, migration.description);
    }
  }
  PgLogger()->info("schema up to date schema={} applied={} latest={}", name, applied, previous);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------
// Free functions

absl::Status ExecuteStatement(const std::string& url, const std::string& sql) {
  AILAB_ASSIGN_OR_RETURN(auto connection, OpenConnection(url, ""));
  try {
    pqxx::nontransaction tx(*connection);
    tx.exec(sql);
    return absl::OkStatus();
  } catch (const pqxx::broken_connection& error) {
    return BrokenConnectionStatus(error.what());
  } catch (const pqxx::sql_error& error) {
    return SqlErrorToStatus(error);
  } catch (const std::exception& error) {
    return Internal("DATABASE_ERROR",
                    absl::StrCat("database statement failed: ", FirstLine(error.what())));
  }
}

std::string EncodePageToken(int64_t offset) {
  return absl::WebSafeBase64Escape(absl::StrCat(kPageTokenTag, offset));
}

absl::StatusOr<int64_t> DecodePageToken(absl::string_view token) {
  if (token.empty()) return 0;
  std::string decoded;
  int64_t offset = -1;
  absl::string_view digits;
  bool readable = absl::WebSafeBase64Unescape(token, &decoded);
  if (readable) {
    digits = decoded;
    readable = absl::ConsumePrefix(&digits, kPageTokenTag) &&
               absl::SimpleAtoi(digits, &offset) && offset >= 0;
  }
  if (!readable) {
    return InvalidArgument("INVALID_PAGE_TOKEN", "page_token",
                           absl::StrCat("page_token \"", token,
                                        "\" is not a token this service issued; pass the "
                                        "next_page_token of the previous response, or none "
                                        "for the first page"),
                           {{"page_token", token}});
  }
  return offset;
}

absl::StatusOr<int> ResolvePageSize(int page_size, int default_size, int max_size) {
  if (page_size < 0) {
    return InvalidArgument("INVALID_PAGE_SIZE", "page_size",
                           absl::StrCat("page_size ", page_size,
                                        " is negative; use 0 for the default of ", default_size,
                                        " or a positive number up to ", max_size),
                           {{"page_size", absl::StrCat(page_size)}});
  }
  if (page_size == 0) return default_size;
  return std::min(page_size, max_size);
}

}  // namespace ailab::pg
