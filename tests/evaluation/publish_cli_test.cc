// Tests of `ailab publish ...` and the monitoring options of `ailab eval assess`, run
// as the built `ailab` binary against a real ailab-evaluation with fake servers of
// the services it calls.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "fake_servers.h"
#include "fixtures.h"

namespace ailab::evaluation {
namespace {

using ::ailab::evaluation::testing::FakeBackends;
using ::ailab::evaluation::testing::FakeServers;

struct Output {
  int exit_code = -1;
  std::string text;  // standard output and standard error
};

// The evaluation service with fake dependencies, and the CLI pointed at it.
class Harness {
 public:
  Harness() {
    backends_.AddUseCase("useCases/pneumothorax", {"absent", "present"}, /*binary=*/true);
    backends_.AddModel("models/good", "useCases/pneumothorax", {"absent", "present"});
    backends_.SetArtifacts("models/good", "torchscript bytes", R"({"classes": 2})");
    servers_ = std::make_unique<FakeServers>(&backends_, blob_root_.path());
    const std::string fake = servers_->address();
    auto process = ailab::testing::ServiceProcess::Start(
        "ailab-evaluation",
        {absl::StrCat("--database_url=", database_.url()),
         absl::StrCat("--training_address=", fake), absl::StrCat("--catalog_address=", fake),
         absl::StrCat("--ingest_address=", fake), absl::StrCat("--annotation_address=", fake),
         absl::StrCat("--inference_address=", fake),
         absl::StrCat("--blob_root=", blob_root_.path()), "--administrators=admin"});
    if (!process.ok()) throw std::runtime_error(process.status().ToString());
    process_ = *std::move(process);
  }

  // Runs `ailab <arguments> --evaluation_address=...` with `environment` prepended.
  Output Run(const std::string& arguments, const std::string& environment = "") {
    const std::string command =
        absl::StrCat(environment, " ", ailab::testing::BinaryPath("ailab"), " ", arguments,
                     " --evaluation_address=", process_->address(), " 2>&1");
    Output output;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return output;
    char buffer[4096];
    size_t read = 0;
    while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.text.append(buffer, read);
    const int status = pclose(pipe);
    output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return output;
  }

 private:
  ailab::testing::ScratchDatabase database_;
  ailab::testing::TempDir blob_root_;
  FakeBackends backends_;
  std::unique_ptr<FakeServers> servers_;
  std::unique_ptr<ailab::testing::ServiceProcess> process_;
};

TEST_CASE("ailab publish: destinations, publish and history") {
  Harness harness;
  ailab::testing::TempDir exports;

  Output created =
      harness.Run(absl::StrCat("publish destination-create --display_name Drop --folder ",
                               exports.path(), " --id drop --user admin"));
  INFO(created.text);
  CHECK(created.exit_code == 0);
  CHECK(absl::StrContains(created.text, "destinations/drop"));

  Output http = harness.Run(
      "publish destination-create --display_name Registry --url http://127.0.0.1:9/up --id reg "
      "--user admin",
      "AILAB_DESTINATION_TOKEN=cli-secret");
  INFO(http.text);
  CHECK(http.exit_code == 0);
  CHECK(absl::StrContains(http.text, "\"tokenSet\": true"));
  CHECK_FALSE(absl::StrContains(http.text, "cli-secret"));

  Output listed = harness.Run("publish destination-list");
  INFO(listed.text);
  CHECK(listed.exit_code == 0);
  CHECK(absl::StrContains(listed.text, "destinations/reg"));
  CHECK_FALSE(absl::StrContains(listed.text, "cli-secret"));

  Output published =
      harness.Run("publish model --model models/good --destination destinations/drop --wait");
  INFO(published.text);
  CHECK(published.exit_code == 0);
  CHECK(absl::StrContains(published.text, "\"SUCCEEDED\""));
  CHECK(absl::StrContains(published.text, "model.pt"));

  Output history = harness.Run("publish history --destination destinations/drop");
  INFO(history.text);
  CHECK(history.exit_code == 0);
  CHECK(absl::StrContains(history.text, "publications/"));
  CHECK(absl::StrContains(history.text, "\"attemptCount\": 1"));
}

TEST_CASE("ailab publish: errors exit non-zero") {
  Harness harness;
  Output denied = harness.Run(
      "publish destination-create --display_name Drop --folder /srv/models --user radiologist");
  INFO(denied.text);
  CHECK(denied.exit_code == 1);
  CHECK(absl::StrContains(denied.text, "\"radiologist\""));

  Output relative =
      harness.Run("publish destination-create --display_name Drop --folder models --user admin");
  INFO(relative.text);
  CHECK(relative.exit_code == 2);  // INVALID_ARGUMENT is a usage error
  CHECK(absl::StrContains(relative.text, "absolute path"));

  Output both = harness.Run("publish destination-create --display_name Drop --user admin");
  INFO(both.text);
  CHECK(both.exit_code != 0);
  CHECK(absl::StrContains(both.text, "--folder"));

  Output missing = harness.Run("publish model --model models/good --destination destinations/none");
  INFO(missing.text);
  CHECK(missing.exit_code == 1);
  CHECK(absl::StrContains(missing.text, "destinations/none"));

  Output metric = harness.Run("eval assess --model models/good --alert_metric F1 --alert_level 1");
  INFO(metric.text);
  CHECK(metric.exit_code != 0);
  CHECK(absl::StrContains(metric.text, "--alert_metric \"F1\""));

  Output window = harness.Run("eval assess --model models/good --window 7days");
  INFO(window.text);
  CHECK(window.exit_code != 0);
  CHECK(absl::StrContains(window.text, "--window \"7days\""));
}

}  // namespace
}  // namespace ailab::evaluation
