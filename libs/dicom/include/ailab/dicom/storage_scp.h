// DICOM storage SCP: accepts C-STORE and C-ECHO requests from a PACS or modality.
//
// Every storage SOP class that DCMTK 3.6.7 lists (dcmAllStorageSOPClassUIDs) is accepted with the
// uncompressed, deflated, RLE, JPEG, JPEG-LS, JPEG 2000, HTJ2K, MPEG and HEVC transfer
// syntaxes. Each received instance reaches the handler as a Part 10 file: a file meta
// header built from the C-STORE request, followed by the data set bytes exactly as
// they arrived, so nothing is decoded or re-encoded on the way. The C-STORE response
// status follows the handler's result: success, 0xC000 (cannot understand) for
// INVALID_ARGUMENT and FAILED_PRECONDITION, 0xA700 (out of resources) otherwise.
//
// The SCP listens on its own socket, bound to one address (loopback by default). A
// listener thread accepts connections and reads each A-ASSOCIATE request. Every
// accepted association then runs on a thread of its own, up to max_associations at a
// time. The handler runs on that thread, so it must be thread-safe. Requests beyond
// the limit are rejected as transient (local limit exceeded). A data set larger
// than max_dataset_bytes aborts its association before more memory is used.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ailab::dicom {

// Settings of the storage SCP.
struct StorageScpOptions {
  // IPv4 address to listen on; "0.0.0.0" listens on every interface.
  std::string bind_address = "127.0.0.1";
  // TCP port to listen on; 0 picks a free port (see StorageScp::port()).
  uint16_t port = 11112;
  // AE titles this SCP accepts as called AE title; associations addressed to any other
  // title are rejected. At least one, each 1 to 16 characters.
  std::vector<std::string> ae_titles = {"AILAB"};
  // Calling AE titles allowed to associate; empty allows every caller.
  std::vector<std::string> allowed_calling_ae_titles;
  // Associations served at the same time.
  int max_associations = 16;
  // Largest data set accepted in one C-STORE request, in bytes.
  int64_t max_dataset_bytes = int64_t{1} << 30;
  // Largest PDU this SCP receives, in bytes (4096 to 131072).
  uint32_t max_pdu_bytes = 131072;
  // Seconds to wait for association messages, and for the next DIMSE message of an
  // open association before it is aborted.
  int acse_timeout_seconds = 30;
  int dimse_timeout_seconds = 60;
  // Sets TCP_NODELAY on accepted connections, so that small responses are not held
  // back by Nagle's algorithm while the sender waits for a delayed ACK.
  bool tcp_nodelay = true;
  // Sets TCP_QUICKACK (Linux) while receiving, so that a sender that keeps Nagle's
  // algorithm on is not held up waiting for this side's delayed ACKs.
  bool tcp_quickack = true;
};

// One instance received by C-STORE.
struct ReceivedInstance {
  // AE title the sender addressed (one of StorageScpOptions::ae_titles).
  std::string called_ae_title;
  // AE title and IP address of the sender.
  std::string calling_ae_title;
  std::string peer_address;
  // The instance as a Part 10 file, in the transfer syntax it arrived in.
  std::string bytes;
};

// Called once per C-STORE request, on the thread of its association.
using StoreHandler = std::function<absl::Status(ReceivedInstance instance)>;

// Counters of a running SCP, for logs and tests.
struct StorageScpStats {
  int64_t associations_accepted = 0;
  int64_t associations_rejected = 0;
  int64_t associations_aborted = 0;
  int64_t instances_received = 0;
  // Associations open now, and the most open at one time since the start.
  int64_t associations_active = 0;
  int64_t associations_peak = 0;
};

class StorageScp {
 public:
  // Opens the port and starts serving. INVALID_ARGUMENT for bad options,
  // FAILED_PRECONDITION when the address cannot be bound (for example, the port is in
  // use).
  static absl::StatusOr<std::unique_ptr<StorageScp>> Start(const StorageScpOptions& options,
                                                           StoreHandler handler);
  ~StorageScp();

  // Stops accepting, aborts associations that are idle between messages, and waits for
  // the C-STORE requests in progress to finish. Returns within about one second when
  // no transfer is in progress. Thread-safe; later calls do nothing.
  void Stop();

  // The port listened on (the one chosen when StorageScpOptions::port was 0).
  uint16_t port() const;

  StorageScpStats stats() const;

  // Implementation, defined inside the library.
  struct Impl;

 private:
  explicit StorageScp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ailab::dicom
