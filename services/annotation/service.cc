#include "services/annotation/service.h"

#include <algorithm>
#include <future>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/status/text.h"
#include "google/protobuf/util/time_util.h"
#include "services/annotation/service_helpers.h"

namespace ailab::annotation {
namespace {

using google::protobuf::util::TimeUtil;
using internal::DecodeToken;
using internal::kDefaultExportPageSize;
using internal::kDefaultPageSize;
using internal::kMaxExportPageSize;
using internal::kMaxPageSize;
using internal::Log;
using internal::NextToken;
using internal::RequireClassification;
using internal::ToProto;

// Maximum length of a contest display name, in bytes.
constexpr size_t kMaxDisplayNameBytes = 200;

// Converts a handler's result for gRPC, logging errors. Errors the caller caused are
// logged at debug level, so a client sending bad requests cannot flood the log.
template <typename T, typename Response>
grpc::Status Respond(const char* method, absl::StatusOr<T> result, Response* response) {
  if (result.ok()) {
    *response = *std::move(result);
    return grpc::Status::OK;
  }
  const absl::Status& status = result.status();
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDataLoss:
      Log()->warn("request failed method={} code={} reason={} error={}", method,
                  absl::StatusCodeToString(status.code()), GetErrorReason(status),
                  std::string(status.message()));
      break;
    default:
      Log()->debug("request rejected method={} code={} reason={} error={}", method,
                   absl::StatusCodeToString(status.code()), GetErrorReason(status),
                   std::string(status.message()));
  }
  return rpc::ToGrpcStatus(status);
}

absl::Status CheckTimestamp(absl::string_view field, bool present,
                            const google::protobuf::Timestamp& value) {
  if (!present) {
    return InvalidArgument("MISSING_FIELD", field,
                           absl::StrCat(field, " is required, for example ",
                                        "\"2026-12-04T09:00:00Z\""),
                           {{"field", field}});
  }
  if (value.seconds() < TimeUtil::kTimestampMinSeconds ||
      value.seconds() > TimeUtil::kTimestampMaxSeconds || value.nanos() < 0 ||
      value.nanos() > 999999999) {
    return InvalidArgument("INVALID_TIMESTAMP", field,
                           absl::StrCat(field, " has seconds=", value.seconds(), " nanos=",
                                        value.nanos(), ", which is not a valid time"),
                           {{"field", field}});
  }
  return absl::OkStatus();
}

// Reads the caller with rpc::CallerOf. That is the user of a signed x-ailab-identity,
// or of x-ailab-user from a caller holding the internal token, or no user for a
// platform service. UNAUTHENTICATED for a bad or expired signature, or for an unsigned
// user without the internal token while one is configured.
absl::StatusOr<Caller> ResolveCaller(const grpc::ServerContextBase& context) {
  AILAB_ASSIGN_OR_RETURN(rpc::CallerInfo info, rpc::CallerOf(context));
  Caller caller;
  if (info.identity.has_value()) caller.user = info.identity->user;
  return caller;
}

// Resolves the caller, then runs `handler` for it and converts the result for gRPC.
template <typename Response, typename Handler>
grpc::Status RespondAsCaller(const char* method, const grpc::ServerContextBase& context,
                             Response* response, Handler handler) {
  absl::StatusOr<Caller> caller = ResolveCaller(context);
  if (!caller.ok()) return Respond(method, absl::StatusOr<Response>(caller.status()), response);
  return Respond(method, handler(*caller), response);
}

}  // namespace

absl::StatusOr<Caller> CallerOf(const grpc::ServerContextBase& context) {
  return ResolveCaller(context);
}

AnnotationServiceImpl::AnnotationServiceImpl(AnnotationStore* store, CachingDirectory* directory,
                                             ServiceOptions options)
    : store_(store), directory_(directory), options_(options) {}

// ---------------------------------------------------------------------------------------
// Shared checks

absl::StatusOr<UseCaseInfo> AnnotationServiceImpl::ResolveSet(const std::string& use_case,
                                                              const std::string& dataset) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", use_case));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", dataset));
  AILAB_ASSIGN_OR_RETURN(UseCaseInfo info, directory_->GetUseCase(use_case));
  AILAB_RETURN_IF_ERROR(directory_->GetInstances(dataset).status());
  return info;
}

absl::Status AnnotationServiceImpl::CheckActingAs(const Caller& caller,
                                                  const std::string& use_case,
                                                  const std::string& dataset,
                                                  const std::string& annotator) {
  if (caller.user.has_value() && *caller.user != annotator) {
    return PermissionDenied(
        "CALLER_IS_NOT_ANNOTATOR",
        absl::StrCat("caller \"", *caller.user, "\" may not act for annotator \"", annotator,
                     "\"; set the annotator to your own user id"),
        {{"caller", *caller.user}, {"annotator", annotator}});
  }
  // A person acts only for themselves (checked above); the reference reader's labels are
  // protected from callers that act for no one, so only those need the look-up.
  if (caller.user.has_value()) return absl::OkStatus();
  AILAB_ASSIGN_OR_RETURN(std::optional<v1::ReferenceReader> reader,
                         store_->GetReferenceReader(use_case, dataset));
  if (reader.has_value() && reader->annotator() == annotator) {
    return PermissionDenied(
        "REFERENCE_READER_PROTECTED",
        absl::StrCat("annotator \"", annotator, "\" is the reference reader of use case \"",
                     use_case, "\" and dataset \"", dataset,
                     "\"; their annotations are reached only with their own identity in the ",
                     kUserMetadataKey, " metadata"),
        {{"annotator", annotator}, {"use_case", use_case}, {"dataset", dataset}});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> AnnotationServiceImpl::RequireReferenceReader(
    const std::string& use_case, const std::string& dataset) {
  AILAB_ASSIGN_OR_RETURN(std::optional<v1::ReferenceReader> reader,
                         store_->GetReferenceReader(use_case, dataset));
  if (!reader.has_value()) {
    return FailedPrecondition(
        "NO_REFERENCE_READER",
        absl::StrCat("use case \"", use_case, "\" and dataset \"", dataset,
                     "\" have no reference reader; set one with SetReferenceReader"),
        {{"use_case", use_case}, {"dataset", dataset}});
  }
  return reader->annotator();
}

absl::StatusOr<v1::AnnotationProgress> AnnotationServiceImpl::Progress(const AnnotatorSet& set) {
  AILAB_ASSIGN_OR_RETURN(std::shared_ptr<const DatasetInstances> instances,
                         directory_->GetInstances(set.dataset));
  AILAB_ASSIGN_OR_RETURN(StateCounts counts, store_->CountStates(set));
  AILAB_ASSIGN_OR_RETURN(int64_t quota, store_->GetQuota(set.use_case, set.dataset));

  v1::AnnotationProgress progress;
  progress.set_use_case(set.use_case);
  progress.set_dataset(set.dataset);
  progress.set_annotator(set.annotator);
  progress.set_annotated_count(counts.annotated);
  progress.set_skipped_count(counts.skipped);
  const int64_t total = static_cast<int64_t>(instances->names.size());
  progress.set_total_instances(total);
  progress.set_remaining_count(std::max<int64_t>(0, total - counts.annotated - counts.skipped));
  progress.set_quota(quota);
  progress.set_quota_met(counts.annotated >= quota);
  return progress;
}

// ---------------------------------------------------------------------------------------
// Annotating

absl::StatusOr<v1::SaveAnnotationResponse> AnnotationServiceImpl::DoSaveAnnotation(
    const Caller& caller, const v1::SaveAnnotationRequest& request) {
  std::promise<absl::StatusOr<v1::SaveAnnotationResponse>> saved;
  std::future<absl::StatusOr<v1::SaveAnnotationResponse>> result = saved.get_future();
  DoSaveAnnotationAsync(caller, request,
                        [&saved](absl::StatusOr<v1::SaveAnnotationResponse> response) {
                          saved.set_value(std::move(response));
                        });
  return result.get();
}

void AnnotationServiceImpl::DoSaveAnnotationAsync(const Caller& caller,
                                                  const v1::SaveAnnotationRequest& request,
                                                  SaveAnnotationDone done) {
  absl::Status checked = [&]() -> absl::Status {
    AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
    AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
    AILAB_RETURN_IF_ERROR(CheckInstanceName("instance", request.instance(), request.dataset()));
    AILAB_RETURN_IF_ERROR(CheckUserId("annotator", request.annotator()));
    if (request.expected_revision() < 0) {
      return InvalidArgument("INVALID_REVISION", "expected_revision",
                             absl::StrCat("expected_revision ", request.expected_revision(),
                                          " is negative; use 0 to save unconditionally"),
                             {{"expected_revision", absl::StrCat(request.expected_revision())}});
    }
    AILAB_ASSIGN_OR_RETURN(UseCaseInfo use_case, directory_->GetUseCase(request.use_case()));
    AILAB_RETURN_IF_ERROR(
        CheckAnnotationContent(use_case, request.label(), request.boxes(), request.masks()));
    AILAB_RETURN_IF_ERROR(directory_->FindInstance(request.dataset(), request.instance()).status());
    return CheckActingAs(caller, request.use_case(), request.dataset(), request.annotator());
  }();
  if (!checked.ok()) {
    done(checked);
    return;
  }

  AnnotationKey key{request.use_case(), request.dataset(), request.annotator(),
                    request.instance()};
  store_->SaveAsync(
      key, request.label(), request.boxes(), request.masks(), request.expected_revision(),
      [done = std::move(done)](absl::StatusOr<AnnotationStore::SaveResult> saved) {
        if (!saved.ok()) {
          done(saved.status());
          return;
        }
        Log()->debug("annotation saved name={} revision={} created={}", saved->annotation.name(),
                     saved->annotation.revision(), saved->created);
        v1::SaveAnnotationResponse response;
        *response.mutable_annotation() = std::move(saved->annotation);
        response.set_created(saved->created);
        done(std::move(response));
      });
}

absl::StatusOr<v1::SkipInstanceResponse> AnnotationServiceImpl::DoSkipInstance(
    const Caller& caller, const v1::SkipInstanceRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
  AILAB_RETURN_IF_ERROR(CheckInstanceName("instance", request.instance(), request.dataset()));
  AILAB_RETURN_IF_ERROR(CheckUserId("annotator", request.annotator()));

  AILAB_RETURN_IF_ERROR(directory_->GetUseCase(request.use_case()).status());
  AILAB_RETURN_IF_ERROR(directory_->FindInstance(request.dataset(), request.instance()).status());
  AILAB_RETURN_IF_ERROR(
      CheckActingAs(caller, request.use_case(), request.dataset(), request.annotator()));

  AnnotationKey key{request.use_case(), request.dataset(), request.annotator(),
                    request.instance()};
  AILAB_ASSIGN_OR_RETURN(v1::Annotation annotation, store_->Skip(key));
  Log()->debug("instance skipped name={} revision={}", annotation.name(), annotation.revision());

  v1::SkipInstanceResponse response;
  *response.mutable_annotation() = std::move(annotation);
  return response;
}

absl::StatusOr<v1::GetNextInstanceResponse> AnnotationServiceImpl::DoGetNextInstance(
    const Caller& caller, const v1::GetNextInstanceRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
  AILAB_RETURN_IF_ERROR(CheckUserId("annotator", request.annotator()));
  AILAB_RETURN_IF_ERROR(ResolveSet(request.use_case(), request.dataset()).status());
  AILAB_RETURN_IF_ERROR(
      CheckActingAs(caller, request.use_case(), request.dataset(), request.annotator()));

  AnnotatorSet set{request.use_case(), request.dataset(), request.annotator()};
  AILAB_ASSIGN_OR_RETURN(std::shared_ptr<const DatasetInstances> instances,
                         directory_->GetInstances(request.dataset()));
  AILAB_ASSIGN_OR_RETURN(auto states, store_->InstanceStates(set));
  AILAB_RETURN_IF_ERROR(store_->OpenSession(set));

  // The first instance in dataset order without an annotation (or only skipped, when
  // skips are offered again) is where the annotator resumes.
  v1::GetNextInstanceResponse response;
  int64_t annotated = 0;
  int64_t skipped = 0;
  for (const auto& [instance, state] : states) {
    if (!instances->index.contains(instance)) continue;
    if (state == v1::Annotation::ANNOTATED) ++annotated;
    if (state == v1::Annotation::SKIPPED) ++skipped;
  }
  for (size_t i = 0; i < instances->names.size(); ++i) {
    auto it = states.find(instances->names[i]);
    bool done = it != states.end() &&
                (it->second == v1::Annotation::ANNOTATED || !request.include_skipped());
    if (done) continue;
    response.set_instance(instances->names[i]);
    response.set_position(static_cast<int64_t>(i) + 1);
    break;
  }
  const int64_t total = static_cast<int64_t>(instances->names.size());
  response.set_total_instances(total);
  response.set_annotated_count(annotated);
  response.set_skipped_count(skipped);
  response.set_remaining_count(total - annotated - skipped);
  AILAB_ASSIGN_OR_RETURN(int64_t quota, store_->GetQuota(request.use_case(), request.dataset()));
  response.set_quota(quota);
  response.set_done(response.instance().empty());
  return response;
}

absl::StatusOr<v1::FinishSessionResponse> AnnotationServiceImpl::DoFinishSession(
    const Caller& caller, const v1::FinishSessionRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
  AILAB_RETURN_IF_ERROR(CheckUserId("annotator", request.annotator()));
  AILAB_RETURN_IF_ERROR(ResolveSet(request.use_case(), request.dataset()).status());
  AILAB_RETURN_IF_ERROR(
      CheckActingAs(caller, request.use_case(), request.dataset(), request.annotator()));

  AnnotatorSet set{request.use_case(), request.dataset(), request.annotator()};
  AILAB_ASSIGN_OR_RETURN(SessionSummary session, store_->CloseSession(set));
  AILAB_ASSIGN_OR_RETURN(v1::AnnotationProgress progress, Progress(set));
  Log()->info("session finished use_case={} dataset={} annotator={} annotated={} skipped={}",
              set.use_case, set.dataset, set.annotator, session.annotated, session.skipped);

  v1::FinishSessionResponse response;
  *response.mutable_start_time() = TimeUtil::MicrosecondsToTimestamp(session.start_micros);
  *response.mutable_end_time() = TimeUtil::MicrosecondsToTimestamp(session.end_micros);
  response.set_session_annotated_count(session.annotated);
  response.set_session_skipped_count(session.skipped);
  *response.mutable_progress() = std::move(progress);
  return response;
}

absl::StatusOr<v1::ListAnnotationsResponse> AnnotationServiceImpl::DoListAnnotations(
    const Caller& caller, const v1::ListAnnotationsRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
  AILAB_RETURN_IF_ERROR(CheckUserId("annotator", request.annotator()));
  AILAB_ASSIGN_OR_RETURN(int page_size,
                         pg::ResolvePageSize(request.page_size(), kDefaultPageSize, kMaxPageSize));
  AILAB_ASSIGN_OR_RETURN(int64_t offset, DecodeToken(request.page_token()));
  AILAB_ASSIGN_OR_RETURN(AnnotationFilter filter, ParseAnnotationFilter(request.filter()));
  AILAB_RETURN_IF_ERROR(ResolveSet(request.use_case(), request.dataset()).status());
  AILAB_RETURN_IF_ERROR(
      CheckActingAs(caller, request.use_case(), request.dataset(), request.annotator()));

  AnnotatorSet set{request.use_case(), request.dataset(), request.annotator()};
  AILAB_ASSIGN_OR_RETURN(AnnotationStore::ListResult list,
                         store_->List(set, filter, offset, page_size));
  v1::ListAnnotationsResponse response;
  response.set_next_page_token(NextToken(offset, list.annotations.size(), list.total_size));
  response.set_total_size(list.total_size);
  for (v1::Annotation& annotation : list.annotations) {
    *response.add_annotations() = std::move(annotation);
  }
  return response;
}

absl::StatusOr<v1::Annotation> AnnotationServiceImpl::DoGetAnnotation(
    const Caller& caller, const v1::GetAnnotationRequest& request) {
  AILAB_ASSIGN_OR_RETURN(int64_t id, ParseAnnotationName("name", request.name()));
  AILAB_RETURN_IF_ERROR(CheckUserId("annotator", request.annotator()));
  if (caller.user.has_value() && *caller.user != request.annotator()) {
    return PermissionDenied(
        "CALLER_IS_NOT_ANNOTATOR",
        absl::StrCat("caller \"", *caller.user, "\" may not act for annotator \"",
                     request.annotator(), "\"; set the annotator to your own user id"),
        {{"caller", *caller.user}, {"annotator", request.annotator()}});
  }

  AILAB_ASSIGN_OR_RETURN(v1::Annotation annotation, store_->Get(id));
  if (annotation.annotator() != request.annotator()) {
    // The message names neither the owner nor the content of the annotation.
    return PermissionDenied(
        "NOT_OWN_ANNOTATION",
        absl::StrCat("annotation \"", request.name(), "\" belongs to another annotator than \"",
                     request.annotator(), "\"; only one's own annotations can be read"),
        {{"annotation", request.name()}, {"annotator", request.annotator()}});
  }
  AILAB_RETURN_IF_ERROR(CheckActingAs(caller, annotation.use_case(), annotation.dataset(),
                                      annotation.annotator()));
  return annotation;
}

absl::StatusOr<v1::AnnotationProgress> AnnotationServiceImpl::DoGetAnnotationProgress(
    const Caller& caller, const v1::GetAnnotationProgressRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
  AILAB_RETURN_IF_ERROR(CheckUserId("annotator", request.annotator()));
  AILAB_RETURN_IF_ERROR(ResolveSet(request.use_case(), request.dataset()).status());
  if (caller.user.has_value() && *caller.user != request.annotator()) {
    return PermissionDenied(
        "CALLER_IS_NOT_ANNOTATOR",
        absl::StrCat("caller \"", *caller.user, "\" may not read the progress of \"",
                     request.annotator(), "\"; set the annotator to your own user id"),
        {{"caller", *caller.user}, {"annotator", request.annotator()}});
  }
  return Progress(AnnotatorSet{request.use_case(), request.dataset(), request.annotator()});
}

absl::StatusOr<v1::Quota> AnnotationServiceImpl::DoSetQuota(const v1::SetQuotaRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("use_case", request.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("dataset", request.dataset()));
  if (request.quota() < 0) {
    return InvalidArgument("INVALID_QUOTA", "quota",
                           absl::StrCat("quota ", request.quota(),
                                        " is negative; use 0 to remove the quota"),
                           {{"quota", absl::StrCat(request.quota())}});
  }
  AILAB_RETURN_IF_ERROR(ResolveSet(request.use_case(), request.dataset()).status());
  AILAB_ASSIGN_OR_RETURN(std::shared_ptr<const DatasetInstances> instances,
                         directory_->GetInstances(request.dataset()));
  const int64_t total = static_cast<int64_t>(instances->names.size());
  if (request.quota() > total) {
    return InvalidArgument("QUOTA_ABOVE_DATASET_SIZE", "quota",
                           absl::StrCat("quota ", request.quota(), " exceeds the ", total,
                                        " instances of dataset \"", request.dataset(),
                                        "\"; choose at most ", total),
                           {{"quota", absl::StrCat(request.quota())},
                            {"total_instances", absl::StrCat(total)}});
  }
  AILAB_ASSIGN_OR_RETURN(v1::Quota quota, store_->SetQuota(request.use_case(), request.dataset(),
                                                           request.quota(), total));
  Log()->info("quota set use_case={} dataset={} quota={} total={}", request.use_case(),
              request.dataset(), request.quota(), total);
  return quota;
}

// ---------------------------------------------------------------------------------------
// Contests

absl::StatusOr<v1::Contest> AnnotationServiceImpl::DoCreateContest(
    const v1::CreateContestRequest& request) {
  if (!request.has_contest()) {
    return InvalidArgument("MISSING_FIELD", "contest",
                           "contest is required, with use_case, dataset, start_time and end_time",
                           {{"field", "contest"}});
  }
  const v1::Contest& contest = request.contest();
  AILAB_RETURN_IF_ERROR(CheckUseCaseName("contest.use_case", contest.use_case()));
  AILAB_RETURN_IF_ERROR(CheckDatasetName("contest.dataset", contest.dataset()));
  if (contest.display_name().size() > kMaxDisplayNameBytes) {
    return InvalidArgument("DISPLAY_NAME_TOO_LONG", "contest.display_name",
                           absl::StrCat("contest.display_name has ", contest.display_name().size(),
                                        " bytes; at most ", kMaxDisplayNameBytes,
                                        " are allowed"),
                           {{"field", "contest.display_name"}});
  }
  AILAB_RETURN_IF_ERROR(CheckDisplayText("contest.display_name", contest.display_name()));
  AILAB_RETURN_IF_ERROR(
      CheckTimestamp("contest.start_time", contest.has_start_time(), contest.start_time()));
  AILAB_RETURN_IF_ERROR(
      CheckTimestamp("contest.end_time", contest.has_end_time(), contest.end_time()));
  if (contest.end_time() <= contest.start_time()) {
    return InvalidArgument("INVALID_CONTEST_WINDOW", "contest.end_time",
                           absl::StrCat("contest.end_time ", TimeUtil::ToString(contest.end_time()),
                                        " is not after contest.start_time ",
                                        TimeUtil::ToString(contest.start_time())),
                           {{"start_time", TimeUtil::ToString(contest.start_time())},
                            {"end_time", TimeUtil::ToString(contest.end_time())}});
  }
  AILAB_RETURN_IF_ERROR(ResolveSet(contest.use_case(), contest.dataset()).status());

  AILAB_ASSIGN_OR_RETURN(v1::Contest created, store_->CreateContest(contest));
  Log()->info("contest created name={} use_case={} dataset={}", created.name(),
              created.use_case(), created.dataset());
  return created;
}

absl::StatusOr<v1::Contest> AnnotationServiceImpl::DoGetContest(
    const v1::GetContestRequest& request) {
  AILAB_ASSIGN_OR_RETURN(int64_t id, ParseContestName("name", request.name()));
  return store_->GetContest(id);
}

absl::StatusOr<v1::ListContestsResponse> AnnotationServiceImpl::DoListContests(
    const v1::ListContestsRequest& request) {
  AILAB_ASSIGN_OR_RETURN(int page_size,
                         pg::ResolvePageSize(request.page_size(), kDefaultPageSize, kMaxPageSize));
  AILAB_ASSIGN_OR_RETURN(int64_t offset, DecodeToken(request.page_token()));

  // One extra row shows whether another page follows.
  AILAB_ASSIGN_OR_RETURN(std::vector<v1::Contest> contests,
                         store_->ListContests(offset, page_size + 1));
  v1::ListContestsResponse response;
  for (int i = 0; i < static_cast<int>(contests.size()) && i < page_size; ++i) {
    *response.add_contests() = std::move(contests[i]);
  }
  if (static_cast<int>(contests.size()) > page_size) {
    response.set_next_page_token(pg::EncodePageToken(offset + page_size));
  }
  return response;
}

absl::StatusOr<v1::ListAnnotatorRankingsResponse> AnnotationServiceImpl::DoListAnnotatorRankings(
    const v1::ListAnnotatorRankingsRequest& request) {
  AILAB_ASSIGN_OR_RETURN(int page_size,
                         pg::ResolvePageSize(request.page_size(), kDefaultPageSize, kMaxPageSize));
  AILAB_ASSIGN_OR_RETURN(int64_t offset, DecodeToken(request.page_token()));

  // Either a contest, or a use case and dataset over all time.
  std::string use_case = request.use_case();
  std::string dataset = request.dataset();
  std::optional<TimeWindow> window;
  if (!request.contest().empty()) {
    if (!use_case.empty() || !dataset.empty()) {
      return InvalidArgument(
          "CONFLICTING_FIELDS", "contest",
          absl::StrCat("contest \"", request.contest(), "\" was given with use_case \"", use_case,
                       "\" and dataset \"", dataset,
                       "\"; give either the contest or the use case and dataset"),
          {{"contest", request.contest()}});
    }
    AILAB_ASSIGN_OR_RETURN(int64_t id, ParseContestName("contest", request.contest()));
    AILAB_ASSIGN_OR_RETURN(v1::Contest contest, store_->GetContest(id));
    use_case = contest.use_case();
    dataset = contest.dataset();
    window = TimeWindow{TimeUtil::TimestampToMicroseconds(contest.start_time()),
                        TimeUtil::TimestampToMicroseconds(contest.end_time())};
  } else {
    if (use_case.empty() && dataset.empty()) {
      return InvalidArgument("MISSING_FIELD", "contest",
                             "contest is required, or else use_case and dataset",
                             {{"field", "contest"}});
    }
    AILAB_RETURN_IF_ERROR(ResolveSet(use_case, dataset).status());
  }

  AILAB_ASSIGN_OR_RETURN(auto counts, store_->CountByAnnotator(use_case, dataset, window));
  std::vector<Ranking> rankings = RankAnnotators(counts);
  v1::ListAnnotatorRankingsResponse response;
  const int64_t total = static_cast<int64_t>(rankings.size());
  for (int64_t i = offset; i < total && i < offset + page_size; ++i) {
    v1::AnnotatorRanking* ranking = response.add_rankings();
    ranking->set_annotator(rankings[i].annotator);
    ranking->set_annotated_count(rankings[i].annotated_count);
    ranking->set_rank(rankings[i].rank);
  }
  response.set_total_size(total);
  response.set_next_page_token(NextToken(offset, response.rankings_size(), total));
  return response;
}

// ---------------------------------------------------------------------------------------
// gRPC edge

grpc::ServerUnaryReactor* AnnotationServiceImpl::SaveAnnotation(
    grpc::CallbackServerContext* context, const v1::SaveAnnotationRequest* request,
    v1::SaveAnnotationResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // gRPC keeps the request and response until Finish, which the store's writer thread
  // calls once the save is written.
  auto finish = [reactor, response](absl::StatusOr<v1::SaveAnnotationResponse> result) {
    reactor->Finish(Respond("SaveAnnotation", std::move(result), response));
  };
  absl::StatusOr<Caller> caller = ResolveCaller(*context);
  if (!caller.ok()) {
    finish(caller.status());
    return reactor;
  }
  DoSaveAnnotationAsync(*caller, *request, std::move(finish));
  return reactor;
}

grpc::Status AnnotationServiceImpl::SkipInstance(grpc::ServerContext* context,
                                                 const v1::SkipInstanceRequest* request,
                                                 v1::SkipInstanceResponse* response) {
  return RespondAsCaller("SkipInstance", *context, response, [&](const Caller& caller) {
    return DoSkipInstance(caller, *request);
  });
}

grpc::Status AnnotationServiceImpl::GetNextInstance(grpc::ServerContext* context,
                                                    const v1::GetNextInstanceRequest* request,
                                                    v1::GetNextInstanceResponse* response) {
  return RespondAsCaller("GetNextInstance", *context, response, [&](const Caller& caller) {
    return DoGetNextInstance(caller, *request);
  });
}

grpc::Status AnnotationServiceImpl::FinishSession(grpc::ServerContext* context,
                                                  const v1::FinishSessionRequest* request,
                                                  v1::FinishSessionResponse* response) {
  return RespondAsCaller("FinishSession", *context, response, [&](const Caller& caller) {
    return DoFinishSession(caller, *request);
  });
}

grpc::Status AnnotationServiceImpl::ListAnnotations(grpc::ServerContext* context,
                                                    const v1::ListAnnotationsRequest* request,
                                                    v1::ListAnnotationsResponse* response) {
  return RespondAsCaller("ListAnnotations", *context, response, [&](const Caller& caller) {
    return DoListAnnotations(caller, *request);
  });
}

grpc::Status AnnotationServiceImpl::GetAnnotation(grpc::ServerContext* context,
                                                  const v1::GetAnnotationRequest* request,
                                                  v1::Annotation* response) {
  return RespondAsCaller("GetAnnotation", *context, response, [&](const Caller& caller) {
    return DoGetAnnotation(caller, *request);
  });
}

grpc::Status AnnotationServiceImpl::GetAnnotationProgress(
    grpc::ServerContext* context, const v1::GetAnnotationProgressRequest* request,
    v1::AnnotationProgress* response) {
  return RespondAsCaller("GetAnnotationProgress", *context, response, [&](const Caller& caller) {
    return DoGetAnnotationProgress(caller, *request);
  });
}

grpc::Status AnnotationServiceImpl::SetQuota(grpc::ServerContext* context,
                                             const v1::SetQuotaRequest* request,
                                             v1::Quota* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("SetQuota", DoSetQuota(*request), response);
}

grpc::Status AnnotationServiceImpl::CreateContest(grpc::ServerContext* context,
                                                  const v1::CreateContestRequest* request,
                                                  v1::Contest* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("CreateContest", DoCreateContest(*request), response);
}

grpc::Status AnnotationServiceImpl::GetContest(grpc::ServerContext* context,
                                               const v1::GetContestRequest* request,
                                               v1::Contest* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("GetContest", DoGetContest(*request), response);
}

grpc::Status AnnotationServiceImpl::ListContests(grpc::ServerContext* context,
                                                 const v1::ListContestsRequest* request,
                                                 v1::ListContestsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("ListContests", DoListContests(*request), response);
}

grpc::Status AnnotationServiceImpl::ListAnnotatorRankings(
    grpc::ServerContext* context, const v1::ListAnnotatorRankingsRequest* request,
    v1::ListAnnotatorRankingsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("ListAnnotatorRankings", DoListAnnotatorRankings(*request), response);
}

grpc::Status AnnotationServiceImpl::SetReferenceReader(grpc::ServerContext* context,
                                                       const v1::SetReferenceReaderRequest* request,
                                                       v1::ReferenceReader* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("SetReferenceReader", DoSetReferenceReader(*request), response);
}

grpc::Status AnnotationServiceImpl::GetReferenceReader(grpc::ServerContext* context,
                                                       const v1::GetReferenceReaderRequest* request,
                                                       v1::ReferenceReader* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("GetReferenceReader", DoGetReferenceReader(*request), response);
}

grpc::Status AnnotationServiceImpl::GetAgreement(grpc::ServerContext* context,
                                                 const v1::GetAgreementRequest* request,
                                                 v1::Agreement* response) {
  return RespondAsCaller("GetAgreement", *context, response, [&](const Caller& caller) {
    return DoGetAgreement(caller, *request);
  });
}

grpc::Status AnnotationServiceImpl::ExportLabels(grpc::ServerContext* context,
                                                 const v1::ExportLabelsRequest* request,
                                                 v1::ExportLabelsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("ExportLabels", DoExportLabels(*request), response);
}

grpc::Status AnnotationServiceImpl::CountLabels(grpc::ServerContext* context,
                                                const v1::CountLabelsRequest* request,
                                                v1::CountLabelsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("CountLabels", DoCountLabels(*request), response);
}

grpc::Status AnnotationServiceImpl::ScoreAgainstReference(
    grpc::ServerContext* context, const v1::ScoreAgainstReferenceRequest* request,
    v1::ScoreAgainstReferenceResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  // Differences between calls with chosen predictions would reveal reference labels one
  // by one, so only the platform's services (the evaluation service) may score.
  if (absl::Status allowed = rpc::RequireInternalCaller(*context, "ScoreAgainstReference");
      !allowed.ok()) {
    return rpc::ToGrpcStatus(allowed);
  }
  return Respond("ScoreAgainstReference", DoScoreAgainstReference(*request), response);
}

}  // namespace ailab::annotation
