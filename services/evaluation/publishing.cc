#include "services/evaluation/publishing.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/status/text.h"
#include "google/protobuf/util/time_util.h"
#include "services/evaluation/common.h"
#include "services/evaluation/delivery.h"
#include "services/evaluation/http_client.h"

namespace ailab::evaluation {
namespace {

using ::google::protobuf::util::TimeUtil;

// Largest Assist module accepted, in bytes.
constexpr size_t kMaxAssistModuleBytes = 1 << 20;
constexpr size_t kMaxTokenLength = 4096;
constexpr size_t kMaxPathLength = 4096;

std::shared_ptr<spdlog::logger> Log() { return log::Logger("publishing"); }

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status proto;
  proto.set_code(static_cast<int>(status.code()));
  proto.set_message(std::string(status.message()));
  return proto;
}

std::string LastPart(const std::string& name) { return name.substr(name.rfind('/') + 1); }

absl::Status CheckFolderPath(const std::string& path) {
  if (path.empty()) {
    return InvalidArgument("MISSING_FIELD", "destination.folder.path",
                           "destination.folder.path is required: an absolute folder path");
  }
  if (path.size() > kMaxPathLength || path[0] != '/' || absl::StrContains(path, "/../") ||
      absl::EndsWith(path, "/..") || absl::StrContains(path, '\0')) {
    return InvalidArgument("INVALID_FOLDER_PATH", "destination.folder.path",
                           absl::StrCat("destination.folder.path \"", path,
                                        "\" is not an absolute path without \"..\"; pass a path "
                                        "such as /srv/models"),
                           {{"path", path}});
  }
  return absl::OkStatus();
}

absl::Status CheckToken(const std::string& token) {
  bool printable = token.size() <= kMaxTokenLength;
  for (char c : token) {
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) printable = false;
  }
  if (printable) return absl::OkStatus();
  // The token itself is never repeated in a message.
  const std::string length = absl::StrCat(token.size());
  return InvalidArgument("INVALID_TOKEN", "destination.http.token",
                         absl::StrCat("destination.http.token must be 1 to ", kMaxTokenLength,
                                      " visible ASCII characters without spaces"),
                         {{"length", length}});
}

// Copy of `destination` safe to return: no token, token_set kept.
v1::Destination ForResponse(v1::Destination destination) {
  if (destination.has_http()) destination.mutable_http()->clear_token();
  return destination;
}

}  // namespace

PublishingServiceImpl::PublishingServiceImpl(PublishingStore* store, Backends* backends,
                                             PublishingOptions options)
    : store_(store), backends_(backends), options_(std::move(options)) {
  absl::StatusOr<int> failed = store_->FailPublishing(
      "the evaluation service restarted while this package was being published; publish the "
      "model to the destination again to resume");
  if (!failed.ok()) {
    Log()->error("marking interrupted publications failed error={}",
                 std::string(failed.status().message()));
  } else if (*failed > 0) {
    Log()->warn("interrupted publications marked failed count={}", *failed);
  }
  publisher_ = std::thread([this] { RunPublisher(); });
}

PublishingServiceImpl::~PublishingServiceImpl() { Shutdown(); }

void PublishingServiceImpl::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  queue_changed_.notify_all();
  if (publisher_.joinable()) publisher_.join();
}

absl::StatusOr<v1::Destination> PublishingServiceImpl::DoCreateDestination(
    const v1::CreateDestinationRequest& request, const std::optional<std::string>& caller) {
  if (caller && options_.administrators.count(*caller) == 0) {
    return PermissionDenied(
        "NOT_AN_ADMINISTRATOR",
        absl::StrCat("user \"", *caller,
                     "\" may not create destinations; ask an administrator, or the operator to "
                     "add the user id to the evaluation service's --administrators"),
        {{"user", *caller}});
  }
  const v1::Destination& input = request.destination();
  AILAB_RETURN_IF_ERROR(CheckResourceId(request.destination_id(), "destination_id"));
  if (input.display_name().empty()) {
    return InvalidArgument("MISSING_FIELD", "destination.display_name",
                           "destination.display_name is required");
  }
  AILAB_RETURN_IF_ERROR(CheckLength(input.display_name(), 200, "destination.display_name"));
  AILAB_RETURN_IF_ERROR(CheckDisplayText("destination.display_name", input.display_name()));

  v1::Destination destination;
  std::string token;
  switch (input.target_case()) {
    case v1::Destination::kFolder:
      AILAB_RETURN_IF_ERROR(CheckFolderPath(input.folder().path()));
      destination.mutable_folder()->set_path(input.folder().path());
      break;
    case v1::Destination::kHttp:
      AILAB_RETURN_IF_ERROR(ParseHttpUrl(input.http().url(), "destination.http.url").status());
      if (!input.http().token().empty()) AILAB_RETURN_IF_ERROR(CheckToken(input.http().token()));
      destination.mutable_http()->set_url(input.http().url());
      destination.mutable_http()->set_token_set(!input.http().token().empty());
      token = input.http().token();
      break;
    default:
      return InvalidArgument("MISSING_TARGET", "destination.target",
                             "destination needs a target: set destination.folder or "
                             "destination.http");
  }
  const std::string id = request.destination_id().empty() ? NewId("d") : request.destination_id();
  destination.set_name(absl::StrCat("destinations/", id));
  destination.set_display_name(input.display_name());
  destination.set_creator(caller.value_or(""));
  *destination.mutable_create_time() = ToTimestamp(options_.clock());
  absl::Status inserted = store_->InsertDestination(destination, token);
  if (inserted.code() == absl::StatusCode::kAlreadyExists) {
    return AlreadyExists("DESTINATION_EXISTS",
                         absl::StrCat("destination \"", destination.name(),
                                      "\" already exists; choose another destination_id"),
                         {{"destination", destination.name()}});
  }
  AILAB_RETURN_IF_ERROR(inserted);
  Log()->info("destination created destination={} kind={} token_set={}", destination.name(),
              destination.has_folder() ? "FOLDER" : "HTTP", !token.empty());
  return ForResponse(destination);
}

absl::StatusOr<v1::Destination> PublishingServiceImpl::DoGetDestination(
    const v1::GetDestinationRequest& request) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseName(request.name(), "destinations", "name"));
  AILAB_ASSIGN_OR_RETURN(StoredDestination stored, store_->GetDestination(id));
  return ForResponse(stored.destination);
}

absl::StatusOr<v1::ListDestinationsResponse> PublishingServiceImpl::DoListDestinations(
    const v1::ListDestinationsRequest& request) {
  AILAB_ASSIGN_OR_RETURN(int limit, pg::ResolvePageSize(request.page_size()));
  AILAB_ASSIGN_OR_RETURN(int64_t offset, pg::DecodePageToken(request.page_token()));
  AILAB_ASSIGN_OR_RETURN(Page<v1::Destination> page, store_->ListDestinations(offset, limit));
  v1::ListDestinationsResponse response;
  for (v1::Destination& destination : page.items) {
    *response.add_destinations() = ForResponse(std::move(destination));
  }
  if (page.has_more) response.set_next_page_token(pg::EncodePageToken(offset + limit));
  return response;
}

absl::StatusOr<v1::Publication> PublishingServiceImpl::DoPublishModel(
    const v1::PublishModelRequest& request, const std::optional<std::string>& caller) {
  AILAB_ASSIGN_OR_RETURN(std::string model_id, ParseName(request.model(), "models", "model"));
  AILAB_ASSIGN_OR_RETURN(std::string destination_id,
                         ParseName(request.destination(), "destinations", "destination"));
  if (request.assist_module().size() > kMaxAssistModuleBytes) {
    const std::string size = absl::StrCat(request.assist_module().size());
    return InvalidArgument("ASSIST_MODULE_TOO_LARGE", "assist_module",
                           absl::StrCat("assist_module has ", request.assist_module().size(),
                                        " bytes; at most ", kMaxAssistModuleBytes, " are allowed"),
                           {{"size", size}});
  }
  if (!request.assist_module().empty() && request.assist_module().find('<') == std::string::npos) {
    return InvalidArgument("INVALID_ASSIST_MODULE", "assist_module",
                           "assist_module is not XML; pass the module's XML text or leave it "
                           "empty");
  }
  AILAB_ASSIGN_OR_RETURN(StoredDestination destination, store_->GetDestination(destination_id));
  AILAB_ASSIGN_OR_RETURN(ModelArtifacts artifacts, backends_->GetModelArtifacts(request.model()));
  std::optional<std::string> assist_module;
  if (!request.assist_module().empty()) assist_module = request.assist_module();
  auto package = std::make_shared<const ModelPackage>(
      BuildPackage(request.model(), artifacts.info.use_case, std::move(artifacts.torchscript),
                   std::move(artifacts.model_card), std::move(assist_module)));

  const absl::Time now = options_.clock();
  v1::Publication candidate;
  candidate.set_name(absl::StrCat("publications/", NewId("p")));
  candidate.set_model(request.model());
  candidate.set_destination(request.destination());
  candidate.set_state(v1::Publication::PUBLISHING);
  *candidate.mutable_manifest() = package->manifest;
  candidate.set_publisher(caller.value_or(""));
  *candidate.mutable_create_time() = ToTimestamp(now);
  *candidate.mutable_update_time() = ToTimestamp(now);
  candidate.set_request_count(1);

  std::lock_guard<std::mutex> publish_lock(publish_mutex_);
  bool restarted = false;
  bool inserted = false;
  AILAB_ASSIGN_OR_RETURN(v1::Publication publication,
                         store_->InsertOrUpdatePublication(
                             candidate,
                             [&](v1::Publication& existing) {
                               existing.set_request_count(existing.request_count() + 1);
                               if (existing.state() == v1::Publication::FAILED) {
                                 existing.set_state(v1::Publication::PUBLISHING);
                                 existing.clear_error();
                                 *existing.mutable_update_time() = ToTimestamp(now);
                                 restarted = true;
                               }
                               return absl::OkStatus();
                             },
                             &inserted));
  if (inserted || restarted) {
    Job job;
    job.publication_id = LastPart(publication.name());
    job.destination = std::move(destination);
    job.model_id = model_id;
    job.package = package;
    Enqueue(std::move(job), absl::Now());
  }
  Log()->info(
      "publish requested publication={} model={} destination={} package_sha256={} "
      "outcome={}",
      publication.name(), request.model(), request.destination(),
      package->manifest.package_sha256(),
      inserted ? "new" : (restarted ? "restarted" : "existing"));
  return publication;
}

void PublishingServiceImpl::Enqueue(Job job, absl::Time due) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.emplace(due, std::move(job));
  }
  queue_changed_.notify_all();
}

void PublishingServiceImpl::RunPublisher() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      while (true) {
        if (stopping_) return;
        if (queue_.empty()) {
          queue_changed_.wait(lock);
          continue;
        }
        const absl::Time due = queue_.begin()->first;
        const absl::Time now = absl::Now();
        if (due <= now) break;
        queue_changed_.wait_for(lock, absl::ToChronoNanoseconds(due - now));
      }
      job = std::move(queue_.begin()->second);
      queue_.erase(queue_.begin());
    }
    std::optional<absl::Duration> retry_after = Attempt(job);
    if (retry_after) {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.emplace(absl::Now() + *retry_after, std::move(job));
    }
  }
}

std::optional<absl::Duration> PublishingServiceImpl::Attempt(Job& job) {
  const std::string name = absl::StrCat("publications/", job.publication_id);
  ++job.attempts_in_run;
  v1::PublicationAttempt attempt;
  *attempt.mutable_start_time() = ToTimestamp(options_.clock());
  DeliveryResult result;
  const v1::Destination& destination = job.destination.destination;
  if (destination.has_folder()) {
    result = DeliverToFolder(destination.folder().path(), job.model_id, *job.package);
  } else {
    result = DeliverToHttp(destination.http().url(), job.destination.token, *job.package,
                           options_.http_timeout);
  }
  *attempt.mutable_end_time() = ToTimestamp(options_.clock());
  attempt.set_http_status(result.http_status);
  if (!result.status.ok()) *attempt.mutable_error() = ToRpcStatus(result.status);

  const bool retry =
      !result.status.ok() && result.retryable && job.attempts_in_run < options_.max_attempts;
  absl::Duration backoff = options_.initial_backoff;
  for (int i = 1; i < job.attempts_in_run && backoff < options_.max_backoff; ++i) backoff *= 2;
  backoff = std::min(backoff, options_.max_backoff);

  std::lock_guard<std::mutex> publish_lock(publish_mutex_);
  absl::StatusOr<v1::Publication> stored =
      store_->UpdatePublication(job.publication_id, [&](v1::Publication& publication) {
        attempt.set_number(publication.attempt_count() + 1);
        publication.set_attempt_count(attempt.number());
        *publication.add_attempts() = attempt;
        publication.set_location(result.location);
        *publication.mutable_update_time() = attempt.end_time();
        if (result.status.ok()) {
          publication.set_state(v1::Publication::SUCCEEDED);
          publication.clear_error();
        } else if (!retry) {
          publication.set_state(v1::Publication::FAILED);
          *publication.mutable_error() = ToRpcStatus(result.status);
        }
        return absl::OkStatus();
      });
  if (!stored.ok()) {
    Log()->error("storing publication attempt failed publication={} error={}", name,
                 std::string(stored.status().message()));
  }
  if (result.status.ok()) {
    Log()->info("publication delivered publication={} attempt={} location={}", name,
                attempt.number(), result.location);
  } else if (retry) {
    Log()->warn(
        "publication attempt failed, retrying publication={} attempt={} retry_in={} "
        "error={}",
        name, attempt.number(), absl::FormatDuration(backoff),
        std::string(result.status.message()));
    return backoff;
  } else {
    Log()->error("publication failed publication={} attempt={} error={}", name, attempt.number(),
                 std::string(result.status.message()));
  }
  return std::nullopt;
}

absl::StatusOr<v1::Publication> PublishingServiceImpl::DoGetPublication(
    const v1::GetPublicationRequest& request) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseName(request.name(), "publications", "name"));
  return store_->GetPublication(id);
}

absl::StatusOr<v1::ListPublicationsResponse> PublishingServiceImpl::DoListPublications(
    const v1::ListPublicationsRequest& request) {
  if (!request.model().empty())
    AILAB_RETURN_IF_ERROR(CheckName(request.model(), "models", "model"));
  if (!request.destination().empty()) {
    AILAB_RETURN_IF_ERROR(CheckName(request.destination(), "destinations", "destination"));
  }
  AILAB_ASSIGN_OR_RETURN(int limit, pg::ResolvePageSize(request.page_size()));
  AILAB_ASSIGN_OR_RETURN(int64_t offset, pg::DecodePageToken(request.page_token()));
  AILAB_ASSIGN_OR_RETURN(
      Page<v1::Publication> page,
      store_->ListPublications(request.model(), request.destination(), offset, limit));
  v1::ListPublicationsResponse response;
  for (v1::Publication& publication : page.items) {
    *response.add_publications() = std::move(publication);
  }
  if (page.has_more) response.set_next_page_token(pg::EncodePageToken(offset + limit));
  return response;
}

// gRPC handlers: the Do* logic with errors logged and converted.

namespace {

template <typename Response>
grpc::Status Finish(absl::string_view method, absl::StatusOr<Response> result, Response* response) {
  if (!result.ok()) {
    Log()->warn("{} failed reason={} error={}", std::string(method),
                GetErrorReason(result.status()), std::string(result.status().message()));
    return rpc::ToGrpcStatus(result.status());
  }
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status PublishingServiceImpl::CreateDestination(grpc::ServerContext* context,
                                                      const v1::CreateDestinationRequest* request,
                                                      v1::Destination* response) {
  // A signed-in administrator may create destinations without being in --administrators.
  absl::StatusOr<std::optional<std::string>> caller = ResolveCallerUnlessAdministrator(context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Finish("CreateDestination", DoCreateDestination(*request, *caller), response);
}

grpc::Status PublishingServiceImpl::GetDestination(grpc::ServerContext* context,
                                                   const v1::GetDestinationRequest* request,
                                                   v1::Destination* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Finish("GetDestination", DoGetDestination(*request), response);
}

grpc::Status PublishingServiceImpl::ListDestinations(grpc::ServerContext* context,
                                                     const v1::ListDestinationsRequest* request,
                                                     v1::ListDestinationsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Finish("ListDestinations", DoListDestinations(*request), response);
}

grpc::Status PublishingServiceImpl::PublishModel(grpc::ServerContext* context,
                                                 const v1::PublishModelRequest* request,
                                                 v1::Publication* response) {
  absl::StatusOr<std::optional<std::string>> caller = ResolveCaller(context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Finish("PublishModel", DoPublishModel(*request, *caller), response);
}

grpc::Status PublishingServiceImpl::GetPublication(grpc::ServerContext* context,
                                                   const v1::GetPublicationRequest* request,
                                                   v1::Publication* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Finish("GetPublication", DoGetPublication(*request), response);
}

grpc::Status PublishingServiceImpl::ListPublications(grpc::ServerContext* context,
                                                     const v1::ListPublicationsRequest* request,
                                                     v1::ListPublicationsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Finish("ListPublications", DoListPublications(*request), response);
}

}  // namespace ailab::evaluation
