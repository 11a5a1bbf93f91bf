// PALETTE COLOR decoding, on palette images made from a real 8-bit MONOCHROME2 file by
// adding the Red, Green and Blue Palette Color Lookup Tables.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "ailab/dicom/dicom.h"
#include "ailab/dicom/pixels.h"
#include "ailab/status/status.h"
#include "internal.h"
#include "test_files.h"

namespace {

using ailab::dicom::DecodeFrame;
using ailab::dicom::DicomObject;
using ailab::dicom::ParseDicom;

// Palette entries for index i: red rises, green falls, blue is constant.
Uint16 Red(int i) { return static_cast<Uint16>(i * 257); }
Uint16 Green(int i) { return static_cast<Uint16>((255 - i) * 257); }
Uint16 Blue(int) { return 1000; }

// vlut_04.dcm (512 x 512, 8 bits stored) as a PALETTE COLOR image with 16-bit tables,
// or with 8-bit tables packed two entries per word when `packed_8_bit`.
DicomObject PaletteImage(bool packed_8_bit) {
  auto object =
      ParseDicom(ailab::dicom::testing::ReadTestFile("uncompressed/vlut_04.dcm"), "vlut_04.dcm");
  REQUIRE(object.ok());
  DcmDataset& dataset = object->impl().dataset();
  dataset.findAndDeleteElement(DCM_VOILUTSequence);
  REQUIRE(dataset.putAndInsertString(DCM_PhotometricInterpretation, "PALETTE COLOR").good());
  const DcmTagKey descriptors[3] = {DCM_RedPaletteColorLookupTableDescriptor,
                                    DCM_GreenPaletteColorLookupTableDescriptor,
                                    DCM_BluePaletteColorLookupTableDescriptor};
  const DcmTagKey data[3] = {DCM_RedPaletteColorLookupTableData,
                             DCM_GreenPaletteColorLookupTableData,
                             DCM_BluePaletteColorLookupTableData};
  for (int c = 0; c < 3; ++c) {
    std::vector<Uint16> table(256);
    for (int i = 0; i < 256; ++i) {
      if (c == 0) {
        table[i] = Red(i);
      } else if (c == 1) {
        table[i] = Green(i);
      } else {
        table[i] = Blue(i);
      }
    }
    std::string descriptor = packed_8_bit ? "256\\0\\8" : "256\\0\\16";
    REQUIRE(dataset.putAndInsertString(DcmTag(descriptors[c], EVR_US), descriptor.c_str()).good());
    if (packed_8_bit) {
      // The high byte of each 16-bit entry, two entries per word, low byte first.
      std::vector<Uint16> words(128);
      for (int i = 0; i < 128; ++i) {
        words[i] = static_cast<Uint16>((table[2 * i] >> 8) | (table[2 * i + 1] & 0xFF00));
      }
      REQUIRE(dataset.putAndInsertUint16Array(DcmTag(data[c], EVR_OW), words.data(), 128).good());
    } else {
      REQUIRE(dataset.putAndInsertUint16Array(DcmTag(data[c], EVR_OW), table.data(), 256).good());
    }
  }
  REQUIRE(ailab::dicom::internal::RefreshHeader(object->impl()).ok());
  // Through the file format and back, as an upload would arrive.
  auto bytes = object->Serialize();
  REQUIRE(bytes.ok());
  auto again = ParseDicom(*bytes, "palette.dcm");
  INFO(again.status().ToString());
  REQUIRE(again.ok());
  return std::move(*again);
}

std::vector<float> StoredValues() {
  auto object =
      ParseDicom(ailab::dicom::testing::ReadTestFile("uncompressed/vlut_04.dcm"), "vlut_04.dcm");
  REQUIRE(object.ok());
  auto frame = DecodeFrame(*object);
  REQUIRE(frame.ok());
  return frame->values;
}

TEST_CASE("Palette: 16-bit tables map to luma", "[dicom]") {
  DicomObject object = PaletteImage(/*packed_8_bit=*/false);
  CHECK(object.header().photometric_interpretation == "PALETTE COLOR");
  auto frame = DecodeFrame(object);
  INFO(frame.status().ToString());
  REQUIRE(frame.ok());
  CHECK(frame->from_color);
  CHECK(frame->nominal_max == 65535.0f);
  std::vector<float> stored = StoredValues();
  REQUIRE(frame->values.size() == stored.size());
  for (size_t i = 0; i < stored.size(); i += 509) {
    int index = static_cast<int>(stored[i]);
    float expected = 0.299f * Red(index) + 0.587f * Green(index) + 0.114f * Blue(index);
    CHECK(frame->values[i] == Approx(expected).margin(0.5));
  }
  auto display = ailab::dicom::RenderDisplay8(object);
  REQUIRE(display.ok());
  CHECK(display->pixels.size() == 512u * 512u);
}

TEST_CASE("Palette: packed 8-bit tables map to luma", "[dicom]") {
  DicomObject object = PaletteImage(/*packed_8_bit=*/true);
  auto frame = DecodeFrame(object);
  INFO(frame.status().ToString());
  REQUIRE(frame.ok());
  CHECK(frame->nominal_max == 255.0f);
  std::vector<float> stored = StoredValues();
  for (size_t i = 0; i < stored.size(); i += 509) {
    int index = static_cast<int>(stored[i]);
    float expected =
        0.299f * (Red(index) >> 8) + 0.587f * (Green(index) >> 8) + 0.114f * (Blue(index) >> 8);
    CHECK(frame->values[i] == Approx(expected).margin(0.5));
  }
}

TEST_CASE("Palette: missing or segmented tables are rejected", "[dicom]") {
  SECTION("missing descriptor") {
    DicomObject object = PaletteImage(false);
    object.impl().dataset().findAndDeleteElement(DCM_GreenPaletteColorLookupTableDescriptor);
    auto frame = DecodeFrame(object);
    REQUIRE_FALSE(frame.ok());
    CHECK(frame.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(ailab::GetErrorReason(frame.status()) == "INVALID_PALETTE");
    CHECK_THAT(std::string(frame.status().message()), Catch::Contains("Green"));
  }
  SECTION("segmented tables") {
    DicomObject object = PaletteImage(false);
    Uint16 segment[4] = {0, 1, 0, 0};
    object.impl().dataset().putAndInsertUint16Array(
        DcmTag(DCM_SegmentedRedPaletteColorLookupTableData, EVR_OW), segment, 4);
    auto frame = DecodeFrame(object);
    REQUIRE_FALSE(frame.ok());
    CHECK(frame.status().code() == absl::StatusCode::kUnimplemented);
    CHECK(ailab::GetErrorReason(frame.status()) == "UNSUPPORTED_PALETTE");
  }
}

}  // namespace
