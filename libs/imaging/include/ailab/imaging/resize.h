// Resizing of single-channel float images (row-major, height x width).
//
// Resampling is bilinear with pixel centres aligned (a source pixel i covers
// [i, i + 1)). When shrinking, the triangle kernel is widened by the shrink factor,
// so every source pixel contributes and a 4000-pixel mammogram reduced to 128 pixels
// does not alias; when enlarging this is plain bilinear interpolation.
//
// All functions are thread-safe.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ailab::imaging {

// Where ResizeKeepAspect() places the resized image inside the square.
enum class Anchor {
  // Centred, with equal padding on both sides (one more on the right or bottom).
  kCenter,
  // At the top-left corner, with all padding on the right and bottom.
  kTopLeft,
};

// Output of ResizeKeepAspect(): a size x size image and where the content lies in it.
struct ResizeResult {
  // size * size values, row-major; padding is 0.
  std::vector<float> pixels;
  int size = 0;
  // Output pixels per source pixel, the same on both axes.
  double scale = 1.0;
  // Position and extent of the resized content inside the square, in output pixels.
  // A source point (x, y) maps to (offset_x + x * scale, offset_y + y * scale).
  int offset_x = 0;
  int offset_y = 0;
  int content_width = 0;
  int content_height = 0;
};

// Largest width or height accepted as input or output.
inline constexpr int kMaxResizeExtent = 1 << 16;

// Resizes `image` (height x width) to out_height x out_width, ignoring the aspect ratio.
absl::StatusOr<std::vector<float>> Resize(absl::Span<const float> image, int height, int width,
                                          int out_height, int out_width);

// Scales `image` so its longer side is `size` pixels and pads the shorter side with 0
// to a size x size square.
absl::StatusOr<ResizeResult> ResizeKeepAspect(absl::Span<const float> image, int height, int width,
                                              int size, Anchor anchor = Anchor::kCenter);

}  // namespace ailab::imaging
