// The files that `ailab ingest upload` sends: plain files, folders read recursively,
// zip archives read entry by entry, and DICOMDIR indexes of a CD, DVD or USB stick.
// Every file is read in chunks, so a large archive or study never sits in memory.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ailab::cli {

// One file to upload.
struct UploadFile {
  // Shown to the user and sent as the upload's file name, for example
  // "scans/IM0001" or "study.zip/CT/IM0001" (the service keeps the part after
  // the last slash).
  std::string display_name;
  // The file on disk, or the archive that holds the entry.
  std::filesystem::path path;
  // Set for an entry of a zip archive: its index in the archive.
  bool in_archive = false;
  unsigned long long entry = 0;
};

// Reads one UploadFile in chunks.
class UploadReader {
 public:
  virtual ~UploadReader() = default;
  // Appends up to `max_bytes` bytes to `out`; sets `*end` once the file is exhausted.
  virtual absl::Status Read(size_t max_bytes, std::string* out, bool* end) = 0;
};

// Expands the paths given on the command line, in order: a folder recursively (sorted,
// with DICOMDIR indexes left out, since their images are in the folder), a file named
// DICOMDIR as the files it references, a file ending in .zip as its entries (folders,
// DICOMDIR indexes and hidden files such as __MACOSX/ left out), any other file as
// itself. `notes` receives one line per thing left out. INVALID_ARGUMENT names a path
// that does not exist or an archive or index that cannot be read.
absl::StatusOr<std::vector<UploadFile>> ExpandUploadPaths(const std::vector<std::string>& paths,
                                                          std::vector<std::string>* notes);

// Opens UploadFiles for reading, keeping each archive open while its entries are read.
class UploadOpener {
 public:
  UploadOpener();
  ~UploadOpener();
  absl::StatusOr<std::unique_ptr<UploadReader>> Open(const UploadFile& file);

 private:
  struct Archive;
  std::map<std::string, std::unique_ptr<Archive>> archives_;
};

}  // namespace ailab::cli
