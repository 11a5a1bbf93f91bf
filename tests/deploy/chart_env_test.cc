// Starts every service binary on loopback with the environment that the Helm chart
// renders for its Deployment (chart_platform.h lists what is replaced) and checks
// that all of them report SERVING, then runs the end-to-end flow against them: the
// chart's ConfigMaps and Secrets are settings that the real binaries accept.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "ailab/rpc/probe.h"
#include "chart_platform.h"
#include "fixtures.h"

namespace ailab::testing {
namespace {

const std::vector<std::string> kComponents = {"catalog",   "ingest",     "annotation", "training",
                                              "inference", "evaluation", "worker"};

TEST_CASE("Chart config: every service serves on loopback", "[deploy]") {
  SkipUnlessDeployToolsInstalled();
  ScratchDatabase database;
  TempDir data;
  ChartPlatformOptions options;
  options.values_files = {"default-values.yaml"};
  options.database_url = database.url();
  options.redis_address = RedisAddress();
  options.data_dir = data.path();
  options.optional_components = OptionalComponents();
  std::unique_ptr<ChartPlatform> platform = StartPlatformOrSkip(options);

  for (const std::string& skipped : platform->skipped()) {
    WARN(skipped << " not started: its binary is not built (LibTorch is off in this build)");
  }
  std::vector<std::string> started = platform->started();
  CHECK(started.size() + platform->skipped().size() == kComponents.size());

  for (const std::string& component : kComponents) {
    if (!platform->service(component)) continue;
    INFO("component " << component);
    auto serving = rpc::CheckHealth(platform->address(component), "", absl::Seconds(5));
    REQUIRE(serving.ok());
    CHECK(*serving);
  }

  // The chart's settings reached the services, with only the loopback replacements.
  {
    ChartService* ingest = platform->service("ingest");
    REQUIRE(ingest != nullptr);
    const std::string key_file = ingest->env.at("AILAB_INGEST_DEID_KEY_FILE");
    CHECK(ingest->chart_env.at("AILAB_INGEST_DEID_KEY_FILE") == "/etc/ailab/deid/key");
    CHECK(absl::StartsWith(key_file, data.path()));
    CHECK(std::filesystem::file_size(key_file) >= 16);
    CHECK(absl::StartsWith(ingest->env.at("AILAB_BLOB_ROOT"), data.path()));
    CHECK(absl::StartsWith(ingest->env.at("AILAB_DATABASE_URL"), database.url()));
    CHECK(absl::EndsWith(ingest->env.at("AILAB_DATABASE_URL"), "sslmode=disable"));

    ChartService* training = platform->service("training");
    REQUIRE(training != nullptr);
    CHECK(training->env.at("AILAB_REDIS_ADDRESS") == RedisAddress());
    CHECK(training->env.at("AILAB_ANNOTATION_ADDRESS") == platform->address("annotation"));
    CHECK(training->env.at("AILAB_TRAINING_MAX_ATTEMPTS") ==
          training->chart_env.at("AILAB_TRAINING_MAX_ATTEMPTS"));
    CHECK(training->env.at("AILAB_TRAINING_QUEUE_STREAM") != "ailab:training");
    if (ChartService* worker = platform->service("worker")) {
      CHECK(worker->env.at("AILAB_WORKER_QUEUE_STREAM") ==
            training->env.at("AILAB_TRAINING_QUEUE_STREAM"));
    }
  }

  // A PACS reaches the DICOM storage SCP with the chart's AE title, and what it sends
  // lands in the chart's dataset (DCMTK's echoscu and storescu play the PACS).
  {
    ChartService* ingest = platform->service("ingest");
    REQUIRE(ingest != nullptr);
    const std::string port = ingest->env.at("AILAB_INGEST_DICOM_PORT");
    const std::string ae_title = ingest->env.at("AILAB_INGEST_DICOM_AE_TITLE");
    const std::string dataset = ingest->env.at("AILAB_INGEST_DICOM_DATASET");
    CHECK(ae_title == "AILAB");
    CHECK(dataset == "datasets/pacs");

    auto echo = RunCommand({"echoscu", "-aet", "TESTPACS", "-aec", ae_title, "127.0.0.1", port});
    REQUIRE(echo.ok());
    INFO(echo->output);
    CHECK(echo->exit_code == 0);
    auto wrong_title = RunCommand({"echoscu", "-aet", "TESTPACS", "-aec", "NOT_AILAB",
                                   "127.0.0.1", port});
    REQUIRE(wrong_title.ok());
    CHECK(wrong_title->exit_code != 0);

    const std::string sample = SharedDataDir() + "/dicom/mg/MG_clunie_pixelspacing_ELE.dcm";
    auto store = RunCommand({"storescu", "-aet", "TESTPACS", "-aec", ae_title, "127.0.0.1",
                             port, sample});
    REQUIRE(store.ok());
    INFO(store->output);
    CHECK(store->exit_code == 0);
    auto listed = RunCommand({BinaryPath("ailab"), "ingest", "instances", "--dataset=" + dataset},
                             platform->ClientEnvironment());
    REQUIRE(listed.ok());
    INFO(listed->output);
    CHECK(listed->exit_code == 0);
    CHECK(absl::StrContains(listed->output, dataset + "/instances/"));
  }

  // The command-line client sees all seven; it checks every service, so it runs only
  // when none was skipped.
  if (platform->skipped().empty()) {
    auto result = RunCommand({BinaryPath("ailab"), "platform", "status", "--wait", "30"},
                             platform->ClientEnvironment());
    REQUIRE(result.ok());
    INFO(result->output);
    CHECK(result->exit_code == 0);
    for (const std::string& component : kComponents) {
      bool listed = false;
      for (absl::string_view line : absl::StrSplit(result->output, '\n')) {
        listed = listed || (absl::StartsWith(line, component) && absl::StrContains(line, "SERVING") &&
                            !absl::StrContains(line, "NOT_SERVING"));
      }
      CHECK(listed);
    }

    // The end-to-end flow (deploy/flow.sh at a small size) runs against the services
    // as the chart configured them.
    TempDir flow_dir;
    auto environment = platform->ClientEnvironment();
    environment.push_back({"AILAB_BIN_DIR", BinaryPath("")});
    environment.push_back({"AILAB_FLOW_STUDIES", "160"});
    environment.push_back({"AILAB_FLOW_EPOCHS", "2"});
    environment.push_back({"AILAB_FLOW_SIZE", "64"});
    auto flow = RunCommand({"bash", SourceDir() + "/deploy/flow.sh", flow_dir.path() + "/flow"},
                           environment);
    REQUIRE(flow.ok());
    INFO(flow->output);
    CHECK(flow->exit_code == 0);
    CHECK(absl::StrContains(flow->output, "== Done in"));
    CHECK(absl::StrContains(absl::AsciiStrToLower(flow->output), "confusion matrix"));
  } else {
    WARN("ailab platform status and the flow not run: they need all seven services");
  }

  REQUIRE(platform->StopAll().ok());
}

}  // namespace
}  // namespace ailab::testing
