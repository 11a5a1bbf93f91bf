// Pixel decoding and rendering of DICOM images.
//
// DecodeFrame() returns one frame as float values in the modality's units (for CT,
// Hounsfield units): stored values are unpacked, sign-extended, then mapped through
// the Modality LUT Sequence or Rescale Slope and Intercept. Colour frames (RGB, YBR, and
// PALETTE COLOR through its Red, Green and Blue lookup tables) are reduced to luma.
// Segmented palettes give UNIMPLEMENTED with reason UNSUPPORTED_PALETTE. The value of a MONOCHROME1 frame grows towards black, and
// DecodedFrame::inverted records that.
//
// The display mapping (ToDisplay, RenderDisplay8, PrepareArray) then applies the VOI
// transformation that DisplayOptions selects: the file's Window Center and Width, its
// VOI LUT Sequence, the frame's minimum and maximum, or explicit values. It inverts
// MONOCHROME1, so 1 (or 255) is always white.
//
// Supported transfer syntaxes: implicit and explicit VR little endian, explicit VR big
// endian, deflated, RLE, JPEG baseline, extended, lossless (DCMTK's IJG codecs),
// JPEG-LS (DCMTK's CharLS) and JPEG 2000 including HTJ2K (OpenJPEG). Others give
// UNIMPLEMENTED with reason UNSUPPORTED_TRANSFER_SYNTAX.
//
// Thread-safety as for DicomObject.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ailab/dicom/dicom.h"
#include "ailab/imaging/npy.h"

namespace ailab::dicom {

// One decoded frame.
struct DecodedFrame {
  int rows = 0;
  int columns = 0;
  // rows * columns values in modality units, row-major.
  std::vector<float> values;
  float min_value = 0;
  float max_value = 0;
  // True for MONOCHROME1: larger values are darker.
  bool inverted = false;
  // True when the frame came from colour samples reduced to luma.
  bool from_color = false;
  // Largest value the stored bits can represent, 2^bits_stored - 1, for colour frames
  // and for unsigned data without a modality transformation; 2^bits - 1 of the lookup
  // tables for PALETTE COLOR; otherwise 0 (unknown).
  float nominal_max = 0;
};

// Source of the VOI (window) transformation.
enum class WindowSource {
  // The file's first window, else its first VOI LUT, else the frame's minimum and
  // maximum; colour frames use the full 0..nominal range.
  kAuto,
  // The file's Window Center and Width (window_index selects among several).
  kFileWindow,
  // The file's VOI LUT Sequence (window_index selects the LUT).
  kVoiLut,
  // The frame's minimum and maximum value.
  kMinMax,
  // DisplayOptions::center and ::width.
  kExplicit,
};

// Choice of the VOI transformation.
struct DisplayOptions {
  WindowSource source = WindowSource::kAuto;
  // Index of the window or VOI LUT when the file has several.
  int window_index = 0;
  // Window for kExplicit, in modality units; width must be >= 1.
  double center = 0;
  double width = 0;
};

// Parses a window preset name: "auto" (or empty), "file", "voi_lut", "minmax", or
// "CENTER/WIDTH" such as "40/400".
absl::StatusOr<DisplayOptions> ParseWindowPreset(absl::string_view preset);

// Decodes frame `frame` (0-based) of `object`. FAILED_PRECONDITION when the object has
// no Pixel Data, UNIMPLEMENTED for an unsupported transfer syntax or photometric
// interpretation, INVALID_ARGUMENT for corrupt data.
absl::StatusOr<DecodedFrame> DecodeFrame(const DicomObject& object, int frame = 0);

// Maps `frame` through the VOI transformation to 0..1 (1 is white).
absl::StatusOr<std::vector<float>> ToDisplay(const DicomObject& object, const DecodedFrame& frame,
                                             const DisplayOptions& options = {});

// An 8-bit grayscale rendering, ready for EncodePng8().
struct Display8 {
  int rows = 0;
  int columns = 0;
  std::vector<uint8_t> pixels;
};

// Renders frame `frame` of `object` for display.
absl::StatusOr<Display8> RenderDisplay8(const DicomObject& object, const DisplayOptions& options = {},
                                        int frame = 0);

// Options of PrepareArray().
struct PrepareOptions {
  // Side of the square output, in pixels.
  int size = 128;
  // Scale the longer side to `size` and pad the other with 0; when false the image is
  // stretched to size x size.
  bool keep_aspect = true;
  // For mammograms (modality MG, or body part BREAST), flip the image horizontally
  // when the chest wall is on the right, so that it is on the left of every image, and
  // anchor the padded image at the left edge. The side comes from Patient
  // Orientation (posterior towards the right), else from laterality (a right breast).
  bool normalize_laterality = true;
  DisplayOptions display;
  int frame = 0;
};

// Result of PrepareArray().
struct PreparedArray {
  // float32 array of shape {size, size}, values 0..1 (1 is white).
  imaging::Array array;
  // True when the image was flipped horizontally.
  bool flipped = false;
  // Output pixels per source pixel.
  double scale = 1;
};

// Prepares frame `options.frame` of `object` as a model input.
absl::StatusOr<PreparedArray> PrepareArray(const DicomObject& object,
                                           const PrepareOptions& options = {});

// Prepares a model input from a display image (ToDisplay() output, rows x columns) of
// `object`, so a caller that also renders a PNG decodes the frame once.
// `options.display` and `options.frame` are not used.
absl::StatusOr<PreparedArray> PrepareArrayFromDisplay(const DicomObject& object,
                                                      std::vector<float> display, int rows,
                                                      int columns, const PrepareOptions& options);

// Converts a display image (values 0..1) to 8 bits.
Display8 ToDisplay8(const std::vector<float>& display, int rows, int columns);

// Makes glibc keep freed memory in the heap for reuse, for a process that prepares
// images (the ingest service, the preparation benchmark). By default glibc maps each
// allocation above an adaptive threshold (128 KiB to 32 MiB) and unmaps it when freed,
// so each image faults in its decoded and rendered buffers again. Afterwards no
// allocation is mapped and up to 1 GiB of free memory stays in the heap, so resident
// memory stays near its peak. Process-wide and permanent. Returns false when glibc
// rejects a setting.
bool KeepImageMemoryInHeap();

}  // namespace ailab::dicom
