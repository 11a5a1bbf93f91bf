// A small blocking HTTP/1.1 client for the gateway's tests (Boost.Beast), talking to
// 127.0.0.1 only. One Connection keeps its socket across requests (keep-alive).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ailab::gateway::testing {

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  // True when the server kept the connection open.
  bool keep_alive = false;
  // Empty unless the exchange failed on the socket.
  std::string error;

  std::string Header(const std::string& lower_name) const;
};

struct RequestSpec {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

class Connection {
 public:
  explicit Connection(int port);
  ~Connection();
  Response Send(const RequestSpec& request);
  // Sends raw bytes and reads one response.
  Response SendRaw(const std::string& bytes);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// One request on a fresh connection.
Response Fetch(int port, const RequestSpec& request);

// POST /api/<method> with a JSON body and an optional bearer token.
Response CallApi(int port, const std::string& method, const std::string& json,
                 const std::string& token = "");

}  // namespace ailab::gateway::testing
