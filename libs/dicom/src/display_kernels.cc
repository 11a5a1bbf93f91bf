#include "display_kernels.h"

#include <algorithm>

namespace ailab::dicom::internal {

void WindowLinear(const float* in, float* out, size_t n, double offset, double scale, bool invert) {
  if (invert) {
    for (size_t i = 0; i < n; ++i) {
      double y = (static_cast<double>(in[i]) - offset) * scale + 0.5;
      out[i] = static_cast<float>(1.0 - std::min(std::max(y, 0.0), 1.0));
    }
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    double y = (static_cast<double>(in[i]) - offset) * scale + 0.5;
    out[i] = static_cast<float>(std::min(std::max(y, 0.0), 1.0));
  }
}

void ToEightBit(const float* in, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    // A copy, not in[i] itself: std::max of in[i] returns a reference into the input,
    // and GCC then keeps the clamp as branches.
    float v = in[i];
    v = std::min(std::max(v, 0.0f), 1.0f);
    out[i] = static_cast<uint8_t>(static_cast<int32_t>(v * 255.0f + 0.5f));
  }
}

void MinMax(const float* in, size_t n, float* min_value, float* max_value) {
  if (n == 0) {
    *min_value = *max_value = 0;
    return;
  }
  float low = in[0], high = in[0];
  for (size_t i = 0; i < n; ++i) {
    const float v = in[i];
    low = std::min(low, v);
    high = std::max(high, v);
  }
  *min_value = low;
  *max_value = high;
}

}  // namespace ailab::dicom::internal
