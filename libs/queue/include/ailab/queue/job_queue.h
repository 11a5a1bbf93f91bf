// The training job queue: a Redis stream that the training service appends jobs to
// and that workers read through one consumer group, with a lease per running job.
//
// Keys, under a configurable prefix (default "ailab:training"):
//   <prefix>:jobs          the stream; one entry per queuing of a job
//   <prefix>:lease:<job>   the lease of a running job: the holder's worker id, with a
//                          PX expiry that the holder renews every few seconds
// Workers read with XREADGROUP in the group "workers". An entry stays pending until
// its worker acknowledges it (Ack, which also deletes it from the stream). When a
// worker dies, its entry stays pending and its lease expires; ReclaimStale() then
// hands the entry to another consumer. Delivery is therefore at least once, and the
// training service makes every worker call idempotent or rejects stale attempts.
//
// A JobQueue is thread-safe. It keeps two Redis connections, one for blocking reads
// (Consume) and one for everything else, so a Consume waiting for entries does not
// hold up lease renewals from another thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ailab/redis/redis.h"

namespace ailab::queue {

// Settings of a queue.
struct QueueOptions {
  // Redis server, host:port.
  std::string redis_address = "127.0.0.1:56379";
  // Redis password (AUTH); empty: none.
  std::string redis_password;
  // Prefix of every key; tests use a unique one each.
  std::string prefix = "ailab:training";
  // Consumer group that the workers share.
  std::string group = "workers";
  // Lifetime of a lease that is not renewed.
  absl::Duration lease_ttl = absl::Seconds(15);
};

// The fields of one queue entry.
struct JobEntry {
  // Job name, "trainingJobs/{id}".
  std::string job;
  // How many times the job had been queued when this entry was written: 1 at
  // creation, one more for each retry. The training service rejects entries of an
  // earlier queuing as stale.
  int attempt = 1;
  // User id of the job's owner.
  std::string owner;
  // GPUs the job needs.
  int gpu_count = 0;
  // Memory the job needs in MiB (0: no stated need).
  int64_t memory_mb = 0;
  // Times a worker whose resources did not fit passed the entry on.
  int bounces = 0;

  friend bool operator==(const JobEntry&, const JobEntry&) = default;
};

// Encodes `entry` as stream fields (job, attempt, owner, gpu_count, memory_mb,
// bounces).
std::vector<std::pair<std::string, std::string>> EncodeEntry(const JobEntry& entry);

// Decodes stream fields written by EncodeEntry. INVALID_ARGUMENT naming the entry id
// and the field when `job` is missing or a number does not parse.
absl::StatusOr<JobEntry> DecodeEntry(const redis::StreamEntry& entry);

// An entry handed to a consumer.
struct Delivery {
  // Stream entry id, for Ack.
  std::string entry_id;
  JobEntry entry;
  // True when the entry was taken over from a consumer whose lease had expired.
  bool reclaimed = false;
};

class JobQueue {
 public:
  // Connects to Redis and creates the stream and the consumer group if missing.
  static absl::StatusOr<std::unique_ptr<JobQueue>> Open(const QueueOptions& options);

  // Appends `entry` to the stream (XADD); returns the entry id.
  absl::StatusOr<std::string> Enqueue(const JobEntry& entry);

  // Reads the next new entry for `consumer` (XREADGROUP ... >), waiting up to `block`.
  // Returns nullopt when none arrived. An entry that does not decode is logged,
  // acknowledged and skipped, so a malformed entry cannot block the queue.
  absl::StatusOr<std::optional<Delivery>> Consume(const std::string& consumer,
                                                  absl::Duration block);

  // Acknowledges `entry_id` and deletes it from the stream. Acknowledging an entry
  // twice is not an error.
  absl::Status Ack(const std::string& entry_id);

  // Takes over, for `consumer`, up to `count` entries that have been pending for at
  // least `min_idle` (XAUTOCLAIM) and whose job has no live lease. Entries whose job
  // still has a lease belong to a working consumer: they are left pending (now under
  // `consumer`, which is harmless because Ack does not check the consumer) and not
  // returned. `min_idle` should exceed the lease TTL, so that a worker that died
  // right after reading an entry, before taking the lease, is still noticed.
  absl::StatusOr<std::vector<Delivery>> ReclaimStale(const std::string& consumer,
                                                     absl::Duration min_idle, int count = 10);

  // Takes the lease of `job` for `holder` (SET NX PX). Returns false when another
  // holder has it; true when it was free or `holder` already had it (then renewed).
  absl::StatusOr<bool> AcquireLease(absl::string_view job, absl::string_view holder);

  // Extends the lease of `job` when `holder` still has it. Returns false when the
  // lease expired or another holder took it: the caller has lost the job.
  absl::StatusOr<bool> RenewLease(absl::string_view job, absl::string_view holder);

  // Gives up the lease of `job` when `holder` has it; otherwise does nothing.
  absl::Status ReleaseLease(absl::string_view job, absl::string_view holder);

  // Returns the holder of the lease of `job`, or nullopt when no lease is live.
  absl::StatusOr<std::optional<std::string>> LeaseHolder(absl::string_view job);

  // Number of entries in the stream (queued or being worked on).
  absl::StatusOr<int64_t> Length();

  // Number of entries that no consumer has read yet, leaving out entries that a worker
  // passed on because its resources did not fit (bounces > 0), so that jobs no live
  // worker can run do not count as waiting. Stops counting at `limit`. The training
  // service keeps this number below its dispatch window.
  absl::StatusOr<int64_t> CountWaiting(int limit = 1000);

  // Key names, for logs and tests.
  const std::string& stream() const { return stream_; }
  std::string LeaseKey(absl::string_view job) const;
  const QueueOptions& options() const { return options_; }

 private:
  JobQueue() = default;
  QueueOptions options_;
  std::string stream_;
  // Connection for Consume only: XREADGROUP blocks it.
  std::unique_ptr<redis::Client> reader_;
  // Connection for every other command.
  std::unique_ptr<redis::Client> client_;
};

}  // namespace ailab::queue
