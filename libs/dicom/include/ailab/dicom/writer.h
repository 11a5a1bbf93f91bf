// Writing of synthetic mammograms as DICOM Part 10 files.
//
// WriteMammogram() stores a synth::SyntheticImage as a Digital Mammography X-Ray Image
// Storage - For Presentation object (SOP class 1.2.840.10008.5.1.4.1.1.1.2) in
// explicit VR little endian. Patient, study, series and equipment fields come from
// `MammogramHeader`. Laterality, view, pixel spacing, photometric interpretation,
// window and acquisition values come from the image. The density truth is not written
// into the file. The same input gives byte-identical files, because no field is taken
// from the clock.
//
// All functions are thread-safe; each call writes its own file.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "ailab/synth/mammogram.h"

namespace ailab::dicom {

// Patient, study and series context of one image. Text is printable ASCII.
struct MammogramHeader {
  // Patient Name, for example "SYNTH^PATIENT0007", and Patient ID, for example "SYN0007".
  std::string patient_name;
  std::string patient_id;
  // YYYYMMDD, or empty when unknown.
  std::string patient_birth_date;
  // "F", "M", "O" or empty.
  std::string patient_sex = "F";

  // Study, Series and SOP Instance UIDs: digits and dots, at most 64 characters.
  std::string study_instance_uid;
  std::string series_instance_uid;
  std::string sop_instance_uid;

  // Study Date (YYYYMMDD) and Study Time (HHMMSS); content and acquisition use them too.
  std::string study_date;
  std::string study_time = "090000";
  std::string accession_number;
  std::string study_id = "1";
  std::string study_description = "Synthetic screening mammogram";
  int series_number = 1;
  int instance_number = 1;

  std::string institution_name = "AI-LAB Synthetic Imaging";
  std::string station_name = "SYNTH01";
  std::string device_serial_number = "SYNTH-0001";
};

// Checks `header`: UIDs, dates, times and text lengths. INVALID_ARGUMENT names the
// field and its value.
absl::Status ValidateMammogramHeader(const MammogramHeader& header);

// Checks that `image` can be stored: size, pixel count, bits stored, pixel values within
// bits stored, spacing and window. INVALID_ARGUMENT names the field.
absl::Status ValidateSyntheticImage(const synth::SyntheticImage& image);

// Writes `image` with `header` to the file `path`, replacing an existing file. The
// file appears complete or not at all (written under a temporary name, then renamed).
// INVALID_ARGUMENT for bad input, NOT_FOUND when the folder of `path` does not exist,
// INTERNAL when writing fails.
absl::Status WriteMammogram(const synth::SyntheticImage& image, const MammogramHeader& header,
                            const std::string& path);

}  // namespace ailab::dicom
