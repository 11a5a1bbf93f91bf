// A running ailab-training for one test: a scratch database, a unique Redis queue
// prefix, a temporary blob store, fake annotation and ingest services, the service
// process and a client stub. The test can also act as a worker through queue().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ailab/blob/blob_store.h"
#include "ailab/queue/job_queue.h"
#include "ailab/training/v1/training.grpc.pb.h"
#include "fake_sources.h"
#include "fixtures.h"

namespace ailab::training::testing {

namespace v1 = ::ailab::training::v1;

class TrainingHarness {
 public:
  // Starts the service; `extra_args` are appended to its command line (later flags
  // win, so they can override the test defaults).
  explicit TrainingHarness(std::vector<std::string> extra_args = {});
  // The same on the Redis server at `redis_address` (host:port) instead of the test
  // server.
  TrainingHarness(std::vector<std::string> extra_args, std::string redis_address);
  ~TrainingHarness();

  v1::TrainingService::Stub& stub() { return *stub_; }
  queue::JobQueue& queue() { return *queue_; }
  const blob::BlobStore& blobs() const { return *blobs_; }
  FakeDataServices& fakes() { return fakes_; }
  ailab::testing::ServiceProcess& service() { return *service_; }
  const std::string& blob_root() const { return blob_dir_.path(); }
  const std::string& database_url() const { return database_.url(); }
  const std::string& queue_prefix() const { return queue_prefix_; }
  const std::string& redis_address() const { return redis_address_; }

  // Puts a dataset with `per_class[c]` labelled, prepared instances of class c on the
  // fakes, labelled by `annotator`.
  void AddDataset(const std::string& dataset, const std::vector<int>& per_class,
                  const std::string& annotator = "ann1",
                  const std::string& use_case = "useCases/breast-density");

  // A create request on `dataset` with label source "ann1" and default options.
  static v1::CreateTrainingJobRequest CreateRequest(const std::string& dataset,
                                                    const std::string& owner = "user-1");

  // Creates a job on a fresh dataset of 30 instances per class; REQUIREs success.
  v1::TrainingJob CreateJob(const std::string& owner = "user-1");

  // Reads queue entries as `worker` until one arrives (at most about 10 s).
  std::optional<queue::Delivery> NextEntry(const std::string& worker = "test-worker");

  // Takes the next entry, the lease and starts an attempt; REQUIREs success.
  v1::StartTrainingAttemptResponse StartNext(const std::string& worker = "test-worker");

  // Stores `bytes` in the blob store; returns the blob id.
  std::string PutBlob(const std::string& bytes);

  // Reconnects the stub after the service restarted.
  void Reconnect();

 private:
  ailab::testing::ScratchDatabase database_;
  ailab::testing::TempDir blob_dir_;
  std::string queue_prefix_;
  std::string redis_address_;
  FakeDataServices fakes_;
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<queue::JobQueue> queue_;
  std::unique_ptr<ailab::testing::ServiceProcess> service_;
  std::unique_ptr<v1::TrainingService::Stub> stub_;
  int datasets_ = 0;
};

// Sets a 30 s deadline on a fresh context.
std::unique_ptr<grpc::ClientContext> Context();

}  // namespace ailab::training::testing
