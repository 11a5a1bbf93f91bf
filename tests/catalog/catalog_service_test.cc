// Tests of the catalog service as a real process: the ailab-catalog binary runs on a
// scratch PostgreSQL database and is called over gRPC.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/catalog/v1/catalog.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "fixtures.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/time_util.h"

namespace {

using ::ailab::catalog::v1::CatalogService;
using ::ailab::catalog::v1::Comment;
using ::ailab::catalog::v1::CreateCommentRequest;
using ::ailab::catalog::v1::CreateDraftRequestRequest;
using ::ailab::catalog::v1::CreateUseCaseRequest;
using ::ailab::catalog::v1::DraftRequest;
using ::ailab::catalog::v1::GetUseCaseRequest;
using ::ailab::catalog::v1::ListCommentsRequest;
using ::ailab::catalog::v1::ListCommentsResponse;
using ::ailab::catalog::v1::ListDraftRequestsRequest;
using ::ailab::catalog::v1::ListDraftRequestsResponse;
using ::ailab::catalog::v1::ListUseCaseHistoryRequest;
using ::ailab::catalog::v1::ListUseCaseHistoryResponse;
using ::ailab::catalog::v1::ListUseCasesRequest;
using ::ailab::catalog::v1::ListUseCasesResponse;
using ::ailab::catalog::v1::ResubmitUseCaseRequest;
using ::ailab::catalog::v1::ReviewUseCaseRequest;
using ::ailab::catalog::v1::UpdateUseCaseRequest;
using ::ailab::catalog::v1::UseCase;
using ::google::protobuf::util::TimeUtil;

// Seeded use cases that the tests use. The service seeds more.
constexpr char kBreastDensity[] = "useCases/breast-density";
constexpr char kSubmittedSeed[] = "useCases/prostate-segmentation-mr";
constexpr char kDraftSeed[] = "useCases/pulmonary-embolism-ct-angiography";

// One ailab-catalog process on its own scratch database, with a client stub.
class Catalog {
 public:
  explicit Catalog(std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = {"--database_url=" + database_.url(), "--log_level=warn"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto started = ailab::testing::ServiceProcess::Start("ailab-catalog", args);
    if (!started.ok()) FAIL("ailab-catalog did not start: " << started.status().message());
    process_ = std::move(started).value();
    stub_ = CatalogService::NewStub(ailab::rpc::Connect(process_->address()));
  }

  CatalogService::Stub& stub() { return *stub_; }

  // Restarts the process on the same port and database.
  void Restart() {
    absl::Status restarted = process_->Restart();
    if (!restarted.ok()) FAIL("restart failed: " << restarted.message());
  }

  // Kills the process with SIGKILL and starts it again.
  void KillAndRestart() {
    process_->Kill();
    Restart();
  }

  // Calls `method` with a 10 s deadline and returns the response or the error.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(grpc::Status (CatalogService::Stub::*method)(grpc::ClientContext*,
                                                                             const Request&,
                                                                             Response*),
                                const Request& request) {
    grpc::ClientContext context;
    ailab::rpc::SetTimeout(context, absl::Seconds(10));
    Response response;
    grpc::Status status = ((*stub_).*method)(&context, request, &response);
    if (!status.ok()) return ailab::rpc::FromGrpcStatus(status);
    return response;
  }

  absl::StatusOr<UseCase> Get(const std::string& name) {
    GetUseCaseRequest request;
    request.set_name(name);
    return Call(&CatalogService::Stub::GetUseCase, request);
  }

  absl::StatusOr<ListUseCasesResponse> List(const std::string& filter,
                                            const std::string& query = "",
                                            const std::string& order_by = "", int page_size = 0,
                                            const std::string& page_token = "") {
    ListUseCasesRequest request;
    request.set_filter(filter);
    request.set_query(query);
    request.set_order_by(order_by);
    request.set_page_size(page_size);
    request.set_page_token(page_token);
    return Call(&CatalogService::Stub::ListUseCases, request);
  }

  // Lists every page with `page_size` and returns the names in order.
  std::vector<std::string> ListAllNames(const std::string& filter, const std::string& order_by,
                                        int page_size, const std::string& query = "") {
    std::vector<std::string> names;
    std::string token;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = List(filter, query, order_by, page_size, token);
      REQUIRE(page.ok());
      REQUIRE(page->use_cases_size() <= page_size);
      for (const UseCase& use_case : page->use_cases()) names.push_back(use_case.name());
      token = page->next_page_token();
      if (token.empty()) break;
      REQUIRE(page->use_cases_size() == page_size);
    }
    REQUIRE(token.empty());
    return names;
  }

  absl::StatusOr<UseCase> Create(const UseCase& use_case, const std::string& user,
                                 const std::string& use_case_id = "", bool draft = false) {
    CreateUseCaseRequest request;
    *request.mutable_use_case() = use_case;
    request.set_use_case_id(use_case_id);
    request.set_user(user);
    request.set_save_as_draft(draft);
    return Call(&CatalogService::Stub::CreateUseCase, request);
  }

  absl::StatusOr<UseCase> Review(const std::string& name, ReviewUseCaseRequest::Decision decision,
                                 const std::string& notes, const std::string& user) {
    ReviewUseCaseRequest request;
    request.set_name(name);
    request.set_decision(decision);
    request.set_notes(notes);
    request.set_user(user);
    return Call(&CatalogService::Stub::ReviewUseCase, request);
  }

  absl::StatusOr<UseCase> Resubmit(const std::string& name, const std::string& user,
                                   const std::string& notes = "") {
    ResubmitUseCaseRequest request;
    request.set_name(name);
    request.set_user(user);
    request.set_notes(notes);
    return Call(&CatalogService::Stub::ResubmitUseCase, request);
  }

  absl::StatusOr<UseCase> Update(const UseCase& use_case, const std::vector<std::string>& paths,
                                 const std::string& user) {
    UpdateUseCaseRequest request;
    *request.mutable_use_case() = use_case;
    for (const std::string& path : paths) request.mutable_update_mask()->add_paths(path);
    request.set_user(user);
    return Call(&CatalogService::Stub::UpdateUseCase, request);
  }

  absl::StatusOr<ListUseCaseHistoryResponse> History(const std::string& name, int page_size = 0,
                                                     const std::string& page_token = "") {
    ListUseCaseHistoryRequest request;
    request.set_name(name);
    request.set_page_size(page_size);
    request.set_page_token(page_token);
    return Call(&CatalogService::Stub::ListUseCaseHistory, request);
  }

  absl::StatusOr<Comment> AddComment(const std::string& parent, const std::string& text,
                                     const std::string& user) {
    CreateCommentRequest request;
    request.set_parent(parent);
    request.mutable_comment()->set_text(text);
    request.set_user(user);
    return Call(&CatalogService::Stub::CreateComment, request);
  }

  absl::StatusOr<ListCommentsResponse> Comments(const std::string& parent, int page_size = 0,
                                                const std::string& page_token = "") {
    ListCommentsRequest request;
    request.set_parent(parent);
    request.set_page_size(page_size);
    request.set_page_token(page_token);
    return Call(&CatalogService::Stub::ListComments, request);
  }

  absl::StatusOr<DraftRequest> RequestDraft(const std::string& title, const std::string& use_case,
                                            const std::string& user) {
    CreateDraftRequestRequest request;
    request.mutable_draft_request()->set_title(title);
    request.mutable_draft_request()->set_description("Needed for our screening programme.");
    request.mutable_draft_request()->set_use_case(use_case);
    request.set_user(user);
    return Call(&CatalogService::Stub::CreateDraftRequest, request);
  }

  absl::StatusOr<ListDraftRequestsResponse> DraftRequests(const std::string& use_case = "",
                                                          const std::string& requester = "",
                                                          int page_size = 0,
                                                          const std::string& page_token = "") {
    ListDraftRequestsRequest request;
    request.set_use_case(use_case);
    request.set_requester(requester);
    request.set_page_size(page_size);
    request.set_page_token(page_token);
    return Call(&CatalogService::Stub::ListDraftRequests, request);
  }

 private:
  ailab::testing::ScratchDatabase database_;
  std::unique_ptr<ailab::testing::ServiceProcess> process_;
  std::unique_ptr<CatalogService::Stub> stub_;
};

// A complete binary classification submission.
UseCase FractureUseCase() {
  UseCase use_case;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        display_name: "Scaphoid fracture on wrist radiograph"
        description: "Finds occult scaphoid fractures on wrist radiographs."
        body_area: MUSCULOSKELETAL
        modality: DX
        task_kind: BINARY_CLASSIFICATION
        data_elements {
          id: "scaphoid_fracture"
          name: "Scaphoid fracture"
          allowed_values { value: "ABSENT" label: "No fracture" report_text: "No fracture." }
          allowed_values { value: "PRESENT" label: "Fracture" report_text: "A fracture is seen." }
        }
      )pb",
      &use_case));
  return use_case;
}

// Checks that `result` failed with `code` and that its message contains `mention`.
template <typename T>
void CheckError(const absl::StatusOr<T>& result, absl::StatusCode code,
                const std::string& mention) {
  REQUIRE_FALSE(result.ok());
  std::string message(result.status().message());
  CAPTURE(message);
  CHECK(result.status().code() == code);
  CHECK(absl::StrContains(message, mention));
  CHECK_FALSE(ailab::GetErrorReason(result.status()).empty());
}

std::set<std::string> Names(const ListUseCasesResponse& response) {
  std::set<std::string> names;
  for (const UseCase& use_case : response.use_cases()) names.insert(use_case.name());
  return names;
}

TEST_CASE("CatalogService: seeds present after start", "[service]") {
  Catalog catalog;

  auto breast = catalog.Get(kBreastDensity);
  REQUIRE(breast.ok());
  CHECK(breast->state() == UseCase::PUBLISHED);
  CHECK(breast->modality() == UseCase::MG);
  CHECK(breast->body_area() == UseCase::BREAST);
  CHECK(breast->task_kind() == UseCase::MULTICLASS_CLASSIFICATION);
  CHECK_FALSE(breast->etag().empty());
  CHECK(breast->has_create_time());
  REQUIRE(breast->data_elements_size() == 1);
  CHECK(breast->data_elements(0).id() == "breast_density");
  REQUIRE(breast->data_elements(0).allowed_values_size() == 4);
  std::vector<std::string> codes;
  for (const auto& value : breast->data_elements(0).allowed_values()) {
    codes.push_back(value.value());
    CHECK_FALSE(value.label().empty());
    CHECK_FALSE(value.report_text().empty());
  }
  CHECK(codes == std::vector<std::string>{"A", "B", "C", "D"});

  auto published = catalog.List("state=PUBLISHED", "", "", 1000);
  REQUIRE(published.ok());
  CHECK(published->use_cases_size() >= 6);
  std::set<UseCase::Modality> modalities;
  std::set<UseCase::TaskKind> task_kinds;
  for (const UseCase& use_case : published->use_cases()) {
    modalities.insert(use_case.modality());
    task_kinds.insert(use_case.task_kind());
    CHECK(use_case.data_elements_size() >= 1);
  }
  CHECK(modalities.size() >= 4);
  CHECK(task_kinds.size() == 4);

  auto submitted = catalog.Get(kSubmittedSeed);
  REQUIRE(submitted.ok());
  CHECK(submitted->state() == UseCase::SUBMITTED);
  auto draft = catalog.Get(kDraftSeed);
  REQUIRE(draft.ok());
  CHECK(draft->state() == UseCase::DRAFT);
}

TEST_CASE("CatalogService: seeding is idempotent across restarts", "[service]") {
  Catalog catalog;
  auto before = catalog.List("", "", "", 1000);
  REQUIRE(before.ok());

  // A reviewed seed keeps its review after restarts.
  REQUIRE(
      catalog.Review(kSubmittedSeed, ReviewUseCaseRequest::RETURN, "Add the MR sequence.", "rita")
          .ok());

  catalog.Restart();
  catalog.Restart();

  auto after = catalog.List("", "", "", 1000);
  REQUIRE(after.ok());
  CHECK(after->total_size() == before->total_size());
  CHECK(Names(*after) == Names(*before));

  auto reviewed = catalog.Get(kSubmittedSeed);
  REQUIRE(reviewed.ok());
  CHECK(reviewed->state() == UseCase::RETURNED);
  CHECK(reviewed->reviewer_notes() == "Add the MR sequence.");

  auto history = catalog.History(kBreastDensity);
  REQUIRE(history.ok());
  CHECK(history->state_changes_size() == 1);
}

TEST_CASE("CatalogService: starts empty with --seed=false", "[service]") {
  Catalog catalog({"--seed=false"});
  auto all = catalog.List("");
  REQUIRE(all.ok());
  CHECK(all->use_cases_size() == 0);
  CHECK(all->total_size() == 0);
  CheckError(catalog.Get(kBreastDensity), absl::StatusCode::kNotFound, kBreastDensity);
}

TEST_CASE("CatalogService: calls without the token are rejected", "[service]") {
  Catalog catalog({"--internal_token=catalog-test-token"});
  auto bare = catalog.Get(kBreastDensity);
  CHECK(bare.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(ailab::GetErrorReason(bare.status()) == "CALLER_UNKNOWN");
  CHECK(absl::StrContains(bare.status().message(), "AILAB_INTERNAL_TOKEN"));

  GetUseCaseRequest request;
  request.set_name(kBreastDensity);
  UseCase use_case;
  grpc::ClientContext guessed;
  guessed.AddMetadata("x-ailab-internal-token", "catalog-test-toke");
  CHECK(catalog.stub().GetUseCase(&guessed, request, &use_case).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);

  grpc::ClientContext platform;
  platform.AddMetadata("x-ailab-internal-token", "catalog-test-token");
  grpc::Status status = catalog.stub().GetUseCase(&platform, request, &use_case);
  INFO(status.error_message());
  CHECK(status.ok());
  CHECK(use_case.name() == kBreastDensity);
}

TEST_CASE("CatalogService: filters by body area, modality, state and task kind", "[service]") {
  Catalog catalog;

  auto breast = catalog.List("body_area=BREAST AND state=PUBLISHED");
  REQUIRE(breast.ok());
  CHECK(Names(*breast).count(kBreastDensity) == 1);
  for (const UseCase& use_case : breast->use_cases()) {
    CHECK(use_case.body_area() == UseCase::BREAST);
    CHECK(use_case.state() == UseCase::PUBLISHED);
  }
  CHECK(breast->total_size() == breast->use_cases_size());

  auto ct_detection = catalog.List("modality=CT AND task_kind=DETECTION");
  REQUIRE(ct_detection.ok());
  CHECK(Names(*ct_detection).count("useCases/pulmonary-nodule-detection-ct") == 1);
  for (const UseCase& use_case : ct_detection->use_cases()) {
    CHECK(use_case.modality() == UseCase::CT);
    CHECK(use_case.task_kind() == UseCase::DETECTION);
  }

  auto pet = catalog.List("modality=pet");
  REQUIRE(pet.ok());
  REQUIRE(pet->use_cases_size() >= 1);
  for (const UseCase& use_case : pet->use_cases()) CHECK(use_case.modality() == UseCase::PT);

  auto not_published = catalog.List("state!=PUBLISHED", "", "", 1000);
  REQUIRE(not_published.ok());
  CHECK(Names(*not_published).count(kSubmittedSeed) == 1);
  CHECK(Names(*not_published).count(kDraftSeed) == 1);
  for (const UseCase& use_case : not_published->use_cases()) {
    CHECK(use_case.state() != UseCase::PUBLISHED);
  }

  auto mine = catalog.List("submitter=\"catalog-seed\" AND state=DRAFT");
  REQUIRE(mine.ok());
  CHECK(Names(*mine) == std::set<std::string>{kDraftSeed});

  auto none = catalog.List("body_area=BREAST AND modality=CT");
  REQUIRE(none.ok());
  CHECK(none->use_cases_size() == 0);
  CHECK(none->total_size() == 0);
  CHECK(none->next_page_token().empty());
}

TEST_CASE("CatalogService: full-text query over names and CDEs", "[service]") {
  Catalog catalog;

  auto density = catalog.List("", "density");
  REQUIRE(density.ok());
  CHECK(Names(*density).count(kBreastDensity) == 1);

  // Prefix and stemming: "hemorrhag" and "dense" match.
  auto hemorrhage = catalog.List("", "hemorrhag");
  REQUIRE(hemorrhage.ok());
  CHECK(Names(*hemorrhage).count("useCases/intracranial-hemorrhage-head-ct") == 1);
  auto dense = catalog.List("", "Dense BREAST");
  REQUIRE(dense.ok());
  CHECK(Names(*dense).count(kBreastDensity) == 1);

  // A CDE name that is not in the title: the knee grading scale.
  auto kellgren = catalog.List("", "kellgren");
  REQUIRE(kellgren.ok());
  CHECK(Names(*kellgren) == std::set<std::string>{"useCases/knee-osteoarthritis-grade"});

  // An allowed value label.
  auto ground_glass = catalog.List("", "ground-glass");
  REQUIRE(ground_glass.ok());
  CHECK(Names(*ground_glass).count("useCases/pulmonary-nodule-detection-ct") == 1);

  // Query and filter together.
  auto ct_nodules = catalog.List("modality=CT", "nodule");
  REQUIRE(ct_nodules.ok());
  CHECK(Names(*ct_nodules).count("useCases/pulmonary-nodule-detection-ct") == 1);
  auto mr_nodules = catalog.List("modality=MR", "nodule");
  REQUIRE(mr_nodules.ok());
  CHECK(mr_nodules->use_cases_size() == 0);

  auto nothing = catalog.List("", "zebracorn");
  REQUIRE(nothing.ok());
  CHECK(nothing->use_cases_size() == 0);

  // A new use case is searchable at once, by its description.
  REQUIRE(catalog.Create(FractureUseCase(), "sam", "scaphoid-fracture").ok());
  auto occult = catalog.List("", "occult scaphoid");
  REQUIRE(occult.ok());
  CHECK(Names(*occult) == std::set<std::string>{"useCases/scaphoid-fracture"});
}

TEST_CASE("CatalogService: order_by sorts use cases", "[service]") {
  Catalog catalog;

  auto by_name = catalog.List("", "", "display_name", 1000);
  REQUIRE(by_name.ok());
  REQUIRE(by_name->use_cases_size() >= 2);
  for (int i = 1; i < by_name->use_cases_size(); ++i) {
    CHECK(absl::AsciiStrToLower(by_name->use_cases(i - 1).display_name()) <=
          absl::AsciiStrToLower(by_name->use_cases(i).display_name()));
  }

  auto by_name_desc = catalog.List("", "", "display_name desc", 1000);
  REQUIRE(by_name_desc.ok());
  std::vector<std::string> ascending;
  std::vector<std::string> descending;
  for (const auto& use_case : by_name->use_cases()) ascending.push_back(use_case.name());
  for (const auto& use_case : by_name_desc->use_cases()) descending.push_back(use_case.name());
  std::reverse(descending.begin(), descending.end());
  CHECK(ascending == descending);

  // Touch one use case so that update times differ.
  REQUIRE(catalog.Review(kSubmittedSeed, ReviewUseCaseRequest::ACCEPT, "", "rita").ok());
  auto by_update = catalog.List("", "", "update_time desc", 1000);
  REQUIRE(by_update.ok());
  CHECK(by_update->use_cases(0).name() == kSubmittedSeed);
  for (int i = 1; i < by_update->use_cases_size(); ++i) {
    CHECK(by_update->use_cases(i - 1).update_time() >= by_update->use_cases(i).update_time());
  }

  auto by_create = catalog.List("", "", "create_time", 1000);
  REQUIRE(by_create.ok());
  for (int i = 1; i < by_create->use_cases_size(); ++i) {
    CHECK(by_create->use_cases(i - 1).create_time() <= by_create->use_cases(i).create_time());
  }
}

TEST_CASE("CatalogService: pages have no duplicates or gaps", "[service]") {
  Catalog catalog;
  // Extra use cases, some with equal display names so that ties are exercised.
  for (int i = 0; i < 7; ++i) {
    UseCase use_case = FractureUseCase();
    if (i % 2 == 0) use_case.set_display_name("Same title");
    REQUIRE(catalog.Create(use_case, "sam", absl::StrCat("paging-case-", i)).ok());
  }

  for (const char* order_by : {"", "display_name", "display_name desc", "create_time desc",
                               "update_time, display_name desc"}) {
    for (const char* filter : {"", "state=SUBMITTED"}) {
      CAPTURE(order_by, filter);
      auto everything = catalog.List(filter, "", order_by, 1000);
      REQUIRE(everything.ok());
      std::vector<std::string> expected;
      for (const UseCase& use_case : everything->use_cases()) expected.push_back(use_case.name());
      CHECK(everything->total_size() == static_cast<int>(expected.size()));
      CHECK(everything->next_page_token().empty());

      for (int page_size : {1, 2, 3, 5}) {
        CAPTURE(page_size);
        std::vector<std::string> paged = catalog.ListAllNames(filter, order_by, page_size);
        CHECK(paged == expected);
        CHECK(std::set<std::string>(paged.begin(), paged.end()).size() == paged.size());
      }
    }
  }

  // Paging also works with a text query ordered by relevance.
  std::vector<std::string> relevant = catalog.ListAllNames("", "", 2, "fracture");
  auto relevant_all = catalog.List("", "fracture", "", 1000);
  REQUIRE(relevant_all.ok());
  CHECK(relevant.size() == static_cast<size_t>(relevant_all->use_cases_size()));
  CHECK(std::set<std::string>(relevant.begin(), relevant.end()) == Names(*relevant_all));
}

TEST_CASE("CatalogService: review workflow with history", "[service]") {
  Catalog catalog;

  // Submit.
  auto created = catalog.Create(FractureUseCase(), "sam", "scaphoid-fracture");
  REQUIRE(created.ok());
  const std::string name = "useCases/scaphoid-fracture";
  CHECK(created->name() == name);
  CHECK(created->state() == UseCase::SUBMITTED);
  CHECK(created->submitter() == "sam");
  CHECK(created->data_elements(0).value_kind() == ailab::catalog::v1::DataElement::CATEGORICAL);

  // The submitter may not edit while it waits for review, nor review it.
  UseCase edit = *created;
  edit.set_description("Finds occult scaphoid fractures on wrist radiographs in adults.");
  CheckError(catalog.Update(edit, {"description"}, "sam"), absl::StatusCode::kFailedPrecondition,
             "SUBMITTED");
  CheckError(catalog.Review(name, ReviewUseCaseRequest::ACCEPT, "", "sam"),
             absl::StatusCode::kPermissionDenied, "sam");

  // Return with notes.
  auto returned =
      catalog.Review(name, ReviewUseCaseRequest::RETURN, "Say which views are needed.", "rita");
  REQUIRE(returned.ok());
  CHECK(returned->state() == UseCase::RETURNED);
  CHECK(returned->reviewer() == "rita");
  CHECK(returned->reviewer_notes() == "Say which views are needed.");

  // The submitter edits; others may not, and a stale etag is refused.
  CheckError(catalog.Update(edit, {"description"}, "eve"), absl::StatusCode::kPermissionDenied,
             "eve");
  edit.set_etag(returned->etag());
  auto updated = catalog.Update(edit, {"description"}, "sam");
  REQUIRE(updated.ok());
  CHECK(updated->description() == edit.description());
  CHECK(updated->display_name() == created->display_name());
  CHECK(updated->etag() != returned->etag());
  CHECK(updated->state() == UseCase::RETURNED);
  CheckError(catalog.Update(edit, {"description"}, "sam"), absl::StatusCode::kAborted,
             returned->etag());

  // Resubmit and accept.
  auto resubmitted = catalog.Resubmit(name, "sam", "Views added.");
  REQUIRE(resubmitted.ok());
  CHECK(resubmitted->state() == UseCase::SUBMITTED);
  auto accepted = catalog.Review(name, ReviewUseCaseRequest::ACCEPT, "Clear and useful.", "rita");
  REQUIRE(accepted.ok());
  CHECK(accepted->state() == UseCase::PUBLISHED);

  // A published use case can no longer be reviewed, resubmitted or edited.
  CheckError(catalog.Review(name, ReviewUseCaseRequest::REJECT, "Too late.", "rita"),
             absl::StatusCode::kFailedPrecondition, "PUBLISHED");
  CheckError(catalog.Resubmit(name, "sam"), absl::StatusCode::kFailedPrecondition, "PUBLISHED");
  CheckError(catalog.Update(edit, {"description"}, "sam"), absl::StatusCode::kFailedPrecondition,
             "PUBLISHED");

  // History has every state change, oldest first, with actor and notes.
  auto history = catalog.History(name);
  REQUIRE(history.ok());
  REQUIRE(history->state_changes_size() == 4);
  const auto& changes = history->state_changes();
  CHECK(changes[0].from_state() == UseCase::STATE_UNSPECIFIED);
  CHECK(changes[0].to_state() == UseCase::SUBMITTED);
  CHECK(changes[0].actor() == "sam");
  CHECK(changes[1].from_state() == UseCase::SUBMITTED);
  CHECK(changes[1].to_state() == UseCase::RETURNED);
  CHECK(changes[1].actor() == "rita");
  CHECK(changes[1].notes() == "Say which views are needed.");
  CHECK(changes[2].from_state() == UseCase::RETURNED);
  CHECK(changes[2].to_state() == UseCase::SUBMITTED);
  CHECK(changes[2].notes() == "Views added.");
  CHECK(changes[3].to_state() == UseCase::PUBLISHED);
  CHECK(changes[3].actor() == "rita");
  for (const auto& change : changes) CHECK(change.has_change_time());

  // History pages.
  auto first = catalog.History(name, 3);
  REQUIRE(first.ok());
  CHECK(first->state_changes_size() == 3);
  REQUIRE_FALSE(first->next_page_token().empty());
  auto second = catalog.History(name, 3, first->next_page_token());
  REQUIRE(second.ok());
  REQUIRE(second->state_changes_size() == 1);
  CHECK(second->state_changes(0).to_state() == UseCase::PUBLISHED);
  CHECK(second->next_page_token().empty());

  // Reject is final.
  auto rejected = catalog.Review(kSubmittedSeed, ReviewUseCaseRequest::REJECT,
                                 "Out of scope for this site.", "rita");
  REQUIRE(rejected.ok());
  CHECK(rejected->state() == UseCase::REJECTED);
  CheckError(catalog.Resubmit(kSubmittedSeed, "catalog-seed"),
             absl::StatusCode::kFailedPrecondition, "REJECTED");
}

TEST_CASE("CatalogService: drafts are completed, then submitted", "[service]") {
  Catalog catalog;

  // A draft needs only a display name; its id comes from the display name.
  UseCase sketch;
  sketch.set_display_name("Rib fracture on chest CT");
  auto draft = catalog.Create(sketch, "dana", "", /*draft=*/true);
  REQUIRE(draft.ok());
  CHECK(draft->name() == "useCases/rib-fracture-on-chest-ct");
  CHECK(draft->state() == UseCase::DRAFT);

  // Creating the same id again fails.
  CheckError(catalog.Create(sketch, "dana", "", true), absl::StatusCode::kAlreadyExists,
             "useCases/rib-fracture-on-chest-ct");

  // Submitting the incomplete draft fails and names what is missing.
  CheckError(catalog.Resubmit(draft->name(), "dana"), absl::StatusCode::kFailedPrecondition,
             "description");

  // Complete it with an update of every field (empty mask), then submit.
  UseCase complete = FractureUseCase();
  complete.set_name(draft->name());
  complete.set_display_name("Rib fracture on chest CT");
  auto updated = catalog.Update(complete, {}, "dana");
  REQUIRE(updated.ok());
  CHECK(updated->data_elements_size() == 1);
  CHECK(updated->state() == UseCase::DRAFT);
  auto submitted = catalog.Resubmit(draft->name(), "dana");
  REQUIRE(submitted.ok());
  CHECK(submitted->state() == UseCase::SUBMITTED);

  auto history = catalog.History(draft->name());
  REQUIRE(history.ok());
  REQUIRE(history->state_changes_size() == 2);
  CHECK(history->state_changes(0).to_state() == UseCase::DRAFT);
  CHECK(history->state_changes(1).from_state() == UseCase::DRAFT);
  CHECK(history->state_changes(1).to_state() == UseCase::SUBMITTED);
}

TEST_CASE("CatalogService: comments only on published use cases", "[service]") {
  Catalog catalog;

  auto first = catalog.AddComment(kBreastDensity, "Useful for our screening service.", "ana");
  REQUIRE(first.ok());
  CHECK(absl::StartsWith(first->name(), std::string(kBreastDensity) + "/comments/"));
  CHECK(first->author() == "ana");
  CHECK(first->has_create_time());
  for (int i = 0; i < 4; ++i) {
    REQUIRE(catalog.AddComment(kBreastDensity, absl::StrCat("Comment ", i), "ben").ok());
  }

  auto all = catalog.Comments(kBreastDensity);
  REQUIRE(all.ok());
  REQUIRE(all->comments_size() == 5);
  CHECK(all->comments(0).text() == "Useful for our screening service.");
  CHECK(all->comments(4).text() == "Comment 3");

  // Pages of two: 2 + 2 + 1.
  std::vector<std::string> paged;
  std::string token;
  int pages = 0;
  do {
    auto page = catalog.Comments(kBreastDensity, 2, token);
    REQUIRE(page.ok());
    for (const Comment& comment : page->comments()) paged.push_back(comment.name());
    token = page->next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  CHECK(pages == 3);
  REQUIRE(paged.size() == 5);
  for (int i = 0; i < 5; ++i) CHECK(paged[i] == all->comments(i).name());

  // Comments on other use cases are separate.
  auto other = catalog.Comments("useCases/pneumothorax-chest-radiograph");
  REQUIRE(other.ok());
  CHECK(other->comments_size() == 0);

  // Not published: FAILED_PRECONDITION naming the state.
  CheckError(catalog.AddComment(kSubmittedSeed, "Looks good.", "ana"),
             absl::StatusCode::kFailedPrecondition, "SUBMITTED");
  CheckError(catalog.AddComment(kDraftSeed, "Looks good.", "ana"),
             absl::StatusCode::kFailedPrecondition, "DRAFT");
  CheckError(catalog.Comments(kSubmittedSeed), absl::StatusCode::kFailedPrecondition, "SUBMITTED");
}

TEST_CASE("CatalogService: draft requests for unpublished use cases", "[service]") {
  Catalog catalog;

  auto idea = catalog.RequestDraft("Hip fracture on pelvic radiograph", "", "olga");
  REQUIRE(idea.ok());
  CHECK(absl::StartsWith(idea->name(), "draftRequests/"));
  CHECK(idea->requester() == "olga");
  CHECK(idea->use_case().empty());
  CHECK(idea->has_create_time());

  auto about_draft = catalog.RequestDraft("Finish the embolism use case", kDraftSeed, "paul");
  REQUIRE(about_draft.ok());
  CHECK(about_draft->use_case() == kDraftSeed);
  auto about_submitted = catalog.RequestDraft("Prostate volume too", kSubmittedSeed, "olga");
  REQUIRE(about_submitted.ok());

  // Published and unknown use cases cannot be requested.
  CheckError(catalog.RequestDraft("Density again", kBreastDensity, "olga"),
             absl::StatusCode::kFailedPrecondition, "PUBLISHED");
  CheckError(catalog.RequestDraft("Unknown", "useCases/no-such-use-case", "olga"),
             absl::StatusCode::kNotFound, "useCases/no-such-use-case");

  // Newest first, with filters.
  auto all = catalog.DraftRequests();
  REQUIRE(all.ok());
  REQUIRE(all->draft_requests_size() == 3);
  CHECK(all->draft_requests(0).name() == about_submitted->name());
  CHECK(all->draft_requests(2).name() == idea->name());

  auto for_draft = catalog.DraftRequests(kDraftSeed);
  REQUIRE(for_draft.ok());
  REQUIRE(for_draft->draft_requests_size() == 1);
  CHECK(for_draft->draft_requests(0).requester() == "paul");

  auto by_olga = catalog.DraftRequests("", "olga");
  REQUIRE(by_olga.ok());
  CHECK(by_olga->draft_requests_size() == 2);

  auto first_page = catalog.DraftRequests("", "", 2);
  REQUIRE(first_page.ok());
  CHECK(first_page->draft_requests_size() == 2);
  REQUIRE_FALSE(first_page->next_page_token().empty());
  auto second_page = catalog.DraftRequests("", "", 2, first_page->next_page_token());
  REQUIRE(second_page.ok());
  REQUIRE(second_page->draft_requests_size() == 1);
  CHECK(second_page->draft_requests(0).name() == idea->name());
}

TEST_CASE("CatalogService: every RPC rejects bad input", "[service]") {
  Catalog catalog;
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  const auto kNotFound = absl::StatusCode::kNotFound;
  const std::string kUnknown = "useCases/no-such-use-case";

  SECTION("GetUseCase") {
    auto missing = catalog.Get("");
    CheckError(missing, kInvalid, "name");
    CHECK(ailab::GetErrorReason(missing.status()) == "MISSING_FIELD");
    auto info = ailab::GetErrorInfo(missing.status());
    REQUIRE(info.has_value());
    CHECK(info->domain() == "catalog.ailab");
    CheckError(catalog.Get("useCases/Bad_Name"), kInvalid, "useCases/Bad_Name");
    CheckError(catalog.Get("breast-density"), kInvalid, "breast-density");
    CheckError(catalog.Get(kUnknown), kNotFound, kUnknown);
  }

  SECTION("ListUseCases") {
    CheckError(catalog.List("", "", "", -1), kInvalid, "-1");
    CheckError(catalog.List("", "", "", 0, "not-a-token"), kInvalid, "not-a-token");
    CheckError(catalog.List("colour=BLUE"), kInvalid, "colour");
    CheckError(catalog.List("body_area=ELBOW"), kInvalid, "ELBOW");
    CheckError(catalog.List("state=PUBLISHED OR state=DRAFT"), kInvalid, "OR");
    CheckError(catalog.List("", "", "popularity desc"), kInvalid, "popularity");
    CheckError(catalog.List("", "!!!"), kInvalid, "!!!");
  }

  SECTION("CreateUseCase") {
    CheckError(catalog.Create(FractureUseCase(), ""), kInvalid, "user");
    CreateUseCaseRequest no_use_case;
    no_use_case.set_user("sam");
    CheckError(catalog.Call(&CatalogService::Stub::CreateUseCase, no_use_case), kInvalid,
               "use_case");
    CheckError(catalog.Create(FractureUseCase(), "sam", "Bad Id"), kInvalid, "Bad Id");
    UseCase named = FractureUseCase();
    named.set_name("useCases/one-name");
    CheckError(catalog.Create(named, "sam", "other-name"), kInvalid, "other-name");
    named.set_name("cases/x");
    CheckError(catalog.Create(named, "sam"), kInvalid, "cases/x");
    UseCase escaped = FractureUseCase();
    escaped.set_display_name("Fracture \xE2\x80\xAE reversed");
    auto rejected = catalog.Create(escaped, "sam");
    CheckError(rejected, kInvalid, "U+202E");
    CHECK(ailab::GetErrorReason(rejected.status()) == "CONTROL_CHARACTER");

    // Invalid CDEs.
    UseCase no_elements = FractureUseCase();
    no_elements.clear_data_elements();
    CheckError(catalog.Create(no_elements, "sam"), kInvalid, "data_elements");
    UseCase three_values = FractureUseCase();
    auto* extra = three_values.mutable_data_elements(0)->add_allowed_values();
    extra->set_value("UNCERTAIN");
    extra->set_label("Uncertain");
    CheckError(catalog.Create(three_values, "sam"), kInvalid, "exactly 2");
    UseCase one_value = FractureUseCase();
    one_value.set_task_kind(UseCase::MULTICLASS_CLASSIFICATION);
    one_value.mutable_data_elements(0)->mutable_allowed_values()->RemoveLast();
    CheckError(catalog.Create(one_value, "sam"), kInvalid, "scaphoid_fracture");
    UseCase duplicate_codes = FractureUseCase();
    duplicate_codes.mutable_data_elements(0)->mutable_allowed_values(1)->set_value("ABSENT");
    CheckError(catalog.Create(duplicate_codes, "sam"), kInvalid, "ABSENT");
    UseCase wrong_kind = FractureUseCase();
    wrong_kind.set_task_kind(UseCase::SEGMENTATION);
    CheckError(catalog.Create(wrong_kind, "sam"), kInvalid, "SEGMENTATION");
    UseCase no_title = FractureUseCase();
    no_title.clear_display_name();
    CheckError(catalog.Create(no_title, "sam"), kInvalid, "display_name");

    // Nothing was stored by the failed calls.
    auto submitted = catalog.List("submitter=sam");
    REQUIRE(submitted.ok());
    CHECK(submitted->use_cases_size() == 0);
  }

  SECTION("UpdateUseCase") {
    UseCase draft = catalog.Create(FractureUseCase(), "sam", "fracture-draft", true).value();
    CheckError(catalog.Update(draft, {}, ""), kInvalid, "user");
    UseCase unnamed = draft;
    unnamed.clear_name();
    CheckError(catalog.Update(unnamed, {}, "sam"), kInvalid, "use_case.name");
    UseCase malformed = draft;
    malformed.set_name("useCases/X");
    CheckError(catalog.Update(malformed, {}, "sam"), kInvalid, "useCases/X");
    UseCase unknown = draft;
    unknown.set_name(kUnknown);
    CheckError(catalog.Update(unknown, {}, "sam"), kNotFound, kUnknown);
    CheckError(catalog.Update(draft, {"state"}, "sam"), kInvalid, "state");
    UseCase bad_cde = draft;
    bad_cde.mutable_data_elements(0)->set_id("Bad Id");
    CheckError(catalog.Update(bad_cde, {"data_elements"}, "sam"), kInvalid, "Bad Id");
    CheckError(catalog.Update(draft, {"description"}, "eve"), absl::StatusCode::kPermissionDenied,
               "eve");
    UseCase seed = catalog.Get(kBreastDensity).value();
    CheckError(catalog.Update(seed, {"description"}, "catalog-seed"),
               absl::StatusCode::kFailedPrecondition, "PUBLISHED");
  }

  SECTION("ReviewUseCase") {
    CheckError(catalog.Review("", ReviewUseCaseRequest::ACCEPT, "", "rita"), kInvalid, "name");
    CheckError(catalog.Review("useCases/a", ReviewUseCaseRequest::ACCEPT, "", "rita"), kInvalid,
               "useCases/a");
    CheckError(catalog.Review(kUnknown, ReviewUseCaseRequest::ACCEPT, "", "rita"), kNotFound,
               kUnknown);
    CheckError(catalog.Review(kSubmittedSeed, ReviewUseCaseRequest::ACCEPT, "", ""), kInvalid,
               "user");
    CheckError(
        catalog.Review(kSubmittedSeed, ReviewUseCaseRequest::DECISION_UNSPECIFIED, "", "rita"),
        kInvalid, "decision");
    CheckError(catalog.Review(kSubmittedSeed, ReviewUseCaseRequest::RETURN, " ", "rita"), kInvalid,
               "notes");
    CheckError(catalog.Review(kSubmittedSeed, ReviewUseCaseRequest::REJECT, "", "rita"), kInvalid,
               "notes");
    CheckError(catalog.Review(kBreastDensity, ReviewUseCaseRequest::ACCEPT, "", "rita"),
               absl::StatusCode::kFailedPrecondition, "PUBLISHED");
    CheckError(catalog.Review(kDraftSeed, ReviewUseCaseRequest::ACCEPT, "", "rita"),
               absl::StatusCode::kFailedPrecondition, "DRAFT");
    // The failed reviews left the seed unchanged.
    CHECK(catalog.Get(kSubmittedSeed).value().state() == UseCase::SUBMITTED);
  }

  SECTION("ResubmitUseCase") {
    CheckError(catalog.Resubmit("", "sam"), kInvalid, "name");
    CheckError(catalog.Resubmit("useCases/-x-", "sam"), kInvalid, "useCases/-x-");
    CheckError(catalog.Resubmit(kUnknown, "sam"), kNotFound, kUnknown);
    CheckError(catalog.Resubmit(kDraftSeed, ""), kInvalid, "user");
    CheckError(catalog.Resubmit(kDraftSeed, "sam"), absl::StatusCode::kPermissionDenied, "sam");
    CheckError(catalog.Resubmit(kSubmittedSeed, "catalog-seed"),
               absl::StatusCode::kFailedPrecondition, "SUBMITTED");
  }

  SECTION("ListUseCaseHistory") {
    CheckError(catalog.History(""), kInvalid, "name");
    CheckError(catalog.History("useCases/UPPER"), kInvalid, "useCases/UPPER");
    CheckError(catalog.History(kUnknown), kNotFound, kUnknown);
    CheckError(catalog.History(kBreastDensity, -5), kInvalid, "-5");
    CheckError(catalog.History(kBreastDensity, 0, "garbage"), kInvalid, "garbage");
  }

  SECTION("CreateComment") {
    CheckError(catalog.AddComment("", "text", "ana"), kInvalid, "parent");
    CheckError(catalog.AddComment("useCases/x", "text", "ana"), kInvalid, "useCases/x");
    CheckError(catalog.AddComment(kUnknown, "text", "ana"), kNotFound, kUnknown);
    CheckError(catalog.AddComment(kBreastDensity, "text", ""), kInvalid, "user");
    CheckError(catalog.AddComment(kBreastDensity, "   ", "ana"), kInvalid, "comment.text");
    CheckError(catalog.AddComment(kBreastDensity, std::string(10001, 'x'), "ana"), kInvalid,
               "10001");
  }

  SECTION("ListComments") {
    CheckError(catalog.Comments(""), kInvalid, "parent");
    CheckError(catalog.Comments("useCases/"), kInvalid, "useCases/");
    CheckError(catalog.Comments(kUnknown), kNotFound, kUnknown);
    CheckError(catalog.Comments(kBreastDensity, -1), kInvalid, "-1");
    CheckError(catalog.Comments(kBreastDensity, 0, "%%%"), kInvalid, "%%%");
  }

  SECTION("CreateDraftRequest") {
    CheckError(catalog.RequestDraft("Title", "", ""), kInvalid, "user");
    CheckError(catalog.RequestDraft("", "", "olga"), kInvalid, "draft_request.title");
    CheckError(catalog.RequestDraft("Title", "draft/x", "olga"), kInvalid, "draft/x");
    CheckError(catalog.RequestDraft("Title", kUnknown, "olga"), kNotFound, kUnknown);
    CreateDraftRequestRequest empty;
    empty.set_user("olga");
    CheckError(catalog.Call(&CatalogService::Stub::CreateDraftRequest, empty), kInvalid,
               "draft_request");
  }

  SECTION("ListDraftRequests") {
    CheckError(catalog.DraftRequests("", "", -3), kInvalid, "-3");
    CheckError(catalog.DraftRequests("", "", 0, "bogus"), kInvalid, "bogus");
    CheckError(catalog.DraftRequests("use-cases/x"), kInvalid, "use-cases/x");
    CheckError(catalog.DraftRequests("", "bad user"), kInvalid, "bad user");
  }
}

TEST_CASE("CatalogService: nothing is lost across restarts", "[service]") {
  Catalog catalog;

  UseCase use_case = FractureUseCase();
  use_case.mutable_data_elements(0)->set_description("Fracture line through the scaphoid.");
  auto created = catalog.Create(use_case, "sam", "scaphoid-fracture");
  REQUIRE(created.ok());
  REQUIRE(catalog.Review(created->name(), ReviewUseCaseRequest::ACCEPT, "Fine.", "rita").ok());
  auto comment = catalog.AddComment(created->name(), "We can label 300 cases.", "ana");
  REQUIRE(comment.ok());
  auto request = catalog.RequestDraft("Elbow effusion", "", "olga");
  REQUIRE(request.ok());
  auto before = catalog.Get(created->name());
  REQUIRE(before.ok());

  SECTION("graceful restart") { catalog.Restart(); }
  SECTION("killed and restarted") { catalog.KillAndRestart(); }

  auto after = catalog.Get(created->name());
  REQUIRE(after.ok());
  CHECK(after->SerializeAsString() == before->SerializeAsString());
  CHECK(after->data_elements(0).description() == "Fracture line through the scaphoid.");

  auto history = catalog.History(created->name());
  REQUIRE(history.ok());
  CHECK(history->state_changes_size() == 2);

  auto comments = catalog.Comments(created->name());
  REQUIRE(comments.ok());
  REQUIRE(comments->comments_size() == 1);
  CHECK(comments->comments(0).SerializeAsString() == comment->SerializeAsString());

  auto requests = catalog.DraftRequests("", "olga");
  REQUIRE(requests.ok());
  REQUIRE(requests->draft_requests_size() == 1);
  CHECK(requests->draft_requests(0).SerializeAsString() == request->SerializeAsString());

  // New writes after the restart continue the numbering without clashes.
  auto second = catalog.AddComment(created->name(), "And 200 more.", "ben");
  REQUIRE(second.ok());
  CHECK(second->name() != comment->name());
}

}  // namespace
