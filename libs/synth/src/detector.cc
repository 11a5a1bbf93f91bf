#include "src/detector.h"

#include <algorithm>
#include <cmath>

namespace ailab::synth::internal {

PresentationImage RenderPresentation(const BreastAnatomy& anatomy, int bits_stored,
                                     double relative_thickness, double variability,
                                     Random& random) {
  const int width = anatomy.width, height = anatomy.height;
  const size_t pixel_count = static_cast<size_t>(width) * height;

  // Contrast of each structure relative to fat (fat = 1), drawn per image.
  const double dense_contrast = random.Uniform(0.5, 1.1) * std::pow(relative_thickness, 0.25);
  const double gland_texture = random.Uniform(0.15, 0.30);
  const double fat_texture = random.Uniform(0.02, 0.06);
  const double ligament_contrast = random.Uniform(0.05, 0.18);
  const double vessel_contrast = random.Uniform(0.08, 0.25);
  const double skin_contrast = random.Uniform(0.15, 0.45);
  const double muscle_contrast =
      random.Uniform(0.7, 1.2) * dense_contrast + random.Uniform(0.05, 0.25);
  // Peripheral equalisation lifts the thin edge toward the interior level.
  const double equalisation = random.Uniform(0.35, 0.8);
  // Heel effect and processing leave a gentle gradient across the image, and uneven
  // compression and processing a smooth large-scale variation of brightness.
  const double gradient_x = random.Uniform(-0.08, 0.08);
  const double gradient_y = random.Uniform(-0.08, 0.08);
  const double scale = std::min(width, height) / 416.0;
  const Raster unevenness = SmoothNoise(width, height, random.Uniform(40, 90) * scale, random);
  const double unevenness_level = random.Uniform(0.25, 0.7) * dense_contrast * variability;

  // Log-domain signal, 0 in the background.
  std::vector<double> signal(pixel_count, 0.0);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const size_t i = static_cast<size_t>(y) * width + x;
      const double coverage = anatomy.coverage.values[i];
      if (coverage <= 0) continue;
      const double g = anatomy.glandular.values[i];
      double tissue = 1 + fat_texture * anatomy.fat_texture.values[i] +
                      dense_contrast * g * (1 + gland_texture * anatomy.gland_texture.values[i]) +
                      ligament_contrast * anatomy.ligaments.values[i] * (1 - g) +
                      vessel_contrast * anatomy.vessels.values[i] * (1 - 0.7 * g);
      const double m = anatomy.muscle.values[i];
      if (m > 0 && !anatomy.muscle_texture.values.empty()) {
        // The muscle is thicker toward the axilla, so brighter there.
        const double thickness = 0.7 + 0.3 * std::sqrt(anatomy.muscle_depth.values[i]);
        const double muscle =
            1 + muscle_contrast * thickness * (1 + 0.04 * anatomy.muscle_texture.values[i]);
        tissue = (1 - m) * tissue + m * muscle;
      }
      const double path = equalisation + (1 - equalisation) * anatomy.path_length.values[i];
      const double trend =
          1 + gradient_x * (x / double(width) - 0.5) + gradient_y * (y / double(height) - 0.5);
      tissue += unevenness_level * unevenness.values[i];
      signal[i] = coverage * (path * tissue + skin_contrast * anatomy.skin.values[i]) * trend;
    }
  }

  // Quantum noise: fewer photons pass attenuating tissue, so the log signal is noisier
  // there. The detector's blur correlates neighbouring pixels a little.
  Raster noise(width, height);
  FillNormal(noise, random);
  GaussianBlur(noise, 0.6, 0.6);
  Standardize(noise);
  const double noise_level = random.Uniform(0.02, 0.07) * dense_contrast;
  for (size_t i = 0; i < pixel_count; ++i) {
    const double s = signal[i];
    const double sd = s > 0 ? noise_level * std::exp(0.6 * (s - 1)) : 0.3 * noise_level;
    signal[i] = s + sd * noise.values[i];
  }

  // Vendor processing flattens the large-scale brightness inside the breast (thickness
  // equalisation, multi-scale contrast processing): each pixel loses part of its
  // neighbourhood's deviation from the breast's mean. The neighbourhood mean is a blur
  // normalised by the blurred coverage, so the dark background does not leak in.
  const double flattening = random.Uniform(0.2, 0.7) * variability;
  const double flattening_scale = random.Uniform(20.0, 45.0) * scale;
  {
    Raster weighted(width, height), weights(width, height);
    double sum = 0, count = 0;
    for (size_t i = 0; i < pixel_count; ++i) {
      const double c = anatomy.coverage.values[i];
      weighted.values[i] = static_cast<float>(c * signal[i]);
      weights.values[i] = static_cast<float>(c);
      sum += c * signal[i];
      count += c;
    }
    const double breast_mean = count > 0 ? sum / count : 0;
    const Raster local_sum = CoarseBlur(weighted, flattening_scale);
    const Raster local_weight = CoarseBlur(weights, flattening_scale);
    for (size_t i = 0; i < pixel_count; ++i) {
      const double c = anatomy.coverage.values[i];
      if (c <= 0 || local_weight.values[i] <= 1e-3) continue;
      const double local_mean = local_sum.values[i] / local_weight.values[i];
      signal[i] -= c * flattening * (local_mean - breast_mean);
    }
  }

  // Normalise to the brightest breast tissue, then the display curve.
  std::vector<float> breast_values;
  for (size_t i = 0; i < pixel_count; ++i) {
    if (anatomy.labels[i] != static_cast<uint8_t>(TissueLabel::kBackground)) {
      breast_values.push_back(static_cast<float>(signal[i]));
    }
  }
  const double reference = std::max(1e-6, static_cast<double>(Quantile(breast_values, 0.997)));
  const double gamma = 1 + (random.Uniform(0.6, 1.6) - 1) * variability;

  // Exposure and detector: random gain and offset over the stored range.
  const double max_value = std::ldexp(1.0, bits_stored) - 1;
  const double offset = random.Uniform(0.005, 0.06) * max_value;
  const double gain = random.Uniform(0.35, 0.85) * (max_value - offset);
  PresentationImage out;
  out.pixels.resize(pixel_count);
  std::vector<float> stored_breast;
  for (size_t i = 0; i < pixel_count; ++i) {
    const double normalised = std::max(0.0, signal[i]) / reference;
    const double value = offset + gain * std::pow(normalised, gamma);
    const double clamped = std::clamp(std::round(value), 0.0, max_value);
    out.pixels[i] = static_cast<uint16_t>(clamped);
    if (anatomy.labels[i] != static_cast<uint8_t>(TissueLabel::kBackground)) {
      stored_breast.push_back(static_cast<float>(clamped));
    }
  }

  // The window spans the breast's values, loosened or tightened a little, as vendors'
  // automatic windowing does.
  double lower = Quantile(stored_breast, 0.005);
  double upper = Quantile(stored_breast, 0.998);
  const double span = std::max(2.0, upper - lower);
  lower -= random.Uniform(-0.05, 0.12) * span * variability;
  upper += random.Uniform(-0.08, 0.10) * span * variability;
  out.window_width = std::max(2.0, std::round(upper - lower));
  out.window_center = std::round(0.5 * (upper + lower));
  return out;
}

}  // namespace ailab::synth::internal
