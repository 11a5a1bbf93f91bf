// Challenge handlers of EvaluationServiceImpl: create, get, list, submit, list
// submissions, leaderboards and close.
#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/metrics/classification.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/status/text.h"
#include "google/protobuf/util/time_util.h"
#include "services/evaluation/common.h"
#include "services/evaluation/service.h"

namespace ailab::evaluation {
namespace {

using ::google::protobuf::util::TimeUtil;

constexpr int kDefaultDailyLimit = 3;
constexpr int kMaxDailyLimit = 1000;

std::shared_ptr<spdlog::logger> Log() { return log::Logger("evaluation"); }

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(timestamp));
}

std::string FormatUtc(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status proto;
  proto.set_code(static_cast<int>(status.code()));
  proto.set_message(std::string(status.message()));
  return proto;
}

// True when `caller` may see and manage everything of `challenge`: trusted services
// (no caller) and the owner.
bool IsOwnerOrTrusted(const v1::Challenge& challenge, const std::optional<std::string>& caller) {
  return !caller || *caller == challenge.owner();
}

// Clears the fields that only the owner may see.
v1::Challenge ViewFor(v1::Challenge challenge, const std::optional<std::string>& caller) {
  if (!IsOwnerOrTrusted(challenge, caller)) {
    challenge.clear_final_dataset();
    challenge.clear_final_reference_reader();
  }
  return challenge;
}

absl::Status PermissionDeniedFor(const std::string& caller, absl::string_view what,
                                 const std::string& challenge) {
  return PermissionDenied("NOT_CHALLENGE_OWNER",
                          absl::StrCat("user \"", caller, "\" may not ", what, " of challenge \"",
                                       challenge, "\"; only its owner may"),
                          {{"user", caller}, {"challenge", challenge}});
}

// Sort key of a leaderboard.
enum class RankKey { kKappa, kLinearKappa, kAuc };

absl::StatusOr<RankKey> ParseOrderBy(const std::string& order_by) {
  if (order_by.empty() || order_by == "kappa desc" || order_by == "kappa") return RankKey::kKappa;
  if (order_by == "linear_kappa desc" || order_by == "linear_kappa") return RankKey::kLinearKappa;
  if (order_by == "auc desc" || order_by == "auc") return RankKey::kAuc;
  return InvalidArgument("INVALID_ORDER_BY", "order_by",
                         absl::StrCat("order_by \"", order_by,
                                      "\" is not supported; use \"kappa desc\", "
                                      "\"linear_kappa desc\" or \"auc desc\""),
                         {{"order_by", order_by}});
}

double KeyOf(const v1::LeaderboardEntry& entry, RankKey key) {
  switch (key) {
    case RankKey::kKappa:
      return entry.kappa();
    case RankKey::kLinearKappa:
      return entry.linear_kappa();
    case RankKey::kAuc:
      return entry.auc();
  }
  return entry.kappa();
}

// Sorts best first and sets ranks: equal keys share a rank, the next rank skips
// (1, 2, 2, 4). Entries with an error or an undefined (NaN) key come last; among
// equals the earlier submission comes first.
void Rank(std::vector<v1::LeaderboardEntry>& entries, RankKey key) {
  auto ranked_last = [&](const v1::LeaderboardEntry& entry) {
    return entry.has_error() || std::isnan(KeyOf(entry, key));
  };
  std::stable_sort(entries.begin(), entries.end(),
                   [&](const v1::LeaderboardEntry& a, const v1::LeaderboardEntry& b) {
                     if (ranked_last(a) != ranked_last(b)) return ranked_last(b);
                     if (!ranked_last(a) && KeyOf(a, key) != KeyOf(b, key)) {
                       return KeyOf(a, key) > KeyOf(b, key);
                     }
                     return TimeUtil::TimestampToMicroseconds(a.submit_time()) <
                            TimeUtil::TimestampToMicroseconds(b.submit_time());
                   });
  for (size_t i = 0; i < entries.size(); ++i) {
    const bool same_as_previous =
        i > 0 && ranked_last(entries[i]) == ranked_last(entries[i - 1]) &&
        (ranked_last(entries[i]) || KeyOf(entries[i], key) == KeyOf(entries[i - 1], key));
    entries[i].set_rank(same_as_previous ? entries[i - 1].rank() : static_cast<int64_t>(i + 1));
  }
}

v1::LeaderboardEntry EntryOf(const v1::Submission& submission) {
  v1::LeaderboardEntry entry;
  entry.set_participant(submission.participant());
  entry.set_submission(submission.name());
  entry.set_model(submission.model());
  entry.set_kappa(submission.kappa());
  entry.set_linear_kappa(submission.linear_kappa());
  entry.set_auc(submission.auc());
  *entry.mutable_kappa_interval() = submission.kappa_interval();
  *entry.mutable_submit_time() = submission.submit_time();
  entry.set_scored_count(submission.scored_count());
  return entry;
}

}  // namespace

absl::StatusOr<v1::Challenge> EvaluationServiceImpl::DoCreateChallenge(
    const v1::CreateChallengeRequest& request, const std::optional<std::string>& caller) {
  const v1::Challenge& input = request.challenge();
  AILAB_RETURN_IF_ERROR(CheckResourceId(request.challenge_id(), "challenge_id"));
  if (input.display_name().empty()) {
    return InvalidArgument("MISSING_FIELD", "challenge.display_name",
                           "challenge.display_name is required");
  }
  AILAB_RETURN_IF_ERROR(CheckLength(input.display_name(), 200, "challenge.display_name"));
  AILAB_RETURN_IF_ERROR(CheckDisplayText("challenge.display_name", input.display_name()));
  AILAB_RETURN_IF_ERROR(CheckLength(input.description(), 10000, "challenge.description"));
  AILAB_RETURN_IF_ERROR(CheckName(input.use_case(), "useCases", "challenge.use_case"));
  AILAB_RETURN_IF_ERROR(CheckName(input.test_dataset(), "datasets", "challenge.test_dataset"));
  AILAB_RETURN_IF_ERROR(CheckName(input.final_dataset(), "datasets", "challenge.final_dataset"));
  if (input.test_dataset() == input.final_dataset()) {
    return InvalidArgument(
        "FINAL_DATASET_NOT_HIDDEN", "challenge.final_dataset",
        absl::StrCat("challenge.final_dataset \"", input.final_dataset(),
                     "\" equals the test dataset; the final dataset must be a separate, hidden one"),
        {{"final_dataset", input.final_dataset()}});
  }
  if (input.reference_reader().empty()) {
    return InvalidArgument("MISSING_FIELD", "challenge.reference_reader",
                           "challenge.reference_reader (a user id) is required");
  }
  if (!input.has_open_time() || !input.has_close_time()) {
    return InvalidArgument("MISSING_FIELD", input.has_open_time() ? "challenge.close_time"
                                                                  : "challenge.open_time",
                           "challenge.open_time and challenge.close_time are required");
  }
  const absl::Time open_time = FromTimestamp(input.open_time());
  const absl::Time close_time = FromTimestamp(input.close_time());
  if (close_time <= open_time) {
    const std::string open_text = FormatUtc(open_time);
    const std::string close_text = FormatUtc(close_time);
    return InvalidArgument("INVALID_TIME_RANGE", "challenge.close_time",
                           absl::StrCat("challenge.close_time ", close_text,
                                        " is not after challenge.open_time ", open_text),
                           {{"open_time", open_text}, {"close_time", close_text}});
  }
  const int limit =
      input.daily_submission_limit() == 0 ? kDefaultDailyLimit : input.daily_submission_limit();
  if (limit < 1 || limit > kMaxDailyLimit) {
    const std::string value = absl::StrCat(input.daily_submission_limit());
    return InvalidArgument("INVALID_DAILY_LIMIT", "challenge.daily_submission_limit",
                           absl::StrCat("challenge.daily_submission_limit ",
                                        input.daily_submission_limit(), " is outside 1 to ",
                                        kMaxDailyLimit, " (0 means ", kDefaultDailyLimit, ")"),
                           {{"daily_submission_limit", value}});
  }
  if (caller && !input.owner().empty() && input.owner() != *caller) {
    return PermissionDenied("OWNER_MISMATCH",
                            absl::StrCat("user \"", *caller,
                                         "\" cannot create a challenge owned by \"", input.owner(),
                                         "\"; leave owner empty"),
                            {{"user", *caller}, {"owner", input.owner()}});
  }
  AILAB_RETURN_IF_ERROR(ClassificationUseCase(input.use_case()).status());
  for (const auto& [field, dataset] :
       {std::pair<const char*, const std::string&>{"challenge.test_dataset", input.test_dataset()},
        {"challenge.final_dataset", input.final_dataset()}}) {
    absl::Status found = backends_->CheckDataset(dataset);
    if (found.code() == absl::StatusCode::kNotFound) {
      return NotFound("DATASET_NOT_FOUND",
                      absl::StrCat(field, " \"", dataset,
                                   "\" does not exist; create the dataset and ingest its images "
                                   "before the challenge"),
                      {{"dataset", dataset}, {"field", field}});
    }
    AILAB_RETURN_IF_ERROR(found);
  }

  v1::Challenge challenge = input;
  const std::string id = request.challenge_id().empty() ? NewId("c") : request.challenge_id();
  challenge.set_name(absl::StrCat("challenges/", id));
  challenge.set_daily_submission_limit(limit);
  challenge.set_state(v1::Challenge::OPEN);
  challenge.set_owner(caller.value_or(input.owner()));
  *challenge.mutable_create_time() = ToTimestamp(options_.clock());
  challenge.clear_closed_time();
  challenge.set_final_ranking_available(false);
  absl::Status inserted = store_->InsertChallenge(challenge);
  if (inserted.code() == absl::StatusCode::kAlreadyExists) {
    return AlreadyExists("CHALLENGE_EXISTS",
                         absl::StrCat("challenge \"", challenge.name(),
                                      "\" already exists; choose another challenge_id"),
                         {{"challenge", challenge.name()}});
  }
  AILAB_RETURN_IF_ERROR(inserted);
  Log()->info("challenge created challenge={} use_case={}", challenge.name(), challenge.use_case());
  return challenge;
}

absl::StatusOr<v1::Challenge> EvaluationServiceImpl::DoGetChallenge(
    const v1::GetChallengeRequest& request, const std::optional<std::string>& caller) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseName(request.name(), "challenges", "name"));
  AILAB_ASSIGN_OR_RETURN(v1::Challenge challenge, store_->GetChallenge(id));
  return ViewFor(std::move(challenge), caller);
}

absl::StatusOr<v1::ListChallengesResponse> EvaluationServiceImpl::DoListChallenges(
    const v1::ListChallengesRequest& request, const std::optional<std::string>& caller) {
  if (!request.use_case().empty()) {
    AILAB_RETURN_IF_ERROR(CheckName(request.use_case(), "useCases", "use_case"));
  }
  AILAB_ASSIGN_OR_RETURN(int limit, pg::ResolvePageSize(request.page_size()));
  AILAB_ASSIGN_OR_RETURN(int64_t offset, pg::DecodePageToken(request.page_token()));
  AILAB_ASSIGN_OR_RETURN(Page<v1::Challenge> page,
                         store_->ListChallenges(request.use_case(), offset, limit));
  v1::ListChallengesResponse response;
  for (v1::Challenge& challenge : page.items) {
    *response.add_challenges() = ViewFor(std::move(challenge), caller);
  }
  if (page.has_more) response.set_next_page_token(pg::EncodePageToken(offset + limit));
  return response;
}

absl::StatusOr<std::vector<int>> EvaluationServiceImpl::ChallengeModelClasses(
    const v1::Challenge& challenge, const ModelInfo& model) {
  if (model.use_case != challenge.use_case()) {
    return FailedPrecondition(
        "MODEL_OF_OTHER_USE_CASE",
        absl::StrCat("model \"", model.name, "\" belongs to use case \"", model.use_case,
                     "\", but challenge \"", challenge.name(), "\" is about \"",
                     challenge.use_case(), "\"; submit a model of that use case"),
        {{"model", model.name}, {"use_case", model.use_case}, {"challenge", challenge.name()}});
  }
  AILAB_ASSIGN_OR_RETURN(UseCaseInfo use_case, ClassificationUseCase(challenge.use_case()));
  return MapModelClasses(model.name, model.classes, use_case.name, use_case.categories);
}

absl::StatusOr<EvaluationServiceImpl::DatasetScore> EvaluationServiceImpl::ScoreOnDataset(
    const v1::Challenge& challenge, const std::string& model, const std::vector<int>& class_map,
    const std::string& dataset, const std::string& reference_reader) {
  AILAB_ASSIGN_OR_RETURN(std::vector<std::string> instances,
                         backends_->ListInstances(dataset, Split::kAll));
  if (instances.empty()) {
    return FailedPrecondition("EMPTY_DATASET",
                              absl::StrCat("dataset \"", dataset, "\" of challenge \"",
                                           challenge.name(), "\" has no instances"),
                              {{"challenge", challenge.name()}});
  }
  std::vector<ScoredPrediction> predictions(instances.size());
  AILAB_RETURN_IF_ERROR(ParallelFor(
      instances.size(), options_.prediction_parallelism, [&](size_t i) -> absl::Status {
        absl::StatusOr<InstanceOutput> output = backends_->Predict(model, instances[i]);
        if (!output.ok()) {
          return Annotate(output.status(), absl::StrCat("prediction of instance ", i + 1, " of ",
                                                        instances.size()));
        }
        predictions[i].instance = instances[i];
        predictions[i].probabilities = ToCategoryOrder(output->probabilities, class_map);
        return absl::OkStatus();
      }));
  AILAB_ASSIGN_OR_RETURN(ReferenceScore score,
                         backends_->ScoreAgainstReference(challenge.use_case(), dataset,
                                                          reference_reader, predictions));
  DatasetScore result;
  result.score = score;
  const int k = static_cast<int>(score.categories.size());
  absl::StatusOr<metrics::ConfusionMatrix> matrix =
      metrics::ConfusionFromCounts(k, score.confusion_counts);
  if (matrix.ok()) {
    result.kappa_interval = KappaInterval(*matrix);
  } else {
    result.kappa_interval.set_lower(std::nan(""));
    result.kappa_interval.set_upper(std::nan(""));
    result.kappa_interval.set_confidence(0.95);
  }
  return result;
}

absl::StatusOr<v1::Submission> EvaluationServiceImpl::DoSubmitToChallenge(
    const v1::SubmitToChallengeRequest& request, const std::optional<std::string>& caller) {
  // Request and caller.
  AILAB_ASSIGN_OR_RETURN(std::string challenge_id,
                         ParseName(request.challenge(), "challenges", "challenge"));
  AILAB_RETURN_IF_ERROR(CheckName(request.model(), "models", "model"));
  if (request.participant().empty()) {
    return InvalidArgument("MISSING_FIELD", "participant", "participant (a user id) is required");
  }
  if (caller && *caller != request.participant()) {
    return PermissionDenied("PARTICIPANT_MISMATCH",
                            absl::StrCat("user \"", *caller, "\" cannot submit for participant \"",
                                         request.participant(), "\"; submit as yourself"),
                            {{"user", *caller}, {"participant", request.participant()}});
  }

  // Challenge and model.
  AILAB_ASSIGN_OR_RETURN(v1::Challenge challenge, store_->GetChallenge(challenge_id));
  AILAB_ASSIGN_OR_RETURN(ModelInfo model, backends_->GetModel(request.model()));
  // A person enters their own models only; otherwise anyone could rank with another's.
  if (caller && !model.owner.empty() && model.owner != *caller) {
    return PermissionDenied(
        "MODEL_NOT_OWNED",
        absl::StrCat("model \"", model.name, "\" belongs to user \"", model.owner, "\", not to \"",
                     *caller, "\"; submit a model you trained"),
        {{"model", model.name}, {"owner", model.owner}, {"user", *caller}});
  }
  // A model trained on the images it is scored on would rank by memory. The final
  // dataset's name stays out of the message, as GetChallenge hides it.
  if (!model.dataset.empty() &&
      (model.dataset == challenge.test_dataset() || model.dataset == challenge.final_dataset())) {
    const bool on_test = model.dataset == challenge.test_dataset();
    return FailedPrecondition(
        "MODEL_TRAINED_ON_CHALLENGE_DATA",
        absl::StrCat("model \"", model.name, "\" was trained on ",
                     on_test ? absl::StrCat("the challenge's test dataset \"", model.dataset, "\"")
                             : std::string("the challenge's hidden final dataset"),
                     ", which scores its submissions; train a model on other data and submit it"),
        {{"model", model.name}, {"challenge", request.challenge()}});
  }
  AILAB_ASSIGN_OR_RETURN(std::vector<int> class_map, ChallengeModelClasses(challenge, model));

  // The submission is recorded SCORING, counted against the daily limit.
  const absl::Time now = options_.clock();
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  SubmissionCheck check;
  check.daily_limit = challenge.daily_submission_limit();
  check.day_start = absl::FromCivil(today, absl::UTCTimeZone());
  check.day_end = absl::FromCivil(today + 1, absl::UTCTimeZone());
  check.check_challenge = [&](const v1::Challenge& current) -> absl::Status {
    const absl::Time open_time = FromTimestamp(current.open_time());
    const absl::Time close_time = FromTimestamp(current.close_time());
    if (current.state() != v1::Challenge::OPEN || now >= close_time) {
      return FailedPrecondition("CHALLENGE_CLOSED",
                                absl::StrCat("challenge \"", current.name(),
                                             "\" is closed for submissions since ",
                                             FormatUtc(close_time)),
                                {{"challenge", current.name()}});
    }
    if (now < open_time) {
      const std::string open_text = FormatUtc(open_time);
      return FailedPrecondition("CHALLENGE_NOT_OPEN",
                                absl::StrCat("challenge \"", current.name(),
                                             "\" opens for submissions at ", open_text),
                                {{"challenge", current.name()}, {"open_time", open_text}});
    }
    return absl::OkStatus();
  };
  v1::Submission submission;
  const std::string submission_id = NewId("s");
  submission.set_name(absl::StrCat(challenge.name(), "/submissions/", submission_id));
  submission.set_model(request.model());
  submission.set_participant(request.participant());
  submission.set_state(v1::Submission::SCORING);
  *submission.mutable_submit_time() = ToTimestamp(now);
  AILAB_RETURN_IF_ERROR(store_->BeginSubmission(challenge_id, submission, check));
  Log()->info("submission scoring submission={} model={}", submission.name(), request.model());

  // Scoring; a failure is recorded on the submission, which then does not count.
  absl::StatusOr<DatasetScore> scored =
      ScoreOnDataset(challenge, request.model(), class_map, challenge.test_dataset(),
                     challenge.reference_reader());
  AILAB_ASSIGN_OR_RETURN(
      v1::Submission stored,
      store_->UpdateSubmission(
          challenge_id, submission_id,
          [&](v1::Submission& current, const v1::Challenge& latest) -> absl::Status {
            if (!scored.ok()) {
              current.set_state(v1::Submission::FAILED);
              *current.mutable_error() = ToRpcStatus(scored.status());
            } else if (latest.state() != v1::Challenge::OPEN) {
              current.set_state(v1::Submission::FAILED);
              *current.mutable_error() = ToRpcStatus(absl::FailedPreconditionError(absl::StrCat(
                  "challenge \"", latest.name(), "\" was closed while the submission was scored")));
            } else {
              current.set_state(v1::Submission::SCORED);
              current.set_kappa(scored->score.kappa);
              current.set_linear_kappa(scored->score.linear_kappa);
              current.set_auc(scored->score.auc);
              current.set_accuracy(scored->score.accuracy);
              current.set_scored_count(scored->score.scored_count);
              *current.mutable_kappa_interval() = scored->kappa_interval;
            }
            return absl::OkStatus();
          }));
  if (stored.state() == v1::Submission::FAILED) {
    Log()->warn("submission failed submission={} error={}", stored.name(), stored.error().message());
  } else {
    Log()->info("submission scored submission={} kappa={}", stored.name(), stored.kappa());
  }
  return stored;
}

absl::StatusOr<v1::ListSubmissionsResponse> EvaluationServiceImpl::DoListSubmissions(
    const v1::ListSubmissionsRequest& request, const std::optional<std::string>& caller) {
  AILAB_ASSIGN_OR_RETURN(std::string challenge_id,
                         ParseName(request.parent(), "challenges", "parent"));
  AILAB_ASSIGN_OR_RETURN(int limit, pg::ResolvePageSize(request.page_size()));
  AILAB_ASSIGN_OR_RETURN(int64_t offset, pg::DecodePageToken(request.page_token()));
  AILAB_ASSIGN_OR_RETURN(v1::Challenge challenge, store_->GetChallenge(challenge_id));
  if (!IsOwnerOrTrusted(challenge, caller) && request.participant() != *caller) {
    return PermissionDenied(
        "OTHER_PARTICIPANT",
        absl::StrCat("user \"", *caller, "\" may list only their own submissions; set participant "
                     "to \"", *caller, "\""),
        {{"user", *caller}, {"participant", request.participant()}});
  }
  AILAB_ASSIGN_OR_RETURN(Page<v1::Submission> page,
                         store_->ListSubmissions(challenge_id, request.participant(), offset, limit));
  v1::ListSubmissionsResponse response;
  for (v1::Submission& submission : page.items) *response.add_submissions() = std::move(submission);
  if (page.has_more) response.set_next_page_token(pg::EncodePageToken(offset + limit));
  return response;
}

absl::StatusOr<v1::ListLeaderboardEntriesResponse> EvaluationServiceImpl::DoListLeaderboardEntries(
    const v1::ListLeaderboardEntriesRequest& request) {
  AILAB_ASSIGN_OR_RETURN(std::string challenge_id,
                         ParseName(request.parent(), "challenges", "parent"));
  AILAB_ASSIGN_OR_RETURN(RankKey key, ParseOrderBy(request.order_by()));
  AILAB_ASSIGN_OR_RETURN(int limit, pg::ResolvePageSize(request.page_size()));
  AILAB_ASSIGN_OR_RETURN(int64_t offset, pg::DecodePageToken(request.page_token()));
  AILAB_ASSIGN_OR_RETURN(v1::Challenge challenge, store_->GetChallenge(challenge_id));

  std::vector<v1::LeaderboardEntry> entries;
  if (request.final()) {
    if (challenge.state() != v1::Challenge::CLOSED) {
      return FailedPrecondition("CHALLENGE_NOT_CLOSED",
                                absl::StrCat("the final ranking of challenge \"", challenge.name(),
                                             "\" is shown only after it is closed"),
                                {{"challenge", challenge.name()}});
    }
    if (!challenge.final_ranking_available()) {
      return FailedPrecondition(
          "FINAL_RANKING_PENDING",
          absl::StrCat("the final ranking of challenge \"", challenge.name(),
                       "\" is not stored yet; wait for CloseChallenge to finish or call it again"),
          {{"challenge", challenge.name()}});
    }
    AILAB_ASSIGN_OR_RETURN(entries, store_->GetFinalRanking(challenge_id));
  } else {
    AILAB_ASSIGN_OR_RETURN(std::vector<v1::Submission> latest,
                           store_->LatestScoredSubmissions(challenge_id));
    for (const v1::Submission& submission : latest) entries.push_back(EntryOf(submission));
  }
  Rank(entries, key);

  v1::ListLeaderboardEntriesResponse response;
  response.set_total_size(static_cast<int64_t>(entries.size()));
  for (int64_t i = offset; i < static_cast<int64_t>(entries.size()) && i < offset + limit; ++i) {
    *response.add_entries() = entries[i];
  }
  if (offset + limit < static_cast<int64_t>(entries.size())) {
    response.set_next_page_token(pg::EncodePageToken(offset + limit));
  }
  return response;
}

absl::StatusOr<v1::Challenge> EvaluationServiceImpl::DoCloseChallenge(
    const v1::CloseChallengeRequest& request, const std::optional<std::string>& caller) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseName(request.name(), "challenges", "name"));

  // CLOSED first, so that no submission starts while the final scores are computed.
  AILAB_ASSIGN_OR_RETURN(
      v1::Challenge challenge, store_->UpdateChallenge(id, [&](v1::Challenge& current) {
        if (!IsOwnerOrTrusted(current, caller)) {
          return PermissionDeniedFor(*caller, "close", current.name());
        }
        if (current.state() == v1::Challenge::OPEN) {
          current.set_state(v1::Challenge::CLOSED);
          *current.mutable_closed_time() = ToTimestamp(options_.clock());
        }
        return absl::OkStatus();
      }));
  if (challenge.final_ranking_available()) return challenge;  // closed earlier
  Log()->info("challenge closing challenge={}", challenge.name());

  // Final score of each participant's most recent scored submission.
  AILAB_ASSIGN_OR_RETURN(std::vector<v1::Submission> latest, store_->LatestScoredSubmissions(id));
  const std::string final_reader = challenge.final_reference_reader().empty()
                                       ? challenge.reference_reader()
                                       : challenge.final_reference_reader();
  std::vector<v1::LeaderboardEntry> entries;
  for (const v1::Submission& submission : latest) {
    v1::LeaderboardEntry entry = EntryOf(submission);
    absl::StatusOr<DatasetScore> scored = [&]() -> absl::StatusOr<DatasetScore> {
      AILAB_ASSIGN_OR_RETURN(ModelInfo model, backends_->GetModel(submission.model()));
      AILAB_ASSIGN_OR_RETURN(std::vector<int> class_map, ChallengeModelClasses(challenge, model));
      return ScoreOnDataset(challenge, submission.model(), class_map, challenge.final_dataset(),
                            final_reader);
    }();
    if (scored.ok()) {
      entry.set_kappa(scored->score.kappa);
      entry.set_linear_kappa(scored->score.linear_kappa);
      entry.set_auc(scored->score.auc);
      entry.set_scored_count(scored->score.scored_count);
      *entry.mutable_kappa_interval() = scored->kappa_interval;
    } else if (scored.status().code() == absl::StatusCode::kUnavailable) {
      // A dependency is down: fail the close so that it can be retried, instead of
      // ranking everyone last.
      return Annotate(scored.status(), absl::StrCat("final scoring of challenge \"",
                                                    challenge.name(), "\"; call CloseChallenge again"));
    } else {
      Log()->warn("final scoring failed submission={} error={}", submission.name(),
                  std::string(scored.status().message()));
      entry.set_kappa(std::nan(""));
      entry.set_linear_kappa(std::nan(""));
      entry.set_auc(std::nan(""));
      entry.set_scored_count(0);
      entry.clear_kappa_interval();
      *entry.mutable_error() = ToRpcStatus(scored.status());
    }
    entries.push_back(std::move(entry));
  }
  Rank(entries, RankKey::kKappa);
  challenge.set_final_ranking_available(true);
  AILAB_RETURN_IF_ERROR(store_->PutFinalRanking(challenge, entries));
  Log()->info("challenge closed challenge={} participants={}", challenge.name(), entries.size());
  return challenge;
}

grpc::Status EvaluationServiceImpl::CreateChallenge(grpc::ServerContext* context,
                                                    const v1::CreateChallengeRequest* request,
                                                    v1::Challenge* response) {
  absl::StatusOr<std::optional<std::string>> caller = ResolveCaller(context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  absl::StatusOr<v1::Challenge> result = DoCreateChallenge(*request, *caller);
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status EvaluationServiceImpl::GetChallenge(grpc::ServerContext* context,
                                                 const v1::GetChallengeRequest* request,
                                                 v1::Challenge* response) {
  absl::StatusOr<std::optional<std::string>> caller = ResolveCaller(context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  absl::StatusOr<v1::Challenge> result = DoGetChallenge(*request, *caller);
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status EvaluationServiceImpl::ListChallenges(grpc::ServerContext* context,
                                                   const v1::ListChallengesRequest* request,
                                                   v1::ListChallengesResponse* response) {
  absl::StatusOr<std::optional<std::string>> caller = ResolveCaller(context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  absl::StatusOr<v1::ListChallengesResponse> result = DoListChallenges(*request, *caller);
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status EvaluationServiceImpl::SubmitToChallenge(grpc::ServerContext* context,
                                                      const v1::SubmitToChallengeRequest* request,
                                                      v1::Submission* response) {
  absl::StatusOr<std::optional<std::string>> caller = ResolveCaller(context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  absl::StatusOr<v1::Submission> result = DoSubmitToChallenge(*request, *caller);
  if (!result.ok()) {
    Log()->warn("SubmitToChallenge rejected challenge={} reason={} error={}", request->challenge(),
                GetErrorReason(result.status()), std::string(result.status().message()));
    return rpc::ToGrpcStatus(result.status());
  }
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status EvaluationServiceImpl::ListSubmissions(grpc::ServerContext* context,
                                                    const v1::ListSubmissionsRequest* request,
                                                    v1::ListSubmissionsResponse* response) {
  absl::StatusOr<std::optional<std::string>> caller = ResolveCaller(context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  absl::StatusOr<v1::ListSubmissionsResponse> result =
      DoListSubmissions(*request, *caller);
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status EvaluationServiceImpl::ListLeaderboardEntries(
    grpc::ServerContext* context, const v1::ListLeaderboardEntriesRequest* request,
    v1::ListLeaderboardEntriesResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::StatusOr<v1::ListLeaderboardEntriesResponse> result = DoListLeaderboardEntries(*request);
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status EvaluationServiceImpl::CloseChallenge(grpc::ServerContext* context,
                                                   const v1::CloseChallengeRequest* request,
                                                   v1::Challenge* response) {
  absl::StatusOr<std::optional<std::string>> caller = ResolveCaller(context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  absl::StatusOr<v1::Challenge> result = DoCloseChallenge(*request, *caller);
  if (!result.ok()) {
    Log()->warn("CloseChallenge failed challenge={} error={}", request->name(),
                std::string(result.status().message()));
    return rpc::ToGrpcStatus(result.status());
  }
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace ailab::evaluation
