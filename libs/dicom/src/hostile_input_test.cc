// Damaged copies of real files: every one must give a result or an error, never a crash.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ailab/dicom/deidentify.h"
#include "ailab/dicom/dicom.h"
#include "ailab/dicom/pixels.h"
#include "ailab/status/status.h"
#include "test_files.h"

namespace {

using ailab::dicom::testing::ReadTestFile;

// Parses, decodes and de-identifies `bytes` as far as it goes.
void Exercise(const std::string& bytes) {
  auto object = ailab::dicom::ParseDicom(bytes, "damaged.dcm");
  if (!object.ok()) {
    CHECK_FALSE(object.status().message().empty());
    return;
  }
  if (object->header().has_pixel_data) {
    auto frame = ailab::dicom::DecodeFrame(*object, 0);
    if (frame.ok()) {
      auto display = ailab::dicom::ToDisplay(*object, *frame);
      CHECK((display.ok() || !display.status().message().empty()));
    }
  }
  ailab::dicom::DeidentifyOptions options;
  options.secret_key = "hostile-input-test-key";
  auto result = ailab::dicom::DeidentifyInPlace(*object, options);
  if (result.ok()) CHECK(object->Serialize().status().code() != absl::StatusCode::kUnknown);
}

const char* const kFiles[] = {
    "uncompressed/CT_small.dcm",       "uncompressed/MR_small_implicit.dcm",
    "compressed/MR_small_RLE.dcm",     "compressed/MR_small_jpeg_ls_lossless.dcm",
    "compressed/MR_small_jp2klossless.dcm", "compressed/SC_rgb_jpeg_dcmtk.dcm",
    "compressed/JPGExtended.dcm",      "uncompressed/image_dfl.dcm",
};

TEST_CASE("ParseDicom: truncated copies never crash", "[dicom]") {
  for (const char* path : kFiles) {
    INFO(path);
    std::string bytes = ReadTestFile(path);
    REQUIRE_FALSE(bytes.empty());
    for (size_t length = 0; length < bytes.size(); length += 1 + bytes.size() / 97) {
      INFO(length);
      Exercise(bytes.substr(0, length));
    }
  }
}

TEST_CASE("ParseDicom: copies with damaged bytes never crash", "[dicom]") {
  std::mt19937 random(20240601);
  for (const char* path : kFiles) {
    INFO(path);
    std::string original = ReadTestFile(path);
    REQUIRE_FALSE(original.empty());
    for (int round = 0; round < 40; ++round) {
      std::string bytes = original;
      std::uniform_int_distribution<size_t> position(0, bytes.size() - 1);
      for (int i = 0; i < 8; ++i) bytes[position(random)] = static_cast<char>(random());
      INFO(round);
      Exercise(bytes);
    }
  }
}

}  // namespace

// Hostile structures built in memory: sequences nested far deeper than any standard
// object, and a deflated data set that inflates to much more than it occupies.
namespace {

using ailab::dicom::ParseDicom;
using ailab::dicom::ParseLimits;

std::string Uint16Bytes(uint16_t value, bool big_endian) {
  std::string out(2, '\0');
  out[big_endian ? 1 : 0] = static_cast<char>(value & 0xFF);
  out[big_endian ? 0 : 1] = static_cast<char>(value >> 8);
  return out;
}

std::string Uint32Bytes(uint32_t value, bool big_endian) {
  uint16_t high = static_cast<uint16_t>(value >> 16);
  uint16_t low = static_cast<uint16_t>(value & 0xFFFF);
  return big_endian ? Uint16Bytes(high, true) + Uint16Bytes(low, true)
                    : Uint16Bytes(low, false) + Uint16Bytes(high, false);
}

// Encoding of the data set that a generated file uses.
struct Syntax {
  std::string uid;
  bool explicit_vr = true;
  bool big_endian = false;
};
const Syntax kExplicitLittle{"1.2.840.10008.1.2.1", true, false};
const Syntax kImplicitLittle{"1.2.840.10008.1.2", false, false};
const Syntax kExplicitBig{"1.2.840.10008.1.2.2", true, true};
const Syntax kDeflated{"1.2.840.10008.1.2.1.99", true, false};

// One element with a value; `vr` decides the header layout in explicit syntaxes.
std::string Element(uint16_t group, uint16_t element, const std::string& vr, std::string value,
                    const Syntax& syntax) {
  if (value.size() % 2 == 1) value.push_back(vr == "UI" || vr == "OB" ? '\0' : ' ');
  std::string out = Uint16Bytes(group, syntax.big_endian) +
                    Uint16Bytes(element, syntax.big_endian);
  auto length = static_cast<uint32_t>(value.size());
  if (!syntax.explicit_vr) {
    out += Uint32Bytes(length, syntax.big_endian);
  } else if (vr == "OB" || vr == "SQ") {
    out += vr + std::string(2, '\0') + Uint32Bytes(length, syntax.big_endian);
  } else {
    out += vr + Uint16Bytes(static_cast<uint16_t>(length), syntax.big_endian);
  }
  return out + value;
}

// Header of a Content Sequence (0040,A730), of an item, or of a delimiter.
std::string SequenceHeader(uint32_t length, const Syntax& syntax) {
  std::string out = Uint16Bytes(0x0040, syntax.big_endian) + Uint16Bytes(0xA730, syntax.big_endian);
  if (syntax.explicit_vr) out += "SQ" + std::string(2, '\0');
  return out + Uint32Bytes(length, syntax.big_endian);
}
std::string ItemTag(uint16_t element, uint32_t length, const Syntax& syntax) {
  return Uint16Bytes(0xFFFE, syntax.big_endian) + Uint16Bytes(element, syntax.big_endian) +
         Uint32Bytes(length, syntax.big_endian);
}

// The attributes every generated data set starts with.
std::string Identification(const Syntax& syntax) {
  return Element(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7", syntax) +
         Element(0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.2.1125.1.1", syntax);
}

// Content Sequences nested `depth` deep, each holding one item; undefined lengths
// with delimiters, or defined lengths computed from the innermost level out.
std::string NestedSequences(int depth, bool defined_lengths, const Syntax& syntax) {
  std::string out;
  size_t header = syntax.explicit_vr ? 12 : 8;
  if (!defined_lengths) {
    for (int level = 0; level < depth; ++level) {
      out += SequenceHeader(0xFFFFFFFF, syntax) + ItemTag(0xE000, 0xFFFFFFFF, syntax);
    }
    for (int level = 0; level < depth; ++level) {
      out += ItemTag(0xE00D, 0, syntax) + ItemTag(0xE0DD, 0, syntax);
    }
    return out;
  }
  std::vector<uint32_t> item_lengths(depth);
  uint32_t inner = 0;  // Bytes of the sequence inside the current item.
  for (int level = depth - 1; level >= 0; --level) {
    item_lengths[level] = inner;
    inner = static_cast<uint32_t>(header + 8 + item_lengths[level]);
  }
  for (int level = 0; level < depth; ++level) {
    out += SequenceHeader(8 + item_lengths[level], syntax) +
           ItemTag(0xE000, item_lengths[level], syntax);
  }
  return out;
}

// Raw deflate (RFC 1951) of `data`, as the deflated transfer syntax stores it.
std::string Deflate(const std::string& data) {
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// A Part 10 file: preamble, file meta group (explicit VR little endian) and `data_set`,
// deflated for the deflated syntax.
std::string Part10File(const Syntax& syntax, const std::string& data_set) {
  Syntax meta = kExplicitLittle;
  std::string group = Element(0x0002, 0x0001, "OB", std::string("\0\1", 2), meta) +
                      Element(0x0002, 0x0010, "UI", syntax.uid, meta);
  std::string out(128, '\0');
  out += "DICM" + Element(0x0002, 0x0000, "UL", Uint32Bytes(group.size(), false), meta) + group;
  return out + (syntax.uid == kDeflated.uid ? Deflate(data_set) : data_set);
}

std::string NestedFile(int depth, bool defined_lengths, const Syntax& syntax) {
  Syntax data_set_syntax = syntax.uid == kDeflated.uid ? kExplicitLittle : syntax;
  return Part10File(syntax, Identification(data_set_syntax) +
                                NestedSequences(depth, defined_lengths, data_set_syntax));
}

void ExpectNestingRejected(const std::string& bytes, int depth) {
  auto object = ParseDicom(bytes, "nested.dcm");
  REQUIRE_FALSE(object.ok());
  INFO(object.status().ToString());
  CHECK(object.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ailab::GetErrorReason(object.status()) == "DICOM_NESTING_TOO_DEEP");
  std::string message(object.status().message());
  CHECK_THAT(message, Catch::StartsWith("nested.dcm: "));
  CHECK_THAT(message, Catch::Contains("limit of 32 levels"));
  if (depth == 33) CHECK_THAT(message, Catch::Contains("at least 33 levels"));
}

TEST_CASE("ParseDicom: sequences 10000 deep are rejected, not a crash", "[dicom]") {
  for (int depth : {2000, 5000, 10000}) {
    INFO(depth);
    std::string bytes = NestedFile(depth, /*defined_lengths=*/false, kExplicitLittle);
    if (depth == 10000) CHECK(bytes.size() > 350000);
    ExpectNestingRejected(bytes, depth);
  }
}

TEST_CASE("ParseDicom: deep nesting is rejected in every syntax", "[dicom]") {
  struct Case {
    const char* name;
    Syntax syntax;
    bool defined_lengths;
  };
  for (const Case& c : {Case{"explicit little, undefined", kExplicitLittle, false},
                        Case{"explicit little, defined", kExplicitLittle, true},
                        Case{"implicit little, undefined", kImplicitLittle, false},
                        Case{"implicit little, defined", kImplicitLittle, true},
                        Case{"explicit big, undefined", kExplicitBig, false},
                        Case{"explicit big, defined", kExplicitBig, true},
                        Case{"deflated, undefined", kDeflated, false},
                        Case{"deflated, defined", kDeflated, true}}) {
    INFO(c.name);
    ExpectNestingRejected(NestedFile(10000, c.defined_lengths, c.syntax), 10000);
    ExpectNestingRejected(NestedFile(33, c.defined_lengths, c.syntax), 33);
    auto at_limit = ParseDicom(NestedFile(32, c.defined_lengths, c.syntax), "nested.dcm");
    INFO(at_limit.status().ToString());
    CHECK(at_limit.ok());
  }
}

// Odd elements must not hide deep nesting behind them. A VR field that is not two
// letters has a 2-byte length (as DCMTK reads it), so the walk steps over it. An
// element that overruns its item is read on, as DCMTK does. A stray item tag at the
// top level stops the walk, and then the many item tags after it reject the file.
TEST_CASE("ParseDicom: odd elements do not hide deep nesting", "[dicom]") {
  std::string nested = NestedSequences(10000, false, kExplicitLittle);
  std::string odd_vr = Uint16Bytes(0x0011, false) + Uint16Bytes(0x1010, false) +
                       std::string("\x01\x02", 2) + Uint16Bytes(4, false) + "abcd";
  ExpectNestingRejected(
      Part10File(kExplicitLittle, Identification(kExplicitLittle) + odd_vr + nested), 10000);

  std::string overrun = SequenceHeader(0xFFFFFFFF, kExplicitLittle) +
                        ItemTag(0xE000, 16, kExplicitLittle) +
                        Element(0x0008, 0x0100, "SH", std::string(40, 'x'), kExplicitLittle);
  ExpectNestingRejected(
      Part10File(kExplicitLittle, Identification(kExplicitLittle) + overrun + nested), 10000);

  std::string stray_item = ItemTag(0xE000, 0, kExplicitLittle);
  auto object = ParseDicom(
      Part10File(kExplicitLittle, Identification(kExplicitLittle) + stray_item + nested),
      "stray.dcm");
  REQUIRE_FALSE(object.ok());
  INFO(object.status().ToString());
  CHECK(object.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ailab::GetErrorReason(object.status()) == "DICOM_STRUCTURE_INVALID");
  CHECK_THAT(std::string(object.status().message()), Catch::Contains("limit of 32 levels"));
}

TEST_CASE("ParseDicom: nesting limit is a parse option", "[dicom]") {
  ParseLimits limits;
  limits.max_nesting_depth = 4;
  std::string bytes = NestedFile(5, false, kExplicitLittle);
  auto object = ParseDicom(bytes, "nested.dcm", limits);
  REQUIRE_FALSE(object.ok());
  CHECK(ailab::GetErrorReason(object.status()) == "DICOM_NESTING_TOO_DEEP");
  CHECK(ParseDicom(bytes, "nested.dcm").ok());
}

// The data set of a deflated file that inflates to `inflated_bytes` of document.
std::string DeflateBomb(size_t inflated_bytes) {
  std::string data_set = Identification(kExplicitLittle) +
                         Element(0x0042, 0x0011, "OB", std::string(inflated_bytes, '\0'),
                                 kExplicitLittle);
  return Part10File(kDeflated, data_set);
}

TEST_CASE("ParseDicom: inflated size of a deflated file is capped", "[dicom]") {
  std::string bytes = DeflateBomb(8 << 20);
  CHECK(bytes.size() < 64 * 1024);
  ParseLimits limits;
  limits.max_inflated_bytes = 1 << 20;
  auto object = ParseDicom(bytes, "bomb.dcm", limits);
  REQUIRE_FALSE(object.ok());
  INFO(object.status().ToString());
  CHECK(object.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ailab::GetErrorReason(object.status()) == "DICOM_TOO_LARGE");
  CHECK_THAT(std::string(object.status().message()), Catch::StartsWith("bomb.dcm: "));
  CHECK_THAT(std::string(object.status().message()), Catch::Contains("1048576 bytes"));

  // Under the default limit of 512 MiB the same file is read.
  auto within = ParseDicom(bytes, "bomb.dcm");
  INFO(within.status().ToString());
  CHECK(within.ok());
}

TEST_CASE("ParseDicom: real deflated file stays readable", "[dicom]") {
  std::string bytes = ailab::dicom::testing::ReadTestFile("uncompressed/image_dfl.dcm");
  REQUIRE_FALSE(bytes.empty());
  auto object = ParseDicom(bytes, "image_dfl.dcm");
  INFO(object.status().ToString());
  CHECK(object.ok());
}

}  // namespace
