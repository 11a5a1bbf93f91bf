// The platform started on loopback from the configuration that the Helm chart renders:
// tests/deploy/chart_env.py renders charts/ailab and extracts each Deployment's
// environment (ConfigMaps and Secrets resolved), then ChartPlatform starts every
// service binary of the build with that environment. Only what cannot work outside a
// cluster is replaced:
//   - service host:port pairs (ailab-catalog:7101) by the loopback address of the
//     started service;
//   - the database host, port and name by a scratch database (the chart's URL
//     parameters, such as sslmode, are kept), and the Redis address by the test
//     Redis;
//   - the Redis key prefix of the training queue by a unique one, so that tests
//     running at the same time do not share a queue;
//   - the paths of writable volumes (/tmp, the blob store, the worker's scratch
//     folder) by folders under a temporary directory, the blob store being shared;
//   - each --listen by 127.0.0.1:0 (ServiceProcess picks the port), the DICOM SCP's
//     port by a free one and its bind address by 127.0.0.1;
//   - the files of Secret and ConfigMap volumes (the de-identification key, the
//     identity provider's key set) are written under the temporary directory, and the
//     variables naming them point there;
//   - the gateway's HTTP address (--gateway_listen) by 127.0.0.1:0, with a port file
//     to learn the port, and the image's web application folder by a folder with a
//     stand-in index.html.
// Services start in the chart's order, in which each calls only services before it.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fixtures.h"

namespace ailab::testing {

// Exit code that CTest reads as "skipped" (SKIP_RETURN_CODE of the deploy tests).
inline constexpr int kSkipExitCode = 77;

// Output of a finished command.
struct CommandResult {
  int exit_code = -1;
  // Standard output and standard error together.
  std::string output;
};

// Runs `argv` (argv[0] is looked up on PATH unless it contains a '/') with `env`
// added to this process's environment, waits for it, and returns its exit code and
// output. An error only when the command could not be started.
absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& argv,
    const std::vector<std::pair<std::string, std::string>>& env = {});

struct ChartPlatformOptions {
  // Values files passed to `helm template` (-f), and --set assignments.
  std::vector<std::string> values_files;
  std::vector<std::string> set_values;
  // Scratch database URL and test Redis address that replace the chart's servers.
  std::string database_url;
  std::string redis_address;
  // Folder for the services' writable volumes.
  std::string data_dir;
  // Components that may be absent from the build (inference and worker without
  // LibTorch); they are skipped with a message instead of failing.
  std::set<std::string> optional_components;
};

// One service of the chart as started.
struct ChartService {
  std::string component;
  std::string binary;
  // Environment from the chart before and after the loopback replacements.
  std::map<std::string, std::string> chart_env;
  std::map<std::string, std::string> env;
  std::vector<std::string> peers;
  std::unique_ptr<ServiceProcess> process;
  // The gateway's HTTP address, 127.0.0.1:<port>, read from its port file after each
  // start; empty for the gRPC services.
  std::string http_address;
  std::string http_port_file;
};

// Response to an HTTP request made with HttpRequest.
struct HttpResult {
  // HTTP status code; 0 when no response came.
  int status = 0;
  std::string body;
  // curl's messages when the request failed.
  std::string error;
};

// Sends one HTTP request to `url` with curl (method GET or POST; a non-empty `body`
// goes out as application/json, `bearer_token` as the Authorization header). An error
// only when curl could not be started.
absl::StatusOr<HttpResult> HttpRequest(const std::string& method, const std::string& url,
                                       const std::string& body = "",
                                       const std::string& bearer_token = "");

class ChartPlatform {
 public:
  // Renders the chart, then starts each service. The status has the reason
  // "DEPLOY_TOOLS_MISSING" when Helm is not installed (the test should then skip).
  static absl::StatusOr<std::unique_ptr<ChartPlatform>> Start(ChartPlatformOptions options);

  // Components started, in start order, and those skipped because their binary is
  // missing.
  std::vector<std::string> started() const;
  const std::vector<std::string>& skipped() const { return skipped_; }

  // The started service of `component`, or nullptr.
  ChartService* service(const std::string& component);

  // Loopback address of a started component, host:port: its gRPC port (for the
  // gateway, its gRPC health port; see ChartService::http_address).
  std::string address(const std::string& component) const;

  // Environment for the `ailab` client: AILAB_<COMPONENT>_ADDRESS of each started one,
  // and AILAB_INTERNAL_TOKEN from the chart's Secret.
  std::vector<std::pair<std::string, std::string>> ClientEnvironment() const;

  // Stops every running service, last started first.
  absl::Status StopAll();
  // Starts the services that the last StopAll stopped again, in order, on the same
  // ports. A service stopped by the test itself stays stopped.
  absl::Status RestartAll();

 private:
  ChartPlatform() = default;
  absl::Status StartService(const std::string& component, ChartService service);
  // Sets service.http_address from its HTTP port file, when it has one.
  static absl::Status ReadHttpAddress(ChartService& service);

  ChartPlatformOptions options_;
  std::vector<std::unique_ptr<ChartService>> services_;
  std::vector<std::string> skipped_;
  // Ports given to components before they start, because a component started earlier
  // calls them.
  std::map<std::string, int> reserved_ports_;
  std::set<std::string> stopped_by_stop_all_;
};

// True when `status` reports that Helm or the schema tools are not installed.
bool IsToolMissing(const absl::Status& status);

// Ends the test process with kSkipExitCode, after a message, when deploy/install-helm.sh
// has not installed Helm into $AILAB_DEPLOY_TOOLS_DIR. Call it first in a test, before
// creating fixtures whose destructors would not run.
void SkipUnlessDeployToolsInstalled();

// Components that the build may lack: inference and worker when CMake configured
// the build without LibTorch (AILAB_DEPLOY_WITH_TORCH=OFF, set by CTest).
std::set<std::string> OptionalComponents();

// ChartPlatform::Start, throwing std::runtime_error (a test failure under Catch2) with
// the error when a service does not start, and skipping when Helm is missing.
std::unique_ptr<ChartPlatform> StartPlatformOrSkip(ChartPlatformOptions options);

}  // namespace ailab::testing
