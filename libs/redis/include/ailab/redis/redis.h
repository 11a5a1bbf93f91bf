// Redis adapter over hiredis: the stream commands that carry the training queue.
//
// hiredis return codes and reply types never leave this library: every call returns
// an absl::Status, UNAVAILABLE when the server cannot be reached (the client then
// reconnects on the next call) and INTERNAL for an unexpected reply. Error replies map
// by their code: NOGROUP is NOT_FOUND, WRONGTYPE is FAILED_PRECONDITION, LOADING, BUSY
// and READONLY are UNAVAILABLE, OOM is RESOURCE_EXHAUSTED, others INVALID_ARGUMENT.
// The error's ErrorInfo metadata carries the code as "redis_error".
//
// A Client holds one connection and serialises calls on it with a mutex, so it is
// thread-safe but a blocking XREADGROUP holds it for the block time: give blocking
// readers their own Client.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct redisContext;

namespace ailab::redis {

// One stream entry: its id and its field-value pairs in order.
struct StreamEntry {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;

  // Returns the value of `field`, or nullopt.
  std::optional<std::string> Get(absl::string_view field) const;
};

// One entry of XPENDING's extended form.
struct PendingEntry {
  std::string id;
  std::string consumer;
  int64_t idle_ms = 0;
  int64_t delivery_count = 0;
};

class Client {
 public:
  // Connects to `address` (host:port) within `timeout`. Each later reply is awaited for
  // `timeout` too, plus the block time of XReadGroup. A non-empty `password` is sent with
  // AUTH on every connection, the reconnections included.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(const std::string& address,
                                                         absl::Duration timeout = absl::Seconds(5),
                                                         const std::string& password = "");
  ~Client();

  // PING.
  absl::Status Ping();

  // XADD stream * field value ...; returns the new entry id.
  absl::StatusOr<std::string> XAdd(absl::string_view stream,
                                   const std::vector<std::pair<std::string, std::string>>& fields);

  // XGROUP CREATE stream group start_id MKSTREAM; an existing group is not an error.
  // The default start_id "0" lets the group read entries added before it existed.
  absl::Status EnsureGroup(absl::string_view stream, absl::string_view group,
                           absl::string_view start_id = "0");

  // XREADGROUP GROUP group consumer COUNT count BLOCK block STREAMS stream >.
  // Returns no entries when `block` passes without any. A zero `block` returns at once
  // (BLOCK is left out, since Redis reads BLOCK 0 as "wait forever").
  absl::StatusOr<std::vector<StreamEntry>> XReadGroup(absl::string_view stream,
                                                      absl::string_view group,
                                                      absl::string_view consumer, int count,
                                                      absl::Duration block);

  // XACK stream group id; returns the number acknowledged (0 or 1).
  absl::StatusOr<int64_t> XAck(absl::string_view stream, absl::string_view group,
                               absl::string_view id);

  // XAUTOCLAIM stream group consumer min-idle start COUNT count: takes over entries
  // pending for longer than `min_idle` and returns them.
  absl::StatusOr<std::vector<StreamEntry>> XAutoClaim(absl::string_view stream,
                                                      absl::string_view group,
                                                      absl::string_view consumer,
                                                      absl::Duration min_idle, int count);

  // XPENDING stream group - + count: the pending entries with their idle time.
  absl::StatusOr<std::vector<PendingEntry>> XPending(absl::string_view stream,
                                                     absl::string_view group, int count);

  // XLEN stream.
  absl::StatusOr<int64_t> XLen(absl::string_view stream);

  // XDEL stream id.
  absl::Status XDel(absl::string_view stream, absl::string_view id);

  // Runs any command given as arguments and returns its integer or string reply as
  // text (for SET, GET, DEL, INCR, EXPIRE, CONFIG and the like). A nil reply is "".
  absl::StatusOr<std::string> Command(const std::vector<std::string>& args);

 private:
  Client() = default;
  absl::Status EnsureConnected();
  std::string address_;
  std::string password_;
  absl::Duration timeout_;
  std::mutex mutex_;
  redisContext* context_ = nullptr;
  // Set after the first connection, so that later ones are logged as reconnects.
  bool ever_connected_ = false;
};

}  // namespace ailab::redis
