#include "ailab/imaging/resize.h"

#include <catch2/catch.hpp>

#include <numeric>
#include <vector>

namespace {

using ailab::imaging::Anchor;
using ailab::imaging::Resize;
using ailab::imaging::ResizeKeepAspect;

TEST_CASE("Resize: constant image stays constant", "[resize]") {
  std::vector<float> image(30 * 20, 0.75f);
  for (auto [h, w] : std::vector<std::pair<int, int>>{{7, 5}, {60, 40}, {1, 1}, {30, 20}}) {
    auto out = Resize(image, 30, 20, h, w);
    REQUIRE(out.ok());
    REQUIRE(out->size() == static_cast<size_t>(h * w));
    for (float v : *out) CHECK(v == Approx(0.75f));
  }
}

TEST_CASE("Resize: enlarging interpolates linearly", "[resize]") {
  // 1x2 -> 1x4: centres of the output pixels at 0.25, 0.75, 1.25, 1.75 source pixels.
  std::vector<float> image = {0.0f, 1.0f};
  auto out = Resize(image, 1, 2, 1, 4);
  REQUIRE(out.ok());
  CHECK((*out)[0] == Approx(0.0f));
  CHECK((*out)[1] == Approx(0.25f));
  CHECK((*out)[2] == Approx(0.75f));
  CHECK((*out)[3] == Approx(1.0f));
}

TEST_CASE("Resize: shrinking averages and keeps the mean", "[resize]") {
  // A fine checkerboard shrinks to its mean instead of aliasing.
  std::vector<float> image(64 * 64);
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) image[y * 64 + x] = (x + y) % 2 ? 1.0f : 0.0f;
  }
  auto out = Resize(image, 64, 64, 8, 8);
  REQUIRE(out.ok());
  for (float v : *out) CHECK(v == Approx(0.5f).margin(0.02));
}

TEST_CASE("ResizeKeepAspect: pads the short side and reports the placement", "[resize]") {
  // A tall image like a mammogram: 400 rows x 200 columns into 100 x 100.
  std::vector<float> image(400 * 200, 1.0f);
  SECTION("centred") {
    auto out = ResizeKeepAspect(image, 400, 200, 100);
    REQUIRE(out.ok());
    CHECK(out->scale == Approx(0.25));
    CHECK(out->content_height == 100);
    CHECK(out->content_width == 50);
    CHECK(out->offset_x == 25);
    CHECK(out->offset_y == 0);
    CHECK(out->pixels[50 * 100 + 10] == 0.0f);
    CHECK(out->pixels[50 * 100 + 50] == Approx(1.0f));
    CHECK(out->pixels[50 * 100 + 80] == 0.0f);
  }
  SECTION("top-left") {
    auto out = ResizeKeepAspect(image, 400, 200, 100, Anchor::kTopLeft);
    REQUIRE(out.ok());
    CHECK(out->offset_x == 0);
    CHECK(out->pixels[50 * 100 + 10] == Approx(1.0f));
    CHECK(out->pixels[50 * 100 + 60] == 0.0f);
  }
}

TEST_CASE("Resize: bad sizes are errors", "[resize]") {
  std::vector<float> image(6, 0.0f);
  CHECK(Resize(image, 2, 2, 4, 4).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Resize(image, 2, 3, 0, 4).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ResizeKeepAspect(image, 2, 3, -1).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
