#include "ailab/synth/mammogram.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ailab/status/status.h"
#include "src/anatomy.h"
#include "src/detector.h"

namespace ailab::synth {
namespace {

constexpr int kMinSide = 64;
constexpr int kMaxSide = 4096;

// Independent sub-streams of one image's generator, so that, for example, the
// photometric draw does not shift the anatomy.
constexpr uint64_t kAnatomyStream = 1;
constexpr uint64_t kDetectorStream = 2;

absl::Status RangeError(absl::string_view field, absl::string_view message, double value) {
  return InvalidArgument("SYNTH_PARAMETER_OUT_OF_RANGE", field,
                         absl::StrCat(field, " = ", value, " is invalid: ", message),
                         {{"field", field}, {"value", absl::StrCat(value)}});
}

AcquisitionParameters DrawAcquisition(View view, Laterality laterality, Random& random) {
  AcquisitionParameters a;
  a.compressed_thickness_mm = std::round(random.Uniform(30, 75));
  a.compression_force_n = std::round(random.Uniform(50, 160));
  a.kvp = std::round(random.Uniform(25, 34));
  a.tube_current_ma = std::round(random.Uniform(80, 200));
  a.exposure_mas = std::round(random.Uniform(40, 220));
  a.exposure_time_ms = std::round(1000 * a.exposure_mas / a.tube_current_ma);
  a.organ_dose_mgy = std::round(random.Uniform(0.6, 2.5) * 100) / 100;
  if (view == View::kMediolateralOblique) {
    const double angle = std::round(random.Uniform(40, 60));
    a.positioner_angle_deg = laterality == Laterality::kRight ? angle : -angle;
  }
  if (random.Bernoulli(0.7)) {
    a.anode_target = "TUNGSTEN";
    const char* filters[] = {"RHODIUM", "SILVER", "ALUMINUM"};
    a.filter = filters[random.UniformInt(0, 2)];
  } else {
    a.anode_target = "MOLYBDENUM";
    a.filter = random.Bernoulli(0.5) ? "MOLYBDENUM" : "RHODIUM";
  }
  return a;
}

// Mirrors a row-major grid left to right.
template <typename T>
void MirrorColumns(std::vector<T>& values, int rows, int columns) {
  for (int y = 0; y < rows; ++y) {
    std::reverse(values.begin() + static_cast<std::ptrdiff_t>(y) * columns,
                 values.begin() + static_cast<std::ptrdiff_t>(y + 1) * columns);
  }
}

}  // namespace

std::string CategoryLetter(DensityCategory category) {
  return std::string(1, static_cast<char>('A' + static_cast<int>(category)));
}

absl::StatusOr<DensityCategory> ParseCategory(absl::string_view letter) {
  const std::string upper = absl::AsciiStrToUpper(letter);
  if (upper.size() == 1 && upper[0] >= 'A' && upper[0] <= 'D') {
    return static_cast<DensityCategory>(upper[0] - 'A');
  }
  return InvalidArgument(
      "SYNTH_UNKNOWN_CATEGORY", "category",
      absl::StrCat("density category \"", letter, "\" is unknown; use one of A, B, C, D"),
      {{"category", letter}});
}

std::pair<double, double> CategoryBand(DensityCategory category) {
  const double lower = 0.25 * static_cast<int>(category);
  return {lower, lower + 0.25};
}

DensityCategory CategoryForFraction(double dense_fraction) {
  const int index = std::clamp(static_cast<int>(std::floor(dense_fraction * 4)), 0, 3);
  return static_cast<DensityCategory>(index);
}

std::string LateralityCode(Laterality laterality) {
  return laterality == Laterality::kLeft ? "L" : "R";
}

std::string ViewCode(View view) { return view == View::kCranioCaudal ? "CC" : "MLO"; }

absl::Status ValidateParams(const MammogramParams& p) {
  if (p.rows < kMinSide || p.rows > kMaxSide) {
    return RangeError("rows", absl::StrFormat("use %d to %d", kMinSide, kMaxSide), p.rows);
  }
  if (p.columns < kMinSide || p.columns > kMaxSide) {
    return RangeError("columns", absl::StrFormat("use %d to %d", kMinSide, kMaxSide), p.columns);
  }
  if (static_cast<int>(p.category) < 0 || static_cast<int>(p.category) >= kDensityCategoryCount) {
    return RangeError("category", "use A, B, C or D", static_cast<int>(p.category));
  }
  if (!(p.monochrome1_probability >= 0 && p.monochrome1_probability <= 1)) {
    return RangeError("monochrome1_probability", "use a probability from 0 to 1",
                      p.monochrome1_probability);
  }
  if (!(p.min_pixel_spacing_mm >= 0.01 && p.min_pixel_spacing_mm <= 5)) {
    return RangeError("min_pixel_spacing_mm", "use 0.01 to 5 mm", p.min_pixel_spacing_mm);
  }
  if (!(p.max_pixel_spacing_mm >= p.min_pixel_spacing_mm && p.max_pixel_spacing_mm <= 5)) {
    return RangeError("max_pixel_spacing_mm", "use min_pixel_spacing_mm to 5 mm",
                      p.max_pixel_spacing_mm);
  }
  if (p.min_bits_stored < 8 || p.min_bits_stored > 16) {
    return RangeError("min_bits_stored", "use 8 to 16", p.min_bits_stored);
  }
  if (p.max_bits_stored < p.min_bits_stored || p.max_bits_stored > 16) {
    return RangeError("max_bits_stored", "use min_bits_stored to 16", p.max_bits_stored);
  }
  if (!(p.band_overlap >= 0 && p.band_overlap <= 0.1)) {
    return RangeError("band_overlap", "use 0 to 0.1", p.band_overlap);
  }
  if (!(p.variability >= 0 && p.variability <= 1)) {
    return RangeError("variability", "use 0 to 1", p.variability);
  }
  return absl::OkStatus();
}

absl::StatusOr<SyntheticImage> GenerateMammogram(const MammogramParams& params, Random& random) {
  AILAB_RETURN_IF_ERROR(ValidateParams(params));
  Random anatomy_random = random.Fork(kAnatomyStream);
  Random detector_random = random.Fork(kDetectorStream);

  // Header-level draws.
  SyntheticImage image;
  image.rows = params.rows;
  image.columns = params.columns;
  image.category = params.category;
  image.laterality =
      params.laterality.value_or(random.Bernoulli(0.5) ? Laterality::kLeft : Laterality::kRight);
  image.view = params.view.value_or(random.Bernoulli(0.5) ? View::kCranioCaudal
                                                          : View::kMediolateralOblique);
  image.photometric = params.photometric.value_or(random.Bernoulli(params.monochrome1_probability)
                                                      ? Photometric::kMonochrome1
                                                      : Photometric::kMonochrome2);
  image.pixel_spacing_mm =
      std::round(random.Uniform(params.min_pixel_spacing_mm, params.max_pixel_spacing_mm) * 1000) /
      1000;
  image.bits_stored = random.UniformInt(params.min_bits_stored, params.max_bits_stored);
  image.acquisition = DrawAcquisition(image.view, image.laterality, random);

  // The target fraction: uniform over the category's band, widened by the overlap and
  // kept off the extremes (no real breast is entirely fat or entirely gland).
  const auto [band_low, band_high] = CategoryBand(params.category);
  const double target = random.Uniform(std::max(0.03, band_low - params.band_overlap),
                                       std::min(0.97, band_high + params.band_overlap));

  internal::BreastAnatomy anatomy =
      internal::SimulateAnatomy(params.columns, params.rows, image.view, target, anatomy_random);
  internal::PresentationImage rendered = internal::RenderPresentation(
      anatomy, image.bits_stored, image.acquisition.compressed_thickness_mm / 50.0,
      params.variability, detector_random);

  image.pixels = std::move(rendered.pixels);
  image.labels = std::move(anatomy.labels);
  image.dense_fraction = anatomy.dense_fraction;
  image.breast_area_fraction = anatomy.breast_area_fraction;
  image.window_center = rendered.window_center;
  image.window_width = rendered.window_width;

  // A right breast is displayed with its chest wall on the right.
  if (image.laterality == Laterality::kRight) {
    MirrorColumns(image.pixels, image.rows, image.columns);
    MirrorColumns(image.labels, image.rows, image.columns);
  }

  // MONOCHROME1 stores inverted values; the window moves with them.
  if (image.photometric == Photometric::kMonochrome1) {
    const uint16_t max_value = static_cast<uint16_t>((1u << image.bits_stored) - 1);
    for (uint16_t& v : image.pixels) v = static_cast<uint16_t>(max_value - v);
    image.window_center = max_value - image.window_center;
  }
  return image;
}

double DisplayValue(const SyntheticImage& image, double stored) {
  // DICOM's LINEAR VOI function of Window Center and Width, over the modality values.
  const double value = stored * image.rescale_slope + image.rescale_intercept;
  const double c = image.window_center, w = std::max(1.0, image.window_width);
  double y = 0;
  if (w <= 1) {
    y = value >= c ? 1.0 : 0.0;
  } else {
    y = std::clamp((value - (c - 0.5)) / (w - 1) + 0.5, 0.0, 1.0);
  }
  return image.photometric == Photometric::kMonochrome1 ? 1 - y : y;
}

}  // namespace ailab::synth
