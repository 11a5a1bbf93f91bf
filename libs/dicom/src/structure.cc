// Checks of a file's element structure, made before DCMTK reads it. DCMTK 3.6.7 parses
// each nested sequence with a recursive call, so sequences nested thousands deep
// overflow the stack of the parsing thread. It also inflates a deflated data set with
// no bound. The walk here reads element headers only, keeps one entry per open
// sequence or item (at most twice the nesting limit), and skips every value.
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ailab/dicom/dicom.h"
#include "ailab/status/status.h"
#include "internal.h"

namespace ailab::dicom::internal {
namespace {

constexpr uint32_t kUndefinedLength = 0xFFFFFFFF;
constexpr size_t kNoEnd = static_cast<size_t>(-1);
constexpr char kImplicitLittleEndian[] = "1.2.840.10008.1.2";
constexpr char kExplicitBigEndian[] = "1.2.840.10008.1.2.2";
constexpr char kDeflatedExplicitLittleEndian[] = "1.2.840.10008.1.2.1.99";

struct Encoding {
  bool explicit_vr = true;
  bool big_endian = false;
};

uint16_t Read16(absl::string_view bytes, size_t at, bool big_endian) {
  auto b0 = static_cast<uint8_t>(bytes[at]);
  auto b1 = static_cast<uint8_t>(bytes[at + 1]);
  return big_endian ? static_cast<uint16_t>(b0 << 8 | b1) : static_cast<uint16_t>(b1 << 8 | b0);
}

uint32_t Read32(absl::string_view bytes, size_t at, bool big_endian) {
  uint32_t high = Read16(bytes, at + (big_endian ? 0 : 2), big_endian);
  uint32_t low = Read16(bytes, at + (big_endian ? 2 : 0), big_endian);
  return high << 16 | low;
}

bool IsVrText(absl::string_view bytes, size_t at) {
  return at + 2 <= bytes.size() && bytes[at] >= 'A' && bytes[at] <= 'Z' && bytes[at + 1] >= 'A' &&
         bytes[at + 1] <= 'Z';
}

// True when an explicit VR's element header has 2 reserved bytes and a 4-byte length.
// The VRs of PS3.5 table 7.1-2 have a 2-byte length. So do VR fields that are not two
// upper-case letters, and any other pair of letters has the long form, because DCMTK
// 3.6.7 reads them so (checked with its dcmdump).
bool HasLongLength(absl::string_view vr) {
  if (!IsVrText(vr, 0)) return false;
  for (const char* code : {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT",
                           "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"}) {
    if (vr == code) return false;
  }
  return true;
}

bool IsSequenceInDictionary(uint16_t group, uint16_t element) {
  DcmTag tag(group, element);
  return tag.getEVR() == EVR_SQ;
}

// An open sequence, item or encapsulated pixel data, with the offset its defined
// length ends at (kNoEnd when its length is undefined).
struct Container {
  enum Kind { kSequence, kItem, kFragments } kind;
  size_t end;
  Encoding encoding;
};

absl::Status NestingTooDeep(absl::string_view source, int depth, int limit, size_t offset) {
  return InvalidArgument(
      "DICOM_NESTING_TOO_DEEP", "",
      absl::StrCat(source, ": sequences are nested at least ", depth,
                   " levels deep at byte ", offset, ", above the limit of ", limit,
                   " levels; no standard object nests this deep, so the file is rejected"),
      {{"file", source}, {"depth", absl::StrCat(depth)}, {"limit", absl::StrCat(limit)}});
}

// Walks the data set in `bytes` from `offset`, encoded as `encoding`, and returns
// DICOM_NESTING_TOO_DEEP when sequences nest deeper than `max_depth`. The walk stops
// without an error where the structure is unreadable (a length past the end, an
// invalid VR or a misplaced delimiter), because DCMTK reports those faults itself.
absl::Status CheckNesting(absl::string_view bytes, size_t offset, Encoding encoding,
                          int max_depth, absl::string_view source, size_t* stopped_at) {
  std::vector<Container> open;
  int depth = 0;  // Open sequences.
  size_t at = offset;
  *stopped_at = kNoEnd;
  while (true) {
    while (!open.empty() && open.back().end != kNoEnd && at >= open.back().end) {
      if (open.back().kind == Container::kSequence) --depth;
      open.pop_back();
    }
    if (at >= bytes.size()) return absl::OkStatus();
    if (at + 8 > bytes.size()) break;
    Encoding current = open.empty() ? encoding : open.back().encoding;
    uint16_t group = Read16(bytes, at, current.big_endian);
    uint16_t element = Read16(bytes, at + 2, current.big_endian);

    // Items and delimiters: tag and a 4-byte length in every transfer syntax.
    if (group == 0xFFFE) {
      uint32_t length = Read32(bytes, at + 4, current.big_endian);
      at += 8;
      if (open.empty()) break;
      Container& parent = open.back();
      if (element == 0xE000 && parent.kind == Container::kFragments) {
        if (length == kUndefinedLength || length > bytes.size() - at) break;
        at += length;
      } else if (element == 0xE000 && parent.kind == Container::kSequence) {
        size_t end = kNoEnd;
        if (length != kUndefinedLength) {
          if (length > bytes.size() - at) break;
          end = at + length;
        }
        open.push_back({Container::kItem, end, current});
      } else if (element == 0xE00D && parent.kind == Container::kItem) {
        open.pop_back();
      } else if (element == 0xE0DD && parent.kind != Container::kItem) {
        if (parent.kind == Container::kSequence) --depth;
        open.pop_back();
      } else {
        break;
      }
      continue;
    }

    // Encapsulated pixel data contains items only.
    if (!open.empty() && open.back().kind == Container::kFragments) break;

    // An element: its VR (explicit syntaxes only) and length.
    std::string vr;
    uint32_t length = 0;
    if (current.explicit_vr) {
      vr = std::string(bytes.substr(at + 4, 2));
      if (HasLongLength(vr)) {
        if (at + 12 > bytes.size()) break;
        length = Read32(bytes, at + 8, current.big_endian);
        at += 12;
      } else {
        length = Read16(bytes, at + 6, current.big_endian);
        at += 8;
      }
    } else {
      length = Read32(bytes, at + 4, current.big_endian);
      at += 8;
    }

    bool is_pixel_data = group == 0x7FE0 && element == 0x0010;
    bool is_sequence = vr == "SQ" ||
                       (vr.empty() && IsSequenceInDictionary(group, element)) ||
                       (length == kUndefinedLength && !is_pixel_data &&
                        (vr.empty() || vr == "UN"));
    if (is_sequence) {
      size_t end = kNoEnd;
      if (length != kUndefinedLength) {
        if (length > bytes.size() - at) break;
        end = at + length;
      }
      if (++depth > max_depth) return NestingTooDeep(source, depth, max_depth, at);
      // A UN sequence of undefined length contains implicit VR little endian items.
      Encoding inner = vr == "UN" ? Encoding{false, false} : current;
      open.push_back({Container::kSequence, end, inner});
    } else if (length == kUndefinedLength) {
      open.push_back({Container::kFragments, kNoEnd, current});
    } else {
      if (length > bytes.size() - at) break;
      at += length;
    }
  }
  *stopped_at = at;
  return absl::OkStatus();
}

// Counts the item tags (FFFE,E000) in either byte order, at any offset.
int64_t CountItemTags(absl::string_view bytes) {
  int64_t count = 0;
  for (absl::string_view tag : {absl::string_view("\xFE\xFF\x00\xE0", 4),
                                absl::string_view("\xFF\xFE\xE0\x00", 4)}) {
    for (size_t at = bytes.find(tag); at != absl::string_view::npos; at = bytes.find(tag, at + 1)) {
      ++count;
    }
  }
  return count;
}

// Inflates the raw deflate stream in `compressed` (RFC 1951, as DCMTK 3.6.7 reads the
// deflated syntax) and fails with DICOM_TOO_LARGE past `max_bytes`. A damaged stream
// ends the output early without an error, because DCMTK reports that fault.
// NOTE: the inflated copy is kept in memory for the walk, so a file within the limit
// costs up to `max_bytes` here on top of what DCMTK allocates.
absl::StatusOr<std::string> Inflate(absl::string_view compressed, int64_t max_bytes,
                                    absl::string_view source) {
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) {
    return Internal("INFLATE_FAILED", absl::StrCat(source, ": zlib failed to initialise"),
                    {{"file", source}});
  }
  std::string out;
  char buffer[64 * 1024];
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    result = inflate(&stream, Z_NO_FLUSH);
    size_t produced = sizeof(buffer) - stream.avail_out;
    if (static_cast<int64_t>(out.size() + produced) > max_bytes) {
      inflateEnd(&stream);
      return InvalidArgument(
          "DICOM_TOO_LARGE", "",
          absl::StrCat(source, ": the deflated data set of ", compressed.size(),
                       " bytes inflates to more than ", max_bytes,
                       " bytes, the limit for an inflated data set; send the file "
                       "uncompressed or in a pixel compression syntax"),
          {{"file", source}, {"limit", absl::StrCat(max_bytes)}});
    }
    out.append(buffer, produced);
    if (produced == 0 && result == Z_BUF_ERROR) break;
  }
  inflateEnd(&stream);
  return out;
}

// Returns the offset just past the file meta group (explicit VR little endian,
// group 0002) that starts at `at`, and stores its Transfer Syntax UID.
size_t SkipMetaGroup(absl::string_view bytes, size_t at, std::string* transfer_syntax) {
  while (at + 8 <= bytes.size() && Read16(bytes, at, false) == 0x0002) {
    uint16_t element = Read16(bytes, at + 2, false);
    absl::string_view vr = bytes.substr(at + 4, 2);
    uint32_t length = 0;
    size_t header = 8;
    if (HasLongLength(vr)) {
      if (at + 12 > bytes.size()) break;
      length = Read32(bytes, at + 8, false);
      header = 12;
    } else {
      length = Read16(bytes, at + 6, false);
    }
    if (length > bytes.size() - at - header) break;
    if (element == 0x0010) {
      absl::string_view uid = bytes.substr(at + header, length);
      while (!uid.empty() && (uid.back() == '\0' || uid.back() == ' ')) uid.remove_suffix(1);
      *transfer_syntax = std::string(uid);
    }
    at += header + length;
  }
  return at;
}

// True for the VRs of PS3.5 table 6.2-1.
bool IsStandardVr(absl::string_view vr) {
  for (const char* code : {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT",
                           "OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST",
                           "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV"}) {
    if (vr == code) return true;
  }
  return false;
}

// Guesses the encoding of a data set without a transfer syntax from its first element,
// as DCMTK does: the byte order that gives the smaller group, and explicit VR when a
// standard VR follows the tag.
Encoding DetectEncoding(absl::string_view bytes, size_t at) {
  Encoding encoding;
  if (at + 8 > bytes.size()) return encoding;
  encoding.big_endian = Read16(bytes, at, true) < Read16(bytes, at, false);
  encoding.explicit_vr = IsStandardVr(bytes.substr(at + 4, 2));
  return encoding;
}

// True when an element of group 0002 to 0008, in either byte order, starts at `at`.
bool IsPlausibleFirstElement(absl::string_view bytes, size_t at) {
  if (at + 8 > bytes.size()) return false;
  for (bool big_endian : {false, true}) {
    uint16_t group = Read16(bytes, at, big_endian);
    if (group >= 0x0002 && group <= 0x0008 && group % 2 == 0) return true;
  }
  return false;
}

}  // namespace

bool LooksLikeDicomStart(absl::string_view bytes) {
  if (bytes.size() >= 132 && bytes.substr(128, 4) == "DICM") return true;
  for (size_t at = 0; at <= 3; ++at) {
    if (IsPlausibleFirstElement(bytes, at)) return true;
  }
  return false;
}

absl::Status CheckStructure(absl::string_view bytes, absl::string_view source,
                            const ParseLimits& limits) {
  // Where DCMTK starts: after the preamble, else at the first plausible element (a
  // bare data set may follow up to 3 stray bytes, which ParseDicom skips).
  size_t at = 0;
  if (bytes.size() >= 132 && bytes.substr(128, 4) == "DICM") {
    at = 132;
  } else {
    for (size_t offset = 0; offset <= 3; ++offset) {
      if (IsPlausibleFirstElement(bytes, offset)) {
        at = offset;
        break;
      }
    }
  }

  std::string transfer_syntax;
  size_t data_set = SkipMetaGroup(bytes, at, &transfer_syntax);
  bool has_meta = data_set > at;
  Encoding encoding;
  if (!has_meta || transfer_syntax.empty()) {
    encoding = DetectEncoding(bytes, data_set);
  } else if (transfer_syntax == kImplicitLittleEndian) {
    encoding = {false, false};
  } else if (transfer_syntax == kExplicitBigEndian) {
    encoding = {true, true};
  }

  std::string inflated;
  absl::string_view walked = bytes;
  if (has_meta && transfer_syntax == kDeflatedExplicitLittleEndian) {
    AILAB_ASSIGN_OR_RETURN(inflated,
                           Inflate(bytes.substr(data_set), limits.max_inflated_bytes, source));
    walked = inflated;
    data_set = 0;
  }
  size_t stopped_at = 0;
  AILAB_RETURN_IF_ERROR(
      CheckNesting(walked, data_set, encoding, limits.max_nesting_depth, source, &stopped_at));
  if (stopped_at == kNoEnd) return absl::OkStatus();

  // The walk stopped at bytes it cannot read, which DCMTK may still get past. The bytes
  // after that point are safe only when they contain too few items to nest past the limit.
  // NOTE: a file can be rejected here that DCMTK would read, when an unreadable element
  // comes before many items; none of the shared test files does.
  int64_t items = CountItemTags(walked.substr(stopped_at));
  if (items > limits.max_nesting_depth) {
    return InvalidArgument(
        "DICOM_STRUCTURE_INVALID", "",
        absl::StrCat(source, ": the element at byte ", stopped_at,
                     " cannot be read (its length runs past the end of the file, or it is an "
                     "item tag or delimiter out of place), and the ",
                     items, " item tags after it could nest sequences past the limit of ",
                     limits.max_nesting_depth,
                     " levels; repair or export the file again"),
        {{"file", source}, {"offset", absl::StrCat(stopped_at)}});
  }
  return absl::OkStatus();
}

}  // namespace ailab::dicom::internal
