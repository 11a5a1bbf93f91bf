// Loaded models of the inference service: a bounded LRU cache of TorchScript
// predictors, each behind a queue that merges concurrent requests into batches.
//
// A request for a model calls ModelCache::Get(), which loads the model on first use
// (one load per model even when many requests arrive together) and evicts the least
// recently used model beyond the capacity. Requests then call
// BatchingPredictor::Predict(), which puts the image on the model's queue. A thread
// per model takes up to max_batch_size images from the queue, waiting at most
// max_delay after the first one for more, and runs them through the model in one
// call. An evicted model stays alive until its last request finishes.
//
// Both classes are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ailab/torch/trainer.h"
#include "services/inference/directories.h"

namespace ailab::inference {

// Settings of the batching queue.
struct BatchOptions {
  // Largest number of images run through the model in one call; 1 turns batching off.
  int max_batch_size = 8;
  // Longest time the first image of a batch waits for more to arrive.
  absl::Duration max_delay = absl::Milliseconds(2);
};

// A model with a queue that batches concurrent Predict() calls.
class BatchingPredictor {
 public:
  // `image_size` and `num_classes` are the model's registered shape, used when the
  // TorchScript file does not state its own (Predictor reports 0).
  BatchingPredictor(std::unique_ptr<torch::Predictor> predictor, BatchOptions options,
                    int image_size = 0, int num_classes = 0);
  ~BatchingPredictor();
  BatchingPredictor(const BatchingPredictor&) = delete;
  BatchingPredictor& operator=(const BatchingPredictor&) = delete;

  // Returns the class probabilities of one image of image_size() squared floats.
  // Blocks until the batch that contains the image has run.
  absl::StatusOr<std::vector<float>> Predict(std::vector<float> image);

  int image_size() const { return image_size_; }
  int num_classes() const { return num_classes_; }

  // Model calls made so far, and images they contained; for tests and metrics.
  int64_t batch_count() const;
  int64_t image_count() const;

 private:
  struct Request {
    std::vector<float> image;
    std::promise<absl::StatusOr<std::vector<float>>> result;
  };

  void RunBatches();

  std::unique_ptr<torch::Predictor> predictor_;
  const BatchOptions options_;
  const int image_size_;
  const int num_classes_;

  mutable std::mutex mutex_;
  std::condition_variable queue_changed_;
  std::deque<Request*> queue_;
  bool stopping_ = false;
  int64_t batch_count_ = 0;
  int64_t image_count_ = 0;
  std::thread thread_;
};

// Loads the TorchScript model of `model`.
using PredictorLoader =
    std::function<absl::StatusOr<std::unique_ptr<torch::Predictor>>(const ModelInfo& model)>;

// A bounded LRU cache of loaded models, keyed by model name.
class ModelCache {
 public:
  ModelCache(size_t capacity, PredictorLoader loader, BatchOptions options);

  // Returns the loaded model, loading it when absent. A failed load is not cached,
  // so the next request tries again. FAILED_PRECONDITION when the TorchScript file
  // states an input size or number of outputs that differs from `model`.
  absl::StatusOr<std::shared_ptr<BatchingPredictor>> Get(const ModelInfo& model);

  // Models currently loaded, most recently used first.
  std::vector<std::string> LoadedModels() const;

 private:
  using Loaded = absl::StatusOr<std::shared_ptr<BatchingPredictor>>;

  struct Entry {
    std::shared_future<Loaded> future;
    std::list<std::string>::iterator position;
    // Number of the load that made the entry, to tell it from a later one.
    uint64_t load_id = 0;
  };

  const size_t capacity_;
  const PredictorLoader loader_;
  const BatchOptions options_;

  mutable std::mutex mutex_;
  // Model names, most recently used first.
  std::list<std::string> recency_;
  std::map<std::string, Entry> entries_;
  uint64_t next_load_id_ = 1;
};

}  // namespace ailab::inference
