// The vectorised display loops against plain loops written out here, which the
// compiler keeps scalar, on values that cover the clamps, the rounding and odd lengths.
#include "display_kernels.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using ailab::dicom::internal::MinMax;
using ailab::dicom::internal::ToEightBit;
using ailab::dicom::internal::WindowLinear;

// Values from -1000 to 5000 with every integer of a 12-bit window's edges, plus random
// fractions, in a length that is not a multiple of any vector width.
std::vector<float> TestValues() {
  std::vector<float> values;
  for (int v = -10; v <= 4110; ++v) values.push_back(static_cast<float>(v));
  std::mt19937 random(7);
  std::uniform_real_distribution<float> any(-1000.0f, 5000.0f);
  for (int i = 0; i < 10001; ++i) values.push_back(any(random));
  return values;
}

float PlainWindow(float v, double offset, double scale, bool invert) {
  double y = (static_cast<double>(v) - offset) * scale + 0.5;
  double clamped = y < 0.0 ? 0.0 : (y > 1.0 ? 1.0 : y);
  return static_cast<float>(invert ? 1.0 - clamped : clamped);
}

TEST_CASE("WindowLinear matches plain loop", "[display]") {
  const std::vector<float> values = TestValues();
  // Window center 2047 and width 4095 (a 12-bit mammogram), and a narrow CT-like one.
  for (auto [center, width] : {std::pair{2047.0, 4095.0}, std::pair{40.0, 400.0}}) {
    const double offset = center - 0.5;
    const double scale = 1.0 / (width - 1);
    for (bool invert : {false, true}) {
      std::vector<float> out(values.size());
      WindowLinear(values.data(), out.data(), values.size(), offset, scale, invert);
      size_t differing = 0;
      for (size_t i = 0; i < values.size(); ++i) {
        // == also holds for -0 against 0.
        if (!(out[i] == PlainWindow(values[i], offset, scale, invert))) ++differing;
      }
      INFO("center " << center << " width " << width << " invert " << invert);
      CHECK(differing == 0);
    }
  }
}

TEST_CASE("ToEightBit clamps, rounds half up", "[display]") {
  std::vector<float> values = {-1.0f, -0.0f, 0.0f, 0.5f / 255, 1.0f / 255, 0.5f, 1.0f, 1.5f};
  for (int i = 0; i <= 1000; ++i) values.push_back(static_cast<float>(i) / 1000.0f);
  std::vector<uint8_t> out(values.size());
  ToEightBit(values.data(), out.data(), values.size());
  CHECK(out[0] == 0);
  CHECK(out[1] == 0);
  CHECK(out[3] == 1);
  CHECK(out[5] == 128);
  CHECK(out[6] == 255);
  CHECK(out[7] == 255);
  size_t differing = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    float v = values[i] < 0.0f ? 0.0f : (values[i] > 1.0f ? 1.0f : values[i]);
    if (out[i] != static_cast<uint8_t>(static_cast<int32_t>(v * 255.0f + 0.5f))) ++differing;
  }
  CHECK(differing == 0);
}

TEST_CASE("MinMax finds extremes anywhere", "[display]") {
  std::vector<float> values = TestValues();
  float low = 0, high = 0;
  MinMax(values.data(), values.size(), &low, &high);
  CHECK(low == *std::min_element(values.begin(), values.end()));
  CHECK(high == *std::max_element(values.begin(), values.end()));

  // Extremes in the last element, past the last full vector.
  values.push_back(-5000.0f);
  MinMax(values.data(), values.size(), &low, &high);
  CHECK(low == -5000.0f);
  values.push_back(9000.0f);
  MinMax(values.data(), values.size(), &low, &high);
  CHECK(high == 9000.0f);

  MinMax(values.data(), 0, &low, &high);
  CHECK(low == 0.0f);
  CHECK(high == 0.0f);
  const float single = 3.0f;
  MinMax(&single, 1, &low, &high);
  CHECK(low == 3.0f);
  CHECK(high == 3.0f);
}

}  // namespace
