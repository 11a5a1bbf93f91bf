// A PNG grid of thumbnails for looking at a generated dataset: one row per density
// category (A at the top), up to `per_category` images in each, shown as a viewer
// would show them (window and photometric interpretation applied).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ailab/synth/mammogram.h"

namespace ailab::synth {

class ContactSheet {
 public:
  // Thumbnails of `rows` x `columns` images, reduced to at most 128 pixels a side.
  ContactSheet(int rows, int columns, int per_category);

  // Draws `image` into cell `slot` (0 to per_category - 1) of its category's row.
  // Thread-safe.
  void Add(const SyntheticImage& image, int slot);

  absl::StatusOr<std::string> EncodePng() const;

 private:
  int factor_;
  int cell_width_;
  int cell_height_;
  int per_category_;
  int width_;
  int height_;
  mutable std::mutex mutex_;
  std::vector<uint8_t> pixels_;
};

}  // namespace ailab::synth
