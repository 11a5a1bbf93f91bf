#include "upload_files.h"

#include <zip.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/dicom/dicomdir.h"
#include "ailab/status/status.h"

namespace ailab::cli {
namespace fs = std::filesystem;

namespace {

bool IsZipName(const fs::path& path) {
  return absl::AsciiStrToLower(path.extension().string()) == ".zip";
}

// Entries of an archive that are not files to upload.
bool SkipEntry(const std::string& name) {
  if (name.empty() || name.back() == '/') return true;  // a folder
  if (absl::StartsWith(name, "__MACOSX/")) return true;
  std::string base = fs::path(name).filename().string();
  return base.empty() || base[0] == '.' || dicom::IsDicomdirName(base);
}

std::string ZipError(zip_t* archive) {
  zip_error_t* error = zip_get_error(archive);
  return error == nullptr ? "unknown error" : zip_error_strerror(error);
}

absl::Status ListArchive(const fs::path& path, std::vector<UploadFile>* files,
                         std::vector<std::string>* notes) {
  int code = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_RDONLY, &code);
  if (archive == nullptr) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    return InvalidArgument("UNREADABLE_ARCHIVE", "path",
                           absl::StrCat("cannot read zip archive \"", path.string(), "\": ", why,
                                        "; check that the file is a complete zip archive"));
  }
  zip_int64_t count = zip_get_num_entries(archive, 0);
  size_t first = files->size();
  int skipped = 0;
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* name = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    if (name == nullptr || SkipEntry(name)) {
      ++skipped;
      continue;
    }
    UploadFile file;
    file.display_name = absl::StrCat(path.filename().string(), "/", name);
    file.path = path;
    file.in_archive = true;
    file.entry = static_cast<unsigned long long>(i);
    files->push_back(std::move(file));
  }
  zip_discard(archive);
  if (skipped > 0) {
    notes->push_back(absl::StrCat("skipped    ", skipped, " folder, index or hidden entries of ",
                                  path.filename().string()));
  }
  if (files->size() == first) {
    notes->push_back(absl::StrCat("skipped    ", path.filename().string(), ": no files in it"));
  }
  return absl::OkStatus();
}

class FileReader final : public UploadReader {
 public:
  explicit FileReader(std::ifstream in) : in_(std::move(in)) {}
  absl::Status Read(size_t max_bytes, std::string* out, bool* end) override {
    size_t old = out->size();
    out->resize(old + max_bytes);
    in_.read(out->data() + old, static_cast<std::streamsize>(max_bytes));
    std::streamsize n = in_.gcount();
    out->resize(old + static_cast<size_t>(n));
    if (in_.bad()) return Unavailable("READ_FAILED", "the file could not be read to the end");
    *end = in_.eof() || n == 0;
    return absl::OkStatus();
  }

 private:
  std::ifstream in_;
};

class EntryReader final : public UploadReader {
 public:
  explicit EntryReader(zip_file_t* file) : file_(file) {}
  ~EntryReader() override { zip_fclose(file_); }
  absl::Status Read(size_t max_bytes, std::string* out, bool* end) override {
    size_t old = out->size();
    out->resize(old + max_bytes);
    zip_int64_t n = zip_fread(file_, out->data() + old, max_bytes);
    if (n < 0) {
      out->resize(old);
      zip_error_t* error = zip_file_get_error(file_);
      return InvalidArgument("UNREADABLE_ENTRY", "entry",
                             absl::StrCat("the archive entry could not be read: ",
                                          error == nullptr ? "unknown error"
                                                           : zip_error_strerror(error)));
    }
    out->resize(old + static_cast<size_t>(n));
    *end = n == 0;
    return absl::OkStatus();
  }

 private:
  zip_file_t* file_;
};

}  // namespace

struct UploadOpener::Archive {
  zip_t* handle = nullptr;
  ~Archive() {
    if (handle != nullptr) zip_discard(handle);
  }
};

UploadOpener::UploadOpener() = default;
UploadOpener::~UploadOpener() = default;

absl::StatusOr<std::unique_ptr<UploadReader>> UploadOpener::Open(const UploadFile& file) {
  if (!file.in_archive) {
    std::ifstream in(file.path, std::ios::binary);
    if (!in) return NotFound("UNREADABLE_FILE", "cannot read the file");
    return std::make_unique<FileReader>(std::move(in));
  }
  std::unique_ptr<Archive>& archive = archives_[file.path.string()];
  if (archive == nullptr) {
    archive = std::make_unique<Archive>();
    int code = 0;
    archive->handle = zip_open(file.path.c_str(), ZIP_RDONLY, &code);
  }
  if (archive->handle == nullptr) {
    return InvalidArgument("UNREADABLE_ARCHIVE", "path", "the zip archive could not be opened");
  }
  zip_file_t* entry = zip_fopen_index(archive->handle, file.entry, 0);
  if (entry == nullptr) {
    return InvalidArgument("UNREADABLE_ENTRY", "entry",
                           absl::StrCat("the archive entry could not be opened: ",
                                        ZipError(archive->handle),
                                        " (encrypted or unsupported compression?)"));
  }
  return std::make_unique<EntryReader>(entry);
}

absl::StatusOr<std::vector<UploadFile>> ExpandUploadPaths(const std::vector<std::string>& paths,
                                                          std::vector<std::string>* notes) {
  std::vector<UploadFile> files;
  auto add_file = [&](const fs::path& path, std::string display) -> absl::Status {
    if (IsZipName(path)) return ListArchive(path, &files, notes);
    UploadFile file;
    file.display_name = std::move(display);
    file.path = path;
    files.push_back(std::move(file));
    return absl::OkStatus();
  };
  for (const std::string& path : paths) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(path, error);
           !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        if (!it->is_regular_file(error)) continue;
        if (dicom::IsDicomdirName(it->path().string())) {
          notes->push_back(absl::StrCat("skipped    ", it->path().string(),
                                        ": a DICOMDIR index; its images are in the folder"));
          continue;
        }
        found.push_back(it->path());
      }
      if (error) {
        return InvalidArgument("UNREADABLE_FOLDER", "path",
                               absl::StrCat("cannot read folder \"", path, "\": ", error.message()));
      }
      std::sort(found.begin(), found.end());
      for (const fs::path& file : found) {
        AILAB_RETURN_IF_ERROR(add_file(file, file.string()));
      }
    } else if (fs::is_regular_file(path, error)) {
      if (dicom::IsDicomdirName(path)) {
        AILAB_ASSIGN_OR_RETURN(std::vector<std::string> listed, dicom::ListDicomdirFiles(path));
        if (listed.empty()) {
          notes->push_back(absl::StrCat("skipped    ", path, ": the DICOMDIR lists no files"));
        }
        for (const std::string& file : listed) AILAB_RETURN_IF_ERROR(add_file(file, file));
      } else {
        AILAB_RETURN_IF_ERROR(add_file(path, path));
      }
    } else {
      return InvalidArgument("FILE_NOT_FOUND", "path",
                             absl::StrCat("\"", path, "\" is not a file or folder"));
    }
  }
  if (files.empty()) {
    return InvalidArgument("NO_FILES", "path",
                           "no files to upload; give DICOM files, folders, zip archives or a "
                           "DICOMDIR after the options");
  }
  return files;
}

}  // namespace ailab::cli
