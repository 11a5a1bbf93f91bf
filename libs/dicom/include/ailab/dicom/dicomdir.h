// Reading a DICOMDIR, the index of a DICOM CD, DVD or USB stick (PS3.10 and PS3.3
// F.3): the files it lists, so that a client can upload a whole medium from its index.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ailab::dicom {

// True when the file name is DICOMDIR (case-insensitive), the name PS3.10 requires.
bool IsDicomdirName(const std::string& path);

// Paths of the files that the directory records of the DICOMDIR at `path` reference
// (Referenced File ID), in record order, without duplicates, each joined to the folder
// that holds the DICOMDIR. A Referenced File ID that is absolute or has an empty, "."
// or ".." component is refused, so the index cannot point outside its medium.
// INVALID_ARGUMENT (reason NOT_A_DICOMDIR) when the file is not a readable DICOMDIR,
// or (UNSAFE_FILE_ID) for such a component; the files themselves are not opened.
absl::StatusOr<std::vector<std::string>> ListDicomdirFiles(const std::string& path);

}  // namespace ailab::dicom
