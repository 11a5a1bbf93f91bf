// Tests of publishing (PublishingServiceImpl) against PostgreSQL, with FakeBackends
// for the model files, a temporary folder destination and a scripted HTTP server on
// 127.0.0.1.
#include "services/evaluation/publishing.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/blob/blob_store.h"
#include "ailab/pg/pg.h"
#include "catch2/catch.hpp"
#include "fake_backends.h"
#include "fixtures.h"
#include "http_test_server.h"
#include "services/evaluation/package.h"
#include "services/evaluation/publishing_store.h"
#include "services/evaluation/store.h"

namespace ailab::evaluation {
namespace {

namespace fs = std::filesystem;
using ::ailab::evaluation::testing::FakeBackends;
using ::ailab::evaluation::testing::HttpTestServer;

constexpr char kBinary[] = "useCases/pneumothorax";
constexpr char kTorchScript[] = "torchscript bytes \x01\x02\x03 of models/good";
constexpr char kModelCard[] = R"({"display_name": "good", "classes": ["absent", "present"]})";
constexpr char kToken[] = "s3cret-token";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The publishing service over a scratch database, with fast back-off.
class Harness {
 public:
  explicit Harness(int max_attempts = 4) {
    pg::PoolOptions options;
    options.url = database_.url();
    options.size = 4;
    options.schema = "evaluation";
    auto pool = pg::Pool::Create(options);
    if (!pool.ok()) throw std::runtime_error(pool.status().ToString());
    pool_ = *std::move(pool);
    absl::Status migrated = pool_->Migrate(EvaluationStore::Migrations());
    if (!migrated.ok()) throw std::runtime_error(migrated.ToString());
    store_ = std::make_unique<PublishingStore>(*pool_);

    backends_.AddUseCase(kBinary, {"absent", "present"}, /*binary=*/true);
    backends_.AddModel("models/good", kBinary, {"absent", "present"});
    backends_.SetArtifacts("models/good", kTorchScript, kModelCard);
    backends_.AddModel("models/untrained", kBinary, {"absent", "present"});

    PublishingOptions publishing;
    publishing.max_attempts = max_attempts;
    publishing.initial_backoff = absl::Milliseconds(10);
    publishing.max_backoff = absl::Milliseconds(40);
    publishing.http_timeout = absl::Seconds(10);
    publishing.administrators = {"admin"};
    service_ = std::make_unique<PublishingServiceImpl>(store_.get(), &backends_, publishing);
  }

  ~Harness() { service_.reset(); }

  v1::Destination CreateFolder(const std::string& id, const std::string& path) {
    v1::CreateDestinationRequest request;
    request.set_destination_id(id);
    request.mutable_destination()->set_display_name("Marketplace drop folder");
    request.mutable_destination()->mutable_folder()->set_path(path);
    auto created = service_->DoCreateDestination(request, std::string("admin"));
    if (!created.ok()) throw std::runtime_error(created.status().ToString());
    return *created;
  }

  v1::Destination CreateHttp(const std::string& id, const std::string& url,
                             const std::string& token = kToken) {
    v1::CreateDestinationRequest request;
    request.set_destination_id(id);
    request.mutable_destination()->set_display_name("Registry");
    request.mutable_destination()->mutable_http()->set_url(url);
    request.mutable_destination()->mutable_http()->set_token(token);
    auto created = service_->DoCreateDestination(request, std::nullopt);
    if (!created.ok()) throw std::runtime_error(created.status().ToString());
    return *created;
  }

  absl::StatusOr<v1::Publication> Publish(const std::string& model, const std::string& destination,
                                          const std::string& assist_module = "") {
    v1::PublishModelRequest request;
    request.set_model(model);
    request.set_destination(destination);
    request.set_assist_module(assist_module);
    return service_->DoPublishModel(request, std::string("radiologist"));
  }

  // Polls until the publication leaves PUBLISHING (at most a minute).
  v1::Publication WaitUntilFinished(const std::string& name) {
    for (int i = 0; i < 3000; ++i) {
      v1::GetPublicationRequest request;
      request.set_name(name);
      auto publication = service_->DoGetPublication(request);
      if (!publication.ok()) throw std::runtime_error(publication.status().ToString());
      if (publication->state() != v1::Publication::PUBLISHING) return *publication;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error(absl::StrCat("publication ", name, " did not finish"));
  }

  FakeBackends& backends() { return backends_; }
  PublishingServiceImpl& service() { return *service_; }

 private:
  ailab::testing::ScratchDatabase database_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PublishingStore> store_;
  FakeBackends backends_;
  std::unique_ptr<PublishingServiceImpl> service_;
};

// Checks that `status` has `code` and that its message contains `text`.
void CheckError(const absl::Status& status, absl::StatusCode code, const std::string& text) {
  INFO("status: " << status.ToString());
  CHECK(status.code() == code);
  CHECK(absl::StrContains(status.message(), text));
}

TEST_CASE("Package: manifest lists each file's checksum") {
  ModelPackage package =
      BuildPackage("models/good", kBinary, kTorchScript, kModelCard, std::string("<module/>"));
  REQUIRE(package.files.size() == 4);
  CHECK(package.files[0].path == "assist_module.xml");
  CHECK(package.files[1].path == "model.pt");
  CHECK(package.files[2].path == "model_card.json");
  CHECK(package.files[3].path == "manifest.json");
  REQUIRE(package.manifest.files_size() == 3);
  CHECK(package.manifest.files(1).sha256() == blob::BlobStore::Sha256Hex(kTorchScript));
  CHECK(package.manifest.files(1).size_bytes() == static_cast<int64_t>(std::strlen(kTorchScript)));
  const std::string listing =
      absl::StrCat(blob::BlobStore::Sha256Hex("<module/>"), "  assist_module.xml\n",
                   blob::BlobStore::Sha256Hex(kTorchScript), "  model.pt\n",
                   blob::BlobStore::Sha256Hex(kModelCard), "  model_card.json\n");
  CHECK(package.manifest.package_sha256() == blob::BlobStore::Sha256Hex(listing));
  CHECK(absl::StrContains(package.files[3].bytes, package.manifest.package_sha256()));
  CHECK(absl::StrContains(package.files[3].bytes, "\"size_bytes\": "));

  // Same inputs, same checksum; another Assist module, another checksum.
  ModelPackage again =
      BuildPackage("models/good", kBinary, kTorchScript, kModelCard, std::string("<module/>"));
  CHECK(again.manifest.package_sha256() == package.manifest.package_sha256());
  ModelPackage without =
      BuildPackage("models/good", kBinary, kTorchScript, kModelCard, std::nullopt);
  CHECK(without.manifest.package_sha256() != package.manifest.package_sha256());
  CHECK(without.files.size() == 3);
}

TEST_CASE("Publishing: folder destination receives package") {
  Harness harness;
  ailab::testing::TempDir folder;
  const std::string root = (fs::path(folder.path()) / "exports").string();
  harness.CreateFolder("drop", root);

  auto publication = harness.Publish("models/good", "destinations/drop", "<assist-module/>");
  REQUIRE(publication.ok());
  CHECK(publication->state() == v1::Publication::PUBLISHING);
  CHECK(publication->publisher() == "radiologist");
  v1::Publication done = harness.WaitUntilFinished(publication->name());
  REQUIRE(done.state() == v1::Publication::SUCCEEDED);
  CHECK(done.attempt_count() == 1);
  REQUIRE(done.attempts_size() == 1);
  CHECK_FALSE(done.attempts(0).has_error());

  const fs::path package_folder =
      fs::path(root) / "good" / done.manifest().package_sha256().substr(0, 16);
  CHECK(done.location() == package_folder.string());
  CHECK(ReadFile(package_folder / "model.pt") == kTorchScript);
  CHECK(ReadFile(package_folder / "model_card.json") == kModelCard);
  CHECK(ReadFile(package_folder / "assist_module.xml") == "<assist-module/>");
  const std::string manifest = ReadFile(package_folder / "manifest.json");
  CHECK(absl::StrContains(manifest, blob::BlobStore::Sha256Hex(kTorchScript)));
  CHECK(absl::StrContains(manifest, done.manifest().package_sha256()));
  // No temporary folder is left beside the package.
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(root) / "good")) {
    (void)entry;
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("Publishing: re-publish returns the same publication") {
  Harness harness;
  ailab::testing::TempDir folder;
  harness.CreateFolder("drop", folder.path());

  auto first = harness.Publish("models/good", "destinations/drop");
  REQUIRE(first.ok());
  v1::Publication done = harness.WaitUntilFinished(first->name());
  REQUIRE(done.state() == v1::Publication::SUCCEEDED);

  auto second = harness.Publish("models/good", "destinations/drop");
  REQUIRE(second.ok());
  CHECK(second->name() == first->name());
  CHECK(second->state() == v1::Publication::SUCCEEDED);
  CHECK(second->request_count() == 2);
  CHECK(second->attempt_count() == 1);
  CHECK(second->manifest().package_sha256() == first->manifest().package_sha256());

  // A different package (now with an Assist module) is a new publication.
  auto other = harness.Publish("models/good", "destinations/drop", "<module/>");
  REQUIRE(other.ok());
  CHECK(other->name() != first->name());
  CHECK(harness.WaitUntilFinished(other->name()).state() == v1::Publication::SUCCEEDED);

  int package_folders = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(folder.path()) / "good")) {
    (void)entry;
    ++package_folders;
  }
  CHECK(package_folders == 2);

  v1::ListPublicationsRequest list;
  list.set_model("models/good");
  auto history = harness.service().DoListPublications(list);
  REQUIRE(history.ok());
  CHECK(history->publications_size() == 2);
  list.set_destination("destinations/elsewhere");
  history = harness.service().DoListPublications(list);
  REQUIRE(history.ok());
  CHECK(history->publications_size() == 0);
}

TEST_CASE("Publishing: concurrent publishes make one publication") {
  Harness harness;
  ailab::testing::TempDir folder;
  harness.CreateFolder("drop", folder.path());
  std::vector<std::string> names(6);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < names.size(); ++i) {
    threads.emplace_back([&, i] {
      auto publication = harness.Publish("models/good", "destinations/drop");
      if (publication.ok()) names[i] = publication->name();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& name : names) CHECK(name == names[0]);
  v1::Publication done = harness.WaitUntilFinished(names[0]);
  CHECK(done.state() == v1::Publication::SUCCEEDED);
  CHECK(done.attempt_count() == 1);
  CHECK(done.request_count() == 6);
}

TEST_CASE("Publishing: HTTP destination retried after failures") {
  Harness harness;
  HttpTestServer server;
  server.RequireToken(kToken);
  server.Script({503, 502});
  harness.CreateHttp("registry", server.url());

  auto publication = harness.Publish("models/good", "destinations/registry");
  REQUIRE(publication.ok());
  v1::Publication done = harness.WaitUntilFinished(publication->name());
  REQUIRE(done.state() == v1::Publication::SUCCEEDED);
  CHECK(done.attempt_count() == 3);
  REQUIRE(done.attempts_size() == 3);
  CHECK(done.attempts(0).http_status() == 503);
  CHECK(done.attempts(0).has_error());
  CHECK(done.attempts(1).http_status() == 502);
  CHECK(done.attempts(2).http_status() == 200);
  CHECK_FALSE(done.attempts(2).has_error());
  CHECK(done.location() == server.url());

  std::vector<HttpTestServer::Request> requests = server.requests();
  REQUIRE(requests.size() == 3);
  for (const HttpTestServer::Request& request : requests) {
    CHECK(request.method == "POST");
    CHECK(request.path == "/packages");
    CHECK(request.headers.at("authorization") == absl::StrCat("Bearer ", kToken));
    CHECK(request.headers.at("idempotency-key") == done.manifest().package_sha256());
    CHECK(absl::StartsWith(request.headers.at("content-type"), "multipart/form-data; boundary="));
  }
  const std::string& body = requests[2].body;
  CHECK(absl::StrContains(body, "name=\"model.pt\""));
  CHECK(absl::StrContains(body, kTorchScript));
  CHECK(absl::StrContains(body, "name=\"manifest.json\""));
  CHECK(absl::StrContains(body, kModelCard));
}

TEST_CASE("Publishing: rejected token fails without retry") {
  Harness harness;
  HttpTestServer server;
  server.RequireToken(kToken);
  harness.CreateHttp("registry", server.url(), "wrong-token");

  auto publication = harness.Publish("models/good", "destinations/registry");
  REQUIRE(publication.ok());
  v1::Publication done = harness.WaitUntilFinished(publication->name());
  CHECK(done.state() == v1::Publication::FAILED);
  CHECK(done.attempt_count() == 1);
  CHECK(done.attempts(0).http_status() == 401);
  CHECK(done.error().code() == static_cast<int>(absl::StatusCode::kPermissionDenied));
  CHECK(absl::StrContains(done.error().message(), "token"));
  CHECK_FALSE(absl::StrContains(done.error().message(), "wrong-token"));
  CHECK(server.requests().size() == 1);
}

TEST_CASE("Publishing: republish resumes a failed publication") {
  Harness harness(/*max_attempts=*/3);
  HttpTestServer server;
  server.Script({500, 500, 500});
  harness.CreateHttp("registry", server.url());

  auto publication = harness.Publish("models/good", "destinations/registry");
  REQUIRE(publication.ok());
  v1::Publication failed = harness.WaitUntilFinished(publication->name());
  REQUIRE(failed.state() == v1::Publication::FAILED);
  CHECK(failed.attempt_count() == 3);
  CHECK(failed.error().code() == static_cast<int>(absl::StatusCode::kUnavailable));
  CHECK(absl::StrContains(failed.error().message(), "HTTP 500"));

  // The endpoint works again; the same package resumes the same publication.
  auto again = harness.Publish("models/good", "destinations/registry");
  REQUIRE(again.ok());
  CHECK(again->name() == publication->name());
  CHECK(again->state() == v1::Publication::PUBLISHING);
  v1::Publication done = harness.WaitUntilFinished(publication->name());
  CHECK(done.state() == v1::Publication::SUCCEEDED);
  CHECK(done.attempt_count() == 4);
  CHECK_FALSE(done.has_error());
  CHECK(server.requests().size() == 4);
}

TEST_CASE("Publishing: unreachable endpoint retried then failed") {
  Harness harness(/*max_attempts=*/2);
  std::string url;
  {
    HttpTestServer closed;  // its port is free once it is gone
    url = closed.url();
  }
  harness.CreateHttp("gone", url);
  auto publication = harness.Publish("models/good", "destinations/gone");
  REQUIRE(publication.ok());
  v1::Publication done = harness.WaitUntilFinished(publication->name());
  CHECK(done.state() == v1::Publication::FAILED);
  CHECK(done.attempt_count() == 2);
  CHECK(done.attempts(0).http_status() == 0);
  CHECK(done.error().code() == static_cast<int>(absl::StatusCode::kUnavailable));
}

TEST_CASE("Publishing: token never returned") {
  Harness harness;
  v1::Destination created = harness.CreateHttp("registry", "http://127.0.0.1:9/models");
  CHECK(created.http().token().empty());
  CHECK(created.http().token_set());
  CHECK(created.name() == "destinations/registry");

  v1::GetDestinationRequest get;
  get.set_name("destinations/registry");
  auto fetched = harness.service().DoGetDestination(get);
  REQUIRE(fetched.ok());
  CHECK(fetched->http().token().empty());
  CHECK(fetched->http().token_set());
  CHECK(fetched->http().url() == "http://127.0.0.1:9/models");

  auto listed = harness.service().DoListDestinations(v1::ListDestinationsRequest());
  REQUIRE(listed.ok());
  REQUIRE(listed->destinations_size() == 1);
  CHECK(listed->destinations(0).http().token().empty());
  CHECK_FALSE(absl::StrContains(listed->DebugString(), kToken));
}

TEST_CASE("Publishing: bad destination requests rejected") {
  Harness harness;
  auto request_with = [](const std::function<void(v1::CreateDestinationRequest&)>& change) {
    v1::CreateDestinationRequest request;
    request.mutable_destination()->set_display_name("Drop");
    request.mutable_destination()->mutable_folder()->set_path("/srv/models");
    change(request);
    return request;
  };
  struct Case {
    const char* description;
    std::function<void(v1::CreateDestinationRequest&)> change;
    absl::StatusCode code;
    const char* text;
  };
  const std::vector<Case> cases = {
      {"no display name", [](auto& r) { r.mutable_destination()->clear_display_name(); },
       absl::StatusCode::kInvalidArgument, "display_name is required"},
      {"no target", [](auto& r) { r.mutable_destination()->clear_folder(); },
       absl::StatusCode::kInvalidArgument, "destination.folder or destination.http"},
      {"relative folder",
       [](auto& r) { r.mutable_destination()->mutable_folder()->set_path("models"); },
       absl::StatusCode::kInvalidArgument, "\"models\""},
      {"folder with ..",
       [](auto& r) { r.mutable_destination()->mutable_folder()->set_path("/srv/../etc"); },
       absl::StatusCode::kInvalidArgument, "\"/srv/../etc\""},
      {"https url",
       [](auto& r) { r.mutable_destination()->mutable_http()->set_url("https://registry/m"); },
       absl::StatusCode::kInvalidArgument, "https"},
      {"ftp url", [](auto& r) { r.mutable_destination()->mutable_http()->set_url("ftp://host/m"); },
       absl::StatusCode::kInvalidArgument, "not an http:// URL"},
      {"bad port",
       [](auto& r) { r.mutable_destination()->mutable_http()->set_url("http://host:99999/m"); },
       absl::StatusCode::kInvalidArgument, "port"},
      {"token with space",
       [](auto& r) {
         r.mutable_destination()->mutable_http()->set_url("http://host/m");
         r.mutable_destination()->mutable_http()->set_token("two words");
       },
       absl::StatusCode::kInvalidArgument, "visible ASCII"},
      {"bad id", [](auto& r) { r.set_destination_id("Bad_Id"); },
       absl::StatusCode::kInvalidArgument, "\"Bad_Id\""},
  };
  for (const Case& c : cases) {
    INFO("case: " << c.description);
    CheckError(harness.service().DoCreateDestination(request_with(c.change), std::nullopt).status(),
               c.code, c.text);
  }

  // The token is not repeated in its error.
  auto token_error = harness.service().DoCreateDestination(
      request_with([](auto& r) {
        r.mutable_destination()->mutable_http()->set_url("http://host/m");
        r.mutable_destination()->mutable_http()->set_token("two words");
      }),
      std::nullopt);
  CHECK_FALSE(absl::StrContains(token_error.status().message(), "two words"));

  CheckError(harness.service()
                 .DoCreateDestination(request_with([](auto&) {}), std::string("radiologist"))
                 .status(),
             absl::StatusCode::kPermissionDenied, "\"radiologist\"");

  auto first = harness.service().DoCreateDestination(
      request_with([](auto& r) { r.set_destination_id("drop"); }), std::string("admin"));
  REQUIRE(first.ok());
  CHECK(first->creator() == "admin");
  CheckError(harness.service()
                 .DoCreateDestination(request_with([](auto& r) { r.set_destination_id("drop"); }),
                                      std::nullopt)
                 .status(),
             absl::StatusCode::kAlreadyExists, "destinations/drop");

  v1::GetDestinationRequest get;
  get.set_name("destinations/missing");
  CheckError(harness.service().DoGetDestination(get).status(), absl::StatusCode::kNotFound,
             "destinations/missing");
  get.set_name("missing");
  CheckError(harness.service().DoGetDestination(get).status(), absl::StatusCode::kInvalidArgument,
             "\"missing\"");
  v1::ListDestinationsRequest list;
  list.set_page_size(-1);
  CHECK(harness.service().DoListDestinations(list).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Publishing: bad publish requests rejected") {
  Harness harness;
  ailab::testing::TempDir folder;
  harness.CreateFolder("drop", folder.path());

  CheckError(harness.Publish("good", "destinations/drop").status(),
             absl::StatusCode::kInvalidArgument, "\"good\"");
  CheckError(harness.Publish("", "destinations/drop").status(), absl::StatusCode::kInvalidArgument,
             "model is required");
  CheckError(harness.Publish("models/good", "drop").status(), absl::StatusCode::kInvalidArgument,
             "\"drop\"");
  CheckError(harness.Publish("models/good", "destinations/missing").status(),
             absl::StatusCode::kNotFound, "destinations/missing");
  CheckError(harness.Publish("models/missing", "destinations/drop").status(),
             absl::StatusCode::kNotFound, "models/missing");
  CheckError(harness.Publish("models/untrained", "destinations/drop").status(),
             absl::StatusCode::kFailedPrecondition, "TorchScript");
  CheckError(harness.Publish("models/good", "destinations/drop", "plain text").status(),
             absl::StatusCode::kInvalidArgument, "not XML");
  CheckError(
      harness.Publish("models/good", "destinations/drop", std::string((1 << 20) + 1, '<')).status(),
      absl::StatusCode::kInvalidArgument, "at most 1048576");

  v1::GetPublicationRequest get;
  get.set_name("publications/missing");
  CheckError(harness.service().DoGetPublication(get).status(), absl::StatusCode::kNotFound,
             "publications/missing");
  v1::ListPublicationsRequest list;
  list.set_model("good");
  CheckError(harness.service().DoListPublications(list).status(),
             absl::StatusCode::kInvalidArgument, "\"good\"");
  list.set_model("");
  list.set_page_size(-3);
  CHECK(harness.service().DoListPublications(list).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Publishing: folder holding another package fails") {
  Harness harness;
  ailab::testing::TempDir folder;
  harness.CreateFolder("drop", folder.path());
  ModelPackage package =
      BuildPackage("models/good", kBinary, kTorchScript, kModelCard, std::nullopt);
  const fs::path taken =
      fs::path(folder.path()) / "good" / package.manifest.package_sha256().substr(0, 16);
  fs::create_directories(taken);
  std::ofstream(taken / "manifest.json") << "{}";

  auto publication = harness.Publish("models/good", "destinations/drop");
  REQUIRE(publication.ok());
  v1::Publication done = harness.WaitUntilFinished(publication->name());
  CHECK(done.state() == v1::Publication::FAILED);
  CHECK(done.attempt_count() == 1);
  CHECK(done.error().code() == static_cast<int>(absl::StatusCode::kAlreadyExists));
  CHECK(ReadFile(taken / "manifest.json") == "{}");
}

}  // namespace
}  // namespace ailab::evaluation
