#include "ailab/imaging/npy.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/status/status.h"

namespace ailab::imaging {
namespace {

// The element bytes are copied as they are in memory, which is the .npy layout only on
// a little-endian machine.
static_assert(std::endian::native == std::endian::little,
              "the .npy code assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// Writers align the start of the data to this many bytes, as NumPy does since 1.16.
constexpr size_t kAlignment = 64;

size_t ItemSize(absl::string_view dtype) {
  if (dtype == kFloat32) return 4;
  if (dtype == kUint16) return 2;
  if (dtype == kUint8) return 1;
  return 0;
}

absl::Status BadNpy(absl::string_view source, absl::string_view message) {
  return InvalidArgument("INVALID_NPY", "", absl::StrCat(source, ": ", message),
                         {{"source", source}});
}

template <typename T>
absl::StatusOr<Array> FromValues(std::vector<int64_t> shape, absl::string_view dtype,
                                 absl::Span<const T> values) {
  Array array;
  array.shape = std::move(shape);
  array.dtype = std::string(dtype);
  int64_t count = array.element_count();
  if (count < 0 || static_cast<uint64_t>(count) != values.size()) {
    return InvalidArgument(
        "ARRAY_SHAPE_MISMATCH", "shape",
        absl::StrCat("array shape (", absl::StrJoin(array.shape, ", "), ") needs ", count,
                     " elements but ", values.size(), " were given"));
  }
  array.bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(array.bytes.data(), values.data(), array.bytes.size());
  return array;
}

// The dictionary of a .npy header, for example
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// Reads the Python literal dictionary NumPy writes. Only the three keys NumPy defines
// are accepted, each exactly once.
class HeaderParser {
 public:
  HeaderParser(absl::string_view text, absl::string_view source) : text_(text), source_(source) {}

  absl::StatusOr<Header> Parse() {
    Header header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    SkipSpace();
    if (!Consume('{')) return Fail("header does not start with '{'");
    while (true) {
      SkipSpace();
      if (Consume('}')) break;
      AILAB_ASSIGN_OR_RETURN(std::string key, ParseString());
      SkipSpace();
      if (!Consume(':')) return Fail(absl::StrCat("missing ':' after key '", key, "'"));
      SkipSpace();
      if (key == "descr" && !seen_descr) {
        AILAB_ASSIGN_OR_RETURN(header.descr, ParseString());
        seen_descr = true;
      } else if (key == "fortran_order" && !seen_order) {
        AILAB_ASSIGN_OR_RETURN(header.fortran_order, ParseBool());
        seen_order = true;
      } else if (key == "shape" && !seen_shape) {
        AILAB_ASSIGN_OR_RETURN(header.shape, ParseShape());
        seen_shape = true;
      } else {
        return Fail(absl::StrCat("unexpected or repeated header key '", key, "'"));
      }
      SkipSpace();
      if (Consume(',')) continue;
      SkipSpace();
      if (Consume('}')) break;
      return Fail("expected ',' or '}' in the header dictionary");
    }
    SkipSpace();
    if (pos_ != text_.size()) return Fail("unexpected text after the header dictionary");
    if (!seen_descr || !seen_order || !seen_shape) {
      return Fail("header must have the keys 'descr', 'fortran_order' and 'shape'");
    }
    return header;
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }

  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  absl::Status Fail(absl::string_view message) const {
    return BadNpy(source_, absl::StrCat("invalid .npy header (", message, ")"));
  }

  absl::StatusOr<std::string> ParseString() {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return Fail("expected a quoted string");
    }
    char quote = text_[pos_++];
    size_t end = text_.find(quote, pos_);
    if (end == absl::string_view::npos) return Fail("unterminated string");
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }

  absl::StatusOr<bool> ParseBool() {
    if (absl::StartsWith(text_.substr(pos_), "True")) {
      pos_ += 4;
      return true;
    }
    if (absl::StartsWith(text_.substr(pos_), "False")) {
      pos_ += 5;
      return false;
    }
    return Fail("'fortran_order' must be True or False");
  }

  absl::StatusOr<std::vector<int64_t>> ParseShape() {
    std::vector<int64_t> shape;
    if (!Consume('(')) return Fail("'shape' must be a tuple");
    while (true) {
      SkipSpace();
      if (Consume(')')) break;
      size_t start = pos_;
      while (pos_ < text_.size() && absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      }
      // Python 2 era writers appended 'L' to long integers.
      absl::string_view digits = text_.substr(start, pos_ - start);
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
      int64_t extent = 0;
      if (digits.empty() || !absl::SimpleAtoi(digits, &extent)) {
        return Fail("'shape' must hold non-negative integers");
      }
      shape.push_back(extent);
      SkipSpace();
      if (Consume(',')) continue;
      SkipSpace();
      if (Consume(')')) break;
      return Fail("expected ',' or ')' in 'shape'");
    }
    return shape;
  }

  absl::string_view text_;
  absl::string_view source_;
  size_t pos_ = 0;
};

std::string ShapeLiteral(const std::vector<int64_t>& shape) {
  // A one-element tuple needs its trailing comma: (5,).
  if (shape.size() == 1) return absl::StrCat("(", shape[0], ",)");
  return absl::StrCat("(", absl::StrJoin(shape, ", "), ")");
}

}  // namespace

absl::StatusOr<Array> Array::FromFloat(std::vector<int64_t> shape, absl::Span<const float> values) {
  return FromValues(std::move(shape), kFloat32, values);
}

absl::StatusOr<Array> Array::FromUint16(std::vector<int64_t> shape,
                                        absl::Span<const uint16_t> values) {
  return FromValues(std::move(shape), kUint16, values);
}

absl::StatusOr<Array> Array::FromUint8(std::vector<int64_t> shape,
                                       absl::Span<const uint8_t> values) {
  return FromValues(std::move(shape), kUint8, values);
}

int64_t Array::element_count() const {
  int64_t count = 1;
  for (int64_t extent : shape) {
    if (extent < 0) return -1;
    if (extent != 0 && count > std::numeric_limits<int64_t>::max() / extent) return -1;
    count *= extent;
  }
  return count;
}

size_t Array::item_size() const { return ItemSize(dtype); }

absl::Status ValidateArray(const Array& array) {
  if (ItemSize(array.dtype) == 0) {
    return InvalidArgument("UNSUPPORTED_DTYPE", "dtype",
                           absl::StrCat("array dtype \"", array.dtype, "\" is not supported; use ",
                                        kFloat32, ", ", kUint16, " or ", kUint8),
                           {{"dtype", array.dtype}});
  }
  int64_t count = array.element_count();
  if (count < 0 || count > kMaxNpyDataBytes) {
    return InvalidArgument("INVALID_ARRAY_SHAPE", "shape",
                           absl::StrCat("array shape (", absl::StrJoin(array.shape, ", "),
                                        ") is negative or too large"));
  }
  uint64_t expected = static_cast<uint64_t>(count) * ItemSize(array.dtype);
  if (array.bytes.size() != expected) {
    return InvalidArgument(
        "ARRAY_SIZE_MISMATCH", "bytes",
        absl::StrCat("array of shape (", absl::StrJoin(array.shape, ", "), ") and dtype ",
                     array.dtype, " needs ", expected, " bytes but has ", array.bytes.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> Array::AsFloat() const {
  AILAB_RETURN_IF_ERROR(ValidateArray(*this));
  size_t count = bytes.size() / item_size();
  std::vector<float> values(count);
  if (dtype == kFloat32) {
    if (count > 0) std::memcpy(values.data(), bytes.data(), bytes.size());
  } else if (dtype == kUint16) {
    for (size_t i = 0; i < count; ++i) {
      uint16_t v;
      std::memcpy(&v, bytes.data() + 2 * i, 2);
      values[i] = static_cast<float>(v);
    }
  } else {
    for (size_t i = 0; i < count; ++i) values[i] = static_cast<float>(bytes[i]);
  }
  return values;
}

absl::StatusOr<std::vector<uint16_t>> Array::AsUint16() const {
  AILAB_RETURN_IF_ERROR(ValidateArray(*this));
  if (dtype != kUint16) {
    return InvalidArgument("DTYPE_MISMATCH", "dtype",
                           absl::StrCat("array has dtype ", dtype, ", not ", kUint16,
                                        "; use AsFloat() to convert"),
                           {{"dtype", dtype}});
  }
  std::vector<uint16_t> values(bytes.size() / 2);
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), bytes.size());
  return values;
}

absl::StatusOr<std::string> EncodeNpy(const Array& array) {
  AILAB_RETURN_IF_ERROR(ValidateArray(array));

  // The dictionary, padded with spaces and ended by '\n' so the data starts on a
  // multiple of kAlignment.
  std::string dict = absl::StrCat("{'descr': '", array.dtype, "', 'fortran_order': False, 'shape': ",
                                  ShapeLiteral(array.shape), ", }");
  size_t prefix = kMagicSize + 2 + 2;
  size_t total = prefix + dict.size() + 1;
  size_t padded = (total + kAlignment - 1) / kAlignment * kAlignment;
  dict.append(padded - total, ' ');
  dict.push_back('\n');

  std::string out;
  out.reserve(padded + array.bytes.size());
  out.append(kMagic, kMagicSize);
  out.push_back('\x01');
  out.push_back('\x00');
  uint16_t header_len = static_cast<uint16_t>(dict.size());
  out.push_back(static_cast<char>(header_len & 0xff));
  out.push_back(static_cast<char>(header_len >> 8));
  out.append(dict);
  out.append(reinterpret_cast<const char*>(array.bytes.data()), array.bytes.size());
  return out;
}

absl::Status WriteNpy(const std::string& path, const Array& array) {
  AILAB_ASSIGN_OR_RETURN(std::string bytes, EncodeNpy(array));
  std::string temporary = absl::StrCat(path, ".tmp");
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!file) {
      return Internal("FILE_WRITE_FAILED",
                      absl::StrCat("cannot open \"", temporary, "\" for writing: ",
                                   std::strerror(errno)),
                      {{"path", temporary}});
    }
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    file.close();
    if (!file) {
      std::remove(temporary.c_str());
      return Internal("FILE_WRITE_FAILED", absl::StrCat("writing \"", temporary, "\" failed"),
                      {{"path", temporary}});
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return Internal("FILE_WRITE_FAILED",
                    absl::StrCat("cannot rename \"", temporary, "\" to \"", path,
                                 "\": ", std::strerror(errno)),
                    {{"path", path}});
  }
  return absl::OkStatus();
}

absl::StatusOr<Array> DecodeNpy(absl::string_view bytes, absl::string_view source) {
  // Magic string and version.
  if (bytes.size() < kMagicSize + 2 || bytes.substr(0, kMagicSize) != absl::string_view(kMagic, kMagicSize)) {
    return BadNpy(source, "not a .npy file (the magic string \\x93NUMPY is missing)");
  }
  uint8_t major = static_cast<uint8_t>(bytes[6]);
  uint8_t minor = static_cast<uint8_t>(bytes[7]);
  if ((major != 1 && major != 2) || minor != 0) {
    return BadNpy(source, absl::StrCat(".npy format version ", major, ".", minor,
                                       " is not supported; write version 1.0"));
  }

  // Header length: 2 bytes in version 1.0, 4 bytes in 2.0, little endian.
  size_t length_size = major == 1 ? 2 : 4;
  size_t prefix = kMagicSize + 2 + length_size;
  if (bytes.size() < prefix) return BadNpy(source, "file ends inside the .npy preamble");
  uint64_t header_len = 0;
  for (size_t i = 0; i < length_size; ++i) {
    header_len |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
  }
  if (header_len > kMaxNpyHeaderBytes) {
    return BadNpy(source, absl::StrCat(".npy header of ", header_len, " bytes is over the limit of ",
                                       kMaxNpyHeaderBytes));
  }
  if (bytes.size() < prefix + header_len) {
    return BadNpy(source, "file ends inside the .npy header");
  }
  AILAB_ASSIGN_OR_RETURN(Header header,
                         HeaderParser(bytes.substr(prefix, header_len), source).Parse());

  // Only C-order little-endian arrays of the supported dtypes.
  if (header.fortran_order) {
    return BadNpy(source, "Fortran-order arrays are not supported; save a C-order array "
                          "(numpy.ascontiguousarray)");
  }
  if (ItemSize(header.descr) == 0) {
    return BadNpy(source, absl::StrCat("dtype '", header.descr, "' is not supported; use ",
                                       kFloat32, ", ", kUint16, " or ", kUint8));
  }
  Array array;
  array.shape = std::move(header.shape);
  array.dtype = header.descr;
  int64_t count = array.element_count();
  if (count < 0 || count > kMaxNpyDataBytes / static_cast<int64_t>(array.item_size())) {
    return BadNpy(source, absl::StrCat("shape (", absl::StrJoin(array.shape, ", "),
                                       ") is over the limit of ", kMaxNpyDataBytes, " bytes"));
  }
  uint64_t expected = static_cast<uint64_t>(count) * array.item_size();
  uint64_t available = bytes.size() - prefix - header_len;
  if (available != expected) {
    return BadNpy(source, absl::StrCat("data section has ", available, " bytes but shape (",
                                       absl::StrJoin(array.shape, ", "), ") of ", array.dtype,
                                       " needs ", expected,
                                       available < expected ? " (truncated file)" : ""));
  }
  const uint8_t* data = reinterpret_cast<const uint8_t*>(bytes.data()) + prefix + header_len;
  array.bytes.assign(data, data + expected);
  return array;
}

absl::StatusOr<Array> ReadNpy(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return NotFound("FILE_NOT_FOUND",
                    absl::StrCat("cannot open \"", path, "\": ", std::strerror(errno)),
                    {{"path", path}});
  }
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return DecodeNpy(bytes, path);
}

}  // namespace ailab::imaging
