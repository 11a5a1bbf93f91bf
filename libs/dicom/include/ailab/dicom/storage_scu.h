// DICOM storage SCU: sends instances by C-STORE and checks peers by C-ECHO, for tests,
// tools and forwarding. Thread-safe; each call opens and releases its own association.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ailab::dicom {

// Peer and identity of an association.
struct ScuOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 11112;
  // AE title of the peer (called) and of this SCU (calling).
  std::string called_ae_title = "AILAB";
  std::string calling_ae_title = "AILABSCU";
  // Seconds to wait for association and DIMSE messages.
  int timeout_seconds = 30;
};

// Sends a C-ECHO. UNAVAILABLE when the peer cannot be reached or refuses.
absl::Status SendEcho(const ScuOptions& options);

// Sends the Part 10 file `bytes` by C-STORE in its own transfer syntax and returns the
// response status (0 for success). INVALID_ARGUMENT when `bytes` is not a readable
// DICOM file, UNAVAILABLE when the association fails or the peer refuses the
// presentation context.
absl::StatusOr<uint16_t> SendStore(const ScuOptions& options, absl::string_view bytes);

}  // namespace ailab::dicom
