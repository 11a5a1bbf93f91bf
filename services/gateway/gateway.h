// Request handling of the HTTP gateway, independent of the socket layer (server.h):
// authentication, the routing table, JSON transcoding, calls to the services, the
// special routes and static files.
//
// Handle() runs on an io thread. It serves probes and static files there (a static
// file is read from disk on that thread). API calls, blobs and /readyz move to a
// bounded worker pool, API calls then use gRPC's asynchronous callback API, and the
// reply comes back through the `respond` callback from any thread. Upload() and
// Watch() block, so they run on a stream thread of their own (see server.cc).
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ailab/blob/blob_store.h"
#include "ailab/identity/identity.h"
#include "ailab/pg/pg.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "metrics.h"
#include "worker_pool.h"

namespace ailab::gateway {

// An HTTP request after parsing; the body is empty for streaming routes.
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-encoded, without "?query"
  std::string query;   // after "?", percent-encoded
  std::string authorization;
  std::string if_none_match;
  std::string body;
  std::string client_address;
  std::string request_id;
};

// An HTTP response before the security headers and X-Request-Id are added.
struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Route template for the metrics, for example "/api/{method}" or "static".
  std::string route;
};

struct GatewayOptions {
  // Canonical web root; empty serves no static files.
  std::filesystem::path web_root;
  // Blob store root; empty turns /api/blobs off.
  std::string blob_root;
  // gRPC address per API area ("catalog", "ingest", ...).
  std::map<std::string, std::string> service_addresses;
  absl::Duration rpc_timeout = absl::Seconds(30);
  // Largest /api/upload body, in bytes.
  int64_t max_upload_bytes = int64_t{2} << 30;
  // Threads of the worker pool that authenticates and transcodes API calls.
  int worker_threads = 4;
};

class Gateway {
 public:
  using Respond = std::function<void(Reply)>;

  // `identity` and `pool` are not owned and must outlive the gateway; `pool` may be
  // null (then /readyz checks only the services).
  Gateway(GatewayOptions options, identity::IdentityApi* identity, pg::Pool* pool,
          Metrics* metrics);
  ~Gateway();

  // Handles a request with its whole body; `respond` is called exactly once.
  void Handle(Request request, Respond respond);

  // True when `request` is served by Upload() or Watch() (before its body is read).
  static bool IsUpload(const Request& request);
  static bool IsWatch(const Request& request);

  // Checks the caller of a streaming route before its body is read; the reply on
  // failure.
  absl::StatusOr<identity::Principal> AuthorizeStream(const Request& request,
                                                      absl::string_view role);

  // Streams the body, read with `read` (returns 0 at the end), to
  // IngestService.UploadInstances in chunks; blocking.
  Reply Upload(const Request& request, const identity::Principal& caller,
               const std::function<absl::StatusOr<size_t>(char*, size_t)>& read);

  // Sends server-sent events of TrainingService.WatchTrainingJob through `write`
  // (the HTTP head first) until the job ends, the client goes away or the gateway
  // stops. Returns a reply only when it fails before writing anything. Blocking.
  std::optional<Reply> Watch(const Request& request, const identity::Principal& caller,
                             const std::function<bool(absl::string_view)>& write,
                             const std::function<void(std::function<void()>)>& on_client_gone);

  // Cancels every watch in progress (at shutdown).
  void CancelStreams();

 private:
  void HandleApi(Request request, Respond respond);
  void CallService(const Request& request, const std::string& method,
                   const identity::Principal& caller,
                   std::unique_ptr<google::protobuf::Message> message, Respond respond);
  Reply CallIdentity(const Request& request, const std::string& method,
                     const identity::Principal& caller, const google::protobuf::Message& message);
  Reply ServeStatic(const Request& request);
  Reply ServeBlob(const Request& request);
  Reply Ready();
  void Audit(const Request& request, const std::string& method, const std::string& user,
             const std::string& resource, int http_status);
  void AddCallMetadata(grpc::ClientContext& context, const Request& request,
                       const identity::Principal& caller);
  std::string AddressOf(const std::string& area) const;

  GatewayOptions options_;
  identity::IdentityApi* identity_;
  pg::Pool* pool_;
  Metrics* metrics_;
  std::optional<blob::BlobStore> blobs_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::map<std::string, std::unique_ptr<grpc::GenericStub>> stubs_;
  WorkerPool workers_;
  std::string openapi_;

  absl::Mutex streams_mutex_;
  absl::flat_hash_set<std::shared_ptr<grpc::ClientContext>> streams_
      ABSL_GUARDED_BY(streams_mutex_);
  bool streams_cancelled_ ABSL_GUARDED_BY(streams_mutex_) = false;
};

// The error reply for `status`, with the contract's JSON body.
Reply ErrorReply(const absl::Status& status, absl::string_view request_id);

}  // namespace ailab::gateway
