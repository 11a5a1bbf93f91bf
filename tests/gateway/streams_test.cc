// The gateway's streaming routes against in-process fakes of the ingest and training
// services: /api/upload forwards the body in chunks to UploadInstances, and
// /api/events/trainingJobs/{id} turns WatchTrainingJob into server-sent events. Also
// /api/blobs/{id} on a blob store of the test's own.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "ailab/blob/blob_store.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/rpc/server.h"
#include "ailab/training/v1/training.grpc.pb.h"
#include "catch2/catch.hpp"
#include "fixtures.h"
#include "http_client.h"
#include "nlohmann/json.hpp"

namespace ailab::gateway {
namespace {

namespace fs = std::filesystem;
using ::ailab::gateway::testing::CallApi;
using ::ailab::gateway::testing::Fetch;
using ::ailab::gateway::testing::RequestSpec;
using ::ailab::gateway::testing::Response;
using Json = nlohmann::json;

constexpr char kAdminPassword[] = "admin-password-0123";
constexpr char kUserPassword[] = "user-password-0123";
constexpr int64_t kMaxUpload = 4 << 20;

// Records what UploadInstances received.
class FakeIngest final : public ingest::v1::IngestService::Service {
 public:
  grpc::Status UploadInstances(grpc::ServerContext* context,
                               grpc::ServerReader<ingest::v1::UploadInstancesRequest>* reader,
                               ingest::v1::UploadInstancesResponse* response) override {
    ingest::v1::UploadInstancesRequest chunk;
    absl::MutexLock lock(&mutex);
    chunks = 0;
    bytes = 0;
    last_flags = 0;
    while (reader->Read(&chunk)) {
      if (chunks == 0) parent = chunk.parent();
      file_name = chunk.file_name();
      ++chunks;
      bytes += static_cast<int64_t>(chunk.data().size());
      if (chunk.last_chunk()) ++last_flags;
      last_was_final = chunk.last_chunk();
      // The status the gateway gets when the ingest service crashes mid-stream.
      if (file_name == "crash.dcm")
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "Socket closed");
    }
    response->set_stored_count(1);
    return grpc::Status::OK;
  }

  absl::Mutex mutex;
  std::string parent;
  std::string file_name;
  int chunks = 0;
  int64_t bytes = 0;
  int last_flags = 0;
  bool last_was_final = false;
};

// Streams three states of "trainingJobs/job1"; other jobs are NOT_FOUND.
class FakeTraining final : public training::v1::TrainingService::Service {
 public:
  grpc::Status WatchTrainingJob(grpc::ServerContext* context,
                                const training::v1::WatchTrainingJobRequest* request,
                                grpc::ServerWriter<training::v1::TrainingJob>* writer) override {
    if (request->name() != "trainingJobs/job1") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "training job not found");
    }
    for (auto state : {training::v1::TrainingJob::QUEUED, training::v1::TrainingJob::RUNNING,
                       training::v1::TrainingJob::SUCCEEDED}) {
      training::v1::TrainingJob job;
      job.set_name(request->name());
      job.set_state(state);
      writer->Write(job);
    }
    return grpc::Status::OK;
  }
};

struct StreamDeployment {
  StreamDeployment() {
    auto server = rpc::Server::Start({"fakes", "127.0.0.1:0"}, {&ingest, &training});
    if (!server.ok()) FAIL("fake services: " << server.status().ToString());
    fakes = std::move(*server);

    blob_root = (fs::path(dir.path()) / "blobs").string();
    fs::create_directories(blob_root);
    gateway = StartGateway(&port);

    const std::string admin = SignIn("admin", kAdminPassword);
    for (const auto& [name, role] : std::vector<std::pair<std::string, std::string>>{
             {"dora", "data_manager"}, {"alice", "radiologist"}, {"pat", "participant"}}) {
      Json request = {{"username", name}, {"roles", {role}}, {"password", kUserPassword}};
      Response created =
          CallApi(port, "ailab.identity.v1.IdentityService/CreateUser", request.dump(), admin);
      if (created.status != 200) FAIL("CreateUser " << name << ": " << created.body);
      tokens[name] = SignIn(name, kUserPassword);
    }
  }

  // Starts a gateway in front of the fakes and stores its HTTP port in `http_port`.
  std::unique_ptr<ailab::testing::ServiceProcess> StartGateway(
      int* http_port, std::vector<std::string> extra_args = {}) {
    const std::string fake_address = absl::StrCat("127.0.0.1:", fakes->port());
    const std::string port_file =
        (fs::path(dir.path()) / ailab::testing::UniqueName("gateway-port")).string();
    std::vector<std::string> args = {"--database_url=" + database.url(),
                                     "--gateway_listen=127.0.0.1:0",
                                     "--gateway_port_file=" + port_file,
                                     "--gateway_threads=2",
                                     "--rate_limit_per_second=0",
                                     "--ingest_address=" + fake_address,
                                     "--training_address=" + fake_address,
                                     "--catalog_address=",
                                     "--annotation_address=",
                                     "--inference_address=",
                                     "--evaluation_address=",
                                     "--blob_root=" + blob_root,
                                     absl::StrCat("--max_upload_bytes=", kMaxUpload)};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto process = ailab::testing::ServiceProcess::Start(
        AILAB_GATEWAY_BINARY, args, {{"AILAB_GATEWAY_ADMIN_PASSWORD", kAdminPassword}});
    if (!process.ok()) FAIL("gateway: " << process.status().ToString());
    std::ifstream(port_file) >> *http_port;
    return std::move(*process);
  }

  std::string SignIn(const std::string& user, const std::string& password) {
    Json request = {{"username", user}, {"password", password}};
    Response response = CallApi(port, "ailab.identity.v1.IdentityService/SignIn", request.dump());
    if (response.status != 200) FAIL("SignIn " << user << ": " << response.body);
    return Json::parse(response.body)["token"].get<std::string>();
  }

  Response Upload(const std::string& token, const std::string& body) {
    RequestSpec spec{"POST", "/api/upload?dataset=datasets/d1&filename=scan%201.dcm", body,
                     "application/dicom"};
    spec.headers.emplace_back("Authorization", "Bearer " + token);
    return Fetch(port, spec);
  }

  ailab::testing::TempDir dir;
  ailab::testing::ScratchDatabase database;
  std::string blob_root;
  FakeIngest ingest;
  FakeTraining training;
  std::unique_ptr<rpc::Server> fakes;
  std::unique_ptr<ailab::testing::ServiceProcess> gateway;
  int port = 0;
  std::map<std::string, std::string> tokens;
};

StreamDeployment& Shared() {
  static StreamDeployment deployment;
  return deployment;
}

TEST_CASE("Upload: body reaches UploadInstances in chunks") {
  StreamDeployment& deployment = Shared();
  const std::string body((3 << 20) + 12345, 'd');
  Response response = deployment.Upload(deployment.tokens["dora"], body);
  INFO("body " << response.body);
  REQUIRE(response.status == 200);
  CHECK(Json::parse(response.body)["storedCount"] == 1);
  absl::MutexLock lock(&deployment.ingest.mutex);
  CHECK(deployment.ingest.parent == "datasets/d1");
  CHECK(deployment.ingest.file_name == "scan 1.dcm");
  CHECK(deployment.ingest.chunks == 4);
  CHECK(deployment.ingest.bytes == static_cast<int64_t>(body.size()));
  CHECK(deployment.ingest.last_flags == 1);
  CHECK(deployment.ingest.last_was_final);
}

TEST_CASE("Upload: an upload cut off by ingest asks to send the file again") {
  StreamDeployment& deployment = Shared();
  RequestSpec spec{"POST", "/api/upload?dataset=datasets/d1&filename=crash.dcm",
                   std::string(1000, 'd'), "application/dicom"};
  spec.headers.emplace_back("Authorization", "Bearer " + deployment.tokens["dora"]);
  Response response = Fetch(deployment.port, spec);
  INFO(response.status << " " << response.body);
  CHECK(response.status == 503);
  Json body = Json::parse(response.body);
  CHECK(body["reason"] == "UPLOAD_INTERRUPTED");
  const std::string message = body["message"];
  CHECK(absl::StrContains(message, "Socket closed"));
  CHECK(absl::StrContains(message, "send it again"));
  CHECK(absl::StrContains(message, std::string(body["requestId"])));
}

TEST_CASE("Upload: wrong role and oversize are rejected") {
  StreamDeployment& deployment = Shared();
  CHECK(deployment.Upload(deployment.tokens["alice"], "x").status == 403);
  CHECK(deployment.Upload("bad-token", "x").status == 401);
  // The gateway returns 413 from the Content-Length alone, before the body is sent.
  // This request waits for "100 Continue" as curl does, so it reads the 413 cleanly.
  ailab::gateway::testing::Connection connection(deployment.port);
  Response oversize = connection.SendRaw(absl::StrCat(
      "POST /api/upload?dataset=datasets/d1&filename=big.dcm HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer ",
      deployment.tokens["dora"], "\r\nContent-Length: ", kMaxUpload + 1,
      "\r\nExpect: 100-continue\r\n\r\n"));
  CHECK(oversize.status == 413);
}

TEST_CASE("Events: WatchTrainingJob becomes server-sent events") {
  StreamDeployment& deployment = Shared();
  RequestSpec spec{"GET", "/api/events/trainingJobs/job1"};
  spec.headers.emplace_back("Authorization", "Bearer " + deployment.tokens["alice"]);
  Response response = Fetch(deployment.port, spec);
  INFO("body " << response.body << " error " << response.error);
  REQUIRE(response.status == 200);
  CHECK(response.Header("content-type") == "text/event-stream");
  CHECK(absl::StrContains(response.body,
                          "data: {\"name\":\"trainingJobs/job1\",\"state\":\"QUEUED\""));
  CHECK(absl::StrContains(response.body, "\"state\":\"RUNNING\""));
  CHECK(absl::StrContains(response.body, "\"state\":\"SUCCEEDED\""));

  RequestSpec missing{"GET", "/api/events/trainingJobs/nope"};
  missing.headers.emplace_back("Authorization", "Bearer " + deployment.tokens["alice"]);
  CHECK(Fetch(deployment.port, missing).status == 404);

  RequestSpec wrong_role{"GET", "/api/events/trainingJobs/job1"};
  wrong_role.headers.emplace_back("Authorization", "Bearer " + deployment.tokens["dora"]);
  CHECK(Fetch(deployment.port, wrong_role).status == 403);
}

TEST_CASE("Blobs: served to signed-in users by id") {
  StreamDeployment& deployment = Shared();
  auto store = blob::BlobStore::Open(deployment.blob_root);
  REQUIRE(store.ok());
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + "pixels";
  auto id = store->Put(png);
  REQUIRE(id.ok());

  auto get = [&](const std::string& target, const std::string& token) {
    RequestSpec spec{"GET", target};
    if (!token.empty()) spec.headers.emplace_back("Authorization", "Bearer " + token);
    return Fetch(deployment.port, spec);
  };
  Response found = get("/api/blobs/" + *id, deployment.tokens["alice"]);
  REQUIRE(found.status == 200);
  CHECK(found.body == png);
  CHECK(found.Header("content-type") == "image/png");

  CHECK(get("/api/blobs/" + *id, "").status == 401);
  // A challenge participant gets scores, not images.
  CHECK(get("/api/blobs/" + *id, deployment.tokens["pat"]).status == 403);
  Response missing = get("/api/blobs/sha256:" + std::string(64, '0'), deployment.tokens["alice"]);
  CHECK(missing.status == 404);
  // The response does not reveal the blob store's folder on the server.
  CHECK_FALSE(absl::StrContains(missing.body, deployment.blob_root));
  const std::vector<std::string> bad_targets = {"/api/blobs/sha256:XYZ",
                                                "/api/blobs/..%2f..%2fetc%2fpasswd",
                                                "/api/blobs/sha256:" + std::string(63, 'a') + "/"};
  for (const std::string& bad : bad_targets) {
    INFO("target " << bad);
    CHECK(get(bad, deployment.tokens["alice"]).status == 400);
  }
}

TEST_CASE("Shutdown: SIGTERM closes idle connections and exits 0") {
  StreamDeployment& deployment = Shared();
  int port = 0;
  auto gateway = deployment.StartGateway(&port);
  ailab::gateway::testing::Connection connection(port);
  Response first = connection.Send({"GET", "/healthz"});
  REQUIRE(first.status == 200);
  REQUIRE(first.keep_alive);
  absl::Status stopped = gateway->Stop();
  INFO("stop: " << stopped.ToString());
  CHECK(stopped.ok());
  CHECK(connection.Send({"GET", "/healthz"}).status == 0);
}

TEST_CASE("Shutdown: stalled upload gets a response") {
  StreamDeployment& deployment = Shared();
  int port = 0;
  auto gateway = deployment.StartGateway(&port, {"--shutdown_grace=300ms"});
  // Headers announce 1 MiB, but only 1,000 bytes of body follow: the upload waits for
  // the rest when SIGTERM arrives.
  const std::string request = absl::StrCat(
      "POST /api/upload?dataset=datasets/d1&filename=stalled.dcm HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\nAuthorization: Bearer ",
      deployment.tokens["dora"],
      "\r\nContent-Type: application/dicom\r\nContent-Length: 1048576\r\n\r\n",
      std::string(1000, 'x'));
  absl::Status stopped;
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(500));
    stopped = gateway->Stop();
  });
  ailab::gateway::testing::Connection connection(port);
  Response answer = connection.SendRaw(request);
  stopper.join();
  INFO("answer " << answer.status << " " << answer.body << " " << answer.error);
  CHECK(answer.status >= 400);
  CHECK(absl::StrContains(answer.body, "UPLOAD_READ_FAILED"));
  INFO("stop: " << stopped.ToString());
  CHECK(stopped.ok());
}

}  // namespace
}  // namespace ailab::gateway
