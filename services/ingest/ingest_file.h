// Checking, de-identification and storage of one uploaded DICOM file.
//
// The file is parsed (ParseDicom checks structure, image size limits and pixel data
// completeness), de-identified, written to the blob store and inserted with its study
// and series. Nothing of the original identifiers is stored outside the identity map.
// Thread-safe; one FileIngester serves every upload.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "ailab/blob/blob_store.h"
#include "ailab/dicom/deidentify.h"
#include "ailab/dicom/dicom.h"
#include "ailab/ingest/v1/ingest.pb.h"
#include "store.h"

namespace ailab::ingest {

// Settings of ingestion.
struct IngestOptions {
  dicom::DeidentifyOptions deidentify;
  dicom::ParseLimits limits;
};

class FileIngester {
 public:
  // `store` and `blobs` must outlive the ingester.
  FileIngester(IngestStore& store, const blob::BlobStore& blobs, IngestOptions options)
      : store_(store), blobs_(blobs), options_(std::move(options)) {}

  // Ingests `bytes`, uploaded as `file_name`, into dataset `dataset_id`. `sha256` (hex)
  // is checked when not empty. Every failure, of the file or of the database or blob
  // store, comes back as a REJECTED result with its reason instead of an error. When
  // `code` is not null it receives the status code of the failure (OK when stored), so
  // callers can tell a bad file from a server fault.
  v1::UploadResult Ingest(const std::string& dataset_id, const std::string& file_name,
                          absl::string_view bytes, const std::string& sha256,
                          absl::StatusCode* code = nullptr);

 private:
  IngestStore& store_;
  const blob::BlobStore& blobs_;
  const IngestOptions options_;
};

// Returns the last component of a path sent as a file name ("a/b/c.dcm" -> "c.dcm").
std::string BaseFileName(absl::string_view file_name);

}  // namespace ailab::ingest
