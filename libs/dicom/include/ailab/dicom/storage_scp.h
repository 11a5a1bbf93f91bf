// DICOM storage SCP: accepts C-STORE and C-ECHO requests from a PACS or modality.
//
// Every image storage SOP class, and the text, enhanced, comprehensive and mammography
// CAD SR, key object selection and grayscale presentation state classes, are accepted
// with the uncompressed, deflated, RLE, JPEG, JPEG-LS and JPEG 2000 transfer syntaxes. Each received instance is handed to the
// handler as a Part 10 file in the transfer syntax it arrived in. The C-STORE
// response status follows the handler's result: success, 0xC000 (cannot understand)
// for INVALID_ARGUMENT and FAILED_PRECONDITION, 0xA700 (out of resources) otherwise.
//
// One association is served at a time, on a background thread (DCMTK's DcmSCP). The
// handler runs on that thread. Start() and Stop() are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ailab::dicom {

// Settings of the storage SCP.
struct StorageScpOptions {
  // TCP port to listen on, on every interface.
  uint16_t port = 11112;
  // AE title of this SCP; callers must address it (called AE title).
  std::string ae_title = "AILAB";
  // Largest PDU this SCP receives, in bytes.
  uint32_t max_pdu_bytes = 65536;
  // Seconds to wait for association messages and for DIMSE messages.
  int acse_timeout_seconds = 30;
  int dimse_timeout_seconds = 60;
};

// One instance received by C-STORE.
struct ReceivedInstance {
  // AE title and IP address of the sender.
  std::string calling_ae_title;
  std::string peer_address;
  // The instance as a Part 10 file.
  std::string bytes;
};

// Called once per C-STORE request.
using StoreHandler = std::function<absl::Status(ReceivedInstance instance)>;

class StorageScp {
 public:
  // Opens the port and starts serving. FAILED_PRECONDITION when the port cannot be
  // opened (for example, it is in use).
  static absl::StatusOr<std::unique_ptr<StorageScp>> Start(const StorageScpOptions& options,
                                                           StoreHandler handler);
  ~StorageScp();

  // Stops after the association in progress, within about one second when idle.
  void Stop();

  uint16_t port() const;

  // Implementation, defined inside the library.
  struct Impl;

 private:
  explicit StorageScp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ailab::dicom
