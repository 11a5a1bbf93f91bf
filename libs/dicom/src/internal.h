// Internals of the DICOM adapter shared by its source files; DCMTK types allowed.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ailab/dicom/dicom.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"

namespace ailab::dicom {

struct DicomObject::Impl {
  DcmFileFormat file;
  DicomHeader header;
  std::string source;
  ParseLimits limits;

  DcmDataset& dataset() { return *file.getDataset(); }
};

namespace internal {

// Registers DCMTK's decoders, silences DCMTK's own logging (its messages can quote
// attribute values) and checks that the data dictionary is loaded. Idempotent and
// thread-safe.
absl::Status InitializeDcmtk();

// INVALID_ARGUMENT with `reason`, the message prefixed by the source name.
absl::Status BadDicom(absl::string_view source, absl::string_view reason,
                      absl::string_view message);

// True when `bytes` starts like DICOM: the Part 10 preamble ("DICM" at byte 128), or an
// element of group 0002 to 0008 at one of the first 4 offsets.
bool LooksLikeDicomStart(absl::string_view bytes);

// Walks the element headers of `bytes` (without DCMTK, iteratively, skipping values)
// and rejects sequences nested deeper than `limits.max_nesting_depth`
// (DICOM_NESTING_TOO_DEEP) and a deflated data set that inflates beyond
// `limits.max_inflated_bytes` (DICOM_TOO_LARGE). Faults of other kinds are left to
// DCMTK: the walk stops there without an error.
absl::Status CheckStructure(absl::string_view bytes, absl::string_view source,
                            const ParseLimits& limits);

// Returns the whole value of `tag` in `item` (all values, backslash-separated),
// trimmed of padding; empty when absent.
std::string GetString(DcmItem* item, const DcmTagKey& tag);

// Returns item `index` of the sequence `tag` in `item`, or null.
DcmItem* GetSequenceItem(DcmItem* item, const DcmTagKey& tag, unsigned long index = 0);

// Reads the header fields of `impl.dataset()` into `impl.header` and checks the image
// pixel module against the limits.
absl::Status RefreshHeader(DicomObject::Impl& impl);

// Returns the attribute `tag` for frame `frame` from the functional groups of an
// enhanced object: the per-frame item of `sequence` first, then the shared one.
// Returns null when neither has it.
DcmItem* FindFunctionalGroup(DcmItem* dataset, int frame, const DcmTagKey& sequence);

// The fragments (items of the pixel sequence, 1-based as DCMTK counts them with the
// offset table as item 0) that make up each frame of encapsulated pixel data.
struct FrameFragments {
  std::vector<unsigned long> items;
};

// Maps the fragments of `pixel_sequence` to `frames` frames. The Basic Offset Table
// decides when it has one entry per frame. Otherwise each fragment is a frame when the
// counts match, a single frame takes all fragments, and else a frame starts at each
// start marker of a JPEG, JPEG-LS or JPEG 2000 code stream.
absl::StatusOr<std::vector<FrameFragments>> MapFragments(DcmPixelSequence* pixel_sequence,
                                                         int frames, absl::string_view source);

// Returns the pixel sequence of the encapsulated Pixel Data of `impl`, or null with
// `status` set to the reason.
DcmPixelSequence* GetPixelSequence(DicomObject::Impl& impl, absl::Status* status);

// Returns the concatenated bytes of `fragments`.
absl::StatusOr<std::string> JoinFragments(DcmPixelSequence* pixel_sequence,
                                          const FrameFragments& fragments);

// Writes `file` as a Part 10 file (or a bare data set for EWM_dataset) in `xfer`.
// `source` names the object in errors.
absl::StatusOr<std::string> WriteWithDcmtk(DcmFileFormat& file, E_TransferSyntax xfer,
                                           E_FileWriteMode mode, const std::string& source);

// True for the JPEG 2000 and HTJ2K transfer syntaxes, which OpenJPEG decodes.
bool IsJpeg2000(absl::string_view transfer_syntax_uid);

// Decodes one JPEG 2000 (or HTJ2K) code stream or JP2 file into float samples,
// interleaved when there are several components.
struct Jpeg2000Image {
  int width = 0;
  int height = 0;
  int components = 0;
  int precision = 0;
  bool is_signed = false;
  // Samples interleaved by pixel, as float: exact for the up to 16 bits of DICOM data.
  std::vector<float> samples;
};
absl::StatusOr<Jpeg2000Image> DecodeJpeg2000(absl::string_view code_stream,
                                             absl::string_view source, int64_t max_bytes);

}  // namespace internal
}  // namespace ailab::dicom
