// The ingest service's DICOM storage SCP fed by DCMTK's storescu: every well-formed file
// of the shared test set is sent twice and must be stored once, de-identified and
// prepared. The SCP listens on loopback only, on a port it picks itself.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/blob/blob_store.h"
#include "ailab/dicom/dicom.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "fixtures.h"

namespace {

namespace v1 = ::ailab::ingest::v1;

constexpr char kKey[] = "storescu-test-key-abcdefghijklmn";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Paths of every .dcm file of the shared set outside the malformed/ folder, sorted.
std::vector<std::string> WellFormedFiles() {
  std::vector<std::string> paths;
  std::string root = ailab::testing::SharedDataDir() + "/dicom";
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    std::string path = entry.path().string();
    if (entry.is_regular_file() && entry.path().extension() == ".dcm" &&
        !absl::StrContains(path, "/malformed/")) {
      paths.push_back(path);
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// The storescu option that proposes `transfer_syntax_uid` (without one, storescu
// proposes only uncompressed syntaxes), or "" when DCMTK 3.6.7's storescu
// cannot send it.
std::string StorescuOption(const std::string& transfer_syntax_uid) {
  static const std::map<std::string, std::string> options = {
      {"1.2.840.10008.1.2", "-xi"},        {"1.2.840.10008.1.2.1", "-xe"},
      {"1.2.840.10008.1.2.2", "-xb"},      {"1.2.840.10008.1.2.1.99", "-xd"},
      {"1.2.840.10008.1.2.4.50", "-xy"},   {"1.2.840.10008.1.2.4.51", "-xx"},
      {"1.2.840.10008.1.2.4.70", "-xs"},   {"1.2.840.10008.1.2.4.80", "-xt"},
      {"1.2.840.10008.1.2.4.81", "-xu"},   {"1.2.840.10008.1.2.4.90", "-xv"},
      {"1.2.840.10008.1.2.4.91", "-xw"},   {"1.2.840.10008.1.2.5", "-xr"}};
  auto it = options.find(transfer_syntax_uid);
  return it == options.end() ? "" : it->second;
}

// Runs storescu from `calling_ae` to `called_ae` with `files` on one association,
// proposing the transfer syntaxes that `option` selects. Returns storescu's exit status.
int RunStorescu(uint16_t port, const std::string& called_ae, const std::string& calling_ae,
                const std::vector<std::string>& files, const std::string& log,
                const std::string& option = "-xe") {
  // -R proposes only the SOP classes of the files, so that none is left out of the
  // at most 128 presentation contexts of one association.
  std::string command = absl::StrCat("storescu -R ", option, " -aet ", calling_ae, " -aec ",
                                     called_ae, " 127.0.0.1 ", port);
  for (const std::string& file : files) absl::StrAppend(&command, " '", file, "'");
  absl::StrAppend(&command, " >>'", log, "' 2>&1");
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Returns the text of `path`, for failure messages.
std::string LogText(const std::string& path) { return ReadFile(path); }

// One ailab-ingest process with its storage SCP on a free loopback port.
class IngestWithScp {
 public:
  explicit IngestWithScp(const std::vector<std::string>& extra_args) {
    port_file_ = dir_.path() + "/dicom_port";
    std::vector<std::string> args = {"--database_url=" + database_.url(),
                                     "--blob_root=" + blobs_.path(),
                                     absl::StrCat("--deid_key=", kKey),
                                     "--dicom_port=0",
                                     "--dicom_port_file=" + port_file_};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto started = ailab::testing::ServiceProcess::Start("ailab-ingest", args);
    if (!started.ok()) FAIL("ailab-ingest did not start: " << started.status().message());
    process_ = std::move(started).value();
    stub_ = v1::IngestService::NewStub(ailab::rpc::Connect(process_->address()));
    // The SCP starts before the gRPC server reports SERVING, so the file exists now.
    port_ = static_cast<uint16_t>(std::stoi(ReadFile(port_file_)));
  }

  uint16_t port() const { return port_; }
  v1::IngestService::Stub& stub() { return *stub_; }
  const std::string& blob_root() const { return blobs_.path(); }
  std::string log_path() const { return process_->log_path(); }
  std::string storescu_log() const { return dir_.path() + "/storescu.log"; }

  std::vector<v1::Instance> ListInstances(const std::string& dataset) {
    std::vector<v1::Instance> instances;
    std::string token;
    do {
      grpc::ClientContext context;
      v1::ListInstancesRequest request;
      request.set_parent(dataset);
      request.set_page_size(50);
      request.set_page_token(token);
      v1::ListInstancesResponse response;
      grpc::Status status = stub_->ListInstances(&context, request, &response);
      INFO(status.error_message());
      REQUIRE(status.ok());
      for (const auto& instance : response.instances()) instances.push_back(instance);
      token = response.next_page_token();
    } while (!token.empty());
    return instances;
  }

  // Prepares PNGs and arrays of `dataset` and waits for the run to end; the bound only
  // keeps a broken service from hanging the test.
  v1::PreparationRun Prepare(const std::string& dataset) {
    grpc::ClientContext context;
    v1::CreatePreparationRunRequest request;
    request.set_parent(dataset);
    request.mutable_preparation_run()->add_kinds(v1::PNG);
    request.mutable_preparation_run()->add_kinds(v1::ARRAY);
    request.mutable_preparation_run()->set_array_size(64);
    v1::PreparationRun run;
    grpc::Status status = stub_->CreatePreparationRun(&context, request, &run);
    INFO(status.error_message());
    REQUIRE(status.ok());
    for (int i = 0; i < 2400; ++i) {
      grpc::ClientContext get_context;
      v1::GetPreparationRunRequest get;
      get.set_name(run.name());
      REQUIRE(stub_->GetPreparationRun(&get_context, get, &run).ok());
      if (run.state() != v1::PreparationRun::QUEUED &&
          run.state() != v1::PreparationRun::RUNNING) {
        return run;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    FAIL("preparation run " << run.name() << " did not end");
    return run;
  }

 private:
  ailab::testing::ScratchDatabase database_;
  ailab::testing::TempDir blobs_;
  ailab::testing::TempDir dir_;
  std::string port_file_;
  uint16_t port_ = 0;
  std::unique_ptr<ailab::testing::ServiceProcess> process_;
  std::unique_ptr<v1::IngestService::Stub> stub_;
};

// Local addresses (hex "ADDR:PORT" as /proc/net/tcp writes them) listening on `port`.
std::set<std::string> ListeningAddresses(uint16_t port) {
  std::set<std::string> addresses;
  char port_hex[8];
  std::snprintf(port_hex, sizeof(port_hex), "%04X", port);
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      // State 0A is LISTEN.
      if (state == "0A" && absl::EndsWith(local, absl::StrCat(":", port_hex))) {
        addresses.insert(local);
      }
    }
  }
  return addresses;
}

TEST_CASE("IngestScp: storescu sends the shared set twice", "[ingest][dicom]") {
  IngestWithScp ingest({"--dicom_dataset=datasets/pacs", "--dicom_ae_title=AILABTEST",
                        "--dicom_allowed_calling_ae_titles=MODALITY1,MODALITY2"});
  // Loopback only: one listening socket, on 127.0.0.1 (0100007F in /proc/net/tcp).
  char port_hex[8];
  std::snprintf(port_hex, sizeof(port_hex), "%04X", ingest.port());
  CHECK(ListeningAddresses(ingest.port()) ==
        std::set<std::string>{absl::StrCat("0100007F:", port_hex)});

  // Files grouped by the storescu option for their transfer syntax: one association
  // per group and sender.
  std::vector<std::string> files;
  std::map<std::string, std::vector<std::string>> by_option;
  for (const std::string& path : WellFormedFiles()) {
    auto parsed = ailab::dicom::ParseDicom(ReadFile(path), path);
    REQUIRE(parsed.ok());
    std::string option = StorescuOption(parsed->header().transfer_syntax_uid);
    // NOTE: HTJ2K (1.2.840.10008.1.2.4.201) is skipped: DCMTK 3.6.7's storescu has no
    // option to propose it, although the SCP accepts it.
    if (option.empty()) continue;
    files.push_back(path);
    by_option[option].push_back(path);
  }
  REQUIRE(files.size() >= 25);
  for (const char* sender : {"MODALITY1", "MODALITY2"}) {
    for (const auto& [option, group] : by_option) {
      INFO(sender << " " << option);
      int status = RunStorescu(ingest.port(), "AILABTEST", sender, group, ingest.storescu_log(),
                               option);
      INFO(LogText(ingest.storescu_log()));
      CHECK(status == 0);
    }
  }
  // storescu exits with 0 even when a C-STORE fails, so its log must show no error.
  std::string log = LogText(ingest.storescu_log());
  INFO(log);
  CHECK_FALSE(absl::StrContains(log, "E: "));

  // Stored once per SOP Instance UID (several test files are encodings of one instance),
  // de-identified.
  std::set<std::string> original_uids;
  for (const std::string& path : files) {
    auto original = ailab::dicom::ParseDicom(ReadFile(path), path);
    REQUIRE(original.ok());
    original_uids.insert(original->header().sop_instance_uid);
  }
  std::vector<v1::Instance> instances = ingest.ListInstances("datasets/pacs");
  CHECK(instances.size() == original_uids.size());
  std::map<std::string, const v1::Instance*> by_uid;
  for (const v1::Instance& instance : instances) by_uid[instance.sop_instance_uid()] = &instance;
  CHECK(by_uid.size() == instances.size());

  auto blobs = ailab::blob::BlobStore::Open(ingest.blob_root());
  REQUIRE(blobs.ok());
  for (const std::string& path : files) {
    INFO(path);
    auto original = ailab::dicom::ParseDicom(ReadFile(path), path);
    REQUIRE(original.ok());
    const ailab::dicom::DicomHeader& before = original->header();
    CHECK(by_uid.count(before.sop_instance_uid) == 0);
  }
  for (const v1::Instance& instance : instances) {
    INFO(instance.source_file());
    CHECK(absl::StartsWith(instance.source_file(), "cstore_MODALITY1_"));
    CHECK(absl::StartsWith(instance.patient_pseudonym(), "anon-"));
    auto stored = blobs->Get(instance.dicom_blob());
    REQUIRE(stored.ok());
    auto parsed = ailab::dicom::ParseDicom(*stored, instance.source_file());
    REQUIRE(parsed.ok());
    CHECK(parsed->header().patient_id == instance.patient_pseudonym());
    CHECK(parsed->header().patient_birth_date.empty());
  }
  // No original patient name or id of the set is left in any stored file.
  std::set<std::string> identifiers;
  for (const std::string& path : files) {
    auto original = ailab::dicom::ParseDicom(ReadFile(path), path);
    REQUIRE(original.ok());
    for (const std::string& value : {original->header().patient_name, original->header().patient_id}) {
      // Placeholders such as "^^^^" identify no patient.
      bool has_alphanumeric = std::any_of(value.begin(), value.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c));
      });
      if (value.size() >= 4 && has_alphanumeric) identifiers.insert(value);
    }
  }
  for (const v1::Instance& instance : instances) {
    std::string stored = *blobs->Get(instance.dicom_blob());
    for (const std::string& identifier : identifiers) {
      INFO(instance.source_file() << " contains " << identifier);
      CHECK_FALSE(absl::StrContains(stored, identifier));
    }
  }

  // Prepared: every image gets its PNG and array.
  v1::PreparationRun run = ingest.Prepare("datasets/pacs");
  for (const auto& failure : run.failures()) {
    UNSCOPED_INFO(failure.source_file() << ": " << failure.reason() << " " << failure.message());
  }
  CHECK(run.state() == v1::PreparationRun::SUCCEEDED);
  CHECK(run.failed_count() == 0);
  int images = 0;
  for (const v1::Instance& instance : ingest.ListInstances("datasets/pacs")) {
    INFO(instance.source_file());
    if (!instance.has_image()) continue;
    ++images;
    CHECK(instance.png_ready());
    CHECK(instance.array_ready());
  }
  CHECK(images == run.total_count());
  CHECK(images >= 20);

  // A sender outside the allowed list is rejected at association.
  std::vector<std::string> one = {files.front()};
  CHECK(RunStorescu(ingest.port(), "AILABTEST", "INTRUDER", one, ingest.storescu_log()) != 0);
  CHECK(ingest.ListInstances("datasets/pacs").size() == original_uids.size());
}

TEST_CASE("IngestScp: routes by called and calling AE title", "[ingest][dicom]") {
  IngestWithScp ingest({"--dicom_routes=ROUTED=datasets/routed,ROUTED@CTSENDER=datasets/ct-only,"
                        "OTHER=datasets/other"});
  std::string ct = ailab::testing::SharedDataDir() + "/dicom/uncompressed/CT_small.dcm";
  std::string mr = ailab::testing::SharedDataDir() + "/dicom/uncompressed/MR_small_implicit.dcm";
  std::string log = ingest.storescu_log();
  CHECK(RunStorescu(ingest.port(), "ROUTED", "CTSENDER", {ct}, log) == 0);
  CHECK(RunStorescu(ingest.port(), "ROUTED", "MODALITY", {mr}, log) == 0);
  CHECK(RunStorescu(ingest.port(), "OTHER", "CTSENDER", {ct, mr}, log) == 0);
  // The SCP rejects called AE titles without a route.
  CHECK(RunStorescu(ingest.port(), "AILAB", "CTSENDER", {ct}, log) != 0);

  std::vector<v1::Instance> ct_only = ingest.ListInstances("datasets/ct-only");
  REQUIRE(ct_only.size() == 1);
  CHECK(ct_only[0].modality() == "CT");
  std::vector<v1::Instance> routed = ingest.ListInstances("datasets/routed");
  REQUIRE(routed.size() == 1);
  CHECK(routed[0].modality() == "MR");
  CHECK(ingest.ListInstances("datasets/other").size() == 2);
}

TEST_CASE("IngestScp: bad SCP flags stop the service", "[ingest][dicom]") {
  ailab::testing::ScratchDatabase database;
  ailab::testing::TempDir blobs;
  for (const std::string& flag :
       {std::string("--dicom_routes=NOEQUALS"), std::string("--dicom_routes=A=notadataset"),
        std::string("--dicom_routes=A@B=datasets/x"),
        std::string("--dicom_routes=THIS_TITLE_IS_TOO_LONG=datasets/x"),
        std::string("--dicom_bind_address=nowhere")}) {
    INFO(flag);
    auto started = ailab::testing::ServiceProcess::Start(
        "ailab-ingest", {"--database_url=" + database.url(), "--blob_root=" + blobs.path(),
                         absl::StrCat("--deid_key=", kKey), "--dicom_port=0",
                         "--dicom_dataset=datasets/pacs", flag});
    CHECK_FALSE(started.ok());
  }
}

}  // namespace
