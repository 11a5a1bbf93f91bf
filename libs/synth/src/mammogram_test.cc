#include "ailab/synth/mammogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "ailab/status/status.h"
#include "ailab/synth/random.h"

namespace ailab::synth {
namespace {

constexpr uint8_t kBackground = static_cast<uint8_t>(TissueLabel::kBackground);
constexpr uint8_t kFatty = static_cast<uint8_t>(TissueLabel::kFatty);
constexpr uint8_t kDense = static_cast<uint8_t>(TissueLabel::kDense);
constexpr uint8_t kMuscle = static_cast<uint8_t>(TissueLabel::kPectoralMuscle);

MammogramParams SmallParams(DensityCategory category) {
  MammogramParams params;
  params.rows = 160;
  params.columns = 128;
  params.category = category;
  return params;
}

SyntheticImage Generate(const MammogramParams& params, uint64_t seed) {
  Random random(seed);
  auto image = GenerateMammogram(params, random);
  REQUIRE(image.ok());
  return *std::move(image);
}

// Share of the pixels in `column` that are breast or muscle.
double TissueShare(const SyntheticImage& image, int column) {
  int tissue = 0;
  for (int y = 0; y < image.rows; ++y)
    tissue += image.labels[y * image.columns + column] != kBackground;
  return static_cast<double>(tissue) / image.rows;
}

double MeanDisplay(const SyntheticImage& image, uint8_t label) {
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    if (image.labels[i] != label) continue;
    sum += DisplayValue(image, image.pixels[i]);
    ++n;
  }
  return n > 0 ? sum / n : -1;
}

TEST_CASE("Random: same seed, same stream", "[synth]") {
  Random a(5), b(5), c(6);
  bool all_equal = true, any_differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.NextBits();
    all_equal = all_equal && x == b.NextBits();
    any_differs = any_differs || x != c.NextBits();
  }
  CHECK(all_equal);
  CHECK(any_differs);

  // Forking does not advance the parent, and different streams differ.
  Random parent(9);
  Random first = parent.Fork(1), again = parent.Fork(1), second = parent.Fork(2);
  const uint64_t value = first.NextBits();
  CHECK(value == again.NextBits());
  CHECK(value != second.NextBits());
}

TEST_CASE("Random: distributions stay in range", "[synth]") {
  Random random(11);
  double sum = 0, sum_squares = 0;
  bool integers_in_range = true, uniforms_in_range = true;
  std::vector<int> seen(7, 0);
  constexpr int kDraws = 20000;
  for (int i = 0; i < kDraws; ++i) {
    const int k = random.UniformInt(-3, 3);
    integers_in_range = integers_in_range && k >= -3 && k <= 3;
    if (k >= -3 && k <= 3) ++seen[k + 3];
    const double u = random.Uniform(2.0, 4.0);
    uniforms_in_range = uniforms_in_range && u >= 2.0 && u < 4.0;
    const double z = random.Normal();
    sum += z;
    sum_squares += z * z;
  }
  CHECK(integers_in_range);
  CHECK(uniforms_in_range);
  CHECK(*std::min_element(seen.begin(), seen.end()) > kDraws / 7 * 0.9);
  CHECK(std::abs(sum / kDraws) < 0.05);
  CHECK(std::abs(sum_squares / kDraws - 1) < 0.05);
}

TEST_CASE("Category helpers", "[synth]") {
  CHECK(CategoryLetter(DensityCategory::kC) == "C");
  REQUIRE(ParseCategory("b").ok());
  CHECK(*ParseCategory("b") == DensityCategory::kB);
  CHECK(ParseCategory("E").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseCategory("").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(CategoryBand(DensityCategory::kD).first == Approx(0.75));
  CHECK(CategoryForFraction(0.1) == DensityCategory::kA);
  CHECK(CategoryForFraction(0.25) == DensityCategory::kB);
  CHECK(CategoryForFraction(0.74) == DensityCategory::kC);
  CHECK(CategoryForFraction(1.0) == DensityCategory::kD);
  CHECK(LateralityCode(Laterality::kRight) == "R");
  CHECK(ViewCode(View::kMediolateralOblique) == "MLO");
}

TEST_CASE("GenerateMammogram: one seed gives one image", "[synth]") {
  const MammogramParams params = SmallParams(DensityCategory::kB);
  const SyntheticImage a = Generate(params, 21), b = Generate(params, 21), c = Generate(params, 22);
  CHECK(a.pixels == b.pixels);
  CHECK(a.labels == b.labels);
  CHECK(a.dense_fraction == b.dense_fraction);
  CHECK(a.window_center == b.window_center);
  CHECK(a.pixels != c.pixels);
}

TEST_CASE("GenerateMammogram: dense fraction follows the category", "[synth]") {
  const double overlap = MammogramParams().band_overlap;
  for (int c = 0; c < kDensityCategoryCount; ++c) {
    const auto category = static_cast<DensityCategory>(c);
    const auto [low, high] = CategoryBand(category);
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      const SyntheticImage image = Generate(SmallParams(category), 100 * c + seed);
      INFO("category " << CategoryLetter(category) << " seed " << seed);
      CHECK(image.category == category);
      CHECK(image.dense_fraction >= low - overlap - 0.01);
      CHECK(image.dense_fraction <= high + overlap + 0.01);

      // The truth is the share of dense labels among breast labels.
      int fatty = 0, dense = 0;
      for (uint8_t label : image.labels) {
        fatty += label == kFatty;
        dense += label == kDense;
      }
      REQUIRE(fatty + dense > 0);
      CHECK(image.dense_fraction == Approx(static_cast<double>(dense) / (fatty + dense)));
      CHECK(image.breast_area_fraction ==
            Approx(static_cast<double>(fatty + dense) / image.labels.size()));
    }
  }
}

TEST_CASE("GenerateMammogram: stored values and header fields", "[synth]") {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const SyntheticImage image = Generate(SmallParams(DensityCategory::kC), seed);
    INFO("seed " << seed);
    REQUIRE(image.pixels.size() == 160u * 128u);
    REQUIRE(image.labels.size() == image.pixels.size());
    CHECK(image.bits_stored >= 12);
    CHECK(image.bits_stored <= 16);
    CHECK(image.pixel_spacing_mm >= 0.1);
    CHECK(image.pixel_spacing_mm <= 0.2);
    CHECK(image.window_width >= 2);
    const uint32_t limit = 1u << image.bits_stored;
    bool within = true;
    for (uint16_t v : image.pixels) within = within && v < limit;
    CHECK(within);

    // Dense tissue shows brighter than fat, and the background darkest.
    CHECK(MeanDisplay(image, kDense) > MeanDisplay(image, kFatty));
    CHECK(MeanDisplay(image, kBackground) < MeanDisplay(image, kFatty));

    // The window shows most of the breast without clipping it.
    int breast = 0, clipped = 0;
    for (size_t i = 0; i < image.pixels.size(); ++i) {
      if (image.labels[i] != kFatty && image.labels[i] != kDense) continue;
      const double d = DisplayValue(image, image.pixels[i]);
      ++breast;
      clipped += d <= 0.0 || d >= 1.0;
    }
    CHECK(clipped < 0.1 * breast);
  }
}

TEST_CASE("GenerateMammogram: laterality puts the chest wall on its side", "[synth]") {
  MammogramParams params = SmallParams(DensityCategory::kB);
  params.view = View::kCranioCaudal;
  params.laterality = Laterality::kLeft;
  const SyntheticImage left = Generate(params, 31);
  params.laterality = Laterality::kRight;
  const SyntheticImage right = Generate(params, 31);
  CHECK(left.laterality == Laterality::kLeft);
  CHECK(TissueShare(left, 0) > 0.4);
  CHECK(TissueShare(left, left.columns - 1) == 0);
  CHECK(TissueShare(right, right.columns - 1) > 0.4);
  CHECK(TissueShare(right, 0) == 0);
}

TEST_CASE("GenerateMammogram: MLO shows the pectoral muscle", "[synth]") {
  MammogramParams params = SmallParams(DensityCategory::kA);
  params.view = View::kMediolateralOblique;
  params.laterality = Laterality::kLeft;
  const SyntheticImage image = Generate(params, 41);
  CHECK(image.view == View::kMediolateralOblique);
  // Top-left corner (axilla, chest wall side) is muscle.
  CHECK(image.labels[0] == kMuscle);
  CHECK(image.labels[2 * image.columns + 2] == kMuscle);
  // The muscle is not counted in the breast area.
  int muscle = 0;
  for (uint8_t label : image.labels) muscle += label == kMuscle;
  CHECK(muscle > 0);
}

TEST_CASE("GenerateMammogram: MONOCHROME1 inverts stored values", "[synth]") {
  MammogramParams params = SmallParams(DensityCategory::kC);
  params.photometric = Photometric::kMonochrome2;
  const SyntheticImage mono2 = Generate(params, 51);
  params.photometric = Photometric::kMonochrome1;
  const SyntheticImage mono1 = Generate(params, 51);
  REQUIRE(mono1.bits_stored == mono2.bits_stored);
  const uint16_t max_value = static_cast<uint16_t>((1u << mono1.bits_stored) - 1);
  bool inverted = true;
  for (size_t i = 0; i < mono1.pixels.size(); ++i) {
    inverted = inverted && mono1.pixels[i] == max_value - mono2.pixels[i];
  }
  CHECK(inverted);
  CHECK(mono1.window_center == Approx(max_value - mono2.window_center));
  // Shown through the window, both look the same.
  CHECK(DisplayValue(mono1, mono1.pixels[1000]) ==
        Approx(DisplayValue(mono2, mono2.pixels[1000])).margin(0.01));
}

TEST_CASE("GenerateMammogram: variability zero keeps anatomy", "[synth]") {
  MammogramParams params = SmallParams(DensityCategory::kB);
  const SyntheticImage varied = Generate(params, 61);
  params.variability = 0;
  const SyntheticImage plain = Generate(params, 61);
  // The same anatomy and truth, rendered with other processing.
  CHECK(plain.labels == varied.labels);
  CHECK(plain.dense_fraction == varied.dense_fraction);
  CHECK(plain.pixels != varied.pixels);
  CHECK(MeanDisplay(plain, kDense) > MeanDisplay(plain, kFatty));
}

TEST_CASE("GenerateMammogram: bad parameters are rejected", "[synth]") {
  Random random(1);
  MammogramParams params = SmallParams(DensityCategory::kA);
  std::string field;
  SECTION("rows") {
    params.rows = 10;
    field = "rows";
  }
  SECTION("spacing") {
    params.min_pixel_spacing_mm = 0.3;
    params.max_pixel_spacing_mm = 0.2;
    field = "max_pixel_spacing_mm";
  }
  SECTION("bits") {
    params.max_bits_stored = 17;
    field = "max_bits_stored";
  }
  SECTION("probability") {
    params.monochrome1_probability = 1.5;
    field = "monochrome1_probability";
  }
  SECTION("variability") {
    params.variability = 2;
    field = "variability";
  }
  const auto image = GenerateMammogram(params, random);
  CHECK(image.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(image.status()) == "SYNTH_PARAMETER_OUT_OF_RANGE");
  CHECK(std::string(image.status().message()).find(field) != std::string::npos);
}

}  // namespace
}  // namespace ailab::synth
