#include "ailab/blob/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"

namespace ailab::blob {
namespace {

constexpr absl::string_view kIdPrefix = "sha256:";
constexpr size_t kHexLength = 64;
constexpr size_t kCopyChunkBytes = 1 << 20;

std::shared_ptr<spdlog::logger> BlobLogger() { return log::Logger("blob"); }

std::string ErrnoText(int error) { return std::strerror(error); }

absl::Status IoError(absl::string_view action, const std::string& path, int error) {
  BlobLogger()->error("{} failed path={} error={}", std::string(action), path, ErrnoText(error));
  return Internal("BLOB_IO_FAILED",
                  absl::StrCat(action, " ", path, " failed: ", ErrnoText(error),
                               "; check that the blob root is writable and the disk has space"),
                  {{"path", path}});
}

// Returns the hex digest of `id`, or INVALID_ARGUMENT unless `id` is "sha256:" followed
// by 64 lowercase hex digits. The strict form also keeps ids from naming other paths.
absl::StatusOr<std::string> HexOf(absl::string_view id) {
  bool valid = absl::StartsWith(id, kIdPrefix) && id.size() == kIdPrefix.size() + kHexLength;
  if (valid) {
    for (char c : id.substr(kIdPrefix.size())) {
      valid = valid && (absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'));
    }
  }
  if (!valid) {
    return InvalidArgument("INVALID_BLOB_ID", "blob_id",
                           absl::StrCat("blob id \"", id,
                                        "\" is invalid; expected \"sha256:\" followed by 64 "
                                        "lowercase hex digits"),
                           {{"blob_id", id}});
  }
  return std::string(id.substr(kIdPrefix.size()));
}

// Incremental SHA-256 over OpenSSL's EVP interface.
class Sha256 {
 public:
  Sha256() : context_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr);
  }
  void Update(const void* data, size_t size) { EVP_DigestUpdate(context_.get(), data, size); }
  std::string FinishHex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest;
    unsigned int size = 0;
    EVP_DigestFinal_ex(context_.get(), digest.data(), &size);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(size * 2);
    for (unsigned int i = 0; i < size; ++i) {
      hex.push_back(kDigits[digest[i] >> 4]);
      hex.push_back(kDigits[digest[i] & 0xf]);
    }
    return hex;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context_;
};

// Closes a file descriptor at scope exit.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now and reports the error close() returns.
  int Close() {
    int result = close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

absl::Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t written = write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return IoError("writing", path, errno);
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
  return absl::OkStatus();
}

absl::Status SyncDirectory(const std::string& path) {
  FileDescriptor dir(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return IoError("opening folder", path, errno);
  if (fsync(dir.get()) != 0) return IoError("syncing folder", path, errno);
  return absl::OkStatus();
}

absl::Status MakeDirectories(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) return IoError("creating folder", path, error.value());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BlobStore> BlobStore::Open(const std::string& root) {
  if (root.empty()) {
    return InvalidArgument("MISSING_BLOB_ROOT", "blob_root",
                           "blob root is empty; set --blob_root to a folder shared by the "
                           "services");
  }
  // An absolute root keeps paths from PathOf() valid after a change of directory.
  std::error_code error;
  std::string absolute = std::filesystem::absolute(root, error).lexically_normal().string();
  if (error) return IoError("resolving", root, error.value());
  if (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
  AILAB_RETURN_IF_ERROR(MakeDirectories(absolute + "/sha256"));
  AILAB_RETURN_IF_ERROR(MakeDirectories(absolute + "/tmp"));
  if (access((absolute + "/tmp").c_str(), W_OK) != 0) {
    return FailedPrecondition("BLOB_ROOT_NOT_WRITABLE",
                              absl::StrCat("blob root ", root, " is not writable: ",
                                           ErrnoText(errno),
                                           "; fix its permissions or choose another "
                                           "--blob_root"),
                              {{"blob_root", root}});
  }
  return BlobStore(absolute);
}

std::string BlobStore::Sha256Hex(absl::string_view bytes) {
  Sha256 hash;
  hash.Update(bytes.data(), bytes.size());
  return hash.FinishHex();
}

namespace {

// Path of the blob with digest `hex` under `root`.
std::string BlobPath(const std::string& root, absl::string_view hex) {
  return absl::StrCat(root, "/sha256/", hex.substr(0, 2), "/", hex.substr(2, 2), "/", hex);
}

// Creates a temporary file under <root>/tmp, readable by every process sharing the
// store, and returns its descriptor and path.
absl::StatusOr<std::pair<int, std::string>> CreateTempFile(const std::string& root) {
  std::string path = root + "/tmp/put-XXXXXX";
  int fd = mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return IoError("creating temporary file in", root + "/tmp", errno);
  fchmod(fd, 0644);
  return std::make_pair(fd, path);
}

// Makes the temporary file `tmp_path` (open as `fd`, holding bytes with digest `hex`)
// durable and moves it into place. Removes the temporary file on every path.
absl::Status Commit(const std::string& root, FileDescriptor& fd, const std::string& tmp_path,
                    const std::string& hex) {
  absl::Status status;
  if (fsync(fd.get()) != 0) {
    status = IoError("syncing", tmp_path, errno);
  } else if (fd.Close() != 0) {
    status = IoError("closing", tmp_path, errno);
  }

  const std::string final_path = BlobPath(root, hex);
  const std::string dir = final_path.substr(0, final_path.rfind('/'));
  if (status.ok()) status = MakeDirectories(dir);

  // rename() replaces atomically, so concurrent writers of the same bytes both succeed
  // and a reader sees either no file or a complete one.
  if (status.ok() && rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    status = IoError("renaming into", final_path, errno);
  }
  if (!status.ok()) {
    unlink(tmp_path.c_str());
    return status;
  }
  return SyncDirectory(dir);
}

}  // namespace

absl::StatusOr<std::string> BlobStore::Put(absl::string_view bytes) const {
  const std::string hex = Sha256Hex(bytes);
  const std::string id = absl::StrCat(kIdPrefix, hex);
  if (access(BlobPath(root_, hex).c_str(), F_OK) == 0) return id;

  AILAB_ASSIGN_OR_RETURN(auto temp, CreateTempFile(root_));
  FileDescriptor fd(temp.first);
  absl::Status written = WriteAll(fd.get(), bytes.data(), bytes.size(), temp.second);
  if (!written.ok()) {
    unlink(temp.second.c_str());
    return written;
  }
  AILAB_RETURN_IF_ERROR(Commit(root_, fd, temp.second, hex));
  BlobLogger()->debug("blob stored id={} bytes={}", id, bytes.size());
  return id;
}

absl::StatusOr<std::string> BlobStore::PutFile(const std::string& path) const {
  FileDescriptor source(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (source.get() < 0) {
    int error = errno;
    if (error == ENOENT) {
      return NotFound("FILE_NOT_FOUND",
                      absl::StrCat("file ", path, " not found; check the path"),
                      {{"path", path}});
    }
    return IoError("opening", path, error);
  }

  // Copies into a temporary file while hashing, so the file is read only once.
  AILAB_ASSIGN_OR_RETURN(auto temp, CreateTempFile(root_));
  FileDescriptor fd(temp.first);
  Sha256 hash;
  std::string buffer(kCopyChunkBytes, '\0');
  absl::Status status;
  uint64_t total = 0;
  while (status.ok()) {
    ssize_t n = read(source.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = IoError("reading", path, errno);
      break;
    }
    if (n == 0) break;
    hash.Update(buffer.data(), static_cast<size_t>(n));
    status = WriteAll(fd.get(), buffer.data(), static_cast<size_t>(n), temp.second);
    total += static_cast<uint64_t>(n);
  }
  if (!status.ok()) {
    unlink(temp.second.c_str());
    return status;
  }

  const std::string hex = hash.FinishHex();
  const std::string id = absl::StrCat(kIdPrefix, hex);
  if (access(BlobPath(root_, hex).c_str(), F_OK) == 0) {
    unlink(temp.second.c_str());
    return id;
  }
  AILAB_RETURN_IF_ERROR(Commit(root_, fd, temp.second, hex));
  BlobLogger()->debug("blob stored id={} bytes={}", id, total);
  return id;
}

absl::StatusOr<std::string> BlobStore::PathOf(absl::string_view id) const {
  AILAB_ASSIGN_OR_RETURN(std::string hex, HexOf(id));
  std::string path = BlobPath(root_, hex);
  if (access(path.c_str(), F_OK) != 0) {
    return NotFound("BLOB_NOT_FOUND",
                    absl::StrCat("blob ", id, " not found in ", root_,
                                 "; check that every service uses the same --blob_root"),
                    {{"blob_id", id}, {"blob_root", root_}});
  }
  return path;
}

absl::StatusOr<std::string> BlobStore::Get(absl::string_view id) const {
  AILAB_ASSIGN_OR_RETURN(std::string path, PathOf(id));
  FileDescriptor fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("opening", path, errno);
  struct stat info;
  if (fstat(fd.get(), &info) != 0) return IoError("reading size of", path, errno);

  std::string bytes(static_cast<size_t>(info.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("reading", path, errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (done != bytes.size()) {
    return Internal("BLOB_TRUNCATED",
                    absl::StrCat("blob ", id, " at ", path, " has ", done, " bytes, expected ",
                                 bytes.size(), "; the file changed while being read"),
                    {{"blob_id", id}});
  }
  return bytes;
}

bool BlobStore::Contains(absl::string_view id) const { return PathOf(id).ok(); }

}  // namespace ailab::blob
