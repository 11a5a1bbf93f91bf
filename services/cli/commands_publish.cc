// `ailab publish ...`: publishing destinations and model publications through the
// evaluation service (ailab.evaluation.v1.PublishingService).
//
// Results print as protobuf JSON. --user, or the AILAB_USER environment variable, is
// sent as the caller; creating a destination needs an administrator. An HTTP
// destination's token is read from --token_file or the AILAB_DESTINATION_TOKEN
// environment variable, never from the command line, where other users of the
// machine could see it.
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ailab/evaluation/v1/publishing.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "cli.h"

namespace ailab::cli {
namespace {

using ::ailab::evaluation::v1::PublishingService;
namespace v1 = ::ailab::evaluation::v1;

constexpr absl::Duration kCallTimeout = absl::Minutes(2);
// Maximum wait of `publish model --wait`.
constexpr absl::Duration kMaxWait = absl::Hours(1);

// Calls one method of the publishing service, as the user of User() when set.
template <typename Request, typename Response>
absl::StatusOr<Response> Call(const Args& args,
                              grpc::Status (PublishingService::Stub::*method)(grpc::ClientContext*,
                                                                              const Request&,
                                                                              Response*),
                              const Request& request) {
  auto stub = PublishingService::NewStub(rpc::Connect(ServiceAddress(args, "evaluation")));
  return CallUnary(*stub, method, request, kCallTimeout, OptionalUser(args).value_or(""));
}

// Returns the whole file at `path`.
absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument("UNREADABLE_FILE", option,
                           absl::StrCat("--", option, " \"", path, "\" cannot be read"),
                           {{"path", path}});
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

absl::StatusOr<int32_t> PageSize(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  return static_cast<int32_t>(page_size);
}

absl::Status CreateDestination(const Args& args) {
  v1::CreateDestinationRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string display_name, args.Require("display_name"));
  request.mutable_destination()->set_display_name(display_name);
  request.set_destination_id(args.Get("id"));
  if (args.Has("folder") == args.Has("url")) {
    return InvalidArgument("MISSING_OPTION", "folder",
                           "pass exactly one of --folder PATH and --url http://HOST/PATH");
  }
  if (args.Has("folder")) {
    request.mutable_destination()->mutable_folder()->set_path(args.Get("folder"));
  } else {
    v1::Destination::Http* http = request.mutable_destination()->mutable_http();
    http->set_url(args.Get("url"));
    if (args.Has("token_file")) {
      AILAB_ASSIGN_OR_RETURN(std::string token, ReadFile(args.Get("token_file"), "token_file"));
      http->set_token(std::string(absl::StripAsciiWhitespace(token)));
    } else if (const char* token = std::getenv("AILAB_DESTINATION_TOKEN"); token != nullptr) {
      http->set_token(token);
    }
  }
  AILAB_ASSIGN_OR_RETURN(v1::Destination created,
                         Call(args, &PublishingService::Stub::CreateDestination, request));
  return PrintJson(created);
}

absl::Status GetDestination(const Args& args) {
  v1::GetDestinationRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string name, args.Require("destination"));
  request.set_name(name);
  AILAB_ASSIGN_OR_RETURN(v1::Destination destination,
                         Call(args, &PublishingService::Stub::GetDestination, request));
  return PrintJson(destination);
}

absl::Status ListDestinations(const Args& args) {
  v1::ListDestinationsRequest request;
  AILAB_ASSIGN_OR_RETURN(int32_t page_size, PageSize(args));
  request.set_page_size(page_size);
  request.set_page_token(args.Get("page_token"));
  AILAB_ASSIGN_OR_RETURN(v1::ListDestinationsResponse response,
                         Call(args, &PublishingService::Stub::ListDestinations, request));
  return PrintJson(response);
}

absl::Status PublishModel(const Args& args) {
  v1::PublishModelRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string model, args.Require("model"));
  AILAB_ASSIGN_OR_RETURN(std::string destination, args.Require("destination"));
  request.set_model(model);
  request.set_destination(destination);
  if (args.Has("assist_module")) {
    AILAB_ASSIGN_OR_RETURN(std::string xml, ReadFile(args.Get("assist_module"), "assist_module"));
    request.set_assist_module(xml);
  }
  AILAB_ASSIGN_OR_RETURN(v1::Publication publication,
                         Call(args, &PublishingService::Stub::PublishModel, request));

  // With --wait, polls until the publication has succeeded or failed.
  const absl::Time deadline = absl::Now() + kMaxWait;
  while (args.Has("wait") && publication.state() == v1::Publication::PUBLISHING &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Seconds(1));
    v1::GetPublicationRequest get;
    get.set_name(publication.name());
    AILAB_ASSIGN_OR_RETURN(publication, Call(args, &PublishingService::Stub::GetPublication, get));
  }
  AILAB_RETURN_IF_ERROR(PrintJson(publication));
  if (args.Has("wait") && publication.state() == v1::Publication::FAILED) {
    return FailedPrecondition("PUBLICATION_FAILED",
                              absl::StrCat("publication ", publication.name(),
                                           " failed: ", publication.error().message()));
  }
  return absl::OkStatus();
}

absl::Status GetPublication(const Args& args) {
  v1::GetPublicationRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string name, args.Require("publication"));
  request.set_name(name);
  AILAB_ASSIGN_OR_RETURN(v1::Publication publication,
                         Call(args, &PublishingService::Stub::GetPublication, request));
  return PrintJson(publication);
}

absl::Status History(const Args& args) {
  v1::ListPublicationsRequest request;
  request.set_model(args.Get("model"));
  request.set_destination(args.Get("destination"));
  AILAB_ASSIGN_OR_RETURN(int32_t page_size, PageSize(args));
  request.set_page_size(page_size);
  request.set_page_token(args.Get("page_token"));
  AILAB_ASSIGN_OR_RETURN(v1::ListPublicationsResponse response,
                         Call(args, &PublishingService::Stub::ListPublications, request));
  return PrintJson(response);
}

}  // namespace

AILAB_CLI_COMMAND({"publish", "destination-create",
                   "Create a publishing destination (administrators only)",
                   "--display_name TEXT (--folder ABSOLUTE_PATH | --url http://HOST[:PORT]/PATH "
                   "[--token_file FILE]) [--id ID] [--user USER]; without --token_file the "
                   "token is read from $AILAB_DESTINATION_TOKEN",
                   &CreateDestination});
AILAB_CLI_COMMAND({"publish", "destination-get", "Show a destination (never its token)",
                   "--destination destinations/ID", &GetDestination});
AILAB_CLI_COMMAND({"publish", "destination-list", "List destinations, newest first",
                   "[--page_size N] [--page_token TOKEN]", &ListDestinations});
AILAB_CLI_COMMAND({"publish", "model",
                   "Publish a model's package (TorchScript, model card, manifest) to a destination",
                   "--model models/ID --destination destinations/ID [--assist_module FILE.xml] "
                   "[--wait] [--user USER]",
                   &PublishModel});
AILAB_CLI_COMMAND({"publish", "get", "Show a publication with its attempts",
                   "--publication publications/ID", &GetPublication});
AILAB_CLI_COMMAND({"publish", "history", "List publications, newest first",
                   "[--model models/ID] [--destination destinations/ID] [--page_size N] "
                   "[--page_token TOKEN]",
                   &History});

}  // namespace ailab::cli
