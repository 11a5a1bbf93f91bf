#include "ailab/dicom/dicomdir.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <filesystem>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ailab/status/status.h"
#include "internal.h"

namespace ailab::dicom {
namespace {

absl::Status NotADicomdir(const std::string& path, absl::string_view why) {
  return InvalidArgument("NOT_A_DICOMDIR", "path",
                         absl::StrCat("\"", path, "\" is not a readable DICOMDIR: ", why,
                                      "; give the DICOMDIR file at the top of the medium"),
                         {{"file", path}});
}

}  // namespace

bool IsDicomdirName(const std::string& path) {
  return absl::AsciiStrToUpper(std::filesystem::path(path).filename().string()) == "DICOMDIR";
}

absl::StatusOr<std::vector<std::string>> ListDicomdirFiles(const std::string& path) {
  AILAB_RETURN_IF_ERROR(internal::InitializeDcmtk());
  DcmFileFormat file;
  OFCondition loaded = file.loadFile(path.c_str());
  if (loaded.bad()) return NotADicomdir(path, loaded.text());

  OFString sop_class;
  file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sop_class);
  if (sop_class != UID_MediaStorageDirectoryStorage) {
    return NotADicomdir(path, absl::StrCat("its Media Storage SOP Class is \"",
                                           sop_class.c_str(), "\", not the Media Storage "
                                           "Directory Storage class"));
  }
  DcmSequenceOfItems* records = nullptr;
  if (file.getDataset()->findAndGetSequence(DCM_DirectoryRecordSequence, records).bad() ||
      records == nullptr) {
    return NotADicomdir(path, "it has no Directory Record Sequence");
  }

  const std::filesystem::path root = std::filesystem::path(path).parent_path();
  std::vector<std::string> files;
  std::set<std::string> seen;
  for (unsigned long i = 0; i < records->card(); ++i) {
    DcmItem* record = records->getItem(i);
    OFString id;
    if (record == nullptr || record->findAndGetOFStringArray(DCM_ReferencedFileID, id).bad() ||
        id.empty()) {
      continue;  // patient, study and series records reference no file
    }
    // The components are the values of a multi-valued CS element.
    std::vector<std::string> parts = absl::StrSplit(std::string(id.c_str()), '\\');
    std::filesystem::path relative;
    for (std::string& part : parts) {
      std::string component(absl::StripAsciiWhitespace(part));
      if (component.empty() || component == "." || component == ".." ||
          component.find('/') != std::string::npos) {
        return InvalidArgument(
            "UNSAFE_FILE_ID", "path",
            absl::StrCat("\"", path, "\": directory record ", i + 1, " references \"",
                         absl::StrJoin(parts, "\\"), "\", which leaves the medium; ",
                         "repair or rebuild the DICOMDIR (for example with dcmmkdir)"),
            {{"file", path}});
      }
      relative /= component;
    }
    std::string resolved = (root / relative).string();
    if (seen.insert(resolved).second) files.push_back(std::move(resolved));
  }
  return files;
}

}  // namespace ailab::dicom
