#include "routes.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ailab/rpc/identity.h"

namespace ailab::gateway {
namespace {

using rpc::kRoleAdministrator;
using rpc::kRoleDataManager;
using rpc::kRoleParticipant;
using rpc::kRoleRadiologist;
using rpc::kRoleReviewer;

constexpr char kCatalog[] = "ailab.catalog.v1.CatalogService/";
constexpr char kIngest[] = "ailab.ingest.v1.IngestService/";
constexpr char kAnnotation[] = "ailab.annotation.v1.AnnotationService/";
constexpr char kTraining[] = "ailab.training.v1.TrainingService/";
constexpr char kInference[] = "ailab.inference.v1.InferenceService/";
constexpr char kEvaluation[] = "ailab.evaluation.v1.EvaluationService/";
constexpr char kPublishing[] = "ailab.evaluation.v1.PublishingService/";
constexpr char kIdentity[] = "ailab.identity.v1.IdentityService/";

std::vector<Route> BuildRoutes() {
  const std::vector<std::string> any;
  const std::vector<std::string> radiologist = {kRoleRadiologist};
  const std::vector<std::string> reviewer = {kRoleReviewer};
  const std::vector<std::string> ingest_readers = {kRoleRadiologist, kRoleDataManager};
  const std::vector<std::string> data_manager = {kRoleDataManager};
  const std::vector<std::string> set_managers = {kRoleDataManager, kRoleReviewer};
  const std::vector<std::string> submitters = {kRoleParticipant, kRoleRadiologist};
  const std::vector<std::string> publishers = {kRoleAdministrator, kRoleReviewer};
  const std::vector<std::string> model_readers = {kRoleRadiologist, kRoleReviewer,
                                                  kRoleParticipant};

  std::vector<Route> routes;
  auto add = [&](absl::string_view service, absl::string_view method,
                 const std::vector<std::string>& roles, absl::string_view caller_field = "") {
    routes.push_back(Route{absl::StrCat(service, method), roles, std::string(caller_field)});
  };

  // Catalog: reads for everyone; the acting user of a change is the caller.
  add(kCatalog, "GetUseCase", any);
  add(kCatalog, "ListUseCases", any);
  add(kCatalog, "ListUseCaseHistory", any);
  add(kCatalog, "ListComments", any);
  add(kCatalog, "ListDraftRequests", any);
  add(kCatalog, "CreateUseCase", radiologist, "user");
  add(kCatalog, "UpdateUseCase", radiologist, "user");
  add(kCatalog, "ResubmitUseCase", radiologist, "user");
  add(kCatalog, "CreateComment", radiologist, "user");
  add(kCatalog, "CreateDraftRequest", radiologist, "user");
  add(kCatalog, "ReviewUseCase", reviewer, "user");

  // Ingest: radiologists and data managers read; data managers change datasets.
  // Dataset names and counts, which the challenge and contest pages show to everyone.
  add(kIngest, "GetDataset", any);
  add(kIngest, "ListDatasets", any);
  add(kIngest, "ListStudies", ingest_readers);
  add(kIngest, "ListSeries", ingest_readers);
  add(kIngest, "GetInstance", ingest_readers);
  add(kIngest, "ListInstances", ingest_readers);
  add(kIngest, "GetPreparationRun", ingest_readers);
  add(kIngest, "ListPreparationRuns", ingest_readers);
  add(kIngest, "CreateDataset", data_manager);
  add(kIngest, "DeleteDataset", data_manager);
  add(kIngest, "AssignSplits", data_manager);
  add(kIngest, "CreatePreparationRun", data_manager);
  add(kIngest, "CancelPreparationRun", data_manager);

  // Annotation: an annotator works only on their own labels.
  add(kAnnotation, "SaveAnnotation", radiologist, "annotator");
  add(kAnnotation, "SkipInstance", radiologist, "annotator");
  add(kAnnotation, "GetNextInstance", radiologist, "annotator");
  add(kAnnotation, "FinishSession", radiologist, "annotator");
  add(kAnnotation, "ListAnnotations", radiologist, "annotator");
  add(kAnnotation, "GetAnnotation", radiologist, "annotator");
  add(kAnnotation, "GetAnnotationProgress", radiologist, "annotator");
  // Not for annotators: one who changed a single label between two calls would read
  // that image's reference label from the difference of the two matrices.
  add(kAnnotation, "GetAgreement", set_managers);
  add(kAnnotation, "CountLabels", radiologist);
  add(kAnnotation, "SetQuota", set_managers);
  add(kAnnotation, "SetReferenceReader", set_managers);
  add(kAnnotation, "GetReferenceReader", set_managers);
  add(kAnnotation, "CreateContest", set_managers);
  add(kAnnotation, "GetContest", any);
  add(kAnnotation, "ListContests", any);
  add(kAnnotation, "ListAnnotatorRankings", any);

  // Training: the owner of a new job is the caller.
  add(kTraining, "CreateTrainingJob", radiologist, "training_job.owner");
  add(kTraining, "GetTrainingJob", radiologist);
  add(kTraining, "ListTrainingJobs", radiologist);
  add(kTraining, "CancelTrainingJob", radiologist);
  add(kTraining, "WatchTrainingJob", radiologist);
  // Model descriptions: reviewers publish models, participants enter them in challenges.
  add(kTraining, "GetModel", model_readers);
  add(kTraining, "ListModels", model_readers);
  add(kTraining, "UpdateModel", radiologist);
  add(kTraining, "DeleteModel", radiologist);
  add(kTraining, "ListTestPredictions", radiologist);

  // Inference: the reviewer of a prediction is the caller.
  add(kInference, "Predict", radiologist);
  routes.back().file_body = true;
  add(kInference, "GetPrediction", radiologist);
  add(kInference, "ListPredictions", radiologist);
  add(kInference, "ReviewPrediction", radiologist, "reviewer");
  add(kInference, "GetReportTemplate", radiologist);
  add(kInference, "UpdateReportTemplate", radiologist);

  // Evaluation and challenges.
  add(kEvaluation, "CreateEvaluation", radiologist);
  add(kEvaluation, "GetEvaluation", radiologist);
  add(kEvaluation, "ListEvaluations", radiologist);
  add(kEvaluation, "CancelEvaluation", radiologist);
  add(kEvaluation, "ComputeAtThreshold", radiologist);
  add(kEvaluation, "AssessModel", radiologist);
  add(kEvaluation, "CreateChallenge", reviewer);
  add(kEvaluation, "CloseChallenge", reviewer);
  add(kEvaluation, "GetChallenge", any);
  add(kEvaluation, "ListChallenges", any);
  add(kEvaluation, "ListLeaderboardEntries", any);
  add(kEvaluation, "SubmitToChallenge", submitters, "participant");
  add(kEvaluation, "ListSubmissions", submitters, "participant");

  // Publishing models to other sites.
  add(kPublishing, "CreateDestination", publishers);
  add(kPublishing, "GetDestination", publishers);
  add(kPublishing, "ListDestinations", publishers);
  add(kPublishing, "PublishModel", publishers);
  add(kPublishing, "GetPublication", publishers);
  add(kPublishing, "ListPublications", publishers);

  // Identity, served in-process; IdentityApi checks roles itself.
  add(kIdentity, "SignIn", any);
  routes.back().public_method = true;
  add(kIdentity, "SignOut", any);
  add(kIdentity, "GetCurrentUser", any);
  add(kIdentity, "CreateUser", any);
  add(kIdentity, "ListUsers", any);
  add(kIdentity, "LookupUsers", any);
  add(kIdentity, "UpdateUser", any);
  add(kIdentity, "ChangePassword", any);
  add(kIdentity, "ListAuditEvents", any);
  return routes;
}

}  // namespace

const std::vector<Route>& Routes() {
  static const std::vector<Route>* const kRoutes = new std::vector<Route>(BuildRoutes());
  return *kRoutes;
}

const Route* FindRoute(absl::string_view method) {
  static const auto* const kIndex = [] {
    auto* index = new absl::flat_hash_map<std::string, const Route*>();
    for (const Route& route : Routes()) (*index)[route.method] = &route;
    return index;
  }();
  auto it = kIndex->find(method);
  return it == kIndex->end() ? nullptr : it->second;
}

const std::vector<std::string>& InternalMethods() {
  static const std::vector<std::string>* const kMethods = new std::vector<std::string>{
      absl::StrCat(kTraining, "StartTrainingAttempt"),
      absl::StrCat(kTraining, "ReportTrainingProgress"),
      absl::StrCat(kTraining, "CompleteTrainingJob"),
      absl::StrCat(kTraining, "FailTrainingAttempt"),
      absl::StrCat(kAnnotation, "ScoreAgainstReference"),
      absl::StrCat(kAnnotation, "ExportLabels"),
      // Streams from the browser go through /api/upload instead.
      absl::StrCat(kIngest, "UploadInstances"),
  };
  return *kMethods;
}

std::string ServiceOf(absl::string_view method) {
  return std::string(method.substr(0, method.find('/')));
}

std::string MethodNameOf(absl::string_view method) {
  const size_t slash = method.find('/');
  return slash == absl::string_view::npos ? "" : std::string(method.substr(slash + 1));
}

bool IsReadOnly(absl::string_view method) {
  const std::string name = MethodNameOf(method);
  for (absl::string_view prefix : {"Get", "List", "Lookup", "Count", "Watch"}) {
    if (absl::StartsWith(name, prefix)) return true;
  }
  return false;
}

std::string AreaOf(absl::string_view service) {
  std::vector<std::string> parts = absl::StrSplit(service, '.');
  return parts.size() >= 2 ? parts[1] : "";
}

}  // namespace ailab::gateway
