// One test per file of the shared malformed set: each is rejected with an error that
// names the file and the fault, or read where the standard allows it.
#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/match.h"
#include "ailab/dicom/dicom.h"
#include "ailab/dicom/pixels.h"
#include "ailab/status/status.h"
#include "test_files.h"

namespace {

using ailab::dicom::ParseDicom;
using ailab::dicom::testing::ReadTestFile;

// Parses malformed/<name> and checks that it is rejected as INVALID_ARGUMENT with
// `reason`, a message that starts with the file name and contains `fault`.
void ExpectRejected(const std::string& name, const std::string& reason, const std::string& fault) {
  std::string path = "malformed/" + name;
  std::string bytes = ReadTestFile(path);
  REQUIRE_FALSE(bytes.empty());
  auto object = ParseDicom(bytes, name);
  REQUIRE_FALSE(object.ok());
  std::string message(object.status().message());
  INFO(message);
  CHECK(object.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ailab::GetErrorReason(object.status()) == reason);
  CHECK_THAT(message, Catch::StartsWith(name + ": "));
  CHECK_THAT(message, Catch::Contains(fault));
}

TEST_CASE("Malformed: MR_truncated.dcm is rejected as truncated", "[dicom]") {
  ExpectRejected("MR_truncated.dcm", "DICOM_TRUNCATED", "the file is truncated");
}

TEST_CASE("Malformed: rtplan_truncated.dcm is rejected as truncated", "[dicom]") {
  ExpectRejected("rtplan_truncated.dcm", "DICOM_TRUNCATED", "the file is truncated");
}

TEST_CASE("Malformed: too short JPEG 2000 file is rejected", "[dicom]") {
  ExpectRejected("emri_small_jpeg_2k_lossless_too_short.dcm", "DICOM_TRUNCATED",
                 "the file is truncated");
}

TEST_CASE("Malformed: badVR.dcm names its Number of Frames", "[dicom]") {
  ExpectRejected("badVR.dcm", "INVALID_NUMBER_OF_FRAMES", "Number of Frames (0028,0008)");
}

TEST_CASE("Malformed: missing transfer syntax is rejected", "[dicom]") {
  ExpectRejected("meta_missing_tsyntax.dcm", "MISSING_TRANSFER_SYNTAX",
                 "Transfer Syntax UID (0002,0010)");
}

// A data set without preamble and file meta information is allowed by PS3.10 on media
// that carry the transfer syntax elsewhere. It is read as implicit VR little endian,
// with a warning for the upload report.
TEST_CASE("Malformed: no_meta.dcm is read with a warning", "[dicom]") {
  auto object = ParseDicom(ReadTestFile("malformed/no_meta.dcm"), "no_meta.dcm");
  INFO(object.status().ToString());
  REQUIRE(object.ok());
  CHECK(object->header().rows == 128);
  CHECK(object->header().columns == 128);
  REQUIRE(object->header().parse_warnings.size() == 1);
  auto frame = ailab::dicom::DecodeFrame(*object);
  INFO(frame.status().ToString());
  CHECK(frame.ok());
}

// The sequence's damage lies outside the attributes the platform reads, and DCMTK
// recovers the rest of the data set, so the image is read and decodes.
TEST_CASE("Malformed: bad_sequence.dcm is read and decodes", "[dicom]") {
  auto object = ParseDicom(ReadTestFile("malformed/bad_sequence.dcm"), "bad_sequence.dcm");
  INFO(object.status().ToString());
  REQUIRE(object.ok());
  CHECK(object->header().rows == 512);
  auto frame = ailab::dicom::DecodeFrame(*object);
  INFO(frame.status().ToString());
  CHECK(frame.ok());
}

// Random bytes are no DICOM at all, so they must not be reported as a truncated file.
TEST_CASE("Malformed: random bytes are not called truncated", "[dicom]") {
  auto object = ParseDicom(std::string(3000, 'x'), "garbage.dcm");
  REQUIRE_FALSE(object.ok());
  CHECK(ailab::GetErrorReason(object.status()) == "INVALID_DICOM");
}

// Zero bytes have no preamble and no element of a DICOM group at the start, so they
// are rejected as no DICOM file at all rather than as a data set missing its UIDs.
TEST_CASE("Malformed: all-zero file is not DICOM", "[dicom]") {
  for (size_t size : {size_t{8}, size_t{200}, size_t{4096}}) {
    INFO(size);
    auto object = ParseDicom(std::string(size, '\0'), "zeros.dcm");
    REQUIRE_FALSE(object.ok());
    std::string message(object.status().message());
    INFO(message);
    CHECK(object.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(ailab::GetErrorReason(object.status()) == "INVALID_DICOM");
    CHECK_THAT(message, Catch::StartsWith("zeros.dcm: not a DICOM file"));
  }
}

// A valid file cut at any point is reported as INVALID_DICOM or DICOM_TRUNCATED (or,
// where only pixel data are missing, PIXEL_DATA_TRUNCATED), never accepted.
TEST_CASE("Malformed: cut copies of a valid file are rejected", "[dicom]") {
  std::string bytes = ReadTestFile("uncompressed/CT_small.dcm");
  REQUIRE(bytes.size() > 1000);
  for (size_t length : {size_t{200}, size_t{600}, bytes.size() / 2, bytes.size() - 1}) {
    INFO(length);
    auto object = ParseDicom(bytes.substr(0, length), "cut.dcm");
    REQUIRE_FALSE(object.ok());
    std::string reason = ailab::GetErrorReason(object.status());
    CHECK((reason == "DICOM_TRUNCATED" || reason == "PIXEL_DATA_TRUNCATED" ||
           reason == "INVALID_DICOM"));
    CHECK_THAT(std::string(object.status().message()), Catch::StartsWith("cut.dcm: "));
  }
}

}  // namespace
