#include "ailab/dicom/writer.h"

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ailab/status/status.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcitem.h"
#include "dcmtk/dcmdata/dcuid.h"

namespace ailab::dicom {
namespace {

using synth::Laterality;
using synth::Photometric;
using synth::SyntheticImage;
using synth::View;

// A coded concept for the code sequences.
struct Code {
  const char* value;
  const char* scheme;
  const char* meaning;
};

// SNOMED CT codes of DICOM's context groups for mammography: CID 4013 (anatomic
// region) and CID 4014 (view).
constexpr Code kBreastCode = {"76752008", "SCT", "Breast"};
constexpr Code kCranioCaudalCode = {"399162004", "SCT", "cranio-caudal"};
constexpr Code kMediolateralObliqueCode = {"399368009", "SCT", "medio-lateral oblique"};

absl::Status HeaderError(absl::string_view field, absl::string_view value,
                         absl::string_view problem) {
  return InvalidArgument(
      "INVALID_MAMMOGRAM_HEADER", field,
      absl::StrCat("header field ", field, " = \"", value, "\" is invalid: ", problem),
      {{"field", field}, {"value", value}});
}

absl::Status ImageError(absl::string_view field, absl::string_view problem) {
  return InvalidArgument("INVALID_SYNTHETIC_IMAGE", field,
                         absl::StrCat("image field ", field, " is invalid: ", problem),
                         {{"field", field}});
}

// DICOM UID syntax: components of digits separated by dots, none empty or with a
// leading zero, at most 64 characters.
bool IsValidUid(absl::string_view uid) {
  if (uid.empty() || uid.size() > 64) return false;
  size_t start = 0;
  while (start <= uid.size()) {
    size_t end = uid.find('.', start);
    if (end == absl::string_view::npos) end = uid.size();
    const absl::string_view component = uid.substr(start, end - start);
    if (component.empty()) return false;
    if (component.size() > 1 && component[0] == '0') return false;
    for (char c : component) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    start = end + 1;
  }
  return true;
}

bool AllDigits(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsValidDate(absl::string_view date) {
  if (date.size() != 8 || !AllDigits(date)) return false;
  const int year = std::stoi(std::string(date.substr(0, 4)));
  const int month = std::stoi(std::string(date.substr(4, 2)));
  const int day = std::stoi(std::string(date.substr(6, 2)));
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

bool IsValidTime(absl::string_view time) {
  if (time.size() != 6 || !AllDigits(time)) return false;
  return std::stoi(std::string(time.substr(0, 2))) < 24 &&
         std::stoi(std::string(time.substr(2, 2))) < 60 &&
         std::stoi(std::string(time.substr(4, 2))) < 60;
}

// Printable ASCII without the backslash (the DICOM value separator), at most
// `max_length` characters.
absl::Status CheckText(absl::string_view field, absl::string_view value, size_t max_length) {
  if (value.size() > max_length) {
    return HeaderError(field, value, absl::StrCat("longer than ", max_length, " characters"));
  }
  for (char c : value) {
    if (c < 0x20 || c > 0x7e || c == '\\') {
      return HeaderError(field, value, "use printable ASCII characters other than '\\'");
    }
  }
  return absl::OkStatus();
}

// Age at the study, as a DICOM Age String ("057Y"); empty when a date is missing.
std::string PatientAge(absl::string_view birth_date, absl::string_view study_date) {
  if (birth_date.empty() || study_date.empty()) return "";
  const int birth = std::stoi(std::string(birth_date));
  const int study = std::stoi(std::string(study_date));
  // YYYYMMDD integers: whole years are the difference in the ten-thousands, less one
  // when the birthday (MMDD) has not come yet in the study year.
  int years = study / 10000 - birth / 10000;
  if (study % 10000 < birth % 10000) --years;
  if (years < 0 || years > 999) return "";
  return absl::StrFormat("%03dY", years);
}

// Formats a decimal string value without trailing zeros.
std::string Decimal(double value) { return absl::StrFormat("%.6g", value); }

std::string PatientOrientation(Laterality laterality, View view) {
  // Row direction then column direction. A left breast is displayed with the chest wall
  // on the left, so rows run toward the nipple (anterior). Down the image runs toward the
  // patient's right on CC views, and toward the feet and the right on MLO views.
  const bool left = laterality == Laterality::kLeft;
  if (view == View::kCranioCaudal) return left ? "A\\R" : "P\\L";
  return left ? "A\\FR" : "P\\FL";
}

// Collects the first failure of a series of DCMTK calls.
class DatasetBuilder {
 public:
  explicit DatasetBuilder(DcmItem* item) : item_(item) {}

  void Put(const DcmTagKey& tag, const std::string& value) {
    if (!status_.good()) return;
    status_ = item_->putAndInsertString(tag, value.c_str());
    if (status_.bad()) failed_tag_ = DcmTag(tag).getTagName();
  }

  void PutUint16(const DcmTagKey& tag, Uint16 value) {
    if (!status_.good()) return;
    status_ = item_->putAndInsertUint16(tag, value);
    if (status_.bad()) failed_tag_ = DcmTag(tag).getTagName();
  }

  void PutSint16(const DcmTagKey& tag, Sint16 value) {
    if (!status_.good()) return;
    status_ = item_->putAndInsertSint16(tag, value);
    if (status_.bad()) failed_tag_ = DcmTag(tag).getTagName();
  }

  void PutEmptySequence(const DcmTagKey& tag) {
    if (!status_.good()) return;
    status_ = item_->insertEmptyElement(tag);
    if (status_.bad()) failed_tag_ = DcmTag(tag).getTagName();
  }

  // Adds a one-item code sequence; the item may get more attributes through `extra`.
  template <typename Extra>
  void PutCode(const DcmTagKey& sequence, const Code& code, Extra extra) {
    if (!status_.good()) return;
    DcmItem* code_item = nullptr;
    status_ = item_->findOrCreateSequenceItem(sequence, code_item, -2);
    if (status_.bad() || code_item == nullptr) {
      failed_tag_ = DcmTag(sequence).getTagName();
      if (status_.good()) status_ = EC_IllegalCall;
      return;
    }
    DatasetBuilder nested(code_item);
    nested.Put(DCM_CodeValue, code.value);
    nested.Put(DCM_CodingSchemeDesignator, code.scheme);
    nested.Put(DCM_CodeMeaning, code.meaning);
    extra(nested);
    if (!nested.ok()) {
      status_ = nested.status_;
      failed_tag_ = nested.failed_tag_;
    }
  }
  void PutCode(const DcmTagKey& sequence, const Code& code) {
    PutCode(sequence, code, [](DatasetBuilder&) {});
  }

  void PutPixels(const std::vector<uint16_t>& pixels) {
    if (!status_.good()) return;
    status_ = item_->putAndInsertUint16Array(DCM_PixelData, pixels.data(),
                                             static_cast<unsigned long>(pixels.size()));
    if (status_.bad()) failed_tag_ = "PixelData";
  }

  bool ok() const { return status_.good(); }
  absl::Status ToStatus() const {
    if (status_.good()) return absl::OkStatus();
    return Internal("DICOM_ENCODE_FAILED",
                    absl::StrCat("DCMTK could not set ", failed_tag_, ": ", status_.text()),
                    {{"attribute", failed_tag_}});
  }

 private:
  DcmItem* item_;
  OFCondition status_ = EC_Normal;
  std::string failed_tag_;
};

void PutPatientAndStudy(DatasetBuilder& b, const MammogramHeader& h) {
  b.Put(DCM_PatientName, h.patient_name);
  b.Put(DCM_PatientID, h.patient_id);
  b.Put(DCM_PatientBirthDate, h.patient_birth_date);
  b.Put(DCM_PatientSex, h.patient_sex);
  b.Put(DCM_PatientAge, PatientAge(h.patient_birth_date, h.study_date));

  b.Put(DCM_StudyInstanceUID, h.study_instance_uid);
  b.Put(DCM_StudyDate, h.study_date);
  b.Put(DCM_StudyTime, h.study_time);
  b.Put(DCM_ReferringPhysicianName, "");
  b.Put(DCM_StudyID, h.study_id);
  b.Put(DCM_AccessionNumber, h.accession_number);
  b.Put(DCM_StudyDescription, h.study_description);
}

void PutSeriesAndEquipment(DatasetBuilder& b, const SyntheticImage& image,
                           const MammogramHeader& h) {
  b.Put(DCM_Modality, "MG");
  b.Put(DCM_SeriesInstanceUID, h.series_instance_uid);
  b.Put(DCM_SeriesNumber, absl::StrCat(h.series_number));
  b.Put(DCM_SeriesDate, h.study_date);
  b.Put(DCM_SeriesTime, h.study_time);
  b.Put(DCM_SeriesDescription, "Synthetic screening views");
  b.Put(DCM_PresentationIntentType, "FOR PRESENTATION");

  b.Put(DCM_Manufacturer, "AI-LAB Synthetic");
  b.Put(DCM_ManufacturerModelName, "ailab-synth");
  b.Put(DCM_SoftwareVersions, absl::StrCat("generator ", synth::kGeneratorVersion));
  b.Put(DCM_InstitutionName, h.institution_name);
  b.Put(DCM_StationName, h.station_name);
  b.Put(DCM_DeviceSerialNumber, h.device_serial_number);
  b.Put(DCM_DetectorType, "DIRECT");
  b.Put(DCM_DetectorConfiguration, "AREA");
}

void PutImage(DatasetBuilder& b, const SyntheticImage& image, const MammogramHeader& h) {
  const bool monochrome1 = image.photometric == Photometric::kMonochrome1;
  const std::string spacing =
      absl::StrCat(Decimal(image.pixel_spacing_mm), "\\", Decimal(image.pixel_spacing_mm));

  // General and DX image.
  b.Put(DCM_ImageType, "ORIGINAL\\PRIMARY");
  b.Put(DCM_InstanceNumber, absl::StrCat(h.instance_number));
  b.Put(DCM_ContentDate, h.study_date);
  b.Put(DCM_ContentTime, h.study_time);
  b.Put(DCM_AcquisitionDateTime, absl::StrCat(h.study_date, h.study_time));
  b.Put(DCM_InstanceCreationDate, h.study_date);
  b.Put(DCM_InstanceCreationTime, h.study_time);
  b.Put(DCM_PatientOrientation, PatientOrientation(image.laterality, image.view));
  b.Put(DCM_BurnedInAnnotation, "NO");
  b.Put(DCM_QualityControlImage, "NO");
  b.Put(DCM_LossyImageCompression, "00");
  b.Put(DCM_ImageComments, "Synthetic image made by ailab-synth; no real patient");
  b.Put(DCM_AcquisitionDeviceProcessingDescription, "SYNTHETIC FOR PRESENTATION");

  // Image pixel module.
  b.PutUint16(DCM_SamplesPerPixel, 1);
  b.Put(DCM_PhotometricInterpretation, monochrome1 ? "MONOCHROME1" : "MONOCHROME2");
  b.PutUint16(DCM_Rows, static_cast<Uint16>(image.rows));
  b.PutUint16(DCM_Columns, static_cast<Uint16>(image.columns));
  b.PutUint16(DCM_BitsAllocated, 16);
  b.PutUint16(DCM_BitsStored, static_cast<Uint16>(image.bits_stored));
  b.PutUint16(DCM_HighBit, static_cast<Uint16>(image.bits_stored - 1));
  b.PutUint16(DCM_PixelRepresentation, 0);
  b.Put(DCM_PixelSpacing, spacing);
  b.Put(DCM_ImagerPixelSpacing, spacing);
  b.Put(DCM_EstimatedRadiographicMagnificationFactor, "1");

  // Values are the logarithm of the X-ray intensity; with MONOCHROME2 the attenuating
  // (bright) tissue has the high values, so high values mean less intensity (-1).
  b.Put(DCM_PixelIntensityRelationship, "LOG");
  b.PutSint16(DCM_PixelIntensityRelationshipSign, monochrome1 ? 1 : -1);
  b.Put(DCM_RescaleIntercept, Decimal(image.rescale_intercept));
  b.Put(DCM_RescaleSlope, Decimal(image.rescale_slope));
  b.Put(DCM_RescaleType, "US");
  b.Put(DCM_WindowCenter, Decimal(image.window_center));
  b.Put(DCM_WindowWidth, Decimal(image.window_width));
  b.Put(DCM_WindowCenterWidthExplanation, "SYNTHETIC DEFAULT");
  b.Put(DCM_VOILUTFunction, "LINEAR");
  // DX images require INVERSE with MONOCHROME1 and IDENTITY with MONOCHROME2.
  b.Put(DCM_PresentationLUTShape, monochrome1 ? "INVERSE" : "IDENTITY");

  // Anatomy, view and positioning (DX anatomy imaged, mammography image modules).
  b.Put(DCM_BodyPartExamined, "BREAST");
  b.Put(DCM_ImageLaterality, synth::LateralityCode(image.laterality));
  b.Put(DCM_ViewPosition, synth::ViewCode(image.view));
  b.PutCode(DCM_AnatomicRegionSequence, kBreastCode);
  b.PutCode(DCM_ViewCodeSequence,
            image.view == View::kCranioCaudal ? kCranioCaudalCode : kMediolateralObliqueCode,
            [](DatasetBuilder& item) { item.PutEmptySequence(DCM_ViewModifierCodeSequence); });
  b.Put(DCM_PositionerType, "MAMMOGRAPHIC");
  b.Put(DCM_PositionerPrimaryAngle, Decimal(image.acquisition.positioner_angle_deg));
  b.Put(DCM_OrganExposed, "BREAST");
  b.Put(DCM_BreastImplantPresent, "NO");
  b.Put(DCM_PartialView, "NO");
  b.PutEmptySequence(DCM_AcquisitionContextSequence);

  // Acquisition values. Organ Dose is in dGy, Exposure in uAs.
  const synth::AcquisitionParameters& a = image.acquisition;
  b.Put(DCM_KVP, Decimal(a.kvp));
  b.Put(DCM_ExposureTime, absl::StrCat(static_cast<int>(std::lround(a.exposure_time_ms))));
  b.Put(DCM_XRayTubeCurrent, absl::StrCat(static_cast<int>(std::lround(a.tube_current_ma))));
  b.Put(DCM_Exposure, absl::StrCat(static_cast<int>(std::lround(a.exposure_mas))));
  b.Put(DCM_ExposureInuAs, absl::StrCat(static_cast<int64_t>(std::llround(a.exposure_mas * 1000))));
  b.Put(DCM_BodyPartThickness, Decimal(a.compressed_thickness_mm));
  b.Put(DCM_CompressionForce, Decimal(a.compression_force_n));
  b.Put(DCM_AnodeTargetMaterial, a.anode_target);
  b.Put(DCM_FilterMaterial, a.filter);
  b.Put(DCM_OrganDose, Decimal(a.organ_dose_mgy / 100));
  b.Put(DCM_DistanceSourceToDetector, "650");
  b.Put(DCM_DistanceSourceToPatient, "625");

  b.PutPixels(image.pixels);
}

}  // namespace

absl::Status ValidateMammogramHeader(const MammogramHeader& h) {
  struct UidField {
    const char* name;
    const std::string& value;
  };
  for (const UidField& f : {UidField{"study_instance_uid", h.study_instance_uid},
                            UidField{"series_instance_uid", h.series_instance_uid},
                            UidField{"sop_instance_uid", h.sop_instance_uid}}) {
    if (!IsValidUid(f.value)) {
      return HeaderError(f.name, f.value,
                         "use digits and dots, no empty component or leading zero, at most 64 "
                         "characters");
    }
  }

  if (!IsValidDate(h.study_date)) {
    return HeaderError("study_date", h.study_date, "use a calendar date as YYYYMMDD");
  }
  if (!h.patient_birth_date.empty() && !IsValidDate(h.patient_birth_date)) {
    return HeaderError("patient_birth_date", h.patient_birth_date,
                       "use a calendar date as YYYYMMDD, or leave it empty");
  }
  if (!IsValidTime(h.study_time)) {
    return HeaderError("study_time", h.study_time, "use HHMMSS");
  }

  if (h.patient_sex != "" && h.patient_sex != "F" && h.patient_sex != "M" && h.patient_sex != "O") {
    return HeaderError("patient_sex", h.patient_sex, "use F, M, O or leave it empty");
  }
  if (h.series_number < 0 || h.instance_number < 0) {
    return HeaderError(h.series_number < 0 ? "series_number" : "instance_number",
                       absl::StrCat(std::min(h.series_number, h.instance_number)),
                       "use a number of 0 or more");
  }

  // Maximum lengths of the value representations: PN 64, LO 64, SH 16.
  AILAB_RETURN_IF_ERROR(CheckText("patient_name", h.patient_name, 64));
  AILAB_RETURN_IF_ERROR(CheckText("patient_id", h.patient_id, 64));
  AILAB_RETURN_IF_ERROR(CheckText("accession_number", h.accession_number, 16));
  AILAB_RETURN_IF_ERROR(CheckText("study_id", h.study_id, 16));
  AILAB_RETURN_IF_ERROR(CheckText("study_description", h.study_description, 64));
  AILAB_RETURN_IF_ERROR(CheckText("institution_name", h.institution_name, 64));
  AILAB_RETURN_IF_ERROR(CheckText("station_name", h.station_name, 16));
  AILAB_RETURN_IF_ERROR(CheckText("device_serial_number", h.device_serial_number, 64));
  if (h.patient_id.empty()) return HeaderError("patient_id", "", "set a patient id");
  return absl::OkStatus();
}

absl::Status ValidateSyntheticImage(const SyntheticImage& image) {
  if (image.rows < 1 || image.rows > 65535 || image.columns < 1 || image.columns > 65535) {
    return ImageError("rows", absl::StrFormat("%d x %d is outside 1 to 65535 pixels per side",
                                              image.rows, image.columns));
  }
  const size_t expected = static_cast<size_t>(image.rows) * image.columns;
  if (image.pixels.size() != expected) {
    return ImageError("pixels", absl::StrFormat("%d values for %d x %d pixels", image.pixels.size(),
                                                image.rows, image.columns));
  }
  if (image.bits_stored < 8 || image.bits_stored > 16) {
    return ImageError("bits_stored", absl::StrCat(image.bits_stored, " is outside 8 to 16"));
  }
  const uint32_t limit = 1u << image.bits_stored;
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    if (image.pixels[i] >= limit) {
      return ImageError("pixels", absl::StrFormat("value %d at index %d needs more than %d bits",
                                                  image.pixels[i], i, image.bits_stored));
    }
  }
  if (!(image.pixel_spacing_mm > 0 && image.pixel_spacing_mm < 100)) {
    return ImageError("pixel_spacing_mm",
                      absl::StrCat(image.pixel_spacing_mm, " mm is outside (0, 100)"));
  }
  if (!(image.window_width >= 1) || !std::isfinite(image.window_center)) {
    return ImageError("window_width",
                      absl::StrCat("width ", image.window_width, " and centre ",
                                   image.window_center, " must be finite, width at least 1"));
  }
  if (!(image.rescale_slope != 0 && std::isfinite(image.rescale_slope) &&
        std::isfinite(image.rescale_intercept))) {
    return ImageError("rescale_slope", "slope must be finite and not 0, intercept finite");
  }
  return absl::OkStatus();
}

absl::Status WriteMammogram(const SyntheticImage& image, const MammogramHeader& header,
                            const std::string& path) {
  AILAB_RETURN_IF_ERROR(ValidateSyntheticImage(image));
  AILAB_RETURN_IF_ERROR(ValidateMammogramHeader(header));

  const std::filesystem::path target(path);
  const std::filesystem::path folder =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) {
    return NotFound("OUTPUT_FOLDER_NOT_FOUND",
                    absl::StrCat("folder \"", folder.string(), "\" for DICOM file \"", path,
                                 "\" does not exist; create it first"),
                    {{"folder", folder.string()}});
  }

  DcmFileFormat file;
  DcmDataset* dataset = file.getDataset();
  DatasetBuilder builder(dataset);
  builder.Put(DCM_SOPClassUID, UID_DigitalMammographyXRayImageStorageForPresentation);
  builder.Put(DCM_SOPInstanceUID, header.sop_instance_uid);
  PutPatientAndStudy(builder, header);
  PutSeriesAndEquipment(builder, image, header);
  PutImage(builder, image, header);
  AILAB_RETURN_IF_ERROR(builder.ToStatus());

  // Write next to the target, then rename, so readers never see a partial file.
  const std::string temporary = absl::StrCat(path, ".part-", getpid());
  const OFCondition written =
      file.saveFile(temporary.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL,
                    EPD_noChange, 0, 0, EWM_fileformat);
  if (written.bad()) {
    std::filesystem::remove(temporary, error);
    return Internal("DICOM_WRITE_FAILED",
                    absl::StrCat("writing DICOM file \"", path, "\" failed: ", written.text(),
                                 "; check that the folder is writable and has free space"),
                    {{"path", path}});
  }
  std::filesystem::rename(temporary, target, error);
  if (error) {
    const std::string reason = error.message();
    std::filesystem::remove(temporary, error);
    return Internal(
        "DICOM_WRITE_FAILED",
        absl::StrCat("renaming the finished DICOM file to \"", path, "\" failed: ", reason),
        {{"path", path}});
  }
  return absl::OkStatus();
}

}  // namespace ailab::dicom
