// The simulated breast, before any detector or display processing.
//
// Maps are in canonical orientation: the chest wall runs along column 0 and the
// nipple points toward higher columns, which is how a left breast is displayed. The
// caller mirrors them for a right breast.
#pragma once

#include <cstdint>
#include <vector>

#include "ailab/synth/mammogram.h"
#include "ailab/synth/random.h"
#include "src/raster.h"

namespace ailab::synth::internal {

struct BreastAnatomy {
  int width = 0;
  int height = 0;
  // TissueLabel per pixel.
  std::vector<uint8_t> labels;
  // Anti-aliased breast outline, 1 inside, 0 outside.
  Raster coverage;
  // Relative X-ray path length through the compressed breast: 1 where the breast is
  // in contact with both paddles, falling toward the skin where it is not.
  Raster path_length;
  // Weight of the skin line, 0..1.
  Raster skin;
  // Fibroglandular amount, 0..1: a soft version of the dense label (0.5 on its border).
  Raster glandular;
  // Standardised noise for texture inside the glandular tissue and the fat.
  Raster gland_texture;
  Raster fat_texture;
  // Cooper's ligaments and vessels, 0..1.
  Raster ligaments;
  Raster vessels;
  // Soft pectoral muscle, 0..1, its depth (0 on its edge, 1 at the chest wall corner)
  // and the fibre texture inside it (empty without muscle).
  Raster muscle;
  Raster muscle_depth;
  Raster muscle_texture;
  // Dense pixels over breast pixels (fatty + dense, muscle excluded).
  double dense_fraction = 0;
  // Breast pixels over all pixels.
  double breast_area_fraction = 0;
};

// Draws a breast for `view` whose dense fraction is as close to `target_dense_fraction`
// as the pixel grid allows.
BreastAnatomy SimulateAnatomy(int width, int height, View view, double target_dense_fraction,
                              Random& random);

}  // namespace ailab::synth::internal
