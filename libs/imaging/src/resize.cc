#include "ailab/imaging/resize.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"

namespace ailab::imaging {
namespace {

// Weights of the source pixels that form one output pixel along one axis.
struct Taps {
  int first = 0;
  std::vector<float> weights;
};

// Computes, for each of `out` output positions, the triangle-filter weights over the
// `in` source positions. The kernel half-width is 1 source pixel when enlarging and
// in/out source pixels when shrinking; weights are normalised to sum to 1.
std::vector<Taps> ComputeTaps(int in, int out) {
  double scale = static_cast<double>(in) / out;  // source pixels per output pixel
  double support = std::max(1.0, scale);
  std::vector<Taps> taps(static_cast<size_t>(out));
  for (int o = 0; o < out; ++o) {
    double center = (o + 0.5) * scale;  // in source coordinates, pixel centres at i + 0.5
    int lo = std::max(0, static_cast<int>(std::floor(center - support)));
    int hi = std::min(in - 1, static_cast<int>(std::ceil(center + support)));
    Taps& t = taps[o];
    t.first = lo;
    double total = 0;
    for (int i = lo; i <= hi; ++i) {
      double w = 1.0 - std::abs((i + 0.5 - center) / support);
      if (w < 0) w = 0;
      t.weights.push_back(static_cast<float>(w));
      total += w;
    }
    if (total <= 0) {
      // The centre lies outside every kernel (only at the very edge): take the nearest.
      t.weights.assign(t.weights.size(), 0.0f);
      int nearest = std::clamp(static_cast<int>(center), lo, hi);
      t.weights[nearest - lo] = 1.0f;
    } else {
      for (float& w : t.weights) w = static_cast<float>(w / total);
    }
  }
  return taps;
}

absl::Status CheckExtent(absl::string_view field, int value) {
  if (value <= 0 || value > kMaxResizeExtent) {
    return InvalidArgument("INVALID_IMAGE_SIZE", field,
                           absl::StrCat(field, " ", value, " is invalid; it must be 1 to ",
                                        kMaxResizeExtent));
  }
  return absl::OkStatus();
}

// Separable resize into `out` (out_height rows of `stride` values, starting at column
// `x0` of row `y0`).
void ResizeInto(absl::Span<const float> image, int height, int width, int out_height,
                int out_width, float* out, int stride, int x0, int y0) {
  std::vector<Taps> column_taps = ComputeTaps(width, out_width);
  std::vector<Taps> row_taps = ComputeTaps(height, out_height);

  // Vertical pass first: out_height x width. Its inner loop runs along whole source
  // rows, so the compiler turns it into vector instructions. The horizontal pass, whose
  // inner loop is a sum that the compiler may not reorder, then runs over the output's
  // rows only.
  std::vector<float> vertical(static_cast<size_t>(out_height) * width, 0.0f);
  for (int y = 0; y < out_height; ++y) {
    const Taps& t = row_taps[y];
    float* dst = vertical.data() + static_cast<size_t>(y) * width;
    for (size_t k = 0; k < t.weights.size(); ++k) {
      const float* src = image.data() + static_cast<size_t>(t.first + k) * width;
      const float w = t.weights[k];
      for (int x = 0; x < width; ++x) dst[x] += w * src[x];
    }
  }

  // Horizontal pass into the output.
  for (int y = 0; y < out_height; ++y) {
    const float* row = vertical.data() + static_cast<size_t>(y) * width;
    float* dst = out + static_cast<size_t>(y0 + y) * stride + x0;
    for (int x = 0; x < out_width; ++x) {
      const Taps& t = column_taps[x];
      float sum = 0;
      for (size_t k = 0; k < t.weights.size(); ++k) sum += t.weights[k] * row[t.first + k];
      dst[x] = sum;
    }
  }
}

absl::Status CheckInput(absl::Span<const float> image, int height, int width) {
  AILAB_RETURN_IF_ERROR(CheckExtent("height", height));
  AILAB_RETURN_IF_ERROR(CheckExtent("width", width));
  if (image.size() != static_cast<size_t>(height) * width) {
    return InvalidArgument("IMAGE_SIZE_MISMATCH", "image",
                           absl::StrCat("image of ", height, "x", width, " needs ",
                                        static_cast<size_t>(height) * width, " values but has ",
                                        image.size()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<float>> Resize(absl::Span<const float> image, int height, int width,
                                          int out_height, int out_width) {
  AILAB_RETURN_IF_ERROR(CheckInput(image, height, width));
  AILAB_RETURN_IF_ERROR(CheckExtent("out_height", out_height));
  AILAB_RETURN_IF_ERROR(CheckExtent("out_width", out_width));
  std::vector<float> out(static_cast<size_t>(out_height) * out_width);
  ResizeInto(image, height, width, out_height, out_width, out.data(), out_width, 0, 0);
  return out;
}

absl::StatusOr<ResizeResult> ResizeKeepAspect(absl::Span<const float> image, int height, int width,
                                              int size, Anchor anchor) {
  AILAB_RETURN_IF_ERROR(CheckInput(image, height, width));
  AILAB_RETURN_IF_ERROR(CheckExtent("size", size));

  ResizeResult result;
  result.size = size;
  result.scale = static_cast<double>(size) / std::max(height, width);
  result.content_width =
      std::clamp(static_cast<int>(std::lround(width * result.scale)), 1, size);
  result.content_height =
      std::clamp(static_cast<int>(std::lround(height * result.scale)), 1, size);
  if (anchor == Anchor::kCenter) {
    result.offset_x = (size - result.content_width) / 2;
    result.offset_y = (size - result.content_height) / 2;
  }
  result.pixels.assign(static_cast<size_t>(size) * size, 0.0f);
  ResizeInto(image, height, width, result.content_height, result.content_width,
             result.pixels.data(), size, result.offset_x, result.offset_y);
  return result;
}

}  // namespace ailab::imaging
