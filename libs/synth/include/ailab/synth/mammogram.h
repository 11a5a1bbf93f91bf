// Synthetic screening mammograms with a known BI-RADS breast density category.
//
// GenerateMammogram() draws one "For Presentation" mammogram of a compressed breast, in
// a cranio-caudal (CC) or medio-lateral oblique (MLO) view of the left or right side.
// It has a skin line, subcutaneous fat, Cooper's ligaments, vessels, on MLO views the
// pectoral muscle, and fibroglandular tissue whose share of the breast area follows the
// requested density category. The pixel values then pass through a simulated detector
// and vendor processing with random exposure, contrast, gamma, quantum noise, offset and
// bit depth, so that the brightness of an image alone does not tell its category.
//
// The density truth is the fibroglandular area fraction of the breast, excluding the
// pectoral muscle. BI-RADS (5th edition) bands: A below 25%, B 25-50%, C 50-75%,
// D above 75%. Each image draws its fraction uniformly from its band widened by
// MammogramParams::band_overlap on both sides, so that neighbouring categories overlap
// a little at their edges, as readers' categories do.
//
// Everything is drawn from the Random passed in, so a seed fixes the image. The
// functions are thread-safe as long as each thread passes its own Random.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ailab/synth/random.h"

namespace ailab::synth {

// Version of the image model, written into the DICOM header (Software Versions). It
// changes whenever a seed starts to give different images.
inline constexpr absl::string_view kGeneratorVersion = "1";

// BI-RADS breast density categories, in order of increasing density.
enum class DensityCategory { kA = 0, kB = 1, kC = 2, kD = 3 };
inline constexpr int kDensityCategoryCount = 4;

enum class Laterality { kLeft, kRight };
enum class View { kCranioCaudal, kMediolateralOblique };

// DICOM Photometric Interpretation: MONOCHROME2 shows high values bright, MONOCHROME1
// shows them dark. Synthetic MONOCHROME1 images store inverted values.
enum class Photometric { kMonochrome2, kMonochrome1 };

// Per-pixel tissue class of a synthetic image (SyntheticImage::labels).
enum class TissueLabel : uint8_t {
  kBackground = 0,     // outside the breast (direct exposure)
  kFatty = 1,          // breast tissue below the fibroglandular threshold
  kDense = 2,          // fibroglandular tissue, counted in the dense fraction
  kPectoralMuscle = 3  // muscle, not part of the breast area
};

// The letter of `category`: "A" ... "D".
std::string CategoryLetter(DensityCategory category);
// Parses "A" ... "D" (either case).
absl::StatusOr<DensityCategory> ParseCategory(absl::string_view letter);
// Lower and upper bound of the category's dense-fraction band, in [0, 1].
std::pair<double, double> CategoryBand(DensityCategory category);
// The category whose band contains `dense_fraction` (fractions on a boundary go up).
DensityCategory CategoryForFraction(double dense_fraction);

// DICOM codes: "L"/"R" for Image Laterality, "CC"/"MLO" for View Position.
std::string LateralityCode(Laterality laterality);
std::string ViewCode(View view);

// Generation parameters. Unset optional fields are drawn at random for each image.
struct MammogramParams {
  int rows = 512;
  int columns = 416;
  DensityCategory category = DensityCategory::kB;
  std::optional<Laterality> laterality;
  std::optional<View> view;
  // When unset, MONOCHROME1 is drawn with probability monochrome1_probability.
  std::optional<Photometric> photometric;
  double monochrome1_probability = 0.2;
  // Pixel spacing is drawn uniformly from this range, in millimetres.
  // NOTE: at the default 512 x 416 size this spacing covers a field of 5-10 cm, smaller
  // than a real 18 x 24 cm detector, so the images are a scaled-down stand-in.
  double min_pixel_spacing_mm = 0.10;
  double max_pixel_spacing_mm = 0.20;
  // Bits Stored is drawn uniformly from this range (Bits Allocated is always 16).
  int min_bits_stored = 12;
  int max_bits_stored = 16;
  // How far the dense fraction may fall outside the category's band, as a fraction of
  // the breast area (0.03 means 3 percentage points on either side).
  double band_overlap = 0.02;
  // Scale, 0 to 1, of the per-image processing variation that keeps brightness
  // statistics from telling the category: large-scale unevenness, flattening of large
  // structures, gamma and window jitter. learnability_test.cc measures the default of 1.
  // Lower values make the task easier for any classifier, for quick training tests.
  double variability = 1.0;
};

// Acquisition values written into the DICOM header. They are drawn to look plausible
// and do not drive the image simulation, except the compressed thickness.
struct AcquisitionParameters {
  double kvp = 28;                 // peak tube voltage, kV
  double exposure_mas = 100;       // tube current-time product, mAs
  double exposure_time_ms = 1000;  // exposure time, ms
  double tube_current_ma = 100;    // tube current, mA
  double compressed_thickness_mm = 50;
  double compression_force_n = 100;  // newtons
  double positioner_angle_deg = 0;   // 0 for CC, 40-60 for MLO
  double organ_dose_mgy = 1.2;       // estimated mean glandular dose, mGy
  std::string anode_target;          // "TUNGSTEN", "MOLYBDENUM" or "RHODIUM"
  std::string filter;                // "RHODIUM", "SILVER", "ALUMINUM" or "MOLYBDENUM"
};

// One generated image with its truth.
struct SyntheticImage {
  int rows = 0;
  int columns = 0;
  // Stored pixel values, row-major, rows * columns of them, each below 2^bits_stored.
  std::vector<uint16_t> pixels;
  int bits_stored = 16;
  Photometric photometric = Photometric::kMonochrome2;
  // Row and column spacing are equal, millimetres.
  double pixel_spacing_mm = 0.1;
  // VOI window over the stored values (Rescale Slope 1, Intercept 0), as a vendor
  // would set it for display.
  double window_center = 0;
  double window_width = 1;
  double rescale_slope = 1;
  double rescale_intercept = 0;
  Laterality laterality = Laterality::kLeft;
  View view = View::kCranioCaudal;
  // Truth: the category asked for, and the measured fibroglandular area fraction of
  // the breast (pectoral muscle excluded), in [0, 1].
  DensityCategory category = DensityCategory::kB;
  double dense_fraction = 0;
  // Breast pixels (fatty + dense) as a fraction of the image.
  double breast_area_fraction = 0;
  // TissueLabel of every pixel, same layout as `pixels`.
  std::vector<uint8_t> labels;
  AcquisitionParameters acquisition;
};

// Checks `params`; INVALID_ARGUMENT names the field and the allowed range.
absl::Status ValidateParams(const MammogramParams& params);

// Draws one synthetic mammogram. Fails with INVALID_ARGUMENT for bad `params`.
absl::StatusOr<SyntheticImage> GenerateMammogram(const MammogramParams& params, Random& random);

// Maps stored value `stored` of `image` to display brightness in [0, 1] through the
// window and the photometric interpretation (1 is white), as a viewer would show it.
double DisplayValue(const SyntheticImage& image, double stored);

}  // namespace ailab::synth
