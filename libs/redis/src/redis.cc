#include "ailab/redis/redis.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"

namespace ailab::redis {
namespace {

// Rounds of XAUTOCLAIM one XAutoClaim() call makes while the cursor has not wrapped.
// Each round scans at most 10 * COUNT entries of the pending list (Redis 7.0).
constexpr int kMaxAutoClaimRounds = 100;

std::shared_ptr<spdlog::logger> RedisLogger() { return log::Logger("redis"); }

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

timeval SocketTimeout(absl::Duration duration) {
  return absl::ToTimeval(std::max(duration, absl::Milliseconds(1)));
}

// Blocks SIGPIPE in this thread while a command writes to the socket, and discards a
// SIGPIPE raised meanwhile. hiredis writes with write(), which raises SIGPIPE on a
// socket the server closed; that signal would otherwise end the process.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    already_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
  }
  ~SigpipeGuard() {
    if (!already_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec no_wait = {0, 0};
        while (sigtimedwait(&pipe_, nullptr, &no_wait) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }

 private:
  sigset_t pipe_;
  sigset_t previous_;
  bool already_pending_ = false;
};

absl::Status UnexpectedReply(absl::string_view command, absl::string_view expected) {
  RedisLogger()->error("unexpected reply command={} expected={}", std::string(command),
                       std::string(expected));
  return Internal("UNEXPECTED_REDIS_REPLY",
                  absl::StrCat("Redis sent an unexpected reply to ", command, " (expected ",
                               expected, "); check that the server is Redis 7 or later"),
                  {{"command", command}});
}

// Maps an error reply, whose first word is its code (ERR, WRONGTYPE, NOGROUP, ...).
absl::Status ErrorReply(absl::string_view command, absl::string_view text) {
  absl::string_view code = text.substr(0, text.find(' '));
  std::initializer_list<ErrorField> metadata = {{"command", command}, {"redis_error", code}};
  std::string message = absl::StrCat("Redis rejected ", command, ": ", text);
  if (code == "NOGROUP") {
    return NotFound("REDIS_GROUP_NOT_FOUND",
                    absl::StrCat(message, "; create the consumer group with EnsureGroup first"),
                    metadata);
  }
  if (code == "WRONGTYPE") {
    return FailedPrecondition("REDIS_WRONG_TYPE",
                              absl::StrCat(message, "; the key holds another type of value"),
                              metadata);
  }
  if (code == "LOADING" || code == "BUSY" || code == "READONLY" || code == "MASTERDOWN" ||
      code == "TRYAGAIN" || code == "CLUSTERDOWN") {
    return Unavailable("REDIS_UNAVAILABLE",
                       absl::StrCat(message, "; retry once the server is ready"), metadata);
  }
  if (code == "OOM") {
    return ResourceExhausted(
        "REDIS_OUT_OF_MEMORY",
        absl::StrCat(message, "; free memory on the server or raise its maxmemory"), metadata);
  }
  return InvalidArgument("REDIS_COMMAND_REJECTED", "",
                         absl::StrCat(message, "; check the command and its arguments"),
                         metadata);
}

// Splits "host:port".
absl::StatusOr<std::pair<std::string, int>> ParseAddress(const std::string& address) {
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 1 || port > 65535) {
    return InvalidArgument("INVALID_REDIS_ADDRESS", "redis_address",
                           absl::StrCat("Redis address \"", address,
                                        "\" is invalid; use host:port, for example "
                                        "127.0.0.1:56379"),
                           {{"address", address}});
  }
  return std::make_pair(address.substr(0, colon), port);
}

// Sends `args` on `context` and returns the reply. On an I/O or protocol error the
// connection is freed and `context` set to null, so the next call reconnects.
absl::StatusOr<Reply> Call(redisContext*& context, const std::string& address,
                           const std::vector<std::string>& args, absl::Duration timeout) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisSetTimeout(context, SocketTimeout(timeout));

  Reply reply;
  int call_errno = 0;
  {
    SigpipeGuard guard;
    reply.reset(static_cast<redisReply*>(
        redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
    call_errno = errno;
  }
  if (reply == nullptr) {
    const bool timed_out = context->err == REDIS_ERR_IO &&
                           (call_errno == EAGAIN || call_errno == EWOULDBLOCK);
    std::string error = context->errstr[0] != '\0' ? context->errstr : "connection failed";
    redisFree(context);
    context = nullptr;
    RedisLogger()->warn("connection lost address={} command={} error={}", address, args[0],
                        error);
    return Unavailable("REDIS_UNAVAILABLE",
                       absl::StrCat(args[0], " to Redis at ", address, " failed: ",
                                    timed_out ? absl::StrCat("no reply within ",
                                                             absl::FormatDuration(timeout))
                                              : error,
                                    "; the client reconnects on the next call"),
                       {{"address", address}, {"command", args[0]}});
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    return ErrorReply(args[0], absl::string_view(reply->str, reply->len));
  }
  return reply;
}

bool IsText(const redisReply* reply) {
  return reply != nullptr &&
         (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS);
}

std::string Text(const redisReply* reply) { return std::string(reply->str, reply->len); }

// Parses one stream entry, [id, [field, value, ...]]. The field list is nil for an
// entry deleted while pending; it is returned with no fields.
absl::StatusOr<StreamEntry> ParseEntry(absl::string_view command, const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
      !IsText(reply->element[0])) {
    return UnexpectedReply(command, "an entry [id, fields]");
  }
  StreamEntry entry;
  entry.id = Text(reply->element[0]);
  const redisReply* fields = reply->element[1];
  if (fields->type == REDIS_REPLY_NIL) return entry;
  if (fields->type != REDIS_REPLY_ARRAY || fields->elements % 2 != 0) {
    return UnexpectedReply(command, "an even list of fields and values");
  }
  for (size_t i = 0; i < fields->elements; i += 2) {
    if (!IsText(fields->element[i]) || !IsText(fields->element[i + 1])) {
      return UnexpectedReply(command, "text fields and values");
    }
    entry.fields.emplace_back(Text(fields->element[i]), Text(fields->element[i + 1]));
  }
  return entry;
}

absl::Status ParseEntries(absl::string_view command, const redisReply* reply,
                          std::vector<StreamEntry>& entries) {
  if (reply->type != REDIS_REPLY_ARRAY) return UnexpectedReply(command, "a list of entries");
  for (size_t i = 0; i < reply->elements; ++i) {
    // Redis 6.2 returns nil in place of an entry deleted while pending.
    if (reply->element[i]->type == REDIS_REPLY_NIL) continue;
    AILAB_ASSIGN_OR_RETURN(StreamEntry entry, ParseEntry(command, reply->element[i]));
    entries.push_back(std::move(entry));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> IntegerOf(absl::string_view command, const redisReply* reply) {
  if (reply->type != REDIS_REPLY_INTEGER) return UnexpectedReply(command, "an integer");
  return reply->integer;
}

absl::Status RequireName(absl::string_view field, absl::string_view value) {
  if (!value.empty()) return absl::OkStatus();
  return InvalidArgument("MISSING_REDIS_ARGUMENT", field,
                         absl::StrCat(field, " is empty; pass a non-empty ", field));
}

absl::Status RequirePositiveCount(int count) {
  if (count > 0) return absl::OkStatus();
  return InvalidArgument("INVALID_REDIS_COUNT", "count",
                         absl::StrCat("count ", count, " is invalid; pass at least 1"),
                         {{"count", absl::StrCat(count)}});
}

}  // namespace

std::optional<std::string> StreamEntry::Get(absl::string_view field) const {
  for (const auto& [name, value] : fields) {
    if (name == field) return value;
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const std::string& address,
                                                        absl::Duration timeout,
                                                        const std::string& password) {
  AILAB_RETURN_IF_ERROR(ParseAddress(address).status());
  std::unique_ptr<Client> client(new Client());
  client->address_ = address;
  client->password_ = password;
  client->timeout_ = timeout;
  std::lock_guard<std::mutex> lock(client->mutex_);
  AILAB_RETURN_IF_ERROR(client->EnsureConnected());
  return client;
}

Client::~Client() {
  if (context_ != nullptr) redisFree(context_);
}

absl::Status Client::EnsureConnected() {
  if (context_ != nullptr) return absl::OkStatus();
  AILAB_ASSIGN_OR_RETURN(auto host_port, ParseAddress(address_));
  redisContext* context =
      redisConnectWithTimeout(host_port.first.c_str(), host_port.second, SocketTimeout(timeout_));
  if (context == nullptr || context->err != 0) {
    std::string error = context != nullptr ? context->errstr : "out of memory";
    if (context != nullptr) redisFree(context);
    RedisLogger()->warn("connect failed address={} error={}", address_, error);
    return Unavailable("REDIS_UNAVAILABLE",
                       absl::StrCat("could not connect to Redis at ", address_, ": ", error,
                                    "; start it (deploy/start-infra.sh) or fix --redis_address"),
                       {{"address", address_}});
  }
  context_ = context;
  if (!password_.empty()) {
    // The password stays out of the logs: a rejection names only the address.
    auto auth = Call(context_, address_, {"AUTH", password_}, timeout_);
    if (!auth.ok() || !IsText(auth->get())) {
      if (context_ != nullptr) redisFree(context_);
      context_ = nullptr;
      RedisLogger()->warn("authentication failed address={}", address_);
      return FailedPrecondition(
          "REDIS_AUTH_FAILED",
          absl::StrCat("Redis at ", address_,
                       " rejected the password; check --redis_password (AILAB_REDIS_PASSWORD)"),
          {{"address", address_}});
    }
  }
  RedisLogger()->info("{} address={}", ever_connected_ ? "reconnected" : "connected", address_);
  ever_connected_ = true;
  return absl::OkStatus();
}

absl::Status Client::Ping() {
  std::lock_guard<std::mutex> lock(mutex_);
  AILAB_RETURN_IF_ERROR(EnsureConnected());
  AILAB_ASSIGN_OR_RETURN(Reply reply, Call(context_, address_, {"PING"}, timeout_));
  if (!IsText(reply.get())) return UnexpectedReply("PING", "PONG");
  return absl::OkStatus();
}

absl::StatusOr<std::string> Client::XAdd(
    absl::string_view stream, const std::vector<std::pair<std::string, std::string>>& fields) {
  AILAB_RETURN_IF_ERROR(RequireName("stream", stream));
  if (fields.empty()) {
    return InvalidArgument("MISSING_STREAM_FIELDS", "fields",
                           absl::StrCat("no fields given for the entry of stream ", stream,
                                        "; a stream entry needs at least one field"),
                           {{"stream", stream}});
  }
  std::vector<std::string> args = {"XADD", std::string(stream), "*"};
  for (const auto& [field, value] : fields) {
    args.push_back(field);
    args.push_back(value);
  }

  std::lock_guard<std::mutex> lock(mutex_);
  AILAB_RETURN_IF_ERROR(EnsureConnected());
  AILAB_ASSIGN_OR_RETURN(Reply reply, Call(context_, address_, args, timeout_));
  if (!IsText(reply.get())) return UnexpectedReply("XADD", "an entry id");
  return Text(reply.get());
}

absl::Status Client::EnsureGroup(absl::string_view stream, absl::string_view group,
                                 absl::string_view start_id) {
  AILAB_RETURN_IF_ERROR(RequireName("stream", stream));
  AILAB_RETURN_IF_ERROR(RequireName("group", group));
  AILAB_RETURN_IF_ERROR(RequireName("start_id", start_id));

  std::lock_guard<std::mutex> lock(mutex_);
  AILAB_RETURN_IF_ERROR(EnsureConnected());
  auto reply = Call(context_, address_,
                    {"XGROUP", "CREATE", std::string(stream), std::string(group),
                     std::string(start_id), "MKSTREAM"},
                    timeout_);
  if (!reply.ok()) {
    // BUSYGROUP: the group exists already, which is what the caller wants.
    auto info = GetErrorInfo(reply.status());
    if (info.has_value() && info->metadata().count("redis_error") > 0 &&
        info->metadata().at("redis_error") == "BUSYGROUP") {
      return absl::OkStatus();
    }
    return reply.status();
  }
  RedisLogger()->info("consumer group created stream={} group={} start_id={}",
                      std::string(stream), std::string(group), std::string(start_id));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StreamEntry>> Client::XReadGroup(absl::string_view stream,
                                                            absl::string_view group,
                                                            absl::string_view consumer,
                                                            int count, absl::Duration block) {
  AILAB_RETURN_IF_ERROR(RequireName("stream", stream));
  AILAB_RETURN_IF_ERROR(RequireName("group", group));
  AILAB_RETURN_IF_ERROR(RequireName("consumer", consumer));
  AILAB_RETURN_IF_ERROR(RequirePositiveCount(count));
  if (block < absl::ZeroDuration()) {
    return InvalidArgument("INVALID_BLOCK_TIME", "block",
                           absl::StrCat("block time ", absl::FormatDuration(block),
                                        " is negative; pass 0 to return at once"));
  }
  std::vector<std::string> args = {"XREADGROUP", "GROUP", std::string(group),
                                   std::string(consumer), "COUNT", absl::StrCat(count)};
  // BLOCK 0 would wait forever, so a zero block time leaves BLOCK out.
  if (block > absl::ZeroDuration()) {
    args.push_back("BLOCK");
    args.push_back(absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(block))));
  }
  args.insert(args.end(), {"STREAMS", std::string(stream), ">"});

  std::lock_guard<std::mutex> lock(mutex_);
  AILAB_RETURN_IF_ERROR(EnsureConnected());
  // The socket waits for the block time on top of the normal reply time.
  AILAB_ASSIGN_OR_RETURN(Reply reply, Call(context_, address_, args, timeout_ + block));

  // nil when the block time passed without entries; else [[stream, [entry, ...]], ...].
  std::vector<StreamEntry> entries;
  if (reply->type == REDIS_REPLY_NIL) return entries;
  if (reply->type != REDIS_REPLY_ARRAY) return UnexpectedReply("XREADGROUP", "a list of streams");
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* per_stream = reply->element[i];
    if (per_stream->type != REDIS_REPLY_ARRAY || per_stream->elements != 2) {
      return UnexpectedReply("XREADGROUP", "[stream, entries]");
    }
    AILAB_RETURN_IF_ERROR(ParseEntries("XREADGROUP", per_stream->element[1], entries));
  }
  return entries;
}

absl::StatusOr<int64_t> Client::XAck(absl::string_view stream, absl::string_view group,
                                     absl::string_view id) {
  AILAB_RETURN_IF_ERROR(RequireName("stream", stream));
  AILAB_RETURN_IF_ERROR(RequireName("group", group));
  AILAB_RETURN_IF_ERROR(RequireName("id", id));

  std::lock_guard<std::mutex> lock(mutex_);
  AILAB_RETURN_IF_ERROR(EnsureConnected());
  AILAB_ASSIGN_OR_RETURN(
      Reply reply,
      Call(context_, address_, {"XACK", std::string(stream), std::string(group), std::string(id)},
           timeout_));
  return IntegerOf("XACK", reply.get());
}

absl::StatusOr<std::vector<StreamEntry>> Client::XAutoClaim(absl::string_view stream,
                                                            absl::string_view group,
                                                            absl::string_view consumer,
                                                            absl::Duration min_idle, int count) {
  AILAB_RETURN_IF_ERROR(RequireName("stream", stream));
  AILAB_RETURN_IF_ERROR(RequireName("group", group));
  AILAB_RETURN_IF_ERROR(RequireName("consumer", consumer));
  AILAB_RETURN_IF_ERROR(RequirePositiveCount(count));
  if (min_idle < absl::ZeroDuration()) {
    return InvalidArgument("INVALID_MIN_IDLE", "min_idle",
                           absl::StrCat("minimum idle time ", absl::FormatDuration(min_idle),
                                        " is negative; pass 0 or more"));
  }

  std::lock_guard<std::mutex> lock(mutex_);
  AILAB_RETURN_IF_ERROR(EnsureConnected());
  std::vector<StreamEntry> entries;
  std::string cursor = "0-0";
  for (int round = 0; round < kMaxAutoClaimRounds; ++round) {
    int remaining = count - static_cast<int>(entries.size());
    AILAB_ASSIGN_OR_RETURN(
        Reply reply,
        Call(context_, address_,
             {"XAUTOCLAIM", std::string(stream), std::string(group), std::string(consumer),
              absl::StrCat(absl::ToInt64Milliseconds(min_idle)), cursor, "COUNT",
              absl::StrCat(remaining)},
             timeout_));

    // Redis 7: [next cursor, [entry, ...], [deleted id, ...]]; Redis 6.2 has no third
    // element. Deleted ids are dropped from the pending list by the server.
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 || !IsText(reply->element[0])) {
      return UnexpectedReply("XAUTOCLAIM", "[cursor, entries, deleted ids]");
    }
    cursor = Text(reply->element[0]);
    AILAB_RETURN_IF_ERROR(ParseEntries("XAUTOCLAIM", reply->element[1], entries));
    if (reply->elements >= 3 && reply->element[2]->type == REDIS_REPLY_ARRAY &&
        reply->element[2]->elements > 0) {
      RedisLogger()->info("pending entries were deleted stream={} group={} count={}",
                          std::string(stream), std::string(group), reply->element[2]->elements);
    }
    if (cursor == "0-0" || static_cast<int>(entries.size()) >= count) break;
  }
  if (!entries.empty()) {
    RedisLogger()->info("claimed idle entries stream={} group={} consumer={} count={}",
                        std::string(stream), std::string(group), std::string(consumer),
                        entries.size());
  }
  return entries;
}

absl::StatusOr<std::vector<PendingEntry>> Client::XPending(absl::string_view stream,
                                                           absl::string_view group, int count) {
  AILAB_RETURN_IF_ERROR(RequireName("stream", stream));
  AILAB_RETURN_IF_ERROR(RequireName("group", group));
  AILAB_RETURN_IF_ERROR(RequirePositiveCount(count));

  std::lock_guard<std::mutex> lock(mutex_);
  AILAB_RETURN_IF_ERROR(EnsureConnected());
  AILAB_ASSIGN_OR_RETURN(Reply reply,
                         Call(context_, address_,
                              {"XPENDING", std::string(stream), std::string(group), "-", "+",
                               absl::StrCat(count)},
                              timeout_));
  if (reply->type != REDIS_REPLY_ARRAY) return UnexpectedReply("XPENDING", "a list");

  // Each element: [id, consumer, idle milliseconds, delivery count].
  std::vector<PendingEntry> pending;
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* item = reply->element[i];
    if (item->type != REDIS_REPLY_ARRAY || item->elements != 4 || !IsText(item->element[0]) ||
        !IsText(item->element[1]) || item->element[2]->type != REDIS_REPLY_INTEGER ||
        item->element[3]->type != REDIS_REPLY_INTEGER) {
      return UnexpectedReply("XPENDING", "[id, consumer, idle, deliveries]");
    }
    PendingEntry entry;
    entry.id = Text(item->element[0]);
    entry.consumer = Text(item->element[1]);
    entry.idle_ms = item->element[2]->integer;
    entry.delivery_count = item->element[3]->integer;
    pending.push_back(std::move(entry));
  }
  return pending;
}

absl::StatusOr<int64_t> Client::XLen(absl::string_view stream) {
  AILAB_RETURN_IF_ERROR(RequireName("stream", stream));
  std::lock_guard<std::mutex> lock(mutex_);
  AILAB_RETURN_IF_ERROR(EnsureConnected());
  AILAB_ASSIGN_OR_RETURN(Reply reply,
                         Call(context_, address_, {"XLEN", std::string(stream)}, timeout_));
  return IntegerOf("XLEN", reply.get());
}

absl::Status Client::XDel(absl::string_view stream, absl::string_view id) {
  AILAB_RETURN_IF_ERROR(RequireName("stream", stream));
  AILAB_RETURN_IF_ERROR(RequireName("id", id));
  std::lock_guard<std::mutex> lock(mutex_);
  AILAB_RETURN_IF_ERROR(EnsureConnected());
  AILAB_ASSIGN_OR_RETURN(
      Reply reply, Call(context_, address_, {"XDEL", std::string(stream), std::string(id)},
                        timeout_));
  return IntegerOf("XDEL", reply.get()).status();
}

absl::StatusOr<std::string> Client::Command(const std::vector<std::string>& args) {
  if (args.empty() || args[0].empty()) {
    return InvalidArgument("MISSING_REDIS_COMMAND", "args",
                           "no Redis command given; pass the command name first");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  AILAB_RETURN_IF_ERROR(EnsureConnected());
  AILAB_ASSIGN_OR_RETURN(Reply reply, Call(context_, address_, args, timeout_));
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      return absl::StrCat(reply->integer);
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return Text(reply.get());
    case REDIS_REPLY_NIL:
      return std::string();
    default:
      return UnexpectedReply(args[0], "an integer or string reply; use a dedicated method "
                                      "for commands that return lists");
  }
}

}  // namespace ailab::redis
