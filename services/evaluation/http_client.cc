#include "services/evaluation/http_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"

namespace ailab::evaluation {
namespace {

// Closes a socket when it goes out of scope.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

absl::Status SocketError(absl::string_view action, const std::string& target, int error) {
  if (error == EAGAIN || error == EWOULDBLOCK || error == ETIMEDOUT) {
    return MakeError(absl::StatusCode::kDeadlineExceeded, "HTTP_TIMEOUT",
                     absl::StrCat(action, " ", target, " timed out; check that the endpoint is up"),
                     {{"target", target}});
  }
  return Unavailable("HTTP_CONNECTION_FAILED",
                     absl::StrCat(action, " ", target, " failed: ", std::strerror(error)),
                     {{"target", target}});
}

// Connects to `host`:`port` within `timeout`.
absl::StatusOr<int> Connect(const HttpUrl& url, absl::Duration timeout) {
  const std::string target = absl::StrCat(url.host, ":", url.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = absl::StrCat(url.port);
  const int resolved = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found);
  if (resolved != 0) {
    return Unavailable(
        "HTTP_HOST_UNKNOWN",
        absl::StrCat("host \"", url.host, "\" cannot be resolved: ", gai_strerror(resolved)),
        {{"host", url.host}});
  }

  int last_error = ECONNREFUSED;
  for (addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
    const int fd =
        socket(candidate->ai_family, candidate->ai_socktype | SOCK_CLOEXEC, candidate->ai_protocol);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    // Non-blocking connect, so that poll() bounds the wait.
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int result = connect(fd, candidate->ai_addr, candidate->ai_addrlen);
    if (result != 0 && errno == EINPROGRESS) {
      pollfd waiting{fd, POLLOUT, 0};
      result = poll(&waiting, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
      if (result == 0) {
        result = -1;
        errno = ETIMEDOUT;
      } else if (result > 0) {
        int error = 0;
        socklen_t length = sizeof(error);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
        result = error == 0 ? 0 : -1;
        if (error != 0) errno = error;
      }
    }
    if (result == 0) {
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      timeval limit{};
      limit.tv_sec = absl::ToInt64Seconds(timeout);
      limit.tv_usec = absl::ToInt64Microseconds(timeout) % 1000000;
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
      freeaddrinfo(found);
      return fd;
    }
    last_error = errno;
    close(fd);
  }
  freeaddrinfo(found);
  return SocketError("connecting to", target, last_error);
}

absl::Status SendAll(int fd, absl::string_view bytes, const std::string& target) {
  while (!bytes.empty()) {
    const ssize_t sent = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return SocketError("sending to", target, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return absl::OkStatus();
}

// Parses the status code and body of a complete response.
absl::StatusOr<HttpResponse> ParseResponse(const std::string& raw, const std::string& target) {
  const size_t header_end = raw.find("\r\n\r\n");
  const size_t line_end = raw.find("\r\n");
  int status = 0;
  if (header_end == std::string::npos || !absl::StartsWith(raw, "HTTP/1.") || line_end < 12 ||
      !absl::SimpleAtoi(raw.substr(9, 3), &status)) {
    return Internal("HTTP_BAD_RESPONSE",
                    absl::StrCat("the response of ", target, " is not HTTP/1.x"),
                    {{"target", target}});
  }
  HttpResponse response;
  response.status = status;
  response.body = raw.substr(header_end + 4);
  return response;
}

// Returns the Content-Length of the headers in `raw`, or -1 when absent.
int64_t ContentLength(absl::string_view headers) {
  const std::string lower = absl::AsciiStrToLower(headers);
  const size_t at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return -1;
  const size_t start = at + 17;
  const size_t end = lower.find("\r\n", start);
  int64_t length = -1;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(lower.substr(start, end - start)), &length)) {
    return -1;
  }
  return length;
}

bool HasLineBreak(absl::string_view text) {
  return absl::StrContains(text, '\r') || absl::StrContains(text, '\n');
}

}  // namespace

absl::StatusOr<HttpUrl> ParseHttpUrl(const std::string& url, absl::string_view field) {
  auto invalid = [&](absl::string_view why) {
    return InvalidArgument("INVALID_URL", field,
                           absl::StrCat(field, " \"", url, "\" ", why,
                                        "; pass a URL such as http://registry.example:8080/models"),
                           {{field, url}});
  };
  constexpr absl::string_view kScheme = "http://";
  if (absl::StartsWith(url, "https://")) {
    return invalid("uses https, which this service cannot send yet");
  }
  if (!absl::StartsWith(url, kScheme)) return invalid("is not an http:// URL");
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return invalid("contains a space or control character");
  }

  absl::string_view rest = absl::string_view(url).substr(kScheme.size());
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  HttpUrl parsed;
  parsed.path = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));

  if (absl::StrContains(authority, '@')) return invalid("contains user information");
  const size_t colon = authority.rfind(':');
  if (colon != absl::string_view::npos && authority.find(']') == absl::string_view::npos) {
    if (!absl::SimpleAtoi(authority.substr(colon + 1), &parsed.port) || parsed.port < 1 ||
        parsed.port > 65535) {
      return invalid("has a port outside 1 to 65535");
    }
    authority = authority.substr(0, colon);
  }
  parsed.host = std::string(authority);
  if (parsed.host.empty()) return invalid("has no host");
  return parsed;
}

absl::StatusOr<HttpResponse> HttpPost(const HttpRequest& request) {
  AILAB_ASSIGN_OR_RETURN(HttpUrl url, ParseHttpUrl(request.url, "url"));
  const std::string target = absl::StrCat(url.host, ":", url.port);
  std::string head = absl::StrCat(
      "POST ", url.path, " HTTP/1.1\r\nHost: ", target, "\r\nContent-Type: ", request.content_type,
      "\r\nContent-Length: ", request.body.size(), "\r\nConnection: close\r\n");
  for (const auto& [name, value] : request.headers) {
    if (HasLineBreak(name) || HasLineBreak(value)) {
      return InvalidArgument("INVALID_HEADER", "headers",
                             absl::StrCat("header \"", name, "\" contains a line break"));
    }
    absl::StrAppend(&head, name, ": ", value, "\r\n");
  }
  head += "\r\n";

  AILAB_ASSIGN_OR_RETURN(int fd, Connect(url, request.timeout));
  Socket socket(fd);
  AILAB_RETURN_IF_ERROR(SendAll(fd, head, target));
  AILAB_RETURN_IF_ERROR(SendAll(fd, request.body, target));

  std::string raw;
  char buffer[16384];
  while (true) {
    const ssize_t received = recv(fd, buffer, sizeof(buffer), 0);
    if (received < 0) {
      if (errno == EINTR) continue;
      return SocketError("receiving from", target, errno);
    }
    if (received == 0) break;
    raw.append(buffer, static_cast<size_t>(received));
    // Stop once the announced body is complete, in case the server keeps the
    // connection open.
    const size_t header_end = raw.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      const int64_t length = ContentLength(absl::string_view(raw).substr(0, header_end + 2));
      if (length >= 0 && raw.size() >= header_end + 4 + static_cast<size_t>(length)) break;
    }
  }
  return ParseResponse(raw, target);
}

}  // namespace ailab::evaluation
