// Float image grids and the few operations the mammogram generator needs on them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ailab/synth/random.h"

namespace ailab::synth::internal {

// A row-major grid of floats.
struct Raster {
  Raster() = default;
  Raster(int width, int height, float fill = 0.0f)
      : width(width), height(height), values(static_cast<size_t>(width) * height, fill) {}

  float& at(int x, int y) { return values[static_cast<size_t>(y) * width + x]; }
  float at(int x, int y) const { return values[static_cast<size_t>(y) * width + x]; }

  int width = 0;
  int height = 0;
  std::vector<float> values;
};

// Fills `raster` with independent standard normal draws.
void FillNormal(Raster& raster, Random& random);

// Blurs `raster` with a separable Gaussian of standard deviations `sigma_x` and
// `sigma_y` (cells), mirroring at the edges. A sigma of zero leaves that axis as is.
void GaussianBlur(Raster& raster, double sigma_x, double sigma_y);

// Shifts and scales `raster` to mean 0 and standard deviation 1 (no-op if constant).
void Standardize(Raster& raster);

// Bilinear interpolation at (x, y) in cell units (cell centres at integers), clamped to
// the grid.
// Inline because the generator calls it millions of times per image.
inline float SampleBilinear(const Raster& raster, double x, double y) {
  x = std::clamp(x, 0.0, static_cast<double>(raster.width - 1));
  y = std::clamp(y, 0.0, static_cast<double>(raster.height - 1));
  const int x0 = static_cast<int>(x);
  const int y0 = static_cast<int>(y);
  const int x1 = std::min(x0 + 1, raster.width - 1);
  const int y1 = std::min(y0 + 1, raster.height - 1);
  const float fx = static_cast<float>(x - x0);
  const float fy = static_cast<float>(y - y0);
  const float top = raster.at(x0, y0) * (1 - fx) + raster.at(x1, y0) * fx;
  const float bottom = raster.at(x0, y1) * (1 - fx) + raster.at(x1, y1) * fx;
  return top * (1 - fy) + bottom * fy;
}

// Returns smooth band-limited noise over a width x height pixel grid, standardised.
// White noise on a grid of spacing sigma/2 is blurred by 2 cells and read back
// bilinearly, which gives about the spectrum of white noise blurred by `sigma` pixels.
Raster SmoothNoise(int width, int height, double sigma, Random& random);

// Gaussian blur of scale `sigma` pixels computed on a grid coarsened by about
// sigma/4 and interpolated back: close to GaussianBlur() for sigma of 8 or more, at a
// fraction of the cost.
Raster CoarseBlur(const Raster& raster, double sigma);

// Euclidean-like (chamfer 1, sqrt 2) distance in pixels from each pixel where
// `inside` is non-zero to the nearest pixel where it is zero. Pixels beyond the grid
// count as inside, so the image edge does not act as a boundary. Outside pixels get 0.
Raster DistanceToOutside(const std::vector<uint8_t>& inside, int width, int height);

// Value at quantile `q` in [0, 1] of `samples` (reorders them).
float Quantile(std::vector<float>& samples, double q);

}  // namespace ailab::synth::internal
