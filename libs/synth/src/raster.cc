#include "src/raster.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ailab::synth::internal {
namespace {

std::vector<float> GaussianKernel(double sigma) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  std::vector<float> kernel(2 * radius + 1);
  double sum = 0;
  for (int i = -radius; i <= radius; ++i) {
    const double w = std::exp(-0.5 * (i * i) / (sigma * sigma));
    kernel[i + radius] = static_cast<float>(w);
    sum += w;
  }
  for (float& w : kernel) w = static_cast<float>(w / sum);
  return kernel;
}

// Index `i` reflected into [0, n): -1 -> 0, n -> n - 1 (repeats for long kernels).
int Mirror(int i, int n) {
  if (n == 1) return 0;
  const int period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}

// Convolves `count` lines of `length` cells, `stride` apart within a line and
// `line_step` apart between lines, with `kernel`.
void BlurLines(std::vector<float>& data, int length, int count, size_t stride, size_t line_step,
               const std::vector<float>& kernel) {
  const int radius = static_cast<int>(kernel.size() / 2);
  // Each line is copied with `radius` mirrored cells on both sides, so the inner loop
  // needs no bounds handling.
  std::vector<float> padded(length + 2 * radius);
  for (int l = 0; l < count; ++l) {
    float* base = data.data() + l * line_step;
    for (int i = -radius; i < length + radius; ++i) {
      padded[i + radius] = base[Mirror(i, length) * stride];
    }
    for (int i = 0; i < length; ++i) {
      const float* window = padded.data() + i;
      float acc = 0;
      for (size_t k = 0; k < kernel.size(); ++k) acc += kernel[k] * window[k];
      base[i * stride] = acc;
    }
  }
}

}  // namespace

void FillNormal(Raster& raster, Random& random) {
  for (float& v : raster.values) v = static_cast<float>(random.Normal());
}

void GaussianBlur(Raster& raster, double sigma_x, double sigma_y) {
  if (sigma_x > 0) {
    BlurLines(raster.values, raster.width, raster.height, 1, raster.width, GaussianKernel(sigma_x));
  }
  if (sigma_y > 0) {
    BlurLines(raster.values, raster.height, raster.width, raster.width, 1, GaussianKernel(sigma_y));
  }
}

void Standardize(Raster& raster) {
  if (raster.values.empty()) return;
  double sum = 0, sum_squares = 0;
  for (float v : raster.values) {
    sum += v;
    sum_squares += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(raster.values.size());
  const double mean = sum / n;
  const double variance = std::max(0.0, sum_squares / n - mean * mean);
  if (variance <= 0) return;
  const double scale = 1.0 / std::sqrt(variance);
  for (float& v : raster.values) v = static_cast<float>((v - mean) * scale);
}

Raster SmoothNoise(int width, int height, double sigma, Random& random) {
  // The coarse grid has spacing `step` pixels and overhangs the image by a few cells,
  // so that the mirrored blur edge stays outside the image.
  const double step = std::max(0.5, sigma / 2.0);
  const int margin = 4;
  const int grid_width = static_cast<int>(std::ceil(width / step)) + 2 * margin + 1;
  const int grid_height = static_cast<int>(std::ceil(height / step)) + 2 * margin + 1;
  Raster grid(grid_width, grid_height);
  FillNormal(grid, random);
  GaussianBlur(grid, sigma / step, sigma / step);

  Raster out(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      out.at(x, y) = SampleBilinear(grid, (x + 0.5) / step + margin, (y + 0.5) / step + margin);
    }
  }
  Standardize(out);
  return out;
}

Raster CoarseBlur(const Raster& raster, double sigma) {
  const int factor = std::max(1, static_cast<int>(sigma / 4));
  const int grid_width = (raster.width + factor - 1) / factor;
  const int grid_height = (raster.height + factor - 1) / factor;
  Raster grid(grid_width, grid_height);
  Raster counts(grid_width, grid_height);
  for (int y = 0; y < raster.height; ++y) {
    for (int x = 0; x < raster.width; ++x) {
      grid.at(x / factor, y / factor) += raster.at(x, y);
      counts.at(x / factor, y / factor) += 1;
    }
  }
  for (size_t i = 0; i < grid.values.size(); ++i) grid.values[i] /= counts.values[i];
  GaussianBlur(grid, sigma / factor, sigma / factor);

  // Grid cell (gx, gy) averages pixels [gx * factor, (gx + 1) * factor), so its centre
  // is at pixel coordinate (gx + 0.5) * factor - 0.5.
  Raster out(raster.width, raster.height);
  for (int y = 0; y < raster.height; ++y) {
    for (int x = 0; x < raster.width; ++x) {
      out.at(x, y) = SampleBilinear(grid, (x + 0.5) / factor - 0.5, (y + 0.5) / factor - 0.5);
    }
  }
  return out;
}

Raster DistanceToOutside(const std::vector<uint8_t>& inside, int width, int height) {
  constexpr float kDiagonal = 1.41421356f;
  const float far = std::numeric_limits<float>::max() / 4;
  Raster d(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      d.at(x, y) = inside[static_cast<size_t>(y) * width + x] ? far : 0.0f;
    }
  }
  // Forward pass from the top-left, then backward from the bottom-right; neighbours
  // beyond the grid are skipped, which treats them as inside.
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      float v = d.at(x, y);
      if (v == 0) continue;
      if (x > 0) v = std::min(v, d.at(x - 1, y) + 1);
      if (y > 0) {
        v = std::min(v, d.at(x, y - 1) + 1);
        if (x > 0) v = std::min(v, d.at(x - 1, y - 1) + kDiagonal);
        if (x + 1 < width) v = std::min(v, d.at(x + 1, y - 1) + kDiagonal);
      }
      d.at(x, y) = v;
    }
  }
  for (int y = height - 1; y >= 0; --y) {
    for (int x = width - 1; x >= 0; --x) {
      float v = d.at(x, y);
      if (v == 0) continue;
      if (x + 1 < width) v = std::min(v, d.at(x + 1, y) + 1);
      if (y + 1 < height) {
        v = std::min(v, d.at(x, y + 1) + 1);
        if (x + 1 < width) v = std::min(v, d.at(x + 1, y + 1) + kDiagonal);
        if (x > 0) v = std::min(v, d.at(x - 1, y + 1) + kDiagonal);
      }
      d.at(x, y) = v;
    }
  }
  // A grid with no outside pixel at all keeps `far`; report it as a large distance.
  for (float& v : d.values) v = std::min(v, static_cast<float>(width + height));
  return d;
}

float Quantile(std::vector<float>& samples, double q) {
  if (samples.empty()) return 0.0f;
  const size_t index =
      std::min(samples.size() - 1,
               static_cast<size_t>(std::clamp(q, 0.0, 1.0) * (samples.size() - 1) + 0.5));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(index),
                   samples.end());
  return samples[index];
}

}  // namespace ailab::synth::internal
