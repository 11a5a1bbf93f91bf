// Synthetic mammograms (libs/synth) as training examples for the quality test and the
// training benchmarks. Each image is drawn and mapped to display values through its
// window and photometric interpretation. It is flipped so the chest wall is on the
// left, scaled so its longer side fills the square, padded with 0 and written as a
// float32 .npy file. These are the steps of the ingest service's array preparation
// (dicom::PrepareArrayFromDisplay), without the DICOM round trip.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ailab/imaging/npy.h"
#include "ailab/imaging/resize.h"
#include "ailab/status/status.h"
#include "ailab/synth/mammogram.h"
#include "ailab/synth/random.h"
#include "ailab/torch/trainer.h"

namespace ailab::torch::testing {

struct SynthExampleOptions {
  // Folder for the .npy files, which must exist.
  std::string dir;
  // File name prefix, such as "train".
  std::string prefix = "synth";
  int count = 100;
  uint64_t seed = 1;
  // Side of the prepared square array.
  int image_size = 128;
  // Size of the drawn mammogram before reduction.
  int rows = 512;
  int columns = 416;
  // Relative frequency of categories A..D (as the dataset generator's default).
  std::array<double, synth::kDensityCategoryCount> category_weights = {0.1, 0.4, 0.4, 0.1};
  // MammogramParams::variability.
  double variability = 1.0;
  // Share of labels replaced by a neighbouring category, as a reader's mistakes.
  double label_error_rate = 0.0;
};

// Draws the category of one image from `weights`.
inline synth::DensityCategory DrawCategory(
    synth::Random& random, const std::array<double, synth::kDensityCategoryCount>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  double draw = random.Uniform() * total;
  for (int c = 0; c < synth::kDensityCategoryCount; ++c) {
    if (draw < weights[c]) return static_cast<synth::DensityCategory>(c);
    draw -= weights[c];
  }
  return static_cast<synth::DensityCategory>(synth::kDensityCategoryCount - 1);
}

// The prepared array of `image`: display values, chest wall on the left, longer side
// scaled to `size`, anchored top left.
inline absl::StatusOr<std::vector<float>> PrepareSynthetic(const synth::SyntheticImage& image,
                                                           int size) {
  std::vector<float> display(image.pixels.size());
  const bool flip = image.laterality == synth::Laterality::kRight;
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.columns; ++x) {
      int source_x = flip ? image.columns - 1 - x : x;
      size_t source = static_cast<size_t>(y) * image.columns + source_x;
      display[static_cast<size_t>(y) * image.columns + x] =
          static_cast<float>(synth::DisplayValue(image, image.pixels[source]));
    }
  }
  AILAB_ASSIGN_OR_RETURN(imaging::ResizeResult resized,
                         imaging::ResizeKeepAspect(display, image.rows, image.columns, size,
                                                   imaging::Anchor::kTopLeft));
  return std::move(resized.pixels);
}

// Writes `options.count` examples; each example's label is its true category, or with
// probability label_error_rate a neighbouring one.
inline absl::StatusOr<std::vector<Example>> WriteSynthExamples(const SynthExampleOptions& options) {
  synth::Random random(options.seed);
  std::vector<Example> examples;
  for (int i = 0; i < options.count; ++i) {
    synth::Random item = random.Fork(static_cast<uint64_t>(i));
    synth::MammogramParams params;
    params.rows = options.rows;
    params.columns = options.columns;
    params.variability = options.variability;
    params.category = DrawCategory(item, options.category_weights);
    AILAB_ASSIGN_OR_RETURN(synth::SyntheticImage image, synth::GenerateMammogram(params, item));
    AILAB_ASSIGN_OR_RETURN(std::vector<float> pixels,
                           PrepareSynthetic(image, options.image_size));
    AILAB_ASSIGN_OR_RETURN(imaging::Array array,
                           imaging::Array::FromFloat({options.image_size, options.image_size},
                                                     pixels));
    std::string path =
        (std::filesystem::path(options.dir) / absl::StrCat(options.prefix, "_", i, ".npy"))
            .string();
    AILAB_RETURN_IF_ERROR(imaging::WriteNpy(path, array));
    int label = static_cast<int>(image.category);
    if (options.label_error_rate > 0 && item.Bernoulli(options.label_error_rate)) {
      int step = item.Bernoulli(0.5) ? 1 : -1;
      if (label + step < 0 || label + step >= synth::kDensityCategoryCount) step = -step;
      label += step;
    }
    examples.push_back({path, label, absl::StrCat("synth/", options.prefix, "/", i)});
  }
  return examples;
}

}  // namespace ailab::torch::testing
