// A tiny HTTP/1.1 server on 127.0.0.1 for publishing tests. It reads one request per
// connection (headers and a Content-Length body), records it, and responds with the
// next status of a script the test sets, or 200 once the script is used up.
//
// Thread-safe: one accept thread serves connections one at a time.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ailab::evaluation::testing {

class HttpTestServer {
 public:
  // One received request.
  struct Request {
    std::string method;
    std::string path;
    // Header names in lower case.
    std::map<std::string, std::string> headers;
    std::string body;
  };

  HttpTestServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        listen(fd_, 16) != 0) {
      throw std::runtime_error(absl::StrCat("test HTTP server: ", std::strerror(errno)));
    }
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~HttpTestServer() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }

  // The status codes of the next responses, in order.
  void Script(std::vector<int> statuses) {
    std::lock_guard<std::mutex> lock(mutex_);
    script_.assign(statuses.begin(), statuses.end());
  }

  // Requests whose Authorization is not "Bearer <token>" get 401.
  void RequireToken(const std::string& token) {
    std::lock_guard<std::mutex> lock(mutex_);
    token_ = token;
  }

  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

  std::string url(const std::string& path = "/packages") const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }

 private:
  void Serve() {
    while (!stopping_) {
      const int connection = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) continue;
      Handle(connection);
      close(connection);
    }
  }

  void Handle(int connection) {
    std::string raw;
    char buffer[65536];
    size_t header_end = std::string::npos;
    int64_t content_length = 0;
    while (true) {
      const ssize_t received = recv(connection, buffer, sizeof(buffer), 0);
      if (received <= 0) return;
      raw.append(buffer, static_cast<size_t>(received));
      if (header_end == std::string::npos) {
        header_end = raw.find("\r\n\r\n");
        if (header_end == std::string::npos) continue;
        for (absl::string_view line : absl::StrSplit(raw.substr(0, header_end), "\r\n")) {
          const size_t colon = line.find(':');
          if (colon == absl::string_view::npos) continue;
          if (absl::AsciiStrToLower(line.substr(0, colon)) == "content-length") {
            (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(colon + 1)),
                                   &content_length);
          }
        }
      }
      if (raw.size() >= header_end + 4 + static_cast<size_t>(content_length)) break;
    }

    Request request;
    std::vector<std::string> lines = absl::StrSplit(raw.substr(0, header_end), "\r\n");
    std::vector<std::string> request_line = absl::StrSplit(lines[0], ' ');
    request.method = request_line.size() > 0 ? request_line[0] : "";
    request.path = request_line.size() > 1 ? request_line[1] : "";
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      request.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    request.body = raw.substr(header_end + 4, static_cast<size_t>(content_length));

    int status = 200;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!token_.empty() && request.headers["authorization"] != absl::StrCat("Bearer ", token_)) {
        status = 401;
      } else if (!script_.empty()) {
        status = script_.front();
        script_.pop_front();
      }
      requests_.push_back(std::move(request));
    }
    const std::string body = absl::StrCat("{\"status\": ", status, "}");
    const std::string response =
        absl::StrCat("HTTP/1.1 ", status, " Scripted\r\nContent-Type: application/json\r\n",
                     "Content-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
    (void)send(connection, response.data(), response.size(), MSG_NOSIGNAL);
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::deque<int> script_;
  std::string token_;
  std::vector<Request> requests_;
};

}  // namespace ailab::evaluation::testing
