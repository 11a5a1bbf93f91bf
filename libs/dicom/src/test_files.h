// Access to the real DICOM files beside the checkout, for the tests of this library.
#pragma once

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace ailab::dicom::testing {

// Folder of the shared DICOM test files: $AILAB_SOURCE_DIR/../shared/data/dicom.
inline std::string DicomDataDir() {
  const char* source = std::getenv("AILAB_SOURCE_DIR");
  return std::string(source != nullptr ? source : ".") + "/../shared/data/dicom";
}

// Returns the bytes of `relative` (for example "mg/MG1_JPLY.dcm"), or "" when missing.
inline std::string ReadTestFile(const std::string& relative) {
  std::ifstream file(DicomDataDir() + "/" + relative, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

}  // namespace ailab::dicom::testing
