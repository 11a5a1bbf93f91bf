// Tests of the Redis adapter against the test server. Every test uses its own keys
// and deletes them at the end.
#include "ailab/redis/redis.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "ailab/status/status.h"
#include "fixtures.h"

namespace {

using ailab::redis::Client;

std::unique_ptr<Client> Connect() {
  auto client = Client::Connect(ailab::testing::RedisAddress());
  INFO(client.status().ToString());
  REQUIRE(client.ok());
  return std::move(client).value();
}

// A unique key, deleted when the test ends.
class ScratchKey {
 public:
  explicit ScratchKey(Client& client, absl::string_view prefix = "test")
      : client_(client), name_(ailab::testing::UniqueName(prefix)) {}
  ~ScratchKey() { client_.Command({"DEL", name_}).IgnoreError(); }
  const std::string& name() const { return name_; }

 private:
  Client& client_;
  std::string name_;
};

}  // namespace

TEST_CASE("Client: ping", "[redis]") {
  auto client = Connect();
  CHECK(client->Ping().ok());
}

TEST_CASE("Client: add, read and acknowledge", "[redis]") {
  auto client = Connect();
  ScratchKey stream(*client, "stream");
  REQUIRE(client->EnsureGroup(stream.name(), "workers").ok());

  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto id = client->XAdd(stream.name(), {{"job", "job-" + std::to_string(i)}, {"try", "1"}});
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  CHECK(*client->XLen(stream.name()) == 3);

  auto entries = client->XReadGroup(stream.name(), "workers", "w1", 10, absl::Milliseconds(100));
  INFO(entries.status().ToString());
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 3);
  for (int i = 0; i < 3; ++i) {
    const auto& entry = (*entries)[i];
    CHECK(entry.id == ids[i]);
    REQUIRE(entry.fields.size() == 2);
    CHECK(entry.fields[0].first == "job");
    CHECK(entry.Get("job") == "job-" + std::to_string(i));
    CHECK(entry.Get("try") == "1");
    CHECK_FALSE(entry.Get("missing").has_value());
  }

  // Delivered entries are not delivered again to the group.
  auto again = client->XReadGroup(stream.name(), "workers", "w2", 10, absl::Milliseconds(50));
  REQUIRE(again.ok());
  CHECK(again->empty());

  for (const std::string& id : ids) CHECK(*client->XAck(stream.name(), "workers", id) == 1);
  CHECK(*client->XAck(stream.name(), "workers", ids[0]) == 0);
  auto pending = client->XPending(stream.name(), "workers", 10);
  REQUIRE(pending.ok());
  CHECK(pending->empty());
}

TEST_CASE("Client: values are binary-safe", "[redis]") {
  auto client = Connect();
  ScratchKey stream(*client, "stream");
  REQUIRE(client->EnsureGroup(stream.name(), "g").ok());
  std::string value("a\0b c\r\n", 7);
  REQUIRE(client->XAdd(stream.name(), {{"payload", value}, {"empty", ""}}).ok());
  auto entries = client->XReadGroup(stream.name(), "g", "c", 1, absl::ZeroDuration());
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 1);
  CHECK((*entries)[0].Get("payload") == value);
  CHECK((*entries)[0].Get("empty") == "");
}

TEST_CASE("Client: read of an empty stream returns nothing", "[redis]") {
  auto client = Connect();
  ScratchKey stream(*client, "stream");
  REQUIRE(client->EnsureGroup(stream.name(), "g").ok());
  auto blocking = client->XReadGroup(stream.name(), "g", "c", 5, absl::Milliseconds(20));
  REQUIRE(blocking.ok());
  CHECK(blocking->empty());
  auto immediate = client->XReadGroup(stream.name(), "g", "c", 5, absl::ZeroDuration());
  REQUIRE(immediate.ok());
  CHECK(immediate->empty());
}

TEST_CASE("Client: existing group is not an error", "[redis]") {
  auto client = Connect();
  ScratchKey stream(*client, "stream");
  CHECK(client->EnsureGroup(stream.name(), "g").ok());
  CHECK(client->EnsureGroup(stream.name(), "g").ok());
  CHECK(client->EnsureGroup(stream.name(), "g", "$").ok());
}

TEST_CASE("Client: group created late reads earlier entries", "[redis]") {
  auto client = Connect();
  ScratchKey stream(*client, "stream");
  REQUIRE(client->XAdd(stream.name(), {{"job", "early"}}).ok());
  REQUIRE(client->EnsureGroup(stream.name(), "g").ok());
  auto entries = client->XReadGroup(stream.name(), "g", "c", 5, absl::ZeroDuration());
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 1);
  CHECK((*entries)[0].Get("job") == "early");
}

TEST_CASE("Client: pending lists unacknowledged entries", "[redis]") {
  auto client = Connect();
  ScratchKey stream(*client, "stream");
  REQUIRE(client->EnsureGroup(stream.name(), "g").ok());
  auto first = client->XAdd(stream.name(), {{"n", "1"}});
  auto second = client->XAdd(stream.name(), {{"n", "2"}});
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(client->XReadGroup(stream.name(), "g", "alice", 10, absl::ZeroDuration())->size() == 2);
  REQUIRE(*client->XAck(stream.name(), "g", *first) == 1);

  auto pending = client->XPending(stream.name(), "g", 10);
  REQUIRE(pending.ok());
  REQUIRE(pending->size() == 1);
  CHECK((*pending)[0].id == *second);
  CHECK((*pending)[0].consumer == "alice");
  CHECK((*pending)[0].delivery_count == 1);
  CHECK((*pending)[0].idle_ms >= 0);
}

TEST_CASE("Client: autoclaim takes over idle entries", "[redis]") {
  auto client = Connect();
  ScratchKey stream(*client, "stream");
  REQUIRE(client->EnsureGroup(stream.name(), "g").ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(*client->XAdd(stream.name(), {{"n", std::to_string(i)}}));
  // A consumer takes the entries and stops without acknowledging them.
  REQUIRE(client->XReadGroup(stream.name(), "g", "crashed", 10, absl::ZeroDuration())->size() ==
          3);

  SECTION("entries idle for less than min_idle stay with their consumer") {
    auto claimed = client->XAutoClaim(stream.name(), "g", "rescuer", absl::Hours(1), 10);
    REQUIRE(claimed.ok());
    CHECK(claimed->empty());
  }
  SECTION("idle entries move to the claiming consumer") {
    auto claimed = client->XAutoClaim(stream.name(), "g", "rescuer", absl::ZeroDuration(), 10);
    INFO(claimed.status().ToString());
    REQUIRE(claimed.ok());
    REQUIRE(claimed->size() == 3);
    CHECK((*claimed)[0].id == ids[0]);
    CHECK((*claimed)[2].Get("n") == "2");

    auto pending = client->XPending(stream.name(), "g", 10);
    REQUIRE(pending.ok());
    REQUIRE(pending->size() == 3);
    for (const auto& entry : *pending) {
      CHECK(entry.consumer == "rescuer");
      CHECK(entry.delivery_count == 2);
    }
  }
  SECTION("count limits the entries claimed") {
    auto claimed = client->XAutoClaim(stream.name(), "g", "rescuer", absl::ZeroDuration(), 2);
    REQUIRE(claimed.ok());
    CHECK(claimed->size() == 2);
  }
  SECTION("entries deleted while pending are skipped") {
    REQUIRE(client->XDel(stream.name(), ids[1]).ok());
    CHECK(*client->XLen(stream.name()) == 2);
    auto claimed = client->XAutoClaim(stream.name(), "g", "rescuer", absl::ZeroDuration(), 10);
    REQUIRE(claimed.ok());
    REQUIRE(claimed->size() == 2);
    CHECK((*claimed)[0].id == ids[0]);
    CHECK((*claimed)[1].id == ids[2]);
  }
}

TEST_CASE("Client: missing group is NOT_FOUND", "[redis]") {
  auto client = Connect();
  ScratchKey stream(*client, "stream");
  REQUIRE(client->XAdd(stream.name(), {{"a", "b"}}).ok());
  auto read = client->XReadGroup(stream.name(), "nobody", "c", 1, absl::ZeroDuration());
  CHECK(read.status().code() == absl::StatusCode::kNotFound);
  CHECK(ailab::GetErrorReason(read.status()) == "REDIS_GROUP_NOT_FOUND");
  CHECK(client->XAutoClaim(stream.name(), "nobody", "c", absl::ZeroDuration(), 1)
            .status()
            .code() == absl::StatusCode::kNotFound);
}

TEST_CASE("Client: bad arguments are INVALID_ARGUMENT", "[redis]") {
  auto client = Connect();
  CHECK(client->XAdd("", {{"a", "b"}}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(client->XAdd("s", {}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(client->XReadGroup("s", "g", "c", 0, absl::ZeroDuration()).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(client->XReadGroup("s", "g", "c", 1, absl::Milliseconds(-1)).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(client->XAutoClaim("s", "g", "c", absl::Milliseconds(-1), 1).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(client->Command({}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Client: XLen and XDel", "[redis]") {
  auto client = Connect();
  ScratchKey stream(*client, "stream");
  CHECK(*client->XLen(stream.name()) == 0);
  auto id = client->XAdd(stream.name(), {{"a", "1"}});
  REQUIRE(id.ok());
  REQUIRE(client->XAdd(stream.name(), {{"a", "2"}}).ok());
  CHECK(*client->XLen(stream.name()) == 2);
  CHECK(client->XDel(stream.name(), *id).ok());
  CHECK(*client->XLen(stream.name()) == 1);
}

TEST_CASE("Client: Command returns replies as text", "[redis]") {
  auto client = Connect();
  ScratchKey key(*client, "key");
  CHECK(*client->Command({"SET", key.name(), "value"}) == "OK");
  CHECK(*client->Command({"GET", key.name()}) == "value");
  CHECK(*client->Command({"DEL", key.name()}) == "1");
  CHECK(*client->Command({"GET", key.name()}) == "");
  CHECK(*client->Command({"INCR", key.name()}) == "1");
  CHECK(*client->Command({"INCRBY", key.name(), "41"}) == "42");
  CHECK(*client->Command({"EXPIRE", key.name(), "60"}) == "1");

  SECTION("unknown command is INVALID_ARGUMENT") {
    auto reply = client->Command({"NOSUCHCOMMAND"});
    CHECK(reply.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(ailab::GetErrorInfo(reply.status())->metadata().at("redis_error") == "ERR");
  }
  SECTION("wrong type is FAILED_PRECONDITION") {
    auto reply = client->XLen(key.name());
    CHECK(reply.status().code() == absl::StatusCode::kFailedPrecondition);
  }
  SECTION("list replies are INTERNAL") {
    CHECK(client->Command({"MGET", key.name()}).status().code() == absl::StatusCode::kInternal);
  }
}

TEST_CASE("Client: Connect rejects bad addresses", "[redis]") {
  for (const char* address : {"no-port", "host:", ":56379", "host:0", "host:99999", "host:x"}) {
    INFO(address);
    CHECK(Client::Connect(address).status().code() == absl::StatusCode::kInvalidArgument);
  }
  // Port 1 on loopback refuses connections.
  auto refused = Client::Connect("127.0.0.1:1", absl::Milliseconds(500));
  CHECK(refused.status().code() == absl::StatusCode::kUnavailable);
  CHECK(ailab::GetErrorReason(refused.status()) == "REDIS_UNAVAILABLE");
}

TEST_CASE("Client: reconnects after the server closes the connection", "[redis]") {
  auto client = Connect();
  auto killer = Connect();
  std::string before = *client->Command({"CLIENT", "ID"});
  REQUIRE(*killer->Command({"CLIENT", "KILL", "ID", before}) == "1");

  // The first call may notice the closed socket and fail; the client then reconnects.
  absl::Status first = client->Ping();
  if (!first.ok()) CHECK(first.code() == absl::StatusCode::kUnavailable);
  CHECK(client->Ping().ok());
  auto after = client->Command({"CLIENT", "ID"});
  REQUIRE(after.ok());
  CHECK(*after != before);
}
