// Delivery of a model package to one destination: files into a folder, or one
// multipart POST to an HTTP endpoint. One call is one attempt; the publisher decides
// about retries from `retryable`.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/evaluation/package.h"

namespace ailab::evaluation {

// Outcome of one delivery attempt.
struct DeliveryResult {
  absl::Status status;
  // True when another attempt may succeed: network errors, HTTP 5xx, 408 and 429, and
  // file system errors. False for other HTTP 4xx responses, such as a rejected token.
  bool retryable = false;
  // HTTP status code of the response; 0 for folders or when no response came.
  int http_status = 0;
  // Folder path or URL of the delivered package.
  std::string location;
};

// Writes the package to <root>/<model_id>/<first 16 hex digits of its checksum>/.
// The files are written to a temporary folder beside it and renamed into place, so
// the folder appears complete or not at all. A folder that already contains the same
// manifest counts as delivered and is left alone. One that contains another manifest
// is a non-retryable ALREADY_EXISTS.
DeliveryResult DeliverToFolder(const std::string& root, const std::string& model_id,
                               const ModelPackage& package);

// POSTs the package to `url` as multipart/form-data, one part per file named after
// it, with "Authorization: Bearer <token>" when `token` is not empty and the package
// checksum in "Idempotency-Key". A 2xx response is a delivery.
DeliveryResult DeliverToHttp(const std::string& url, const std::string& token,
                             const ModelPackage& package, absl::Duration timeout);

}  // namespace ailab::evaluation
