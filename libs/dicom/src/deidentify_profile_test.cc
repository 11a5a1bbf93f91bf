// Checks de-identification against a list of attributes written down here from DICOM
// PS3.15 Table E.1-1 (Basic Application Level Confidentiality Profile), independently
// of the rule table in deidentify.cc. Each attribute is planted with a marker value in a
// real image, at the top level and inside a sequence item. The de-identified object, its
// PNG rendering and its model-input array must then hold none of them. Dates must keep
// their intervals within one patient.
//
// Logs are checked where they are written, by the ingest service test ("no patient name
// or id reaches the log"); this library writes no log lines.
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ailab/dicom/deidentify.h"
#include "ailab/dicom/dicom.h"
#include "ailab/dicom/pixels.h"
#include "ailab/imaging/npy.h"
#include "ailab/imaging/png.h"
#include "internal.h"
#include "test_files.h"

namespace {

using ailab::dicom::DeidentifyInPlace;
using ailab::dicom::DeidentifyOptions;
using ailab::dicom::DicomObject;
using ailab::dicom::ParseDicom;
using ailab::dicom::testing::ReadTestFile;

// Action of the profile: X removes the attribute, Z empties it (or removes it), D
// replaces its value with a dummy (or removes it).
enum class ProfileAction { kRemove, kEmpty, kDummy };

struct ProfileAttribute {
  uint16_t group;
  uint16_t element;
  ProfileAction action;
};

constexpr ProfileAction X = ProfileAction::kRemove;
constexpr ProfileAction Z = ProfileAction::kEmpty;
constexpr ProfileAction D = ProfileAction::kDummy;

// Attributes of PS3.15 Table E.1-1 that are neither UIDs (replaced, tested elsewhere)
// nor dates and times (kept modified under the Retain Longitudinal Temporal Information
// with Modified Dates option). Patient's Name, Patient ID and Accession Number are
// planted as well: they must be replaced by pseudonyms.
const std::vector<ProfileAttribute>& ProfileAttributes() {
  static const std::vector<ProfileAttribute> attributes = {
      {0x0008, 0x0050, Z},  // Accession Number
      {0x0008, 0x0080, X},  // Institution Name
      {0x0008, 0x0081, X},  // Institution Address
      {0x0008, 0x0082, X},  // Institution Code Sequence
      {0x0008, 0x0090, Z},  // Referring Physician's Name
      {0x0008, 0x0092, X},  // Referring Physician's Address
      {0x0008, 0x0094, X},  // Referring Physician's Telephone Numbers
      {0x0008, 0x0096, X},  // Referring Physician Identification Sequence
      {0x0008, 0x009C, Z},  // Consulting Physician's Name
      {0x0008, 0x009D, X},  // Consulting Physician Identification Sequence
      {0x0008, 0x1010, X},  // Station Name
      {0x0008, 0x1030, X},  // Study Description
      {0x0008, 0x103E, X},  // Series Description
      {0x0008, 0x1040, X},  // Institutional Department Name
      {0x0008, 0x1048, X},  // Physician(s) of Record
      {0x0008, 0x1049, X},  // Physician(s) of Record Identification Sequence
      {0x0008, 0x1050, X},  // Performing Physician's Name
      {0x0008, 0x1052, X},  // Performing Physician Identification Sequence
      {0x0008, 0x1060, X},  // Name of Physician(s) Reading Study
      {0x0008, 0x1062, X},  // Physician(s) Reading Study Identification Sequence
      {0x0008, 0x1070, X},  // Operators' Name
      {0x0008, 0x1072, X},  // Operator Identification Sequence
      {0x0008, 0x1080, X},  // Admitting Diagnoses Description
      {0x0008, 0x1084, X},  // Admitting Diagnoses Code Sequence
      {0x0008, 0x1120, X},  // Referenced Patient Sequence
      {0x0008, 0x2111, X},  // Derivation Description
      {0x0008, 0x4000, X},  // Identifying Comments
      {0x0010, 0x0010, Z},  // Patient's Name
      {0x0010, 0x0020, Z},  // Patient ID
      {0x0010, 0x0021, X},  // Issuer of Patient ID
      {0x0010, 0x0050, X},  // Patient's Insurance Plan Code Sequence
      {0x0010, 0x0101, X},  // Patient's Primary Language Code Sequence
      {0x0010, 0x0102, X},  // Patient's Primary Language Modifier Code Sequence
      {0x0010, 0x1000, X},  // Other Patient IDs
      {0x0010, 0x1001, X},  // Other Patient Names
      {0x0010, 0x1002, X},  // Other Patient IDs Sequence
      {0x0010, 0x1005, X},  // Patient's Birth Name
      {0x0010, 0x1010, X},  // Patient's Age
      {0x0010, 0x1020, X},  // Patient's Size
      {0x0010, 0x1030, X},  // Patient's Weight
      {0x0010, 0x1040, X},  // Patient's Address
      {0x0010, 0x1050, X},  // Insurance Plan Identification
      {0x0010, 0x1060, X},  // Patient's Mother's Birth Name
      {0x0010, 0x1080, X},  // Military Rank
      {0x0010, 0x1081, X},  // Branch of Service
      {0x0010, 0x1090, X},  // Medical Record Locator
      {0x0010, 0x1100, X},  // Referenced Patient Photo Sequence
      {0x0010, 0x2000, X},  // Medical Alerts
      {0x0010, 0x2110, X},  // Allergies
      {0x0010, 0x2150, X},  // Country of Residence
      {0x0010, 0x2152, X},  // Region of Residence
      {0x0010, 0x2154, X},  // Patient's Telephone Numbers
      {0x0010, 0x2160, X},  // Ethnic Group
      {0x0010, 0x2180, X},  // Occupation
      {0x0010, 0x21A0, X},  // Smoking Status
      {0x0010, 0x21B0, X},  // Additional Patient History
      {0x0010, 0x21C0, X},  // Pregnancy Status
      {0x0010, 0x21F0, X},  // Patient's Religious Preference
      {0x0010, 0x2203, X},  // Patient's Sex Neutered
      {0x0010, 0x2297, X},  // Responsible Person
      {0x0010, 0x2299, X},  // Responsible Organization
      {0x0010, 0x4000, X},  // Patient Comments
      {0x0018, 0x1000, X},  // Device Serial Number
      {0x0018, 0x1004, X},  // Plate ID
      {0x0018, 0x1005, X},  // Generator ID
      {0x0018, 0x1007, X},  // Cassette ID
      {0x0018, 0x1008, X},  // Gantry ID
      {0x0018, 0x1030, X},  // Protocol Name
      {0x0018, 0x1400, X},  // Acquisition Device Processing Description
      {0x0018, 0x4000, X},  // Acquisition Comments
      {0x0018, 0x700A, X},  // Detector ID
      {0x0018, 0x9424, X},  // Acquisition Protocol Description
      {0x0018, 0xA003, X},  // Contribution Description
      {0x0020, 0x0010, Z},  // Study ID
      {0x0020, 0x3401, X},  // Modifying Device ID
      {0x0020, 0x3404, X},  // Modifying Device Manufacturer
      {0x0020, 0x3406, X},  // Modified Image Description
      {0x0020, 0x4000, X},  // Image Comments
      {0x0020, 0x9158, X},  // Frame Comments
      {0x0028, 0x4000, X},  // Image Presentation Comments
      {0x0032, 0x0012, X},  // Study ID Issuer
      {0x0032, 0x1020, X},  // Scheduled Study Location
      {0x0032, 0x1021, X},  // Scheduled Study Location AE Title
      {0x0032, 0x1030, X},  // Reason for Study
      {0x0032, 0x1032, X},  // Requesting Physician
      {0x0032, 0x1033, X},  // Requesting Service
      {0x0032, 0x1060, X},  // Requested Procedure Description
      {0x0032, 0x1070, X},  // Requested Contrast Agent
      {0x0032, 0x4000, X},  // Study Comments
      {0x0038, 0x0010, X},  // Admission ID
      {0x0038, 0x0011, X},  // Issuer of Admission ID
      {0x0038, 0x001E, X},  // Scheduled Patient Institution Residence
      {0x0038, 0x0040, X},  // Discharge Diagnosis Description
      {0x0038, 0x0060, X},  // Service Episode ID
      {0x0038, 0x0061, X},  // Issuer of Service Episode ID
      {0x0038, 0x0062, X},  // Service Episode Description
      {0x0038, 0x0300, X},  // Current Patient Location
      {0x0038, 0x0400, X},  // Patient's Institution Residence
      {0x0038, 0x0500, X},  // Patient State
      {0x0038, 0x4000, X},  // Visit Comments
      {0x0040, 0x0001, X},  // Scheduled Station AE Title
      {0x0040, 0x0006, X},  // Scheduled Performing Physician's Name
      {0x0040, 0x0007, X},  // Scheduled Procedure Step Description
      {0x0040, 0x000B, X},  // Scheduled Performing Physician Identification Sequence
      {0x0040, 0x0010, X},  // Scheduled Station Name
      {0x0040, 0x0011, X},  // Scheduled Procedure Step Location
      {0x0040, 0x0012, X},  // Pre-Medication
      {0x0040, 0x0241, X},  // Performed Station AE Title
      {0x0040, 0x0242, X},  // Performed Station Name
      {0x0040, 0x0243, X},  // Performed Location
      {0x0040, 0x0253, X},  // Performed Procedure Step ID
      {0x0040, 0x0254, X},  // Performed Procedure Step Description
      {0x0040, 0x0275, X},  // Request Attributes Sequence
      {0x0040, 0x0280, X},  // Comments on the Performed Procedure Step
      {0x0040, 0x0555, X},  // Acquisition Context Sequence
      {0x0040, 0x1001, X},  // Requested Procedure ID
      {0x0040, 0x1004, X},  // Patient Transport Arrangements
      {0x0040, 0x1005, X},  // Requested Procedure Location
      {0x0040, 0x1010, X},  // Names of Intended Recipients of Results
      {0x0040, 0x1011, X},  // Intended Recipients of Results Identification Sequence
      {0x0040, 0x1101, D},  // Person Identification Code Sequence
      {0x0040, 0x1102, X},  // Person's Address
      {0x0040, 0x1103, X},  // Person's Telephone Numbers
      {0x0040, 0x1400, X},  // Requested Procedure Comments
      {0x0040, 0x2001, X},  // Reason for the Imaging Service Request
      {0x0040, 0x2008, X},  // Order Entered By
      {0x0040, 0x2009, X},  // Order Enterer's Location
      {0x0040, 0x2010, X},  // Order Callback Phone Number
      {0x0040, 0x2016, Z},  // Placer Order Number / Imaging Service Request
      {0x0040, 0x2017, Z},  // Filler Order Number / Imaging Service Request
      {0x0040, 0x2400, X},  // Imaging Service Request Comments
      {0x0040, 0x3001, X},  // Confidentiality Constraint on Patient Data Description
      {0x0040, 0x4025, X},  // Scheduled Station Name Code Sequence
      {0x0040, 0x4027, X},  // Scheduled Station Geographic Location Code Sequence
      {0x0040, 0x4028, X},  // Performed Station Name Code Sequence
      {0x0040, 0x4030, X},  // Performed Station Geographic Location Code Sequence
      {0x0040, 0x4034, X},  // Scheduled Human Performers Sequence
      {0x0040, 0x4035, X},  // Actual Human Performers Sequence
      {0x0040, 0x4036, X},  // Human Performer's Organization
      {0x0040, 0x4037, X},  // Human Performer's Name
      {0x0040, 0xA027, X},  // Verifying Organization
      {0x0040, 0xA073, D},  // Verifying Observer Sequence
      {0x0040, 0xA075, D},  // Verifying Observer Name
      {0x0040, 0xA078, X},  // Author Observer Sequence
      {0x0040, 0xA07A, X},  // Participant Sequence
      {0x0040, 0xA07C, X},  // Custodial Organization Sequence
      {0x0040, 0xA088, Z},  // Verifying Observer Identification Code Sequence
      {0x0040, 0xA123, D},  // Person Name
      {0x0040, 0xA730, X},  // Content Sequence
      {0x0070, 0x0084, Z},  // Content Creator's Name
      {0x0070, 0x0086, X},  // Content Creator's Identification Code Sequence
      {0x0088, 0x0200, X},  // Icon Image Sequence
      {0x300E, 0x0008, X},  // Reviewer Name
      {0x4000, 0x0010, X},  // Arbitrary
      {0x4000, 0x4000, X},  // Text Comments
      {0x4008, 0x0042, X},  // Results ID Issuer
      {0x4008, 0x0102, X},  // Interpretation Recorder
      {0x4008, 0x010A, X},  // Interpretation Transcriber
      {0x4008, 0x010B, X},  // Interpretation Text
      {0x4008, 0x010C, X},  // Interpretation Author
      {0x4008, 0x0111, X},  // Interpretation Approver Sequence
      {0x4008, 0x0114, X},  // Physician Approving Interpretation
      {0x4008, 0x0115, X},  // Interpretation Diagnosis Description
      {0x4008, 0x0118, X},  // Results Distribution List Sequence
      {0x4008, 0x0119, X},  // Distribution Name
      {0x4008, 0x011A, X},  // Distribution Address
      {0x4008, 0x0202, X},  // Interpretation ID Issuer
      {0x4008, 0x0300, X},  // Impressions
      {0x4008, 0x4000, X},  // Results Comments
      {0x6000, 0x3000, X},  // Overlay Data
      {0x6000, 0x4000, X},  // Overlay Comments
      {0xFFFA, 0xFFFA, X},  // Digital Signatures Sequence
  };
  return attributes;
}

// Marker value planted in attribute number `index`: unique, valid for text VRs and
// long enough that it does not occur in pixel data by chance.
std::string Marker(size_t index) { return absl::StrCat("ZQXMARK", index, "Q"); }

// Plants every profile attribute with its marker in `item`. Sequences get one item
// with a Code Meaning holding the marker; binary VRs get the marker's bytes.
void Plant(DcmItem* item) {
  const auto& attributes = ProfileAttributes();
  for (size_t i = 0; i < attributes.size(); ++i) {
    DcmTag tag(attributes[i].group, attributes[i].element);
    std::string marker = Marker(i);
    INFO(tag.toString().c_str());
    switch (tag.getEVR()) {
      case EVR_SQ: {
        DcmItem* child = nullptr;
        REQUIRE(item->findOrCreateSequenceItem(tag, child, -2).good());
        REQUIRE(child->putAndInsertString(DCM_CodeMeaning, marker.c_str()).good());
        break;
      }
      case EVR_OB:
      case EVR_OW:
      case EVR_ox:
      case EVR_UN: {
        // Overlay Data is OB or OW by the dictionary; plant it as OB.
        DcmTag binary(attributes[i].group, attributes[i].element, EVR_OB);
        REQUIRE(item->putAndInsertUint8Array(binary, reinterpret_cast<const Uint8*>(marker.data()),
                                             marker.size())
                    .good());
        break;
      }
      case EVR_US:
      case EVR_SS:
      case EVR_UL:
      case EVR_SL:
      case EVR_FL:
      case EVR_FD:
      case EVR_DS:
      case EVR_IS:
        REQUIRE(item->putAndInsertString(tag, "7").good());
        break;
      case EVR_AS:
        REQUIRE(item->putAndInsertString(tag, "042Y").good());
        break;
      default:
        REQUIRE(item->putAndInsertString(tag, marker.c_str()).good());
    }
  }
  // A private block and a person name in a sequence the profile keeps.
  REQUIRE(item->putAndInsertString(DcmTag(0x0009, 0x0010, EVR_LO), "ZQXPRIVATECREATOR").good());
  REQUIRE(item->putAndInsertString(DcmTag(0x0009, 0x1001, EVR_LO), "ZQXPRIVATEVALUE").good());
}

// Checks that `item` (after de-identification) keeps no planted attribute: X ones are
// absent, Z ones absent or empty, D ones absent or without the marker.
void CheckClean(DcmItem* item, const std::string& where) {
  const auto& attributes = ProfileAttributes();
  for (size_t i = 0; i < attributes.size(); ++i) {
    DcmTagKey tag(attributes[i].group, attributes[i].element);
    INFO(where << " " << DcmTag(tag).toString().c_str() << " " << DcmTag(tag).getTagName());
    bool is_pseudonym =
        tag == DCM_PatientName || tag == DCM_PatientID || tag == DCM_AccessionNumber;
    if (attributes[i].action == ProfileAction::kRemove) {
      CHECK_FALSE(item->tagExists(tag));
    } else if (attributes[i].action == ProfileAction::kEmpty && !is_pseudonym) {
      CHECK(ailab::dicom::internal::GetString(item, tag).empty());
    }
    DcmElement* element = nullptr;
    if (item->findAndGetElement(tag, element).good() && element->ident() != EVR_SQ) {
      CHECK_FALSE(absl::StrContains(ailab::dicom::internal::GetString(item, tag), "ZQX"));
    }
  }
  CHECK_FALSE(item->tagExists(DcmTagKey(0x0009, 0x0010)));
  CHECK_FALSE(item->tagExists(DcmTagKey(0x0009, 0x1001)));
}

DeidentifyOptions TestOptions() {
  DeidentifyOptions options;
  options.secret_key = "profile-test-key-0123456789";
  return options;
}

DicomObject PlantedImage(const std::string& path) {
  auto object = ParseDicom(ReadTestFile(path), path);
  INFO(object.status().ToString());
  REQUIRE(object.ok());
  DcmDataset& dataset = object->impl().dataset();
  Plant(&dataset);
  // The same attributes one level down, in an item of a sequence that is kept.
  DcmItem* nested = nullptr;
  REQUIRE(dataset.findOrCreateSequenceItem(DCM_ReferencedImageSequence, nested, -2).good());
  nested->putAndInsertString(DCM_ReferencedSOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
  nested->putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4.5.6.7.8.9");
  Plant(nested);
  dataset.putAndInsertString(DCM_BurnedInAnnotation, "YES");
  REQUIRE(ailab::dicom::internal::RefreshHeader(object->impl()).ok());
  return std::move(*object);
}

// The PNG chunk types in `png`, in order.
std::vector<std::string> PngChunkTypes(const std::string& png) {
  std::vector<std::string> types;
  size_t at = 8;
  while (at + 8 <= png.size()) {
    uint32_t length = (uint32_t{static_cast<uint8_t>(png[at])} << 24) |
                      (uint32_t{static_cast<uint8_t>(png[at + 1])} << 16) |
                      (uint32_t{static_cast<uint8_t>(png[at + 2])} << 8) |
                      uint32_t{static_cast<uint8_t>(png[at + 3])};
    types.push_back(png.substr(at + 4, 4));
    at += 12 + length;
  }
  return types;
}

TEST_CASE("DeidentifyProfile: planted attributes do not survive", "[dicom]") {
  for (const char* path : {"uncompressed/CT_small.dcm", "mg/MG_clunie_pixelspacing_ELE.dcm",
                           "compressed/MR_small_RLE.dcm"}) {
    INFO(path);
    DicomObject object = PlantedImage(path);
    // The markers are really there before de-identification.
    auto before = object.Serialize();
    REQUIRE(before.ok());
    REQUIRE(absl::StrContains(*before, Marker(1)));
    REQUIRE(absl::StrContains(*before, "ZQXPRIVATEVALUE"));

    auto result = DeidentifyInPlace(object, TestOptions());
    INFO(result.status().ToString());
    REQUIRE(result.ok());
    CHECK(result->burned_in_annotation == "YES");

    // The stored object: attribute by attribute, and byte by byte.
    auto bytes = object.Serialize();
    REQUIRE(bytes.ok());
    auto stored = ParseDicom(*bytes, path);
    INFO(stored.status().ToString());
    REQUIRE(stored.ok());
    DcmDataset& dataset = stored->impl().dataset();
    CheckClean(&dataset, "top level");
    DcmItem* nested =
        ailab::dicom::internal::GetSequenceItem(&dataset, DCM_ReferencedImageSequence);
    REQUIRE(nested != nullptr);
    CheckClean(nested, "nested item");
    size_t leak = bytes->find("ZQX");
    INFO("leaked marker: " << (leak == std::string::npos ? "" : bytes->substr(leak, 12)));
    CHECK(leak == std::string::npos);
    CHECK(stored->GetString(0x0028, 0x0301) == "YES");  // Burned In Annotation kept

    // The PNG rendering: image chunks only, so no text or metadata chunk can carry a
    // header value.
    auto display = ailab::dicom::RenderDisplay8(*stored);
    REQUIRE(display.ok());
    auto png = ailab::imaging::EncodePng8(display->pixels, display->columns, display->rows, 6);
    REQUIRE(png.ok());
    for (const std::string& type : PngChunkTypes(*png)) {
      INFO(type);
      CHECK((type == "IHDR" || type == "IDAT" || type == "IEND"));
    }
    CHECK_FALSE(absl::StrContains(*png, "ZQX"));

    // The model-input array: its header names only dtype, order and shape.
    auto prepared = ailab::dicom::PrepareArray(*stored);
    REQUIRE(prepared.ok());
    auto npy = ailab::imaging::EncodeNpy(prepared->array);
    REQUIRE(npy.ok());
    CHECK_FALSE(absl::StrContains(*npy, "ZQX"));
    size_t header_end = npy->find('\n');
    REQUIRE(header_end != std::string::npos);
    std::string header = npy->substr(0, header_end);
    CHECK(absl::StrContains(header, "'descr'"));
    CHECK(absl::StrContains(header, "'shape'"));
    CHECK_FALSE(absl::StrContains(header, stored->header().patient_id));
  }
}

// Days from 1970-01-01 to the civil date "YYYYMMDD".
int64_t DayNumber(const std::string& date) {
  REQUIRE(date.size() == 8);
  absl::CivilDay day(std::stoi(date.substr(0, 4)), std::stoi(date.substr(4, 2)),
                     std::stoi(date.substr(6, 2)));
  return day - absl::CivilDay(1970, 1, 1);
}

TEST_CASE("DeidentifyProfile: date intervals within a patient survive", "[dicom]") {
  // Two studies of one patient are 74 days apart. Each has a series date a day after
  // the study and an acquisition date time. A third study is of another patient.
  struct Study {
    std::string patient_id;
    std::string study_date;
    std::string series_date;
    std::string acquisition_date_time;
  };
  const std::vector<Study> studies = {
      {"PATIENT-A-0001", "20200101", "20200102", "20200101093000.25"},
      {"PATIENT-A-0001", "20200315", "20200316", "20200315120000"},
      {"PATIENT-B-0002", "20200101", "20200102", "20200101093000"},
  };
  std::vector<std::string> study_dates, series_dates, date_times;
  std::vector<int> shifts;
  for (const Study& study : studies) {
    auto object = ParseDicom(ReadTestFile("uncompressed/CT_small.dcm"), "ct.dcm");
    REQUIRE(object.ok());
    DcmDataset& dataset = object->impl().dataset();
    dataset.putAndInsertString(DCM_PatientID, study.patient_id.c_str());
    dataset.putAndInsertString(DCM_StudyDate, study.study_date.c_str());
    dataset.putAndInsertString(DCM_SeriesDate, study.series_date.c_str());
    dataset.putAndInsertString(DCM_AcquisitionDateTime, study.acquisition_date_time.c_str());
    REQUIRE(ailab::dicom::internal::RefreshHeader(object->impl()).ok());
    auto result = DeidentifyInPlace(*object, TestOptions());
    REQUIRE(result.ok());
    shifts.push_back(result->date_shift_days);
    study_dates.push_back(object->GetString(0x0008, 0x0020));
    series_dates.push_back(object->GetString(0x0008, 0x0021));
    date_times.push_back(object->GetString(0x0008, 0x002A));
    CHECK(object->GetString(0x0012, 0x0063).find("dates shifted") != std::string::npos);
    CHECK(object->GetString(0x0028, 0x0303) == "MODIFIED");
  }
  for (size_t i = 0; i < studies.size(); ++i) {
    INFO(i);
    CHECK(study_dates[i] != studies[i].study_date);
    CHECK(DayNumber(studies[i].study_date) - DayNumber(study_dates[i]) == shifts[i]);
    // Within one object the series follows the study by a day, as before.
    CHECK(DayNumber(series_dates[i]) - DayNumber(study_dates[i]) == 1);
    // The time of day and fraction of a date time are kept.
    CHECK(date_times[i].substr(8) == studies[i].acquisition_date_time.substr(8));
    CHECK(date_times[i].substr(0, 8) == study_dates[i]);
  }
  // The same patient: one shift, so the 74 days between the studies survive.
  CHECK(shifts[0] == shifts[1]);
  CHECK(DayNumber(study_dates[1]) - DayNumber(study_dates[0]) == 74);
}

}  // namespace
