// PNG encoding of grayscale renderings and decoding of uploaded PNG images (libpng).
//
// Encoding writes 8-bit or 16-bit grayscale at a chosen zlib level. Decoding accepts every PNG colour type and bit depth and returns
// grayscale: palette images are expanded, alpha is dropped, colour is converted to
// luma with the ITU-R BT.601 weights (0.299 R + 0.587 G + 0.114 B), and 1, 2 and 4-bit
// gray is scaled to 8 bits. Images larger than the limit are rejected before any pixel
// buffer is allocated.
//
// All functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ailab::imaging {

// A grayscale image, row-major.
struct GrayImage {
  int width = 0;
  int height = 0;
  // 8 or 16.
  int bit_depth = 8;
  // height * width values in [0, 2^bit_depth - 1].
  std::vector<uint16_t> pixels;
};

// Largest width * height DecodePng() accepts by default (about 16k x 16k).
inline constexpr int64_t kMaxPngPixels = int64_t{16384} * 16384;

// Encodes `pixels` (height * width 8-bit values) as a grayscale PNG.
// `compression_level` is zlib's, 0 (none) to 9 (smallest). Levels 1 to 6 use zlib's
// run-length strategy, which is fast and compresses filtered radiographs well, and 7 to
// 9 the default strategy.
absl::StatusOr<std::string> EncodePng8(absl::Span<const uint8_t> pixels, int width, int height,
                                       int compression_level = 6);

// Encodes `pixels` (height * width 16-bit values) as a 16-bit grayscale PNG.
absl::StatusOr<std::string> EncodePng16(absl::Span<const uint16_t> pixels, int width, int height,
                                        int compression_level = 6);

// Encodes `image` with its own bit depth.
absl::StatusOr<std::string> EncodePng(const GrayImage& image, int compression_level = 6);

// Decodes the PNG in `bytes` to grayscale of its own bit depth (8, or 16 for 16-bit
// files). `source` names the data in error messages.
absl::StatusOr<GrayImage> DecodePng(absl::string_view bytes, absl::string_view source = "png data",
                                    int64_t max_pixels = kMaxPngPixels);

// Returns the pixels of `image` scaled to 0..1 (value / (2^bit_depth - 1)).
std::vector<float> ToUnitFloat(const GrayImage& image);

}  // namespace ailab::imaging
