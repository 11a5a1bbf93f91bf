// Content-addressed blob store on a file system root, shared by the services for
// DICOM files, PNG renderings, arrays, checkpoints and model files.
//
// A blob's id is "sha256:" followed by the hex SHA-256 of its bytes; the file lives
// at <root>/sha256/<first two hex>/<next two hex>/<hex>. Writes go to a temporary
// file under <root>/tmp, are fsynced, then renamed into place, so a reader never sees
// a partial blob and a crash leaves at most a stray temporary file. Writing bytes
// that are already stored is a no-op. Blobs are immutable and never deleted by this
// class.
//
// BlobStore is thread-safe and may be shared by processes on one file system (a
// ReadWriteMany volume in Kubernetes).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ailab::blob {

class BlobStore {
 public:
  // Opens (and creates if missing) the store at `root`.
  static absl::StatusOr<BlobStore> Open(const std::string& root);

  // Stores `bytes`; returns the blob id.
  absl::StatusOr<std::string> Put(absl::string_view bytes) const;

  // Stores the file at `path` by copying it; returns the blob id.
  absl::StatusOr<std::string> PutFile(const std::string& path) const;

  // Returns the bytes of blob `id`. NOT_FOUND when absent, INVALID_ARGUMENT when `id`
  // is not a well-formed blob id.
  absl::StatusOr<std::string> Get(absl::string_view id) const;

  // Returns the file system path of blob `id` (which must exist), for readers that
  // stream or memory-map large blobs.
  absl::StatusOr<std::string> PathOf(absl::string_view id) const;

  // Returns true when blob `id` is stored.
  bool Contains(absl::string_view id) const;

  // Returns the hex SHA-256 of `bytes`.
  static std::string Sha256Hex(absl::string_view bytes);

  const std::string& root() const { return root_; }

 private:
  explicit BlobStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace ailab::blob
