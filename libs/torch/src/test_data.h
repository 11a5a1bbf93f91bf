// Helpers shared by this library's tests: scratch directories and synthetic labelled
// images written as .npy files.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ailab/imaging/npy.h"
#include "ailab/torch/trainer.h"

namespace ailab::torch::testing {

// A fresh directory under the system's temporary directory, removed at destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ailab-torch-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    char* created = mkdtemp(buffer.data());
    path_ = created == nullptr ? std::string() : std::string(created);
  }
  ~ScratchDir() {
    std::error_code error;
    if (!path_.empty()) std::filesystem::remove_all(path_, error);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const {
    return (std::filesystem::path(path_) / name).string();
  }

 private:
  std::string path_;
};

// One synthetic image: a disc of random centre and radius on a mid-grey background
// with Gaussian noise. The disc's brightness encodes the class: from dark (class 0)
// to bright (class num_classes - 1).
inline std::vector<float> DiscImage(int size, int label, int num_classes, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.05);
  double radius = size * (0.15 + 0.15 * unit(rng));
  double cx = size * (0.3 + 0.4 * unit(rng));
  double cy = size * (0.3 + 0.4 * unit(rng));
  double level = num_classes == 1 ? 0.5 : 0.1 + 0.8 * label / (num_classes - 1.0);
  std::vector<float> pixels(static_cast<size_t>(size) * size);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      double inside = std::hypot(x + 0.5 - cx, y + 0.5 - cy) <= radius ? 1.0 : 0.0;
      double value = inside * level + (1 - inside) * 0.5 + noise(rng);
      pixels[static_cast<size_t>(y) * size + x] = static_cast<float>(std::clamp(value, 0.0, 1.0));
    }
  }
  return pixels;
}

// Writes `labels.size()` disc images into `dir` and returns them as examples.
inline std::vector<Example> WriteDiscExamples(const std::string& dir, const std::string& prefix,
                                              const std::vector<int>& labels, int size,
                                              int num_classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Example> examples;
  for (size_t i = 0; i < labels.size(); ++i) {
    std::vector<float> pixels = DiscImage(size, labels[i], num_classes, rng);
    auto array = imaging::Array::FromFloat({size, size}, pixels);
    std::string path = (std::filesystem::path(dir) / absl::StrCat(prefix, i, ".npy")).string();
    if (!array.ok() || !imaging::WriteNpy(path, *array).ok()) return {};
    examples.push_back({path, labels[i], absl::StrCat("datasets/test/instances/", prefix, i)});
  }
  return examples;
}

// Labels 0, 1, ..., num_classes - 1 repeated until there are `count`.
inline std::vector<int> CyclingLabels(int count, int num_classes) {
  std::vector<int> labels;
  for (int i = 0; i < count; ++i) labels.push_back(i % num_classes);
  return labels;
}

}  // namespace ailab::torch::testing
