// From simulated anatomy to stored pixel values: attenuation contrast, peripheral
// equalisation, quantum noise, the display curve, detector offset and gain, and the
// VOI window a vendor would send.
#pragma once

#include <cstdint>
#include <vector>

#include "ailab/synth/random.h"
#include "src/anatomy.h"

namespace ailab::synth::internal {

// MONOCHROME2 stored values in the anatomy's orientation (bright = attenuating).
struct PresentationImage {
  std::vector<uint16_t> pixels;
  double window_center = 0;
  double window_width = 1;
};

// Renders `anatomy` with `bits_stored` bits per pixel. `relative_thickness` is the
// compressed thickness over 50 mm; thicker breasts show more tissue contrast.
// `variability` (0 to 1) scales the processing variation that hides the density from
// brightness statistics: unevenness, flattening, gamma and window jitter.
PresentationImage RenderPresentation(const BreastAnatomy& anatomy, int bits_stored,
                                     double relative_thickness, double variability, Random& random);

}  // namespace ailab::synth::internal
