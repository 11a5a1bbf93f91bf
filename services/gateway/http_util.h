// HTTP helpers of the gateway that need no network: percent-decoding, the mapping of
// static-file request paths into the web root, content types, the HTTP status for a
// gRPC code, JSON error bodies and request ids. All functions are thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace ailab::gateway {

// Decodes %XX escapes exactly once ("+" stays "+"). INVALID_ARGUMENT (reason
// INVALID_PERCENT_ENCODING) for a "%" not followed by two hex digits.
absl::StatusOr<std::string> PercentDecode(absl::string_view text);

// Result of mapping a request path to a file below the web root.
struct StaticFile {
  std::filesystem::path path;
  // True when the file is the index.html fallback of a client-side route.
  bool fallback = false;
};

// Maps the path part of a request target (already without "?query") to a regular file
// inside `canonical_root`, which must be the output of std::filesystem::canonical.
// INVALID_ARGUMENT (INVALID_PERCENT_ENCODING, PATH_HAS_NUL, PATH_SEGMENT_REJECTED,
// PATH_NOT_ABSOLUTE) for a malformed or suspicious path; NOT_FOUND (FILE_NOT_FOUND)
// when no file matches or the resolved file lies outside the root (symlinks out).
// Paths without an extension that match no file get index.html.
absl::StatusOr<StaticFile> ResolveStaticPath(const std::filesystem::path& canonical_root,
                                             absl::string_view request_path);

// Content-Type for a file name, by extension; application/octet-stream when unknown.
std::string ContentTypeFor(const std::filesystem::path& path);

// Cache-Control for a static file: build outputs under "assets/" carry a content hash
// in their names and are immutable; everything else is revalidated.
std::string CacheControlFor(absl::string_view request_path);

// Headers every response carries: X-Content-Type-Options, Content-Security-Policy,
// Referrer-Policy and X-Frame-Options.
const std::vector<std::pair<std::string, std::string>>& SecurityHeaders();

// HTTP status for a gRPC status code, as the shared HTTP contract lists them.
int HttpStatusFor(grpc::StatusCode code);

// Name of a gRPC code in UPPER_SNAKE, for example "NOT_FOUND".
std::string CodeName(grpc::StatusCode code);

// JSON text with `text` escaped as a JSON string, quotes included. Bytes that are not
// well-formed UTF-8 become U+FFFD.
std::string JsonQuote(absl::string_view text);

// The error body of the contract:
// {"code":"NOT_FOUND","message":"...","reason":"UPPER_SNAKE","requestId":"..."}.
std::string ErrorJson(grpc::StatusCode code, absl::string_view message, absl::string_view reason,
                      absl::string_view request_id);

// Returns the message of a service's status that a browser may see. Database errors
// (reasons DATABASE_*) and INTERNAL errors describe the platform's inside, such as the
// database's host name, and the user cannot act on them. They get a general message
// instead, and the gateway logs the original with the request id.
std::string PublicErrorMessage(const grpc::Status& status);

// Builds the error body for a status received from a service, with
// PublicErrorMessage(). The reason comes from the google.rpc.ErrorInfo in the status's
// binary details, when there is one.
std::string ErrorJsonFromStatus(const grpc::Status& status, absl::string_view request_id);

// True for a client-sent request id worth echoing: 1 to 128 characters of letters,
// digits, "-", "_", "." and ":".
bool IsSaneRequestId(absl::string_view id);

// A new random request id (32 hex digits).
std::string NewRequestId();

}  // namespace ailab::gateway
