// libFuzzer target: parses one input as a DICOM file and, when it parses, runs what
// the ingest service does with an upload. It decodes the first and the last frame,
// renders a PNG and a model-input array, and de-identifies, serialises and parses the
// result again. Errors are expected. Crashes, sanitizer reports and leaks are the
// failures.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ailab/dicom/deidentify.h"
#include "ailab/dicom/dicom.h"
#include "ailab/dicom/pixels.h"
#include "ailab/imaging/npy.h"
#include "ailab/imaging/png.h"

namespace {

// Tighter than the defaults so that one input cannot use gigabytes of memory. The
// limits are the parser's own, so the fuzzer also checks that they are enforced.
ailab::dicom::ParseLimits FuzzLimits() {
  ailab::dicom::ParseLimits limits;
  limits.max_file_bytes = 8 << 20;
  limits.max_extent = 4096;
  limits.max_frames = 64;
  limits.max_frame_bytes = 64 << 20;
  return limits;
}

void PrepareFrame(const ailab::dicom::DicomObject& object, int frame_index) {
  auto frame = ailab::dicom::DecodeFrame(object, frame_index);
  if (!frame.ok()) return;
  auto display = ailab::dicom::ToDisplay(object, *frame);
  if (!display.ok()) return;
  ailab::dicom::Display8 rendering =
      ailab::dicom::ToDisplay8(*display, frame->rows, frame->columns);
  (void)ailab::imaging::EncodePng8(rendering.pixels, rendering.columns, rendering.rows, 1);
  ailab::dicom::PrepareOptions options;
  options.size = 32;
  auto prepared = ailab::dicom::PrepareArrayFromDisplay(object, std::move(*display), frame->rows,
                                                        frame->columns, options);
  if (prepared.ok()) (void)ailab::imaging::EncodeNpy(prepared->array);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto object = ailab::dicom::ParseDicom(bytes, "fuzz.dcm", FuzzLimits());
  if (!object.ok()) return 0;

  const ailab::dicom::DicomHeader& header = object->header();
  if (header.has_pixel_data) {
    PrepareFrame(*object, 0);
    if (header.frames > 1) PrepareFrame(*object, header.frames - 1);
  }

  ailab::dicom::DeidentifyOptions options;
  options.secret_key = "fuzzer-key-0123456789abcdef";
  if (!ailab::dicom::DeidentifyInPlace(*object, options).ok()) return 0;
  auto serialized = object->Serialize();
  if (serialized.ok()) (void)ailab::dicom::ParseDicom(*serialized, "fuzz-again.dcm", FuzzLimits());
  return 0;
}
