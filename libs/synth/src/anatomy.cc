#include "src/anatomy.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

namespace ailab::synth::internal {
namespace {

constexpr double kPi = std::numbers::pi;

double SmoothStep(double edge0, double edge1, double x) {
  const double t = std::clamp((x - edge0) / (edge1 - edge0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}

size_t Index(int x, int y, int width) { return static_cast<size_t>(y) * width + x; }

// The skin outline in polar coordinates around (0, center_y), the middle of the chest
// wall edge. It is a half-ellipse whose upper and lower halves may differ, tilted by
// `tilt`. A few low harmonics make the contour irregular, and a small bump is the nipple.
struct Outline {
  double depth = 0;     // distance from the chest wall to the nipple, pixels
  double center_y = 0;  // row of the polar origin on the chest wall
  double upper = 0;     // half-height above the axis, pixels
  double lower = 0;     // half-height below the axis, pixels
  double tilt = 0;      // axis angle, radians, positive toward higher rows
  std::array<double, 3> harmonic_amplitude{};
  std::array<double, 3> harmonic_phase{};
  double nipple_height = 0;  // pixels
  double nipple_width = 0;   // radians

  // Radius of the skin at polar angle `phi` (0 along +x, positive toward higher rows).
  double Radius(double phi) const {
    const double p = phi - tilt;
    const double b = p < 0 ? upper : lower;
    const double c = std::cos(p), s = std::sin(p);
    double r = depth * b / std::sqrt(b * b * c * c + depth * depth * s * s);
    double wobble = 1;
    for (int k = 0; k < 3; ++k) {
      wobble += harmonic_amplitude[k] * std::cos((k + 2) * p + harmonic_phase[k]);
    }
    r *= wobble;
    if (nipple_height > 0) r += nipple_height * std::exp(-(p * p) / (nipple_width * nipple_width));
    return r;
  }
};

Outline DrawOutline(int width, int height, View view, double scale, Random& random) {
  Outline o;
  o.depth = random.Uniform(0.58, 0.88) * width;
  if (view == View::kCranioCaudal) {
    o.center_y = random.Uniform(0.44, 0.56) * height;
    o.upper = random.Uniform(0.33, 0.45) * height;
    o.lower = o.upper * random.Uniform(0.9, 1.1);
    o.upper = std::min(o.upper, o.center_y - 0.03 * height);
    o.lower = std::min(o.lower, height - o.center_y - 0.03 * height);
    o.tilt = random.Uniform(-0.06, 0.06);
  } else {
    // The oblique view takes in the axillary tail: the upper half reaches past the top
    // of the image along the chest wall, and the breast hangs a little downward.
    o.center_y = random.Uniform(0.52, 0.64) * height;
    o.upper = random.Uniform(0.72, 0.95) * height;
    o.lower = random.Uniform(0.27, 0.37) * height;
    o.lower = std::min(o.lower, height - o.center_y - 0.02 * height);
    o.tilt = random.Uniform(0.0, 0.15);
  }
  for (int k = 0; k < 3; ++k) {
    o.harmonic_amplitude[k] = random.Uniform(-0.035, 0.035) / std::sqrt(k + 1.0);
    o.harmonic_phase[k] = random.Uniform(0, 2 * kPi);
  }
  if (random.Bernoulli(0.7)) {
    o.nipple_height = random.Uniform(1.5, 4.0) * scale;
    o.nipple_width = random.Uniform(5.0, 9.0) * scale / o.depth;
  }
  return o;
}

// The pectoral muscle: on oblique views a curved triangle in the upper corner at the
// chest wall, and on some cranio-caudal views a thin crescent at the chest wall.
struct Pectoral {
  bool present = false;
  bool oblique = false;
  double width = 0;     // along the top edge (oblique) or the semi-axis across (CC)
  double height = 0;    // along the chest wall (oblique) or the semi-axis along (CC)
  double exponent = 1;  // edge curvature of the oblique triangle: <1 concave, >1 convex
  double center_y = 0;  // CC crescent centre row

  // Level function at pixel centre (x, y): 1 deep inside (at the corner or centre),
  // 0 on the muscle's edge, negative outside.
  double Level(double x, double y) const {
    if (!present) return -1;
    if (oblique) return 1 - std::pow(x / width, exponent) - std::pow(y / height, exponent);
    const double u = x / width, v = (y - center_y) / height;
    return 1 - (u * u + v * v);
  }

  // Soft coverage at pixel centre (x, y), blurred over about one pixel.
  double Coverage(double x, double y) const {
    if (!present) return 0;
    const double gradient = oblique ? exponent * std::hypot(1 / width, 1 / height) : 2 / width;
    return std::clamp(Level(x, y) / gradient + 0.5, 0.0, 1.0);
  }
};

Pectoral DrawPectoral(int width, int height, View view, Random& random) {
  Pectoral p;
  if (view == View::kMediolateralOblique) {
    p.present = true;
    p.oblique = true;
    p.width = random.Uniform(0.20, 0.42) * width;
    p.height = random.Uniform(0.50, 0.95) * height;
    p.exponent = random.Uniform(0.8, 1.25);
  } else if (random.Bernoulli(0.3)) {
    p.present = true;
    p.width = random.Uniform(0.025, 0.07) * width;
    p.height = random.Uniform(0.12, 0.22) * height;
    p.center_y = random.Uniform(0.4, 0.6) * height;
  }
  return p;
}

// Noise smeared along a direction field by line integral convolution: each pixel
// averages smooth noise of scale `sigma` along the direction `direction(x, y)` over
// about +-`half_length` pixels. Coarse noise is computed on a grid of sigma/4 pixels
// and interpolated, which changes it little and saves most of the work. Standardised.
template <typename DirectionFn>
Raster StreakNoise(int width, int height, double sigma, double half_length, DirectionFn direction,
                   Random& random) {
  const double step = std::max(1.0, sigma / 4);
  const int grid_width = static_cast<int>(std::ceil(width / step)) + 1;
  const int grid_height = static_cast<int>(std::ceil(height / step)) + 1;
  const Raster base = SmoothNoise(grid_width, grid_height, sigma / step, random);
  constexpr int kTaps = 4;
  std::array<double, 2 * kTaps + 1> weights{};
  double total = 0;
  for (int k = -kTaps; k <= kTaps; ++k) {
    const double t = static_cast<double>(k) / kTaps;
    weights[k + kTaps] = std::exp(-2.0 * t * t);
    total += weights[k + kTaps];
  }
  Raster streaked(grid_width, grid_height);
  for (int gy = 0; gy < grid_height; ++gy) {
    for (int gx = 0; gx < grid_width; ++gx) {
      const auto [ux, uy] = direction(gx * step + 0.5, gy * step + 0.5);
      double acc = 0;
      for (int k = -kTaps; k <= kTaps; ++k) {
        const double t = half_length / step * k / kTaps;
        acc += weights[k + kTaps] * SampleBilinear(base, gx + t * ux, gy + t * uy);
      }
      streaked.at(gx, gy) = static_cast<float>(acc / total);
    }
  }
  Raster out(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      out.at(x, y) = SampleBilinear(streaked, x / step, y / step);
    }
  }
  Standardize(out);
  return out;
}

// Rescales `raster` to mean 0 and standard deviation 1 over the pixels where `mask` is
// set; the other pixels follow the same linear map.
void StandardizeOver(Raster& raster, const std::vector<uint8_t>& mask) {
  double sum = 0, sum_squares = 0;
  size_t n = 0;
  for (size_t i = 0; i < raster.values.size(); ++i) {
    if (!mask[i]) continue;
    sum += raster.values[i];
    sum_squares += static_cast<double>(raster.values[i]) * raster.values[i];
    ++n;
  }
  if (n < 2) return;
  const double mean = sum / n;
  const double sd = std::sqrt(std::max(1e-12, sum_squares / n - mean * mean));
  for (float& v : raster.values) v = static_cast<float>((v - mean) / sd);
}

// Draws vessels as tapering Gaussian-profile curves that start near the chest wall and
// wander toward the nipple, with the odd branch.
Raster DrawVessels(int width, int height, const std::vector<uint8_t>& inside, double nipple_x,
                   double nipple_y, double depth, double scale, Random& random) {
  Raster vessels(width, height);
  struct Walk {
    double x, y, heading, width, length;
    int generation;
  };
  std::vector<Walk> pending;
  const int count = random.UniformInt(2, 6);
  for (int i = 0; i < count; ++i) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      const double x = random.Uniform(0.0, 0.1) * depth;
      const double y = random.Uniform(0.05, 0.95) * height;
      if (!inside[Index(static_cast<int>(x), static_cast<int>(y), width)]) continue;
      const double heading = std::atan2(nipple_y - y, nipple_x - x) + random.Uniform(-0.35, 0.35);
      pending.push_back(
          {x, y, heading, random.Uniform(1.0, 2.2) * scale, random.Uniform(0.35, 0.85) * depth, 0});
      break;
    }
  }

  while (!pending.empty()) {
    Walk walk = pending.back();
    pending.pop_back();
    double curvature = 0;
    for (double travelled = 0; travelled < walk.length; travelled += 1.0) {
      // Random curvature, damped, with a weak pull toward the nipple.
      curvature = 0.97 * curvature + random.Normal() * 0.004;
      const double toward = std::atan2(nipple_y - walk.y, nipple_x - walk.x);
      walk.heading += curvature + 0.01 * std::remainder(toward - walk.heading, 2 * kPi);
      walk.x += std::cos(walk.heading);
      walk.y += std::sin(walk.heading);
      const int cx = static_cast<int>(walk.x), cy = static_cast<int>(walk.y);
      if (cx < 0 || cy < 0 || cx >= width || cy >= height || !inside[Index(cx, cy, width)]) break;

      const double w = walk.width * (1 - 0.5 * travelled / walk.length);
      const int reach = static_cast<int>(std::ceil(3 * w));
      for (int y = std::max(0, cy - reach); y <= std::min(height - 1, cy + reach); ++y) {
        for (int x = std::max(0, cx - reach); x <= std::min(width - 1, cx + reach); ++x) {
          const double dx = x + 0.5 - walk.x, dy = y + 0.5 - walk.y;
          const float v = static_cast<float>(std::exp(-0.5 * (dx * dx + dy * dy) / (w * w)));
          vessels.at(x, y) = std::max(vessels.at(x, y), v);
        }
      }
      if (walk.generation < 2 && random.Bernoulli(0.004)) {
        const double side = random.Bernoulli(0.5) ? 1 : -1;
        pending.push_back({walk.x, walk.y, walk.heading + side * random.Uniform(0.3, 0.7), 0.7 * w,
                           (walk.length - travelled) * random.Uniform(0.3, 0.7),
                           walk.generation + 1});
      }
    }
  }
  return vessels;
}

}  // namespace

BreastAnatomy SimulateAnatomy(int width, int height, View view, double target_dense_fraction,
                              Random& random) {
  // Lengths are drawn for a 416-pixel short side and scaled to the actual size.
  const double scale = std::min(width, height) / 416.0;
  const size_t pixel_count = static_cast<size_t>(width) * height;

  BreastAnatomy a;
  a.width = width;
  a.height = height;
  a.labels.assign(pixel_count, static_cast<uint8_t>(TissueLabel::kBackground));
  a.coverage = Raster(width, height);
  a.muscle = Raster(width, height);
  a.muscle_depth = Raster(width, height);

  // Outline, normalised radius (0 at the chest wall, 1 at the skin) and muscle.
  const Outline outline = DrawOutline(width, height, view, scale, random);
  const Pectoral pectoral = DrawPectoral(width, height, view, random);
  Raster radial_position(width, height);
  std::vector<uint8_t> inside(pixel_count, 0);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double dx = x + 0.5, dy = y + 0.5 - outline.center_y;
      const double rho = std::hypot(dx, dy);
      const double radius = outline.Radius(std::atan2(dy, dx));
      const size_t i = Index(x, y, width);
      a.coverage.values[i] = static_cast<float>(std::clamp(radius - rho + 0.5, 0.0, 1.0));
      radial_position.values[i] = static_cast<float>(rho / radius);
      if (rho >= radius) continue;
      inside[i] = 1;
      a.muscle.values[i] = static_cast<float>(pectoral.Coverage(x + 0.5, y + 0.5));
      a.muscle_depth.values[i] =
          static_cast<float>(std::clamp(pectoral.Level(x + 0.5, y + 0.5), 0.0, 1.0));
      a.labels[i] = static_cast<uint8_t>(a.muscle.values[i] >= 0.5f ? TissueLabel::kPectoralMuscle
                                                                    : TissueLabel::kFatty);
    }
  }
  std::vector<uint8_t> breast(pixel_count, 0);
  size_t breast_count = 0;
  for (size_t i = 0; i < pixel_count; ++i) {
    breast[i] = a.labels[i] == static_cast<uint8_t>(TissueLabel::kFatty);
    breast_count += breast[i];
  }

  // Path length falls toward the skin where the breast leaves the compression paddle
  // (a circular edge profile), and the skin line sits just inside the outline.
  const Raster skin_distance = DistanceToOutside(inside, width, height);
  const double falloff = random.Uniform(0.08, 0.16) * outline.depth;
  const double skin_thickness = random.Uniform(1.0, 2.2) * scale;
  const double subcutaneous_fat = random.Uniform(0.03, 0.07) * outline.depth;
  a.path_length = Raster(width, height);
  a.skin = Raster(width, height);
  for (size_t i = 0; i < pixel_count; ++i) {
    if (!inside[i]) continue;
    const double d = skin_distance.values[i];
    const double u = std::min(d / falloff, 1.0);
    a.path_length.values[i] = static_cast<float>(std::sqrt(1 - (1 - u) * (1 - u)));
    const double s = (d - 0.5 * skin_thickness) / (0.7 * skin_thickness);
    a.skin.values[i] = static_cast<float>(std::exp(-s * s));
  }

  // Fibroglandular tissue: octaves of smooth noise streaked toward the nipple (ducts
  // converge on it), plus a prior that puts tissue in the central and retroareolar
  // breast, away from the subcutaneous and retromammary fat.
  const double nipple_radius = outline.Radius(outline.tilt);
  const double nipple_x = nipple_radius * std::cos(outline.tilt);
  const double nipple_y = outline.center_y + nipple_radius * std::sin(outline.tilt);
  auto toward_nipple = [&](double x, double y) {
    const double dx = nipple_x - x, dy = nipple_y - y;
    const double length = std::max(1e-6, std::hypot(dx, dy));
    return std::pair<double, double>(dx / length, dy / length);
  };
  const double spectral_slope = random.Uniform(0.2, 0.7);
  const double elongation = random.Uniform(2.5, 5.0);
  Raster field(width, height);
  for (double sigma : {2.0, 4.0, 8.0, 16.0, 32.0}) {
    const double s = sigma * scale;
    const double weight = std::pow(sigma, spectral_slope);
    const Raster octave = StreakNoise(width, height, s, elongation * s, toward_nipple, random);
    for (size_t i = 0; i < pixel_count; ++i) {
      field.values[i] += static_cast<float>(weight * octave.values[i]);
    }
  }
  StandardizeOver(field, breast);

  const double angular_width = random.Uniform(0.55, 0.95);
  const double upper_widening = view == View::kMediolateralOblique ? 1.4 : 1.1;
  Raster prior(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const size_t i = Index(x, y, width);
      if (!inside[i]) continue;
      const double phi = std::atan2(y + 0.5 - outline.center_y, x + 0.5) - outline.tilt;
      const double w = angular_width * (phi < 0 ? upper_widening : 1.0);
      const double central = std::exp(-0.5 * (phi / w) * (phi / w));
      const double r = radial_position.values[i];
      const double depth_profile = SmoothStep(0.0, 0.35, r) * (1 - 0.6 * SmoothStep(0.85, 1.0, r));
      const double under_skin = SmoothStep(0.0, subcutaneous_fat, skin_distance.values[i]);
      prior.values[i] = static_cast<float>(central * depth_profile * under_skin);
    }
  }
  StandardizeOver(prior, breast);
  const double prior_strength = random.Uniform(0.7, 1.5);
  for (size_t i = 0; i < pixel_count; ++i) {
    field.values[i] += static_cast<float>(prior_strength * prior.values[i]);
  }

  // The dense label is the field above the quantile that leaves the target fraction
  // of the breast above it.
  std::vector<float> breast_values;
  breast_values.reserve(breast_count);
  for (size_t i = 0; i < pixel_count; ++i) {
    if (breast[i]) breast_values.push_back(field.values[i]);
  }
  const float threshold = Quantile(breast_values, 1.0 - target_dense_fraction);
  // The rendered amount rises over a soft edge at the threshold and keeps rising a
  // little further in, where the tissue is thicker.
  const double softness = random.Uniform(0.15, 0.35);
  a.glandular = Raster(width, height);
  size_t dense_count = 0;
  for (size_t i = 0; i < pixel_count; ++i) {
    if (!inside[i]) continue;
    const double excess = field.values[i] - threshold;
    const double edge = 1 / (1 + std::exp(-excess / softness));
    const double core = 1 / (1 + std::exp(-(excess - 0.5) / 0.5));
    a.glandular.values[i] = static_cast<float>(0.7 * edge + 0.3 * core);
    if (breast[i] && field.values[i] > threshold) {
      a.labels[i] = static_cast<uint8_t>(TissueLabel::kDense);
      ++dense_count;
    }
  }
  a.dense_fraction = breast_count > 0 ? static_cast<double>(dense_count) / breast_count : 0;
  a.breast_area_fraction = static_cast<double>(breast_count) / pixel_count;

  // Fine fibrous strands inside the tissue, and lobules in the fat.
  a.gland_texture = StreakNoise(width, height, 2.5 * scale, 8.0 * scale, toward_nipple, random);
  a.fat_texture = SmoothNoise(width, height, 8.0 * scale, random);

  // Cooper's ligaments: thin ridges along the zero crossings of smooth noise streaked
  // across the nipple direction, so that they arc roughly parallel to the skin, strongest
  // in the anterior fat.
  const double ligament_sigma = random.Uniform(8.0, 14.0) * scale;
  const double ridge_width = random.Uniform(0.05, 0.10);
  const Raster ligament_noise = StreakNoise(
      width, height, ligament_sigma, 3.0 * ligament_sigma,
      [&](double x, double y) {
        const auto [ux, uy] = toward_nipple(x, y);
        return std::pair<double, double>(-uy, ux);
      },
      random);
  a.ligaments = Raster(width, height);
  for (size_t i = 0; i < pixel_count; ++i) {
    if (!inside[i]) continue;
    const double n = ligament_noise.values[i] / ridge_width;
    a.ligaments.values[i] =
        static_cast<float>(std::exp(-n * n) * SmoothStep(0.35, 0.75, radial_position.values[i]));
  }

  a.vessels = DrawVessels(width, height, inside, nipple_x, nipple_y, outline.depth, scale, random);

  // Muscle fibres run along the muscle, from the axilla down the chest wall.
  if (!pectoral.present) return a;
  const double fibre_angle = std::atan2(pectoral.height, -pectoral.width);
  const double fibre_x = std::cos(fibre_angle), fibre_y = std::sin(fibre_angle);
  a.muscle_texture = StreakNoise(
      width, height, 4.0 * scale, 20.0 * scale,
      [&](double, double) { return std::pair<double, double>(fibre_x, fibre_y); }, random);
  return a;
}

}  // namespace ailab::synth::internal
