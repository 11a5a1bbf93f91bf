// A minimal HTTP/1.1 client for publishing packages: one POST per connection, plain
// http:// only, response read until the server closes the connection or the
// Content-Length is reached.
//
// NOTE: there is no TLS, because the Debian packages the build installs include no
// libcurl development package yet. With libcurl4-openssl-dev, this file is the one
// place to swap in curl and accept https:// URLs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ailab::evaluation {

// Parts of an "http://host[:port][/path]" URL.
struct HttpUrl {
  std::string host;
  int port = 80;
  // Starts with '/'; "/" when the URL has no path.
  std::string path;
};

// Parses `url`. INVALID_ARGUMENT naming `field` for another scheme, a missing host, a
// bad port, or characters that cannot appear in a request line.
absl::StatusOr<HttpUrl> ParseHttpUrl(const std::string& url, absl::string_view field);

struct HttpRequest {
  std::string url;
  // Extra header lines (name, value); values must not contain CR or LF.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;
  // Limit for connecting, and for each send and receive.
  absl::Duration timeout = absl::Seconds(60);
};

struct HttpResponse {
  // Status code, for example 200.
  int status = 0;
  std::string body;
};

// Sends `request` as a POST. UNAVAILABLE when the host cannot be resolved or reached
// or the connection breaks, DEADLINE_EXCEEDED when the timeout passes, INTERNAL
// when the response is not HTTP. Any status code is a successful call.
absl::StatusOr<HttpResponse> HttpPost(const HttpRequest& request);

}  // namespace ailab::evaluation
