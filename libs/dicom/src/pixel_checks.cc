// Completeness checks of pixel data, and the mapping of compressed fragments to frames.
//
// NOTE: DCMTK 3.6.7 decodes native pixel data shorter than Rows x Columns x Frames
// declare, and RLE segments that end early, with only a logged warning. The rest of
// the frame is left uninitialised, so these checks run before any decoding.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ailab/dicom/dicom.h"
#include "ailab/status/status.h"
#include "dcmtk/dcmdata/dcpixel.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "internal.h"

namespace ailab::dicom {
namespace internal {
namespace {

uint32_t ReadLittleEndian32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// Bytes of fragment `index` (1-based; 0 is the Basic Offset Table).
absl::string_view FragmentBytes(DcmPixelSequence* sequence, unsigned long index) {
  DcmPixelItem* item = nullptr;
  if (sequence->getItem(item, index).bad() || item == nullptr) return {};
  Uint8* data = nullptr;
  if (item->getUint8Array(data).bad() || data == nullptr) return {};
  return absl::string_view(reinterpret_cast<const char*>(data), item->getLength());
}

// True when `bytes` starts a JPEG (SOI), JPEG 2000 code stream (SOC) or JP2 file.
bool StartsCodeStream(absl::string_view bytes) {
  if (bytes.size() < 4) return false;
  auto b = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  if (b(0) == 0xFF && b(1) == 0xD8) return true;  // JPEG, JPEG-LS: SOI
  if (b(0) == 0xFF && b(1) == 0x4F) return true;  // JPEG 2000: SOC
  return bytes.size() >= 12 && bytes.substr(4, 4) == "jP  ";  // JP2 signature box
}

// True when the last 16 bytes of `bytes` hold the end marker FFD9 (EOI of JPEG and
// JPEG-LS, EOC of JPEG 2000). Encoders pad after it with 00 or FF bytes. The marker
// cannot occur inside the entropy-coded data of these formats, because their byte
// stuffing keeps FF from being followed by D9.
bool EndsCodeStream(absl::string_view bytes) {
  size_t from = bytes.size() > 16 ? bytes.size() - 16 : 0;
  return bytes.substr(from).find("\xFF\xD9") != absl::string_view::npos;
}

// Counts the bytes an RLE (PackBits) segment decodes to, stopping at `needed` since
// encoders may pad a segment after its last run; -1 when a run is cut short first.
int64_t RleSegmentLength(absl::string_view segment, int64_t needed) {
  int64_t produced = 0;
  size_t i = 0;
  while (i < segment.size() && produced < needed) {
    int n = static_cast<int8_t>(segment[i++]);
    if (n >= 0) {
      if (i + n + 1 > segment.size()) return -1;
      produced += n + 1;
      i += n + 1;
    } else if (n != -128) {
      if (i >= segment.size()) return -1;
      produced += 1 - n;
      i += 1;
    }
  }
  return produced;
}

absl::Status CheckRleFrame(absl::string_view fragment, const DicomHeader& h, int frame,
                           absl::string_view source) {
  int expected_segments = h.samples_per_pixel * std::max(1, h.bits_allocated / 8);
  if (fragment.size() < 64) {
    return BadDicom(source, "PIXEL_DATA_TRUNCATED",
                    absl::StrCat("RLE frame ", frame, " is ", fragment.size(),
                                 " bytes, shorter than its 64-byte header"));
  }
  auto data = reinterpret_cast<const uint8_t*>(fragment.data());
  uint32_t segments = ReadLittleEndian32(data);
  if (static_cast<int>(segments) != expected_segments) {
    return BadDicom(source, "INVALID_RLE",
                    absl::StrCat("RLE frame ", frame, " has ", segments, " segments; ",
                                 expected_segments, " are needed for ", h.samples_per_pixel,
                                 " samples of ", h.bits_allocated, " bits"));
  }
  int64_t needed = int64_t{h.rows} * h.columns;
  for (uint32_t s = 0; s < segments; ++s) {
    uint32_t begin = ReadLittleEndian32(data + 4 + 4 * s);
    uint32_t end = s + 1 < segments ? ReadLittleEndian32(data + 4 + 4 * (s + 1))
                                    : static_cast<uint32_t>(fragment.size());
    if (begin < 64 || begin > end || end > fragment.size()) {
      return BadDicom(source, "INVALID_RLE",
                      absl::StrCat("RLE frame ", frame, " segment ", s + 1,
                                   " has offsets outside the fragment"));
    }
    int64_t produced = RleSegmentLength(fragment.substr(begin, end - begin), needed);
    if (produced < needed) {
      return BadDicom(source, "PIXEL_DATA_TRUNCATED",
                      absl::StrCat("RLE frame ", frame, " segment ", s + 1, " decodes to ",
                                   std::max<int64_t>(produced, 0), " bytes but Rows x Columns is ",
                                   needed, "; the pixel data is truncated"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckNative(DcmElement* pixel, const DicomHeader& h, absl::string_view source) {
  int64_t pixels = int64_t{h.rows} * h.columns * h.frames * h.samples_per_pixel;
  int64_t needed = h.bits_allocated == 1 ? (pixels + 7) / 8 : pixels * (h.bits_allocated / 8);
  int64_t have = pixel->getLength();
  if (have < needed) {
    return BadDicom(source, "PIXEL_DATA_TRUNCATED",
                    absl::StrCat("Pixel Data has ", have, " bytes but ", h.rows, " rows x ",
                                 h.columns, " columns x ", h.frames, " frames x ",
                                 h.samples_per_pixel, " samples of ", h.bits_allocated,
                                 " bits need ", needed, "; the pixel data is truncated"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsJpeg2000(absl::string_view uid) {
  return uid == "1.2.840.10008.1.2.4.90" || uid == "1.2.840.10008.1.2.4.91" ||
         uid == "1.2.840.10008.1.2.4.92" || uid == "1.2.840.10008.1.2.4.93" ||
         uid == "1.2.840.10008.1.2.4.201" || uid == "1.2.840.10008.1.2.4.202" ||
         uid == "1.2.840.10008.1.2.4.203";
}

absl::StatusOr<std::vector<FrameFragments>> MapFragments(DcmPixelSequence* sequence, int frames,
                                                         absl::string_view source) {
  unsigned long items = sequence->card();
  if (items < 2) {
    return BadDicom(source, "PIXEL_DATA_TRUNCATED",
                    "the compressed Pixel Data has no fragments after the offset table");
  }
  unsigned long fragments = items - 1;
  std::vector<FrameFragments> map(static_cast<size_t>(frames));

  // Positions of the fragments relative to the first, as the offset table counts them
  // (each item adds an 8-byte tag and length).
  std::vector<uint64_t> position(items + 1, 0);
  for (unsigned long i = 1; i < items; ++i) {
    position[i + 1] = position[i] + 8 + FragmentBytes(sequence, i).size();
  }
  absl::string_view table = FragmentBytes(sequence, 0);
  if (table.size() == 4 * static_cast<size_t>(frames) && frames > 0) {
    std::vector<uint64_t> starts;
    for (int f = 0; f < frames; ++f) {
      starts.push_back(ReadLittleEndian32(reinterpret_cast<const uint8_t*>(table.data()) + 4 * f));
    }
    bool valid = starts[0] == 0 && std::is_sorted(starts.begin(), starts.end());
    for (unsigned long i = 1; valid && i < items; ++i) {
      auto frame = std::upper_bound(starts.begin(), starts.end(), position[i]) - starts.begin() - 1;
      map[frame].items.push_back(i);
    }
    valid = valid && std::all_of(map.begin(), map.end(),
                                 [](const FrameFragments& f) { return !f.items.empty(); });
    if (valid) return map;
    map.assign(static_cast<size_t>(frames), {});
  }

  if (static_cast<int64_t>(fragments) < frames) {
    return BadDicom(source, "PIXEL_DATA_TRUNCATED",
                    absl::StrCat("Number of Frames is ", frames, " but the compressed Pixel Data "
                                 "has only ", fragments, " fragments"));
  }
  if (static_cast<int64_t>(fragments) == frames) {
    for (int f = 0; f < frames; ++f) map[f].items.push_back(static_cast<unsigned long>(f) + 1);
    return map;
  }
  if (frames == 1) {
    for (unsigned long i = 1; i < items; ++i) map[0].items.push_back(i);
    return map;
  }

  // Several fragments per frame without an offset table: a new frame starts at each
  // fragment that begins a code stream.
  int frame = -1;
  for (unsigned long i = 1; i < items; ++i) {
    if (StartsCodeStream(FragmentBytes(sequence, i)) && frame + 1 < frames) ++frame;
    if (frame < 0) {
      return BadDicom(source, "INVALID_PIXEL_DATA",
                      "the first compressed fragment does not start a code stream");
    }
    map[frame].items.push_back(i);
  }
  if (frame + 1 != frames) {
    return BadDicom(source, "PIXEL_DATA_TRUNCATED",
                    absl::StrCat("Number of Frames is ", frames, " but the compressed Pixel Data "
                                 "holds only ", frame + 1, " code streams"));
  }
  return map;
}

absl::StatusOr<std::string> JoinFragments(DcmPixelSequence* sequence,
                                          const FrameFragments& fragments) {
  std::string out;
  for (unsigned long index : fragments.items) {
    absl::string_view bytes = FragmentBytes(sequence, index);
    out.append(bytes.data(), bytes.size());
  }
  return out;
}

// Returns the pixel sequence of an encapsulated data set, or null with `status` set.
DcmPixelSequence* GetPixelSequence(DicomObject::Impl& impl, absl::Status* status) {
  DcmElement* element = nullptr;
  if (impl.dataset().findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
    *status = BadDicom(impl.source, "MISSING_PIXEL_DATA", "Pixel Data (7FE0,0010) is missing");
    return nullptr;
  }
  auto* pixel = static_cast<DcmPixelData*>(element);
  DcmPixelSequence* sequence = nullptr;
  E_TransferSyntax xfer = impl.dataset().getOriginalXfer();
  if (pixel->getEncapsulatedRepresentation(xfer, nullptr, sequence).bad() || sequence == nullptr) {
    *status = BadDicom(impl.source, "INVALID_PIXEL_DATA",
                       "the transfer syntax is compressed but Pixel Data is not encapsulated");
    return nullptr;
  }
  return sequence;
}

}  // namespace internal

absl::Status ValidatePixelData(const DicomObject& object) {
  DicomObject::Impl& impl = object.impl();
  const DicomHeader& h = impl.header;
  if (!h.has_pixel_data) return absl::OkStatus();

  if (!h.encapsulated) {
    DcmElement* pixel = nullptr;
    if (impl.dataset().findAndGetElement(DCM_PixelData, pixel).bad() || pixel == nullptr) {
      return internal::BadDicom(impl.source, "MISSING_PIXEL_DATA",
                                "Pixel Data (7FE0,0010) is missing");
    }
    return internal::CheckNative(pixel, h, impl.source);
  }

  absl::Status status;
  DcmPixelSequence* sequence = internal::GetPixelSequence(impl, &status);
  if (sequence == nullptr) return status;
  AILAB_ASSIGN_OR_RETURN(std::vector<internal::FrameFragments> map,
                         internal::MapFragments(sequence, h.frames, impl.source));

  bool rle = h.transfer_syntax_uid == "1.2.840.10008.1.2.5";
  for (int f = 0; f < h.frames; ++f) {
    if (rle) {
      if (map[f].items.size() != 1) {
        return internal::BadDicom(impl.source, "INVALID_RLE",
                                  absl::StrCat("RLE frame ", f, " spans ", map[f].items.size(),
                                               " fragments; RLE allows exactly one per frame"));
      }
      AILAB_RETURN_IF_ERROR(internal::CheckRleFrame(
          internal::FragmentBytes(sequence, map[f].items[0]), h, f, impl.source));
      continue;
    }
    absl::string_view last = internal::FragmentBytes(sequence, map[f].items.back());
    if (!internal::EndsCodeStream(last)) {
      return internal::BadDicom(
          impl.source, "PIXEL_DATA_TRUNCATED",
          absl::StrCat("compressed frame ", f, " does not end with the end-of-image marker "
                       "FFD9; the code stream is truncated"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ailab::dicom
