// Turns the image of a Predict request into a model input: size x size float values
// in 0..1 (1 is white), row-major.
//
// DICOM files go through ailab::dicom::PrepareArray(), the code that prepares the
// training arrays, with its default options at the model's size. PNG images are
// decoded to grayscale, scaled to 0..1 and fitted into the square keeping their
// aspect ratio (centred, padded with 0). Prepared .npy arrays are used as they are
// when they have the model's size, and resized otherwise.
//
// All functions are thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ailab::inference {

// A model input and what the image's header says about it.
struct PreparedImage {
  // size * size values in 0..1.
  std::vector<float> pixels;
  // Study date from the DICOM header, YYYY-MM-DD; empty when unknown.
  std::string study_date;
  // Modality from the DICOM header, for example "MG"; empty for PNG and arrays.
  std::string modality;
  // Body Part Examined from the DICOM header, for example "BREAST"; empty when absent.
  std::string body_part;
};

// Returns whether a model of a use case for `use_case_modality` images (a DICOM
// Modality code such as "MG") may read an image whose header has `modality` and
// `body_part`. Equal codes fit. Projection radiographs arrive under several codes (DX,
// CR, and RG for film and its secondary captures), so those fit each other. A mammogram
// sent as DX, CR or RG fits an MG use case when its body part is BREAST.
bool ImageFitsUseCase(absl::string_view use_case_modality, absl::string_view modality,
                      absl::string_view body_part);

// Prepares a DICOM Part 10 file. `source` names it in error messages. INVALID_ARGUMENT
// when it is not a readable DICOM image.
absl::StatusOr<PreparedImage> PrepareDicom(absl::string_view bytes, absl::string_view source,
                                           int size);

// Prepares a PNG image. INVALID_ARGUMENT when it is not a readable PNG.
absl::StatusOr<PreparedImage> PreparePng(absl::string_view bytes, absl::string_view source,
                                         int size);

// Prepares a .npy array of shape {rows, columns} or {1, rows, columns}: float32 values
// are taken as 0..1, uint16 and uint8 values are divided by 65535 and 255.
// INVALID_ARGUMENT for another shape or a file that is not a supported .npy.
absl::StatusOr<PreparedImage> PrepareNpy(absl::string_view bytes, absl::string_view source,
                                         int size);

}  // namespace ailab::inference
