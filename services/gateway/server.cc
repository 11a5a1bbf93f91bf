#include "server.h"

#include <sys/socket.h>

#include <atomic>
#include <map>
#include <optional>
#include <thread>
#include <utility>  // boost/asio 1.74 uses std::exchange without including it
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"
#include "boost/asio.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "http_util.h"
#include "rate_limiter.h"
#include "routes.h"

namespace ailab::gateway {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

void AddSecurityHeaders(http::fields& fields) {
  for (const auto& [name, value] : SecurityHeaders()) fields.set(name, value);
}

// Routes not counted by the rate limit: probes of the orchestrator and the scraper.
bool IsProbe(absl::string_view path) {
  return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

}  // namespace

// State shared by the listener and every connection.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection when it waits for a new request (at shutdown).
  virtual void CloseIfIdle() = 0;
  // Shuts the socket down now, waking any blocking read or write on it.
  virtual void ForceClose() = 0;
  // Shuts down the reading side only, so a blocking read fails while a response can
  // still be written.
  virtual void StopReading() = 0;
};

class HttpServer::Impl {
 public:
  Impl(const ServerOptions& options, Gateway* gateway, Metrics* metrics)
      : options(options),
        gateway(gateway),
        metrics(metrics),
        limiter(options.rate_limit_per_second),
        tls(ssl::context::tls_server),
        io(options.threads),
        acceptor(io) {}

  absl::Status Bind();
  void Accept();
  void Shutdown();

  void Register(const std::shared_ptr<SessionBase>& session) {
    absl::MutexLock lock(&mutex);
    sessions.emplace(session.get(), session);
  }
  void Unregister(SessionBase* session) {
    absl::MutexLock lock(&mutex);
    sessions.erase(session);
  }

  const ServerOptions options;
  Gateway* const gateway;
  Metrics* const metrics;
  RateLimiter limiter;
  ssl::context tls;
  bool use_tls = false;
  int port = 0;
  std::atomic<bool> draining{false};
  std::atomic<int> connections{0};
  std::atomic<int> streams{0};
  std::vector<std::thread> threads;
  absl::Mutex mutex;
  std::map<SessionBase*, std::weak_ptr<SessionBase>> sessions ABSL_GUARDED_BY(mutex);
  bool stopped ABSL_GUARDED_BY(mutex) = false;
  // After the members above, so destroyed before them: destroying the io_context
  // destroys the handlers still queued, and with them the sessions they hold, whose
  // destructors use the members above (the session map, the TLS context).
  net::io_context io;
  tcp::acceptor acceptor;
  // Keeps the io threads running while no asynchronous operation is pending. Uploads
  // and event streams read on threads of their own and post their responses to the io
  // threads. After Shutdown() closes the acceptor, an upload may be the only work left,
  // and without the guard io.run() would return before its response is posted.
  net::executor_work_guard<net::io_context::executor_type> work_guard{io.get_executor()};
};

namespace {

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Session(Stream stream, HttpServer::Impl* server, std::string client)
      : stream_(std::move(stream)), server_(server), client_(std::move(client)) {
    ++server_->connections;
    server_->metrics->ConnectionOpened();
  }

  ~Session() override {
    server_->Unregister(this);
    server_->metrics->ConnectionClosed();
    --server_->connections;
  }

  void Run() {
    server_->Register(this->shared_from_this());
    auto self = this->shared_from_this();
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
      stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code error) {
        if (error) return self->Close();
        self->ReadHeader();
      });
    } else {
      net::dispatch(stream_.get_executor(), [self] { self->ReadHeader(); });
    }
  }

  void CloseIfIdle() override {
    auto self = this->shared_from_this();
    net::post(stream_.get_executor(), [self] {
      if (self->idle_) beast::get_lowest_layer(self->stream_).cancel();
    });
  }

  void ForceClose() override {
    ::shutdown(beast::get_lowest_layer(stream_).socket().native_handle(), SHUT_RDWR);
  }

  void StopReading() override {
    ::shutdown(beast::get_lowest_layer(stream_).socket().native_handle(), SHUT_RD);
  }

 private:
  void ReadHeader() {
    if (server_->draining) return Close();
    idle_ = true;
    header_parser_.emplace();
    header_parser_->header_limit(static_cast<std::uint32_t>(server_->options.max_header_bytes));
    header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    beast::get_lowest_layer(stream_).expires_after(
        absl::ToChronoSeconds(server_->options.idle_timeout));
    http::async_read_header(stream_, buffer_, *header_parser_,
                            [self = this->shared_from_this()](beast::error_code error, size_t) {
                              self->OnHeader(error);
                            });
  }

  void OnHeader(beast::error_code error) {
    idle_ = false;
    start_ = absl::Now();
    request_ = Request();
    request_.request_id = NewRequestId();
    request_.client_address = client_;
    if (error == http::error::header_limit) {
      return SendEarly(431, "HEADER_TOO_LARGE",
                       absl::StrCat("the request headers are larger than --max_header_bytes=",
                                    server_->options.max_header_bytes));
    }
    if (error == http::error::end_of_stream || error == beast::error::timeout ||
        error == net::error::operation_aborted || error == net::error::eof ||
        error == net::error::connection_reset || error == ssl::error::stream_truncated) {
      return Close();
    }
    if (error) {
      return SendEarly(400, "MALFORMED_REQUEST",
                       absl::StrCat("the request is not valid HTTP/1.1: ", error.message()));
    }

    const auto& header = header_parser_->get();
    version_ = header.version();
    keep_alive_ = header.keep_alive();
    FillRequest(header);
    server_->metrics->RequestStarted();
    in_flight_ = true;

    if (!IsProbe(request_.path)) {
      RateLimiter::Decision decision = server_->limiter.Admit(client_, absl::Now());
      if (!decision.allowed) {
        server_->metrics->RecordRateLimited();
        Reply reply = ErrorReply(
            ResourceExhausted("RATE_LIMITED",
                              absl::StrCat("more than ", server_->options.rate_limit_per_second,
                                           " requests per second from this address; retry "
                                           "after the time in Retry-After")),
            request_.request_id);
        reply.headers.emplace_back("Retry-After", absl::StrCat(decision.retry_after_seconds));
        reply.route = "rate_limited";
        keep_alive_ = false;
        return Send(std::move(reply));
      }
    }

    if (Gateway::IsUpload(request_) || Gateway::IsWatch(request_)) return StartStream();

    const auto length = header_parser_->content_length();
    body_limit_ = BodyLimit();
    if (length && *length > body_limit_.bytes) {
      return SendEarly(413, "BODY_TOO_LARGE",
                       absl::StrCat("the request body has ", *length, " bytes, more than --",
                                    body_limit_.flag, "=", body_limit_.bytes));
    }
    body_parser_.emplace(std::move(*header_parser_));
    body_parser_->body_limit(body_limit_.bytes);
    http::async_read(stream_, buffer_, *body_parser_,
                     [self = this->shared_from_this()](beast::error_code error, size_t) {
                       self->OnBody(error);
                     });
  }

  template <class Header>
  void FillRequest(const Header& header) {
    request_.method = std::string(header.method_string());
    absl::string_view target(header.target().data(), header.target().size());
    const size_t question = target.find('?');
    request_.path = std::string(target.substr(0, question));
    if (question != absl::string_view::npos)
      request_.query = std::string(target.substr(question + 1));
    auto field = [&](http::field name) {
      auto it = header.find(name);
      return it == header.end() ? std::string() : std::string(it->value());
    };
    request_.authorization = field(http::field::authorization);
    request_.if_none_match = field(http::field::if_none_match);
    auto id = header.find("X-Request-Id");
    if (id != header.end()) {
      absl::string_view value(id->value().data(), id->value().size());
      if (IsSaneRequestId(value)) request_.request_id = std::string(value);
    }
  }

  // The body limit of the request in request_ and the flag that sets it.
  struct Limit {
    size_t bytes;
    const char* flag;
  };
  Limit BodyLimit() const {
    constexpr absl::string_view kApiPrefix = "/api/";
    if (absl::StartsWith(request_.path, kApiPrefix)) {
      const Route* route = FindRoute(absl::string_view(request_.path).substr(kApiPrefix.size()));
      if (route != nullptr && route->file_body) {
        return {server_->options.max_file_body_bytes, "max_file_body_bytes"};
      }
    }
    return {server_->options.max_body_bytes, "max_body_bytes"};
  }

  void OnBody(beast::error_code error) {
    if (error == http::error::body_limit) {
      return SendEarly(413, "BODY_TOO_LARGE",
                       absl::StrCat("the request body is larger than --", body_limit_.flag, "=",
                                    body_limit_.bytes));
    }
    if (error) return Close();
    // The session keeps its copy of the request (id, method) for the response.
    Request request = request_;
    request.body = std::move(body_parser_->get().body());
    body_parser_.reset();
    auto self = this->shared_from_this();
    server_->gateway->Handle(std::move(request), [self](Reply reply) {
      net::post(self->stream_.get_executor(),
                [self, reply = std::move(reply)]() mutable { self->Send(std::move(reply)); });
    });
  }

  // A reply to a request whose body was not read; the connection closes after it.
  void SendEarly(int status, absl::string_view reason, absl::string_view message) {
    if (!in_flight_) {
      server_->metrics->RequestStarted();
      in_flight_ = true;
    }
    Reply reply;
    reply.status = status;
    reply.body = ErrorJson(
        status == 400 ? grpc::StatusCode::INVALID_ARGUMENT : grpc::StatusCode::RESOURCE_EXHAUSTED,
        message, reason, request_.request_id);
    reply.route = "rejected";
    keep_alive_ = false;
    Send(std::move(reply));
  }

  void Send(Reply reply) {
    auto response = std::make_shared<http::response<http::string_body>>();
    response->version(version_ == 10 ? 10 : 11);
    response->result(static_cast<unsigned>(reply.status));
    response->set(http::field::server, "ailab-gateway");
    if (reply.status != 304) response->set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) response->set(name, value);
    AddSecurityHeaders(response->base());
    response->set("X-Request-Id", request_.request_id);
    const bool keep = keep_alive_ && !server_->draining;
    response->keep_alive(keep);
    if (request_.method == "HEAD") {
      const size_t size = reply.body.size();
      response->content_length(size);
    } else {
      response->body() = std::move(reply.body);
      response->prepare_payload();
    }
    route_ = reply.route;
    status_ = reply.status;
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(60));
    auto self = this->shared_from_this();
    if (request_.method == "HEAD") {
      auto serializer = std::make_shared<http::response_serializer<http::string_body>>(*response);
      http::async_write_header(stream_, *serializer,
                               [self, response, serializer, keep](beast::error_code error, size_t) {
                                 self->OnWrite(error, keep);
                               });
      return;
    }
    http::async_write(stream_, *response, [self, response, keep](beast::error_code error, size_t) {
      self->OnWrite(error, keep);
    });
  }

  void OnWrite(beast::error_code error, bool keep) {
    FinishRequest();
    if (error || !keep) return Close();
    ReadHeader();
  }

  void FinishRequest() {
    if (!in_flight_) return;
    in_flight_ = false;
    server_->metrics->RequestFinished();
    server_->metrics->RecordRequest(route_.empty() ? "unknown" : route_, status_,
                                    absl::ToDoubleSeconds(absl::Now() - start_));
  }

  // Uploads and event streams block on the socket and on gRPC, so they run on a
  // thread of their own. Meanwhile no asynchronous operation is pending on the stream,
  // except the read that notices a client leaving an event stream over plain TCP.
  void StartStream() {
    if (server_->streams.fetch_add(1) >= server_->options.max_streams) {
      --server_->streams;
      return SendEarly(503, "TOO_MANY_STREAMS",
                       "the gateway serves too many uploads and event streams; retry later");
    }
    beast::get_lowest_layer(stream_).expires_never();
    auto self = this->shared_from_this();
    std::thread([self]() mutable {
      if (Gateway::IsUpload(self->request_)) {
        self->RunUpload();
      } else {
        self->RunWatch();
      }
      // The thread lets go of the session before it counts itself out: Shutdown() waits
      // for the count, and the server must outlive every session.
      HttpServer::Impl* server = self->server_;
      self.reset();
      --server->streams;
    }).detach();
  }

  void RunUpload() {
    Gateway* gateway = server_->gateway;
    absl::StatusOr<identity::Principal> caller =
        gateway->AuthorizeStream(request_, rpc::kRoleDataManager);
    if (!caller.ok()) return PostSend(ErrorReply(caller.status(), request_.request_id), false);
    const auto length = header_parser_->content_length();
    if (length && static_cast<int64_t>(*length) > server_->options.max_upload_bytes) {
      Reply reply = ErrorReply(
          ResourceExhausted("UPLOAD_TOO_LARGE", absl::StrCat("the upload has ", *length,
                                                             " bytes, more than "
                                                             "--max_upload_bytes=",
                                                             server_->options.max_upload_bytes)),
          request_.request_id);
      reply.status = 413;
      return PostSend(std::move(reply), false);
    }

    // curl and browsers may wait for "100 Continue" before sending a large body.
    auto expect = header_parser_->get().find(http::field::expect);
    if (expect != header_parser_->get().end() &&
        absl::EqualsIgnoreCase(absl::string_view(expect->value().data(), expect->value().size()),
                               "100-continue")) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      beast::error_code ignored;
      net::write(stream_, net::buffer(kContinue, sizeof(kContinue) - 1), ignored);
    }

    // NOTE: the idle timeout covers only waits for a request. A client that stalls in
    // the middle of an upload keeps this thread until the socket fails.
    http::request_parser<http::buffer_body> parser(std::move(*header_parser_));
    parser.body_limit(static_cast<std::uint64_t>(server_->options.max_upload_bytes));
    auto read = [&](char* data, size_t size) -> absl::StatusOr<size_t> {
      while (!parser.is_done()) {
        parser.get().body().data = data;
        parser.get().body().size = size;
        beast::error_code error;
        http::read(stream_, buffer_, parser, error);
        if (error == http::error::need_buffer) error = {};
        if (error == http::error::body_limit) {
          return ResourceExhausted("UPLOAD_TOO_LARGE",
                                   absl::StrCat("the upload is larger than --max_upload_bytes=",
                                                server_->options.max_upload_bytes));
        }
        if (error) {
          return Unavailable("UPLOAD_READ_FAILED",
                             absl::StrCat("reading the upload failed: ", error.message()));
        }
        const size_t got = size - parser.get().body().size;
        if (got > 0) return got;
      }
      return size_t{0};
    };
    Reply reply = gateway->Upload(request_, *caller, read);
    PostSend(std::move(reply), parser.is_done());
  }

  void RunWatch() {
    Gateway* gateway = server_->gateway;
    absl::StatusOr<identity::Principal> caller =
        gateway->AuthorizeStream(request_, rpc::kRoleRadiologist);
    if (!caller.ok()) return PostSend(ErrorReply(caller.status(), request_.request_id), false);
    auto write = [this](absl::string_view bytes) {
      beast::error_code error;
      net::write(stream_, net::buffer(bytes.data(), bytes.size()), error);
      return !error;
    };
    auto self = this->shared_from_this();
    auto on_client_gone = [self](std::function<void()> cancel) {
      if constexpr (!kTls) {
        auto byte = std::make_shared<char>();
        net::post(self->stream_.get_executor(), [self, byte, cancel] {
          self->stream_.socket().async_read_some(net::buffer(byte.get(), 1),
                                                 [byte, cancel](beast::error_code error, size_t) {
                                                   if (error) cancel();
                                                 });
        });
      }
    };
    std::optional<Reply> failure = gateway->Watch(request_, *caller, write, on_client_gone);
    if (failure.has_value()) return PostSend(std::move(*failure), false);
    route_ = "/api/events/trainingJobs/{id}";
    status_ = 200;
    net::post(stream_.get_executor(), [self] {
      self->FinishRequest();
      self->Close();
    });
  }

  void PostSend(Reply reply, bool keep_alive) {
    auto self = this->shared_from_this();
    net::post(stream_.get_executor(), [self, keep_alive, reply = std::move(reply)]() mutable {
      self->keep_alive_ = self->keep_alive_ && keep_alive;
      self->Send(std::move(reply));
    });
  }

  void Close() {
    FinishRequest();
    beast::error_code ignored;
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored_close;
        beast::get_lowest_layer(self->stream_).socket().close(ignored_close);
      });
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  Stream stream_;
  HttpServer::Impl* server_;
  const std::string client_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> body_parser_;
  Limit body_limit_{0, "max_body_bytes"};
  Request request_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool idle_ = true;
  bool in_flight_ = false;
  absl::Time start_;
  std::string route_;
  int status_ = 0;
};

}  // namespace

absl::Status HttpServer::Impl::Bind() {
  const size_t colon = options.listen.rfind(':');
  int listen_port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(options.listen.substr(colon + 1), &listen_port) || listen_port < 0 ||
      listen_port > 65535) {
    return InvalidArgument("INVALID_LISTEN_ADDRESS", "gateway_listen",
                           absl::StrCat("--gateway_listen=", options.listen,
                                        " is not host:port, for example 127.0.0.1:8080"));
  }
  std::string host = options.listen.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]"))
    host = host.substr(1, host.size() - 2);
  beast::error_code error;
  const net::ip::address address = net::ip::make_address(host, error);
  if (error) {
    return InvalidArgument("INVALID_LISTEN_ADDRESS", "gateway_listen",
                           absl::StrCat("--gateway_listen host \"", host,
                                        "\" is not an IP address; use for example 127.0.0.1"));
  }
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(listen_port));
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(net::socket_base::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(net::socket_base::max_listen_connections, error);
  if (error) {
    return Unavailable("LISTEN_FAILED",
                       absl::StrCat("could not listen on ", options.listen, ": ", error.message()));
  }
  port = acceptor.local_endpoint().port();

  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return InvalidArgument("TLS_INCOMPLETE", "tls_cert_file",
                             "set both --tls_cert_file and --tls_key_file, or neither");
    }
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls.use_certificate_chain_file(options.tls_cert_file, error);
    if (!error) tls.use_private_key_file(options.tls_key_file, ssl::context::pem, error);
    if (error) {
      return InvalidArgument(
          "TLS_FILES_INVALID", "tls_cert_file",
          absl::StrCat("could not load --tls_cert_file or --tls_key_file: ", error.message()));
    }
    use_tls = true;
  }
  return absl::OkStatus();
}

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(io), [this](beast::error_code error, tcp::socket socket) {
    if (error) {
      if (error == net::error::operation_aborted || draining) return;
      log::Logger("gateway")->warn("accept failed error={}", error.message());
      return Accept();
    }
    beast::error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    const std::string client = ignored ? "unknown" : remote.address().to_string();
    if (use_tls) {
      std::make_shared<Session<TlsStream>>(TlsStream(std::move(socket), tls), this, client)->Run();
    } else {
      std::make_shared<Session<PlainStream>>(PlainStream(std::move(socket)), this, client)->Run();
    }
    Accept();
  });
}

void HttpServer::Impl::Shutdown() {
  {
    absl::MutexLock lock(&mutex);
    if (stopped) return;
    stopped = true;
  }
  auto logger = log::Logger("gateway");
  logger->info("shutting down connections={} streams={}", connections.load(), streams.load());
  draining = true;
  net::post(acceptor.get_executor(), [this] {
    beast::error_code ignored;
    acceptor.close(ignored);
  });

  auto for_each_session = [this](auto fn) {
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      absl::MutexLock lock(&mutex);
      for (auto& [raw, weak] : sessions) {
        if (auto session = weak.lock()) live.push_back(std::move(session));
      }
    }
    for (auto& session : live) fn(*session);
  };
  for_each_session([](SessionBase& session) { session.CloseIfIdle(); });
  gateway->CancelStreams();

  // Requests in flight finish; idle keep-alive connections close as they become idle.
  const absl::Time deadline = absl::Now() + options.shutdown_grace;
  while ((connections > 0 || streams > 0) && absl::Now() < deadline) {
    for_each_session([](SessionBase& session) { session.CloseIfIdle(); });
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (connections > 0 || streams > 0) {
    logger->warn("grace period over; closing connections={} streams={}", connections.load(),
                 streams.load());
    // Reading stops first, so that an upload cut short still gets its response, which
    // lists what was stored. Then whatever is left is closed.
    for_each_session([](SessionBase& session) { session.StopReading(); });
    const absl::Time answer_deadline = absl::Now() + absl::Seconds(2);
    while ((connections > 0 || streams > 0) && absl::Now() < answer_deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    for_each_session([](SessionBase& session) { session.ForceClose(); });
    while (streams > 0) absl::SleepFor(absl::Milliseconds(20));
  }
  // The last responses of uploads and streams are written by the io threads; give them a
  // moment to go out before the threads stop.
  const absl::Time flush_deadline = absl::Now() + absl::Seconds(2);
  while (connections > 0 && absl::Now() < flush_deadline) absl::SleepFor(absl::Milliseconds(20));
  work_guard.reset();
  io.stop();
  for (std::thread& thread : threads) thread.join();
  logger->info("stopped");
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(); }

int HttpServer::port() const { return impl_->port; }

void HttpServer::Shutdown() { impl_->Shutdown(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options,
                                                              Gateway* gateway, Metrics* metrics) {
  auto impl = std::make_unique<Impl>(options, gateway, metrics);
  AILAB_RETURN_IF_ERROR(impl->Bind());
  Impl* raw = impl.get();
  raw->Accept();
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    raw->threads.emplace_back([raw] { raw->io.run(); });
  }
  log::Logger("gateway")->info("listening address={} port={} tls={} threads={}", options.listen,
                               raw->port, raw->use_tls, options.threads);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

}  // namespace ailab::gateway
