#include "gateway.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ailab/identity/v1/identity.pb.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/log/log.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/probe.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/training/v1/training.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "http_util.h"
#include "routes.h"
#include "transcoder.h"

namespace ailab::gateway {
namespace {

namespace idv1 = ::ailab::identity::v1;

constexpr char kApiPrefix[] = "/api/";
constexpr char kIdentityService[] = "ailab.identity.v1.IdentityService";
constexpr char kUploadMethod[] = "ailab.ingest.v1.IngestService/UploadInstances";
constexpr char kEventsPrefix[] = "/api/events/trainingJobs/";
constexpr char kBlobsPrefix[] = "/api/blobs/";
// Bytes per UploadInstances message.
constexpr size_t kUploadChunkBytes = 1 << 20;

Reply JsonReply(std::string body, std::string route) {
  Reply reply;
  reply.body = std::move(body);
  reply.route = std::move(route);
  return reply;
}

Reply TextReply(int status, std::string content_type, std::string body, std::string route) {
  Reply reply;
  reply.status = status;
  reply.content_type = std::move(content_type);
  reply.body = std::move(body);
  reply.route = std::move(route);
  return reply;
}

Reply WithRoute(Reply reply, std::string route) {
  reply.route = std::move(route);
  return reply;
}

// The value of `key` in a query string, percent-decoded; empty when absent.
std::string QueryValue(absl::string_view query, absl::string_view key) {
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(pair, '=');
    if (parts.first != key) continue;
    absl::StatusOr<std::string> decoded = PercentDecode(parts.second);
    return decoded.ok() ? *decoded : "";
  }
  return "";
}

bool IsIdCharacter(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_'; }

bool IsBlobId(absl::string_view id) {
  if (!absl::StartsWith(id, "sha256:") || id.size() != 7 + 64) return false;
  for (char c : id.substr(7)) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

absl::Status RoleNotAllowed(absl::string_view method, const std::vector<std::string>& roles) {
  return PermissionDenied(
      "ROLE_NOT_ALLOWED",
      absl::StrCat(method, " needs one of the roles ", absl::StrJoin(roles, ", "),
                   "; ask an administrator to grant one"),
      {{"method", method}});
}

bool HasAnyRole(const identity::Principal& caller, const std::vector<std::string>& roles) {
  if (roles.empty()) return true;
  for (const std::string& role : roles) {
    if (caller.HasRole(role)) return true;
  }
  return false;
}

template <typename RequestType>
const RequestType& As(const google::protobuf::Message& message) {
  return static_cast<const RequestType&>(message);
}

template <typename ResponseType>
absl::StatusOr<std::string> ToJson(const absl::StatusOr<ResponseType>& result) {
  if (!result.ok()) return result.status();
  return PrintJson(*result);
}

}  // namespace

Reply ErrorReply(const absl::Status& status, absl::string_view request_id) {
  const grpc::Status converted = rpc::ToGrpcStatus(status);
  Reply reply;
  reply.status = HttpStatusFor(converted.error_code());
  reply.body = ErrorJson(converted.error_code(), converted.error_message(), GetErrorReason(status),
                         request_id);
  return reply;
}

Gateway::Gateway(GatewayOptions options, identity::IdentityApi* identity, pg::Pool* pool,
                 Metrics* metrics)
    : options_(std::move(options)),
      identity_(identity),
      pool_(pool),
      metrics_(metrics),
      workers_(options_.worker_threads, 1024 * static_cast<size_t>(options_.worker_threads)),
      openapi_(OpenApiJson()) {
  for (const auto& [area, address] : options_.service_addresses) {
    if (address.empty()) continue;
    channels_[area] = rpc::Connect(address);
    stubs_[area] = std::make_unique<grpc::GenericStub>(channels_[area]);
  }
  if (!options_.blob_root.empty()) {
    absl::StatusOr<blob::BlobStore> store = blob::BlobStore::Open(options_.blob_root);
    if (store.ok()) {
      blobs_.emplace(std::move(*store));
    } else {
      log::Logger("gateway")->error("blob store unavailable root={} error={}", options_.blob_root,
                                    std::string(store.status().message()));
    }
  }
}

Gateway::~Gateway() { CancelStreams(); }

bool Gateway::IsUpload(const Request& request) {
  return request.method == "POST" && request.path == "/api/upload";
}

bool Gateway::IsWatch(const Request& request) {
  return request.method == "GET" && absl::StartsWith(request.path, kEventsPrefix);
}

std::string Gateway::AddressOf(const std::string& area) const {
  auto it = options_.service_addresses.find(area);
  return it == options_.service_addresses.end() ? "" : it->second;
}

// ---------------------------------------------------------------------------------------
// Dispatch

void Gateway::Handle(Request request, Respond respond) {
  const std::string& path = request.path;
  if (path == "/healthz") {
    respond(TextReply(200, "text/plain; charset=utf-8", "ok\n", "/healthz"));
    return;
  }
  if (path == "/metrics") {
    respond(
        TextReply(200, "text/plain; version=0.0.4; charset=utf-8", metrics_->Render(), "/metrics"));
    return;
  }
  if (path == "/api/openapi.json") {
    respond(JsonReply(openapi_, "/api/openapi.json"));
    return;
  }

  // The rest may block (database, files, backends) and moves to the worker pool.
  const bool api = absl::StartsWith(path, kApiPrefix);
  const bool ready = path == "/readyz";
  const bool blob = absl::StartsWith(path, kBlobsPrefix);
  if (!api && !ready) {
    respond(ServeStatic(request));
    return;
  }
  auto shared_respond = std::make_shared<Respond>(std::move(respond));
  auto shared_request = std::make_shared<Request>(std::move(request));
  const bool queued = workers_.Submit([this, shared_request, shared_respond, ready, blob] {
    if (ready) {
      (*shared_respond)(Ready());
    } else if (blob) {
      (*shared_respond)(ServeBlob(*shared_request));
    } else {
      HandleApi(std::move(*shared_request), std::move(*shared_respond));
    }
  });
  if (!queued) {
    (*shared_respond)(WithRoute(
        ErrorReply(Unavailable("GATEWAY_BUSY",
                               "the gateway has too many requests queued; retry in a moment"),
                   shared_request->request_id),
        "busy"));
  }
}

void Gateway::HandleApi(Request request, Respond respond) {
  const std::string method = request.path.substr(sizeof(kApiPrefix) - 1);
  const Route* route = FindRoute(method);
  const google::protobuf::MethodDescriptor* descriptor =
      route == nullptr ? nullptr : FindMethod(method);
  const std::string route_label = route == nullptr ? "/api/{unknown}" : "/api/" + method;
  auto fail = [&](const absl::Status& status) {
    // Client errors are routine (expired sessions, typos), so they log at debug level.
    log::Logger("gateway")->debug("api request rejected method={} code={} reason={} request_id={}",
                                  method, absl::StatusCodeToString(status.code()),
                                  GetErrorReason(status), request.request_id);
    respond(WithRoute(ErrorReply(status, request.request_id), route_label));
  };

  // A wrong verb gets HTTP 405 with an Allow header that names the right one.
  auto fail_not_post = [&](const std::string& message) {
    Reply reply =
        ErrorReply(MakeError(absl::StatusCode::kInvalidArgument, "METHOD_NOT_POST", message),
                   request.request_id);
    reply.status = 405;
    reply.headers.emplace_back("Allow", "POST");
    respond(WithRoute(std::move(reply), route_label));
  };

  if (request.path == "/api/upload") {
    // Only a POST reaches the upload stream (IsUpload), so other methods get that fix
    // instead of "no method".
    fail_not_post(
        absl::StrCat("send uploads as POST /api/upload?dataset=datasets/{id}&"
                     "filename=NAME with the DICOM file as the body, not ",
                     request.method));
    return;
  }
  if (route == nullptr || descriptor == nullptr) {
    fail(NotFound("METHOD_NOT_FOUND",
                  absl::StrCat("no API method \"", method,
                               "\"; see /api/openapi.json for the methods the gateway serves"),
                  {{"method", method}}));
    return;
  }
  if (request.method != "POST") {
    fail_not_post(
        absl::StrCat("call ", method, " with POST and a JSON body, not ", request.method));
    return;
  }

  // Authentication and role.
  identity::Principal caller;
  if (!route->public_method) {
    absl::StatusOr<identity::Principal> principal =
        identity_->Authenticate(request.authorization, absl::Now());
    if (!principal.ok()) {
      fail(principal.status());
      return;
    }
    caller = std::move(*principal);
    if (!HasAnyRole(caller, route->roles)) {
      fail(RoleNotAllowed(method, route->roles));
      Audit(request, method, caller.user_id, "", 403);
      return;
    }
  }

  // Request message and the caller binding.
  std::unique_ptr<google::protobuf::Message> message = NewMessage(descriptor->input_type());
  if (absl::Status parsed = ParseJson(request.body, *message); !parsed.ok()) {
    fail(parsed);
    return;
  }
  if (!route->caller_field.empty()) {
    absl::Status bound = BindCallerField(*message, route->caller_field, caller.user_id,
                                         caller.HasRole(rpc::kRoleAdministrator));
    if (!bound.ok()) {
      fail(bound);
      Audit(request, method, caller.user_id, ResourceOf(*message), 403);
      return;
    }
  }

  if (ServiceOf(method) == kIdentityService) {
    Reply reply = CallIdentity(request, method, caller, *message);
    reply.route = route_label;
    Audit(request, method, caller.user_id, ResourceOf(*message), reply.status);
    respond(std::move(reply));
    return;
  }
  CallService(request, method, caller, std::move(message), std::move(respond));
}

void Gateway::AddCallMetadata(grpc::ClientContext& context, const Request& request,
                              const identity::Principal& caller) {
  context.AddMetadata(rpc::kRequestIdKey, request.request_id);
  rpc::AddInternalToken(context);
  if (caller.user_id.empty()) return;
  // The signed identity, and the user id with the internal token for services that
  // read only x-ailab-user.
  rpc::AddIdentity(
      context,
      caller.ToIdentity(request.request_id, absl::Now() + options_.rpc_timeout + absl::Minutes(1)));
  context.AddMetadata(rpc::kUserKey, caller.user_id);
}

void Gateway::CallService(const Request& request, const std::string& method,
                          const identity::Principal& caller,
                          std::unique_ptr<google::protobuf::Message> message, Respond respond) {
  const std::string area = AreaOf(ServiceOf(method));
  const std::string route_label = "/api/" + method;
  auto stub = stubs_.find(area);
  if (stub == stubs_.end()) {
    respond(WithRoute(ErrorReply(Unavailable("SERVICE_NOT_CONFIGURED",
                                             absl::StrCat("no address is configured for the ", area,
                                                          " service; set --", area, "_address")),
                                 request.request_id),
                      route_label));
    return;
  }

  // State of one call, kept alive until gRPC calls back.
  struct Call {
    grpc::ClientContext context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    std::unique_ptr<google::protobuf::Message> reply_message;
    std::string resource;
  };
  auto call = std::make_shared<Call>();
  call->resource = ResourceOf(*message);
  const google::protobuf::MethodDescriptor* descriptor = FindMethod(method);
  call->reply_message = NewMessage(descriptor->output_type());
  std::string serialized;
  message->SerializeToString(&serialized);
  grpc::Slice slice(serialized);
  call->request = grpc::ByteBuffer(&slice, 1);
  rpc::SetTimeout(call->context, options_.rpc_timeout);
  AddCallMetadata(call->context, request, caller);

  const std::string request_id = request.request_id;
  auto audit_request = std::make_shared<Request>(request);
  audit_request->body.clear();
  const std::string user = caller.user_id;
  stub->second->UnaryCall(
      &call->context, absl::StrCat("/", method), grpc::StubOptions(), &call->request,
      &call->response,
      [this, call, method, route_label, request_id, audit_request, user,
       respond = std::move(respond)](grpc::Status status) {
        Reply reply;
        if (status.ok()) {
          grpc::Slice joined;
          std::string bytes;
          if (call->response.TrySingleSlice(&joined).ok()) {
            bytes.assign(reinterpret_cast<const char*>(joined.begin()), joined.size());
          } else if (call->response.DumpToSingleSlice(&joined).ok()) {
            bytes.assign(reinterpret_cast<const char*>(joined.begin()), joined.size());
          }
          absl::StatusOr<std::string> json =
              call->reply_message->ParseFromString(bytes)
                  ? PrintJson(*call->reply_message)
                  : absl::StatusOr<std::string>(
                        Internal("BAD_BACKEND_RESPONSE",
                                 absl::StrCat("the response of ", method, " could not be parsed")));
          reply = json.ok() ? JsonReply(*json, route_label) : ErrorReply(json.status(), request_id);
        } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
                   status.error_details().empty()) {
          // No answer from the service at all (a service's own UNAVAILABLE carries its
          // ErrorInfo): say so in words instead of gRPC's transport text.
          log::Logger("gateway")->warn("service unreachable method={} request_id={} error={}",
                                       method, request_id, status.error_message());
          reply = ErrorReply(
              Unavailable("SERVICE_UNAVAILABLE",
                          absl::StrCat("the ", AreaOf(ServiceOf(method)),
                                       " service did not answer; it may be stopped or "
                                       "restarting. Try again shortly, or ask the operator to "
                                       "check it with ailab platform status")),
              request_id);
        } else {
          reply.status = HttpStatusFor(status.error_code());
          reply.body = ErrorJsonFromStatus(status, request_id);
          if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
              status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
              status.error_code() == grpc::StatusCode::INTERNAL) {
            log::Logger("gateway")->warn("call failed method={} request_id={} code={} error={}",
                                         method, request_id, CodeName(status.error_code()),
                                         status.error_message());
          }
        }
        reply.route = route_label;
        Audit(*audit_request, method, user, call->resource, reply.status);
        respond(std::move(reply));
      });
}

Reply Gateway::CallIdentity(const Request& request, const std::string& method,
                            const identity::Principal& caller,
                            const google::protobuf::Message& message) {
  const std::string name = MethodNameOf(method);
  absl::StatusOr<std::string> json = absl::UnimplementedError("");
  if (name == "SignIn") {
    json = ToJson(identity_->SignIn(As<idv1::SignInRequest>(message), absl::Now()));
  } else if (name == "SignOut") {
    json = ToJson(identity_->SignOut(caller, As<idv1::SignOutRequest>(message)));
  } else if (name == "GetCurrentUser") {
    json = ToJson(identity_->GetCurrentUser(caller, As<idv1::GetCurrentUserRequest>(message)));
  } else if (name == "CreateUser") {
    json = ToJson(identity_->CreateUser(caller, As<idv1::CreateUserRequest>(message)));
  } else if (name == "ListUsers") {
    json = ToJson(identity_->ListUsers(caller, As<idv1::ListUsersRequest>(message)));
  } else if (name == "LookupUsers") {
    json = ToJson(identity_->LookupUsers(caller, As<idv1::LookupUsersRequest>(message)));
  } else if (name == "UpdateUser") {
    json = ToJson(identity_->UpdateUser(caller, As<idv1::UpdateUserRequest>(message)));
  } else if (name == "ChangePassword") {
    json = ToJson(identity_->ChangePassword(caller, As<idv1::ChangePasswordRequest>(message)));
  } else if (name == "ListAuditEvents") {
    json = ToJson(identity_->ListAuditEvents(caller, As<idv1::ListAuditEventsRequest>(message)));
  } else {
    json = MakeError(absl::StatusCode::kUnimplemented, "METHOD_NOT_IMPLEMENTED",
                     absl::StrCat("the gateway does not implement ", method));
  }
  if (!json.ok()) return ErrorReply(json.status(), request.request_id);
  return JsonReply(*json, "");
}

void Gateway::Audit(const Request& request, const std::string& method, const std::string& user,
                    const std::string& resource, int http_status) {
  if (IsReadOnly(method)) return;
  idv1::AuditEvent event;
  *event.mutable_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
  event.set_user(user);
  event.set_http_method(request.method);
  event.set_path(request.path);
  event.set_rpc_method(method);
  event.set_resource(resource);
  event.set_http_status(http_status);
  event.set_request_id(request.request_id);
  event.set_client_address(request.client_address);
  identity_->RecordAudit(std::move(event));
}

// ---------------------------------------------------------------------------------------
// Readiness, blobs and static files

Reply Gateway::Ready() {
  std::vector<std::string> problems;
  for (const auto& [area, address] : options_.service_addresses) {
    if (address.empty()) continue;
    absl::StatusOr<bool> serving = rpc::CheckHealth(address, "", absl::Seconds(2));
    if (!serving.ok() || !*serving) {
      problems.push_back(absl::StrCat(area, " at ", address, " is not serving"));
    }
  }
  if (pool_ != nullptr) {
    absl::Status database = pool_->Run([](pqxx::work& tx) {
      tx.exec("SELECT 1");
      return absl::OkStatus();
    });
    if (!database.ok()) problems.push_back("the identity database is not reachable");
  }
  if (problems.empty()) return TextReply(200, "text/plain; charset=utf-8", "ready\n", "/readyz");
  return TextReply(503, "text/plain; charset=utf-8",
                   absl::StrCat("not ready: ", absl::StrJoin(problems, "; "), "\n"), "/readyz");
}

Reply Gateway::ServeBlob(const Request& request) {
  const std::string route = "/api/blobs/{id}";
  absl::StatusOr<identity::Principal> caller =
      identity_->Authenticate(request.authorization, absl::Now());
  if (!caller.ok()) return WithRoute(ErrorReply(caller.status(), request.request_id), route);
  // Images, arrays and model files are for the people who work with the data, so a
  // challenge participant gets scores only.
  if (!caller->HasRole(rpc::kRoleRadiologist) && !caller->HasRole(rpc::kRoleDataManager) &&
      !caller->HasRole(rpc::kRoleReviewer)) {
    return WithRoute(
        ErrorReply(PermissionDenied("ROLE_REQUIRED",
                                    "reading images and files needs the radiologist, data "
                                    "manager or reviewer role"),
                   request.request_id),
        route);
  }
  if (request.method != "GET") {
    return WithRoute(ErrorReply(InvalidArgument("METHOD_NOT_GET", "method", "read blobs with GET"),
                                request.request_id),
                     route);
  }
  absl::StatusOr<std::string> id = PercentDecode(request.path.substr(sizeof(kBlobsPrefix) - 1));
  if (!id.ok() || !IsBlobId(*id)) {
    return WithRoute(
        ErrorReply(InvalidArgument("INVALID_BLOB_ID", "id",
                                   "a blob id is \"sha256:\" followed by 64 lowercase hex digits"),
                   request.request_id),
        route);
  }
  if (!blobs_.has_value()) {
    return WithRoute(ErrorReply(Unavailable("BLOB_STORE_NOT_CONFIGURED",
                                            "the gateway has no blob store; set --blob_root"),
                                request.request_id),
                     route);
  }
  absl::StatusOr<std::string> bytes = blobs_->Get(*id);
  if (!bytes.ok()) {
    // The blob store's own message names its folder on the server, which callers must not
    // learn; it goes to the log instead.
    log::Logger("gateway")->warn("blob read failed id={} request_id={} error={}", *id,
                                 request.request_id, std::string(bytes.status().message()));
    absl::Status status =
        bytes.status().code() == absl::StatusCode::kNotFound
            ? NotFound("BLOB_NOT_FOUND", absl::StrCat("blob ", *id, " does not exist"))
            : Unavailable("BLOB_READ_FAILED", absl::StrCat("blob ", *id, " could not be read"));
    return WithRoute(ErrorReply(status, request.request_id), route);
  }
  const bool png = absl::StartsWith(*bytes, "\x89PNG\r\n\x1a\n");
  Reply reply =
      TextReply(200, png ? "image/png" : "application/octet-stream", std::move(*bytes), route);
  // Blob ids are content hashes, so the bytes never change.
  reply.headers.emplace_back("Cache-Control", "private, max-age=31536000, immutable");
  return reply;
}

Reply Gateway::ServeStatic(const Request& request) {
  const std::string route = "static";
  if (request.method != "GET" && request.method != "HEAD") {
    return WithRoute(
        ErrorReply(NotFound("ROUTE_NOT_FOUND",
                            absl::StrCat("no route for ", request.method, " ", request.path)),
                   request.request_id),
        route);
  }
  if (options_.web_root.empty()) {
    return WithRoute(ErrorReply(NotFound("FILE_NOT_FOUND",
                                         "the gateway serves no web "
                                         "application; set --web_root"),
                                request.request_id),
                     route);
  }
  absl::StatusOr<StaticFile> file = ResolveStaticPath(options_.web_root, request.path);
  if (!file.ok()) return WithRoute(ErrorReply(file.status(), request.request_id), route);

  std::error_code error;
  const auto size = std::filesystem::file_size(file->path, error);
  const auto modified = std::filesystem::last_write_time(file->path, error);
  const std::string etag = absl::StrCat(
      "\"", size, "-", absl::Hex(static_cast<uint64_t>(modified.time_since_epoch().count())), "\"");
  Reply reply;
  reply.route = route;
  reply.content_type = ContentTypeFor(file->path);
  reply.headers.emplace_back("ETag", etag);
  reply.headers.emplace_back("Cache-Control",
                             file->fallback ? "no-cache" : CacheControlFor(request.path));
  if (request.if_none_match == etag) {
    reply.status = 304;
    return reply;
  }
  std::ifstream in(file->path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return WithRoute(ErrorReply(Internal("FILE_READ_FAILED", "a static file could not be read"),
                                request.request_id),
                     route);
  }
  reply.body = content.str();
  return reply;
}

// ---------------------------------------------------------------------------------------
// Streaming routes

absl::StatusOr<identity::Principal> Gateway::AuthorizeStream(const Request& request,
                                                             absl::string_view role) {
  AILAB_ASSIGN_OR_RETURN(identity::Principal caller,
                         identity_->Authenticate(request.authorization, absl::Now()));
  if (!caller.HasRole(role)) {
    return RoleNotAllowed(request.path, {std::string(role)});
  }
  return caller;
}

Reply Gateway::Upload(const Request& request, const identity::Principal& caller,
                      const std::function<absl::StatusOr<size_t>(char*, size_t)>& read) {
  const std::string route = "/api/upload";
  const std::string dataset = QueryValue(request.query, "dataset");
  std::string file_name = QueryValue(request.query, "filename");
  auto fail = [&](const absl::Status& status) {
    Reply reply = WithRoute(ErrorReply(status, request.request_id), route);
    Audit(request, kUploadMethod, caller.user_id, dataset, reply.status);
    return reply;
  };
  if (dataset.empty() || file_name.empty()) {
    return fail(InvalidArgument("MISSING_QUERY_PARAMETER", "dataset",
                                "call /api/upload?dataset=datasets/{id}&filename=NAME"));
  }
  if (file_name.find('\0') != std::string::npos || dataset.find('\0') != std::string::npos) {
    return fail(InvalidArgument("NUL_CHARACTER", "filename",
                                "the file name or dataset has a NUL character (%00); remove it"));
  }
  auto channel = channels_.find("ingest");
  if (channel == channels_.end()) {
    return fail(Unavailable("SERVICE_NOT_CONFIGURED",
                            "no address is configured for the ingest service; set "
                            "--ingest_address"));
  }

  auto stub = ingest::v1::IngestService::NewStub(channel->second);
  grpc::ClientContext context;
  AddCallMetadata(context, request, caller);
  // Large files take longer than one API call; allow ten deadlines.
  rpc::SetTimeout(context, options_.rpc_timeout * 10);
  ingest::v1::UploadInstancesResponse response;
  auto writer = stub->UploadInstances(&context, &response);

  // One chunk is held back so that the last one can carry last_chunk.
  std::string pending;
  std::string buffer(kUploadChunkBytes, '\0');
  int64_t total = 0;
  bool first = true;
  bool stream_broken = false;
  absl::Status read_error;
  auto send = [&](std::string data, bool last) {
    ingest::v1::UploadInstancesRequest chunk;
    if (first) chunk.set_parent(dataset);
    chunk.set_file_name(file_name);
    *chunk.mutable_data() = std::move(data);
    chunk.set_last_chunk(last);
    first = false;
    if (!writer->Write(chunk)) stream_broken = true;
  };
  while (!stream_broken) {
    absl::StatusOr<size_t> got = read(buffer.data(), buffer.size());
    if (!got.ok()) {
      read_error = got.status();
      break;
    }
    if (*got == 0) break;
    total += static_cast<int64_t>(*got);
    if (total > options_.max_upload_bytes) {
      read_error = ResourceExhausted(
          "UPLOAD_TOO_LARGE",
          absl::StrCat("the upload is larger than --max_upload_bytes=", options_.max_upload_bytes));
      break;
    }
    if (!pending.empty()) send(std::move(pending), false);
    pending.assign(buffer.data(), *got);
  }
  if (!read_error.ok()) {
    context.TryCancel();
    writer->Finish();
    Reply reply = fail(read_error);
    if (absl::IsResourceExhausted(read_error)) reply.status = 413;
    return reply;
  }
  if (!stream_broken) send(std::move(pending), true);
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::UNKNOWN ||
      status.error_code() == grpc::StatusCode::INTERNAL) {
    // The stream broke on the ingest side, and gRPC's message for a crash or restart
    // ("Socket closed") does not help the user, so the error explains what to do.
    log::Logger("gateway")->error(
        "upload failed dataset={} bytes_read={} code={} error={} request_id={}", dataset, total,
        static_cast<int>(status.error_code()), status.error_message(), request.request_id);
    return fail(Unavailable(
        "UPLOAD_INTERRUPTED",
        absl::StrCat("the ingest service ended the upload after ", total, " bytes (",
                     PublicErrorMessage(status),
                     "), so the file may not be stored; send it again, which is safe because "
                     "an instance is stored once. If it fails again, give request id ",
                     request.request_id, " to the administrator"),
        {{"dataset", dataset}}));
  }
  if (!status.ok()) {
    if (PublicErrorMessage(status) != status.error_message()) {
      log::Logger("gateway")->warn("upload failed dataset={} code={} error={} request_id={}",
                                   dataset, CodeName(status.error_code()), status.error_message(),
                                   request.request_id);
    }
    Reply reply = TextReply(HttpStatusFor(status.error_code()), "application/json",
                            ErrorJsonFromStatus(status, request.request_id), route);
    Audit(request, kUploadMethod, caller.user_id, dataset, reply.status);
    return reply;
  }
  absl::StatusOr<std::string> json = PrintJson(response);
  if (!json.ok()) return fail(json.status());
  log::Logger("gateway")->info("upload done dataset={} bytes={} request_id={}", dataset, total,
                               request.request_id);
  Audit(request, kUploadMethod, caller.user_id, dataset, 200);
  return JsonReply(*json, route);
}

std::optional<Reply> Gateway::Watch(
    const Request& request, const identity::Principal& caller,
    const std::function<bool(absl::string_view)>& write,
    const std::function<void(std::function<void()>)>& on_client_gone) {
  const std::string route = "/api/events/trainingJobs/{id}";
  const std::string id = request.path.substr(sizeof(kEventsPrefix) - 1);
  if (id.empty() || id.size() > 128 || !std::all_of(id.begin(), id.end(), IsIdCharacter)) {
    return WithRoute(ErrorReply(InvalidArgument("INVALID_JOB_ID", "id",
                                                "a training job id has letters, digits, \"-\" "
                                                "and \"_\" only"),
                                request.request_id),
                     route);
  }
  auto channel = channels_.find("training");
  if (channel == channels_.end()) {
    return WithRoute(ErrorReply(Unavailable("SERVICE_NOT_CONFIGURED",
                                            "no address is configured for the training "
                                            "service; set --training_address"),
                                request.request_id),
                     route);
  }

  auto context = std::make_shared<grpc::ClientContext>();
  AddCallMetadata(*context, request, caller);
  {
    absl::MutexLock lock(&streams_mutex_);
    if (streams_cancelled_) context->TryCancel();
    streams_.insert(context);
  }
  auto forget = [&] {
    absl::MutexLock lock(&streams_mutex_);
    streams_.erase(context);
  };

  auto stub = training::v1::TrainingService::NewStub(channel->second);
  training::v1::WatchTrainingJobRequest watch;
  watch.set_name(absl::StrCat("trainingJobs/", id));
  auto reader = stub->WatchTrainingJob(context.get(), watch);

  training::v1::TrainingJob job;
  if (!reader->Read(&job)) {
    grpc::Status status = reader->Finish();
    forget();
    if (PublicErrorMessage(status) != status.error_message()) {
      log::Logger("gateway")->warn(
          "watch failed job=trainingJobs/{} code={} error={} request_id={}", id,
          CodeName(status.error_code()), status.error_message(), request.request_id);
    }
    Reply reply =
        TextReply(status.ok() ? 404 : HttpStatusFor(status.error_code()), "application/json",
                  ErrorJsonFromStatus(status, request.request_id), route);
    return reply;
  }

  // The stream has no length, so the connection closes after it.
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Connection: close\r\n";
  for (const auto& [header, value] : SecurityHeaders()) {
    absl::StrAppend(&head, header, ": ", value, "\r\n");
  }
  absl::StrAppend(&head, "X-Request-Id: ", request.request_id, "\r\n\r\n");
  bool open = write(head);
  on_client_gone([context] { context->TryCancel(); });
  int events = 0;
  while (open) {
    absl::StatusOr<std::string> json = PrintJson(job);
    if (!json.ok()) break;
    open = write(absl::StrCat("data: ", *json, "\n\n"));
    ++events;
    if (!open || !reader->Read(&job)) break;
  }
  if (!open) context->TryCancel();
  grpc::Status status = reader->Finish();
  forget();
  log::Logger("gateway")->info("watch ended job=trainingJobs/{} events={} code={} request_id={}",
                               id, events, CodeName(status.error_code()), request.request_id);
  return std::nullopt;
}

void Gateway::CancelStreams() {
  absl::MutexLock lock(&streams_mutex_);
  streams_cancelled_ = true;
  for (const auto& context : streams_) context->TryCancel();
}

}  // namespace ailab::gateway
