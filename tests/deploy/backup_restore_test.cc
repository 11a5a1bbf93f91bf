// Backup and restore as docs/operations.md describes them, on loopback: the services
// run with the chart's configuration (chart_platform.h), data is created through the
// `ailab` client, then PostgreSQL is dumped with pg_dump and the blob store archived
// with tar. The database is dropped and the blob store emptied, both are restored
// (pg_restore, tar), the services restart, and everything must be as before: the
// client's output, the row count of every table and every blob file's SHA-256.
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/internal_caller.h"
#include "chart_platform.h"
#include "fixtures.h"

namespace ailab::testing {
namespace {

constexpr char kUser[] = "backup-radiologist";
constexpr char kDataset[] = "datasets/backup-test";
constexpr char kUseCase[] = "useCases/breast-density";
constexpr char kJob[] = "trainingJobs/backup-job";
// CreateTrainingJob needs this many labelled instances.
constexpr int kTrainingMinimumLabels = 100;

// Runs the `ailab` client against the platform; fails the test unless it exits 0.
std::string Client(ChartPlatform& platform, std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), BinaryPath("ailab"));
  auto env = platform.ClientEnvironment();
  env.emplace_back("AILAB_USER", kUser);
  auto result = RunCommand(arguments, env);
  REQUIRE(result.ok());
  INFO("ailab " << absl::StrJoin(arguments, " ") << "\n" << result->output);
  REQUIRE(result->exit_code == 0);
  return result->output;
}

// Runs a shell command line; fails the test unless it exits 0.
std::string Shell(const std::string& command_line) {
  auto result = RunCommand({"sh", "-c", command_line});
  REQUIRE(result.ok());
  INFO(command_line << "\n" << result->output);
  REQUIRE(result->exit_code == 0);
  return result->output;
}

// True when `ailab help` lists `group command`.
bool HasCommand(ChartPlatform& platform, const std::string& group, const std::string& command) {
  std::string help = Client(platform, {"help"});
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.size() >= 2 && words[0] == group && words[1] == command) return true;
  }
  return false;
}

// Row count of every table of every schema, one "schema.table count" per line.
std::string TableCounts(const std::string& database_url) {
  return Shell(absl::StrCat(
      "psql -X -qAt -v ON_ERROR_STOP=1 '", database_url, "' -c \"",
      "SELECT table_schema || '.' || table_name || ' ' || "
      "(xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', "
      "table_schema, table_name), false, true, '')))[1]::text "
      "FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
      "AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1\""));
}

// SHA-256 and path of every file of the blob store, sorted by path.
std::string BlobChecksums(const std::string& blob_root) {
  return Shell(absl::StrCat("cd '", blob_root,
                            "' && find . -type f -print0 | sort -z | xargs -0 -r sha256sum"));
}

// Names of the instances of the test dataset, through ingest's ListInstances (the
// client prints them for people, not one name per line). The call carries the
// platform's internal token, as the services refuse calls without it.
std::vector<std::string> InstanceNames(const ChartPlatform& platform) {
  const std::string ingest_address = platform.address("ingest");
  std::string token;
  for (const auto& [name, value] : platform.ClientEnvironment()) {
    if (name == "AILAB_INTERNAL_TOKEN") token = value;
  }
  auto stub = ingest::v1::IngestService::NewStub(rpc::Connect(ingest_address));
  std::vector<std::string> names;
  std::string page_token;
  do {
    ingest::v1::ListInstancesRequest request;
    request.set_parent(kDataset);
    request.set_page_size(500);
    request.set_page_token(page_token);
    ingest::v1::ListInstancesResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!token.empty()) context.AddMetadata(rpc::kInternalTokenKey, token);
    grpc::Status status = stub->ListInstances(&context, request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    for (const auto& instance : response.instances()) names.push_back(instance.name());
    page_token = response.next_page_token();
  } while (!page_token.empty());
  return names;
}

// Labels every instance for the breast-density use case through `ailab annotate
// save`, cycling through the categories A-D.
void Annotate(ChartPlatform& platform, const std::vector<std::string>& instances) {
  const char* categories[] = {"A", "B", "C", "D"};
  for (size_t i = 0; i < instances.size(); ++i) {
    Client(platform, {"annotate", "save", "--use_case", kUseCase, "--dataset", kDataset,
                      "--instance", instances[i], "--user", kUser, "--label", categories[i % 4]});
  }
}

// What must survive the restore, as the client and the database show it.
struct Snapshot {
  std::map<std::string, std::string> client_output;
  std::string table_counts;
  std::string blob_checksums;
};

Snapshot TakeSnapshot(ChartPlatform& platform, const std::string& database_url,
                      const std::string& blob_root, bool with_job) {
  Snapshot snapshot;
  snapshot.client_output["catalog list"] = Client(platform, {"catalog", "list", "--all"});
  snapshot.client_output["catalog draft-requests"] = Client(platform, {"catalog", "draft-requests"});
  snapshot.client_output["dataset get"] =
      Client(platform, {"dataset", "get", absl::StrCat("--dataset=", kDataset)});
  snapshot.client_output["ingest instances"] = Client(
      platform, {"ingest", "instances", absl::StrCat("--dataset=", kDataset), "--json",
                 "--page_size=1000"});
  snapshot.client_output["annotate export"] =
      Client(platform, {"annotate", "export", "--use_case", kUseCase, "--dataset", kDataset,
                        "--annotator", kUser, "--csv"});
  if (with_job) {
    snapshot.client_output["train get"] = Client(platform, {"train", "get", kJob});
  }
  snapshot.table_counts = TableCounts(database_url);
  snapshot.blob_checksums = BlobChecksums(blob_root);
  return snapshot;
}

TEST_CASE("Backup and restore: nothing is lost", "[deploy]") {
  SkipUnlessDeployToolsInstalled();
  ScratchDatabase database;
  TempDir data;
  TempDir backup;
  ChartPlatformOptions options;
  options.values_files = {"default-values.yaml"};
  options.database_url = database.url();
  options.redis_address = RedisAddress();
  options.data_dir = data.path();
  options.optional_components = OptionalComponents();
  std::unique_ptr<ChartPlatform> platform = StartPlatformOrSkip(options);
  const std::string blob_root = data.path() + "/blobs";
  // Without a worker the training job stays QUEUED, so that its row does not change
  // between the snapshots.
  if (ChartService* worker = platform->service("worker")) {
    REQUIRE(worker->process->Stop().ok());
  }

  // 1. Data through the client: a draft request in the catalog, a dataset of DICOM
  // files with splits and prepared arrays, labels, and a training job.
  Client(*platform, {"catalog", "request-draft", "--title", "Backup test use case",
                     "--description", "made by the backup test", "--user", kUser});
  Client(*platform, {"dataset", "create", "--display_name=Backup test", "--id=backup-test"});

  const std::string images = data.path() + "/images";
  bool synthetic = HasCommand(*platform, "synth", "generate");
  if (synthetic) {
    Client(*platform, {"synth", "generate", "--out=" + images,
                       absl::StrCat("--count=", kTrainingMinimumLabels + 8), "--size=64x64",
                       "--images_per_study=1", "--contact_sheet_per_category=0"});
    // The generator also writes truth.csv and may write contact sheets; only the DICOM
    // files are uploaded.
    Shell(absl::StrCat("find '", images, "' -type f ! -name '*.dcm' -delete"));
  } else {
    WARN("ailab synth generate is missing; uploading the shared DICOM samples, too few "
         "for a training job");
    std::filesystem::create_directories(images);
    Shell(absl::StrCat("cp '", SharedDataDir(), "/dicom/mg/MG_clunie_pixelspacing_ELE.dcm' '",
                       images, "/'"));
  }
  Client(*platform, {"ingest", "upload", absl::StrCat("--dataset=", kDataset), images});
  Client(*platform, {"ingest", "split", absl::StrCat("--dataset=", kDataset)});
  Client(*platform, {"ingest", "prepare", absl::StrCat("--dataset=", kDataset),
                     "--kinds=png,array", "--size=32", "--wait"});

  std::vector<std::string> instances = InstanceNames(*platform);
  REQUIRE(!instances.empty());
  Annotate(*platform, instances);

  bool with_job = static_cast<int>(instances.size()) >= kTrainingMinimumLabels;
  if (with_job) {
    Client(*platform, {"train", "create", "--use_case", kUseCase, "--dataset", kDataset,
                       "--label_source", kUser, "--user", kUser, "--id", "backup-job",
                       "--image_size", "32"});
  } else {
    WARN("no training job: " << instances.size() << " instances, fewer than "
                             << kTrainingMinimumLabels << " labels");
  }
  WARN("no model in the backup: a model needs a finished training run");

  Snapshot before = TakeSnapshot(*platform, database.url(), blob_root, with_job);
  // The services stop before the backup, so that the dump and the archive match.
  REQUIRE(platform->StopAll().ok());
  CHECK(absl::StrContains(before.table_counts, "ingest."));
  CHECK(absl::StrContains(before.table_counts, "annotation."));
  CHECK(!before.blob_checksums.empty());

  // 2. Backup.
  const std::string dump = backup.path() + "/ailab.dump";
  const std::string archive = backup.path() + "/blobs.tar";
  Shell(absl::StrCat("pg_dump --format=custom --file='", dump, "' '", database.url(), "'"));
  Shell(absl::StrCat("tar -C '", blob_root, "' -cf '", archive, "' ."));

  // 3. Loss of both.
  REQUIRE(pg::ExecuteStatement(AdminDatabaseUrl(),
                               absl::StrCat("DROP DATABASE \"", database.name(), "\" WITH (FORCE)"))
              .ok());
  std::filesystem::remove_all(blob_root);
  std::filesystem::create_directories(blob_root);
  CHECK(BlobChecksums(blob_root).empty());

  // 4. Restore into a new, empty database of the same name and an empty blob folder.
  REQUIRE(pg::ExecuteStatement(AdminDatabaseUrl(),
                               absl::StrCat("CREATE DATABASE \"", database.name(), "\""))
              .ok());
  Shell(absl::StrCat("pg_restore --exit-on-error --no-owner --dbname='", database.url(), "' '",
                     dump, "'"));
  Shell(absl::StrCat("tar -C '", blob_root, "' -xf '", archive, "'"));

  // 5. The services start on the restored data and show the same.
  REQUIRE(platform->RestartAll().ok());
  Snapshot after = TakeSnapshot(*platform, database.url(), blob_root, with_job);
  for (const auto& [command, output] : before.client_output) {
    INFO("ailab " << command);
    CHECK(after.client_output[command] == output);
  }
  CHECK(after.table_counts == before.table_counts);
  CHECK(after.blob_checksums == before.blob_checksums);

  // The restored platform accepts new data.
  Client(*platform, {"dataset", "create", "--display_name=After restore", "--id=after-restore"});
  REQUIRE(platform->StopAll().ok());
}

}  // namespace
}  // namespace ailab::testing
