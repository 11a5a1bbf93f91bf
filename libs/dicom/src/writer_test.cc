#include "ailab/dicom/writer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "ailab/synth/mammogram.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcitem.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcuid.h"

namespace ailab::dicom {
namespace {

namespace fs = std::filesystem;
using synth::Laterality;
using synth::Photometric;
using synth::View;

// A folder under the system temporary directory, removed at the end of the test.
class ScratchFolder {
 public:
  ScratchFolder() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            absl::StrCat("ailab-writer-test-", getpid(), "-", counter.fetch_add(1));
    fs::create_directories(path_);
  }
  ~ScratchFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

synth::SyntheticImage SmallImage(Laterality laterality, View view, Photometric photometric) {
  synth::MammogramParams params;
  params.rows = 128;
  params.columns = 104;
  params.category = synth::DensityCategory::kC;
  params.laterality = laterality;
  params.view = view;
  params.photometric = photometric;
  synth::Random random(42);
  auto image = synth::GenerateMammogram(params, random);
  REQUIRE(image.ok());
  return *std::move(image);
}

MammogramHeader SampleHeader() {
  MammogramHeader h;
  h.patient_name = "SYNTH^PATIENT0007";
  h.patient_id = "SYN0007";
  h.patient_birth_date = "19660415";
  h.study_instance_uid = "2.25.123456789012345678901234567890";
  h.series_instance_uid = "2.25.223456789012345678901234567890";
  h.sop_instance_uid = "2.25.323456789012345678901234567890";
  h.study_date = "20230310";
  h.study_time = "101500";
  h.accession_number = "ACC0000001";
  h.series_number = 1;
  h.instance_number = 3;
  return h;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string GetString(DcmItem* item, const DcmTagKey& tag) {
  OFString value;
  if (item->findAndGetOFStringArray(tag, value).bad()) return "<absent>";
  return value.c_str();
}

TEST_CASE("WriteMammogram: header fields read back", "[dicom]") {
  ScratchFolder folder;
  const auto image =
      SmallImage(Laterality::kLeft, View::kMediolateralOblique, Photometric::kMonochrome2);
  const MammogramHeader header = SampleHeader();
  const std::string path = folder.File("image.dcm");
  REQUIRE(WriteMammogram(image, header, path).ok());

  DcmFileFormat file;
  REQUIRE(file.loadFile(path.c_str()).good());
  DcmItem* meta = file.getMetaInfo();
  DcmItem* ds = file.getDataset();

  CHECK(GetString(meta, DCM_TransferSyntaxUID) == UID_LittleEndianExplicitTransferSyntax);
  CHECK(GetString(meta, DCM_MediaStorageSOPClassUID) == "1.2.840.10008.5.1.4.1.1.1.2");
  CHECK(GetString(ds, DCM_SOPClassUID) == "1.2.840.10008.5.1.4.1.1.1.2");
  CHECK(GetString(ds, DCM_SOPInstanceUID) == header.sop_instance_uid);
  CHECK(GetString(ds, DCM_StudyInstanceUID) == header.study_instance_uid);
  CHECK(GetString(ds, DCM_SeriesInstanceUID) == header.series_instance_uid);
  CHECK(GetString(ds, DCM_PatientName) == "SYNTH^PATIENT0007");
  CHECK(GetString(ds, DCM_PatientID) == "SYN0007");
  CHECK(GetString(ds, DCM_PatientAge) == "056Y");
  CHECK(GetString(ds, DCM_StudyDate) == "20230310");
  CHECK(GetString(ds, DCM_Modality) == "MG");
  CHECK(GetString(ds, DCM_PresentationIntentType) == "FOR PRESENTATION");
  CHECK(GetString(ds, DCM_ImageLaterality) == "L");
  CHECK(GetString(ds, DCM_ViewPosition) == "MLO");
  CHECK(GetString(ds, DCM_PatientOrientation) == "A\\FR");
  CHECK(GetString(ds, DCM_BodyPartExamined) == "BREAST");
  CHECK(GetString(ds, DCM_Manufacturer) == "AI-LAB Synthetic");
  CHECK(GetString(ds, DCM_BreastImplantPresent) == "NO");
  CHECK(GetString(ds, DCM_PhotometricInterpretation) == "MONOCHROME2");
  CHECK(GetString(ds, DCM_PresentationLUTShape) == "IDENTITY");
  CHECK(GetString(ds, DCM_PixelIntensityRelationshipSign) == "-1");
  CHECK(GetString(ds, DCM_RescaleSlope) == "1");
  CHECK(GetString(ds, DCM_RescaleIntercept) == "0");

  const std::string spacing = GetString(ds, DCM_PixelSpacing);
  CHECK(spacing == GetString(ds, DCM_ImagerPixelSpacing));
  CHECK(std::stod(spacing.substr(0, spacing.find('\\'))) == Approx(image.pixel_spacing_mm));
  CHECK(std::stod(GetString(ds, DCM_WindowCenter)) == Approx(image.window_center));
  CHECK(std::stod(GetString(ds, DCM_WindowWidth)) == Approx(image.window_width));

  Uint16 value = 0;
  REQUIRE(ds->findAndGetUint16(DCM_Rows, value).good());
  CHECK(value == 128);
  REQUIRE(ds->findAndGetUint16(DCM_Columns, value).good());
  CHECK(value == 104);
  REQUIRE(ds->findAndGetUint16(DCM_BitsAllocated, value).good());
  CHECK(value == 16);
  REQUIRE(ds->findAndGetUint16(DCM_BitsStored, value).good());
  CHECK(value == image.bits_stored);
  REQUIRE(ds->findAndGetUint16(DCM_HighBit, value).good());
  CHECK(value == image.bits_stored - 1);
  REQUIRE(ds->findAndGetUint16(DCM_PixelRepresentation, value).good());
  CHECK(value == 0);

  DcmItem* view_item = nullptr;
  REQUIRE(ds->findAndGetSequenceItem(DCM_ViewCodeSequence, view_item, 0).good());
  CHECK(GetString(view_item, DCM_CodeValue) == "399368009");
  CHECK(GetString(view_item, DCM_CodingSchemeDesignator) == "SCT");
  CHECK(view_item->tagExists(DCM_ViewModifierCodeSequence));
  DcmItem* region_item = nullptr;
  REQUIRE(ds->findAndGetSequenceItem(DCM_AnatomicRegionSequence, region_item, 0).good());
  CHECK(GetString(region_item, DCM_CodeValue) == "76752008");

  // The stored pixels are the image's, unchanged.
  const Uint16* pixels = nullptr;
  unsigned long count = 0;
  REQUIRE(ds->findAndGetUint16Array(DCM_PixelData, pixels, &count).good());
  REQUIRE(count == image.pixels.size());
  CHECK(std::equal(image.pixels.begin(), image.pixels.end(), pixels));
}

TEST_CASE("WriteMammogram: MONOCHROME1 uses an inverse LUT", "[dicom]") {
  ScratchFolder folder;
  const auto image = SmallImage(Laterality::kRight, View::kCranioCaudal, Photometric::kMonochrome1);
  const std::string path = folder.File("mono1.dcm");
  REQUIRE(WriteMammogram(image, SampleHeader(), path).ok());

  DcmFileFormat file;
  REQUIRE(file.loadFile(path.c_str()).good());
  DcmItem* ds = file.getDataset();
  CHECK(GetString(ds, DCM_PhotometricInterpretation) == "MONOCHROME1");
  CHECK(GetString(ds, DCM_PresentationLUTShape) == "INVERSE");
  CHECK(GetString(ds, DCM_PixelIntensityRelationshipSign) == "1");
  CHECK(GetString(ds, DCM_ImageLaterality) == "R");
  CHECK(GetString(ds, DCM_ViewPosition) == "CC");
  CHECK(GetString(ds, DCM_PatientOrientation) == "P\\L");
  DcmItem* view_item = nullptr;
  REQUIRE(ds->findAndGetSequenceItem(DCM_ViewCodeSequence, view_item, 0).good());
  CHECK(GetString(view_item, DCM_CodeValue) == "399162004");
}

TEST_CASE("WriteMammogram: dcmdump reads files without warnings", "[dicom]") {
  const char* dcmdump = "/usr/bin/dcmdump";
  if (access(dcmdump, X_OK) != 0) {
    WARN("dcmdump is not installed; skipped");
    return;
  }
  ScratchFolder folder;
  int written = 0;
  for (Photometric photometric : {Photometric::kMonochrome2, Photometric::kMonochrome1}) {
    for (View view : {View::kCranioCaudal, View::kMediolateralOblique}) {
      const std::string path = folder.File(absl::StrCat("dump", written++, ".dcm"));
      REQUIRE(WriteMammogram(SmallImage(Laterality::kLeft, view, photometric), SampleHeader(), path)
                  .ok());
      const std::string out = folder.File("dump.out"), err = folder.File("dump.err");
      const std::string command =
          absl::StrCat(dcmdump, " '", path, "' > '", out, "' 2> '", err, "'");
      const int status = std::system(command.c_str());
      INFO(path << ": " << ReadAll(err));
      REQUIRE(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 0);
      CHECK(ReadAll(err).empty());
      const std::string dump = ReadAll(out);
      CHECK(dump.find("DigitalMammographyXRayImageStorageForPresentation") != std::string::npos);
      CHECK(dump.find("(0054,0220) SQ") != std::string::npos);
    }
  }
}

TEST_CASE("WriteMammogram: same input gives identical bytes", "[dicom]") {
  ScratchFolder folder;
  const auto image = SmallImage(Laterality::kLeft, View::kCranioCaudal, Photometric::kMonochrome2);
  REQUIRE(WriteMammogram(image, SampleHeader(), folder.File("a.dcm")).ok());
  REQUIRE(WriteMammogram(image, SampleHeader(), folder.File("b.dcm")).ok());
  CHECK(ReadAll(folder.File("a.dcm")) == ReadAll(folder.File("b.dcm")));

  // Nothing but the two files is left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(folder.path())) ++entries;
  CHECK(entries == 2);
}

TEST_CASE("WriteMammogram: bad input is rejected", "[dicom]") {
  ScratchFolder folder;
  const auto image = SmallImage(Laterality::kLeft, View::kCranioCaudal, Photometric::kMonochrome2);
  const std::string path = folder.File("bad.dcm");

  SECTION("pixel count mismatch") {
    auto broken = image;
    broken.pixels.pop_back();
    const absl::Status status = WriteMammogram(broken, SampleHeader(), path);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(GetErrorReason(status) == "INVALID_SYNTHETIC_IMAGE");
  }
  SECTION("pixel above bits stored") {
    auto broken = image;
    broken.bits_stored = 12;
    broken.pixels[5] = 4096;
    const absl::Status status = WriteMammogram(broken, SampleHeader(), path);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(status.message()).find("index 5") != std::string::npos);
  }
  SECTION("malformed UID") {
    MammogramHeader header = SampleHeader();
    header.sop_instance_uid = "2.25.0123";
    const absl::Status status = WriteMammogram(image, header, path);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(GetErrorReason(status) == "INVALID_MAMMOGRAM_HEADER");
    CHECK(std::string(status.message()).find("sop_instance_uid") != std::string::npos);
  }
  SECTION("impossible study date") {
    MammogramHeader header = SampleHeader();
    header.study_date = "20230230";
    CHECK(WriteMammogram(image, header, path).code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("backslash in a name") {
    MammogramHeader header = SampleHeader();
    header.patient_name = "A\\B";
    CHECK(WriteMammogram(image, header, path).code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("missing folder") {
    const absl::Status status =
        WriteMammogram(image, SampleHeader(), folder.File("absent/bad.dcm"));
    CHECK(status.code() == absl::StatusCode::kNotFound);
    CHECK(GetErrorReason(status) == "OUTPUT_FOLDER_NOT_FOUND");
  }
  CHECK_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace ailab::dicom
