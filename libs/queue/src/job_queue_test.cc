// JobQueue against the test Redis server, each test case on its own key prefix.
#include "ailab/queue/job_queue.h"

#include <catch2/catch.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "fixtures.h"

namespace ailab::queue {
namespace {

// A queue on a unique prefix; deletes its keys at the end of the test.
class ScratchQueue {
 public:
  explicit ScratchQueue(absl::Duration lease_ttl = absl::Seconds(15)) {
    options_.redis_address = testing::RedisAddress();
    options_.prefix = testing::UniqueName("queue_test");
    options_.lease_ttl = lease_ttl;
    queue_ = Open();
  }

  ~ScratchQueue() {
    queue_.reset();
    auto client = redis::Client::Connect(options_.redis_address);
    if (client.ok()) (void)(*client)->Command({"DEL", absl::StrCat(options_.prefix, ":jobs")});
  }

  // Opens another JobQueue on the same keys, as a restarted process would.
  std::unique_ptr<JobQueue> Open() {
    absl::StatusOr<std::unique_ptr<JobQueue>> queue = JobQueue::Open(options_);
    REQUIRE(queue.ok());
    return *std::move(queue);
  }

  JobQueue& queue() { return *queue_; }
  void Close() { queue_.reset(); }
  const QueueOptions& options() const { return options_; }

 private:
  QueueOptions options_;
  std::unique_ptr<JobQueue> queue_;
};

JobEntry Entry(const std::string& job, int attempt = 1) {
  JobEntry entry;
  entry.job = job;
  entry.attempt = attempt;
  entry.owner = "owner-1";
  entry.gpu_count = 1;
  entry.memory_mb = 2048;
  return entry;
}

constexpr absl::Duration kShortBlock = absl::Milliseconds(100);

TEST_CASE("JobQueue: enqueue, consume, ack", "[queue][redis]") {
  ScratchQueue scratch;
  JobQueue& queue = scratch.queue();

  REQUIRE(queue.Enqueue(Entry("trainingJobs/a")).ok());
  REQUIRE(queue.Enqueue(Entry("trainingJobs/b", 2)).ok());
  CHECK(*queue.Length() == 2);

  auto first = queue.Consume("worker-1", kShortBlock);
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  CHECK((*first)->entry == Entry("trainingJobs/a"));
  CHECK_FALSE((*first)->reclaimed);

  auto second = queue.Consume("worker-2", kShortBlock);
  REQUIRE(second.ok());
  REQUIRE(second->has_value());
  CHECK((*second)->entry == Entry("trainingJobs/b", 2));

  auto none = queue.Consume("worker-1", kShortBlock);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  REQUIRE(queue.Ack((*first)->entry_id).ok());
  REQUIRE(queue.Ack((*second)->entry_id).ok());
  CHECK(*queue.Length() == 0);

  // A second Ack of the same entry is harmless.
  CHECK(queue.Ack((*first)->entry_id).ok());
}

TEST_CASE("JobQueue: stale entry of a dead consumer is reclaimed", "[queue][redis]") {
  ScratchQueue scratch;
  JobQueue& queue = scratch.queue();
  REQUIRE(queue.Enqueue(Entry("trainingJobs/lost")).ok());

  // worker-1 reads the entry and dies before acknowledging it or taking the lease.
  auto taken = queue.Consume("worker-1", kShortBlock);
  REQUIRE(taken.ok());
  REQUIRE(taken->has_value());

  auto reclaimed = queue.ReclaimStale("worker-2", absl::ZeroDuration());
  REQUIRE(reclaimed.ok());
  REQUIRE(reclaimed->size() == 1);
  CHECK((*reclaimed)[0].entry_id == (*taken)->entry_id);
  CHECK((*reclaimed)[0].entry.job == "trainingJobs/lost");
  CHECK((*reclaimed)[0].reclaimed);

  REQUIRE(queue.Ack((*reclaimed)[0].entry_id).ok());
  auto again = queue.ReclaimStale("worker-3", absl::ZeroDuration());
  REQUIRE(again.ok());
  CHECK(again->empty());
}

TEST_CASE("JobQueue: entry with live lease is not reclaimed", "[queue][redis]") {
  ScratchQueue scratch;
  JobQueue& queue = scratch.queue();
  REQUIRE(queue.Enqueue(Entry("trainingJobs/busy")).ok());
  auto taken = queue.Consume("worker-1", kShortBlock);
  REQUIRE(taken.ok());
  REQUIRE(taken->has_value());
  REQUIRE(*queue.AcquireLease("trainingJobs/busy", "worker-1"));

  auto reclaimed = queue.ReclaimStale("worker-2", absl::ZeroDuration());
  REQUIRE(reclaimed.ok());
  CHECK(reclaimed->empty());

  // Once the holder lets go (or its lease expires) the entry is stale.
  REQUIRE(queue.ReleaseLease("trainingJobs/busy", "worker-1").ok());
  reclaimed = queue.ReclaimStale("worker-2", absl::ZeroDuration());
  REQUIRE(reclaimed.ok());
  REQUIRE(reclaimed->size() == 1);
  CHECK((*reclaimed)[0].entry.job == "trainingJobs/busy");

  // worker-1 can still acknowledge the entry, although it is now pending under worker-2.
  REQUIRE(queue.Ack((*taken)->entry_id).ok());
  CHECK(*queue.Length() == 0);
}

TEST_CASE("JobQueue: lease belongs to one holder", "[queue][redis]") {
  ScratchQueue scratch;
  JobQueue& queue = scratch.queue();
  const std::string job = "trainingJobs/leased";

  CHECK(*queue.AcquireLease(job, "worker-1"));
  CHECK(*queue.AcquireLease(job, "worker-1"));
  CHECK_FALSE(*queue.AcquireLease(job, "worker-2"));
  CHECK_FALSE(*queue.RenewLease(job, "worker-2"));
  CHECK(*queue.RenewLease(job, "worker-1"));
  CHECK(queue.LeaseHolder(job)->value_or("") == "worker-1");

  // Releasing someone else's lease does nothing.
  REQUIRE(queue.ReleaseLease(job, "worker-2").ok());
  CHECK(queue.LeaseHolder(job)->value_or("") == "worker-1");

  REQUIRE(queue.ReleaseLease(job, "worker-1").ok());
  CHECK_FALSE(queue.LeaseHolder(job)->has_value());
  CHECK_FALSE(*queue.RenewLease(job, "worker-1"));
  CHECK(*queue.AcquireLease(job, "worker-2"));
  REQUIRE(queue.ReleaseLease(job, "worker-2").ok());
}

TEST_CASE("JobQueue: unrenewed lease expires", "[queue][redis]") {
  ScratchQueue scratch(absl::Milliseconds(50));
  JobQueue& queue = scratch.queue();
  const std::string job = "trainingJobs/expiring";
  REQUIRE(*queue.AcquireLease(job, "worker-1"));

  // Polls rather than sleeping a fixed time, so a slow machine only makes it slower.
  bool expired = false;
  for (int i = 0; i < 500 && !expired; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    expired = !queue.LeaseHolder(job)->has_value();
  }
  CHECK(expired);
  CHECK_FALSE(*queue.RenewLease(job, "worker-1"));
  CHECK(*queue.AcquireLease(job, "worker-2"));
}

TEST_CASE("JobQueue: entries survive a restart", "[queue][redis]") {
  ScratchQueue scratch;
  REQUIRE(scratch.queue().Enqueue(Entry("trainingJobs/unread")).ok());
  REQUIRE(scratch.queue().Enqueue(Entry("trainingJobs/read")).ok());
  auto unread_first = scratch.queue().Consume("worker-1", kShortBlock);
  REQUIRE(unread_first.ok());
  REQUIRE(unread_first->has_value());
  CHECK((*unread_first)->entry.job == "trainingJobs/unread");
  // The consumer "crashes" with the entry still pending.
  scratch.Close();

  std::unique_ptr<JobQueue> reopened = scratch.Open();
  auto next = reopened->Consume("worker-1", kShortBlock);
  REQUIRE(next.ok());
  REQUIRE(next->has_value());
  CHECK((*next)->entry.job == "trainingJobs/read");

  auto reclaimed = reopened->ReclaimStale("worker-1", absl::ZeroDuration());
  REQUIRE(reclaimed.ok());
  // Both entries are pending with no lease: both come back.
  REQUIRE(reclaimed->size() == 2);
  CHECK((*reclaimed)[0].entry.job == "trainingJobs/unread");
  CHECK((*reclaimed)[1].entry.job == "trainingJobs/read");
}

TEST_CASE("JobQueue: waiting count skips read and bounced", "[queue][redis]") {
  ScratchQueue scratch;
  JobQueue& queue = scratch.queue();
  CHECK(*queue.CountWaiting() == 0);

  REQUIRE(queue.Enqueue(Entry("trainingJobs/read")).ok());
  REQUIRE(queue.Enqueue(Entry("trainingJobs/waiting")).ok());
  JobEntry bounced = Entry("trainingJobs/bounced");
  bounced.bounces = 2;
  REQUIRE(queue.Enqueue(bounced).ok());
  CHECK(*queue.CountWaiting() == 2);

  auto read = queue.Consume("worker-1", kShortBlock);
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  CHECK(*queue.CountWaiting() == 1);
  CHECK(*queue.CountWaiting(1) == 1);
}

TEST_CASE("JobQueue: waiting count looks past bounced entries", "[queue][redis]") {
  ScratchQueue scratch;
  JobQueue& queue = scratch.queue();
  // More bounced entries than one page of the scan, then two that wait.
  for (int i = 0; i < 150; ++i) {
    JobEntry bounced = Entry(absl::StrCat("trainingJobs/bounced-", i));
    bounced.bounces = 1;
    REQUIRE(queue.Enqueue(bounced).ok());
  }
  REQUIRE(queue.Enqueue(Entry("trainingJobs/first")).ok());
  REQUIRE(queue.Enqueue(Entry("trainingJobs/second")).ok());
  CHECK(*queue.CountWaiting(8) == 2);
  CHECK(*queue.CountWaiting(1) == 1);
}

TEST_CASE("JobQueue: waiting count recreates a lost stream", "[queue][redis]") {
  ScratchQueue scratch;
  auto client = redis::Client::Connect(scratch.options().redis_address);
  REQUIRE(client.ok());
  REQUIRE((*client)->Command({"DEL", scratch.queue().stream()}).ok());

  auto waiting = scratch.queue().CountWaiting();
  INFO(waiting.status().ToString());
  REQUIRE(waiting.ok());
  CHECK(*waiting == 0);
  REQUIRE(scratch.queue().Enqueue(Entry("trainingJobs/after")).ok());
  auto next = scratch.queue().Consume("worker-1", kShortBlock);
  REQUIRE(next.ok());
  CHECK(next->has_value());
}

TEST_CASE("JobQueue: malformed entry is skipped", "[queue][redis]") {
  ScratchQueue scratch;
  JobQueue& queue = scratch.queue();
  auto client = redis::Client::Connect(scratch.options().redis_address);
  REQUIRE(client.ok());
  REQUIRE((*client)->XAdd(queue.stream(), {{"attempt", "1"}}).ok());
  REQUIRE(queue.Enqueue(Entry("trainingJobs/good")).ok());

  auto delivery = queue.Consume("worker-1", kShortBlock);
  REQUIRE(delivery.ok());
  // The malformed entry was dropped; the good one may need a second read.
  if (!delivery->has_value()) delivery = queue.Consume("worker-1", kShortBlock);
  REQUIRE(delivery.ok());
  REQUIRE(delivery->has_value());
  CHECK((*delivery)->entry.job == "trainingJobs/good");
  REQUIRE(queue.Ack((*delivery)->entry_id).ok());
  CHECK(*queue.Length() == 0);
}

TEST_CASE("JobQueue: blocking read returns a later entry", "[queue][redis]") {
  ScratchQueue scratch;
  JobQueue& queue = scratch.queue();
  // Catch2 assertions are not thread-safe, so the producer only records its result.
  bool enqueued = false;
  std::thread producer([&] {
    absl::SleepFor(absl::Milliseconds(100));
    enqueued = queue.Enqueue(Entry("trainingJobs/late")).ok();
  });
  std::optional<Delivery> delivery;
  for (int i = 0; i < 50 && !delivery.has_value(); ++i) {
    auto read = queue.Consume("worker-1", absl::Milliseconds(200));
    REQUIRE(read.ok());
    delivery = *read;
  }
  producer.join();
  REQUIRE(enqueued);
  REQUIRE(delivery.has_value());
  CHECK(delivery->entry.job == "trainingJobs/late");
}

}  // namespace
}  // namespace ailab::queue
