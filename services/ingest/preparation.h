// Background processing of preparation runs.
//
// A fixed pool of threads claims PENDING items from the database (IngestStore::
// ClaimNextItem), prepares each instance (PrepareInstance) and records the outcome, so
// progress is always in PostgreSQL and a restarted service resumes where it stopped.
// Threads wake when a run is created (Notify) and otherwise poll every second.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "ailab/blob/blob_store.h"
#include "ailab/dicom/dicom.h"
#include "ailab/ingest/v1/ingest.pb.h"
#include "store.h"

namespace ailab::ingest {

// Prepares one instance as `run` specifies (PNG and/or array) and stores the outputs in
// `blobs`. Errors name the instance's source file.
absl::StatusOr<PreparedOutputs> PrepareInstance(const v1::Instance& instance,
                                                const v1::PreparationRun& run,
                                                const blob::BlobStore& blobs,
                                                const dicom::ParseLimits& limits);

class PreparationWorkers {
 public:
  // `store` and `blobs` must outlive the workers.
  PreparationWorkers(IngestStore& store, const blob::BlobStore& blobs, dicom::ParseLimits limits,
                     int threads);
  ~PreparationWorkers();

  // Starts the threads.
  void Start();

  // Wakes the threads, for example after a run was created.
  void Notify();

  // Stops the threads after their current item. Items in progress are finished.
  void Stop();

 private:
  void Loop(int index);

  IngestStore& store_;
  const blob::BlobStore& blobs_;
  const dicom::ParseLimits limits_;
  const int thread_count_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t notifications_ = 0;
};

}  // namespace ailab::ingest
