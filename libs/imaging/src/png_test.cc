#include "ailab/imaging/png.h"

#include <catch2/catch.hpp>

#include <png.h>

#include <string>
#include <vector>

namespace {

using ailab::imaging::DecodePng;
using ailab::imaging::EncodePng16;
using ailab::imaging::EncodePng8;

TEST_CASE("EncodePng8: round trip keeps every pixel", "[png]") {
  std::vector<uint8_t> pixels(7 * 5);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7);
  auto png = EncodePng8(pixels, 7, 5, 9);
  REQUIRE(png.ok());
  CHECK(png->substr(1, 3) == "PNG");
  auto image = DecodePng(*png);
  REQUIRE(image.ok());
  CHECK(image->width == 7);
  CHECK(image->height == 5);
  CHECK(image->bit_depth == 8);
  REQUIRE(image->pixels.size() == pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i) CHECK(image->pixels[i] == pixels[i]);
}

TEST_CASE("EncodePng16: round trip keeps 16-bit values", "[png]") {
  std::vector<uint16_t> pixels = {0, 1, 255, 256, 4095, 65535};
  auto png = EncodePng16(pixels, 3, 2, 0);
  REQUIRE(png.ok());
  auto image = DecodePng(*png);
  REQUIRE(image.ok());
  CHECK(image->bit_depth == 16);
  CHECK(image->pixels == pixels);
  auto unit = ailab::imaging::ToUnitFloat(*image);
  CHECK(unit[5] == 1.0f);
  CHECK(unit[0] == 0.0f);
}

TEST_CASE("EncodePng8: bad arguments are errors", "[png]") {
  std::vector<uint8_t> pixels(4);
  CHECK(EncodePng8(pixels, 3, 2).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(EncodePng8(pixels, 0, 4).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(EncodePng8(pixels, 2, 2, 10).status().code() == absl::StatusCode::kInvalidArgument);
}

// Writes an RGB PNG with libpng directly, as a browser upload would be.
std::string MakeRgbPng(const std::vector<uint8_t>& rgb, int width, int height) {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep data, png_size_t n) {
        static_cast<std::string*>(png_get_io_ptr(p))->append(reinterpret_cast<char*>(data), n);
      },
      [](png_structp) {});
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; ++y) {
    png_write_row(png, const_cast<png_bytep>(rgb.data() + y * width * 3));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

TEST_CASE("DecodePng: colour converts to luma", "[png]") {
  // Pure red, green, blue and white.
  std::vector<uint8_t> rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
  auto image = DecodePng(MakeRgbPng(rgb, 4, 1));
  REQUIRE(image.ok());
  CHECK(image->bit_depth == 8);
  CHECK(image->pixels == std::vector<uint16_t>{76, 150, 29, 255});
}

TEST_CASE("DecodePng: garbage and truncation are clear errors", "[png]") {
  auto garbage = DecodePng("not a png at all", "upload.png");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(garbage.status().message()), Catch::Contains("upload.png"));

  std::vector<uint8_t> pixels(64 * 64, 100);
  auto png = EncodePng8(pixels, 64, 64, 0);
  REQUIRE(png.ok());
  auto truncated = DecodePng(png->substr(0, png->size() / 2), "half.png");
  REQUIRE_FALSE(truncated.ok());
  CHECK(truncated.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(truncated.status().message()), Catch::Contains("half.png"));
}

TEST_CASE("DecodePng: images over the pixel limit are rejected", "[png]") {
  std::vector<uint8_t> pixels(100 * 100, 1);
  auto png = EncodePng8(pixels, 100, 100);
  REQUIRE(png.ok());
  auto image = DecodePng(*png, "big.png", 9999);
  REQUIRE_FALSE(image.ok());
  CHECK_THAT(std::string(image.status().message()), Catch::Contains("over the limit"));
}

}  // namespace
