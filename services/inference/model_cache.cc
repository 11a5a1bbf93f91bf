#include "services/inference/model_cache.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"

namespace ailab::inference {

BatchingPredictor::BatchingPredictor(std::unique_ptr<torch::Predictor> predictor,
                                     BatchOptions options, int image_size, int num_classes)
    : predictor_(std::move(predictor)),
      options_(options),
      image_size_(predictor_->image_size() > 0 ? predictor_->image_size() : image_size),
      num_classes_(predictor_->num_classes() > 0 ? predictor_->num_classes() : num_classes) {
  thread_ = std::thread([this] { RunBatches(); });
}

BatchingPredictor::~BatchingPredictor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  queue_changed_.notify_all();
  thread_.join();
}

absl::StatusOr<std::vector<float>> BatchingPredictor::Predict(std::vector<float> image) {
  const size_t expected = static_cast<size_t>(image_size_) * image_size_;
  if (image.size() != expected) {
    const std::string actual = absl::StrCat(image.size());
    return Internal("IMAGE_SIZE_MISMATCH",
                    absl::StrCat("prepared image has ", image.size(), " pixels but the model takes ",
                                 image_size_, "x", image_size_),
                    {{"pixels", actual}});
  }
  Request request;
  request.image = std::move(image);
  std::future<absl::StatusOr<std::vector<float>>> result = request.result.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(&request);
  }
  queue_changed_.notify_all();
  return result.get();
}

int64_t BatchingPredictor::batch_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return batch_count_;
}

int64_t BatchingPredictor::image_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return image_count_;
}

void BatchingPredictor::RunBatches() {
  const size_t max_batch = static_cast<size_t>(std::max(1, options_.max_batch_size));
  const auto max_delay = absl::ToChronoNanoseconds(options_.max_delay);
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    queue_changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping with nothing left to run

    // Give other requests up to max_delay to join the batch.
    if (queue_.size() < max_batch && max_batch > 1) {
      const auto deadline = std::chrono::steady_clock::now() + max_delay;
      queue_changed_.wait_until(lock, deadline,
                                [&] { return stopping_ || queue_.size() >= max_batch; });
    }

    std::vector<Request*> batch;
    while (!queue_.empty() && batch.size() < max_batch) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    ++batch_count_;
    image_count_ += static_cast<int64_t>(batch.size());
    lock.unlock();

    std::vector<std::vector<float>> images;
    images.reserve(batch.size());
    for (Request* request : batch) images.push_back(std::move(request->image));
    absl::StatusOr<std::vector<std::vector<float>>> outputs = predictor_->Predict(images);
    if (outputs.ok() && outputs->size() != batch.size()) {
      outputs = Internal("MODEL_OUTPUT_MISMATCH",
                         absl::StrCat("model returned ", outputs->size(), " outputs for ",
                                      batch.size(), " images"));
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (outputs.ok()) {
        batch[i]->result.set_value(std::move((*outputs)[i]));
      } else {
        batch[i]->result.set_value(outputs.status());
      }
    }
    lock.lock();
  }
}

ModelCache::ModelCache(size_t capacity, PredictorLoader loader, BatchOptions options)
    : capacity_(std::max<size_t>(1, capacity)), loader_(std::move(loader)), options_(options) {}

absl::StatusOr<std::shared_ptr<BatchingPredictor>> ModelCache::Get(const ModelInfo& model) {
  std::shared_future<Loaded> future;
  std::promise<Loaded> promise;
  bool load_here = false;
  uint64_t load_id = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(model.name);
    if (it != entries_.end()) {
      recency_.splice(recency_.begin(), recency_, it->second.position);
      future = it->second.future;
    } else {
      // Insert a placeholder so that concurrent requests wait for this load.
      future = promise.get_future().share();
      recency_.push_front(model.name);
      load_id = next_load_id_++;
      entries_[model.name] = Entry{future, recency_.begin(), load_id};
      load_here = true;
      while (entries_.size() > capacity_) {
        const std::string evicted = recency_.back();
        recency_.pop_back();
        entries_.erase(evicted);
        log::Logger("inference")->info("model evicted from cache model={}", evicted);
      }
    }
  }
  if (!load_here) return future.get();

  Loaded loaded = [&]() -> Loaded {
    absl::StatusOr<std::unique_ptr<torch::Predictor>> predictor = loader_(model);
    if (!predictor.ok()) return predictor.status();
    // A file that states no shape (0) is taken to match the registered one.
    const int stated_size = (*predictor)->image_size();
    const int stated_classes = (*predictor)->num_classes();
    if ((stated_size != 0 && stated_size != model.image_size) ||
        (stated_classes != 0 && stated_classes != static_cast<int>(model.classes.size()))) {
      const std::string loaded_size = absl::StrCat((*predictor)->image_size());
      const std::string loaded_classes = absl::StrCat((*predictor)->num_classes());
      return FailedPrecondition(
          "MODEL_SHAPE_MISMATCH",
          absl::StrCat("TorchScript file of model \"", model.name, "\" takes ",
                       (*predictor)->image_size(), " pixels and returns ",
                       (*predictor)->num_classes(), " scores, but the model is registered with ",
                       model.image_size, " pixels and ", model.classes.size(),
                       " classes; retrain or re-register the model"),
          {{"model", model.name}, {"loaded_size", loaded_size}, {"loaded_classes", loaded_classes}});
    }
    return std::make_shared<BatchingPredictor>(*std::move(predictor), options_, model.image_size,
                                               static_cast<int>(model.classes.size()));
  }();
  if (loaded.ok()) {
    log::Logger("inference")->info("model loaded model={}", model.name);
  } else {
    log::Logger("inference")
        ->warn("model load failed model={} error={}", model.name, std::string(loaded.status().message()));
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(model.name);
    if (it != entries_.end() && it->second.load_id == load_id) {
      recency_.erase(it->second.position);
      entries_.erase(it);
    }
  }
  promise.set_value(loaded);
  return loaded;
}

std::vector<std::string> ModelCache::LoadedModels() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {recency_.begin(), recency_.end()};
}

}  // namespace ailab::inference
