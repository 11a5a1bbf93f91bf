// In-process fakes for the inference tests: directories of models, use cases and
// instances, and a model whose output follows the mean brightness of the image.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "ailab/torch/trainer.h"
#include "services/inference/directories.h"

namespace ailab::inference::testing {

class FakeModels : public ModelDirectory {
 public:
  void Add(ModelInfo model) {
    std::lock_guard<std::mutex> lock(mutex_);
    models_[model.name] = std::move(model);
  }
  absl::StatusOr<ModelInfo> GetModel(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = models_.find(name);
    if (it == models_.end()) {
      return NotFound("MODEL_NOT_FOUND", absl::StrCat("model \"", name, "\" not found"),
                      {{"model", name}});
    }
    return it->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, ModelInfo> models_;
};

class FakeUseCases : public UseCaseDirectory {
 public:
  void Add(UseCaseInfo use_case) {
    std::lock_guard<std::mutex> lock(mutex_);
    use_cases_[use_case.name] = std::move(use_case);
  }
  absl::StatusOr<UseCaseInfo> GetUseCase(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = use_cases_.find(name);
    if (it == use_cases_.end()) {
      return NotFound("USE_CASE_NOT_FOUND", absl::StrCat("use case \"", name, "\" not found"),
                      {{"use_case", name}});
    }
    return it->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, UseCaseInfo> use_cases_;
};

class FakeInstances : public InstanceDirectory {
 public:
  void Add(InstanceInfo instance) {
    std::lock_guard<std::mutex> lock(mutex_);
    instances_[instance.name] = std::move(instance);
  }
  absl::StatusOr<InstanceInfo> GetInstance(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = instances_.find(name);
    if (it == instances_.end()) {
      return NotFound("INSTANCE_NOT_FOUND", absl::StrCat("instance \"", name, "\" not found"),
                      {{"instance", name}});
    }
    return it->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, InstanceInfo> instances_;
};

// A two-class model: the second class's probability is the mean pixel value of the
// image, clamped to [0, 1]. Each call sleeps `delay` so that concurrent requests can
// meet in one batch.
class BrightnessModel : public torch::Predictor {
 public:
  BrightnessModel(int image_size, int num_classes = 2,
                  std::chrono::milliseconds delay = std::chrono::milliseconds(0))
      : image_size_(image_size), num_classes_(num_classes), delay_(delay) {}

  absl::StatusOr<std::vector<std::vector<float>>> Predict(
      const std::vector<std::vector<float>>& images) override {
    ++calls_;
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    std::vector<std::vector<float>> outputs;
    for (const std::vector<float>& image : images) {
      double sum = 0;
      for (float value : image) sum += value;
      float mean = image.empty() ? 0.0f : static_cast<float>(sum / image.size());
      mean = std::min(1.0f, std::max(0.0f, mean));
      std::vector<float> output(num_classes_, 0.0f);
      if (num_classes_ == 2) {
        output = {1.0f - mean, mean};
      } else {
        const int chosen = std::min(num_classes_ - 1, static_cast<int>(mean * num_classes_));
        for (int c = 0; c < num_classes_; ++c) {
          output[c] = c == chosen ? 0.7f : 0.3f / (num_classes_ - 1);
        }
      }
      outputs.push_back(output);
    }
    return outputs;
  }
  int image_size() const override { return image_size_; }
  int num_classes() const override { return num_classes_; }
  int calls() const { return calls_.load(); }

 private:
  int image_size_;
  int num_classes_;
  std::chrono::milliseconds delay_;
  std::atomic<int> calls_{0};
};

}  // namespace ailab::inference::testing
