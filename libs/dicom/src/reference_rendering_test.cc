// The display pipeline against renderings by DCMTK's dcmj2pnm, an independent
// implementation of the same steps. The references are checked in under
// libs/dicom/testdata and regenerated with make_reference_renderings.sh there.
//
// Tolerance: every pixel within 1 grey level of the reference (rounding of the window
// formula differs between implementations), and at most 5% of the pixels off by 1.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "ailab/dicom/dicom.h"
#include "ailab/dicom/pixels.h"
#include "ailab/imaging/png.h"
#include "test_files.h"

namespace {

using ailab::dicom::DisplayOptions;
using ailab::dicom::WindowSource;

std::string ReadReference(const std::string& name) {
  const char* source = std::getenv("AILAB_SOURCE_DIR");
  std::string path = std::string(source != nullptr ? source : ".") + "/libs/dicom/testdata/" + name;
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// Renders `dicom_path` with `options` through the PNG encoder and decoder, as the
// preparation service stores it, and compares it with the reference PNG `reference`.
void CompareWithReference(const std::string& dicom_path, const DisplayOptions& options,
                          const std::string& reference) {
  auto object =
      ailab::dicom::ParseDicom(ailab::dicom::testing::ReadTestFile(dicom_path), dicom_path);
  INFO(object.status().ToString());
  REQUIRE(object.ok());
  auto display = ailab::dicom::RenderDisplay8(*object, options);
  INFO(display.status().ToString());
  REQUIRE(display.ok());
  auto png = ailab::imaging::EncodePng8(display->pixels, display->columns, display->rows, 6);
  REQUIRE(png.ok());
  auto ours = ailab::imaging::DecodePng(*png, "rendering");
  REQUIRE(ours.ok());

  std::string reference_bytes = ReadReference(reference);
  REQUIRE_FALSE(reference_bytes.empty());
  auto expected = ailab::imaging::DecodePng(reference_bytes, reference);
  INFO(expected.status().ToString());
  REQUIRE(expected.ok());
  REQUIRE(expected->bit_depth == 8);
  REQUIRE(expected->width == ours->width);
  REQUIRE(expected->height == ours->height);

  int max_difference = 0;
  size_t off_by_one = 0;
  for (size_t i = 0; i < expected->pixels.size(); ++i) {
    int difference = std::abs(int{expected->pixels[i]} - int{ours->pixels[i]});
    max_difference = std::max(max_difference, difference);
    if (difference == 1) ++off_by_one;
  }
  INFO("pixels off by one: " << off_by_one << " of " << expected->pixels.size());
  CHECK(max_difference <= 1);
  CHECK(off_by_one * 20 <= expected->pixels.size());
}

TEST_CASE("ReferenceRendering: MONOCHROME1 with its file window", "[dicom]") {
  DisplayOptions options;
  options.source = WindowSource::kFileWindow;
  CompareWithReference("uncompressed/DX_MONO1_highdicom.dcm", options,
                       "DX_MONO1_highdicom.window1.png");
}

TEST_CASE("ReferenceRendering: MONOCHROME1 with the automatic choice", "[dicom]") {
  CompareWithReference("uncompressed/DX_MONO1_highdicom.dcm", DisplayOptions{},
                       "DX_MONO1_highdicom.window1.png");
}

TEST_CASE("ReferenceRendering: VOI LUT Sequence", "[dicom]") {
  DisplayOptions options;
  options.source = WindowSource::kVoiLut;
  CompareWithReference("uncompressed/vlut_04.dcm", options, "vlut_04.voilut1.png");
}

}  // namespace
