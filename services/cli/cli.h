// The `ailab` command-line client: a gRPC client of every service, for people,
// scripts and pipelines.
//
//   ailab <group> <command> [--key=value | --key value | --flag] ...
//
// Each area registers its commands from its own file (commands_<area>.cc) with
// AILAB_CLI_COMMAND. A command prints its result on standard output (JSON where a
// program reads it) and returns a process exit code; errors go to standard error as
// "error: <message>" and exit 1 (2 for a usage error).
#pragma once

#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"

namespace ailab::cli {

// Parsed arguments of one command.
class Args {
 public:
  Args(std::map<std::string, std::vector<std::string>> options,
       std::vector<std::string> positional)
      : options_(std::move(options)), positional_(std::move(positional)) {}

  // Returns true when --key was given.
  bool Has(absl::string_view key) const;
  // Returns the last value of --key, or `fallback`.
  std::string Get(absl::string_view key, absl::string_view fallback = "") const;
  // Returns every value of a repeated --key.
  std::vector<std::string> GetAll(absl::string_view key) const;
  // Returns the value of a required --key, or INVALID_ARGUMENT naming it.
  absl::StatusOr<std::string> Require(absl::string_view key) const;
  // Returns --key as an integer or a double, or INVALID_ARGUMENT naming it.
  absl::StatusOr<int64_t> GetInt(absl::string_view key, int64_t fallback) const;
  absl::StatusOr<double> GetDouble(absl::string_view key, double fallback) const;
  // Positional arguments after the command name.
  const std::vector<std::string>& positional() const { return positional_; }
  // Names of the options given, without the leading "--".
  std::vector<std::string> OptionNames() const;

 private:
  std::map<std::string, std::vector<std::string>> options_;
  std::vector<std::string> positional_;
};

// Parses `--key=value`, `--key value` and bare `--flag` (value "true") options.
Args ParseArgs(const std::vector<std::string>& words);

struct Command;

// Returns INVALID_ARGUMENT naming the first option in `args` that `command` does not
// take: those in its usage text and every --<service>_address. A mistyped or unknown
// option thus stops the command before it changes anything.
absl::Status CheckOptions(const Command& command, const Args& args);

// One registered command.
struct Command {
  std::string group;    // for example "catalog"
  std::string name;     // for example "list"
  std::string summary;  // one line for `ailab help`
  std::string usage;    // options, for `ailab help <group> <command>`
  std::function<absl::Status(const Args&)> run;
};

// Registers `command`; called from static initialisers through AILAB_CLI_COMMAND.
bool RegisterCommand(Command command);

// Returns every registered command, sorted by group and name.
std::vector<Command> Commands();

// Prints `message` as indented JSON on standard output, ending with a newline.
// `options` may ask for default-valued fields or proto field names; indentation is
// always on.
absl::Status PrintJson(const google::protobuf::Message& message,
                       google::protobuf::util::JsonPrintOptions options = {});

// Address of a service from --<service>_address, AILAB_<SERVICE>_ADDRESS or the
// default port on 127.0.0.1 (see docs/development.md).
std::string ServiceAddress(const Args& args, absl::string_view service);

// Returns --user, else $AILAB_USER, else nullopt.
std::optional<std::string> OptionalUser(const Args& args);

// Returns OptionalUser(), or INVALID_ARGUMENT asking for --user as the id of `who`
// (for example "the user who owns the job").
absl::StatusOr<std::string> RequireUser(const Args& args, absl::string_view who);

// Roles the CLI claims for --user in a signed identity: every role but administrator.
inline const std::vector<std::string>& CliRoles() {
  static const auto* roles = new std::vector<std::string>{
      rpc::kRoleRadiologist, rpc::kRoleParticipant, rpc::kRoleDataManager, rpc::kRoleReviewer};
  return *roles;
}

// How long a signed identity from the CLI stays valid.
inline constexpr absl::Duration kCliIdentityLifetime = absl::Minutes(5);

// Adds the platform's internal token from $AILAB_INTERNAL_TOKEN, when it is set. A
// service with a token rejects calls that carry neither it nor a signed identity.
inline void AddPlatformToken(grpc::ClientContext& context) {
  const char* token = std::getenv("AILAB_INTERNAL_TOKEN");
  if (token != nullptr && *token != '\0') context.AddMetadata(rpc::kInternalTokenKey, token);
}

// Adds who a call acts for. With a `user` and the platform's internal token in
// $AILAB_INTERNAL_TOKEN, the call carries x-ailab-identity signed with that token and
// the token itself. The identity names the user with CliRoles() and is valid for
// kCliIdentityLifetime. With a `user` but no token, the call carries the unsigned
// x-ailab-user. With no user, it carries the token alone (AddPlatformToken).
inline void AddCallerMetadata(grpc::ClientContext& context, const std::string& user) {
  if (user.empty()) {
    AddPlatformToken(context);
    return;
  }
  const char* token = std::getenv("AILAB_INTERNAL_TOKEN");
  if (token == nullptr || *token == '\0') {
    context.AddMetadata(rpc::kUserKey, user);
    return;
  }
  rpc::Identity identity;
  identity.user = user;
  identity.roles = CliRoles();
  identity.expires = absl::Now() + kCliIdentityLifetime;
  context.AddMetadata(rpc::kIdentityKey, rpc::SignIdentity(identity, token));
  context.AddMetadata(rpc::kInternalTokenKey, token);
}

// Calls the unary `method` on `stub` with a deadline of `timeout`, acting as `user`
// (see AddCallerMetadata) when it is not empty, and returns the response or the error.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> CallUnary(Stub& stub,
                                   grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                                const Request&, Response*),
                                   const Request& request, absl::Duration timeout,
                                   const std::string& user = "") {
  grpc::ClientContext context;
  rpc::SetTimeout(context, timeout);
  AddCallerMetadata(context, user);
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return rpc::FromGrpcStatus(status);
  return response;
}

}  // namespace ailab::cli

#define AILAB_CLI_CONCAT_INNER(a, b) a##b
#define AILAB_CLI_CONCAT(a, b) AILAB_CLI_CONCAT_INNER(a, b)

// Registers a command at static initialisation:
//   AILAB_CLI_COMMAND({"catalog", "list", "List use cases", "[--filter=...]", &ListUseCases});
#define AILAB_CLI_COMMAND(...)                                          \
  static const bool AILAB_CLI_CONCAT(ailab_cli_registered_, __LINE__) = \
      ::ailab::cli::RegisterCommand(::ailab::cli::Command __VA_ARGS__)
