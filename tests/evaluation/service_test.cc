// Tests of the evaluation service library against PostgreSQL, with FakeBackends in
// place of training, catalog, ingest, annotation and inference.
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "ailab/metrics/classification.h"
#include "ailab/pg/pg.h"
#include "ailab/status/status.h"
#include "catch2/catch.hpp"
#include "fake_backends.h"
#include "fixtures.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/time_util.h"
#include "services/evaluation/service.h"
#include "services/evaluation/store.h"

namespace ailab::evaluation {
namespace {

using ::ailab::evaluation::testing::FakeBackends;
using ::google::protobuf::util::TimeUtil;

constexpr char kBinary[] = "useCases/pneumothorax";
constexpr char kDensity[] = "useCases/breast-density";

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

// The service over a scratch database, with a clock the test moves.
class Harness {
 public:
  Harness() {
    pg::PoolOptions options;
    options.url = database_.url();
    options.size = 4;
    options.schema = "evaluation";
    auto pool = pg::Pool::Create(options);
    if (!pool.ok()) throw std::runtime_error(pool.status().ToString());
    pool_ = *std::move(pool);
    absl::Status migrated = pool_->Migrate(EvaluationStore::Migrations());
    if (!migrated.ok()) throw std::runtime_error(migrated.ToString());
    store_ = std::make_unique<EvaluationStore>(*pool_);
    now_micros_ = absl::ToUnixMicros(absl::FromCivil(absl::CivilSecond(2026, 3, 10, 12, 0, 0),
                                                     absl::UTCTimeZone()));
    SetUpData();
    StartService();
  }

  ~Harness() {
    backends_.Release();
    service_.reset();
  }

  void StartService() {
    service_.reset();
    ServiceOptions options;
    options.evaluation_runners = 2;
    options.prediction_parallelism = 3;
    options.clock = [this] { return absl::FromUnixMicros(now_micros_.load()); };
    service_ = std::make_unique<EvaluationServiceImpl>(store_.get(), &backends_, options);
  }

  // Binary use case with dataset "datasets/chest" (20 instances, even ones TEST) and
  // labels of "alice"; density use case with "datasets/density" (12, all TEST).
  void SetUpData() {
    backends_.AddUseCase(kBinary, {"absent", "present"}, /*binary=*/true);
    backends_.AddUseCase(kDensity, {"A", "B", "C", "D"}, /*binary=*/false);
    backends_.AddDetectionUseCase("useCases/nodules");
    backends_.AddDataset("datasets/chest", 20,
                         [](int n) { return n % 2 == 0 ? Split::kTest : Split::kTrain; });
    backends_.SetLabels(kBinary, "datasets/chest", "alice", [](int n) { return (n / 2) % 2; });
    backends_.AddDataset("datasets/density", 12);
    backends_.SetLabels(kDensity, "datasets/density", "", [](int n) { return n % 4; });
    backends_.AddModel("models/good", kBinary, {"absent", "present"});
    backends_.AddModel("models/fair", kBinary, {"present", "absent"});  // other output order
    backends_.AddModel("models/broken", kBinary, {"absent", "present"});
    backends_.SetFailing("models/broken", true);
    backends_.SetSkill("models/fair", "datasets/chest", 6);
    backends_.AddModel("models/density", kDensity, {"A", "B", "C", "D"});
    backends_.SetSkill("models/density", "datasets/density", 7);
  }

  // Challenge data: test dataset "datasets/test" (30) and hidden "datasets/final" (30),
  // both read by "ref". Model "models/test-star" is strong on test and weak on final,
  // and "models/final-star" the reverse.
  void SetUpChallengeData() {
    backends_.AddDataset("datasets/test", 30);
    backends_.AddDataset("datasets/final", 30);
    backends_.SetReference(kBinary, "datasets/test", "ref", [](int n) { return n % 2; });
    backends_.SetReference(kBinary, "datasets/final", "ref", [](int n) { return (n / 3) % 2; });
    backends_.AddModel("models/test-star", kBinary, {"absent", "present"});
    backends_.SetSkill("models/test-star", "datasets/test", 10);
    backends_.SetSkill("models/test-star", "datasets/final", 5);
    backends_.AddModel("models/final-star", kBinary, {"absent", "present"});
    backends_.SetSkill("models/final-star", "datasets/test", 7);
    backends_.SetSkill("models/final-star", "datasets/final", 10);
    backends_.AddModel("models/weak", kBinary, {"absent", "present"});
    backends_.SetSkill("models/weak", "datasets/test", 4);
    backends_.SetSkill("models/weak", "datasets/final", 4);
  }

  v1::Challenge CreateChallenge(int daily_limit = 3) {
    v1::CreateChallengeRequest request;
    v1::Challenge* challenge = request.mutable_challenge();
    challenge->set_display_name("Pneumothorax challenge");
    challenge->set_use_case(kBinary);
    challenge->set_test_dataset("datasets/test");
    challenge->set_final_dataset("datasets/final");
    challenge->set_reference_reader("ref");
    *challenge->mutable_open_time() = ToTimestamp(now() - absl::Hours(1));
    *challenge->mutable_close_time() = ToTimestamp(now() + absl::Hours(24 * 30));
    challenge->set_daily_submission_limit(daily_limit);
    auto created = service_->DoCreateChallenge(request, std::string("organiser"));
    if (!created.ok()) throw std::runtime_error(created.status().ToString());
    return *created;
  }

  absl::StatusOr<v1::Submission> Submit(const std::string& challenge, const std::string& model,
                                        const std::string& participant) {
    v1::SubmitToChallengeRequest request;
    request.set_challenge(challenge);
    request.set_model(model);
    request.set_participant(participant);
    return service_->DoSubmitToChallenge(request, participant);
  }

  absl::StatusOr<v1::ListLeaderboardEntriesResponse> Leaderboard(const std::string& challenge,
                                                                  bool final_ranking = false) {
    v1::ListLeaderboardEntriesRequest request;
    request.set_parent(challenge);
    request.set_final(final_ranking);
    return service_->DoListLeaderboardEntries(request);
  }

  absl::StatusOr<v1::Evaluation> CreateEvaluation(std::vector<std::string> models,
                                                  const std::string& use_case = kBinary,
                                                  const std::string& dataset = "datasets/chest",
                                                  const std::string& label_source = "alice") {
    v1::CreateEvaluationRequest request;
    v1::Evaluation* evaluation = request.mutable_evaluation();
    evaluation->set_use_case(use_case);
    evaluation->set_dataset(dataset);
    evaluation->set_label_source(label_source);
    for (const std::string& model : models) evaluation->add_models(model);
    return service_->DoCreateEvaluation(request, std::nullopt);
  }

  // Polls until the evaluation leaves RUNNING (at most a minute).
  v1::Evaluation WaitUntilFinished(const std::string& name) {
    v1::Evaluation evaluation;
    for (int i = 0; i < 3000; ++i) {
      grpc::ServerContext context;
      v1::GetEvaluationRequest request;
      request.set_name(name);
      grpc::Status status = service_->GetEvaluation(&context, &request, &evaluation);
      if (!status.ok()) throw std::runtime_error(status.error_message());
      if (evaluation.state() != v1::Evaluation::RUNNING) return evaluation;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error(absl::StrCat("evaluation ", name, " did not finish"));
  }

  absl::Time now() const { return absl::FromUnixMicros(now_micros_.load()); }
  void Advance(absl::Duration duration) { now_micros_ += absl::ToInt64Microseconds(duration); }

  FakeBackends& backends() { return backends_; }
  EvaluationServiceImpl& service() { return *service_; }

 private:
  ailab::testing::ScratchDatabase database_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<EvaluationStore> store_;
  FakeBackends backends_;
  std::atomic<int64_t> now_micros_{0};
  std::unique_ptr<EvaluationServiceImpl> service_;
};

// Checks that `status` has `code` and that its message contains `text`.
void CheckError(const absl::Status& status, absl::StatusCode code, const std::string& text) {
  INFO("status: " << status.ToString());
  CHECK(status.code() == code);
  CHECK(absl::StrContains(status.message(), text));
}

std::string TextOf(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(message, &text);
  return text;
}

TEST_CASE("Evaluation: binary metrics per model") {
  Harness harness;
  auto created = harness.CreateEvaluation({"models/good", "models/fair"});
  REQUIRE(created.ok());
  CHECK(created->state() == v1::Evaluation::RUNNING);
  CHECK(created->instance_count() == 10);  // the TEST half of the labelled instances
  v1::Evaluation done = harness.WaitUntilFinished(created->name());
  REQUIRE(done.state() == v1::Evaluation::SUCCEEDED);
  REQUIRE(done.results_size() == 2);

  const v1::ClassificationMetrics& good = done.results(0).metrics();
  CHECK(done.results(0).model() == "models/good");
  CHECK(good.n() == 10);
  CHECK(good.accuracy() == Approx(1.0));
  CHECK(good.kappa() == Approx(1.0));
  CHECK(good.auc() == Approx(1.0));
  CHECK(good.roc_size() >= 2);
  CHECK(std::isinf(good.roc(0).threshold()));
  CHECK(good.at_threshold().positive_category() == "present");
  CHECK(good.at_threshold().sensitivity() == Approx(1.0));

  // "fair" is right on positions 0-5 of every 10 of the dataset. The TEST split contains
  // the even positions, so 6 of its 10 instances (positions 0, 2, 4, 10, 12, 14).
  const v1::ClassificationMetrics& fair = done.results(1).metrics();
  CHECK(fair.n() == 10);
  CHECK(fair.accuracy() == Approx(0.6));
  CHECK(fair.confusion_matrix().categories_size() == 2);
  int64_t total = 0;
  for (int64_t count : fair.confusion_matrix().counts()) total += count;
  CHECK(total == 10);
  CHECK(fair.kappa_interval().lower() <= fair.kappa());
  CHECK(fair.kappa_interval().upper() >= fair.kappa());
}

TEST_CASE("Evaluation: threshold recomputed from stored predictions") {
  Harness harness;
  auto created = harness.CreateEvaluation({"models/good"});
  REQUIRE(created.ok());
  v1::Evaluation done = harness.WaitUntilFinished(created->name());
  REQUIRE(done.state() == v1::Evaluation::SUCCEEDED);
  const int64_t calls = harness.backends().predict_calls();

  v1::ComputeAtThresholdRequest request;
  request.set_evaluation(created->name());
  request.set_model("models/good");
  request.set_threshold(0.9);  // above every probability: nothing is called positive
  auto high = harness.service().DoComputeAtThreshold(request);
  REQUIRE(high.ok());
  CHECK(high->metrics().true_positives() == 0);
  CHECK(high->metrics().false_positives() == 0);
  CHECK(high->metrics().sensitivity() == Approx(0.0));
  CHECK(high->metrics().specificity() == Approx(1.0));

  request.set_threshold(0.5);
  auto middle = harness.service().DoComputeAtThreshold(request);
  REQUIRE(middle.ok());
  CHECK(middle->metrics().sensitivity() == Approx(1.0));
  CHECK(middle->metrics().kappa() == Approx(1.0));
  CHECK(harness.backends().predict_calls() == calls);  // no new inference
}

TEST_CASE("Evaluation: multiclass has AUC but no ROC") {
  Harness harness;
  auto created = harness.CreateEvaluation({"models/density"}, kDensity, "datasets/density", "");
  REQUIRE(created.ok());
  v1::Evaluation done = harness.WaitUntilFinished(created->name());
  REQUIRE(done.state() == v1::Evaluation::SUCCEEDED);
  const v1::ClassificationMetrics& result = done.results(0).metrics();
  CHECK(result.n() == 12);
  CHECK(result.roc_size() == 0);
  CHECK_FALSE(result.has_at_threshold());
  CHECK(result.category_aucs_size() == 4);
  CHECK(result.confusion_matrix().counts_size() == 16);
  CHECK(result.quadratic_kappa() <= 1.0);

  v1::ComputeAtThresholdRequest request;
  request.set_evaluation(created->name());
  request.set_model("models/density");
  request.set_threshold(0.5);
  CheckError(harness.service().DoComputeAtThreshold(request).status(),
             absl::StatusCode::kFailedPrecondition, "binary");
}

TEST_CASE("Evaluation: failing model gets its own error") {
  Harness harness;
  auto created = harness.CreateEvaluation({"models/good", "models/broken"});
  REQUIRE(created.ok());
  v1::Evaluation done = harness.WaitUntilFinished(created->name());
  REQUIRE(done.state() == v1::Evaluation::SUCCEEDED);
  REQUIRE(done.results_size() == 2);
  CHECK(done.results(0).has_metrics());
  CHECK_FALSE(done.results(1).has_metrics());
  CHECK(done.results(1).error().code() == static_cast<int>(absl::StatusCode::kInvalidArgument));
  CHECK(absl::StrContains(done.results(1).error().message(), "models/broken"));
}

TEST_CASE("Evaluation: bad create requests rejected") {
  Harness harness;
  struct Case {
    const char* what;
    std::function<void(v1::CreateEvaluationRequest&)> change;
    absl::StatusCode code;
    const char* text;
  };
  const std::vector<Case> cases = {
      {"missing use case", [](auto& r) { r.mutable_evaluation()->clear_use_case(); },
       absl::StatusCode::kInvalidArgument, "evaluation.use_case"},
      {"bad use case name", [](auto& r) { r.mutable_evaluation()->set_use_case("pneumothorax"); },
       absl::StatusCode::kInvalidArgument, "\"pneumothorax\""},
      {"bad dataset name", [](auto& r) { r.mutable_evaluation()->set_dataset("datasets/"); },
       absl::StatusCode::kInvalidArgument, "\"datasets/\""},
      {"no models", [](auto& r) { r.mutable_evaluation()->clear_models(); },
       absl::StatusCode::kInvalidArgument, "0 models"},
      {"duplicate model", [](auto& r) { r.mutable_evaluation()->add_models("models/good"); },
       absl::StatusCode::kInvalidArgument, "\"models/good\" is listed twice"},
      {"bad model name", [](auto& r) { r.mutable_evaluation()->add_models("good"); },
       absl::StatusCode::kInvalidArgument, "\"good\""},
      {"threshold above 1", [](auto& r) { r.mutable_evaluation()->set_threshold(1.5); },
       absl::StatusCode::kInvalidArgument, "1.5"},
      {"bad split", [](auto& r) { r.mutable_evaluation()->set_split(static_cast<v1::DataSplit>(42)); },
       absl::StatusCode::kInvalidArgument, "42"},
      {"bad id", [](auto& r) { r.set_evaluation_id("Bad_Id"); }, absl::StatusCode::kInvalidArgument,
       "\"Bad_Id\""},
      {"unknown use case", [](auto& r) { r.mutable_evaluation()->set_use_case("useCases/none"); },
       absl::StatusCode::kNotFound, "useCases/none"},
      {"detection use case", [](auto& r) { r.mutable_evaluation()->set_use_case("useCases/nodules"); },
       absl::StatusCode::kFailedPrecondition, "useCases/nodules"},
      {"unknown model", [](auto& r) { r.mutable_evaluation()->set_models(0, "models/none"); },
       absl::StatusCode::kNotFound, "models/none"},
      {"model of another use case",
       [](auto& r) { r.mutable_evaluation()->set_models(0, "models/density"); },
       absl::StatusCode::kFailedPrecondition, "models/density"},
      {"no labels from that annotator",
       [](auto& r) { r.mutable_evaluation()->set_label_source("nobody"); },
       absl::StatusCode::kFailedPrecondition, "nobody"},
      {"unknown dataset", [](auto& r) { r.mutable_evaluation()->set_dataset("datasets/none"); },
       absl::StatusCode::kNotFound, "datasets/none"},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      v1::CreateEvaluationRequest request;
      request.mutable_evaluation()->set_use_case(kBinary);
      request.mutable_evaluation()->set_dataset("datasets/chest");
      request.mutable_evaluation()->set_label_source("alice");
      request.mutable_evaluation()->add_models("models/good");
      c.change(request);
      CheckError(harness.service().DoCreateEvaluation(request, std::nullopt).status(), c.code,
                 c.text);
    }
  }
  SECTION("taken id") {
    v1::CreateEvaluationRequest request;
    request.set_evaluation_id("same");
    request.mutable_evaluation()->set_use_case(kBinary);
    request.mutable_evaluation()->set_dataset("datasets/chest");
    request.mutable_evaluation()->set_label_source("alice");
    request.mutable_evaluation()->add_models("models/good");
    REQUIRE(harness.service().DoCreateEvaluation(request, std::nullopt).ok());
    CheckError(harness.service().DoCreateEvaluation(request, std::nullopt).status(),
               absl::StatusCode::kAlreadyExists, "evaluations/same");
  }
}

TEST_CASE("Evaluation: get, list, cancel and threshold reject bad input") {
  Harness harness;
  grpc::ServerContext context;

  v1::GetEvaluationRequest get;
  v1::Evaluation evaluation;
  get.set_name("evaluations/");
  CHECK(harness.service().GetEvaluation(&context, &get, &evaluation).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  get.set_name("evaluations/missing");
  grpc::Status missing = harness.service().GetEvaluation(&context, &get, &evaluation);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(absl::StrContains(missing.error_message(), "evaluations/missing"));

  v1::ListEvaluationsRequest list;
  v1::ListEvaluationsResponse listed;
  list.set_page_size(-1);
  CHECK(harness.service().ListEvaluations(&context, &list, &listed).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  list.set_page_size(0);
  list.set_page_token("not a token");
  CHECK(harness.service().ListEvaluations(&context, &list, &listed).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  list.clear_page_token();
  list.set_use_case("bad");
  CHECK(harness.service().ListEvaluations(&context, &list, &listed).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  v1::CancelEvaluationRequest cancel;
  cancel.set_name("evaluations/missing");
  CHECK(harness.service().DoCancelEvaluation(cancel).status().code() == absl::StatusCode::kNotFound);

  auto created = harness.CreateEvaluation({"models/good"});
  REQUIRE(created.ok());
  harness.WaitUntilFinished(created->name());
  cancel.set_name(created->name());
  CheckError(harness.service().DoCancelEvaluation(cancel).status(),
             absl::StatusCode::kFailedPrecondition, "SUCCEEDED");

  v1::ComputeAtThresholdRequest threshold;
  threshold.set_evaluation(created->name());
  threshold.set_model("models/good");
  threshold.set_threshold(-0.1);
  CheckError(harness.service().DoComputeAtThreshold(threshold).status(),
             absl::StatusCode::kInvalidArgument, "-0.1");
  threshold.set_threshold(0.3);
  threshold.set_model("models/fair");
  CheckError(harness.service().DoComputeAtThreshold(threshold).status(),
             absl::StatusCode::kNotFound, "models/fair");
  threshold.set_model("fair");
  CheckError(harness.service().DoComputeAtThreshold(threshold).status(),
             absl::StatusCode::kInvalidArgument, "\"fair\"");
  threshold.set_model("models/good");
  threshold.set_evaluation("evaluations/missing");
  CHECK(harness.service().DoComputeAtThreshold(threshold).status().code() ==
        absl::StatusCode::kNotFound);

  list.clear_use_case();
  REQUIRE(harness.service().ListEvaluations(&context, &list, &listed).ok());
  CHECK(listed.evaluations_size() == 1);
}

TEST_CASE("Evaluation: cancel stops a running evaluation") {
  Harness harness;
  harness.backends().HoldPredictions();
  auto created = harness.CreateEvaluation({"models/good"});
  REQUIRE(created.ok());
  harness.backends().WaitForHeldPrediction();
  v1::CancelEvaluationRequest cancel;
  cancel.set_name(created->name());
  auto cancelled = harness.service().DoCancelEvaluation(cancel);
  REQUIRE(cancelled.ok());
  CHECK(cancelled->state() == v1::Evaluation::CANCELLED);
  harness.backends().Release();
  v1::Evaluation done = harness.WaitUntilFinished(created->name());
  CHECK(done.state() == v1::Evaluation::CANCELLED);
  CHECK(done.results_size() == 0);
}

TEST_CASE("Evaluation: only the owner cancels") {
  Harness harness;
  harness.backends().HoldPredictions();
  v1::CreateEvaluationRequest create;
  create.mutable_evaluation()->set_use_case(kBinary);
  create.mutable_evaluation()->set_dataset("datasets/chest");
  create.mutable_evaluation()->set_label_source("alice");
  create.mutable_evaluation()->add_models("models/good");
  auto created = harness.service().DoCreateEvaluation(create, std::string("bob"));
  REQUIRE(created.ok());
  CHECK(created->owner() == "bob");
  harness.backends().WaitForHeldPrediction();

  v1::CancelEvaluationRequest cancel;
  cancel.set_name(created->name());
  CheckError(harness.service().DoCancelEvaluation(cancel, std::string("mallory")).status(),
             absl::StatusCode::kPermissionDenied, "bob");
  auto cancelled = harness.service().DoCancelEvaluation(cancel, std::string("bob"));
  REQUIRE(cancelled.ok());
  CHECK(cancelled->state() == v1::Evaluation::CANCELLED);
  harness.backends().Release();
  CHECK(harness.WaitUntilFinished(created->name()).state() == v1::Evaluation::CANCELLED);
}

TEST_CASE("Evaluation: restart fails interrupted evaluations") {
  Harness harness;
  harness.backends().HoldPredictions();
  auto created = harness.CreateEvaluation({"models/good"});
  REQUIRE(created.ok());
  harness.backends().WaitForHeldPrediction();
  // A new service over the same database stands for a restarted process.
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    harness.backends().Release();
  });
  harness.StartService();
  release.join();
  v1::Evaluation done = harness.WaitUntilFinished(created->name());
  CHECK(done.state() == v1::Evaluation::FAILED);
  CHECK(absl::StrContains(done.error().message(), "create it again"));
}

TEST_CASE("Challenge: bad create requests rejected") {
  Harness harness;
  harness.SetUpChallengeData();
  struct Case {
    const char* what;
    std::function<void(v1::CreateChallengeRequest&)> change;
    absl::StatusCode code;
    const char* text;
  };
  const std::vector<Case> cases = {
      {"missing title", [](auto& r) { r.mutable_challenge()->clear_display_name(); },
       absl::StatusCode::kInvalidArgument, "display_name"},
      {"final equals test", [](auto& r) { r.mutable_challenge()->set_final_dataset("datasets/test"); },
       absl::StatusCode::kInvalidArgument, "datasets/test"},
      {"missing reader", [](auto& r) { r.mutable_challenge()->clear_reference_reader(); },
       absl::StatusCode::kInvalidArgument, "reference_reader"},
      {"close before open",
       [](auto& r) { *r.mutable_challenge()->mutable_close_time() = r.challenge().open_time(); },
       absl::StatusCode::kInvalidArgument, "close_time"},
      {"missing open time", [](auto& r) { r.mutable_challenge()->clear_open_time(); },
       absl::StatusCode::kInvalidArgument, "open_time"},
      {"limit too high", [](auto& r) { r.mutable_challenge()->set_daily_submission_limit(5000); },
       absl::StatusCode::kInvalidArgument, "5000"},
      {"bad test dataset", [](auto& r) { r.mutable_challenge()->set_test_dataset("test"); },
       absl::StatusCode::kInvalidArgument, "\"test\""},
      {"unknown test dataset",
       [](auto& r) { r.mutable_challenge()->set_test_dataset("datasets/missing"); },
       absl::StatusCode::kNotFound, "challenge.test_dataset \"datasets/missing\""},
      {"unknown final dataset",
       [](auto& r) { r.mutable_challenge()->set_final_dataset("datasets/missing"); },
       absl::StatusCode::kNotFound, "challenge.final_dataset \"datasets/missing\""},
      {"unknown use case", [](auto& r) { r.mutable_challenge()->set_use_case("useCases/none"); },
       absl::StatusCode::kNotFound, "useCases/none"},
      {"detection use case", [](auto& r) { r.mutable_challenge()->set_use_case("useCases/nodules"); },
       absl::StatusCode::kFailedPrecondition, "useCases/nodules"},
      {"bad id", [](auto& r) { r.set_challenge_id("9lives"); }, absl::StatusCode::kInvalidArgument,
       "\"9lives\""},
  };
  for (const Case& c : cases) {
    SECTION(c.what) {
      v1::CreateChallengeRequest request;
      v1::Challenge* challenge = request.mutable_challenge();
      challenge->set_display_name("Challenge");
      challenge->set_use_case(kBinary);
      challenge->set_test_dataset("datasets/test");
      challenge->set_final_dataset("datasets/final");
      challenge->set_reference_reader("ref");
      *challenge->mutable_open_time() = ToTimestamp(harness.now());
      *challenge->mutable_close_time() = ToTimestamp(harness.now() + absl::Hours(1));
      c.change(request);
      CheckError(harness.service().DoCreateChallenge(request, std::nullopt).status(), c.code,
                 c.text);
    }
  }
  SECTION("owner other than the caller") {
    v1::CreateChallengeRequest request;
    v1::Challenge* challenge = request.mutable_challenge();
    challenge->set_display_name("Challenge");
    challenge->set_use_case(kBinary);
    challenge->set_test_dataset("datasets/test");
    challenge->set_final_dataset("datasets/final");
    challenge->set_reference_reader("ref");
    *challenge->mutable_open_time() = ToTimestamp(harness.now());
    *challenge->mutable_close_time() = ToTimestamp(harness.now() + absl::Hours(1));
    challenge->set_owner("someone-else");
    CheckError(harness.service().DoCreateChallenge(request, std::string("mallory")).status(),
               absl::StatusCode::kPermissionDenied, "someone-else");
  }
}

TEST_CASE("Challenge: leaderboard keeps most recent submission") {
  Harness harness;
  harness.SetUpChallengeData();
  v1::Challenge challenge = harness.CreateChallenge(10);

  auto first = harness.Submit(challenge.name(), "models/test-star", "alice");
  REQUIRE(first.ok());
  REQUIRE(first->state() == v1::Submission::SCORED);
  CHECK(first->kappa() == Approx(1.0));
  CHECK(first->scored_count() == 30);
  harness.Advance(absl::Minutes(1));
  auto second = harness.Submit(challenge.name(), "models/weak", "alice");
  REQUIRE(second.ok());
  REQUIRE(second->state() == v1::Submission::SCORED);
  harness.Advance(absl::Minutes(1));
  auto bob = harness.Submit(challenge.name(), "models/final-star", "bob");
  REQUIRE(bob.ok());
  REQUIRE(bob->state() == v1::Submission::SCORED);

  auto board = harness.Leaderboard(challenge.name());
  REQUIRE(board.ok());
  REQUIRE(board->entries_size() == 2);
  CHECK(board->total_size() == 2);
  // Bob's 7-in-10 model beats Alice's latest (4 in 10), not her earlier perfect one.
  CHECK(board->entries(0).participant() == "bob");
  CHECK(board->entries(0).rank() == 1);
  CHECK(board->entries(1).participant() == "alice");
  CHECK(board->entries(1).rank() == 2);
  CHECK(board->entries(1).submission() == second->name());
  CHECK(board->entries(1).model() == "models/weak");
  CHECK(board->entries(1).kappa() == Approx(second->kappa()));
  CHECK(board->entries(1).kappa_interval().confidence() == Approx(0.95));

  v1::ListLeaderboardEntriesRequest bad;
  bad.set_parent(challenge.name());
  bad.set_order_by("name asc");
  CheckError(harness.service().DoListLeaderboardEntries(bad).status(),
             absl::StatusCode::kInvalidArgument, "name asc");
  bad.set_order_by("");
  bad.set_parent("challenges/missing");
  CHECK(harness.service().DoListLeaderboardEntries(bad).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("Challenge: daily limit ignores failed submissions") {
  Harness harness;
  harness.SetUpChallengeData();
  harness.backends().AddModel("models/crashing", kBinary, {"absent", "present"});
  harness.backends().SetFailing("models/crashing", true);
  v1::Challenge challenge = harness.CreateChallenge(2);

  auto failed = harness.Submit(challenge.name(), "models/crashing", "alice");
  REQUIRE(failed.ok());
  CHECK(failed->state() == v1::Submission::FAILED);
  CHECK(absl::StrContains(failed->error().message(), "models/crashing"));
  REQUIRE(harness.Submit(challenge.name(), "models/weak", "alice").ok());
  REQUIRE(harness.Submit(challenge.name(), "models/test-star", "alice").ok());

  auto over = harness.Submit(challenge.name(), "models/weak", "alice");
  INFO(over.status().ToString());
  CHECK(over.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(absl::StrContains(over.status().message(), "daily limit of 2"));
  CHECK(absl::StrContains(over.status().message(), "2026-03-11T00:00:00Z"));
  CHECK(GetErrorReason(over.status()) == "DAILY_SUBMISSION_LIMIT");

  // Others are not affected, and the count starts again the next UTC day.
  CHECK(harness.Submit(challenge.name(), "models/weak", "bob").ok());
  harness.Advance(absl::Hours(12));
  auto next_day = harness.Submit(challenge.name(), "models/weak", "alice");
  REQUIRE(next_day.ok());
  CHECK(next_day->state() == v1::Submission::SCORED);
}

TEST_CASE("Challenge: concurrent submissions respect the limit") {
  Harness harness;
  harness.SetUpChallengeData();
  v1::Challenge challenge = harness.CreateChallenge(2);
  std::atomic<int> accepted{0};
  std::atomic<int> exhausted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&] {
      auto result = harness.Submit(challenge.name(), "models/weak", "carol");
      if (result.ok()) ++accepted;
      if (result.status().code() == absl::StatusCode::kResourceExhausted) ++exhausted;
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(accepted.load() == 2);
  CHECK(exhausted.load() == 3);
}

TEST_CASE("Challenge: final ranking uses hidden set") {
  Harness harness;
  harness.SetUpChallengeData();
  v1::Challenge challenge = harness.CreateChallenge();
  REQUIRE(harness.Submit(challenge.name(), "models/test-star", "alice").ok());
  harness.Advance(absl::Minutes(1));
  REQUIRE(harness.Submit(challenge.name(), "models/final-star", "bob").ok());

  auto before = harness.Leaderboard(challenge.name());
  REQUIRE(before.ok());
  REQUIRE(before->entries_size() == 2);
  CHECK(before->entries(0).participant() == "alice");
  CheckError(harness.Leaderboard(challenge.name(), /*final_ranking=*/true).status(),
             absl::StatusCode::kFailedPrecondition, "only after it is closed");

  // Only the owner (or a trusted service) may close.
  v1::CloseChallengeRequest close;
  close.set_name(challenge.name());
  CheckError(harness.service().DoCloseChallenge(close, std::string("alice")).status(),
             absl::StatusCode::kPermissionDenied, "alice");
  auto closed = harness.service().DoCloseChallenge(close, std::string("organiser"));
  REQUIRE(closed.ok());
  CHECK(closed->state() == v1::Challenge::CLOSED);
  CHECK(closed->final_ranking_available());

  auto final_board = harness.Leaderboard(challenge.name(), /*final_ranking=*/true);
  REQUIRE(final_board.ok());
  REQUIRE(final_board->entries_size() == 2);
  CHECK(final_board->entries(0).participant() == "bob");
  CHECK(final_board->entries(0).kappa() == Approx(1.0));
  CHECK(final_board->entries(1).participant() == "alice");
  CHECK(final_board->entries(1).rank() == 2);

  // The final scores came from the hidden dataset and its reader.
  bool final_scored = false;
  for (const auto& call : harness.backends().score_calls()) {
    if (call.dataset == "datasets/final") final_scored = call.reader == "ref";
  }
  CHECK(final_scored);

  // Closing again changes nothing; submitting is over.
  auto again = harness.service().DoCloseChallenge(close, std::nullopt);
  REQUIRE(again.ok());
  CHECK(again->closed_time().seconds() == closed->closed_time().seconds());
  CheckError(harness.Submit(challenge.name(), "models/weak", "carol").status(),
             absl::StatusCode::kFailedPrecondition, "closed");
}

TEST_CASE("Challenge: participants never see reference labels") {
  Harness harness;
  harness.SetUpChallengeData();
  v1::Challenge challenge = harness.CreateChallenge();
  auto submitted = harness.Submit(challenge.name(), "models/weak", "alice");
  REQUIRE(submitted.ok());

  // Every response a participant gets: challenge, submission, own list, leaderboard.
  std::vector<std::string> responses;
  responses.push_back(TextOf(*submitted));
  v1::GetChallengeRequest get;
  get.set_name(challenge.name());
  auto seen = harness.service().DoGetChallenge(get, std::string("alice"));
  REQUIRE(seen.ok());
  CHECK(seen->final_dataset().empty());
  CHECK(seen->final_reference_reader().empty());
  responses.push_back(TextOf(*seen));
  auto owner_view = harness.service().DoGetChallenge(get, std::string("organiser"));
  REQUIRE(owner_view.ok());
  CHECK(owner_view->final_dataset() == "datasets/final");
  v1::ListChallengesRequest list_challenges;
  auto challenges = harness.service().DoListChallenges(list_challenges, std::string("alice"));
  REQUIRE(challenges.ok());
  responses.push_back(TextOf(*challenges));
  v1::ListSubmissionsRequest list;
  list.set_parent(challenge.name());
  list.set_participant("alice");
  auto own = harness.service().DoListSubmissions(list, std::string("alice"));
  REQUIRE(own.ok());
  CHECK(own->submissions_size() == 1);
  responses.push_back(TextOf(*own));
  auto board = harness.Leaderboard(challenge.name());
  REQUIRE(board.ok());
  responses.push_back(TextOf(*board));

  for (const std::string& text : responses) {
    INFO(text);
    CHECK_FALSE(absl::StrContains(text, "/instances/"));
    CHECK_FALSE(absl::StrContains(text, "datasets/final"));
    CHECK_FALSE(absl::StrContains(text, "confusion"));
  }
  // The reference reader's labels were never exported to the evaluation service.
  for (const std::string& call : harness.backends().export_calls()) {
    CHECK_FALSE(absl::StrContains(call, "|ref"));
  }

  // Another participant's submissions stay private.
  list.set_participant("");
  CheckError(harness.service().DoListSubmissions(list, std::string("bob")).status(),
             absl::StatusCode::kPermissionDenied, "bob");
}

TEST_CASE("Challenge: submission rules") {
  Harness harness;
  harness.SetUpChallengeData();
  v1::Challenge challenge = harness.CreateChallenge();

  v1::SubmitToChallengeRequest request;
  request.set_challenge(challenge.name());
  request.set_model("models/weak");
  request.set_participant("alice");
  CheckError(harness.service().DoSubmitToChallenge(request, std::string("mallory")).status(),
             absl::StatusCode::kPermissionDenied, "mallory");
  // A model trained on the test or the final dataset is rejected, and the message does
  // not name the final dataset.
  harness.backends().AddModel("models/memorised", kBinary, {"absent", "present"}, "alice",
                              "datasets/test");
  request.set_model("models/memorised");
  CheckError(harness.service().DoSubmitToChallenge(request, std::string("alice")).status(),
             absl::StatusCode::kFailedPrecondition, "test dataset \"datasets/test\"");
  harness.backends().AddModel("models/peeked", kBinary, {"absent", "present"}, "alice",
                              "datasets/final");
  request.set_model("models/peeked");
  absl::Status peeked =
      harness.service().DoSubmitToChallenge(request, std::string("alice")).status();
  CheckError(peeked, absl::StatusCode::kFailedPrecondition, "hidden final dataset");
  CHECK_FALSE(absl::StrContains(peeked.message(), "datasets/final"));
  // Another person's model is refused, even when the caller submits as themselves.
  harness.backends().AddModel("models/bobs", kBinary, {"absent", "present"}, "bob");
  request.set_model("models/bobs");
  CheckError(harness.service().DoSubmitToChallenge(request, std::string("alice")).status(),
             absl::StatusCode::kPermissionDenied, "belongs to user \"bob\"");
  request.set_model("models/weak");
  request.set_participant("");
  CheckError(harness.service().DoSubmitToChallenge(request, std::nullopt).status(),
             absl::StatusCode::kInvalidArgument, "participant");
  request.set_participant("alice");
  request.set_model("weak");
  CheckError(harness.service().DoSubmitToChallenge(request, std::nullopt).status(),
             absl::StatusCode::kInvalidArgument, "\"weak\"");
  request.set_model("models/density");
  CheckError(harness.service().DoSubmitToChallenge(request, std::nullopt).status(),
             absl::StatusCode::kFailedPrecondition, "models/density");
  request.set_model("models/none");
  CheckError(harness.service().DoSubmitToChallenge(request, std::nullopt).status(),
             absl::StatusCode::kNotFound, "models/none");
  request.set_model("models/weak");
  request.set_challenge("challenges/missing");
  CheckError(harness.service().DoSubmitToChallenge(request, std::nullopt).status(),
             absl::StatusCode::kNotFound, "challenges/missing");

  // Before the window opens.
  v1::CreateChallengeRequest later;
  *later.mutable_challenge() = challenge;
  *later.mutable_challenge()->mutable_open_time() = ToTimestamp(harness.now() + absl::Hours(2));
  *later.mutable_challenge()->mutable_close_time() = ToTimestamp(harness.now() + absl::Hours(3));
  later.set_challenge_id("later");
  REQUIRE(harness.service().DoCreateChallenge(later, std::nullopt).ok());
  request.set_challenge("challenges/later");
  CheckError(harness.service().DoSubmitToChallenge(request, std::nullopt).status(),
             absl::StatusCode::kFailedPrecondition, "opens");

  v1::GetChallengeRequest get;
  get.set_name("challenges/");
  CHECK(harness.service().DoGetChallenge(get, std::nullopt).status().code() ==
        absl::StatusCode::kInvalidArgument);
  v1::ListChallengesRequest list;
  list.set_page_size(-5);
  CHECK(harness.service().DoListChallenges(list, std::nullopt).status().code() ==
        absl::StatusCode::kInvalidArgument);
  v1::CloseChallengeRequest close;
  close.set_name("challenges/missing");
  CHECK(harness.service().DoCloseChallenge(close, std::nullopt).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("AssessModel: reviewed predictions by study date") {
  Harness harness;
  const absl::Time base = harness.now();
  std::vector<ReviewedPrediction> reviewed;
  auto add = [&](const std::string& name, const std::string& date, double positive,
                 const std::string& truth) {
    ReviewedPrediction prediction;
    prediction.name = name;
    prediction.study_date = date;
    prediction.create_time = base;
    prediction.categories = {"absent", "present"};
    prediction.probabilities = {1 - positive, positive};
    prediction.predicted_category = positive >= 0.5 ? "present" : "absent";
    prediction.truth_category = truth;
    reviewed.push_back(prediction);
  };
  add("predictions/c", "2024-03-01", 0.9, "present");  // TP
  add("predictions/a", "2024-01-01", 0.7, "absent");   // FP
  add("predictions/d", "", 0.2, "present");            // FN, no date
  add("predictions/b", "2024-02-01", 0.1, "absent");   // TN
  harness.backends().SetReviewed(reviewed, 5);

  v1::AssessModelRequest request;
  request.set_model("models/good");
  auto assessed = harness.service().DoAssessModel(request);
  REQUIRE(assessed.ok());
  CHECK(assessed->unreviewed_count() == 5);
  REQUIRE(assessed->points_size() == 4);
  CHECK(assessed->points(0).prediction() == "predictions/a");
  CHECK(assessed->points(0).outcome() == "FP");
  CHECK(assessed->points(1).outcome() == "TN");
  CHECK(assessed->points(2).outcome() == "TP");
  CHECK(assessed->points(3).prediction() == "predictions/d");
  CHECK(assessed->points(3).outcome() == "FN");
  CHECK(assessed->metrics().n() == 4);
  CHECK(assessed->metrics().accuracy() == Approx(0.5));

  request.set_model("good");
  CheckError(harness.service().DoAssessModel(request).status(), absl::StatusCode::kInvalidArgument,
             "\"good\"");
  request.set_model("models/good");
  request.set_threshold(2);
  CheckError(harness.service().DoAssessModel(request).status(), absl::StatusCode::kInvalidArgument,
             "2");
}

}  // namespace
}  // namespace ailab::evaluation

namespace ailab::evaluation {
namespace {

// Reviewed binary predictions, one per hour from `base`: the first `right` are
// correct (half positive), the rest wrong.
std::vector<ReviewedPrediction> HourlyPredictions(absl::Time base, int count, int right,
                                                  int first_index = 0) {
  std::vector<ReviewedPrediction> reviewed;
  for (int i = 0; i < count; ++i) {
    ReviewedPrediction prediction;
    const int index = first_index + i;
    prediction.name = absl::StrCat("predictions/p", index);
    prediction.study_date = absl::StrCat("2024-01-", 10 + index % 20);
    prediction.create_time = base + absl::Hours(index);
    prediction.categories = {"absent", "present"};
    const bool positive = i % 2 == 1;
    const bool correct = i < right;
    const double p_present = (positive == correct) ? 0.9 : 0.1;
    prediction.probabilities = {1 - p_present, p_present};
    prediction.predicted_category = p_present >= 0.5 ? "present" : "absent";
    prediction.truth_category = positive ? "present" : "absent";
    reviewed.push_back(prediction);
  }
  return reviewed;
}

TEST_CASE("AssessModel: windows and alert state") {
  Harness harness;
  const absl::Time base = harness.now() - absl::Hours(48);
  // Day one: 24 predictions, all right. Day two: 24, of which only 12 right.
  std::vector<ReviewedPrediction> reviewed = HourlyPredictions(base, 24, 24);
  for (ReviewedPrediction& p : HourlyPredictions(base, 24, 12, 24)) reviewed.push_back(p);
  harness.backends().SetReviewed(reviewed, 0);

  v1::AssessModelRequest request;
  request.set_model("models/good");
  *request.mutable_start_time() = ToTimestamp(base);
  *request.mutable_end_time() = ToTimestamp(base + absl::Hours(48));
  request.mutable_window()->set_seconds(24 * 3600);
  request.mutable_alert_rule()->set_metric(v1::AlertRule::ACCURACY);
  request.mutable_alert_rule()->set_level(0.9);
  request.mutable_alert_rule()->set_min_count(10);
  auto assessed = harness.service().DoAssessModel(request);
  REQUIRE(assessed.ok());
  CHECK(assessed->metrics().n() == 48);
  CHECK(assessed->metrics().accuracy() == Approx(36.0 / 48));
  CHECK(assessed->alert_state() == v1::AlertRule::ALERT);
  CHECK(assessed->alert_metric_value() == Approx(0.75));
  REQUIRE(assessed->windows_size() == 2);
  CHECK(assessed->alerting_window_count() == 1);

  const v1::AssessmentWindow& first = assessed->windows(0);
  CHECK(TimeUtil::TimestampToMicroseconds(first.start_time()) == absl::ToUnixMicros(base));
  CHECK(TimeUtil::TimestampToMicroseconds(first.end_time()) ==
        absl::ToUnixMicros(base + absl::Hours(24)));
  CHECK(first.reviewed_count() == 24);
  CHECK(first.metrics().accuracy() == Approx(1.0));
  CHECK(first.alert_state() == v1::AlertRule::OK);
  const v1::AssessmentWindow& second = assessed->windows(1);
  CHECK(second.reviewed_count() == 24);
  CHECK(second.metrics().accuracy() == Approx(0.5));
  CHECK(second.alert_state() == v1::AlertRule::ALERT);
  CHECK(second.alert_metric_value() == Approx(0.5));

  // The wrong predictions of day two are marked: positives called negative are FN,
  // negatives called positive are FP.
  int false_positives = 0;
  int false_negatives = 0;
  for (const v1::AssessedPoint& point : assessed->points()) {
    if (point.outcome() == "FP") ++false_positives;
    if (point.outcome() == "FN") ++false_negatives;
  }
  CHECK(false_positives == 6);
  CHECK(false_negatives == 6);

  // A window with fewer predictions than min_count is not judged.
  request.mutable_alert_rule()->set_min_count(30);
  assessed = harness.service().DoAssessModel(request);
  REQUIRE(assessed.ok());
  CHECK(assessed->windows(0).alert_state() == v1::AlertRule::INSUFFICIENT_DATA);
  CHECK(assessed->windows(1).alert_state() == v1::AlertRule::INSUFFICIENT_DATA);
  CHECK(assessed->alert_state() == v1::AlertRule::ALERT);
  CHECK(assessed->alerting_window_count() == 0);
}

TEST_CASE("AssessModel: uneven last window and empty windows") {
  Harness harness;
  const absl::Time base = harness.now() - absl::Hours(10);
  harness.backends().SetReviewed(HourlyPredictions(base, 4, 4), 0);

  v1::AssessModelRequest request;
  request.set_model("models/good");
  *request.mutable_start_time() = ToTimestamp(base);
  // No end_time: the windows run until the service's current time.
  request.mutable_window()->set_seconds(4 * 3600);
  request.mutable_alert_rule()->set_metric(v1::AlertRule::SENSITIVITY);
  request.mutable_alert_rule()->set_level(0.8);
  auto assessed = harness.service().DoAssessModel(request);
  REQUIRE(assessed.ok());
  REQUIRE(assessed->windows_size() == 3);
  CHECK(assessed->windows(0).reviewed_count() == 4);
  CHECK(assessed->windows(0).metrics().at_threshold().sensitivity() == Approx(1.0));
  CHECK(assessed->windows(0).alert_state() == v1::AlertRule::OK);
  CHECK(assessed->windows(1).reviewed_count() == 0);
  CHECK_FALSE(assessed->windows(1).has_metrics());
  CHECK(assessed->windows(1).alert_state() == v1::AlertRule::INSUFFICIENT_DATA);
  CHECK(std::isnan(assessed->windows(1).alert_metric_value()));
  CHECK(TimeUtil::TimestampToMicroseconds(assessed->windows(2).end_time()) ==
        absl::ToUnixMicros(harness.now()));
  CHECK(assessed->alert_state() == v1::AlertRule::OK);

  // Without a rule there is no alert state.
  request.clear_alert_rule();
  assessed = harness.service().DoAssessModel(request);
  REQUIRE(assessed.ok());
  CHECK(assessed->alert_state() == v1::AlertRule::STATE_UNSPECIFIED);
  CHECK(assessed->windows(0).alert_state() == v1::AlertRule::STATE_UNSPECIFIED);
}

TEST_CASE("AssessModel: bad windows and alert rules rejected") {
  Harness harness;
  harness.backends().SetReviewed({}, 0);
  const absl::Time start = harness.now() - absl::Hours(24 * 30);
  auto base_request = [&] {
    v1::AssessModelRequest request;
    request.set_model("models/good");
    *request.mutable_start_time() = ToTimestamp(start);
    return request;
  };

  v1::AssessModelRequest request = base_request();
  request.mutable_window()->set_seconds(30);
  CheckError(harness.service().DoAssessModel(request).status(), absl::StatusCode::kInvalidArgument,
             "shorter than one minute");

  request = base_request();
  request.mutable_window()->set_seconds(60);  // 43200 windows in 30 days
  CheckError(harness.service().DoAssessModel(request).status(), absl::StatusCode::kInvalidArgument,
             "at most 1000");

  request = base_request();
  request.clear_start_time();
  request.mutable_window()->set_seconds(3600);
  CheckError(harness.service().DoAssessModel(request).status(), absl::StatusCode::kInvalidArgument,
             "start_time is required");

  request = base_request();
  request.mutable_alert_rule()->set_level(0.5);
  CheckError(harness.service().DoAssessModel(request).status(), absl::StatusCode::kInvalidArgument,
             "alert_rule.metric");

  request = base_request();
  request.mutable_alert_rule()->set_metric(v1::AlertRule::KAPPA);
  request.mutable_alert_rule()->set_level(std::nan(""));
  CheckError(harness.service().DoAssessModel(request).status(), absl::StatusCode::kInvalidArgument,
             "alert_rule.level");

  request = base_request();
  request.mutable_alert_rule()->set_metric(v1::AlertRule::KAPPA);
  request.mutable_alert_rule()->set_min_count(-1);
  CheckError(harness.service().DoAssessModel(request).status(), absl::StatusCode::kInvalidArgument,
             "-1");

  // Sensitivity is a binary figure; the density use case has four categories.
  request = base_request();
  request.set_model("models/density");
  request.mutable_alert_rule()->set_metric(v1::AlertRule::SENSITIVITY);
  CheckError(harness.service().DoAssessModel(request).status(), absl::StatusCode::kInvalidArgument,
             "binary use cases only");
}

TEST_CASE("Challenge: leaderboard kappa interval brackets kappa") {
  Harness harness;
  harness.SetUpChallengeData();
  v1::Challenge challenge = harness.CreateChallenge(10);
  REQUIRE(harness.Submit(challenge.name(), "models/final-star", "bob").ok());
  REQUIRE(harness.Submit(challenge.name(), "models/weak", "carol").ok());

  auto board = harness.Leaderboard(challenge.name());
  REQUIRE(board.ok());
  REQUIRE(board->entries_size() == 2);
  for (const v1::LeaderboardEntry& entry : board->entries()) {
    INFO("participant " << entry.participant());
    CHECK(entry.kappa_interval().confidence() == Approx(0.95));
    CHECK(entry.kappa_interval().lower() <= entry.kappa());
    CHECK(entry.kappa_interval().upper() >= entry.kappa());
    CHECK(entry.kappa_interval().lower() < entry.kappa_interval().upper());
  }
  CHECK(board->entries(0).participant() == "bob");
}

TEST_CASE("Evaluation: stored test predictions reused") {
  Harness harness;
  // Stored predictions of models/good (classes absent, present) cover four of the ten
  // TEST instances, and each of them is wrong. A fifth entry has the wrong size, so it
  // is ignored.
  std::map<std::string, std::vector<double>> stored;
  for (int n : {0, 2, 4, 6}) {
    const bool present = (n / 2) % 2 == 1;
    const double p_present = present ? 0.1 : 0.9;
    stored[absl::StrCat("datasets/chest/instances/i", n)] = {1 - p_present, p_present};
  }
  stored["datasets/chest/instances/i8"] = {0.2, 0.3, 0.5};
  harness.backends().SetTestPredictions("models/good", stored);

  auto created = harness.CreateEvaluation({"models/good"});
  REQUIRE(created.ok());
  v1::Evaluation done = harness.WaitUntilFinished(created->name());
  REQUIRE(done.state() == v1::Evaluation::SUCCEEDED);
  REQUIRE(done.results_size() == 1);
  const v1::ModelResult& result = done.results(0);
  CHECK(result.stored_prediction_count() == 4);
  CHECK(harness.backends().predict_calls() == 6);
  CHECK(result.metrics().n() == 10);
  CHECK(result.metrics().accuracy() == Approx(0.6));
  CHECK(done.completed_predictions() == 10);
}

}  // namespace
}  // namespace ailab::evaluation
