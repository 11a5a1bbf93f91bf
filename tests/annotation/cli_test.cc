// Tests of `ailab annotate ...` against the ailab-annotation binary, with the catalog
// and ingest played by fake servers.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "catch2/catch.hpp"
#include "deployment.h"

namespace ailab::annotation {
namespace {

using testing::Deployment;
using testing::kCategories;
using testing::kDataset;
using testing::kDensity;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // standard output and standard error
};

// Runs `ailab annotate <arguments>` against the deployment and returns its output.
CommandResult RunCli(const Deployment& deployment, const std::string& arguments) {
  std::string command = absl::StrCat(ailab::testing::BinaryPath("ailab"), " annotate ", arguments,
                                     " --annotation_address=", deployment.address(),
                                     " --catalog_address=", deployment.directory_address(),
                                     " --ingest_address=", deployment.directory_address(), " 2>&1");
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, read);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string FileName(int i) { return absl::StrFormat("synth_%05d.dcm", i); }

// Truth category of instance i (1-based) in the written truth.csv.
std::string TruthOf(int i) { return kCategories[(i * 7) % 4]; }

TEST_CASE("ailab annotate simulate labels from truth.csv", "[service]") {
  constexpr int kInstances = 12;
  constexpr int kWithTruth = 10;
  Deployment deployment(kInstances);
  for (int i = 1; i <= kInstances; ++i) {
    deployment.ingest().SetSourceFile(deployment.instance(i), FileName(i));
  }
  ailab::testing::TempDir dir;
  const std::string truth = dir.path() + "/truth.csv";
  {
    std::ofstream out(truth);
    out << "file,sop_instance_uid,patient_id,study_date,laterality,view,category,"
           "dense_fraction\n";
    for (int i = 1; i <= kWithTruth; ++i) {
      out << FileName(i) << ",2.25." << i << ",P" << i << ",2024-01-02,L,CC," << TruthOf(i)
          << ",0.3\n";
    }
  }
  const std::string set = absl::StrCat("--use_case ", kDensity, " --dataset ", kDataset);

  SECTION("without errors the labels are the truth") {
    CommandResult run = RunCli(
        deployment, absl::StrCat("simulate ", set, " --user sim --truth ", truth,
                                 " --error_rate 0 --seed 3"));
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(absl::StrContains(run.output, "\"saved\": 10"));
    CHECK(absl::StrContains(run.output, "\"without_truth\": 2"));
    CHECK(absl::StrContains(run.output, "\"deliberate_errors\": 0"));

    CommandResult exported =
        RunCli(deployment, absl::StrCat("export ", set, " --annotator sim --csv"));
    INFO(exported.output);
    REQUIRE(exported.exit_code == 0);
    std::vector<std::string> lines =
        absl::StrSplit(exported.output, '\n', absl::SkipEmpty());
    REQUIRE(lines.size() == kWithTruth + 1);
    for (int i = 1; i <= kWithTruth; ++i) {
      CHECK(lines[i] == absl::StrCat(deployment.instance(i), ",", TruthOf(i), ",1,1"));
    }
  }

  SECTION("with error rate 1 every label is a neighbour, and a limit resumes") {
    CommandResult first = RunCli(
        deployment, absl::StrCat("simulate ", set, " --user noisy --truth ", truth,
                                 " --error_rate 1 --seed 1 --limit 4"));
    INFO(first.output);
    REQUIRE(first.exit_code == 0);
    CHECK(absl::StrContains(first.output, "\"saved\": 4"));
    CHECK(absl::StrContains(first.output, "\"started_at_position\": 1"));

    CommandResult rest = RunCli(
        deployment, absl::StrCat("simulate ", set, " --user noisy --truth ", truth,
                                 " --error_rate 1 --seed 1"));
    INFO(rest.output);
    REQUIRE(rest.exit_code == 0);
    CHECK(absl::StrContains(rest.output, "\"saved\": 6"));
    CHECK(absl::StrContains(rest.output, "\"started_at_position\": 5"));
    CHECK(absl::StrContains(rest.output, "\"annotated_count\": 10"));

    auto stub = deployment.NewStub();
    v1::ExportLabelsRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_annotator("noisy");
    v1::ExportLabelsResponse response;
    grpc::ClientContext context;
    REQUIRE(stub->ExportLabels(&context, request, &response).ok());
    REQUIRE(response.labels_size() == kWithTruth);
    for (int i = 0; i < kWithTruth; ++i) {
      int truth_index = static_cast<int>(
          std::find(kCategories.begin(), kCategories.end(), TruthOf(i + 1)) - kCategories.begin());
      INFO(response.labels(i).instance());
      CHECK(std::abs(response.labels(i).category_index() - truth_index) == 1);
    }
  }

  SECTION("other commands") {
    CommandResult next = RunCli(deployment, absl::StrCat("next ", set, " --user carol"));
    INFO(next.output);
    REQUIRE(next.exit_code == 0);
    CHECK(absl::StrContains(next.output, deployment.instance(1)));

    CommandResult save = RunCli(
        deployment, absl::StrCat("save ", set, " --user carol --instance ", deployment.instance(1),
                                 " --label C"));
    INFO(save.output);
    REQUIRE(save.exit_code == 0);
    CHECK(absl::StrContains(save.output, "\"created\": true"));

    CommandResult bad = RunCli(
        deployment, absl::StrCat("save ", set, " --user carol --instance ", deployment.instance(2),
                                 " --label Q"));
    INFO(bad.output);
    CHECK(bad.exit_code == 2);
    CHECK(absl::StrContains(bad.output, "\"Q\""));
    CHECK(absl::StrContains(bad.output, "A, B, C, D"));

    CommandResult skip = RunCli(
        deployment,
        absl::StrCat("skip ", set, " --user carol --instance ", deployment.instance(2)));
    REQUIRE(skip.exit_code == 0);
    CommandResult list = RunCli(deployment, absl::StrCat("list ", set, " --user carol --state SKIPPED"));
    INFO(list.output);
    REQUIRE(list.exit_code == 0);
    CHECK(absl::StrContains(list.output, deployment.instance(2)));
    CHECK_FALSE(absl::StrContains(list.output, absl::StrCat(deployment.instance(1), "\"")));

    CommandResult quota = RunCli(deployment, absl::StrCat("set-quota ", set, " --quota 5"));
    REQUIRE(quota.exit_code == 0);
    CommandResult progress = RunCli(deployment, absl::StrCat("progress ", set, " --user carol"));
    INFO(progress.output);
    REQUIRE(progress.exit_code == 0);
    CHECK(absl::StrContains(progress.output, "\"quota\": \"5\""));
    CHECK(absl::StrContains(progress.output, "\"quotaMet\": false"));

    CommandResult ranking = RunCli(deployment, absl::StrCat("ranking ", set));
    INFO(ranking.output);
    REQUIRE(ranking.exit_code == 0);
    CHECK(absl::StrContains(ranking.output, "carol"));

    CommandResult reference = RunCli(deployment, absl::StrCat("set-reference ", set, " --reader dr-ref"));
    REQUIRE(reference.exit_code == 0);
    CommandResult agreement = RunCli(deployment, absl::StrCat("agreement ", set, " --user carol"));
    INFO(agreement.output);
    CHECK(agreement.exit_code == 1);
    CHECK(absl::StrContains(agreement.output, "annotate more instances"));

    CommandResult finish = RunCli(deployment, absl::StrCat("finish ", set, " --user carol"));
    INFO(finish.output);
    REQUIRE(finish.exit_code == 0);
    CHECK(absl::StrContains(finish.output, "\"sessionAnnotatedCount\": \"1\""));
  }
}

}  // namespace
}  // namespace ailab::annotation
