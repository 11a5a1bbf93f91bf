#include "ailab/imaging/npy.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"

namespace {

using ailab::imaging::Array;
using ailab::imaging::DecodeNpy;
using ailab::imaging::EncodeNpy;

// The header numpy.save(f, numpy.zeros((2, 3), '<f4')) writes, without the growth
// padding that recent NumPy versions add: the data starts at byte 128, a multiple of 64.
std::string ExpectedHeader2x3Float() {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  dict.append(128 - 10 - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string header("\x93NUMPY\x01\x00", 8);
  header.push_back(static_cast<char>(dict.size()));
  header.push_back('\0');
  return header + dict;
}

TEST_CASE("EncodeNpy: header bytes match NumPy's format", "[npy]") {
  auto array = Array::FromFloat({2, 3}, std::vector<float>{0, 1, 2, 3, 4, 5});
  REQUIRE(array.ok());
  auto bytes = EncodeNpy(*array);
  REQUIRE(bytes.ok());
  REQUIRE(bytes->size() == 128 + 6 * 4);
  CHECK(bytes->substr(0, 128) == ExpectedHeader2x3Float());
  float third;
  std::memcpy(&third, bytes->data() + 128 + 2 * 4, 4);
  CHECK(third == 2.0f);
}

TEST_CASE("EncodeNpy: one-dimensional and scalar shapes", "[npy]") {
  auto vector = Array::FromUint8({5}, std::vector<uint8_t>{1, 2, 3, 4, 5});
  REQUIRE(vector.ok());
  auto bytes = EncodeNpy(*vector);
  REQUIRE(bytes.ok());
  CHECK(bytes->find("'descr': '|u1', 'fortran_order': False, 'shape': (5,), }") !=
        std::string::npos);
  CHECK(bytes->size() % 64 == 5);

  auto scalar = Array::FromUint16({}, std::vector<uint16_t>{7});
  REQUIRE(scalar.ok());
  auto scalar_bytes = EncodeNpy(*scalar);
  REQUIRE(scalar_bytes.ok());
  CHECK(scalar_bytes->find("'shape': (), }") != std::string::npos);
}

TEST_CASE("DecodeNpy: round trip of each dtype", "[npy]") {
  SECTION("float32") {
    std::vector<float> values = {0.0f, 0.25f, -1.5f, 1e-7f, 3.0f, 100.0f};
    auto array = Array::FromFloat({1, 2, 3}, values);
    REQUIRE(array.ok());
    auto decoded = DecodeNpy(*EncodeNpy(*array));
    REQUIRE(decoded.ok());
    CHECK(decoded->shape == std::vector<int64_t>{1, 2, 3});
    CHECK(decoded->dtype == "<f4");
    CHECK(*decoded->AsFloat() == values);
  }
  SECTION("uint16") {
    std::vector<uint16_t> values = {0, 1, 4095, 65535};
    auto array = Array::FromUint16({2, 2}, values);
    REQUIRE(array.ok());
    auto decoded = DecodeNpy(*EncodeNpy(*array));
    REQUIRE(decoded.ok());
    CHECK(*decoded->AsUint16() == values);
    CHECK(*decoded->AsFloat() == std::vector<float>{0, 1, 4095, 65535});
  }
  SECTION("uint8") {
    auto array = Array::FromUint8({3}, std::vector<uint8_t>{0, 128, 255});
    REQUIRE(array.ok());
    auto decoded = DecodeNpy(*EncodeNpy(*array));
    REQUIRE(decoded.ok());
    CHECK(*decoded->AsFloat() == std::vector<float>{0, 128, 255});
    CHECK(decoded->AsUint16().status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("DecodeNpy: reads headers with growth padding", "[npy]") {
  // Recent NumPy versions leave spaces after the dictionary so the shape can grow in place.
  std::string dict = "{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }";
  dict.append(21, ' ');
  dict.append(128 - 10 - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes.push_back(static_cast<char>(dict.size()));
  bytes.push_back('\0');
  bytes += dict;
  bytes.append("\x01\x00\x02\x01", 4);
  auto decoded = DecodeNpy(bytes);
  REQUIRE(decoded.ok());
  CHECK(*decoded->AsUint16() == std::vector<uint16_t>{1, 258});
}

std::string WithDict(const std::string& dict_text, const std::string& data) {
  std::string dict = dict_text;
  dict.append(128 - 10 - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes.push_back(static_cast<char>(dict.size()));
  bytes.push_back('\0');
  return bytes + dict + data;
}

TEST_CASE("DecodeNpy: rejects what the platform does not exchange", "[npy]") {
  struct Case {
    const char* what;
    std::string bytes;
    const char* message_part;
  };
  std::vector<Case> cases = {
      {"no magic", "hello world", "magic"},
      {"version 3", std::string("\x93NUMPY\x03\x00\x00\x00", 10), "version 3.0"},
      {"fortran order",
       WithDict("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", "abcd"), "Fortran"},
      {"big endian", WithDict("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", "abcd"),
       "'>f4' is not supported"},
      {"float64", WithDict("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
                           std::string(8, '\0')),
       "'<f8' is not supported"},
      {"truncated data",
       WithDict("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "abcd"), "truncated"},
      {"trailing data",
       WithDict("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", "abc"), "needs 2"},
      {"missing key", WithDict("{'descr': '|u1', 'shape': (2,), }", "ab"), "must have the keys"},
      {"bad shape", WithDict("{'descr': '|u1', 'fortran_order': False, 'shape': (-2,), }", "ab"),
       "non-negative"},
      {"huge shape",
       WithDict("{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000, 4000000000), }",
                ""),
       "over the limit"},
      {"header past end", std::string("\x93NUMPY\x01\x00\xff\x00{", 11), "ends inside"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto decoded = DecodeNpy(c.bytes, "test.npy");
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(decoded.status().message()), Catch::Contains(c.message_part));
    CHECK_THAT(std::string(decoded.status().message()), Catch::Contains("test.npy"));
  }
}

TEST_CASE("Array: mismatched values and dtypes are errors", "[npy]") {
  CHECK(Array::FromFloat({2, 2}, std::vector<float>{1, 2, 3}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  Array bad;
  bad.shape = {2};
  bad.dtype = "<i4";
  bad.bytes.resize(8);
  CHECK(EncodeNpy(bad).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.AsFloat().status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("WriteNpy and ReadNpy: round trip through a file", "[npy]") {
  std::string path = absl::StrCat("/tmp/ailab_npy_test_", getpid(), ".npy");
  auto array = Array::FromFloat({2, 2}, std::vector<float>{1, 2, 3, 4});
  REQUIRE(array.ok());
  REQUIRE(ailab::imaging::WriteNpy(path, *array).ok());
  auto read = ailab::imaging::ReadNpy(path);
  std::remove(path.c_str());
  REQUIRE(read.ok());
  CHECK(read->shape == std::vector<int64_t>{2, 2});
  CHECK(*read->AsFloat() == std::vector<float>{1, 2, 3, 4});
  CHECK(ailab::imaging::ReadNpy(path).status().code() == absl::StatusCode::kNotFound);
}

}  // namespace
