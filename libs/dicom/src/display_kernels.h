// The per-pixel loops of the display pipeline (pixels.cc), in a file of their own so
// that they can be compiled to vector instructions.
//
// GCC keeps a float comparison such as `v < 0 ? 0 : v` as a branch unless it may
// assume that no value is NaN and that the sign of zero does not matter, so
// display_kernels.cc alone is compiled with -ffinite-math-only -fno-signed-zeros (see
// libs/dicom/CMakeLists.txt). Its loops only clamp and scale pixel values; the checks
// of headers and windows, which must see NaN, stay in pixels.cc. For finite input the
// results are the same as those of the plain loops, except that a clamped value may be
// -0 instead of 0.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ailab::dicom::internal {

// Applies a linear window: out[i] = clamp((in[i] - offset) * scale + 0.5, 0, 1), or 1
// minus that when `invert`, computed in double precision.
void WindowLinear(const float* in, float* out, size_t n, double offset, double scale, bool invert);

// Converts to 8 bits: out[i] = round(clamp(in[i], 0, 1) * 255), rounding half up.
void ToEightBit(const float* in, uint8_t* out, size_t n);

// Finds the smallest and largest of in[0..n), or 0 and 0 when n is 0.
void MinMax(const float* in, size_t n, float* min_value, float* max_value);

}  // namespace ailab::dicom::internal
