// Tests of the ailab-annotation binary over gRPC, on a scratch database, with the
// catalog and ingest played by in-process fake servers: concurrent saves, a restart,
// and that no call of a participant returns a reference reader's per-image label.
#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ailab/annotation/v1/annotation.grpc.pb.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/internal_caller.h"
#include "catch2/catch.hpp"
#include "deployment.h"
#include "fixtures.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"

namespace ailab::annotation {
namespace {

namespace v1 = ::ailab::annotation::v1;
using google::protobuf::util::TimeUtil;

using testing::Deployment;
using testing::kCategories;
using testing::kDataset;
using testing::kDensity;

// A client context acting as `user` (none: a trusted service).
std::unique_ptr<grpc::ClientContext> As(const std::string& user) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!user.empty()) context->AddMetadata("x-ailab-user", user);
  rpc::SetTimeout(*context, absl::Seconds(30));
  return context;
}

grpc::Status Save(v1::AnnotationService::Stub& stub, const std::string& user,
                  const std::string& instance, const std::string& label,
                  v1::SaveAnnotationResponse* response = nullptr) {
  v1::SaveAnnotationRequest request;
  request.set_use_case(kDensity);
  request.set_dataset(kDataset);
  request.set_instance(instance);
  request.set_annotator(user);
  request.set_label(label);
  v1::SaveAnnotationResponse ignored;
  return stub.SaveAnnotation(As(user).get(), request, response ? response : &ignored);
}

// Counts rows, distinct keys and the sum of revisions of `annotator`'s annotations.
struct StoredCounts {
  int64_t rows = 0;
  int64_t keys = 0;
  int64_t revisions = 0;
};

StoredCounts CountStored(const std::string& url, const std::string& annotator) {
  pg::PoolOptions options;
  options.url = url;
  options.size = 1;
  options.schema = "annotation";
  auto pool = pg::Pool::Create(options).value();
  return pool
      ->Query<StoredCounts>([&](pqxx::work& tx) -> absl::StatusOr<StoredCounts> {
        pqxx::result result = tx.exec_params(
            "SELECT count(*), count(DISTINCT (use_case, dataset, annotator, instance)), "
            "COALESCE(sum(revision), 0) FROM annotations WHERE annotator = $1",
            annotator);
        return StoredCounts{result[0][0].as<int64_t>(), result[0][1].as<int64_t>(),
                            result[0][2].as<int64_t>()};
      })
      .value();
}

int64_t ListedTotal(v1::AnnotationService::Stub& stub, const std::string& annotator) {
  v1::ListAnnotationsRequest request;
  request.set_use_case(kDensity);
  request.set_dataset(kDataset);
  request.set_annotator(annotator);
  request.set_page_size(1000);
  std::set<std::string> instances;
  int64_t total = -1;
  do {
    v1::ListAnnotationsResponse response;
    grpc::Status status = stub.ListAnnotations(As(annotator).get(), request, &response);
    if (!status.ok()) return -1;
    for (const auto& annotation : response.annotations()) instances.insert(annotation.instance());
    total = response.total_size();
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return static_cast<int64_t>(instances.size()) == total ? total : -2;
}

TEST_CASE("ailab-annotation: 20 clients save 5000 annotations once each", "[service]") {
  constexpr int kInstances = 5000;
  constexpr int kClients = 20;
  Deployment deployment(kInstances);

  SECTION("distinct keys") {
    std::atomic<int> failures{0};
    std::string first_error;
    std::vector<std::thread> clients;
    for (int t = 0; t < kClients; ++t) {
      clients.emplace_back([&, t] {
        auto stub = deployment.NewStub();
        for (int i = t + 1; i <= kInstances; i += kClients) {
          grpc::Status status =
              Save(*stub, "crowd", deployment.instance(i), kCategories[i % 4]);
          if (!status.ok() && failures.fetch_add(1) == 0) first_error = status.error_message();
        }
      });
    }
    for (std::thread& client : clients) client.join();
    INFO(first_error);
    CHECK(failures.load() == 0);

    StoredCounts stored = CountStored(deployment.database_url(), "crowd");
    CHECK(stored.rows == kInstances);
    CHECK(stored.keys == kInstances);
    CHECK(stored.revisions == kInstances);
    auto stub = deployment.NewStub();
    CHECK(ListedTotal(*stub, "crowd") == kInstances);
  }

  SECTION("overlapping upserts of the same keys") {
    // Every client saves the same 250 keys for one annotator, each twice. The labels
    // differ per client, so only the last writer of each key wins.
    constexpr int kKeys = 250;
    constexpr int kRounds = 2;
    std::atomic<int> failures{0};
    std::string first_error;
    std::vector<std::thread> clients;
    for (int t = 0; t < kClients; ++t) {
      clients.emplace_back([&, t] {
        auto stub = deployment.NewStub();
        for (int round = 0; round < kRounds; ++round) {
          for (int i = 1; i <= kKeys; ++i) {
            grpc::Status status =
                Save(*stub, "overlap", deployment.instance(i), kCategories[(i + t) % 4]);
            if (!status.ok() && failures.fetch_add(1) == 0) first_error = status.error_message();
          }
        }
      });
    }
    for (std::thread& client : clients) client.join();
    INFO(first_error);
    CHECK(failures.load() == 0);

    StoredCounts stored = CountStored(deployment.database_url(), "overlap");
    CHECK(stored.rows == kKeys);
    CHECK(stored.keys == kKeys);
    CHECK(stored.revisions == int64_t{kKeys} * kClients * kRounds);
    auto stub = deployment.NewStub();
    CHECK(ListedTotal(*stub, "overlap") == kKeys);

    v1::GetAnnotationProgressRequest progress;
    progress.set_use_case(kDensity);
    progress.set_dataset(kDataset);
    progress.set_annotator("overlap");
    v1::AnnotationProgress response;
    REQUIRE(stub->GetAnnotationProgress(As("overlap").get(), progress, &response).ok());
    CHECK(response.annotated_count() == kKeys);
    CHECK(response.total_instances() == kInstances);
  }
}

TEST_CASE("ailab-annotation: work survives a restart", "[service]") {
  Deployment deployment(8);
  auto stub = deployment.NewStub();

  v1::GetNextInstanceRequest next;
  next.set_use_case(kDensity);
  next.set_dataset(kDataset);
  next.set_annotator("alice");
  v1::GetNextInstanceResponse position;
  REQUIRE(stub->GetNextInstance(As("alice").get(), next, &position).ok());
  CHECK(position.instance() == deployment.instance(1));

  REQUIRE(Save(*stub, "alice", deployment.instance(1), "A").ok());
  REQUIRE(Save(*stub, "alice", deployment.instance(2), "B").ok());
  v1::SkipInstanceRequest skip;
  skip.set_use_case(kDensity);
  skip.set_dataset(kDataset);
  skip.set_annotator("alice");
  skip.set_instance(deployment.instance(3));
  v1::SkipInstanceResponse skipped;
  REQUIRE(stub->SkipInstance(As("alice").get(), skip, &skipped).ok());
  REQUIRE(Save(*stub, "alice", deployment.instance(4), "C").ok());

  REQUIRE(deployment.process().Restart().ok());
  stub = deployment.NewStub();

  // Resumes at the first instance neither annotated nor skipped.
  REQUIRE(stub->GetNextInstance(As("alice").get(), next, &position).ok());
  CHECK(position.instance() == deployment.instance(5));
  CHECK(position.position() == 5);
  CHECK(position.annotated_count() == 3);
  CHECK(position.skipped_count() == 1);

  // Nothing lost: the lists and labels are as before.
  v1::ListAnnotationsRequest list;
  list.set_use_case(kDensity);
  list.set_dataset(kDataset);
  list.set_annotator("alice");
  list.set_filter("state=SKIPPED");
  v1::ListAnnotationsResponse skipped_list;
  REQUIRE(stub->ListAnnotations(As("alice").get(), list, &skipped_list).ok());
  REQUIRE(skipped_list.annotations_size() == 1);
  CHECK(skipped_list.annotations(0).instance() == deployment.instance(3));
  list.set_filter("state=ANNOTATED");
  v1::ListAnnotationsResponse annotated_list;
  REQUIRE(stub->ListAnnotations(As("alice").get(), list, &annotated_list).ok());
  REQUIRE(annotated_list.annotations_size() == 3);
  CHECK(annotated_list.annotations(1).label() == "B");

  // The session opened before the restart is still open.
  v1::FinishSessionRequest finish;
  finish.set_use_case(kDensity);
  finish.set_dataset(kDataset);
  finish.set_annotator("alice");
  v1::FinishSessionResponse finished;
  REQUIRE(stub->FinishSession(As("alice").get(), finish, &finished).ok());
  CHECK(finished.session_annotated_count() == 3);
  CHECK(finished.session_skipped_count() == 1);

  // Changing an earlier label after the restart keeps one annotation.
  v1::SaveAnnotationResponse changed;
  REQUIRE(Save(*stub, "alice", deployment.instance(2), "D", &changed).ok());
  CHECK_FALSE(changed.created());
  CHECK(changed.annotation().revision() == 2);
}

// Collects every (instance, label) pair that appears together in one message of
// `message` or of its sub-messages, and every annotator id that appears beside a label.
void CollectLabels(const google::protobuf::Message& message,
                   std::set<std::pair<std::string, std::string>>* pairs,
                   std::set<std::string>* labelled_annotators) {
  const google::protobuf::Descriptor* descriptor = message.GetDescriptor();
  const google::protobuf::Reflection* reflection = message.GetReflection();
  const auto* instance_field = descriptor->FindFieldByName("instance");
  const auto* label_field = descriptor->FindFieldByName("label");
  const auto* annotator_field = descriptor->FindFieldByName("annotator");
  auto is_string = [](const google::protobuf::FieldDescriptor* field) {
    return field != nullptr && !field->is_repeated() &&
           field->type() == google::protobuf::FieldDescriptor::TYPE_STRING;
  };
  if (is_string(label_field) && !reflection->GetString(message, label_field).empty()) {
    std::string label = reflection->GetString(message, label_field);
    if (is_string(instance_field)) {
      pairs->emplace(reflection->GetString(message, instance_field), label);
    }
    if (is_string(annotator_field)) {
      labelled_annotators->insert(reflection->GetString(message, annotator_field));
    }
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const auto* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        CollectLabels(reflection->GetRepeatedMessage(message, field, i), pairs,
                      labelled_annotators);
      }
    } else {
      CollectLabels(reflection->GetMessage(message, field), pairs, labelled_annotators);
    }
  }
}

TEST_CASE("ailab-annotation: no RPC shows reference labels per image", "[service]") {
  constexpr int kLabelled = 8;
  Deployment deployment(10);
  auto stub = deployment.NewStub();

  // The reference reader and the participant label instances 1-8, never alike.
  v1::SetReferenceReaderRequest set_reference;
  set_reference.set_use_case(kDensity);
  set_reference.set_dataset(kDataset);
  set_reference.set_annotator("ref");
  v1::ReferenceReader reader;
  REQUIRE(stub->SetReferenceReader(As("").get(), set_reference, &reader).ok());
  std::set<std::pair<std::string, std::string>> reference_pairs;
  std::string reference_annotation;
  for (int i = 1; i <= kLabelled; ++i) {
    v1::SaveAnnotationResponse saved;
    REQUIRE(Save(*stub, "ref", deployment.instance(i), kCategories[i % 4], &saved).ok());
    reference_pairs.emplace(deployment.instance(i), kCategories[i % 4]);
    reference_annotation = saved.annotation().name();
    REQUIRE(Save(*stub, "alice", deployment.instance(i), kCategories[(i + 1) % 4]).ok());
  }

  // Every response a participant gets is checked for reference labels.
  std::vector<std::unique_ptr<google::protobuf::Message>> responses;
  auto keep = [&](grpc::Status status, std::unique_ptr<google::protobuf::Message> response,
                  const char* method) {
    INFO(method << ": " << status.error_message());
    CHECK(status.ok());
    responses.push_back(std::move(response));
  };
  auto denied = [](grpc::Status status, const char* method) {
    INFO(method << ": " << status.error_message());
    CHECK((status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
           status.error_code() == grpc::StatusCode::NOT_FOUND));
    for (const auto& category : kCategories) {
      CHECK_FALSE(absl::StrContains(status.error_message(), absl::StrCat("\"", category, "\"")));
    }
  };

  {
    v1::SaveAnnotationRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_instance(deployment.instance(9));
    request.set_annotator("alice");
    request.set_label("A");
    auto response = std::make_unique<v1::SaveAnnotationResponse>();
    grpc::Status response_status = stub->SaveAnnotation(As("alice").get(), request, response.get());
    keep(response_status, std::move(response), "SaveAnnotation");
    request.set_annotator("ref");
    v1::SaveAnnotationResponse overwrite;
    denied(stub->SaveAnnotation(As("alice").get(), request, &overwrite), "SaveAnnotation as ref");
  }
  {
    v1::SkipInstanceRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_instance(deployment.instance(10));
    request.set_annotator("alice");
    auto response = std::make_unique<v1::SkipInstanceResponse>();
    grpc::Status response_status = stub->SkipInstance(As("alice").get(), request, response.get());
    keep(response_status, std::move(response), "SkipInstance");
  }
  {
    v1::GetNextInstanceRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_annotator("alice");
    request.set_include_skipped(true);
    auto response = std::make_unique<v1::GetNextInstanceResponse>();
    grpc::Status response_status = stub->GetNextInstance(As("alice").get(), request, response.get());
    keep(response_status, std::move(response), "GetNextInstance");
    request.set_annotator("ref");
    v1::GetNextInstanceResponse other;
    denied(stub->GetNextInstance(As("alice").get(), request, &other), "GetNextInstance as ref");
  }
  {
    v1::ListAnnotationsRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_annotator("alice");
    auto response = std::make_unique<v1::ListAnnotationsResponse>();
    grpc::Status response_status = stub->ListAnnotations(As("alice").get(), request, response.get());
    keep(response_status, std::move(response), "ListAnnotations");
    request.set_annotator("ref");
    v1::ListAnnotationsResponse other;
    denied(stub->ListAnnotations(As("alice").get(), request, &other), "ListAnnotations of ref");
    denied(stub->ListAnnotations(As("").get(), request, &other),
           "ListAnnotations of ref without identity");
  }
  {
    v1::GetAnnotationRequest request;
    request.set_name(reference_annotation);
    request.set_annotator("alice");
    v1::Annotation other;
    denied(stub->GetAnnotation(As("alice").get(), request, &other), "GetAnnotation of ref's");
    request.set_annotator("ref");
    denied(stub->GetAnnotation(As("alice").get(), request, &other),
           "GetAnnotation claiming to be ref");
    denied(stub->GetAnnotation(As("").get(), request, &other),
           "GetAnnotation of ref's without identity");
  }
  {
    v1::GetAnnotationProgressRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_annotator("alice");
    auto response = std::make_unique<v1::AnnotationProgress>();
    grpc::Status response_status = stub->GetAnnotationProgress(As("alice").get(), request, response.get());
    keep(response_status, std::move(response), "GetAnnotationProgress");
  }
  {
    v1::SetQuotaRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_quota(5);
    auto response = std::make_unique<v1::Quota>();
    grpc::Status response_status = stub->SetQuota(As("alice").get(), request, response.get());
    keep(response_status, std::move(response), "SetQuota");
  }
  std::string contest_name;
  {
    v1::CreateContestRequest request;
    request.mutable_contest()->set_use_case(kDensity);
    request.mutable_contest()->set_dataset(kDataset);
    *request.mutable_contest()->mutable_start_time() = TimeUtil::SecondsToTimestamp(0);
    *request.mutable_contest()->mutable_end_time() =
        TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now()) + 3600);
    auto response = std::make_unique<v1::Contest>();
    grpc::Status status = stub->CreateContest(As("alice").get(), request, response.get());
    contest_name = response->name();
    keep(status, std::move(response), "CreateContest");
  }
  {
    v1::GetContestRequest request;
    request.set_name(contest_name);
    auto response = std::make_unique<v1::Contest>();
    grpc::Status response_status = stub->GetContest(As("alice").get(), request, response.get());
    keep(response_status, std::move(response), "GetContest");
  }
  {
    v1::ListContestsRequest request;
    auto response = std::make_unique<v1::ListContestsResponse>();
    grpc::Status response_status = stub->ListContests(As("alice").get(), request, response.get());
    keep(response_status, std::move(response), "ListContests");
  }
  {
    v1::ListAnnotatorRankingsRequest request;
    request.set_contest(contest_name);
    auto response = std::make_unique<v1::ListAnnotatorRankingsResponse>();
    grpc::Status status = stub->ListAnnotatorRankings(As("alice").get(), request, response.get());
    CHECK(response->rankings_size() == 2);
    keep(status, std::move(response), "ListAnnotatorRankings");
  }
  {
    auto response = std::make_unique<v1::ReferenceReader>();
    grpc::Status response_status = stub->SetReferenceReader(As("alice").get(), set_reference, response.get());
    keep(response_status, std::move(response), "SetReferenceReader");
    v1::GetReferenceReaderRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    auto fetched = std::make_unique<v1::ReferenceReader>();
    grpc::Status fetched_status = stub->GetReferenceReader(As("alice").get(), request, fetched.get());
    keep(fetched_status, std::move(fetched), "GetReferenceReader");
  }
  {
    v1::GetAgreementRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_annotator("alice");
    auto response = std::make_unique<v1::Agreement>();
    grpc::Status status = stub->GetAgreement(As("alice").get(), request, response.get());
    CHECK(response->compared_count() == kLabelled);
    CHECK(response->confusion_matrix().counts_size() == 16);
    keep(status, std::move(response), "GetAgreement");
  }
  {
    v1::ExportLabelsRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    auto response = std::make_unique<v1::ExportLabelsResponse>();
    grpc::Status status = stub->ExportLabels(As("alice").get(), request, response.get());
    CHECK(response->labels_size() == kLabelled + 1);
    keep(status, std::move(response), "ExportLabels majority vote");
    request.set_annotator("alice");
    auto own = std::make_unique<v1::ExportLabelsResponse>();
    grpc::Status own_status = stub->ExportLabels(As("alice").get(), request, own.get());
    keep(own_status, std::move(own), "ExportLabels alice");
    request.set_annotator("ref");
    v1::ExportLabelsResponse reference;
    grpc::Status rejected = stub->ExportLabels(As("alice").get(), request, &reference);
    CHECK(rejected.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(reference.labels_size() == 0);
    CHECK(stub->ExportLabels(As("ref").get(), request, &reference).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::CountLabelsRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    auto response = std::make_unique<v1::CountLabelsResponse>();
    grpc::Status response_status = stub->CountLabels(As("alice").get(), request, response.get());
    keep(response_status, std::move(response), "CountLabels");
    request.set_annotator("ref");
    v1::CountLabelsResponse reference;
    denied(stub->CountLabels(As("alice").get(), request, &reference), "CountLabels of ref");
  }
  {
    v1::ScoreAgainstReferenceRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    for (int i = 1; i <= 10; ++i) {
      v1::InstancePrediction* prediction = request.add_predictions();
      prediction->set_instance(deployment.instance(i));
      for (int c = 0; c < 4; ++c) prediction->add_probabilities(c == i % 4 ? 0.7 : 0.1);
    }
    auto response = std::make_unique<v1::ScoreAgainstReferenceResponse>();
    grpc::Status status = stub->ScoreAgainstReference(As("alice").get(), request, response.get());
    CHECK(response->scored_count() == kLabelled);
    CHECK(response->kappa() == Approx(1.0));
    keep(status, std::move(response), "ScoreAgainstReference");
  }
  {
    v1::FinishSessionRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_annotator("alice");
    auto response = std::make_unique<v1::FinishSessionResponse>();
    grpc::Status response_status = stub->FinishSession(As("alice").get(), request, response.get());
    keep(response_status, std::move(response), "FinishSession");
  }

  std::set<std::pair<std::string, std::string>> seen;
  std::set<std::string> labelled_annotators;
  for (const auto& response : responses) CollectLabels(*response, &seen, &labelled_annotators);
  CHECK_FALSE(seen.empty());  // the walk does find the participant's own labels
  for (const auto& pair : reference_pairs) {
    INFO(pair.first << " " << pair.second);
    CHECK(seen.count(pair) == 0);
  }
  CHECK(labelled_annotators.count("ref") == 0);
}

TEST_CASE("ailab-annotation: bad requests get the right code", "[service]") {
  Deployment deployment(3);
  auto stub = deployment.NewStub();

  struct Case {
    const char* what;
    std::function<grpc::Status()> call;
    grpc::StatusCode code;
    const char* named;
  };
  auto save = [&](const std::string& use_case, const std::string& instance,
                  const std::string& label) {
    v1::SaveAnnotationRequest request;
    request.set_use_case(use_case);
    request.set_dataset(kDataset);
    request.set_instance(instance);
    request.set_annotator("alice");
    request.set_label(label);
    v1::SaveAnnotationResponse response;
    return stub->SaveAnnotation(As("alice").get(), request, &response);
  };
  auto list = [&](int page_size, const std::string& token, const std::string& filter) {
    v1::ListAnnotationsRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_annotator("alice");
    request.set_page_size(page_size);
    request.set_page_token(token);
    request.set_filter(filter);
    v1::ListAnnotationsResponse response;
    return stub->ListAnnotations(As("alice").get(), request, &response);
  };
  const std::vector<Case> cases = {
      {"missing use case", [&] { return save("", deployment.instance(1), "A"); },
       grpc::StatusCode::INVALID_ARGUMENT, "use_case"},
      {"malformed use case", [&] { return save("breast-density", deployment.instance(1), "A"); },
       grpc::StatusCode::INVALID_ARGUMENT, "breast-density"},
      {"unknown use case", [&] { return save("useCases/nope", deployment.instance(1), "A"); },
       grpc::StatusCode::NOT_FOUND, "useCases/nope"},
      {"unknown instance",
       [&] { return save(kDensity, std::string(kDataset) + "/instances/77", "A"); },
       grpc::StatusCode::NOT_FOUND, "instances/77"},
      {"label not in use case", [&] { return save(kDensity, deployment.instance(1), "Z"); },
       grpc::StatusCode::INVALID_ARGUMENT, "\"Z\""},
      {"negative page size", [&] { return list(-5, "", ""); },
       grpc::StatusCode::INVALID_ARGUMENT, "-5"},
      {"bad page token", [&] { return list(0, "garbage!", ""); },
       grpc::StatusCode::INVALID_ARGUMENT, "page_token"},
      {"bad filter", [&] { return list(0, "", "state=FINISHED"); },
       grpc::StatusCode::INVALID_ARGUMENT, "FINISHED"},
      {"caller mismatch",
       [&] {
         v1::GetAnnotationProgressRequest request;
         request.set_use_case(kDensity);
         request.set_dataset(kDataset);
         request.set_annotator("bob");
         v1::AnnotationProgress response;
         return stub->GetAnnotationProgress(As("alice").get(), request, &response);
       },
       grpc::StatusCode::PERMISSION_DENIED, "bob"},
      {"finish without a session",
       [&] {
         v1::FinishSessionRequest request;
         request.set_use_case(kDensity);
         request.set_dataset(kDataset);
         request.set_annotator("carol");
         v1::FinishSessionResponse response;
         return stub->FinishSession(As("carol").get(), request, &response);
       },
       grpc::StatusCode::FAILED_PRECONDITION, "carol"},
      {"unknown contest",
       [&] {
         v1::GetContestRequest request;
         request.set_name("contests/4242");
         v1::Contest response;
         return stub->GetContest(As("").get(), request, &response);
       },
       grpc::StatusCode::NOT_FOUND, "contests/4242"},
      {"contest ends before it starts",
       [&] {
         v1::CreateContestRequest request;
         request.mutable_contest()->set_use_case(kDensity);
         request.mutable_contest()->set_dataset(kDataset);
         *request.mutable_contest()->mutable_start_time() = TimeUtil::SecondsToTimestamp(2000);
         *request.mutable_contest()->mutable_end_time() = TimeUtil::SecondsToTimestamp(1000);
         v1::Contest response;
         return stub->CreateContest(As("").get(), request, &response);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "end_time"},
      {"agreement without a reference reader",
       [&] {
         v1::GetAgreementRequest request;
         request.set_use_case(kDensity);
         request.set_dataset(kDataset);
         request.set_annotator("alice");
         v1::Agreement response;
         return stub->GetAgreement(As("alice").get(), request, &response);
       },
       grpc::StatusCode::FAILED_PRECONDITION, "SetReferenceReader"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    grpc::Status status = c.call();
    INFO(status.error_message());
    CHECK(status.error_code() == c.code);
    CHECK(absl::StrContains(status.error_message(), c.named));
    CHECK_FALSE(status.error_details().empty());  // ErrorInfo travels to the client
  }
}

}  // namespace
}  // namespace ailab::annotation

namespace ailab::annotation {
namespace {

TEST_CASE("ailab-annotation: scoring needs the internal token", "[service]") {
  Deployment deployment(4, {"--internal_token=test-internal-token"});
  auto stub = deployment.NewStub();
  v1::ScoreAgainstReferenceRequest request;
  request.set_use_case(kDensity);
  request.set_dataset(kDataset);
  v1::InstancePrediction* prediction = request.add_predictions();
  prediction->set_instance(deployment.instance(1));
  for (int c = 0; c < 4; ++c) prediction->add_probabilities(0.25);

  v1::ScoreAgainstReferenceResponse response;
  grpc::Status without = stub->ScoreAgainstReference(As("alice").get(), request, &response);
  CHECK(without.error_code() == grpc::StatusCode::UNAUTHENTICATED);

  auto wrong = As("alice");
  wrong->AddMetadata(rpc::kInternalTokenKey, "guessed-token");
  CHECK(stub->ScoreAgainstReference(wrong.get(), request, &response).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);

  // A person's signed identity, as the gateway sends it, is not the platform itself.
  auto person = As("");
  rpc::Identity alice;
  alice.user = "alice";
  alice.roles = {rpc::kRoleRadiologist};
  alice.expires = absl::Now() + absl::Minutes(5);
  person->AddMetadata(rpc::kIdentityKey, rpc::SignIdentity(alice, "test-internal-token"));
  grpc::Status signed_person = stub->ScoreAgainstReference(person.get(), request, &response);
  CHECK(signed_person.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(signed_person.error_message().find("ScoreAgainstReference") != std::string::npos);

  auto internal = As("evaluation");
  internal->AddMetadata(rpc::kInternalTokenKey, "test-internal-token");
  grpc::Status with = stub->ScoreAgainstReference(internal.get(), request, &response);
  CHECK(with.error_code() != grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("ailab-annotation: every method needs the token", "[service]") {
  Deployment deployment(4, {"--internal_token=test-internal-token"});
  auto stub = deployment.NewStub();
  // One call of each method that does not act for an annotator; with no metadata, each
  // must be rejected before it reads or changes anything.
  std::vector<std::pair<std::string, grpc::Status>> calls;
  {
    v1::ExportLabelsRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    v1::ExportLabelsResponse response;
    calls.emplace_back("ExportLabels", stub->ExportLabels(As("").get(), request, &response));
  }
  {
    v1::CountLabelsRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    v1::CountLabelsResponse response;
    calls.emplace_back("CountLabels", stub->CountLabels(As("").get(), request, &response));
  }
  {
    v1::SetReferenceReaderRequest request;
    request.set_use_case(kDensity);
    request.set_dataset(kDataset);
    request.set_annotator("mallory");
    v1::ReferenceReader response;
    calls.emplace_back("SetReferenceReader",
                       stub->SetReferenceReader(As("").get(), request, &response));
  }
  {
    v1::ListContestsRequest request;
    v1::ListContestsResponse response;
    calls.emplace_back("ListContests", stub->ListContests(As("").get(), request, &response));
  }
  for (const auto& [method, status] : calls) {
    INFO(method << ": " << status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
}

}  // namespace
}  // namespace ailab::annotation
