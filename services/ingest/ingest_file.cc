#include "ingest_file.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "names.h"

namespace ailab::ingest {
namespace {

v1::UploadResult Rejected(const std::string& file_name, const absl::Status& status) {
  v1::UploadResult result;
  result.set_file_name(file_name);
  result.set_outcome(v1::UploadResult::REJECTED);
  std::string reason = GetErrorReason(status);
  result.set_reason(reason.empty() ? "INTERNAL" : reason);
  std::string message(status.message());
  // Library errors start with the file name; make sure every message names the file.
  if (message.rfind(file_name, 0) != 0) message = absl::StrCat(file_name, ": ", message);
  result.set_message(message);
  return result;
}

// Copies the de-identified header into the instance record.
void FillInstance(const dicom::DicomHeader& h, v1::Instance& out) {
  out.set_sop_instance_uid(h.sop_instance_uid);
  out.set_sop_class_uid(h.sop_class_uid);
  out.set_patient_pseudonym(h.patient_id);
  out.set_study_date(h.study_date_iso);
  out.set_modality(h.modality);
  out.set_body_part(h.body_part);
  out.set_laterality(h.laterality);
  out.set_view(h.view);
  out.set_manufacturer(h.manufacturer);
  out.set_model(h.model);
  if (h.pixel_spacing_row_mm > 0) {
    out.mutable_pixel_spacing()->set_row_mm(h.pixel_spacing_row_mm);
    out.mutable_pixel_spacing()->set_column_mm(h.pixel_spacing_column_mm);
    out.mutable_pixel_spacing()->set_source(h.pixel_spacing_source);
  }
  out.set_presentation_intent(h.presentation_intent);
  out.set_rows(h.rows);
  out.set_columns(h.columns);
  out.set_frames(h.frames);
  out.set_photometric_interpretation(h.photometric_interpretation);
  out.set_bits_stored(h.bits_stored);
  out.set_transfer_syntax_uid(h.transfer_syntax_uid);
  out.set_has_image(h.has_pixel_data);
  for (const std::string& warning : h.parse_warnings) out.add_warnings(warning);
}

}  // namespace

std::string BaseFileName(absl::string_view file_name) {
  size_t slash = file_name.find_last_of("/\\");
  return std::string(slash == absl::string_view::npos ? file_name : file_name.substr(slash + 1));
}

v1::UploadResult FileIngester::Ingest(const std::string& dataset_id, const std::string& file_name,
                                      absl::string_view bytes, const std::string& sha256,
                                      absl::StatusCode* code) {
  absl::StatusCode ignored;
  absl::StatusCode& failure = code != nullptr ? *code : ignored;
  failure = absl::StatusCode::kOk;
  auto rejected = [&](const absl::Status& status) {
    failure = status.code();
    return Rejected(file_name, status);
  };

  // Integrity of the transfer.
  if (!sha256.empty() &&
      absl::AsciiStrToLower(sha256) != blob::BlobStore::Sha256Hex(bytes)) {
    return rejected(InvalidArgument("CHECKSUM_MISMATCH", "sha256",
                                    absl::StrCat(file_name, ": the SHA-256 of the ", bytes.size(),
                                                 " bytes received does not match the sha256 "
                                                 "sent; upload the file again")));
  }

  // Structure, limits and pixel data completeness.
  absl::StatusOr<dicom::DicomObject> object = dicom::ParseDicom(bytes, file_name, options_.limits);
  if (!object.ok()) return rejected(object.status());

  // De-identification before anything is stored.
  absl::StatusOr<dicom::DeidentifyResult> deidentified =
      dicom::DeidentifyInPlace(*object, options_.deidentify);
  if (!deidentified.ok()) return rejected(deidentified.status());
  const dicom::DicomHeader& h = object->header();

  // Idempotent upload: the same SOP Instance UID is stored once per dataset.
  v1::UploadResult result;
  result.set_file_name(file_name);
  for (const std::string& warning : h.parse_warnings) result.add_warnings(warning);
  std::string instance_id = DerivedId(h.sop_instance_uid);
  absl::StatusOr<std::optional<std::string>> existing =
      store_.FindInstanceBySopUid(dataset_id, h.sop_instance_uid);
  if (!existing.ok()) return rejected(existing.status());
  if (existing->has_value()) {
    result.set_outcome(v1::UploadResult::DUPLICATE);
    result.set_instance(InstanceName(dataset_id, **existing));
    return result;
  }

  absl::StatusOr<std::string> serialized = object->Serialize();
  if (!serialized.ok()) return rejected(serialized.status());
  absl::StatusOr<std::string> blob = blobs_.Put(*serialized);
  if (!blob.ok()) return rejected(blob.status());

  NewInstance record;
  record.dataset_id = dataset_id;
  record.id = instance_id;
  record.study_instance_uid = h.study_instance_uid;
  record.series_instance_uid = h.series_instance_uid;
  record.study_id = DerivedId(absl::StrCat("study:", h.study_instance_uid));
  record.series_id = DerivedId(absl::StrCat("series:", h.series_instance_uid));
  FillInstance(h, record.instance);
  record.instance.set_source_file(file_name);
  record.instance.set_burned_in_annotation(deidentified->burned_in_annotation);
  record.instance.set_dicom_blob(*blob);
  record.instance.set_dicom_size_bytes(static_cast<int64_t>(serialized->size()));
  record.mappings = std::move(deidentified->mappings);

  absl::StatusOr<bool> inserted = store_.InsertInstance(record);
  if (!inserted.ok()) return rejected(inserted.status());
  // A concurrent upload of the same instance may have won the race.
  result.set_outcome(*inserted ? v1::UploadResult::STORED : v1::UploadResult::DUPLICATE);
  result.set_instance(InstanceName(dataset_id, instance_id));
  return result;
}

}  // namespace ailab::ingest
