// NumPy .npy files: the array format that preparation writes and training reads.
//
// Only what the platform exchanges is supported: format version 1.0 (2.0 is read too),
// C order, little-endian data of dtype "<f4" (float32), "<u2" (uint16) or "|u1"
// (uint8). Anything else (Fortran order, big-endian or other dtypes, a data section
// shorter or longer than the shape needs) is rejected with INVALID_ARGUMENT naming the
// source and the fault. The files written here load with numpy.load().
//
// All functions are thread-safe; an Array is a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ailab::imaging {

// dtype strings of the supported element types, as NumPy spells them.
inline constexpr absl::string_view kFloat32 = "<f4";
inline constexpr absl::string_view kUint16 = "<u2";
inline constexpr absl::string_view kUint8 = "|u1";

// Largest header and data accepted when reading, so a hostile file cannot make the
// reader allocate without bound.
inline constexpr size_t kMaxNpyHeaderBytes = 64 * 1024;
inline constexpr int64_t kMaxNpyDataBytes = int64_t{4} * 1024 * 1024 * 1024;

// An n-dimensional array in C order: the last index varies fastest.
struct Array {
  // Extent of each dimension; empty for a scalar.
  std::vector<int64_t> shape;
  // Element type: kFloat32, kUint16 or kUint8.
  std::string dtype;
  // Elements in C order, little endian; size() == element_count() * item_size().
  std::vector<uint8_t> bytes;

  // Makes arrays of `shape` from values; INVALID_ARGUMENT when the number of values
  // does not match the shape.
  static absl::StatusOr<Array> FromFloat(std::vector<int64_t> shape, absl::Span<const float> values);
  static absl::StatusOr<Array> FromUint16(std::vector<int64_t> shape,
                                          absl::Span<const uint16_t> values);
  static absl::StatusOr<Array> FromUint8(std::vector<int64_t> shape,
                                         absl::Span<const uint8_t> values);

  // Product of the shape (1 for a scalar), or -1 when a dimension is negative or the
  // product overflows.
  int64_t element_count() const;

  // Bytes per element of `dtype`; 0 for an unsupported dtype.
  size_t item_size() const;

  // Copies the elements out as float. uint16 and uint8 elements convert exactly.
  // INVALID_ARGUMENT for an unsupported dtype or a byte count that does not match.
  absl::StatusOr<std::vector<float>> AsFloat() const;

  // Copies the elements out as uint16; the dtype must be kUint16.
  absl::StatusOr<std::vector<uint16_t>> AsUint16() const;
};

// Checks that `array` has a supported dtype, a valid shape and the right byte count.
absl::Status ValidateArray(const Array& array);

// Serialises `array` as a version 1.0 .npy file.
absl::StatusOr<std::string> EncodeNpy(const Array& array);

// Writes `array` to `path` as a .npy file (through a temporary file and a rename).
absl::Status WriteNpy(const std::string& path, const Array& array);

// Parses the .npy file in `bytes`. `source` names the data in error messages.
absl::StatusOr<Array> DecodeNpy(absl::string_view bytes, absl::string_view source = "npy data");

// Reads and parses the .npy file at `path`.
absl::StatusOr<Array> ReadNpy(const std::string& path);

}  // namespace ailab::imaging
