// De-identification of DICOM objects following the Basic Application Level
// Confidentiality Profile of DICOM PS3.15 (Annex E), with the Retain Longitudinal
// Temporal Information with Modified Dates option.
//
// DeidentifyInPlace() changes one object:
//   - Patient ID and Patient's Name become a pseudonym, the first 16 hex digits of
//     HMAC-SHA256(secret key, original patient id). So the same patient gets the same
//     pseudonym in every upload of one deployment, and without the key the pseudonym
//     cannot be linked back. An object without a Patient ID is keyed by name and birth date,
//     else by Study Instance UID. Patient IDs and Accession Numbers inside sequence
//     items are emptied.
//   - Every UID that is not a DICOM-defined one (1.2.840.10008.*) is replaced, in the
//     whole data set including sequences and the file meta information, by
//     "2.25." followed by the decimal value of 128 bits of HMAC-SHA256(key, UID), so
//     references between objects stay consistent.
//   - Every date (DA, and the date part of DT) is moved back by a per-patient number
//     of days derived from the key, so intervals between one patient's studies
//     survive. Patient's Birth Date is emptied.
//   - The attributes the profile removes or empties (names of other persons,
//     addresses, telephone numbers, institution, station, accession number, study
//     id, descriptions and comments, other patient ids, Original Attributes, private
//     attributes, overlays and curves, ...) are removed or emptied, and any remaining
//     person name (PN) anywhere in the data set is removed.
//   - Patient Identity Removed, De-identification Method (Code Sequence) and
//     Longitudinal Temporal Information Modified are set.
// Pixel data are not changed: burned-in text cannot be removed here, so the result
// reports Burned In Annotation for the caller's policy.
//
// Thread-safe for different objects.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ailab/dicom/dicom.h"

namespace ailab::dicom {

// Settings of one deployment.
struct DeidentifyOptions {
  // Secret key of the deployment (at least 16 bytes). Pseudonyms, UIDs and date
  // shifts are functions of it; changing it breaks the link with earlier uploads.
  std::string secret_key;
  // Dates move back by 1 to this many days (per patient). 0 keeps dates unchanged.
  int max_date_shift_days = 365;
  // Keep Patient's Sex, Age, Size and Weight (the profile's Retain Patient
  // Characteristics option); otherwise they are emptied or removed.
  bool retain_patient_characteristics = false;
};

// One replaced identifier, for the administrator-only identity map.
struct IdentityMapping {
  // Kind of identifier replaced: "patient_id", "patient_name", "patient_birth_date",
  // "study_instance_uid", "series_instance_uid", "sop_instance_uid", "accession_number".
  std::string kind;
  std::string original;
  std::string pseudonym;
};

// Outcome of DeidentifyInPlace().
struct DeidentifyResult {
  // Pseudonymous patient id written into the object.
  std::string patient_pseudonym;
  // Days every date was moved back.
  int date_shift_days = 0;
  // Burned In Annotation of the input: "YES", "NO" or empty when absent.
  std::string burned_in_annotation;
  // Original and new value of each replaced identifier (protected health information:
  // store only where the administrator alone can read it, never log).
  std::vector<IdentityMapping> mappings;
  // Number of attributes removed or emptied.
  int removed_attributes = 0;
};

// Returns the pseudonym of `original_patient_key` under `secret_key`.
std::string PatientPseudonym(absl::string_view secret_key, absl::string_view original_patient_key);

// Returns the replacement of `uid` under `secret_key` ("2.25.<decimal>").
std::string PseudonymousUid(absl::string_view secret_key, absl::string_view uid);

// De-identifies `object` as described above and refreshes its header().
// INVALID_ARGUMENT when the key is shorter than 16 bytes.
absl::StatusOr<DeidentifyResult> DeidentifyInPlace(DicomObject& object,
                                                   const DeidentifyOptions& options);

}  // namespace ailab::dicom
