// Measures the training queue on a private PostgreSQL database and the Redis server
// named by AILAB_TEST_REDIS_ADDRESS, with ailab-training as a child process:
//
//   latency   a waiting worker (this program, doing what ailab-worker does: XREADGROUP,
//             lease, StartTrainingAttempt) and CreateTrainingJob calls one at a time.
//             Enqueue to start is the time from the entry's XADD to the end of the
//             worker's StartTrainingAttempt; create to start adds the Create call's
//             own checks and manifest. The anchor is a bare XADD handed to a blocked
//             XREADGROUP on the same Redis, the floor of any Redis Streams queue.
//   backlog   10,000 jobs created with no worker; the service's resident memory and
//             Redis's used_memory after 1,000 and after all jobs. The anchor is the
//             same number of entries written straight into a Redis stream, the design
//             that keeps every queued job in Redis.
//
// Prints one "FIGURE <name> <value>" line per figure for run.sh.
// Usage: bench_queue_dispatch [--jobs=200] [--backlog=10000] [--threads=4]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ailab/log/log.h"
#include "ailab/queue/job_queue.h"
#include "ailab/redis/redis.h"
#include "ailab/rpc/client.h"
#include "ailab/training/v1/training.grpc.pb.h"
#include "fake_sources.h"
#include "fixtures.h"

namespace {

namespace v1 = ailab::training::v1;
using Clock = std::chrono::steady_clock;
using ailab::training::testing::FakeDataServices;

constexpr char kUseCase[] = "useCases/breast-density";
constexpr char kDataset[] = "datasets/bench";

int IntArgument(int argc, char** argv, const std::string& name, int fallback) {
  const std::string prefix = absl::StrCat("--", name, "=");
  for (int i = 1; i < argc; ++i) {
    int value = 0;
    if (absl::StartsWith(argv[i], prefix) &&
        absl::SimpleAtoi(std::string(argv[i]).substr(prefix.size()), &value)) {
      return value;
    }
  }
  return fallback;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bench_queue_dispatch: %s\n", message.c_str());
  std::exit(1);
}

double Percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(fraction * (values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

double Milliseconds(Clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return context;
}

// Resident memory in KiB of the process whose command line contains `marker`.
int64_t ResidentKib(const std::string& marker) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream cmdline(entry.path() / "cmdline");
    std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    std::replace(text.begin(), text.end(), '\0', ' ');
    if (text.find(marker) == std::string::npos || text.find("ailab-training") == std::string::npos) {
      continue;
    }
    std::ifstream status(entry.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      int64_t kib = 0;
      if (absl::StartsWith(line, "VmRSS:") &&
          absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(6, line.size() - 9)), &kib)) {
        return kib;
      }
    }
  }
  return -1;
}

// used_memory of the Redis server in bytes.
int64_t RedisUsedMemory(ailab::redis::Client& client) {
  absl::StatusOr<std::string> info = client.Command({"INFO", "memory"});
  if (!info.ok()) Die(info.status().ToString());
  for (absl::string_view line : absl::StrSplit(*info, "\r\n")) {
    int64_t bytes = 0;
    if (absl::ConsumePrefix(&line, "used_memory:") && absl::SimpleAtoi(line, &bytes)) return bytes;
  }
  return -1;
}

v1::CreateTrainingJobRequest CreateRequest(const std::string& owner) {
  v1::CreateTrainingJobRequest request;
  v1::TrainingJob* job = request.mutable_training_job();
  job->set_owner(owner);
  job->set_use_case(kUseCase);
  job->set_dataset(kDataset);
  job->set_label_source("ann1");
  job->mutable_options()->set_max_epochs(1);
  return request;
}

// Milliseconds from the XADD of stream entry `entry_id` until now. The entry id starts
// with Redis's clock in whole milliseconds, which this host's clock shares, so the
// figure is at most 1 ms too high.
double SinceEntryWritten(const std::string& entry_id) {
  int64_t written_ms = 0;
  if (!absl::SimpleAtoi(entry_id.substr(0, entry_id.find('-')), &written_ms)) {
    Die(absl::StrCat("stream entry id ", entry_id, " does not start with a time"));
  }
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  return (now_us - written_ms * 1000) / 1000.0;
}

// A worker that starts every job it reads and fails it at once, so that it is free
// for the next one; records when each start returned.
class BenchWorker {
 public:
  BenchWorker(ailab::queue::JobQueue* queue, v1::TrainingService::Stub* stub)
      : queue_(queue), stub_(stub), thread_([this] { Run(); }) {}
  ~BenchWorker() {
    stop_ = true;
    thread_.join();
  }

  // Waits until the worker started `job`. Returns when it did, and the time from the
  // entry's XADD to the end of StartTrainingAttempt in ms.
  std::pair<Clock::time_point, double> WaitForStart(const std::string& job) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return started_job_ == job; });
    return {started_at_, enqueue_to_start_ms_};
  }

 private:
  void Run() {
    while (!stop_) {
      auto delivery = queue_->Consume("bench-worker", absl::Milliseconds(500));
      if (!delivery.ok()) Die(delivery.status().ToString());
      if (!delivery->has_value()) continue;
      const ailab::queue::Delivery& entry = **delivery;
      absl::StatusOr<bool> leased = queue_->AcquireLease(entry.entry.job, "bench-worker");
      if (!leased.ok() || !*leased) Die("lease not acquired");
      v1::StartTrainingAttemptRequest start;
      start.set_name(entry.entry.job);
      start.set_worker_id("bench-worker");
      start.set_queued_attempt(entry.entry.attempt);
      v1::StartTrainingAttemptResponse started;
      grpc::Status status = stub_->StartTrainingAttempt(Context().get(), start, &started);
      if (!status.ok()) Die(status.error_message());
      {
        std::lock_guard<std::mutex> lock(mutex_);
        started_job_ = entry.entry.job;
        started_at_ = Clock::now();
        enqueue_to_start_ms_ = SinceEntryWritten(entry.entry_id);
      }
      changed_.notify_all();
      v1::FailTrainingAttemptRequest fail;
      fail.set_name(entry.entry.job);
      fail.set_attempt(started.attempt());
      fail.mutable_error()->set_code(9);
      fail.mutable_error()->set_message("benchmark attempt ends at once");
      v1::TrainingJob failed;
      status = stub_->FailTrainingAttempt(Context().get(), fail, &failed);
      if (!status.ok()) Die(status.error_message());
      (void)queue_->ReleaseLease(entry.entry.job, "bench-worker");
      (void)queue_->Ack(entry.entry_id);
    }
  }

  ailab::queue::JobQueue* queue_;
  v1::TrainingService::Stub* stub_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string started_job_;
  Clock::time_point started_at_;
  double enqueue_to_start_ms_ = 0;
  std::thread thread_;
};

// Latency of a bare XADD reaching a consumer blocked in XREADGROUP, in ms.
std::vector<double> BareStreamHandoff(const std::string& address, int count) {
  const std::string stream = ailab::testing::UniqueName("bench_queue_anchor");
  auto writer = ailab::redis::Client::Connect(address);
  auto reader = ailab::redis::Client::Connect(address);
  if (!writer.ok() || !reader.ok()) Die("Redis not reachable for the anchor");
  if (!(*writer)->EnsureGroup(stream, "workers", "$").ok()) Die("XGROUP CREATE failed");
  std::vector<double> latencies;
  for (int i = 0; i < count; ++i) {
    std::atomic<Clock::rep> sent{0};
    std::thread consumer([&] {
      auto entries = (*reader)->XReadGroup(stream, "workers", "anchor", 1, absl::Seconds(5));
      if (!entries.ok() || entries->empty()) Die("anchor entry not delivered");
      latencies.push_back(
          Milliseconds(Clock::now() - Clock::time_point(Clock::duration(sent.load()))));
      (void)(*reader)->XAck(stream, "workers", (*entries)[0].id);
    });
    // Gives the consumer time to block before the entry is written.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    sent = Clock::now().time_since_epoch().count();
    if (!(*writer)->XAdd(stream, {{"job", absl::StrCat("trainingJobs/anchor-", i)}}).ok()) {
      Die("XADD failed");
    }
    consumer.join();
  }
  (void)(*writer)->Command({"DEL", stream});
  return latencies;
}

}  // namespace

int main(int argc, char** argv) {
  const int jobs = IntArgument(argc, argv, "jobs", 200);
  const int backlog = IntArgument(argc, argv, "backlog", 10000);
  const int threads = std::max(1, IntArgument(argc, argv, "threads", 4));
  ailab::log::SetLevel("warn");
  const std::string redis_address = ailab::testing::RedisAddress();

  ailab::testing::ScratchDatabase database;
  ailab::testing::TempDir blob_dir;
  FakeDataServices fakes;
  fakes.SetDataset(kUseCase, kDataset, "ann1",
                   FakeDataServices::MakeInstances(kDataset, {25, 25, 25, 25}));
  const std::string prefix = ailab::testing::UniqueName("bench_queue");
  auto service = ailab::testing::ServiceProcess::Start(
      "ailab-training", {absl::StrCat("--database_url=", database.url()),
                         absl::StrCat("--redis_address=", redis_address),
                         absl::StrCat("--queue_stream=", prefix),
                         absl::StrCat("--blob_root=", blob_dir.path()),
                         absl::StrCat("--annotation_address=", fakes.address()),
                         absl::StrCat("--ingest_address=", fakes.address()),
                         absl::StrCat("--evaluation_address=", fakes.address()),
                         "--database_pool_size=8", "--log_level=warn"});
  if (!service.ok()) Die(service.status().ToString());
  auto stub = v1::TrainingService::NewStub(ailab::rpc::Connect((*service)->address()));

  ailab::queue::QueueOptions queue_options;
  queue_options.redis_address = redis_address;
  queue_options.prefix = prefix;
  auto queue = ailab::queue::JobQueue::Open(queue_options);
  if (!queue.ok()) Die(queue.status().ToString());

  // Latency, after a few warm-up jobs.
  std::vector<double> latencies, create_latencies;
  {
    BenchWorker worker(queue->get(), stub.get());
    for (int i = 0; i < jobs + 10; ++i) {
      // The worker is blocked in XREADGROUP again before the next job is created.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      Clock::time_point begin = Clock::now();
      v1::TrainingJob created;
      grpc::Status status =
          stub->CreateTrainingJob(Context().get(), CreateRequest("bench-user"), &created);
      if (!status.ok()) Die(status.error_message());
      auto [started, enqueue_to_start_ms] = worker.WaitForStart(created.name());
      if (i >= 10) {
        latencies.push_back(enqueue_to_start_ms);
        create_latencies.push_back(Milliseconds(started - begin));
      }
    }
  }
  std::vector<double> anchor = BareStreamHandoff(redis_address, jobs);
  std::printf("FIGURE latency_p50_ms %.3f\n", Percentile(latencies, 0.5));
  std::printf("FIGURE latency_p99_ms %.3f\n", Percentile(latencies, 0.99));
  std::printf("FIGURE create_to_start_p50_ms %.3f\n", Percentile(create_latencies, 0.5));
  std::printf("FIGURE create_to_start_p99_ms %.3f\n", Percentile(create_latencies, 0.99));
  std::printf("FIGURE anchor_latency_p50_ms %.3f\n", Percentile(anchor, 0.5));
  std::printf("FIGURE anchor_latency_p99_ms %.3f\n", Percentile(anchor, 0.99));
  std::fflush(stdout);

  // Backlog: jobs of several owners, created from `threads` clients, no worker.
  auto redis = ailab::redis::Client::Connect(redis_address);
  if (!redis.ok()) Die(redis.status().ToString());
  const int first_sample = std::min(1000, backlog);
  int64_t rss_first = 0, redis_first = 0;
  std::atomic<int> next{0};
  std::mutex sample_mutex;
  auto create_some = [&] {
    while (true) {
      int index = next.fetch_add(1);
      if (index >= backlog) return;
      v1::TrainingJob created;
      grpc::Status status = stub->CreateTrainingJob(
          Context().get(), CreateRequest(absl::StrCat("owner-", index % 16)), &created);
      if (!status.ok()) Die(status.error_message());
      if (index == first_sample - 1) {
        std::lock_guard<std::mutex> lock(sample_mutex);
        rss_first = ResidentKib(prefix);
        redis_first = RedisUsedMemory(**redis);
      }
    }
  };
  const int64_t redis_before = RedisUsedMemory(**redis);
  std::vector<std::thread> clients;
  for (int i = 0; i < threads; ++i) clients.emplace_back(create_some);
  for (std::thread& client : clients) client.join();
  const int64_t rss_last = ResidentKib(prefix);
  const int64_t redis_last = RedisUsedMemory(**redis);
  absl::StatusOr<int64_t> stream_length = (*queue)->Length();

  // Anchor: the same number of entries straight into a stream.
  const std::string plain = ailab::testing::UniqueName("bench_queue_plain");
  const int64_t plain_before = RedisUsedMemory(**redis);
  for (int i = 0; i < backlog; ++i) {
    ailab::queue::JobEntry entry;
    entry.job = absl::StrCat("trainingJobs/", 1000000 + i);
    entry.owner = absl::StrCat("owner-", i % 16);
    if (!(*redis)->XAdd(plain, ailab::queue::EncodeEntry(entry)).ok()) Die("XADD failed");
  }
  const int64_t plain_after = RedisUsedMemory(**redis);
  (void)(*redis)->Command({"DEL", plain});
  (void)(*redis)->Command({"DEL", (*queue)->stream()});

  std::printf("FIGURE backlog_jobs %d\n", backlog);
  std::printf("FIGURE backlog_stream_length %lld\n",
              static_cast<long long>(stream_length.ok() ? *stream_length : -1));
  std::printf("FIGURE service_rss_first_kib %lld\n", static_cast<long long>(rss_first));
  std::printf("FIGURE service_rss_last_kib %lld\n", static_cast<long long>(rss_last));
  std::printf("FIGURE redis_growth_bytes %lld\n",
              static_cast<long long>(redis_last - redis_before));
  std::printf("FIGURE redis_growth_after_first_bytes %lld\n",
              static_cast<long long>(redis_last - redis_first));
  std::printf("FIGURE anchor_redis_growth_bytes %lld\n",
              static_cast<long long>(plain_after - plain_before));
  (void)(*service)->Stop();
  return 0;
}
