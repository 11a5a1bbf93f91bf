// Pixel decoding, modality and VOI transformations, display rendering and model input
// preparation. The transformations follow DICOM PS3.3 C.11 (Modality LUT, VOI LUT) and
// C.7.6.3 (Image Pixel Module).
#include "ailab/dicom/pixels.h"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ailab/imaging/resize.h"
#include "ailab/status/status.h"
#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "display_kernels.h"
#include "internal.h"

namespace ailab::dicom {
namespace {

using internal::BadDicom;
using internal::GetString;

// Stored sample values of one frame, before any transformation.
struct Samples {
  // Photometric interpretation of the samples (after decompression, which may have
  // converted YBR to RGB).
  std::string photometric;
  int samples_per_pixel = 1;
  // True when the samples are stored plane by plane (Planar Configuration 1).
  bool planar = false;
  std::vector<float> values;
};

std::string FirstValue(const std::string& value) { return value.substr(0, value.find('\\')); }

absl::Status Unsupported(absl::string_view source, absl::string_view reason,
                         absl::string_view message) {
  return MakeError(absl::StatusCode::kUnimplemented, reason, absl::StrCat(source, ": ", message),
                   {{"file", source}});
}

// Unpacks `count` samples of type T into stored values: the `bits_stored` bits ending
// at `high_bit`, sign-extended for signed data. One instance per sample size, so that
// each loop has no branch on the size and the compiler vectorises it.
template <typename T>
void UnpackSamples(const uint8_t* data, size_t count, const DicomHeader& h, float* out) {
  const int shift = h.high_bit + 1 - h.bits_stored;
  const uint32_t mask = static_cast<uint32_t>((uint64_t{1} << h.bits_stored) - 1);
  const uint32_t sign = uint32_t{1} << (h.bits_stored - 1);
  if (h.pixel_representation == 1) {
    // Sign extension by the usual identity, (v ^ sign) - sign, in a type wide enough
    // for 32-bit samples.
    using Wide = std::conditional_t<sizeof(T) < 4, int32_t, int64_t>;
    for (size_t i = 0; i < count; ++i) {
      T raw;
      std::memcpy(&raw, data + sizeof(T) * i, sizeof(T));
      const uint32_t stored = (static_cast<uint32_t>(raw) >> shift) & mask;
      out[i] = static_cast<float>(static_cast<Wide>(stored ^ sign) - static_cast<Wide>(sign));
    }
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    T raw;
    std::memcpy(&raw, data + sizeof(T) * i, sizeof(T));
    out[i] = static_cast<float>((static_cast<uint32_t>(raw) >> shift) & mask);
  }
}

// Unpacks `count` samples of `h.bits_allocated` bits (local byte order) into stored
// values: the bits_stored bits ending at high_bit, sign-extended for signed data.
void UnpackStored(const uint8_t* data, size_t count, const DicomHeader& h, std::vector<float>& out) {
  out.resize(count);
  if (h.bits_allocated == 8) {
    UnpackSamples<uint8_t>(data, count, h, out.data());
  } else if (h.bits_allocated == 16) {
    UnpackSamples<uint16_t>(data, count, h, out.data());
  } else {
    UnpackSamples<uint32_t>(data, count, h, out.data());
  }
}

// Samples per frame as stored: YBR_FULL_422 and YBR_PARTIAL_422 keep two samples per
// pixel (Y Y Cb Cr for each pair of pixels).
size_t StoredSampleCount(const DicomHeader& h, const std::string& photometric) {
  size_t pixels = static_cast<size_t>(h.rows) * h.columns;
  if (h.samples_per_pixel == 3 &&
      (photometric == "YBR_FULL_422" || photometric == "YBR_PARTIAL_422")) {
    return pixels * 2;
  }
  return pixels * h.samples_per_pixel;
}

absl::StatusOr<Samples> ReadNative(DicomObject::Impl& impl, int frame) {
  const DicomHeader& h = impl.header;
  DcmElement* element = nullptr;
  if (impl.dataset().findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
    return BadDicom(impl.source, "MISSING_PIXEL_DATA", "Pixel Data (7FE0,0010) is missing");
  }
  Samples samples;
  samples.photometric = h.photometric_interpretation;
  samples.samples_per_pixel = h.samples_per_pixel;
  samples.planar = h.planar_configuration == 1;
  size_t count = StoredSampleCount(h, samples.photometric);

  // Single-bit data (segmentations, overlays in pixel data) packs frames bit by bit,
  // least significant bit first, without byte alignment between frames.
  if (h.bits_allocated == 1) {
    Uint8* bytes = nullptr;
    if (element->getUint8Array(bytes).bad() || bytes == nullptr) {
      return BadDicom(impl.source, "INVALID_PIXEL_DATA", "Pixel Data cannot be read");
    }
    samples.values.resize(count);
    size_t first_bit = static_cast<size_t>(frame) * count;
    for (size_t i = 0; i < count; ++i) {
      size_t bit = first_bit + i;
      samples.values[i] = static_cast<float>((bytes[bit / 8] >> (bit % 8)) & 1);
    }
    return samples;
  }

  // Words are returned in the host's byte order whatever the transfer syntax.
  // NOTE: 32-bit data in explicit VR big endian is swapped as 16-bit words (VR OW) and
  // so decodes wrongly; no such file has been seen.
  const uint8_t* bytes = nullptr;
  if (h.bits_allocated == 8) {
    Uint8* b = nullptr;
    if (element->getUint8Array(b).bad()) b = nullptr;
    bytes = b;
  } else {
    Uint16* w = nullptr;
    if (element->getUint16Array(w).bad()) w = nullptr;
    bytes = reinterpret_cast<const uint8_t*>(w);
  }
  if (bytes == nullptr) {
    return BadDicom(impl.source, "INVALID_PIXEL_DATA", "Pixel Data cannot be read");
  }
  size_t sample_bytes = static_cast<size_t>(h.bits_allocated / 8);
  size_t frame_bytes = count * sample_bytes;
  if ((static_cast<size_t>(frame) + 1) * frame_bytes > element->getLength()) {
    return BadDicom(impl.source, "PIXEL_DATA_TRUNCATED",
                    absl::StrCat("Pixel Data ends before frame ", frame));
  }
  UnpackStored(bytes + static_cast<size_t>(frame) * frame_bytes, count, h, samples.values);
  return samples;
}

absl::StatusOr<Samples> ReadJpeg2000(DicomObject::Impl& impl, int frame) {
  const DicomHeader& h = impl.header;
  absl::Status status;
  DcmPixelSequence* sequence = internal::GetPixelSequence(impl, &status);
  if (sequence == nullptr) return status;
  AILAB_ASSIGN_OR_RETURN(auto map, internal::MapFragments(sequence, h.frames, impl.source));
  AILAB_ASSIGN_OR_RETURN(std::string code_stream, internal::JoinFragments(sequence, map[frame]));
  AILAB_ASSIGN_OR_RETURN(
      internal::Jpeg2000Image image,
      internal::DecodeJpeg2000(code_stream, impl.source, impl.limits.max_frame_bytes * 4));
  if (image.width != h.columns || image.height != h.rows ||
      image.components != h.samples_per_pixel) {
    return BadDicom(impl.source, "INVALID_JPEG2000",
                    absl::StrCat("JPEG 2000 frame ", frame, " is ", image.width, " x ",
                                 image.height, " with ", image.components,
                                 " components, but the header declares ", h.columns, " x ",
                                 h.rows, " with ", h.samples_per_pixel, " samples"));
  }
  Samples samples;
  // OpenJPEG undoes the multiple component transformation (YBR_ICT, YBR_RCT), so
  // colour comes out as RGB.
  samples.photometric = h.samples_per_pixel == 3 ? "RGB" : h.photometric_interpretation;
  samples.samples_per_pixel = image.components;
  samples.values = std::move(image.samples);
  return samples;
}

absl::StatusOr<Samples> ReadWithDcmtkCodec(DicomObject::Impl& impl, int frame) {
  const DicomHeader& h = impl.header;
  DcmElement* element = nullptr;
  impl.dataset().findAndGetElement(DCM_PixelData, element);
  auto* pixel = static_cast<DcmPixelData*>(element);

  // The frame's first fragment, so frames decode in any order. DCMTK 3.6.7 counts
  // fragments here as items of the pixel sequence, the offset table being item 0.
  absl::Status status;
  DcmPixelSequence* sequence = internal::GetPixelSequence(impl, &status);
  if (sequence == nullptr) return status;
  AILAB_ASSIGN_OR_RETURN(auto map, internal::MapFragments(sequence, h.frames, impl.source));
  Uint32 start_fragment = static_cast<Uint32>(map[frame].items.front());

  Uint32 frame_size = 0;
  if (pixel->getUncompressedFrameSize(&impl.dataset(), frame_size).bad() || frame_size == 0) {
    return BadDicom(impl.source, "INVALID_PIXEL_DATA", "the size of a decoded frame is unknown");
  }
  if (frame_size > impl.limits.max_frame_bytes) {
    return BadDicom(impl.source, "FRAME_TOO_LARGE",
                    absl::StrCat("a decoded frame needs ", frame_size,
                                 " bytes, above the limit of ", impl.limits.max_frame_bytes));
  }
  std::vector<uint8_t> buffer(frame_size + (frame_size & 1));
  OFString color_model;
  OFCondition condition =
      pixel->getUncompressedFrame(&impl.dataset(), static_cast<Uint32>(frame), start_fragment,
                                  buffer.data(), static_cast<Uint32>(buffer.size()), color_model);
  if (condition.bad()) {
    return BadDicom(impl.source, "PIXEL_DECODE_FAILED",
                    absl::StrCat("decoding frame ", frame, " (", h.transfer_syntax_name,
                                 ") failed: ", condition.text()));
  }

  Samples samples;
  samples.photometric = absl::AsciiStrToUpper(std::string(color_model.c_str()));
  if (samples.photometric.empty() || h.samples_per_pixel == 1) {
    samples.photometric = h.photometric_interpretation;
  }
  samples.samples_per_pixel = h.samples_per_pixel;
  // The JPEG and JPEG-LS decoders are registered to return colour by pixel.
  // TODO: confirm the sample order of colour frames from DCMTK's RLE decoder. It is
  // taken from Planar Configuration here, and no colour RLE file has been tested.
  bool rle = h.transfer_syntax_uid == "1.2.840.10008.1.2.5";
  samples.planar = rle && h.planar_configuration == 1;
  size_t count = StoredSampleCount(h, samples.photometric);
  if (count * static_cast<size_t>(h.bits_allocated / 8) > buffer.size()) {
    return BadDicom(impl.source, "INVALID_PIXEL_DATA",
                    absl::StrCat("decoded frame ", frame, " is smaller than the header declares"));
  }
  UnpackStored(buffer.data(), count, h, samples.values);
  return samples;
}

// Reduces colour samples to one luma value per pixel (ITU-R BT.601 weights).
absl::StatusOr<std::vector<float>> ToLuma(const Samples& s, const DicomHeader& h,
                                          absl::string_view source) {
  size_t pixels = static_cast<size_t>(h.rows) * h.columns;
  std::vector<float> luma(pixels);
  const std::string& p = s.photometric;
  if (p == "YBR_FULL_422" || p == "YBR_PARTIAL_422") {
    // Y1 Y2 Cb Cr for each pair of pixels along a row.
    for (size_t i = 0; i < pixels; ++i) luma[i] = s.values[(i / 2) * 4 + (i % 2)];
  } else if (p == "RGB" || p == "YBR_ICT" || p == "YBR_RCT") {
    for (size_t i = 0; i < pixels; ++i) {
      float r = s.planar ? s.values[i] : s.values[3 * i];
      float g = s.planar ? s.values[pixels + i] : s.values[3 * i + 1];
      float b = s.planar ? s.values[2 * pixels + i] : s.values[3 * i + 2];
      luma[i] = 0.299f * r + 0.587f * g + 0.114f * b;
    }
  } else if (p == "YBR_FULL" || p == "YBR_PARTIAL_420") {
    for (size_t i = 0; i < pixels; ++i) luma[i] = s.planar ? s.values[i] : s.values[3 * i];
  } else {
    return Unsupported(source, "UNSUPPORTED_PHOTOMETRIC_INTERPRETATION",
                       absl::StrCat("colour photometric interpretation ", p, " is not supported"));
  }
  if (p == "YBR_PARTIAL_422" || p == "YBR_PARTIAL_420") {
    // Partial range luma spans 16..235 for 8 bits.
    for (float& v : luma) v = std::clamp((v - 16.0f) * 255.0f / 219.0f, 0.0f, 255.0f);
  }
  return luma;
}

// The Red, Green and Blue Palette Color Lookup Tables (PS3.3 C.7.6.3.1.5 and .6).
struct PaletteLuts {
  int64_t first = 0;
  int bits = 16;
  // One table per colour: red, green, blue, each with the same number of entries.
  std::vector<float> tables[3];
};

absl::StatusOr<PaletteLuts> ReadPaletteLuts(DcmItem* dataset, const DicomHeader& h,
                                            absl::string_view source) {
  const DcmTagKey descriptors[3] = {DCM_RedPaletteColorLookupTableDescriptor,
                                    DCM_GreenPaletteColorLookupTableDescriptor,
                                    DCM_BluePaletteColorLookupTableDescriptor};
  const DcmTagKey data[3] = {DCM_RedPaletteColorLookupTableData,
                             DCM_GreenPaletteColorLookupTableData,
                             DCM_BluePaletteColorLookupTableData};
  const char* const colours[3] = {"Red", "Green", "Blue"};
  if (dataset->tagExists(DCM_SegmentedRedPaletteColorLookupTableData)) {
    return Unsupported(source, "UNSUPPORTED_PALETTE",
                       "segmented Palette Color Lookup Tables are not supported; convert the "
                       "image to RGB or MONOCHROME2 first");
  }
  PaletteLuts luts;
  for (int c = 0; c < 3; ++c) {
    std::string table_name = absl::StrCat("the ", colours[c], " Palette Color Lookup Table");
    // The descriptor is US or SS: entries (0 means 65536), first mapped value, bits.
    DcmElement* element = nullptr;
    if (dataset->findAndGetElement(descriptors[c], element).bad() || element->getVM() < 3) {
      return BadDicom(source, "INVALID_PALETTE",
                      absl::StrCat(table_name, " Descriptor is missing or has fewer than 3 values"));
    }
    Uint16 descriptor[3] = {0, 0, 0};
    for (unsigned long i = 0; i < 3; ++i) {
      Sint16 signed_value = 0;
      if (element->getUint16(descriptor[i], i).bad()) {
        if (element->getSint16(signed_value, i).bad()) {
          return BadDicom(source, "INVALID_PALETTE",
                          absl::StrCat(table_name, " Descriptor is unreadable"));
        }
        descriptor[i] = static_cast<Uint16>(signed_value);
      }
    }
    size_t entries = descriptor[0] == 0 ? 65536 : descriptor[0];
    int64_t first = h.pixel_representation == 1 ? static_cast<int16_t>(descriptor[1])
                                                : descriptor[1];
    int bits = descriptor[2];
    if (bits != 8 && bits != 16) {
      return BadDicom(source, "INVALID_PALETTE",
                      absl::StrCat(table_name, " declares ", bits, " bits per entry; 8 or 16 are valid"));
    }
    if (c == 0) {
      luts.first = first;
      luts.bits = bits;
    } else if (first != luts.first || bits != luts.bits || entries != luts.tables[0].size()) {
      return BadDicom(source, "INVALID_PALETTE",
                      absl::StrCat(table_name, " Descriptor differs from the Red one; the three tables "
                                   "must have the same entries, first value and bits"));
    }
    // LUT Data is OW. 8-bit tables are stored either one entry per 16-bit word or, as
    // many writers do, packed two entries per word.
    DcmElement* table = nullptr;
    Uint16* words = nullptr;
    if (dataset->findAndGetElement(data[c], table).bad() || table->getUint16Array(words).bad() ||
        words == nullptr) {
      return BadDicom(source, "INVALID_PALETTE", absl::StrCat(table_name, " Data is missing"));
    }
    size_t length = table->getLength();
    std::vector<float>& out = luts.tables[c];
    out.resize(entries);
    if (bits == 8 && length >= entries && length < 2 * entries) {
      // Packed: entry 2i is the low byte of word i, entry 2i + 1 its high byte.
      for (size_t i = 0; i < entries; ++i) {
        out[i] = static_cast<float>(i % 2 == 0 ? words[i / 2] & 0xFF : words[i / 2] >> 8);
      }
    } else if (length >= 2 * entries) {
      for (size_t i = 0; i < entries; ++i) {
        // 8-bit entries in words hold the value in the low byte.
        out[i] = bits == 8 ? static_cast<float>(words[i] & 0xFF) : static_cast<float>(words[i]);
      }
    } else {
      return BadDicom(source, "INVALID_PALETTE",
                      absl::StrCat(table_name, " Data has ", length, " bytes, too few for ", entries,
                                   " entries of ", bits, " bits"));
    }
  }
  return luts;
}

// Maps stored indices through the palette and reduces the colour to luma (ITU-R
// BT.601 weights). Indices below the first mapped value take the first entry, and
// those past the end the last entry (PS3.3 C.7.6.3.1.5).
std::vector<float> PaletteToLuma(const std::vector<float>& indices, const PaletteLuts& luts) {
  const int64_t last = static_cast<int64_t>(luts.tables[0].size()) - 1;
  std::vector<float> luma(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    int64_t index = std::clamp<int64_t>(static_cast<int64_t>(indices[i]) - luts.first, 0, last);
    luma[i] = 0.299f * luts.tables[0][index] + 0.587f * luts.tables[1][index] +
              0.114f * luts.tables[2][index];
  }
  return luma;
}

// A lookup table from a Modality or VOI LUT Sequence item.
struct Lut {
  int64_t first = 0;
  int bits = 16;
  std::vector<float> data;

  float Map(float x) const {
    int64_t index = static_cast<int64_t>(std::floor(x)) - first;
    index = std::clamp<int64_t>(index, 0, static_cast<int64_t>(data.size()) - 1);
    return data[static_cast<size_t>(index)];
  }
};

absl::StatusOr<Lut> ReadLut(DcmItem* item, bool signed_input, absl::string_view what,
                            absl::string_view source) {
  // LUT Descriptor is US or SS depending on the data; read either as 16 bits.
  Uint16 descriptor[3] = {0, 0, 0};
  DcmElement* element = nullptr;
  if (item->findAndGetElement(DCM_LUTDescriptor, element).bad() || element->getVM() < 3) {
    return BadDicom(source, "INVALID_LUT", absl::StrCat(what, " has no valid LUT Descriptor"));
  }
  for (unsigned long i = 0; i < 3; ++i) {
    Sint16 signed_value = 0;
    if (element->getUint16(descriptor[i], i).bad()) {
      if (element->getSint16(signed_value, i).bad()) {
        return BadDicom(source, "INVALID_LUT", absl::StrCat(what, " has an unreadable LUT Descriptor"));
      }
      descriptor[i] = static_cast<Uint16>(signed_value);
    }
  }
  Lut lut;
  size_t entries = descriptor[0] == 0 ? 65536 : descriptor[0];
  lut.first = signed_input ? static_cast<int16_t>(descriptor[1]) : descriptor[1];
  lut.bits = descriptor[2];
  const Uint16* data = nullptr;
  unsigned long count = 0;
  if (item->findAndGetUint16Array(DCM_LUTData, data, &count).bad() || data == nullptr) {
    return BadDicom(source, "INVALID_LUT", absl::StrCat(what, " has no LUT Data"));
  }
  if (count < entries) {
    return BadDicom(source, "INVALID_LUT",
                    absl::StrCat(what, " LUT Data has ", count, " entries but its descriptor "
                                 "declares ", entries));
  }
  if (lut.bits < 1 || lut.bits > 16) {
    return BadDicom(source, "INVALID_LUT",
                    absl::StrCat(what, " declares ", lut.bits, " bits per entry; 1 to 16 are valid"));
  }
  lut.data.assign(data, data + entries);
  return lut;
}

// Rescale slope and intercept of `frame`: from the data set, else from the Pixel Value
// Transformation functional group.
bool FindRescale(DcmItem* dataset, int frame, double* slope, double* intercept) {
  DcmItem* source = dataset;
  if (!dataset->tagExists(DCM_RescaleSlope)) {
    source = internal::FindFunctionalGroup(dataset, frame, DCM_PixelValueTransformationSequence);
  }
  if (source == nullptr || source->findAndGetFloat64(DCM_RescaleSlope, *slope).bad()) return false;
  if (source->findAndGetFloat64(DCM_RescaleIntercept, *intercept).bad()) *intercept = 0;
  return true;
}

// The item holding Window Center and Width for `frame`: the data set, else the Frame
// VOI LUT functional group.
DcmItem* WindowItem(DcmItem* dataset, int frame) {
  if (dataset->tagExists(DCM_WindowCenter)) return dataset;
  return internal::FindFunctionalGroup(dataset, frame, DCM_FrameVOILUTSequence);
}

int WindowCount(DcmItem* item) {
  if (item == nullptr) return 0;
  DcmElement* center = nullptr;
  DcmElement* width = nullptr;
  if (item->findAndGetElement(DCM_WindowCenter, center).bad() ||
      item->findAndGetElement(DCM_WindowWidth, width).bad()) {
    return 0;
  }
  return static_cast<int>(std::min(center->getVM(), width->getVM()));
}

// Maps `values` through the VOI LUT Function `function` (PS3.3 C.11.2.1.2) with the
// window `center` and `width` to 0..1 in `out`, and inverts the result when `invert`.
// The function is chosen once per frame, not per pixel, since this loop runs over every
// pixel of the image.
void ApplyWindow(const std::vector<float>& values, double center, double width,
                 const std::string& function, bool invert, std::vector<float>& out) {
  const size_t n = values.size();
  if (function == "SIGMOID") {
    for (size_t i = 0; i < n; ++i) {
      out[i] = static_cast<float>(1.0 / (1.0 + std::exp(-4.0 * (values[i] - center) / width)));
    }
    if (invert) {
      for (float& v : out) v = 1.0f - v;
    }
    return;
  }
  double low, offset, scale;
  if (function == "LINEAR_EXACT") {
    low = center - width / 2;
    offset = center;
    scale = 1.0 / width;
  } else {
    // LINEAR (the default), PS3.3 C.11.2.1.2.1.
    low = center - 0.5 - (width - 1) / 2;
    offset = center - 0.5;
    scale = width <= 1 ? 0.0 : 1.0 / (width - 1);
  }
  if (scale == 0.0) {
    // A window of width 1 is a threshold.
    const float below = invert ? 1.0f : 0.0f;
    for (size_t i = 0; i < n; ++i) out[i] = values[i] <= low ? below : 1.0f - below;
    return;
  }
  // The linear part is 0 at `low` and 1 at the window's upper end, so clamping it gives
  // the standard's three cases.
  internal::WindowLinear(values.data(), out.data(), n, offset, scale, invert);
}

}  // namespace

absl::StatusOr<DisplayOptions> ParseWindowPreset(absl::string_view preset) {
  DisplayOptions options;
  std::string p = absl::AsciiStrToLower(absl::StripAsciiWhitespace(preset));
  if (p.empty() || p == "auto") return options;
  if (p == "file") {
    options.source = WindowSource::kFileWindow;
    return options;
  }
  if (p == "voi_lut") {
    options.source = WindowSource::kVoiLut;
    return options;
  }
  if (p == "minmax") {
    options.source = WindowSource::kMinMax;
    return options;
  }
  std::vector<std::string> parts = absl::StrSplit(p, '/');
  if (parts.size() == 2 && absl::SimpleAtod(parts[0], &options.center) &&
      absl::SimpleAtod(parts[1], &options.width) && options.width >= 1) {
    options.source = WindowSource::kExplicit;
    return options;
  }
  return InvalidArgument("INVALID_WINDOW_PRESET", "window_preset",
                         absl::StrCat("window preset \"", preset,
                                      "\" is invalid; use auto, file, voi_lut, minmax or "
                                      "CENTER/WIDTH such as 40/400 (width at least 1)"),
                         {{"window_preset", preset}});
}

absl::StatusOr<DecodedFrame> DecodeFrame(const DicomObject& object, int frame) {
  DicomObject::Impl& impl = object.impl();
  const DicomHeader& h = impl.header;
  AILAB_RETURN_IF_ERROR(internal::InitializeDcmtk());
  if (!h.has_pixel_data) {
    return FailedPrecondition("NO_PIXEL_DATA",
                              absl::StrCat(impl.source, ": the object has no Pixel Data (SOP "
                                           "class ", h.sop_class_uid, "), so it is not an image"),
                              {{"file", impl.source}});
  }
  if (frame < 0 || frame >= h.frames) {
    return InvalidArgument("INVALID_FRAME", "frame",
                           absl::StrCat(impl.source, ": frame ", frame, " is out of range; the "
                                        "object has ", h.frames, " frames (0 to ", h.frames - 1,
                                        ")"),
                           {{"file", impl.source}});
  }
  if (!IsTransferSyntaxSupported(h.transfer_syntax_uid)) {
    return Unsupported(impl.source, "UNSUPPORTED_TRANSFER_SYNTAX",
                       absl::StrCat("transfer syntax ", h.transfer_syntax_name, " (",
                                    h.transfer_syntax_uid, ") is not supported"));
  }

  // Stored values of the frame.
  absl::StatusOr<Samples> samples;
  if (!h.encapsulated) {
    samples = ReadNative(impl, frame);
  } else if (internal::IsJpeg2000(h.transfer_syntax_uid)) {
    samples = ReadJpeg2000(impl, frame);
  } else {
    samples = ReadWithDcmtkCodec(impl, frame);
  }
  if (!samples.ok()) return samples.status();

  DecodedFrame out;
  out.rows = h.rows;
  out.columns = h.columns;
  bool palette = samples->samples_per_pixel == 1 && samples->photometric == "PALETTE COLOR";
  bool monochrome = samples->samples_per_pixel == 1 && !palette;
  if (palette) {
    AILAB_ASSIGN_OR_RETURN(PaletteLuts luts, ReadPaletteLuts(&impl.dataset(), h, impl.source));
    out.values = PaletteToLuma(samples->values, luts);
    out.from_color = true;
    out.nominal_max = static_cast<float>((uint32_t{1} << luts.bits) - 1);
  } else if (monochrome) {
    out.values = std::move(samples->values);
    out.inverted = samples->photometric == "MONOCHROME1";
  } else {
    AILAB_ASSIGN_OR_RETURN(out.values, ToLuma(*samples, h, impl.source));
    out.from_color = true;
    out.nominal_max = static_cast<float>((uint64_t{1} << h.bits_stored) - 1);
  }

  // Modality transformation: the Modality LUT Sequence, else rescale slope and
  // intercept; colour images have none.
  if (monochrome) {
    DcmDataset* dataset = &impl.dataset();
    double slope = 1, intercept = 0;
    if (DcmItem* item = internal::GetSequenceItem(dataset, DCM_ModalityLUTSequence)) {
      AILAB_ASSIGN_OR_RETURN(Lut lut, ReadLut(item, h.pixel_representation == 1,
                                              "the Modality LUT Sequence", impl.source));
      for (float& v : out.values) v = lut.Map(v);
    } else if (FindRescale(dataset, frame, &slope, &intercept) && (slope != 1 || intercept != 0)) {
      for (float& v : out.values) v = static_cast<float>(v * slope + intercept);
    } else if (h.pixel_representation == 0) {
      out.nominal_max = static_cast<float>((uint64_t{1} << h.bits_stored) - 1);
    }
  }

  internal::MinMax(out.values.data(), out.values.size(), &out.min_value, &out.max_value);
  return out;
}

absl::StatusOr<std::vector<float>> ToDisplay(const DicomObject& object, const DecodedFrame& frame,
                                             const DisplayOptions& options) {
  DicomObject::Impl& impl = object.impl();
  DcmDataset* dataset = &impl.dataset();
  const std::string& source = impl.source;
  std::vector<float> out(frame.values.size());

  // The window item of the first frame; enhanced objects rarely vary it per frame.
  DcmItem* window_item = WindowItem(dataset, 0);
  int windows = WindowCount(window_item);
  DcmItem* voi_lut_item = internal::GetSequenceItem(dataset, DCM_VOILUTSequence,
                                                    static_cast<unsigned long>(options.window_index));
  WindowSource choice = options.source;
  if (choice == WindowSource::kAuto) {
    if (frame.from_color) {
      choice = WindowSource::kMinMax;
    } else if (windows > 0) {
      choice = WindowSource::kFileWindow;
    } else if (voi_lut_item != nullptr) {
      choice = WindowSource::kVoiLut;
    } else {
      choice = WindowSource::kMinMax;
    }
  }

  // MONOCHROME1 displays low values as white, and so does MONOCHROME2 with a
  // Presentation LUT Shape of INVERSE. For MONOCHROME1, INVERSE only restates that
  // polarity (the DX and MG IODs require it), so it must not invert a second time.
  bool invert = frame.inverted;
  if (!frame.inverted && !frame.from_color &&
      absl::AsciiStrToUpper(GetString(dataset, DCM_PresentationLUTShape)) == "INVERSE") {
    invert = true;
  }
  // Whether the branch below has inverted the values itself.
  bool inverted = false;

  if (choice == WindowSource::kFileWindow || choice == WindowSource::kExplicit) {
    double center = options.center, width = options.width;
    std::string function = "LINEAR";
    if (choice == WindowSource::kFileWindow) {
      if (options.window_index < 0 || options.window_index >= windows) {
        return FailedPrecondition(
            "NO_FILE_WINDOW",
            absl::StrCat(source, ": the file has ", windows, " windows, so window ",
                         options.window_index, " does not exist; use another window preset"),
            {{"file", source}});
      }
      window_item->findAndGetFloat64(DCM_WindowCenter, center, options.window_index);
      window_item->findAndGetFloat64(DCM_WindowWidth, width, options.window_index);
      std::string stored = absl::AsciiStrToUpper(GetString(window_item, DCM_VOILUTFunction));
      if (!stored.empty()) function = stored;
    }
    if (!(width >= 1) || !std::isfinite(center)) {
      return InvalidArgument("INVALID_WINDOW", "window",
                             absl::StrCat(source, ": window width ", width,
                                          " is invalid; it must be at least 1"),
                             {{"file", source}});
    }
    ApplyWindow(frame.values, center, width, function, invert, out);
    inverted = true;
  } else if (choice == WindowSource::kVoiLut) {
    if (voi_lut_item == nullptr) {
      return FailedPrecondition("NO_VOI_LUT",
                                absl::StrCat(source, ": the file has no VOI LUT ",
                                             options.window_index, "; use another window preset"),
                                {{"file", source}});
    }
    AILAB_ASSIGN_OR_RETURN(Lut lut, ReadLut(voi_lut_item, frame.min_value < 0,
                                            "the VOI LUT Sequence", source));
    float scale = 1.0f / static_cast<float>((1u << lut.bits) - 1);
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = std::clamp(lut.Map(frame.values[i]) * scale, 0.0f, 1.0f);
    }
  } else {
    // Minimum to maximum; colour uses its full nominal range.
    float low = frame.min_value, high = frame.max_value;
    if (frame.from_color && frame.nominal_max > 0) {
      low = 0;
      high = frame.nominal_max;
    }
    float range = high - low;
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = range > 0 ? std::clamp((frame.values[i] - low) / range, 0.0f, 1.0f) : 0.0f;
    }
  }

  if (invert && !inverted) {
    for (float& v : out) v = 1.0f - v;
  }
  return out;
}

Display8 ToDisplay8(const std::vector<float>& display, int rows, int columns) {
  Display8 out;
  out.rows = rows;
  out.columns = columns;
  out.pixels.resize(display.size());
  internal::ToEightBit(display.data(), out.pixels.data(), display.size());
  return out;
}

absl::StatusOr<Display8> RenderDisplay8(const DicomObject& object, const DisplayOptions& options,
                                        int frame) {
  AILAB_ASSIGN_OR_RETURN(DecodedFrame decoded, DecodeFrame(object, frame));
  AILAB_ASSIGN_OR_RETURN(std::vector<float> display, ToDisplay(object, decoded, options));
  return ToDisplay8(display, decoded.rows, decoded.columns);
}

absl::StatusOr<PreparedArray> PrepareArray(const DicomObject& object,
                                           const PrepareOptions& options) {
  AILAB_ASSIGN_OR_RETURN(DecodedFrame decoded, DecodeFrame(object, options.frame));
  AILAB_ASSIGN_OR_RETURN(std::vector<float> display, ToDisplay(object, decoded, options.display));
  return PrepareArrayFromDisplay(object, std::move(display), decoded.rows, decoded.columns,
                                 options);
}

absl::StatusOr<PreparedArray> PrepareArrayFromDisplay(const DicomObject& object,
                                                      std::vector<float> display, int rows,
                                                      int columns, const PrepareOptions& options) {
  const DicomHeader& h = object.header();
  if (options.size < 8 || options.size > 4096) {
    return InvalidArgument("INVALID_ARRAY_SIZE", "size",
                           absl::StrCat("array size ", options.size,
                                        " is invalid; use 8 to 4096 pixels"));
  }
  if (rows < 1 || columns < 1 || display.size() != static_cast<size_t>(rows) * columns) {
    return InvalidArgument("INVALID_DISPLAY_IMAGE", "display",
                           absl::StrCat("display image of ", display.size(),
                                        " values does not match ", rows, " x ", columns));
  }

  // Mammograms: put the chest wall on the left. The first value of Patient Orientation
  // is the direction along a row; posterior (P) there means the chest wall is on the
  // right. Without it, a right breast is assumed to face that way, as acquired.
  PreparedArray result;
  bool mammogram = h.modality == "MG" || h.body_part == "BREAST";
  if (options.normalize_laterality && mammogram) {
    std::string row_direction = FirstValue(h.patient_orientation);
    if (row_direction.find('P') != std::string::npos) {
      result.flipped = true;
    } else if (row_direction.find('A') == std::string::npos) {
      result.flipped = h.laterality == "R";
    }
  }
  if (result.flipped) {
    for (int y = 0; y < rows; ++y) {
      auto row = display.begin() + static_cast<size_t>(y) * columns;
      std::reverse(row, row + columns);
    }
  }

  // Resize to the square model input.
  std::vector<float> pixels;
  if (options.keep_aspect) {
    imaging::Anchor anchor = mammogram && options.normalize_laterality ? imaging::Anchor::kTopLeft
                                                                       : imaging::Anchor::kCenter;
    AILAB_ASSIGN_OR_RETURN(imaging::ResizeResult resized,
                           imaging::ResizeKeepAspect(display, rows, columns, options.size, anchor));
    result.scale = resized.scale;
    pixels = std::move(resized.pixels);
  } else {
    AILAB_ASSIGN_OR_RETURN(pixels,
                           imaging::Resize(display, rows, columns, options.size, options.size));
    result.scale = static_cast<double>(options.size) / std::max(rows, columns);
  }
  for (float& v : pixels) v = std::clamp(v, 0.0f, 1.0f);
  AILAB_ASSIGN_OR_RETURN(result.array,
                         imaging::Array::FromFloat({options.size, options.size}, pixels));
  return result;
}

bool KeepImageMemoryInHeap() {
  // Only more than 1 GiB free at the top of the heap goes back to the system.
  constexpr int kTrimThreshold = 1 << 30;
  const bool mmap_disabled = mallopt(M_MMAP_MAX, 0) == 1;
  const bool trim_threshold_set = mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
  return mmap_disabled && trim_threshold_set;
}

}  // namespace ailab::dicom
