// Damaged copies of real files: every one must give a result or an error, never a crash.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "ailab/dicom/deidentify.h"
#include "ailab/dicom/dicom.h"
#include "ailab/dicom/pixels.h"
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
