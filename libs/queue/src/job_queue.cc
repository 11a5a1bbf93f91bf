#include "ailab/queue/job_queue.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"

namespace ailab::queue {
namespace {

// Lua scripts run with EVAL so that each lease check-and-change is atomic. KEYS[1] is
// the lease key, ARGV[1] the holder and ARGV[2] the TTL in milliseconds.
constexpr char kAcquireScript[] = R"lua(
local current = redis.call('GET', KEYS[1])
if current == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua";

constexpr char kRenewScript[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
)lua";

constexpr char kReleaseScript[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

// Counts the entries after the group's last delivered id whose `bounces` field is 0 or
// absent, stopping at ARGV[2]. KEYS[1] is the stream and ARGV[1] the group. Bounced
// entries may come first, so the scan reads pages of 100 until it has counted enough,
// and it gives up after 10,000 entries.
constexpr char kCountWaitingScript[] = R"lua(
local last = nil
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
  if fields['name'] == ARGV[1] then last = fields['last-delivered-id'] end
end
if last == nil then return 0 end
local limit = tonumber(ARGV[2])
local start = '(' .. last
local waiting, scanned = 0, 0
while waiting < limit and scanned < 10000 do
  local entries = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', 100)
  if #entries == 0 then break end
  for _, entry in ipairs(entries) do
    local values = entry[2]
    local bounced = false
    for i = 1, #values, 2 do
      if values[i] == 'bounces' and values[i + 1] ~= '0' then bounced = true end
    end
    if not bounced then waiting = waiting + 1 end
    if waiting >= limit then break end
    start = '(' .. entry[1]
  end
  scanned = scanned + #entries
end
return waiting
)lua";

std::shared_ptr<spdlog::logger> QueueLogger() { return log::Logger("queue"); }

absl::Status ParseIntField(const redis::StreamEntry& entry, absl::string_view field,
                           int64_t* value) {
  std::optional<std::string> text = entry.Get(field);
  if (!text.has_value() || text->empty()) {
    *value = 0;
    return absl::OkStatus();
  }
  if (!absl::SimpleAtoi(*text, value)) {
    return InvalidArgument("MALFORMED_QUEUE_ENTRY", field,
                           absl::StrCat("queue entry ", entry.id, " has field ", field, " = \"",
                                        *text, "\", which is not an integer"),
                           {{"entry_id", entry.id}, {"field", field}, {"value", *text}});
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> EncodeEntry(const JobEntry& entry) {
  return {{"job", entry.job},
          {"attempt", absl::StrCat(entry.attempt)},
          {"owner", entry.owner},
          {"gpu_count", absl::StrCat(entry.gpu_count)},
          {"memory_mb", absl::StrCat(entry.memory_mb)},
          {"bounces", absl::StrCat(entry.bounces)}};
}

absl::StatusOr<JobEntry> DecodeEntry(const redis::StreamEntry& entry) {
  JobEntry decoded;
  std::optional<std::string> job = entry.Get("job");
  if (!job.has_value() || job->empty()) {
    return InvalidArgument("MALFORMED_QUEUE_ENTRY", "job",
                           absl::StrCat("queue entry ", entry.id, " has no job field"),
                           {{"entry_id", entry.id}});
  }
  decoded.job = *job;
  decoded.owner = entry.Get("owner").value_or("");

  int64_t attempt = 0, gpu_count = 0, memory_mb = 0, bounces = 0;
  AILAB_RETURN_IF_ERROR(ParseIntField(entry, "attempt", &attempt));
  AILAB_RETURN_IF_ERROR(ParseIntField(entry, "gpu_count", &gpu_count));
  AILAB_RETURN_IF_ERROR(ParseIntField(entry, "memory_mb", &memory_mb));
  AILAB_RETURN_IF_ERROR(ParseIntField(entry, "bounces", &bounces));
  decoded.attempt = attempt > 0 ? static_cast<int>(attempt) : 1;
  decoded.gpu_count = static_cast<int>(gpu_count);
  decoded.memory_mb = memory_mb;
  decoded.bounces = static_cast<int>(bounces);
  return decoded;
}

absl::StatusOr<std::unique_ptr<JobQueue>> JobQueue::Open(const QueueOptions& options) {
  std::unique_ptr<JobQueue> queue(new JobQueue());
  queue->options_ = options;
  queue->stream_ = absl::StrCat(options.prefix, ":jobs");
  AILAB_ASSIGN_OR_RETURN(queue->client_, redis::Client::Connect(options.redis_address, absl::Seconds(5), options.redis_password));
  AILAB_ASSIGN_OR_RETURN(queue->reader_, redis::Client::Connect(options.redis_address, absl::Seconds(5), options.redis_password));
  AILAB_RETURN_IF_ERROR(queue->client_->EnsureGroup(queue->stream_, options.group, "0"));
  return queue;
}

std::string JobQueue::LeaseKey(absl::string_view job) const {
  return absl::StrCat(options_.prefix, ":lease:", job);
}

absl::StatusOr<std::string> JobQueue::Enqueue(const JobEntry& entry) {
  AILAB_ASSIGN_OR_RETURN(std::string id, client_->XAdd(stream_, EncodeEntry(entry)));
  QueueLogger()->info("enqueued stream={} entry={} job={} attempt={}", stream_, id, entry.job,
                      entry.attempt);
  return id;
}

absl::StatusOr<std::optional<Delivery>> JobQueue::Consume(const std::string& consumer,
                                                          absl::Duration block) {
  AILAB_ASSIGN_OR_RETURN(std::vector<redis::StreamEntry> entries,
                         reader_->XReadGroup(stream_, options_.group, consumer, 1, block));
  for (const redis::StreamEntry& raw : entries) {
    absl::StatusOr<JobEntry> entry = DecodeEntry(raw);
    if (!entry.ok()) {
      // A malformed entry would be delivered again and again: drop it.
      QueueLogger()->error("dropping malformed entry stream={} entry={} error={}", stream_, raw.id,
                           entry.status().ToString());
      AILAB_RETURN_IF_ERROR(Ack(raw.id));
      continue;
    }
    return Delivery{raw.id, *std::move(entry), false};
  }
  return std::nullopt;
}

absl::Status JobQueue::Ack(const std::string& entry_id) {
  AILAB_ASSIGN_OR_RETURN(int64_t acknowledged, client_->XAck(stream_, options_.group, entry_id));
  AILAB_RETURN_IF_ERROR(client_->XDel(stream_, entry_id));
  QueueLogger()->debug("acknowledged stream={} entry={} pending={}", stream_, entry_id,
                       acknowledged);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Delivery>> JobQueue::ReclaimStale(const std::string& consumer,
                                                             absl::Duration min_idle, int count) {
  AILAB_ASSIGN_OR_RETURN(std::vector<redis::StreamEntry> claimed,
                         client_->XAutoClaim(stream_, options_.group, consumer, min_idle, count));
  std::vector<Delivery> deliveries;
  for (const redis::StreamEntry& raw : claimed) {
    absl::StatusOr<JobEntry> entry = DecodeEntry(raw);
    if (!entry.ok()) {
      QueueLogger()->error("dropping malformed entry stream={} entry={} error={}", stream_, raw.id,
                           entry.status().ToString());
      AILAB_RETURN_IF_ERROR(Ack(raw.id));
      continue;
    }
    AILAB_ASSIGN_OR_RETURN(std::optional<std::string> holder, LeaseHolder(entry->job));
    if (holder.has_value()) {
      // A worker is still renewing the lease, so the job is in progress, not stale.
      continue;
    }
    QueueLogger()->info("reclaimed stale entry stream={} entry={} job={} attempt={} consumer={}",
                        stream_, raw.id, entry->job, entry->attempt, consumer);
    deliveries.push_back(Delivery{raw.id, *std::move(entry), true});
  }
  return deliveries;
}

absl::StatusOr<bool> JobQueue::AcquireLease(absl::string_view job, absl::string_view holder) {
  absl::StatusOr<std::string> reply =
      client_->Command({"EVAL", kAcquireScript, "1", LeaseKey(job), std::string(holder),
                        absl::StrCat(absl::ToInt64Milliseconds(options_.lease_ttl))});
  if (!reply.ok()) return reply.status();
  return absl::string_view(*reply) == "1";
}

absl::StatusOr<bool> JobQueue::RenewLease(absl::string_view job, absl::string_view holder) {
  absl::StatusOr<std::string> reply =
      client_->Command({"EVAL", kRenewScript, "1", LeaseKey(job), std::string(holder),
                        absl::StrCat(absl::ToInt64Milliseconds(options_.lease_ttl))});
  if (!reply.ok()) return reply.status();
  return absl::string_view(*reply) == "1";
}

absl::Status JobQueue::ReleaseLease(absl::string_view job, absl::string_view holder) {
  return client_->Command({"EVAL", kReleaseScript, "1", LeaseKey(job), std::string(holder)})
      .status();
}

absl::StatusOr<std::optional<std::string>> JobQueue::LeaseHolder(absl::string_view job) {
  AILAB_ASSIGN_OR_RETURN(std::string holder, client_->Command({"GET", LeaseKey(job)}));
  if (holder.empty()) return std::nullopt;
  return holder;
}

absl::StatusOr<int64_t> JobQueue::Length() { return client_->XLen(stream_); }

absl::StatusOr<int64_t> JobQueue::CountWaiting(int limit) {
  const std::vector<std::string> command = {"EVAL", kCountWaitingScript, "1", stream_,
                                            options_.group, absl::StrCat(std::max(limit, 1))};
  absl::StatusOr<std::string> reply = client_->Command(command);
  if (!reply.ok() && reply.status().code() != absl::StatusCode::kUnavailable) {
    // XINFO fails when the stream is gone, for example after Redis restarted without
    // its data: the stream and the group are created again and the count retried.
    QueueLogger()->warn("counting waiting entries failed, recreating the group stream={} error={}",
                        stream_, reply.status().ToString());
    AILAB_RETURN_IF_ERROR(client_->EnsureGroup(stream_, options_.group, "0"));
    reply = client_->Command(command);
  }
  AILAB_RETURN_IF_ERROR(reply.status());
  int64_t waiting = 0;
  if (!absl::SimpleAtoi(*reply, &waiting)) {
    return Internal("UNEXPECTED_REDIS_REPLY",
                    absl::StrCat("counting the waiting entries of ", stream_, " returned \"",
                                 *reply, "\" instead of a number"),
                    {{"stream", stream_}});
  }
  return waiting;
}

}  // namespace ailab::queue
