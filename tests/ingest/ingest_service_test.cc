// Tests of the ingest service as a real process: the ailab-ingest binary runs on a
// scratch PostgreSQL database and a temporary blob store, and receives the real DICOM
// files of the shared test data over gRPC.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/blob/blob_store.h"
#include "ailab/dicom/dicom.h"
#include "ailab/dicom/storage_scu.h"
#include "ailab/evaluation/v1/evaluation.grpc.pb.h"
#include "ailab/imaging/npy.h"
#include "ailab/imaging/png.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "fixtures.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"

namespace {

namespace v1 = ::ailab::ingest::v1;
using v1::IngestService;

constexpr char kKey[] = "ingest-test-key-abcdefghijklmnop";

// Files of the shared set that must be rejected, by file name.
const std::set<std::string>& MalformedFiles() {
  static const std::set<std::string> files = {
      "MR_truncated.dcm", "badVR.dcm", "emri_small_jpeg_2k_lossless_too_short.dcm",
      "meta_missing_tsyntax.dcm", "rtplan_truncated.dcm"};
  return files;
}

struct TestFile {
  std::string name;
  std::string bytes;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Every .dcm file of the shared DICOM folder, sorted by path.
std::vector<TestFile> SharedFiles() {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(ailab::testing::SharedDataDir() + "/dicom")) {
    if (entry.is_regular_file() && entry.path().extension() == ".dcm") {
      paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<TestFile> files;
  for (const auto& path : paths) files.push_back({path.filename().string(), ReadFile(path)});
  return files;
}

// One ailab-ingest process on its own scratch database and blob store.
class Ingest {
 public:
  explicit Ingest(std::vector<std::string> extra_args = {}) {
    // No evaluation service by default: tests that need one name a fake later on the
    // command line, and the last value of a flag wins.
    std::vector<std::string> args = {
        "--database_url=" + database_.url(), "--blob_root=" + blobs_.path(),
        absl::StrCat("--deid_key=", kKey), "--log_level=debug", "--evaluation_address="};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto started = ailab::testing::ServiceProcess::Start("ailab-ingest", args);
    if (!started.ok()) FAIL("ailab-ingest did not start: " << started.status().message());
    process_ = std::move(started).value();
    Connect();
  }

  void Connect() { stub_ = IngestService::NewStub(ailab::rpc::Connect(process_->address())); }

  IngestService::Stub& stub() { return *stub_; }
  ailab::testing::ServiceProcess& process() { return *process_; }
  const std::string& blob_root() const { return blobs_.path(); }

  v1::Dataset CreateDataset(const std::string& id) {
    grpc::ClientContext context;
    v1::CreateDatasetRequest request;
    request.set_dataset_id(id);
    request.mutable_dataset()->set_display_name(absl::StrCat("Dataset ", id));
    v1::Dataset dataset;
    grpc::Status status = stub_->CreateDataset(&context, request, &dataset);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return dataset;
  }

  // Uploads `files` into `dataset`, each in chunks of `chunk_bytes`.
  absl::StatusOr<v1::UploadInstancesResponse> Upload(const std::string& dataset,
                                                     const std::vector<TestFile>& files,
                                                     size_t chunk_bytes = 64 * 1024) {
    grpc::ClientContext context;
    v1::UploadInstancesResponse response;
    auto writer = stub_->UploadInstances(&context, &response);
    bool first = true;
    for (const TestFile& file : files) {
      size_t offset = 0;
      do {
        v1::UploadInstancesRequest chunk;
        if (first) chunk.set_parent(dataset);
        first = false;
        chunk.set_file_name(file.name);
        size_t n = std::min(chunk_bytes, file.bytes.size() - offset);
        chunk.set_data(file.bytes.substr(offset, n));
        offset += n;
        chunk.set_last_chunk(offset >= file.bytes.size());
        if (!writer->Write(chunk)) break;
      } while (offset < file.bytes.size());
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    if (!status.ok()) return ailab::rpc::FromGrpcStatus(status);
    return response;
  }

  std::vector<v1::Instance> ListInstances(const std::string& dataset,
                                          const std::string& filter = "") {
    std::vector<v1::Instance> instances;
    std::string token;
    do {
      grpc::ClientContext context;
      v1::ListInstancesRequest request;
      request.set_parent(dataset);
      request.set_filter(filter);
      request.set_page_size(7);
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

  v1::PreparationRun GetRun(const std::string& name) {
    grpc::ClientContext context;
    v1::GetPreparationRunRequest request;
    request.set_name(name);
    v1::PreparationRun run;
    grpc::Status status = stub_->GetPreparationRun(&context, request, &run);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return run;
  }

  // Polls until the run has ended; the bound only keeps a broken service from hanging.
  v1::PreparationRun WaitForRun(const std::string& name) {
    for (int i = 0; i < 1200; ++i) {
      v1::PreparationRun run = GetRun(name);
      if (run.state() != v1::PreparationRun::QUEUED &&
          run.state() != v1::PreparationRun::RUNNING) {
        return run;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    FAIL("preparation run " << name << " did not end");
    return {};
  }

 private:
  ailab::testing::ScratchDatabase database_;
  ailab::testing::TempDir blobs_;
  std::unique_ptr<ailab::testing::ServiceProcess> process_;
  std::unique_ptr<IngestService::Stub> stub_;
};

// The original SOP Instance UID of a file, to know which uploads are duplicates.
std::string OriginalSopUid(const TestFile& file) {
  auto object = ailab::dicom::ParseDicom(file.bytes, file.name);
  return object.ok() ? object->header().sop_instance_uid : "";
}

void CheckCode(const grpc::Status& status, grpc::StatusCode code, const std::string& reason) {
  INFO(status.error_message());
  CHECK(status.error_code() == code);
  CHECK(ailab::GetErrorReason(ailab::rpc::FromGrpcStatus(status)) == reason);
  CHECK_FALSE(status.error_message().empty());
}

TEST_CASE("IngestService: upload of the shared DICOM set", "[ingest]") {
  Ingest ingest;
  v1::Dataset dataset = ingest.CreateDataset("shared");
  std::vector<TestFile> files = SharedFiles();
  REQUIRE(files.size() >= 30);

  auto response = ingest.Upload(dataset.name(), files);
  REQUIRE(response.ok());
  REQUIRE(response->results_size() == static_cast<int>(files.size()));

  // Malformed files are rejected naming the file; the others are stored once per SOP
  // Instance UID (several files are re-encodings of one image).
  std::set<std::string> seen_uids;
  int stored = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const v1::UploadResult& result = response->results(static_cast<int>(i));
    INFO(files[i].name << ": " << result.reason() << " " << result.message());
    CHECK(result.file_name() == files[i].name);
    if (MalformedFiles().count(files[i].name) > 0) {
      CHECK(result.outcome() == v1::UploadResult::REJECTED);
      CHECK_FALSE(result.reason().empty());
      CHECK(absl::StrContains(result.message(), files[i].name));
      continue;
    }
    std::string uid = OriginalSopUid(files[i]);
    bool duplicate = !seen_uids.insert(uid).second;
    CHECK(result.outcome() ==
          (duplicate ? v1::UploadResult::DUPLICATE : v1::UploadResult::STORED));
    CHECK(absl::StartsWith(result.instance(), dataset.name() + "/instances/"));
    if (!duplicate) ++stored;
  }
  CHECK(response->stored_count() == stored);
  CHECK(response->rejected_count() == static_cast<int>(MalformedFiles().size()));

  // Uploading again changes nothing.
  auto again = ingest.Upload(dataset.name(), files, 1 << 20);
  REQUIRE(again.ok());
  CHECK(again->stored_count() == 0);
  CHECK(again->rejected_count() == static_cast<int>(MalformedFiles().size()));
  CHECK(again->duplicate_count() ==
        static_cast<int>(files.size() - MalformedFiles().size()));
  std::vector<v1::Instance> instances = ingest.ListInstances(dataset.name());
  CHECK(static_cast<int>(instances.size()) == stored);

  // Header fields of the mammogram, de-identified.
  auto mammogram = std::find_if(instances.begin(), instances.end(), [](const v1::Instance& i) {
    return i.source_file() == "MG1_JPLY.dcm" || i.source_file() == "MG1_J2KI.dcm";
  });
  REQUIRE(mammogram != instances.end());
  CHECK(mammogram->laterality() == "L");
  CHECK(mammogram->view() == "MLO");
  CHECK(mammogram->rows() == 4664);
  CHECK(mammogram->columns() == 3064);
  CHECK(absl::StartsWith(mammogram->patient_pseudonym(), "anon-"));
  CHECK(absl::StartsWith(mammogram->sop_instance_uid(), "2.25."));
  CHECK(mammogram->study_date().size() == 10);
  CHECK(mammogram->study_date() != "2004-08-26");
  CHECK(mammogram->has_image());

  // The stored DICOM file is de-identified.
  auto blobs = ailab::blob::BlobStore::Open(ingest.blob_root());
  REQUIRE(blobs.ok());
  auto stored_file = blobs->Get(mammogram->dicom_blob());
  REQUIRE(stored_file.ok());
  auto parsed = ailab::dicom::ParseDicom(*stored_file, "stored.dcm");
  REQUIRE(parsed.ok());
  CHECK(parsed->header().patient_id == mammogram->patient_pseudonym());

  // Dataset counts.
  grpc::ClientContext context;
  v1::GetDatasetRequest get;
  get.set_name(dataset.name());
  v1::Dataset counted;
  REQUIRE(ingest.stub().GetDataset(&context, get, &counted).ok());
  CHECK(counted.counts().instances() == stored);
  CHECK(counted.counts().unassigned() == stored);
  CHECK(counted.counts().studies() > 0);
}

TEST_CASE("IngestService: no patient name or id reaches the log", "[ingest]") {
  std::vector<TestFile> files = SharedFiles();
  std::vector<std::string> identifiers;
  for (const TestFile& file : files) {
    auto object = ailab::dicom::ParseDicom(file.bytes, file.name);
    if (!object.ok()) continue;
    for (const std::string& value :
         {object->header().patient_name, object->header().patient_id,
          object->header().sop_instance_uid, object->header().study_instance_uid}) {
      // Short values ("1", "O") match unrelated text by chance.
      if (value.size() >= 5) identifiers.push_back(value);
    }
  }
  REQUIRE(identifiers.size() > 10);

  std::string log_path;
  {
    Ingest ingest;
    v1::Dataset dataset = ingest.CreateDataset("phi");
    REQUIRE(ingest.Upload(dataset.name(), files).ok());
    grpc::ClientContext context;
    v1::CreatePreparationRunRequest request;
    request.set_parent(dataset.name());
    request.mutable_preparation_run()->add_kinds(v1::PNG);
    v1::PreparationRun run;
    REQUIRE(ingest.stub().CreatePreparationRun(&context, request, &run).ok());
    ingest.WaitForRun(run.name());
    log_path = ingest.process().log_path();
    REQUIRE(ingest.process().Stop().ok());
    std::string log = ReadFile(log_path);
    REQUIRE_FALSE(log.empty());
    for (const std::string& identifier : identifiers) {
      // The identifiers come from public test files, so printing the context is safe.
      size_t at = log.find(identifier);
      std::string context = at == std::string::npos ? "" : log.substr(at < 80 ? 0 : at - 80, 160);
      INFO(identifier << " in: " << context);
      CHECK(at == std::string::npos);
    }
  }
}

TEST_CASE("IngestService: splits are reproducible and patient-disjoint", "[ingest]") {
  Ingest ingest;
  v1::Dataset dataset = ingest.CreateDataset("splits");
  REQUIRE(ingest.Upload(dataset.name(), SharedFiles()).ok());

  auto assign = [&](int64_t seed) {
    grpc::ClientContext context;
    v1::AssignSplitsRequest request;
    request.set_dataset(dataset.name());
    request.set_train_fraction(0.6);
    request.set_validation_fraction(0.2);
    request.set_test_fraction(0.2);
    request.set_seed(seed);
    v1::AssignSplitsResponse response;
    grpc::Status status = ingest.stub().AssignSplits(&context, request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    std::map<std::string, v1::DataSplit> splits;
    for (const v1::Instance& instance : ingest.ListInstances(dataset.name())) {
      splits[instance.name()] = instance.split();
    }
    return std::make_pair(response, splits);
  };
  auto [first_counts, first] = assign(11);
  auto [second_counts, second] = assign(11);
  CHECK(first == second);
  CHECK(first_counts.train_patients() > 0);
  CHECK(first_counts.train_instances() + first_counts.validation_instances() +
            first_counts.test_instances() ==
        static_cast<int64_t>(first.size()));

  // Every instance has a split, and one patient's instances share it.
  std::map<std::string, std::set<int>> by_patient;
  for (const v1::Instance& instance : ingest.ListInstances(dataset.name())) {
    CHECK(instance.split() != v1::DATA_SPLIT_UNSPECIFIED);
    by_patient[instance.patient_pseudonym()].insert(instance.split());
  }
  for (const auto& [patient, splits] : by_patient) {
    INFO(patient);
    CHECK(splits.size() == 1);
  }

  // The filter selects one split.
  std::vector<v1::Instance> train = ingest.ListInstances(dataset.name(), "split=TRAIN");
  CHECK(static_cast<int64_t>(train.size()) == first_counts.train_instances());
  for (const v1::Instance& instance : train) CHECK(instance.split() == v1::TRAIN);
}

TEST_CASE("IngestService: preparation writes PNGs and arrays", "[ingest]") {
  Ingest ingest;
  v1::Dataset dataset = ingest.CreateDataset("prepare");
  REQUIRE(ingest.Upload(dataset.name(), SharedFiles()).ok());

  grpc::ClientContext context;
  v1::CreatePreparationRunRequest request;
  request.set_parent(dataset.name());
  request.mutable_preparation_run()->add_kinds(v1::PNG);
  request.mutable_preparation_run()->add_kinds(v1::ARRAY);
  request.mutable_preparation_run()->set_array_size(64);
  v1::PreparationRun created;
  REQUIRE(ingest.stub().CreatePreparationRun(&context, request, &created).ok());
  CHECK(absl::StartsWith(created.name(), dataset.name() + "/preparationRuns/"));
  CHECK(created.total_count() > 0);

  v1::PreparationRun run = ingest.WaitForRun(created.name());
  for (const auto& failure : run.failures()) {
    UNSCOPED_INFO(failure.source_file() << ": " << failure.reason() << " " << failure.message());
  }
  CHECK(run.state() == v1::PreparationRun::SUCCEEDED);
  CHECK(run.done_count() == run.total_count());
  CHECK(run.failed_count() == 0);

  auto blobs = ailab::blob::BlobStore::Open(ingest.blob_root());
  REQUIRE(blobs.ok());
  int images = 0;
  for (const v1::Instance& instance : ingest.ListInstances(dataset.name())) {
    INFO(instance.source_file());
    if (!instance.has_image()) {
      CHECK_FALSE(instance.png_ready());
      continue;
    }
    ++images;
    REQUIRE(instance.png_ready());
    REQUIRE(instance.array_ready());
    CHECK(instance.array_shape_size() == 2);
    CHECK(instance.array_dtype() == "<f4");

    auto png = blobs->Get(instance.png_blob());
    REQUIRE(png.ok());
    auto image = ailab::imaging::DecodePng(*png);
    REQUIRE(image.ok());
    CHECK(image->width == instance.columns());
    CHECK(image->height == instance.rows());

    auto npy = blobs->Get(instance.array_blob());
    REQUIRE(npy.ok());
    auto array = ailab::imaging::DecodeNpy(*npy);
    REQUIRE(array.ok());
    CHECK(array->shape == std::vector<int64_t>{64, 64});
    auto values = array->AsFloat();
    REQUIRE(values.ok());
    CHECK(*std::max_element(values->begin(), values->end()) <= 1.0f);
    CHECK(*std::min_element(values->begin(), values->end()) >= 0.0f);
  }
  CHECK(images == run.total_count());

  // Listing runs, and cancelling one that has ended.
  grpc::ClientContext list_context;
  v1::ListPreparationRunsRequest list;
  list.set_parent(dataset.name());
  v1::ListPreparationRunsResponse runs;
  REQUIRE(ingest.stub().ListPreparationRuns(&list_context, list, &runs).ok());
  CHECK(runs.preparation_runs_size() == 1);
  grpc::ClientContext cancel_context;
  v1::CancelPreparationRunRequest cancel;
  cancel.set_name(created.name());
  v1::PreparationRun cancelled;
  CheckCode(ingest.stub().CancelPreparationRun(&cancel_context, cancel, &cancelled),
            grpc::StatusCode::FAILED_PRECONDITION, "PREPARATION_RUN_ENDED");
}

TEST_CASE("IngestService: a killed service resumes its preparation run", "[ingest]") {
  Ingest ingest({"--preparation_threads=1"});
  v1::Dataset dataset = ingest.CreateDataset("restart");
  REQUIRE(ingest.Upload(dataset.name(), SharedFiles()).ok());

  grpc::ClientContext context;
  v1::CreatePreparationRunRequest request;
  request.set_parent(dataset.name());
  request.mutable_preparation_run()->add_kinds(v1::ARRAY);
  v1::PreparationRun created;
  REQUIRE(ingest.stub().CreatePreparationRun(&context, request, &created).ok());

  // Kill the process while the run is queued or running, then start it again. Whether
  // some items were done before the kill does not matter: the run must end complete.
  ingest.process().Kill();
  REQUIRE(ingest.process().Restart().ok());
  ingest.Connect();
  v1::PreparationRun run = ingest.WaitForRun(created.name());
  CHECK(run.state() == v1::PreparationRun::SUCCEEDED);
  CHECK(run.done_count() == run.total_count());
  for (const v1::Instance& instance : ingest.ListInstances(dataset.name(), "has_image=true")) {
    INFO(instance.source_file());
    CHECK(instance.array_ready());
  }
  std::vector<v1::Instance> missing =
      ingest.ListInstances(dataset.name(), "has_image=true AND array_ready=false");
  CHECK(missing.empty());
}

TEST_CASE("IngestService: bad requests get the right code and reason", "[ingest]") {
  Ingest ingest({"--max_upload_file_bytes=100000"});
  v1::Dataset dataset = ingest.CreateDataset("errors");
  auto& stub = ingest.stub();

  SECTION("datasets") {
    grpc::ClientContext c1;
    v1::CreateDatasetRequest create;
    create.set_dataset_id("errors");
    create.mutable_dataset()->set_display_name("again");
    v1::Dataset out;
    CheckCode(stub.CreateDataset(&c1, create, &out), grpc::StatusCode::ALREADY_EXISTS,
              "DATASET_ALREADY_EXISTS");

    grpc::ClientContext c2;
    create.set_dataset_id("Bad_Id");
    CheckCode(stub.CreateDataset(&c2, create, &out), grpc::StatusCode::INVALID_ARGUMENT,
              "INVALID_DATASET_ID");

    grpc::ClientContext c3;
    create.set_dataset_id("");
    create.mutable_dataset()->set_display_name("");
    CheckCode(stub.CreateDataset(&c3, create, &out), grpc::StatusCode::INVALID_ARGUMENT,
              "INVALID_DISPLAY_NAME");

    grpc::ClientContext c3b;
    create.set_dataset_id("escape");
    create.mutable_dataset()->set_display_name("screen \x1b[2J wiped");
    CheckCode(stub.CreateDataset(&c3b, create, &out), grpc::StatusCode::INVALID_ARGUMENT,
              "CONTROL_CHARACTER");
    create.set_dataset_id("");

    grpc::ClientContext c4;
    create.mutable_dataset()->set_display_name("x");
    create.mutable_dataset()->set_use_case("catalog/x");
    CheckCode(stub.CreateDataset(&c4, create, &out), grpc::StatusCode::INVALID_ARGUMENT,
              "INVALID_USE_CASE");

    grpc::ClientContext c5;
    v1::GetDatasetRequest get;
    get.set_name("datasets/missing");
    CheckCode(stub.GetDataset(&c5, get, &out), grpc::StatusCode::NOT_FOUND, "DATASET_NOT_FOUND");

    grpc::ClientContext c6;
    get.set_name("useCases/x");
    CheckCode(stub.GetDataset(&c6, get, &out), grpc::StatusCode::INVALID_ARGUMENT, "INVALID_NAME");

    grpc::ClientContext c7;
    v1::ListDatasetsRequest list;
    list.set_page_size(-1);
    v1::ListDatasetsResponse listed;
    CHECK(stub.ListDatasets(&c7, list, &listed).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);

    grpc::ClientContext c8;
    list.set_page_size(0);
    list.set_page_token("not a token");
    CHECK(stub.ListDatasets(&c8, list, &listed).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);

    grpc::ClientContext c9;
    v1::DeleteDatasetRequest del;
    del.set_name("datasets/missing");
    v1::DeleteDatasetResponse deleted;
    CheckCode(stub.DeleteDataset(&c9, del, &deleted), grpc::StatusCode::NOT_FOUND,
              "DATASET_NOT_FOUND");
  }

  SECTION("uploads") {
    auto no_parent = ingest.Upload("", {{"a.dcm", "x"}});
    CHECK(no_parent.status().code() == absl::StatusCode::kInvalidArgument);
    auto unknown = ingest.Upload("datasets/missing", {{"a.dcm", "x"}});
    CHECK(unknown.status().code() == absl::StatusCode::kNotFound);

    // Per-file faults: the batch goes on.
    std::string small = ReadFile(ailab::testing::SharedDataDir() + "/dicom/uncompressed/CT_small.dcm");
    std::string big = ReadFile(ailab::testing::SharedDataDir() + "/dicom/uncompressed/vlut_04.dcm");
    auto response = ingest.Upload(dataset.name(), {{"garbage.dcm", std::string(3000, 'x')},
                                                   {"big.dcm", big},
                                                   {"ct.dcm", small}});
    REQUIRE(response.ok());
    REQUIRE(response->results_size() == 3);
    CHECK(response->results(0).reason() == "INVALID_DICOM");
    CHECK(absl::StrContains(response->results(0).message(), "garbage.dcm"));
    CHECK(response->results(1).reason() == "FILE_TOO_LARGE");
    CHECK(response->results(2).outcome() == v1::UploadResult::STORED);

    // A wrong checksum and a file without its last chunk.
    grpc::ClientContext context;
    v1::UploadInstancesResponse out;
    auto writer = stub.UploadInstances(&context, &out);
    v1::UploadInstancesRequest chunk;
    chunk.set_parent(dataset.name());
    chunk.set_file_name("folder/ct.dcm");
    chunk.set_data(small);
    chunk.set_sha256(std::string(64, '0'));
    chunk.set_last_chunk(true);
    REQUIRE(writer->Write(chunk));
    chunk.clear_sha256();
    chunk.set_file_name("unfinished.dcm");
    chunk.set_last_chunk(false);
    REQUIRE(writer->Write(chunk));
    writer->WritesDone();
    REQUIRE(writer->Finish().ok());
    REQUIRE(out.results_size() == 2);
    CHECK(out.results(0).file_name() == "ct.dcm");
    CHECK(out.results(0).reason() == "CHECKSUM_MISMATCH");
    CHECK(out.results(1).reason() == "INCOMPLETE_FILE");
  }

  SECTION("instances and splits") {
    grpc::ClientContext c1;
    v1::GetInstanceRequest get;
    get.set_name(dataset.name() + "/instances/0000000000000000");
    v1::Instance instance;
    CheckCode(stub.GetInstance(&c1, get, &instance), grpc::StatusCode::NOT_FOUND,
              "INSTANCE_NOT_FOUND");

    grpc::ClientContext c2;
    get.set_name(dataset.name() + "/things/1");
    CheckCode(stub.GetInstance(&c2, get, &instance), grpc::StatusCode::INVALID_ARGUMENT,
              "INVALID_NAME");

    grpc::ClientContext c3;
    v1::ListInstancesRequest list;
    list.set_parent(dataset.name());
    list.set_filter("colour=red");
    v1::ListInstancesResponse listed;
    CheckCode(stub.ListInstances(&c3, list, &listed), grpc::StatusCode::INVALID_ARGUMENT,
              "INVALID_FILTER");

    grpc::ClientContext c4;
    list.set_parent("datasets/missing");
    list.clear_filter();
    CheckCode(stub.ListInstances(&c4, list, &listed), grpc::StatusCode::NOT_FOUND,
              "DATASET_NOT_FOUND");

    grpc::ClientContext c5;
    v1::AssignSplitsRequest split;
    split.set_dataset(dataset.name());
    split.set_train_fraction(0.9);
    split.set_validation_fraction(0.9);
    v1::AssignSplitsResponse split_response;
    CheckCode(stub.AssignSplits(&c5, split, &split_response), grpc::StatusCode::INVALID_ARGUMENT,
              "INVALID_SPLIT_FRACTION");

    grpc::ClientContext c6;
    split.set_train_fraction(0.8);
    split.set_validation_fraction(0.1);
    split.set_test_fraction(0.1);
    CheckCode(stub.AssignSplits(&c6, split, &split_response),
              grpc::StatusCode::FAILED_PRECONDITION, "DATASET_EMPTY");

    grpc::ClientContext c7;
    v1::ListStudiesRequest studies;
    studies.set_parent("datasets/missing");
    v1::ListStudiesResponse studies_response;
    CheckCode(stub.ListStudies(&c7, studies, &studies_response), grpc::StatusCode::NOT_FOUND,
              "DATASET_NOT_FOUND");

    grpc::ClientContext c8;
    v1::ListSeriesRequest series;
    series.set_parent(dataset.name() + "/studies/abc");
    v1::ListSeriesResponse series_response;
    CheckCode(stub.ListSeries(&c8, series, &series_response), grpc::StatusCode::NOT_FOUND,
              "STUDY_NOT_FOUND");
  }

  SECTION("preparation runs") {
    auto create = [&](const v1::PreparationRun& settings) {
      grpc::ClientContext context;
      v1::CreatePreparationRunRequest request;
      request.set_parent(dataset.name());
      *request.mutable_preparation_run() = settings;
      v1::PreparationRun run;
      return stub.CreatePreparationRun(&context, request, &run);
    };
    v1::PreparationRun settings;
    CheckCode(create(settings), grpc::StatusCode::INVALID_ARGUMENT, "MISSING_PREPARATION_KIND");
    settings.add_kinds(v1::ARRAY);
    settings.set_array_size(5000);
    CheckCode(create(settings), grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARRAY_SIZE");
    settings.set_array_size(64);
    settings.set_window_preset("bright");
    CheckCode(create(settings), grpc::StatusCode::INVALID_ARGUMENT, "INVALID_WINDOW_PRESET");
    settings.set_window_preset("40/400");
    settings.set_array_dtype("<f8");
    CheckCode(create(settings), grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARRAY_DTYPE");

    grpc::ClientContext c1;
    v1::GetPreparationRunRequest get;
    get.set_name(dataset.name() + "/preparationRuns/0000000000000000");
    v1::PreparationRun run;
    CheckCode(stub.GetPreparationRun(&c1, get, &run), grpc::StatusCode::NOT_FOUND,
              "PREPARATION_RUN_NOT_FOUND");

    grpc::ClientContext c2;
    v1::CancelPreparationRunRequest cancel;
    cancel.set_name("datasets/errors/preparationRuns");
    CheckCode(stub.CancelPreparationRun(&c2, cancel, &run), grpc::StatusCode::INVALID_ARGUMENT,
              "INVALID_NAME");

    // An empty dataset's run has nothing to do and succeeds at once.
    settings.set_array_dtype("<u2");
    grpc::ClientContext c3;
    v1::CreatePreparationRunRequest request;
    request.set_parent(dataset.name());
    *request.mutable_preparation_run() = settings;
    v1::PreparationRun empty;
    REQUIRE(stub.CreatePreparationRun(&c3, request, &empty).ok());
    CHECK(empty.state() == v1::PreparationRun::SUCCEEDED);
    CHECK(empty.total_count() == 0);
  }

  SECTION("deleting a dataset") {
    grpc::ClientContext c1;
    v1::DeleteDatasetRequest del;
    del.set_name(dataset.name());
    v1::DeleteDatasetResponse deleted;
    REQUIRE(stub.DeleteDataset(&c1, del, &deleted).ok());
    grpc::ClientContext c2;
    v1::GetDatasetRequest get;
    get.set_name(dataset.name());
    v1::Dataset out;
    CheckCode(stub.GetDataset(&c2, get, &out), grpc::StatusCode::NOT_FOUND, "DATASET_NOT_FOUND");
  }
}

// A loopback port that was free a moment ago.
uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// An evaluation service on loopback whose ListChallenges returns a fixed list.
class FakeEvaluation final : public ailab::evaluation::v1::EvaluationService::Service {
 public:
  explicit FakeEvaluation(std::vector<ailab::evaluation::v1::Challenge> challenges)
      : challenges_(std::move(challenges)) {
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    address_ = absl::StrCat("127.0.0.1:", port);
  }
  ~FakeEvaluation() override { server_->Shutdown(); }

  const std::string& address() const { return address_; }

  // Sets the owner of challenge `name`; call before the service under test lists them.
  void SetOwner(const std::string& name, const std::string& owner) {
    for (auto& challenge : challenges_) {
      if (challenge.name() == name) challenge.set_owner(owner);
    }
  }

  grpc::Status ListChallenges(grpc::ServerContext*,
                              const ailab::evaluation::v1::ListChallengesRequest*,
                              ailab::evaluation::v1::ListChallengesResponse* response) override {
    for (const auto& challenge : challenges_) *response->add_challenges() = challenge;
    return grpc::Status::OK;
  }

 private:
  std::vector<ailab::evaluation::v1::Challenge> challenges_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

ailab::evaluation::v1::Challenge MakeChallenge(const std::string& name, const std::string& test,
                                               const std::string& final_dataset, bool closed) {
  ailab::evaluation::v1::Challenge challenge;
  challenge.set_name(name);
  challenge.set_test_dataset(test);
  challenge.set_final_dataset(final_dataset);
  challenge.set_state(closed ? ailab::evaluation::v1::Challenge::CLOSED
                             : ailab::evaluation::v1::Challenge::OPEN);
  return challenge;
}

TEST_CASE("IngestService: open challenge datasets not deletable", "[ingest]") {
  FakeEvaluation evaluation(
      {MakeChallenge("challenges/open", "datasets/scored", "datasets/hidden", false),
       MakeChallenge("challenges/done", "datasets/old", "datasets/old-final", true)});
  Ingest ingest({"--evaluation_address=" + evaluation.address()});
  for (const char* id : {"scored", "hidden", "old", "free"}) ingest.CreateDataset(id);

  auto remove = [&](const std::string& name) {
    grpc::ClientContext context;
    v1::DeleteDatasetRequest request;
    request.set_name(name);
    v1::DeleteDatasetResponse response;
    return ingest.stub().DeleteDataset(&context, request, &response);
  };
  auto exists = [&](const std::string& name) {
    grpc::ClientContext context;
    v1::GetDatasetRequest request;
    request.set_name(name);
    v1::Dataset dataset;
    return ingest.stub().GetDataset(&context, request, &dataset).ok();
  };

  // The test and the hidden final dataset of the open challenge stay.
  for (const char* name : {"datasets/scored", "datasets/hidden"}) {
    INFO(name);
    grpc::Status status = remove(name);
    CheckCode(status, grpc::StatusCode::FAILED_PRECONDITION, "DATASET_IN_CHALLENGE");
    CHECK(absl::StrContains(status.error_message(), "challenges/open"));
    CHECK(absl::StrContains(status.error_message(), "close the challenge first"));
    CHECK(exists(name));
  }
  // Datasets of closed challenges, and of none, can go.
  CHECK(remove("datasets/old").ok());
  CHECK(remove("datasets/free").ok());
  CHECK_FALSE(exists("datasets/old"));
  CHECK_FALSE(exists("datasets/free"));
}

TEST_CASE("IngestService: no deletion without evaluation service", "[ingest]") {
  // A port that nothing listens on: the check fails closed and the dataset stays.
  uint16_t port;
  {
    FakeEvaluation gone({});
    port = static_cast<uint16_t>(std::stoi(gone.address().substr(gone.address().rfind(':') + 1)));
  }
  Ingest ingest({absl::StrCat("--evaluation_address=127.0.0.1:", port)});
  ingest.CreateDataset("kept");
  grpc::ClientContext context;
  v1::DeleteDatasetRequest request;
  request.set_name("datasets/kept");
  v1::DeleteDatasetResponse response;
  grpc::Status status = ingest.stub().DeleteDataset(&context, request, &response);
  CheckCode(status, grpc::StatusCode::UNAVAILABLE, "CHALLENGES_UNAVAILABLE");
  CHECK(absl::StrContains(status.error_message(), "--evaluation_address"));
  grpc::ClientContext get_context;
  v1::GetDatasetRequest get;
  get.set_name("datasets/kept");
  v1::Dataset dataset;
  CHECK(ingest.stub().GetDataset(&get_context, get, &dataset).ok());
}

TEST_CASE("IngestService: open challenge final datasets hidden", "[ingest]") {
  constexpr char kToken[] = "ingest-test-token";
  FakeEvaluation evaluation(
      {MakeChallenge("challenges/open", "datasets/scored", "datasets/hidden", false),
       MakeChallenge("challenges/done", "datasets/old", "datasets/old-final", true)});
  evaluation.SetOwner("challenges/open", "olivia");
  Ingest ingest(
      {"--evaluation_address=" + evaluation.address(), absl::StrCat("--internal_token=", kToken)});

  // A call for `user` with `role`, or for no one (a platform service) when `user` is "".
  auto sign = [&](grpc::ClientContext& context, const std::string& user, const char* role) {
    if (user.empty()) {
      context.AddMetadata("x-ailab-internal-token", kToken);
      return;
    }
    ailab::rpc::Identity identity;
    identity.user = user;
    identity.roles = {role};
    identity.expires = absl::Now() + absl::Minutes(5);
    context.AddMetadata(ailab::rpc::kIdentityKey, ailab::rpc::SignIdentity(identity, kToken));
  };
  for (const char* id : {"scored", "hidden", "old-final"}) {
    grpc::ClientContext context;
    sign(context, "", "");
    v1::CreateDatasetRequest create;
    create.set_dataset_id(id);
    create.mutable_dataset()->set_display_name(id);
    v1::Dataset dataset;
    REQUIRE(ingest.stub().CreateDataset(&context, create, &dataset).ok());
  }
  auto listed = [&](const std::string& user, const char* role) {
    grpc::ClientContext context;
    sign(context, user, role);
    v1::ListDatasetsRequest request;
    v1::ListDatasetsResponse response;
    REQUIRE(ingest.stub().ListDatasets(&context, request, &response).ok());
    std::set<std::string> names;
    for (const v1::Dataset& dataset : response.datasets()) names.insert(dataset.name());
    return names;
  };
  auto get = [&](const std::string& user, const char* role, const std::string& name) {
    grpc::ClientContext context;
    sign(context, user, role);
    v1::GetDatasetRequest request;
    request.set_name(name);
    v1::Dataset dataset;
    return ingest.stub().GetDataset(&context, request, &dataset);
  };
  auto instances = [&](const std::string& user, const char* role, const std::string& parent) {
    grpc::ClientContext context;
    sign(context, user, role);
    v1::ListInstancesRequest request;
    request.set_parent(parent);
    v1::ListInstancesResponse response;
    return ingest.stub().ListInstances(&context, request, &response);
  };

  // A radiologist who may compete can read neither the final dataset nor its instances,
  // and gets the error of a dataset that does not exist.
  std::set<std::string> seen = listed("rita", "radiologist");
  CHECK(seen.count("datasets/scored") == 1);
  CHECK(seen.count("datasets/hidden") == 0);
  CHECK(seen.count("datasets/old-final") == 1);
  CheckCode(get("rita", "radiologist", "datasets/hidden"), grpc::StatusCode::NOT_FOUND,
            "DATASET_NOT_FOUND");
  CheckCode(instances("rita", "radiologist", "datasets/hidden"), grpc::StatusCode::NOT_FOUND,
            "DATASET_NOT_FOUND");
  CHECK(get("rita", "radiologist", "datasets/scored").ok());
  CHECK(instances("rita", "participant", "datasets/scored").ok());
  CheckCode(get("paul", "participant", "datasets/hidden"), grpc::StatusCode::NOT_FOUND,
            "DATASET_NOT_FOUND");

  // The challenge's owner, data managers, administrators and platform services see it.
  CHECK(listed("olivia", "reviewer").count("datasets/hidden") == 1);
  CHECK(get("olivia", "reviewer", "datasets/hidden").ok());
  CHECK(get("dana", "data_manager", "datasets/hidden").ok());
  CHECK(instances("dana", "data_manager", "datasets/hidden").ok());
  CHECK(get("ada", "administrator", "datasets/hidden").ok());
  CHECK(get("", "", "datasets/hidden").ok());
  CHECK(listed("", "").count("datasets/hidden") == 1);
}

TEST_CASE("IngestService: calls without the token are rejected", "[ingest]") {
  Ingest ingest({"--internal_token=ingest-test-token"});
  auto with_token = [](grpc::ClientContext& context) {
    context.AddMetadata("x-ailab-internal-token", "ingest-test-token");
  };

  v1::CreateDatasetRequest create;
  create.set_dataset_id("guarded");
  create.mutable_dataset()->set_display_name("Guarded");
  v1::Dataset dataset;
  {
    grpc::ClientContext context;
    CheckCode(ingest.stub().CreateDataset(&context, create, &dataset),
              grpc::StatusCode::UNAUTHENTICATED, "CALLER_UNKNOWN");
  }
  {
    grpc::ClientContext context;
    with_token(context);
    grpc::Status status = ingest.stub().CreateDataset(&context, create, &dataset);
    INFO(status.error_message());
    REQUIRE(status.ok());
  }

  // A guessed token, an unsigned user and a bare call cannot delete it.
  v1::DeleteDatasetRequest remove;
  remove.set_name("datasets/guarded");
  v1::DeleteDatasetResponse removed;
  {
    grpc::ClientContext context;
    context.AddMetadata("x-ailab-internal-token", "guessed");
    CheckCode(ingest.stub().DeleteDataset(&context, remove, &removed),
              grpc::StatusCode::UNAUTHENTICATED, "CALLER_UNKNOWN");
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("x-ailab-user", "mallory");
    CheckCode(ingest.stub().DeleteDataset(&context, remove, &removed),
              grpc::StatusCode::UNAUTHENTICATED, "USER_UNSIGNED");
  }
  {
    grpc::ClientContext context;
    v1::UploadInstancesResponse response;
    auto writer = ingest.stub().UploadInstances(&context, &response);
    v1::UploadInstancesRequest chunk;
    chunk.set_parent("datasets/guarded");
    chunk.set_file_name("x.dcm");
    chunk.set_data("not read");
    chunk.set_last_chunk(true);
    writer->Write(chunk);
    writer->WritesDone();
    CheckCode(writer->Finish(), grpc::StatusCode::UNAUTHENTICATED, "CALLER_UNKNOWN");
  }

  v1::GetDatasetRequest get;
  get.set_name("datasets/guarded");
  grpc::ClientContext context;
  with_token(context);
  grpc::Status still_stored = ingest.stub().GetDataset(&context, get, &dataset);
  INFO(still_stored.error_message());
  CHECK(still_stored.ok());
  CHECK(dataset.name() == "datasets/guarded");
}

TEST_CASE("IngestService: instances pushed by C-STORE are ingested", "[ingest]") {
  uint16_t port = FreePort();
  Ingest ingest({"--dicom_dataset=datasets/pacs", absl::StrCat("--dicom_port=", port),
                 "--dicom_ae_title=AILABTEST"});
  ailab::dicom::ScuOptions scu;
  scu.port = port;
  scu.called_ae_title = "AILABTEST";
  scu.calling_ae_title = "MODALITY1";
  REQUIRE(ailab::dicom::SendEcho(scu).ok());

  std::string mammogram = ReadFile(ailab::testing::SharedDataDir() + "/dicom/mg/MG1_JPLY.dcm");
  for (int i = 0; i < 2; ++i) {
    auto status = ailab::dicom::SendStore(scu, mammogram);
    INFO(status.status().ToString());
    REQUIRE(status.ok());
    CHECK(*status == 0);
  }

  // Stored once, de-identified, under a file name that names the sender.
  std::vector<v1::Instance> instances = ingest.ListInstances("datasets/pacs");
  REQUIRE(instances.size() == 1);
  CHECK(absl::StartsWith(instances[0].source_file(), "cstore_MODALITY1_"));
  CHECK(absl::StartsWith(instances[0].patient_pseudonym(), "anon-"));
  CHECK(instances[0].rows() == 4664);
  auto original = ailab::dicom::ParseDicom(mammogram, "MG1_JPLY.dcm");
  REQUIRE(original.ok());
  CHECK(instances[0].sop_instance_uid() != original->header().sop_instance_uid);
}

}  // namespace
