// DICOM adapter: parsing of DICOM files and access to their header fields.
//
// This library is the only place that includes DCMTK; its headers expose no DCMTK
// type. ParseDicom() reads a Part 10 file (or a bare data set without preamble and
// file meta information) from memory into a DicomObject, checks the header fields the
// platform depends on and rejects hostile sizes before any pixel buffer is
// allocated. Pixel access is in pixels.h, de-identification in deidentify.h.
//
// Errors are INVALID_ARGUMENT with a reason such as INVALID_DICOM or
// PIXEL_DATA_TRUNCATED and a message that starts with the source name (the uploaded
// file name), so a client can tell which file of a batch failed and why. Messages
// never contain patient names, patient ids or UIDs.
//
// A DicomObject is not thread-safe: use one object from one thread at a time.
// Different objects may be used from different threads concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ailab::dicom {

// Bounds that protect the parser and the decoders from hostile headers.
struct ParseLimits {
  // Largest file accepted, in bytes.
  int64_t max_file_bytes = int64_t{2} * 1024 * 1024 * 1024;
  // Largest Rows and Columns (each).
  int max_extent = 32768;
  // Largest Number of Frames.
  int max_frames = 10000;
  // Largest decoded frame: rows * columns * samples per pixel * bytes per sample.
  int64_t max_frame_bytes = int64_t{1} << 30;
  // Maximum nesting of sequences, in levels. Images nest a few levels (the code
  // sequences in an enhanced image's functional groups are about 4 deep) and structured
  // reports about 10 (an estimate), so 32 leaves a wide margin. DCMTK parses each level
  // with a recursive call, and deeper nesting could overflow the stack. Deeper files
  // are rejected with DICOM_NESTING_TOO_DEEP.
  int max_nesting_depth = 32;
  // Maximum size of a deflated data set after inflation, in bytes (512 MiB). The limit
  // is absolute, not a multiple of the file size, because deflate shrinks blank images
  // by a factor of 1000 or more. Larger data sets are rejected with DICOM_TOO_LARGE.
  int64_t max_inflated_bytes = int64_t{512} * 1024 * 1024;
};

// Header fields of one instance. Text fields hold the values as stored, trimmed of
// padding; an absent attribute is an empty string or 0.
struct DicomHeader {
  std::string sop_class_uid;
  std::string sop_instance_uid;
  std::string study_instance_uid;
  std::string series_instance_uid;

  // Protected health information: for de-identification only. Never log these.
  std::string patient_id;
  std::string patient_name;
  std::string patient_birth_date;

  // Study Date as stored (YYYYMMDD), and as YYYY-MM-DD when it is a valid date.
  std::string study_date;
  std::string study_date_iso;
  std::string modality;
  // Body Part Examined, or the meaning of the Anatomic Region Sequence, upper case.
  std::string body_part;
  // "L", "R", "B" (both) or "U" (unpaired) from Image Laterality, else Laterality,
  // else Frame Laterality of the shared functional groups; empty when absent.
  std::string laterality;
  // View Position (for example "MLO", "CC"), else the abbreviation of the View Code
  // Sequence's meaning; empty when absent.
  std::string view;
  // Patient Orientation: directions of the rows then the columns, for example "A\FR".
  std::string patient_orientation;
  std::string manufacturer;
  std::string model;
  // Physical distance between the centres of adjacent pixels in mm: rows (vertical)
  // then columns (horizontal); 0 when unknown.
  double pixel_spacing_row_mm = 0;
  double pixel_spacing_column_mm = 0;
  // Attribute the spacing came from: "PixelSpacing", "ImagerPixelSpacing",
  // "PixelMeasuresSequence" or empty.
  std::string pixel_spacing_source;
  // Presentation Intent Type: "FOR PRESENTATION", "FOR PROCESSING" or empty.
  std::string presentation_intent;
  // Burned In Annotation: "YES", "NO" or empty when absent.
  std::string burned_in_annotation;

  // Image pixel module. All 0 when the object has no Pixel Data.
  int rows = 0;
  int columns = 0;
  int frames = 0;
  int samples_per_pixel = 0;
  int bits_allocated = 0;
  int bits_stored = 0;
  int high_bit = 0;
  // 0 unsigned, 1 two's complement.
  int pixel_representation = 0;
  int planar_configuration = 0;
  std::string photometric_interpretation;
  bool has_pixel_data = false;

  // Transfer syntax of the data set: UID and DCMTK's name for it.
  std::string transfer_syntax_uid;
  std::string transfer_syntax_name;
  // True when the pixel data is compressed (encapsulated).
  bool encapsulated = false;

  // Deviations from the standard that parsing tolerated, for the upload report.
  std::vector<std::string> parse_warnings;
};

// One parsed DICOM instance, owning its data set.
class DicomObject {
 public:
  DicomObject(DicomObject&&) noexcept;
  DicomObject& operator=(DicomObject&&) noexcept;
  ~DicomObject();

  // Header fields, kept current after DeidentifyInPlace().
  const DicomHeader& header() const;

  // Name of the input, for example the uploaded file name; used in error messages.
  const std::string& source() const;

  // Limits the object was parsed with; the decoders apply them too.
  const ParseLimits& limits() const;

  // Serialises the object as a Part 10 file in its own transfer syntax, with file meta
  // information updated to match the data set.
  absl::StatusOr<std::string> Serialize() const;

  // Returns the text value of the attribute (group, element) at the top level of the
  // data set, trimmed; empty when absent. For tests and diagnostics.
  std::string GetString(uint16_t group, uint16_t element) const;

  // Returns true when the attribute (group, element) is present anywhere in the data
  // set, including inside sequences.
  bool Contains(uint16_t group, uint16_t element) const;

  // Implementation, defined inside the library.
  struct Impl;
  Impl& impl() const { return *impl_; }
  explicit DicomObject(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Parses the DICOM file in `bytes`. `source` names it in error messages (the upload's
// file name). Checks that the object has a SOP Instance UID and, when it has Pixel
// Data, a consistent image pixel module within `limits` whose pixel data is complete.
absl::StatusOr<DicomObject> ParseDicom(absl::string_view bytes, absl::string_view source,
                                       const ParseLimits& limits = {});

// Checks that the pixel data of `object` is complete. Native data must be at least as
// long as the header declares. Compressed data needs one complete code stream per
// frame: JPEG, JPEG-LS and JPEG 2000 streams end with their end marker, and RLE
// segments decode to a full frame. ParseDicom() calls this check.
absl::Status ValidatePixelData(const DicomObject& object);

// Returns true when the transfer syntax `uid` can be decoded by this library.
bool IsTransferSyntaxSupported(absl::string_view uid);

}  // namespace ailab::dicom
