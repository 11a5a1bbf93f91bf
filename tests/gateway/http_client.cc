#include "http_client.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace ailab::gateway::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string Response::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

class Connection::Impl {
 public:
  explicit Impl(int port) : socket(io) {
    beast::error_code error;
    socket.connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
        error);
    connect_error = error ? error.message() : "";
  }

  Response Read() {
    Response response;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    beast::error_code error;
    http::read(socket, buffer, parser, error);
    if (error) {
      response.error = error.message();
      return response;
    }
    const auto& message = parser.get();
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      response.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
          std::string(field.value());
    }
    response.body = message.body();
    response.keep_alive = message.keep_alive();
    return response;
  }

  net::io_context io;
  tcp::socket socket;
  beast::flat_buffer buffer;
  std::string connect_error;
};

Connection::Connection(int port) : impl_(std::make_unique<Impl>(port)) {}
Connection::~Connection() = default;

Response Connection::Send(const RequestSpec& spec) {
  if (!impl_->connect_error.empty()) return Response{0, {}, "", false, impl_->connect_error};
  http::request<http::string_body> request;
  request.method_string(spec.method);
  request.target(spec.target);
  request.version(11);
  request.set(http::field::host, "127.0.0.1");
  if (!spec.body.empty() || spec.method == "POST") {
    request.set(http::field::content_type, spec.content_type);
    request.body() = spec.body;
  }
  for (const auto& [name, value] : spec.headers) request.set(name, value);
  request.prepare_payload();
  beast::error_code error;
  http::write(impl_->socket, request, error);
  if (error) return Response{0, {}, "", false, error.message()};
  return impl_->Read();
}

Response Connection::SendRaw(const std::string& bytes) {
  if (!impl_->connect_error.empty()) return Response{0, {}, "", false, impl_->connect_error};
  beast::error_code error;
  net::write(impl_->socket, net::buffer(bytes), error);
  if (error) return Response{0, {}, "", false, error.message()};
  return impl_->Read();
}

Response Fetch(int port, const RequestSpec& request) { return Connection(port).Send(request); }

Response CallApi(int port, const std::string& method, const std::string& json,
                 const std::string& token) {
  RequestSpec spec;
  spec.method = "POST";
  spec.target = "/api/" + method;
  spec.body = json;
  if (!token.empty()) spec.headers.emplace_back("Authorization", "Bearer " + token);
  return Fetch(port, spec);
}

}  // namespace ailab::gateway::testing
