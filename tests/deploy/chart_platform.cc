#include "chart_platform.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "ailab/status/status.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

extern char** environ;

namespace ailab::testing {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

constexpr char kToolMissingReason[] = "DEPLOY_TOOLS_MISSING";


std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

std::string StringField(const Struct& object, const std::string& key) {
  auto it = object.fields().find(key);
  return it == object.fields().end() ? "" : it->second.string_value();
}

std::vector<std::string> StringList(const Struct& object, const std::string& key) {
  std::vector<std::string> result;
  auto it = object.fields().find(key);
  if (it == object.fields().end()) return result;
  for (const Value& value : it->second.list_value().values()) {
    result.push_back(value.string_value());
  }
  return result;
}

// Replaces user, host, port and database of a libpq URL with those of `scratch_url`,
// keeping the parameters of `chart_url` (sslmode and others).
std::string ReplaceDatabase(const std::string& chart_url, const std::string& scratch_url) {
  size_t chart_query = chart_url.find('?');
  if (chart_query == std::string::npos) return scratch_url;
  std::string parameters = chart_url.substr(chart_query + 1);
  return absl::StrCat(scratch_url, absl::StrContains(scratch_url, "?") ? "&" : "?", parameters);
}

// Returns a TCP port that is free on 127.0.0.1 now (bound to port 0, then released).
absl::StatusOr<int> FreeLoopbackPort() {
  int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bool ok = socket_fd >= 0 &&
            bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
            getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  std::string error = std::strerror(errno);
  if (socket_fd >= 0) close(socket_fd);
  if (!ok) return Internal("NO_FREE_PORT", absl::StrCat("could not find a free port: ", error));
  return static_cast<int>(ntohs(address.sin_port));
}

// Removes the AILAB_* settings of the shell that runs the tests, so that only the
// chart's configuration reaches the services. The fixtures' own variables stay.
void ClearShellSettings() {
  std::vector<std::string> names;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string variable(*entry);
    std::string name = variable.substr(0, variable.find('='));
    if (!absl::StartsWith(name, "AILAB_")) continue;
    if (absl::StartsWith(name, "AILAB_TEST_") || absl::StartsWith(name, "AILAB_DEPLOY_") ||
        name == "AILAB_SOURCE_DIR" || name == "AILAB_BINARY_DIR") {
      continue;
    }
    names.push_back(name);
  }
  for (const std::string& name : names) unsetenv(name.c_str());
}

}  // namespace

bool IsToolMissing(const absl::Status& status) {
  return GetErrorReason(status) == kToolMissingReason;
}

absl::StatusOr<HttpResult> HttpRequest(const std::string& method, const std::string& url,
                                       const std::string& body,
                                       const std::string& bearer_token) {
  TempDir dir;
  const std::string body_path = dir.path() + "/body";
  const std::string request_path = dir.path() + "/request";
  std::vector<std::string> command = {"curl", "--silent", "--show-error", "--max-time", "60",
                                      "--request", method, "--output", body_path,
                                      "--write-out", "%{http_code}"};
  if (!body.empty()) {
    // From a file, so that passwords in the body stay out of the process list.
    std::ofstream(request_path, std::ios::binary) << body;
    command.insert(command.end(), {"--header", "Content-Type: application/json",
                                   "--data-binary", "@" + request_path});
  }
  if (!bearer_token.empty()) {
    command.insert(command.end(), {"--header", "Authorization: Bearer " + bearer_token});
  }
  command.push_back(url);
  AILAB_ASSIGN_OR_RETURN(CommandResult finished, RunCommand(command));
  HttpResult result;
  result.body = ReadFile(body_path);
  // With --write-out the output ends in the three-digit status ("000": no response),
  // after any error message of curl.
  const std::string& output = finished.output;
  if (output.size() >= 3) {
    int status = 0;
    if (absl::SimpleAtoi(output.substr(output.size() - 3), &status)) result.status = status;
  }
  if (finished.exit_code != 0) result.error = output;
  return result;
}

absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& argv,
    const std::vector<std::pair<std::string, std::string>>& env) {
  TempDir dir;
  const std::string output_path = dir.path() + "/output";

  std::vector<std::string> argv_storage = argv;
  std::vector<char*> argv_pointers;
  for (std::string& arg : argv_storage) argv_pointers.push_back(arg.data());
  argv_pointers.push_back(nullptr);

  std::vector<std::string> env_storage;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string variable(*entry);
    std::string name = variable.substr(0, variable.find('='));
    bool replaced = false;
    for (const auto& [key, value] : env) replaced = replaced || key == name;
    if (!replaced) env_storage.push_back(variable);
  }
  for (const auto& [key, value] : env) env_storage.push_back(absl::StrCat(key, "=", value));
  std::vector<char*> env_pointers;
  for (std::string& variable : env_storage) env_pointers.push_back(variable.data());
  env_pointers.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  int error = posix_spawnp(&pid, argv_pointers[0], &actions, nullptr, argv_pointers.data(),
                           env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return Internal("COMMAND_NOT_STARTED",
                    absl::StrCat("could not start ", argv[0], ": ", std::strerror(error)),
                    {{"command", argv[0]}});
  }
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  CommandResult result;
  result.exit_code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
  result.output = ReadFile(output_path);
  return result;
}

absl::StatusOr<std::unique_ptr<ChartPlatform>> ChartPlatform::Start(ChartPlatformOptions options) {
  ClearShellSettings();

  // Render the chart into a description of each service.
  TempDir render_dir;
  const std::string description_path = render_dir.path() + "/services.json";
  const char* python = std::getenv("AILAB_DEPLOY_PYTHON");
  std::vector<std::string> command = {python != nullptr && *python != '\0' ? python : "python3",
                                      SourceDir() + "/tests/deploy/chart_env.py",
                                      description_path};
  for (const std::string& file : options.values_files) {
    command.push_back("-f");
    command.push_back(file.front() == '/' ? file : SourceDir() + "/charts/ailab/ci/" + file);
  }
  for (const std::string& assignment : options.set_values) {
    command.push_back("--set");
    command.push_back(assignment);
  }
  AILAB_ASSIGN_OR_RETURN(CommandResult rendered, RunCommand(command));
  if (rendered.exit_code == kSkipExitCode) {
    return FailedPrecondition(kToolMissingReason, rendered.output);
  }
  if (rendered.exit_code != 0) {
    return Internal("CHART_RENDER_FAILED",
                    absl::StrCat("chart_env.py exited with ", rendered.exit_code, ":\n",
                                 rendered.output));
  }
  Struct description;
  auto parsed = google::protobuf::util::JsonStringToMessage(ReadFile(description_path),
                                                            &description);
  if (!parsed.ok()) {
    return Internal("CHART_DESCRIPTION_INVALID",
                    absl::StrCat("could not read ", description_path, ": ",
                                 parsed.message().ToString()));
  }

  auto platform = std::unique_ptr<ChartPlatform>(new ChartPlatform());
  platform->options_ = options;
  const Struct& services = description.fields().at("services").struct_value();
  const Struct& addresses = description.fields().at("addresses").struct_value();
  const std::string chart_redis = StringField(description, "redis_address");
  const std::string queue_prefix = UniqueName("ailab_chart_queue");

  for (const std::string& component : StringList(description, "order")) {
    const Struct& spec = services.fields().at(component).struct_value();
    ChartService service;
    service.component = component;
    service.binary = StringField(spec, "binary");
    service.peers = StringList(spec, "peers");
    std::vector<std::string> mounts = StringList(spec, "mounts");
    std::map<std::string, std::string> files;
    for (const auto& [path, content] : spec.fields().at("files").struct_value().fields()) {
      files[path] = content.string_value();
    }
    for (const auto& [name, value] : spec.fields().at("env").struct_value().fields()) {
      service.chart_env[name] = value.string_value();
    }

    // Folders of the writable volumes: the blob store is shared, like the
    // ReadWriteMany volume in the cluster; the other volumes belong to the pod.
    std::map<std::string, std::string> folders;
    for (const std::string& mount : mounts) {
      std::string local = absl::StrContains(mount, "blobs")
                              ? options.data_dir + "/blobs"
                              : absl::StrCat(options.data_dir, "/", component,
                                             absl::StrReplaceAll(mount, {{"/", "_"}}));
      std::filesystem::create_directories(local);
      folders[mount] = local;
    }
    // Files of Secret volumes, written where the pod would see them.
    for (const auto& [path, content] : files) {
      std::string mount = path.substr(0, path.rfind('/'));
      std::string local = absl::StrCat(options.data_dir, "/", component,
                                       absl::StrReplaceAll(mount, {{"/", "_"}}));
      std::filesystem::create_directories(local);
      std::ofstream(local + path.substr(mount.size()), std::ios::binary) << content;
      chmod((local + path.substr(mount.size())).c_str(), 0600);
      folders[mount] = local;
    }

    for (const auto& [name, chart_value] : service.chart_env) {
      std::string value = chart_value;
      if (name == "AILAB_DATABASE_URL") {
        value = ReplaceDatabase(value, options.database_url);
      } else if (value == chart_redis) {
        value = options.redis_address;
      } else if (absl::EndsWith(name, "_QUEUE_STREAM")) {
        value = queue_prefix;
      } else if (absl::EndsWith(name, "_LISTEN")) {
        value = "127.0.0.1:0";
      } else if (name == "AILAB_INGEST_DICOM_BIND_ADDRESS") {
        // The pod binds every interface of its own network; here only loopback.
        value = "127.0.0.1";
      } else if (name == "AILAB_GATEWAY_WEB_ROOT") {
        // The image's copy of the web application; a stand-in page serves here.
        value = options.data_dir + "/gateway_web";
        std::filesystem::create_directories(value);
        std::ofstream(value + "/index.html") << "<!doctype html><title>AI-LAB</title>\n";
      } else if (name == "AILAB_INGEST_DICOM_PORT") {
        // The SCP's fixed port would collide between tests running at the same time.
        AILAB_ASSIGN_OR_RETURN(int port, FreeLoopbackPort());
        value = absl::StrCat(port);
      } else if (auto peer = addresses.fields().find(value); peer != addresses.fields().end()) {
        const std::string& peer_component = peer->second.string_value();
        value = platform->address(peer_component);
        if (value.empty()) {
          // A peer that starts later (training and evaluation call each other) gets its
          // port now, and StartService has it listen there.
          int& port = platform->reserved_ports_[peer_component];
          if (port == 0) {
            AILAB_ASSIGN_OR_RETURN(port, FreeLoopbackPort());
          }
          value = absl::StrCat("127.0.0.1:", port);
        }
      } else {
        // The longest volume path that contains the value, replaced once.
        std::string best_mount;
        for (const auto& [mount, local] : folders) {
          bool inside = chart_value == mount || absl::StartsWith(chart_value, mount + "/");
          if (inside && mount.size() > best_mount.size()) best_mount = mount;
        }
        if (!best_mount.empty()) {
          value = folders[best_mount] + chart_value.substr(best_mount.size());
        }
      }
      service.env[name] = value;
    }
    if (service.chart_env.count("AILAB_GATEWAY_GATEWAY_LISTEN")) {
      // --gateway_listen became port 0; the gateway writes the port it bound here.
      service.http_port_file = options.data_dir + "/gateway_http_port";
      service.env["AILAB_GATEWAY_GATEWAY_PORT_FILE"] = service.http_port_file;
    }
    AILAB_RETURN_IF_ERROR(platform->StartService(component, std::move(service)));
  }
  return platform;
}

absl::Status ChartPlatform::StartService(const std::string& component, ChartService service) {
  const std::string binary_path = BinaryPath(service.binary);
  if (access(binary_path.c_str(), X_OK) != 0) {
    if (options_.optional_components.count(component)) {
      skipped_.push_back(component);
      return absl::OkStatus();
    }
    return NotFound("BINARY_MISSING",
                    absl::StrCat(binary_path, " is not built; build the target ", service.binary),
                    {{"binary", binary_path}});
  }
  for (const std::string& peer : service.peers) {
    bool ready = !address(peer).empty() || reserved_ports_.count(peer) > 0 ||
                 std::find(skipped_.begin(), skipped_.end(), peer) != skipped_.end();
    if (!ready) {
      return FailedPrecondition(
          "START_ORDER",
          absl::StrCat(component, " calls ", peer,
                       ", which the chart starts later; fix the order in ailab.serviceNames"),
          {{"component", component}, {"peer", peer}});
    }
  }
  std::vector<std::pair<std::string, std::string>> env(service.env.begin(), service.env.end());
  std::vector<std::string> args;
  if (auto reserved = reserved_ports_.find(component); reserved != reserved_ports_.end()) {
    args.push_back(absl::StrCat("--listen=127.0.0.1:", reserved->second));
  }
  auto process = ServiceProcess::Start(service.binary, std::move(args), env);
  if (!process.ok()) {
    return absl::Status(process.status().code(),
                        absl::StrCat(component, " did not start with the chart's settings: ",
                                     process.status().message()));
  }
  service.process = std::move(*process);
  AILAB_RETURN_IF_ERROR(ReadHttpAddress(service));
  services_.push_back(std::make_unique<ChartService>(std::move(service)));
  return absl::OkStatus();
}

absl::Status ChartPlatform::ReadHttpAddress(ChartService& service) {
  if (service.http_port_file.empty()) return absl::OkStatus();
  // The gateway writes the file before its health server reports SERVING, which
  // ServiceProcess::Start waited for.
  std::string port(absl::StripAsciiWhitespace(ReadFile(service.http_port_file)));
  if (port.empty()) {
    return Internal("HTTP_PORT_MISSING",
                    absl::StrCat(service.component, " is serving but wrote no HTTP port to ",
                                 service.http_port_file, "; see ", service.process->log_path()),
                    {{"component", service.component}});
  }
  service.http_address = absl::StrCat("127.0.0.1:", port);
  return absl::OkStatus();
}

std::vector<std::string> ChartPlatform::started() const {
  std::vector<std::string> result;
  for (const auto& service : services_) result.push_back(service->component);
  return result;
}

ChartService* ChartPlatform::service(const std::string& component) {
  for (auto& service : services_) {
    if (service->component == component) return service.get();
  }
  return nullptr;
}

std::string ChartPlatform::address(const std::string& component) const {
  for (const auto& service : services_) {
    if (service->component == component) return service->process->address();
  }
  return "";
}

std::vector<std::pair<std::string, std::string>> ChartPlatform::ClientEnvironment() const {
  std::vector<std::pair<std::string, std::string>> env;
  std::string internal_token;
  for (const auto& service : services_) {
    env.emplace_back(absl::StrCat("AILAB_", absl::AsciiStrToUpper(service->component), "_ADDRESS"),
                     service->process->address());
    auto token = service->env.find("AILAB_INTERNAL_TOKEN");
    if (token != service->env.end()) internal_token = token->second;
  }
  // The services accept the client's user (x-ailab-user) only with the internal
  // token, as from an operator's client inside the cluster. Browsers go through the
  // gateway instead.
  if (!internal_token.empty()) env.emplace_back("AILAB_INTERNAL_TOKEN", internal_token);
  return env;
}

absl::Status ChartPlatform::StopAll() {
  absl::Status result;
  stopped_by_stop_all_.clear();
  for (auto it = services_.rbegin(); it != services_.rend(); ++it) {
    if (!(*it)->process->running()) continue;
    stopped_by_stop_all_.insert((*it)->component);
    absl::Status status = (*it)->process->Stop();
    if (!status.ok() && result.ok()) {
      result = absl::Status(status.code(),
                            absl::StrCat((*it)->component, ": ", status.message()));
    }
  }
  return result;
}

absl::Status ChartPlatform::RestartAll() {
  for (auto& service : services_) {
    if (!stopped_by_stop_all_.count(service->component)) continue;
    if (!service->http_port_file.empty()) std::filesystem::remove(service->http_port_file);
    absl::Status status = service->process->Restart();
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat(service->component, " did not restart: ", status.message()));
    }
    // The HTTP port was 0, so a restarted gateway listens on a new one.
    AILAB_RETURN_IF_ERROR(ReadHttpAddress(*service));
  }
  return absl::OkStatus();
}

void SkipUnlessDeployToolsInstalled() {
  const char* tools = std::getenv("AILAB_DEPLOY_TOOLS_DIR");
  std::string helm = absl::StrCat(tools != nullptr ? tools : "", "/helm");
  if (tools == nullptr || access(helm.c_str(), X_OK) != 0) {
    std::cout << "SKIPPED: helm is not installed at " << helm
              << " (deploy/install-helm.sh could not install it); run deploy/install-helm.sh\n";
    std::exit(kSkipExitCode);
  }
}

std::set<std::string> OptionalComponents() {
  const char* with_torch = std::getenv("AILAB_DEPLOY_WITH_TORCH");
  if (with_torch != nullptr && std::string(with_torch) == "OFF") return {"inference", "worker"};
  return {};
}

std::unique_ptr<ChartPlatform> StartPlatformOrSkip(ChartPlatformOptions options) {
  auto platform = ChartPlatform::Start(std::move(options));
  if (platform.ok()) return std::move(*platform);
  if (IsToolMissing(platform.status())) {
    std::cout << "SKIPPED: " << platform.status().message() << "\n";
    std::exit(kSkipExitCode);
  }
  throw std::runtime_error(std::string(platform.status().message()));
}

}  // namespace ailab::testing
