#include "src/contact_sheet.h"

#include <algorithm>
#include <cmath>

#include "ailab/imaging/png.h"

namespace ailab::synth {
namespace {

constexpr int kMaxThumbnailSide = 128;
constexpr int kGap = 4;
constexpr uint8_t kBackground = 48;

}  // namespace

ContactSheet::ContactSheet(int rows, int columns, int per_category)
    : factor_(std::max(1, (std::max(rows, columns) + kMaxThumbnailSide - 1) / kMaxThumbnailSide)),
      cell_width_(columns / factor_),
      cell_height_(rows / factor_),
      per_category_(std::max(0, per_category)),
      width_(per_category_ * (cell_width_ + kGap) + kGap),
      height_(kDensityCategoryCount * (cell_height_ + kGap) + kGap),
      pixels_(static_cast<size_t>(width_) * height_, kBackground) {}

void ContactSheet::Add(const SyntheticImage& image, int slot) {
  if (slot < 0 || slot >= per_category_) return;
  const int left = kGap + slot * (cell_width_ + kGap);
  const int top = kGap + static_cast<int>(image.category) * (cell_height_ + kGap);
  // Area average of the display values over factor x factor pixels.
  std::vector<uint8_t> cell(static_cast<size_t>(cell_width_) * cell_height_);
  for (int y = 0; y < cell_height_; ++y) {
    for (int x = 0; x < cell_width_; ++x) {
      double sum = 0;
      for (int dy = 0; dy < factor_; ++dy) {
        for (int dx = 0; dx < factor_; ++dx) {
          const size_t i = static_cast<size_t>(y * factor_ + dy) * image.columns + x * factor_ + dx;
          sum += DisplayValue(image, image.pixels[i]);
        }
      }
      cell[static_cast<size_t>(y) * cell_width_ + x] =
          static_cast<uint8_t>(std::lround(255 * sum / (factor_ * factor_)));
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (int y = 0; y < cell_height_; ++y) {
    std::copy_n(cell.begin() + static_cast<std::ptrdiff_t>(y) * cell_width_, cell_width_,
                pixels_.begin() + static_cast<std::ptrdiff_t>(top + y) * width_ + left);
  }
}

absl::StatusOr<std::string> ContactSheet::EncodePng() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return imaging::EncodePng8(pixels_, width_, height_);
}

}  // namespace ailab::synth
