#include "services/evaluation/delivery.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "services/evaluation/common.h"
#include "services/evaluation/http_client.h"

namespace ailab::evaluation {
namespace {

namespace fs = std::filesystem;

DeliveryResult Retryable(absl::Status status, std::string location) {
  DeliveryResult result;
  result.status = std::move(status);
  result.retryable = true;
  result.location = std::move(location);
  return result;
}

absl::Status FileError(absl::string_view action, const fs::path& path,
                       const std::error_code& error) {
  return Unavailable("FOLDER_WRITE_FAILED",
                     absl::StrCat(action, " \"", path.string(), "\" failed: ", error.message(),
                                  "; check that the destination folder is writable"),
                     {{"path", path.string()}});
}

absl::Status WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    return Unavailable("FOLDER_WRITE_FAILED",
                       absl::StrCat("writing \"", path.string(),
                                    "\" failed; check the destination folder's space and rights"),
                       {{"path", path.string()}});
  }
  return absl::OkStatus();
}

// Returns the bytes of `path`, or nullopt when it cannot be read.
std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const std::string& ManifestBytes(const ModelPackage& package) {
  return package.files.back().bytes;  // manifest.json is always last
}

// Compares an existing package folder with `package`.
DeliveryResult CheckExisting(const fs::path& folder, const ModelPackage& package) {
  DeliveryResult result;
  result.location = folder.string();
  std::optional<std::string> existing = ReadFile(folder / kManifestFile);
  if (existing && *existing == ManifestBytes(package)) return result;
  result.status = AlreadyExists(
      "FOLDER_HOLDS_OTHER_PACKAGE",
      absl::StrCat("folder \"", folder.string(),
                   "\" exists but does not hold this package's manifest; remove it or publish "
                   "to another destination"),
      {{"path", folder.string()}});
  return result;
}

}  // namespace

DeliveryResult DeliverToFolder(const std::string& root, const std::string& model_id,
                               const ModelPackage& package) {
  const fs::path parent = fs::path(root) / model_id;
  const fs::path folder = parent / package.manifest.package_sha256().substr(0, 16);
  std::error_code error;
  if (fs::exists(folder, error)) return CheckExisting(folder, package);

  fs::create_directories(parent, error);
  if (error) return Retryable(FileError("creating folder", parent, error), folder.string());
  const fs::path temporary = parent / absl::StrCat(".tmp-", NewId(""));
  fs::create_directory(temporary, error);
  if (error) return Retryable(FileError("creating folder", temporary, error), folder.string());
  for (const PackagedFile& file : package.files) {
    absl::Status written = WriteFile(temporary / file.path, file.bytes);
    if (!written.ok()) {
      fs::remove_all(temporary, error);
      return Retryable(written, folder.string());
    }
  }
  fs::rename(temporary, folder, error);
  if (error) {
    std::error_code ignored;
    fs::remove_all(temporary, ignored);
    // Another writer may have placed the same package first.
    if (fs::exists(folder, ignored)) return CheckExisting(folder, package);
    return Retryable(FileError("renaming into", folder, error), folder.string());
  }
  DeliveryResult result;
  result.location = folder.string();
  return result;
}

DeliveryResult DeliverToHttp(const std::string& url, const std::string& token,
                             const ModelPackage& package, absl::Duration timeout) {
  // A boundary that no file contains.
  std::string boundary;
  bool clash = true;
  while (clash) {
    boundary = absl::StrCat("ailab-package-", NewId(""), NewId(""));
    clash = false;
    for (const PackagedFile& file : package.files) {
      if (absl::StrContains(file.bytes, boundary)) clash = true;
    }
  }
  HttpRequest request;
  request.url = url;
  request.timeout = timeout;
  request.content_type = absl::StrCat("multipart/form-data; boundary=", boundary);
  if (!token.empty()) request.headers.push_back({"Authorization", absl::StrCat("Bearer ", token)});
  request.headers.push_back({"Idempotency-Key", package.manifest.package_sha256()});
  request.headers.push_back({"X-Ailab-Model", package.manifest.model()});
  for (const PackagedFile& file : package.files) {
    absl::StrAppend(&request.body, "--", boundary, "\r\nContent-Disposition: form-data; name=\"",
                    file.path, "\"; filename=\"", file.path,
                    "\"\r\nContent-Type: application/octet-stream\r\n\r\n");
    request.body.append(file.bytes);
    request.body.append("\r\n");
  }
  absl::StrAppend(&request.body, "--", boundary, "--\r\n");

  DeliveryResult result;
  result.location = url;
  absl::StatusOr<HttpResponse> response = HttpPost(request);
  if (!response.ok()) {
    result.status = response.status();
    result.retryable = response.status().code() == absl::StatusCode::kUnavailable ||
                       response.status().code() == absl::StatusCode::kDeadlineExceeded;
    return result;
  }
  result.http_status = response->status;
  if (response->status >= 200 && response->status < 300) return result;

  const std::string code = absl::StrCat(response->status);
  const std::string excerpt = response->body.substr(0, 200);
  if (response->status == 401 || response->status == 403) {
    result.status =
        PermissionDenied("DESTINATION_REJECTED_TOKEN",
                         absl::StrCat(url, " answered HTTP ", response->status,
                                      "; ask an administrator to check the destination's token"),
                         {{"http_status", code}});
    return result;
  }
  result.retryable = response->status >= 500 || response->status == 408 || response->status == 429;
  result.status = MakeError(
      result.retryable ? absl::StatusCode::kUnavailable : absl::StatusCode::kFailedPrecondition,
      "DESTINATION_HTTP_ERROR",
      absl::StrCat(url, " answered HTTP ", response->status, ": ", excerpt),
      {{"http_status", code}});
  return result;
}

}  // namespace ailab::evaluation
