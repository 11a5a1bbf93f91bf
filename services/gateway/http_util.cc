#include "http_util.h"

#include <optional>
#include <random>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"

namespace ailab::gateway {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when `path` equals `root` or lies below it, comparing whole components.
bool IsInside(const std::filesystem::path& root, const std::filesystem::path& path) {
  auto root_it = root.begin();
  auto path_it = path.begin();
  for (; root_it != root.end(); ++root_it, ++path_it) {
    // A trailing empty component ("/srv/web/") matches anything.
    if (root_it->empty()) continue;
    if (path_it == path.end() || *root_it != *path_it) return false;
  }
  return true;
}

absl::Status FileNotFound(absl::string_view request_path) {
  return NotFound("FILE_NOT_FOUND",
                  absl::StrCat("no file of the web application matches \"", request_path,
                               "\"; check the address"),
                  {{"path", request_path}});
}

bool IsRegularFile(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::is_regular_file(path, error);
}

// Canonical form of `candidate` when it is a regular file inside the root.
std::optional<std::filesystem::path> InsideFile(const std::filesystem::path& root,
                                                const std::filesystem::path& candidate) {
  std::error_code error;
  std::filesystem::path resolved = std::filesystem::weakly_canonical(candidate, error);
  if (error || !IsInside(root, resolved) || !IsRegularFile(resolved)) return std::nullopt;
  return resolved;
}

}  // namespace

absl::StatusOr<std::string> PercentDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const bool complete = i + 2 < text.size();
    const int high = complete ? HexValue(text[i + 1]) : -1;
    const int low = complete ? HexValue(text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      return InvalidArgument("INVALID_PERCENT_ENCODING", "path",
                             absl::StrCat("the address has a \"%\" at offset ", i,
                                          " that is not followed by two hex digits"),
                             {{"offset", absl::StrCat(i)}});
    }
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

absl::StatusOr<StaticFile> ResolveStaticPath(const std::filesystem::path& canonical_root,
                                             absl::string_view request_path) {
  if (!absl::StartsWith(request_path, "/")) {
    return InvalidArgument("PATH_NOT_ABSOLUTE", "path", "the request path must start with \"/\"",
                           {{"path", request_path}});
  }
  AILAB_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(request_path));
  if (decoded.find('\0') != std::string::npos) {
    return InvalidArgument("PATH_HAS_NUL", "path", "the request path contains a NUL byte");
  }

  // Join the decoded segments below the root; empty segments ("//") are skipped, so an
  // absolute path inside the address stays relative to the root.
  std::filesystem::path candidate = canonical_root;
  std::string last_segment;
  for (absl::string_view segment : absl::StrSplit(decoded, '/', absl::SkipEmpty())) {
    if (segment == "." || segment == ".." || absl::StrContains(segment, "\\")) {
      return InvalidArgument("PATH_SEGMENT_REJECTED", "path",
                             "the request path contains a \".\" or \"..\" segment or a "
                             "backslash; request the file by its plain path",
                             {{"path", request_path}});
    }
    candidate /= std::string(segment);
    last_segment = std::string(segment);
  }

  // The file itself, when it exists inside the root (symlinks are resolved first).
  if (auto file = InsideFile(canonical_root, candidate)) return StaticFile{*file, false};
  // A folder's index.html.
  if (auto index = InsideFile(canonical_root, candidate / "index.html")) {
    return StaticFile{*index, false};
  }
  // Client-side routes have no extension and get the application's index.html.
  if (last_segment.find('.') == std::string::npos) {
    if (auto index = InsideFile(canonical_root, canonical_root / "index.html")) {
      return StaticFile{*index, true};
    }
  }
  return FileNotFound(request_path);
}

std::string ContentTypeFor(const std::filesystem::path& path) {
  static const std::vector<std::pair<std::string, std::string>>* const kTypes =
      new std::vector<std::pair<std::string, std::string>>{
          {".html", "text/html; charset=utf-8"},
          {".js", "text/javascript; charset=utf-8"},
          {".mjs", "text/javascript; charset=utf-8"},
          {".css", "text/css; charset=utf-8"},
          {".json", "application/json"},
          {".map", "application/json"},
          {".svg", "image/svg+xml"},
          {".png", "image/png"},
          {".jpg", "image/jpeg"},
          {".jpeg", "image/jpeg"},
          {".gif", "image/gif"},
          {".webp", "image/webp"},
          {".ico", "image/x-icon"},
          {".woff", "font/woff"},
          {".woff2", "font/woff2"},
          {".ttf", "font/ttf"},
          {".txt", "text/plain; charset=utf-8"},
          {".wasm", "application/wasm"},
          {".webmanifest", "application/manifest+json"},
      };
  std::string extension = absl::AsciiStrToLower(path.extension().string());
  for (const auto& [known, type] : *kTypes) {
    if (extension == known) return type;
  }
  return "application/octet-stream";
}

std::string CacheControlFor(absl::string_view request_path) {
  if (absl::StartsWith(request_path, "/assets/")) return "public, max-age=31536000, immutable";
  return "no-cache";
}

const std::vector<std::pair<std::string, std::string>>& SecurityHeaders() {
  static const auto* const kHeaders = new std::vector<std::pair<std::string, std::string>>{
      {"X-Content-Type-Options", "nosniff"},
      {"Content-Security-Policy",
       "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
  };
  return *kHeaders;
}

int HttpStatusFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

// Returns the length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or 0 when it is not one.
size_t Utf8SequenceLength(absl::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      // JSON text must be UTF-8, so bytes of a request that are not become U+FFFD.
      const size_t length = Utf8SequenceLength(text.substr(i));
      if (length == 0) {
        out += "\\ufffd";
      } else {
        out.append(text.data() + i, length);
        i += length - 1;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      // "<" and ">" are escaped so that a message can never form markup.
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

std::string ErrorJson(grpc::StatusCode code, absl::string_view message, absl::string_view reason,
                      absl::string_view request_id) {
  return absl::StrCat("{\"code\":", JsonQuote(CodeName(code)), ",\"message\":", JsonQuote(message),
                      ",\"reason\":", JsonQuote(reason), ",\"requestId\":", JsonQuote(request_id),
                      "}");
}

std::string PublicErrorMessage(const grpc::Status& status) {
  const std::string reason = GetErrorReason(rpc::FromGrpcStatus(status));
  if (absl::StartsWith(reason, "DATABASE_")) {
    return "the service cannot reach its database at the moment; try again shortly, and if "
           "the error goes on, give the request id to the operator";
  }
  if (status.error_code() == grpc::StatusCode::INTERNAL) {
    return "the service failed with an internal error; give the request id to the operator, "
           "who can find the details in the gateway's log";
  }
  return status.error_message();
}

std::string ErrorJsonFromStatus(const grpc::Status& status, absl::string_view request_id) {
  absl::Status converted = rpc::FromGrpcStatus(status);
  return ErrorJson(status.error_code(), PublicErrorMessage(status), GetErrorReason(converted),
                   request_id);
}

bool IsSaneRequestId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':') return false;
  }
  return true;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return absl::StrFormat("%016x%016x", generator(), generator());
}

}  // namespace ailab::gateway
