// Tests of the ailab-evaluation binary over gRPC, with fake servers of the services it
// calls (fake_servers.h) and a scratch PostgreSQL database.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ailab/evaluation/v1/evaluation.grpc.pb.h"
#include "ailab/evaluation/v1/publishing.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"
#include "fake_servers.h"
#include "fixtures.h"
#include "google/protobuf/util/time_util.h"

namespace ailab::evaluation {
namespace {

using ::ailab::evaluation::testing::FakeBackends;
using ::ailab::evaluation::testing::FakeServers;
using ::google::protobuf::util::TimeUtil;

constexpr char kBinary[] = "useCases/pneumothorax";

class BinaryHarness {
 public:
  BinaryHarness() {
    backends_.AddUseCase(kBinary, {"absent", "present"}, /*binary=*/true);
    backends_.AddDataset("datasets/chest", 12);
    backends_.SetLabels(kBinary, "datasets/chest", "alice", [](int n) { return n % 2; });
    backends_.AddDataset("datasets/test", 20);
    backends_.AddDataset("datasets/final", 20);
    backends_.SetReference(kBinary, "datasets/test", "ref", [](int n) { return n % 2; });
    backends_.SetReference(kBinary, "datasets/final", "ref", [](int n) { return (n / 2) % 2; });
    backends_.AddModel("models/good", kBinary, {"absent", "present"});
    backends_.AddModel("models/fair", kBinary, {"absent", "present"});
    backends_.SetSkill("models/fair", "datasets/test", 7);
    backends_.SetSkill("models/fair", "datasets/chest", 7);

    backends_.SetArtifacts("models/good", "torchscript of models/good", R"({"classes": 2})");

    servers_ = std::make_unique<FakeServers>(&backends_, blob_root_.path());
    const std::string fake = servers_->address();
    auto process = ailab::testing::ServiceProcess::Start(
        "ailab-evaluation",
        {absl::StrCat("--database_url=", database_.url()), absl::StrCat("--training_address=", fake),
         absl::StrCat("--catalog_address=", fake), absl::StrCat("--ingest_address=", fake),
         absl::StrCat("--annotation_address=", fake), absl::StrCat("--inference_address=", fake),
         absl::StrCat("--blob_root=", blob_root_.path()), "--administrators=admin,root",
         "--publish_initial_backoff=10ms", "--publish_max_backoff=20ms"});
    if (!process.ok()) throw std::runtime_error(process.status().ToString());
    process_ = *std::move(process);
    stub_ = v1::EvaluationService::NewStub(rpc::Connect(process_->address()));
    publishing_ = v1::PublishingService::NewStub(rpc::Connect(process_->address()));
  }

  // Calls `method` as `user` (no x-ailab-user metadata when empty).
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      grpc::Status (v1::EvaluationService::Stub::*method)(grpc::ClientContext*, const Request&,
                                                          Response*),
      const Request& request, const std::string& user = "") {
    grpc::ClientContext context;
    rpc::SetTimeout(context, absl::Seconds(60));
    if (!user.empty()) context.AddMetadata("x-ailab-user", user);
    Response response;
    grpc::Status status = ((*stub_).*method)(&context, request, &response);
    if (!status.ok()) return rpc::FromGrpcStatus(status);
    return response;
  }

  // Calls a PublishingService `method` as `user` (no x-ailab-user when empty).
  template <typename Request, typename Response>
  absl::StatusOr<Response> Publishing(
      grpc::Status (v1::PublishingService::Stub::*method)(grpc::ClientContext*, const Request&,
                                                          Response*),
      const Request& request, const std::string& user = "") {
    grpc::ClientContext context;
    rpc::SetTimeout(context, absl::Seconds(60));
    if (!user.empty()) context.AddMetadata("x-ailab-user", user);
    Response response;
    grpc::Status status = ((*publishing_).*method)(&context, request, &response);
    if (!status.ok()) return rpc::FromGrpcStatus(status);
    return response;
  }

  ailab::testing::ServiceProcess& process() { return *process_; }
  v1::PublishingService::Stub& PublishingStub() { return *publishing_; }

 private:
  ailab::testing::ScratchDatabase database_;
  ailab::testing::TempDir blob_root_;
  FakeBackends backends_;
  std::unique_ptr<FakeServers> servers_;
  std::unique_ptr<ailab::testing::ServiceProcess> process_;
  std::unique_ptr<v1::EvaluationService::Stub> stub_;
  std::unique_ptr<v1::PublishingService::Stub> publishing_;
};

TEST_CASE("ailab-evaluation: evaluation over gRPC") {
  BinaryHarness harness;
  v1::CreateEvaluationRequest request;
  request.mutable_evaluation()->set_use_case(kBinary);
  request.mutable_evaluation()->set_dataset("datasets/chest");
  request.mutable_evaluation()->set_split(v1::ALL);
  request.mutable_evaluation()->set_label_source("alice");
  request.mutable_evaluation()->add_models("models/good");
  request.mutable_evaluation()->add_models("models/fair");
  auto created = harness.Call(&v1::EvaluationService::Stub::CreateEvaluation, request);
  REQUIRE(created.ok());
  CHECK(created->instance_count() == 12);

  v1::Evaluation evaluation;
  for (int i = 0; i < 600; ++i) {
    v1::GetEvaluationRequest get;
    get.set_name(created->name());
    auto polled = harness.Call(&v1::EvaluationService::Stub::GetEvaluation, get);
    REQUIRE(polled.ok());
    evaluation = *polled;
    if (evaluation.state() != v1::Evaluation::RUNNING) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(evaluation.state() == v1::Evaluation::SUCCEEDED);
  REQUIRE(evaluation.results_size() == 2);
  CHECK(evaluation.results(0).metrics().accuracy() == Approx(1.0));
  CHECK(evaluation.results(1).metrics().n() == 12);
  CHECK(evaluation.completed_predictions() == 24);

  v1::ComputeAtThresholdRequest threshold;
  threshold.set_evaluation(created->name());
  threshold.set_model("models/fair");
  threshold.set_threshold(0.5);
  auto at = harness.Call(&v1::EvaluationService::Stub::ComputeAtThreshold, threshold);
  REQUIRE(at.ok());
  CHECK(at->metrics().true_positives() + at->metrics().false_negatives() == 6);

  // Errors arrive with their code, reason and the service's domain.
  request.mutable_evaluation()->set_threshold(7);
  auto rejected = harness.Call(&v1::EvaluationService::Stub::CreateEvaluation, request);
  CHECK(rejected.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(rejected.status().message(), "7"));
  auto info = GetErrorInfo(rejected.status());
  REQUIRE(info.has_value());
  CHECK(info->reason() == "INVALID_THRESHOLD");
  CHECK(info->domain() == "evaluation.ailab");
}

TEST_CASE("ailab-evaluation: challenge over gRPC") {
  BinaryHarness harness;
  v1::CreateChallengeRequest create;
  v1::Challenge* challenge = create.mutable_challenge();
  challenge->set_display_name("Pneumothorax");
  challenge->set_use_case(kBinary);
  challenge->set_test_dataset("datasets/test");
  challenge->set_final_dataset("datasets/final");
  challenge->set_reference_reader("ref");
  *challenge->mutable_open_time() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(absl::Now() - absl::Hours(1)));
  *challenge->mutable_close_time() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(absl::Now() + absl::Hours(24 * 7)));
  challenge->set_daily_submission_limit(5);
  auto created = harness.Call(&v1::EvaluationService::Stub::CreateChallenge, create, "organiser");
  REQUIRE(created.ok());
  CHECK(created->owner() == "organiser");

  v1::SubmitToChallengeRequest submit;
  submit.set_challenge(created->name());
  submit.set_model("models/fair");
  submit.set_participant("alice");
  auto scored = harness.Call(&v1::EvaluationService::Stub::SubmitToChallenge, submit, "alice");
  REQUIRE(scored.ok());
  CHECK(scored->state() == v1::Submission::SCORED);
  CHECK(scored->scored_count() == 20);
  auto denied = harness.Call(&v1::EvaluationService::Stub::SubmitToChallenge, submit, "bob");
  CHECK(denied.status().code() == absl::StatusCode::kPermissionDenied);

  // The challenge survives a restart of the service.
  REQUIRE(harness.process().Restart().ok());
  v1::GetChallengeRequest get;
  get.set_name(created->name());
  auto as_participant = harness.Call(&v1::EvaluationService::Stub::GetChallenge, get, "alice");
  REQUIRE(as_participant.ok());
  CHECK(as_participant->final_dataset().empty());

  v1::ListLeaderboardEntriesRequest board;
  board.set_parent(created->name());
  auto entries = harness.Call(&v1::EvaluationService::Stub::ListLeaderboardEntries, board);
  REQUIRE(entries.ok());
  REQUIRE(entries->entries_size() == 1);
  CHECK(entries->entries(0).participant() == "alice");
  CHECK(entries->entries(0).kappa() == Approx(scored->kappa()));

  board.set_final(true);
  CHECK(harness.Call(&v1::EvaluationService::Stub::ListLeaderboardEntries, board).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  v1::CloseChallengeRequest close;
  close.set_name(created->name());
  auto closed = harness.Call(&v1::EvaluationService::Stub::CloseChallenge, close, "organiser");
  REQUIRE(closed.ok());
  CHECK(closed->state() == v1::Challenge::CLOSED);
  auto final_entries = harness.Call(&v1::EvaluationService::Stub::ListLeaderboardEntries, board);
  REQUIRE(final_entries.ok());
  REQUIRE(final_entries->entries_size() == 1);
  CHECK(final_entries->entries(0).scored_count() == 20);
}

TEST_CASE("ailab-evaluation: publishing over gRPC") {
  BinaryHarness harness;
  ailab::testing::TempDir exports;

  v1::CreateDestinationRequest create;
  create.set_destination_id("drop");
  create.mutable_destination()->set_display_name("Drop folder");
  create.mutable_destination()->mutable_folder()->set_path(exports.path());
  auto denied =
      harness.Publishing(&v1::PublishingService::Stub::CreateDestination, create, "mallory");
  CHECK(denied.status().code() == absl::StatusCode::kPermissionDenied);
  auto folder = harness.Publishing(&v1::PublishingService::Stub::CreateDestination, create, "root");
  REQUIRE(folder.ok());
  CHECK(folder->creator() == "root");

  v1::CreateDestinationRequest http;
  http.set_destination_id("registry");
  http.mutable_destination()->set_display_name("Registry");
  http.mutable_destination()->mutable_http()->set_url("http://127.0.0.1:9/upload");
  http.mutable_destination()->mutable_http()->set_token("wire-secret");
  // A signed-in administrator who is not in --administrators may create one too.
  {
    grpc::ClientContext context;
    rpc::SetTimeout(context, absl::Seconds(60));
    rpc::Identity carol;
    carol.user = "carol";
    carol.roles = {rpc::kRoleAdministrator};
    carol.expires = absl::Now() + absl::Minutes(5);
    context.AddMetadata(rpc::kIdentityKey, rpc::SignIdentity(carol, ""));
    v1::CreateDestinationRequest other = create;
    other.set_destination_id("carols-drop");
    v1::Destination created;
    grpc::Status status = harness.PublishingStub().CreateDestination(&context, other, &created);
    INFO(status.error_message());
    CHECK(status.ok());
  }
  auto registry = harness.Publishing(&v1::PublishingService::Stub::CreateDestination, http, "admin");
  REQUIRE(registry.ok());
  CHECK(registry->http().token().empty());
  CHECK(registry->http().token_set());
  v1::ListDestinationsRequest list_destinations;
  auto destinations = harness.Publishing(&v1::PublishingService::Stub::ListDestinations,
                                         list_destinations, "radiologist");
  REQUIRE(destinations.ok());
  // The drop folder, the administrator's copy of it and the registry.
  REQUIRE(destinations->destinations_size() == 3);
  CHECK(destinations->SerializeAsString().find("wire-secret") == std::string::npos);

  v1::PublishModelRequest publish;
  publish.set_model("models/good");
  publish.set_destination("destinations/drop");
  auto publication =
      harness.Publishing(&v1::PublishingService::Stub::PublishModel, publish, "radiologist");
  REQUIRE(publication.ok());
  v1::GetPublicationRequest get;
  get.set_name(publication->name());
  absl::StatusOr<v1::Publication> current;
  for (int i = 0; i < 1500; ++i) {
    current = harness.Publishing(&v1::PublishingService::Stub::GetPublication, get);
    REQUIRE(current.ok());
    if (current->state() != v1::Publication::PUBLISHING) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(current->state() == v1::Publication::SUCCEEDED);
  std::ifstream model_file(std::filesystem::path(current->location()) / "model.pt");
  std::string model_bytes((std::istreambuf_iterator<char>(model_file)),
                          std::istreambuf_iterator<char>());
  CHECK(model_bytes == "torchscript of models/good");

  // The history survives a restart, and publishing again is the same publication.
  REQUIRE(harness.process().Restart().ok());
  auto again =
      harness.Publishing(&v1::PublishingService::Stub::PublishModel, publish, "radiologist");
  REQUIRE(again.ok());
  CHECK(again->name() == publication->name());
  CHECK(again->state() == v1::Publication::SUCCEEDED);
  CHECK(again->request_count() == 2);
  v1::ListPublicationsRequest history;
  history.set_destination("destinations/drop");
  auto listed = harness.Publishing(&v1::PublishingService::Stub::ListPublications, history);
  REQUIRE(listed.ok());
  REQUIRE(listed->publications_size() == 1);
  CHECK(listed->publications(0).attempt_count() == 1);

  publish.set_model("models/fair");  // no TorchScript file
  auto untrained = harness.Publishing(&v1::PublishingService::Stub::PublishModel, publish);
  CHECK(untrained.status().code() == absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ailab::evaluation
