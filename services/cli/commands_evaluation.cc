// `ailab eval ...` and `ailab challenge ...`: evaluations, deployed-model
// assessments and challenges through the evaluation service
// (ailab.evaluation.v1.EvaluationService). The offline `ailab metrics ...` commands
// live in commands_metrics.cc.
//
// Results print as protobuf JSON; `challenge leaderboard` prints a table unless
// --json is given. Commands that act as a user (challenge create, submit, close)
// send --user, or the AILAB_USER environment variable, as the caller.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "ailab/evaluation/v1/evaluation.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "cli.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace ailab::cli {
namespace {

using ::ailab::evaluation::v1::EvaluationService;
using ::google::protobuf::util::TimeUtil;

// Submitting and closing run the models on whole datasets.
constexpr absl::Duration kCallTimeout = absl::Minutes(30);

// Calls one method of the evaluation service, as the user of User() when set.
template <typename Request, typename Response>
absl::StatusOr<Response> Call(const Args& args,
                              grpc::Status (EvaluationService::Stub::*method)(grpc::ClientContext*,
                                                                              const Request&,
                                                                              Response*),
                              const Request& request) {
  auto stub = EvaluationService::NewStub(rpc::Connect(ServiceAddress(args, "evaluation")));
  return CallUnary(*stub, method, request, kCallTimeout, OptionalUser(args).value_or(""));
}

// Reads an RFC 3339 time option such as 2026-05-01T00:00:00Z.
absl::StatusOr<google::protobuf::Timestamp> TimeOption(const Args& args, absl::string_view key) {
  AILAB_ASSIGN_OR_RETURN(std::string text, args.Require(key));
  google::protobuf::Timestamp timestamp;
  if (!TimeUtil::FromString(text, &timestamp)) {
    return InvalidArgument("INVALID_OPTION", key,
                           absl::StrCat("--", key, " \"", text,
                                        "\" is not an RFC 3339 time such as 2026-05-01T00:00:00Z"),
                           {{"value", text}});
  }
  return timestamp;
}

absl::StatusOr<evaluation::v1::DataSplit> SplitOption(const Args& args) {
  const std::string text = args.Get("split", "TEST");
  evaluation::v1::DataSplit split;
  if (!evaluation::v1::DataSplit_Parse(text, &split) ||
      split == evaluation::v1::DATA_SPLIT_UNSPECIFIED) {
    return InvalidArgument("INVALID_OPTION", "split",
                           absl::StrCat("--split \"", text, "\" must be TRAIN, VALIDATION, TEST or ALL"),
                           {{"value", text}});
  }
  return split;
}

absl::Status CreateEvaluation(const Args& args) {
  evaluation::v1::CreateEvaluationRequest request;
  evaluation::v1::Evaluation* evaluation = request.mutable_evaluation();
  AILAB_ASSIGN_OR_RETURN(std::string use_case, args.Require("use_case"));
  AILAB_ASSIGN_OR_RETURN(std::string dataset, args.Require("dataset"));
  evaluation->set_use_case(use_case);
  evaluation->set_dataset(dataset);
  for (const std::string& model : args.GetAll("model")) evaluation->add_models(model);
  if (evaluation->models_size() == 0) {
    return InvalidArgument("MISSING_OPTION", "model",
                           "option --model is required; repeat it to compare several models");
  }
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::DataSplit split, SplitOption(args));
  evaluation->set_split(split);
  evaluation->set_label_source(args.Get("label_source"));
  evaluation->set_display_name(args.Get("display_name"));
  if (args.Has("threshold")) {
    AILAB_ASSIGN_OR_RETURN(double threshold, args.GetDouble("threshold", 0.5));
    evaluation->set_threshold(threshold);
  }
  request.set_evaluation_id(args.Get("id"));
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::Evaluation created,
                         Call(args, &EvaluationService::Stub::CreateEvaluation, request));

  // With --wait, polls until the evaluation has finished.
  while (args.Has("wait") && created.state() == evaluation::v1::Evaluation::RUNNING) {
    absl::SleepFor(absl::Seconds(1));
    evaluation::v1::GetEvaluationRequest get;
    get.set_name(created.name());
    AILAB_ASSIGN_OR_RETURN(created, Call(args, &EvaluationService::Stub::GetEvaluation, get));
  }
  return PrintJson(created);
}

absl::Status GetEvaluation(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string name, args.Require("evaluation"));
  evaluation::v1::GetEvaluationRequest request;
  request.set_name(name);
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::Evaluation result,
                         Call(args, &EvaluationService::Stub::GetEvaluation, request));
  return PrintJson(result);
}

absl::Status ListEvaluations(const Args& args) {
  evaluation::v1::ListEvaluationsRequest request;
  request.set_use_case(args.Get("use_case"));
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::ListEvaluationsResponse result,
                         Call(args, &EvaluationService::Stub::ListEvaluations, request));
  return PrintJson(result);
}

absl::Status CancelEvaluation(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string name, args.Require("evaluation"));
  evaluation::v1::CancelEvaluationRequest request;
  request.set_name(name);
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::Evaluation result,
                         Call(args, &EvaluationService::Stub::CancelEvaluation, request));
  return PrintJson(result);
}

absl::Status Threshold(const Args& args) {
  evaluation::v1::ComputeAtThresholdRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string name, args.Require("evaluation"));
  AILAB_ASSIGN_OR_RETURN(std::string model, args.Require("model"));
  AILAB_RETURN_IF_ERROR(args.Require("threshold").status());
  AILAB_ASSIGN_OR_RETURN(double threshold, args.GetDouble("threshold", 0.5));
  request.set_evaluation(name);
  request.set_model(model);
  request.set_threshold(threshold);
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::ComputeAtThresholdResponse result,
                         Call(args, &EvaluationService::Stub::ComputeAtThreshold, request));
  return PrintJson(result);
}

absl::Status Assess(const Args& args) {
  evaluation::v1::AssessModelRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string model, args.Require("model"));
  request.set_model(model);
  if (args.Has("threshold")) {
    AILAB_ASSIGN_OR_RETURN(double threshold, args.GetDouble("threshold", 0.5));
    request.set_threshold(threshold);
  }
  if (args.Has("start_time")) {
    AILAB_ASSIGN_OR_RETURN(*request.mutable_start_time(), TimeOption(args, "start_time"));
  }
  if (args.Has("end_time")) {
    AILAB_ASSIGN_OR_RETURN(*request.mutable_end_time(), TimeOption(args, "end_time"));
  }
  if (args.Has("window")) {
    const std::string text = args.Get("window");
    absl::Duration window;
    if (!absl::ParseDuration(text, &window)) {
      return InvalidArgument("INVALID_OPTION", "window",
                             absl::StrCat("--window \"", text,
                                          "\" is not a duration such as 168h or 30m"),
                             {{"value", text}});
    }
    request.mutable_window()->set_seconds(absl::ToInt64Seconds(window));
  }
  if (args.Has("alert_metric")) {
    const std::string text = args.Get("alert_metric");
    evaluation::v1::AlertRule::Metric metric;
    if (!evaluation::v1::AlertRule::Metric_Parse(text, &metric) ||
        metric == evaluation::v1::AlertRule::METRIC_UNSPECIFIED) {
      return InvalidArgument("INVALID_OPTION", "alert_metric",
                             absl::StrCat("--alert_metric \"", text,
                                          "\" must be KAPPA, ACCURACY, AUC, SENSITIVITY or "
                                          "SPECIFICITY"),
                             {{"value", text}});
    }
    AILAB_RETURN_IF_ERROR(args.Require("alert_level").status());
    AILAB_ASSIGN_OR_RETURN(double alert_level, args.GetDouble("alert_level", 0));
    AILAB_ASSIGN_OR_RETURN(int64_t min_count, args.GetInt("alert_min_count", 0));
    request.mutable_alert_rule()->set_metric(metric);
    request.mutable_alert_rule()->set_level(alert_level);
    request.mutable_alert_rule()->set_min_count(min_count);
  }
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::AssessModelResponse result,
                         Call(args, &EvaluationService::Stub::AssessModel, request));
  return PrintJson(result);
}

absl::Status CreateChallenge(const Args& args) {
  evaluation::v1::CreateChallengeRequest request;
  evaluation::v1::Challenge* challenge = request.mutable_challenge();
  AILAB_ASSIGN_OR_RETURN(std::string display_name, args.Require("display_name"));
  AILAB_ASSIGN_OR_RETURN(std::string use_case, args.Require("use_case"));
  AILAB_ASSIGN_OR_RETURN(std::string test_dataset, args.Require("test_dataset"));
  AILAB_ASSIGN_OR_RETURN(std::string final_dataset, args.Require("final_dataset"));
  AILAB_ASSIGN_OR_RETURN(std::string reference_reader, args.Require("reference_reader"));
  challenge->set_display_name(display_name);
  challenge->set_description(args.Get("description"));
  challenge->set_use_case(use_case);
  challenge->set_test_dataset(test_dataset);
  challenge->set_final_dataset(final_dataset);
  challenge->set_reference_reader(reference_reader);
  challenge->set_final_reference_reader(args.Get("final_reference_reader"));
  AILAB_ASSIGN_OR_RETURN(*challenge->mutable_open_time(), TimeOption(args, "open_time"));
  AILAB_ASSIGN_OR_RETURN(*challenge->mutable_close_time(), TimeOption(args, "close_time"));
  AILAB_ASSIGN_OR_RETURN(int64_t limit, args.GetInt("daily_limit", 0));
  challenge->set_daily_submission_limit(static_cast<int32_t>(limit));
  request.set_challenge_id(args.Get("id"));
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::Challenge result,
                         Call(args, &EvaluationService::Stub::CreateChallenge, request));
  return PrintJson(result);
}

absl::Status GetChallenge(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string name, args.Require("challenge"));
  evaluation::v1::GetChallengeRequest request;
  request.set_name(name);
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::Challenge result,
                         Call(args, &EvaluationService::Stub::GetChallenge, request));
  return PrintJson(result);
}

absl::Status ListChallenges(const Args& args) {
  evaluation::v1::ListChallengesRequest request;
  request.set_use_case(args.Get("use_case"));
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::ListChallengesResponse result,
                         Call(args, &EvaluationService::Stub::ListChallenges, request));
  return PrintJson(result);
}

absl::Status Submit(const Args& args) {
  evaluation::v1::SubmitToChallengeRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string challenge, args.Require("challenge"));
  AILAB_ASSIGN_OR_RETURN(std::string model, args.Require("model"));
  request.set_challenge(challenge);
  request.set_model(model);
  std::optional<std::string> participant =
      args.Has("participant") ? std::optional<std::string>(args.Get("participant")) : OptionalUser(args);
  if (!participant) {
    return InvalidArgument("MISSING_OPTION", "participant",
                           "option --participant is required (or --user, or set AILAB_USER)");
  }
  request.set_participant(*participant);
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::Submission result,
                         Call(args, &EvaluationService::Stub::SubmitToChallenge, request));
  AILAB_RETURN_IF_ERROR(PrintJson(result));
  if (result.state() == evaluation::v1::Submission::FAILED) {
    return FailedPrecondition("SUBMISSION_FAILED",
                              absl::StrCat("submission ", result.name(),
                                           " failed: ", result.error().message()));
  }
  return absl::OkStatus();
}

absl::Status ListSubmissions(const Args& args) {
  evaluation::v1::ListSubmissionsRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string challenge, args.Require("challenge"));
  request.set_parent(challenge);
  request.set_participant(args.Get("participant", OptionalUser(args).value_or("")));
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::ListSubmissionsResponse result,
                         Call(args, &EvaluationService::Stub::ListSubmissions, request));
  return PrintJson(result);
}

std::string Figure(double value) {
  return std::isfinite(value) ? absl::StrFormat("%.3f", value) : std::string("-");
}

absl::Status Leaderboard(const Args& args) {
  evaluation::v1::ListLeaderboardEntriesRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string challenge, args.Require("challenge"));
  request.set_parent(challenge);
  request.set_order_by(args.Get("order_by"));
  request.set_final(args.Has("final"));
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::ListLeaderboardEntriesResponse result,
                         Call(args, &EvaluationService::Stub::ListLeaderboardEntries, request));
  if (args.Has("json")) return PrintJson(result);
  std::printf("%-5s %-24s %-8s %-17s %-8s %-8s %s\n", "RANK", "PARTICIPANT", "KAPPA", "95% CI",
              "LINEAR", "AUC", "MODEL");
  for (const auto& entry : result.entries()) {
    const std::string interval = absl::StrCat(Figure(entry.kappa_interval().lower()), "..",
                                              Figure(entry.kappa_interval().upper()));
    std::printf("%-5lld %-24s %-8s %-17s %-8s %-8s %s%s\n", static_cast<long long>(entry.rank()),
                entry.participant().c_str(), Figure(entry.kappa()).c_str(), interval.c_str(),
                Figure(entry.linear_kappa()).c_str(), Figure(entry.auc()).c_str(),
                entry.model().c_str(),
                entry.has_error() ? absl::StrCat("  (", entry.error().message(), ")").c_str() : "");
  }
  return absl::OkStatus();
}

absl::Status CloseChallenge(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string name, args.Require("challenge"));
  evaluation::v1::CloseChallengeRequest request;
  request.set_name(name);
  AILAB_ASSIGN_OR_RETURN(evaluation::v1::Challenge result,
                         Call(args, &EvaluationService::Stub::CloseChallenge, request));
  return PrintJson(result);
}

}  // namespace

AILAB_CLI_COMMAND({"eval", "create", "Evaluate models of a use case on a labelled dataset split",
                   "--use_case useCases/ID --dataset datasets/ID --model models/ID [--model ...] "
                   "[--split TRAIN|VALIDATION|TEST|ALL] [--label_source ANNOTATOR] "
                   "[--threshold P] [--display_name TEXT] [--id ID] [--wait]",
                   &CreateEvaluation});
AILAB_CLI_COMMAND({"eval", "get", "Show an evaluation and its metrics",
                   "--evaluation evaluations/ID", &GetEvaluation});
AILAB_CLI_COMMAND({"eval", "list", "List evaluations, newest first",
                   "[--use_case useCases/ID] [--page_size N] [--page_token TOKEN]",
                   &ListEvaluations});
AILAB_CLI_COMMAND({"eval", "cancel", "Cancel a running evaluation", "--evaluation evaluations/ID",
                   &CancelEvaluation});
AILAB_CLI_COMMAND({"eval", "threshold",
                   "Recompute sensitivity, specificity, PPV and NPV at another threshold",
                   "--evaluation evaluations/ID --model models/ID --threshold P", &Threshold});
AILAB_CLI_COMMAND({"eval", "assess", "Metrics of a deployed model on its reviewed predictions",
                   "--model models/ID [--threshold P] [--start_time RFC3339] [--end_time RFC3339] "
                   "[--window DURATION (e.g. 168h; needs --start_time)] "
                   "[--alert_metric KAPPA|ACCURACY|AUC|SENSITIVITY|SPECIFICITY --alert_level X "
                   "[--alert_min_count N]]",
                   &Assess});
AILAB_CLI_COMMAND({"challenge", "create", "Create a challenge with a hidden final dataset",
                   "--display_name TEXT --use_case useCases/ID --test_dataset datasets/ID "
                   "--final_dataset datasets/ID --reference_reader USER --open_time RFC3339 "
                   "--close_time RFC3339 [--daily_limit N] [--final_reference_reader USER] "
                   "[--description TEXT] [--id ID] [--user USER]",
                   &CreateChallenge});
AILAB_CLI_COMMAND({"challenge", "get", "Show a challenge", "--challenge challenges/ID",
                   &GetChallenge});
AILAB_CLI_COMMAND({"challenge", "list", "List challenges, newest first",
                   "[--use_case useCases/ID] [--page_size N] [--page_token TOKEN]",
                   &ListChallenges});
AILAB_CLI_COMMAND({"challenge", "submit", "Submit a model to a challenge and print its scores",
                   "--challenge challenges/ID --model models/ID [--participant USER | --user USER]",
                   &Submit});
AILAB_CLI_COMMAND({"challenge", "submissions", "List your submissions to a challenge",
                   "--challenge challenges/ID [--participant USER] [--page_size N]",
                   &ListSubmissions});
AILAB_CLI_COMMAND({"challenge", "leaderboard",
                   "Rank participants by their most recent scored submission",
                   "--challenge challenges/ID [--final] [--order_by \"kappa desc\"] [--json]",
                   &Leaderboard});
AILAB_CLI_COMMAND({"challenge", "close",
                   "Close a challenge and score the final ranking on the hidden dataset",
                   "--challenge challenges/ID [--user USER]", &CloseChallenge});

}  // namespace ailab::cli
