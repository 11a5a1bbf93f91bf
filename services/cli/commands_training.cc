// `ailab train ...` and `ailab model ...`: create, follow and cancel training jobs, and
// list, inspect and hide the models they register, through the training service
// (ailab.training.v1.TrainingService).
//
// Results print as protobuf JSON, or with --table as aligned columns. `train create
// --wait` and `train watch` print one progress line per change and end with the
// model's test metrics; they exit non-zero when the job fails or is cancelled. The
// job's owner comes from --user or, when that is absent, from AILAB_USER.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/training/v1/training.grpc.pb.h"
#include "cli.h"
#include "google/protobuf/util/json_util.h"

namespace ailab::cli {
namespace {

namespace v1 = ::ailab::training::v1;
using ::ailab::training::v1::TrainingService;

constexpr absl::Duration kCallTimeout = absl::Seconds(60);
// Reconnections of a watch after the service went away (for example a restart).
constexpr int kWatchReconnects = 5;

std::unique_ptr<TrainingService::Stub> Stub(const Args& args) {
  return TrainingService::NewStub(rpc::Connect(ServiceAddress(args, "training")));
}

// Calls one unary method of the training service.
template <typename Request, typename Response>
absl::StatusOr<Response> Call(const Args& args,
                              grpc::Status (TrainingService::Stub::*method)(grpc::ClientContext*,
                                                                            const Request&,
                                                                            Response*),
                              const Request& request) {
  auto stub = Stub(args);
  return CallUnary(*stub, method, request, kCallTimeout);
}

// Prints responses with the proto field names (snake_case).
google::protobuf::util::JsonPrintOptions JsonOptions() {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  return options;
}

absl::StatusOr<std::string> User(const Args& args) {
  return RequireUser(args, "the user who owns the job");
}

// Returns the resource named by --name or the first positional argument; a bare id
// gets `collection` in front.
absl::StatusOr<std::string> ResourceName(const Args& args, absl::string_view collection) {
  std::string name = args.Get("name");
  if (name.empty() && !args.positional().empty()) name = args.positional()[0];
  if (name.empty()) {
    return InvalidArgument("MISSING_OPTION", "name",
                           absl::StrCat("give the ", collection,
                                        "/ID to act on, as --name or "
                                        "as the first argument"));
  }
  if (!absl::StrContains(name, '/')) name = absl::StrCat(collection, "/", name);
  return name;
}

// Formats a figure that may be undefined (NaN) on the test data.
std::string Figure(double value) {
  return std::isnan(value) ? std::string("n/a") : absl::StrFormat("%.3f", value);
}

std::string StateName(v1::TrainingJob::State state) { return v1::TrainingJob::State_Name(state); }

bool IsTerminal(v1::TrainingJob::State state) {
  return state == v1::TrainingJob::SUCCEEDED || state == v1::TrainingJob::FAILED ||
         state == v1::TrainingJob::CANCELLED;
}

// One line describing the job's state and progress.
std::string ProgressLine(const v1::TrainingJob& job) {
  std::string line = absl::StrCat(job.name(), " ", StateName(job.state()));
  const v1::TrainingProgress& progress = job.progress();
  if (job.attempt_count() > 0) absl::StrAppend(&line, " attempt=", job.attempt_count());
  if (progress.epoch() > 0) {
    absl::StrAppend(&line, " epoch=", progress.epoch(), "/", progress.max_epochs(),
                    " step=", progress.step(), " train_loss=", Figure(progress.train_loss()),
                    " val_loss=", Figure(progress.val_loss()), " ", job.options().metric(), "=",
                    Figure(progress.metric()));
  }
  if (job.has_error() && job.error().code() != 0) {
    absl::StrAppend(&line, " error=\"", job.error().message(), "\"");
  }
  return line;
}

void PrintJobTable(const std::vector<v1::TrainingJob>& jobs) {
  std::printf("%-30s %-10s %-8s %-14s %-28s %s\n", "NAME", "STATE", "EPOCH", "OWNER", "DATASET",
              "MODEL");
  for (const v1::TrainingJob& job : jobs) {
    std::string epoch = absl::StrCat(job.progress().epoch(), "/", job.options().max_epochs());
    std::printf("%-30s %-10s %-8s %-14s %-28s %s\n", job.name().c_str(),
                StateName(job.state()).c_str(), epoch.c_str(), job.owner().c_str(),
                job.dataset().c_str(), job.model().c_str());
  }
}

void PrintModelTable(const std::vector<v1::Model>& models) {
  std::printf("%-24s %-12s %-7s %-7s %-7s %-6s %s\n", "NAME", "ARCH", "KAPPA", "LKAPPA", "AUC",
              "HIDDEN", "DISPLAY NAME");
  for (const v1::Model& model : models) {
    std::printf("%-24s %-12s %-7s %-7s %-7s %-6s %s\n", model.name().c_str(),
                model.architecture().c_str(), Figure(model.test_metrics().kappa()).c_str(),
                Figure(model.test_metrics().linear_kappa()).c_str(),
                Figure(model.test_metrics().auc()).c_str(), model.hidden() ? "yes" : "no",
                model.display_name().c_str());
  }
}

// Prints a model's test results as text: figures and the confusion matrix.
void PrintModelSummary(const v1::Model& model) {
  const v1::TestMetrics& metrics = model.test_metrics();
  std::printf("model %s (%s, %dx%d, classes %s)\n", model.name().c_str(),
              model.architecture().c_str(), model.image_size(), model.image_size(),
              absl::StrJoin(model.classes(), ",").c_str());
  std::printf("test n=%d kappa=%s linear_kappa=%s quadratic_kappa=%s auc=%s accuracy=%s\n",
              metrics.n(), Figure(metrics.kappa()).c_str(), Figure(metrics.linear_kappa()).c_str(),
              Figure(metrics.quadratic_kappa()).c_str(), Figure(metrics.auc()).c_str(),
              Figure(metrics.accuracy()).c_str());
  const v1::ConfusionMatrix& matrix = metrics.confusion_matrix();
  const int size = matrix.classes_size();
  if (size == 0 || matrix.counts_size() != size * size) return;
  std::printf("confusion matrix (rows: label, columns: predicted)\n%8s", "");
  for (const std::string& category : matrix.classes()) std::printf(" %7s", category.c_str());
  std::printf("\n");
  for (int row = 0; row < size; ++row) {
    std::printf("%8s", matrix.classes(row).c_str());
    for (int column = 0; column < size; ++column) {
      std::printf(" %7d", matrix.counts(row * size + column));
    }
    std::printf("\n");
  }
}

// Follows a job until it ends, printing a line per change; on success prints the model.
absl::Status Follow(const Args& args, const std::string& name) {
  v1::TrainingJob last;
  int reconnects = 0;
  while (true) {
    auto stub = Stub(args);
    grpc::ClientContext context;
    AddPlatformToken(context);
    v1::WatchTrainingJobRequest request;
    request.set_name(name);
    auto reader = stub->WatchTrainingJob(&context, request);
    v1::TrainingJob update;
    while (reader->Read(&update)) {
      std::printf("%s\n", ProgressLine(update).c_str());
      std::fflush(stdout);
      last = update;
      reconnects = 0;
    }
    absl::Status status = rpc::FromGrpcStatus(reader->Finish());
    if (IsTerminal(last.state())) break;
    if (status.ok() || status.code() == absl::StatusCode::kUnavailable) {
      // The stream ended before the job did: the service restarted or is stopping.
      if (++reconnects > kWatchReconnects) {
        return Unavailable("WATCH_LOST",
                           absl::StrCat("lost the stream of ", name, " ", kWatchReconnects,
                                        " times; run `ailab train watch ", name, "` again"),
                           {{"name", name}});
      }
      absl::SleepFor(absl::Seconds(reconnects));
      continue;
    }
    return status;
  }

  if (last.state() == v1::TrainingJob::FAILED) {
    return FailedPrecondition("TRAINING_FAILED",
                              absl::StrCat(name, " failed: ", last.error().message()),
                              {{"name", name}});
  }
  if (last.state() == v1::TrainingJob::CANCELLED) {
    return FailedPrecondition("TRAINING_CANCELLED", absl::StrCat(name, " was cancelled"),
                              {{"name", name}});
  }
  v1::GetModelRequest get;
  get.set_name(last.model());
  AILAB_ASSIGN_OR_RETURN(v1::Model model, Call(args, &TrainingService::Stub::GetModel, get));
  PrintModelSummary(model);
  return absl::OkStatus();
}

// Copies --<key> into an int32 option when given.
absl::Status SetInt(const Args& args, absl::string_view key,
                    const std::function<void(int64_t)>& set) {
  if (!args.Has(key)) return absl::OkStatus();
  AILAB_ASSIGN_OR_RETURN(int64_t value, args.GetInt(key, 0));
  set(value);
  return absl::OkStatus();
}

absl::StatusOr<bool> GetBool(const Args& args, absl::string_view key) {
  std::string value = args.Get(key, "false");
  if (value == "true" || value == "1" || value == "yes") return true;
  if (value == "false" || value == "0" || value == "no") return false;
  return InvalidArgument(
      "INVALID_OPTION", key,
      absl::StrCat("option --", key, " must be true or false, got \"", value, "\""));
}

absl::Status CreateJob(const Args& args) {
  v1::CreateTrainingJobRequest request;
  v1::TrainingJob* job = request.mutable_training_job();
  AILAB_ASSIGN_OR_RETURN(*job->mutable_use_case(), args.Require("use_case"));
  AILAB_ASSIGN_OR_RETURN(*job->mutable_dataset(), args.Require("dataset"));
  AILAB_ASSIGN_OR_RETURN(*job->mutable_label_source(), args.Require("label_source"));
  AILAB_ASSIGN_OR_RETURN(*job->mutable_owner(), User(args));
  job->set_display_name(args.Get("display_name"));
  request.set_training_job_id(args.Get("id"));
  AILAB_ASSIGN_OR_RETURN(bool validate_only, GetBool(args, "validate_only"));
  request.set_validate_only(validate_only);

  v1::TrainingOptions* options = job->mutable_options();
  options->set_architecture(args.Get("architecture"));
  options->set_augmentation(args.Get("augmentation"));
  options->set_sampling(args.Get("sampling"));
  options->set_loss(args.Get("loss"));
  options->set_optimizer(args.Get("optimizer"));
  options->set_metric(args.Get("metric"));
  AILAB_ASSIGN_OR_RETURN(bool pretrained, GetBool(args, "pretrained"));
  options->set_pretrained(pretrained);
  AILAB_RETURN_IF_ERROR(SetInt(args, "image_size", [&](int64_t v) { options->set_image_size(v); }));
  AILAB_RETURN_IF_ERROR(SetInt(args, "batch_size", [&](int64_t v) { options->set_batch_size(v); }));
  AILAB_RETURN_IF_ERROR(SetInt(args, "max_epochs", [&](int64_t v) { options->set_max_epochs(v); }));
  AILAB_RETURN_IF_ERROR(SetInt(args, "early_stopping_patience",
                               [&](int64_t v) { options->set_early_stopping_patience(v); }));
  AILAB_RETURN_IF_ERROR(SetInt(args, "seed", [&](int64_t v) { options->set_seed(v); }));
  AILAB_RETURN_IF_ERROR(SetInt(args, "gpu_count",
                               [&](int64_t v) { options->mutable_resources()->set_gpu_count(v); }));
  AILAB_RETURN_IF_ERROR(SetInt(args, "memory_mb",
                               [&](int64_t v) { options->mutable_resources()->set_memory_mb(v); }));
  if (args.Has("learning_rate")) {
    AILAB_ASSIGN_OR_RETURN(double rate, args.GetDouble("learning_rate", 0));
    options->set_learning_rate(rate);
  }
  if (args.Has("min_improvement")) {
    AILAB_ASSIGN_OR_RETURN(double improvement, args.GetDouble("min_improvement", 0));
    options->set_min_improvement(improvement);
  }

  AILAB_ASSIGN_OR_RETURN(v1::TrainingJob created,
                         Call(args, &TrainingService::Stub::CreateTrainingJob, request));
  if (!args.Has("wait") || validate_only) return PrintJson(created, JsonOptions());
  std::printf("created %s (%s)\n", created.name().c_str(),
              absl::StrJoin(created.label_counts(), ", ",
                            [](std::string* out, const v1::LabelCount& count) {
                              absl::StrAppend(out, count.category(), ": ", count.count());
                            })
                  .c_str());
  return Follow(args, created.name());
}

absl::Status GetJob(const Args& args) {
  v1::GetTrainingJobRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_name(), ResourceName(args, "trainingJobs"));
  AILAB_ASSIGN_OR_RETURN(v1::TrainingJob job,
                         Call(args, &TrainingService::Stub::GetTrainingJob, request));
  if (args.Has("table")) {
    PrintJobTable({job});
    return absl::OkStatus();
  }
  return PrintJson(job, JsonOptions());
}

absl::Status ListJobs(const Args& args) {
  // --state, --owner and --use_case are shorthands joined into the filter.
  std::vector<std::string> conditions;
  if (args.Has("filter")) conditions.push_back(args.Get("filter"));
  for (const char* field : {"state", "owner", "use_case", "dataset"}) {
    if (args.Has(field)) conditions.push_back(absl::StrCat(field, "=\"", args.Get(field), "\""));
  }
  v1::ListTrainingJobsRequest request;
  request.set_filter(absl::StrJoin(conditions, " AND "));
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));

  v1::ListTrainingJobsResponse all;
  while (true) {
    AILAB_ASSIGN_OR_RETURN(v1::ListTrainingJobsResponse page,
                           Call(args, &TrainingService::Stub::ListTrainingJobs, request));
    for (const v1::TrainingJob& job : page.training_jobs()) *all.add_training_jobs() = job;
    all.set_next_page_token(page.next_page_token());
    if (!args.Has("all") || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (args.Has("table")) {
    PrintJobTable({all.training_jobs().begin(), all.training_jobs().end()});
    return absl::OkStatus();
  }
  return PrintJson(all, JsonOptions());
}

absl::Status CancelJob(const Args& args) {
  v1::CancelTrainingJobRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_name(), ResourceName(args, "trainingJobs"));
  AILAB_ASSIGN_OR_RETURN(v1::TrainingJob job,
                         Call(args, &TrainingService::Stub::CancelTrainingJob, request));
  std::printf("%s\n", ProgressLine(job).c_str());
  return absl::OkStatus();
}

absl::Status WatchJob(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string name, ResourceName(args, "trainingJobs"));
  return Follow(args, name);
}

absl::Status ListModels(const Args& args) {
  v1::ListModelsRequest request;
  request.set_use_case(args.Get("use_case"));
  request.set_owner(args.Get("owner"));
  AILAB_ASSIGN_OR_RETURN(bool show_hidden, GetBool(args, "show_hidden"));
  request.set_show_hidden(show_hidden);
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));

  v1::ListModelsResponse all;
  while (true) {
    AILAB_ASSIGN_OR_RETURN(v1::ListModelsResponse page,
                           Call(args, &TrainingService::Stub::ListModels, request));
    for (const v1::Model& model : page.models()) *all.add_models() = model;
    all.set_next_page_token(page.next_page_token());
    if (!args.Has("all") || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (args.Has("table")) {
    PrintModelTable({all.models().begin(), all.models().end()});
    return absl::OkStatus();
  }
  return PrintJson(all, JsonOptions());
}

absl::Status GetModel(const Args& args) {
  v1::GetModelRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_name(), ResourceName(args, "models"));
  AILAB_ASSIGN_OR_RETURN(v1::Model model, Call(args, &TrainingService::Stub::GetModel, request));
  if (args.Has("table")) {
    PrintModelSummary(model);
    return absl::OkStatus();
  }
  return PrintJson(model, JsonOptions());
}

absl::Status HideModel(const Args& args) {
  v1::UpdateModelRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_model()->mutable_name(), ResourceName(args, "models"));
  request.mutable_model()->set_hidden(!args.Has("unhide"));
  request.mutable_update_mask()->add_paths("hidden");
  AILAB_ASSIGN_OR_RETURN(v1::Model model, Call(args, &TrainingService::Stub::UpdateModel, request));
  std::printf("%s %s\n", model.name().c_str(), model.hidden() ? "hidden" : "shown");
  return absl::OkStatus();
}

absl::Status ListPredictions(const Args& args) {
  v1::ListTestPredictionsRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_parent(), ResourceName(args, "models"));
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));

  v1::ListTestPredictionsResponse all;
  while (true) {
    AILAB_ASSIGN_OR_RETURN(v1::ListTestPredictionsResponse page,
                           Call(args, &TrainingService::Stub::ListTestPredictions, request));
    for (const v1::TestPrediction& prediction : page.test_predictions()) {
      *all.add_test_predictions() = prediction;
    }
    all.set_next_page_token(page.next_page_token());
    if (!args.Has("all") || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (args.Has("table")) {
    std::printf("%-56s %-6s %-9s %s\n", "INSTANCE", "LABEL", "PREDICTED", "PROBABILITIES");
    for (const v1::TestPrediction& prediction : all.test_predictions()) {
      std::string probabilities = absl::StrJoin(
          prediction.probabilities(), " ",
          [](std::string* out, float p) { absl::StrAppend(out, absl::StrFormat("%.3f", p)); });
      std::printf("%-56s %-6d %-9d %s\n", prediction.instance().c_str(), prediction.label(),
                  prediction.predicted(), probabilities.c_str());
    }
    return absl::OkStatus();
  }
  return PrintJson(all, JsonOptions());
}

}  // namespace

AILAB_CLI_COMMAND({"train", "create", "Create a training job (--wait follows it to the end)",
                   "--use_case useCases/ID --dataset datasets/ID --label_source USER|consensus "
                   "--user USER [--display_name TEXT] [--id ID] [--architecture resnet18] "
                   "[--image_size 128] [--augmentation none|flip_rotate] "
                   "[--sampling random|equal|positives_only] [--loss cross_entropy|mae|mse|focal] "
                   "[--pretrained] [--batch_size 16] [--learning_rate 0.001] "
                   "[--optimizer adam|sgd] [--early_stopping_patience 3] "
                   "[--min_improvement 0.0001] [--max_epochs 10] "
                   "[--metric linear_kappa|kappa|auc|val_loss] [--seed N] [--gpu_count N] "
                   "[--memory_mb N] [--validate_only] [--wait]",
                   &CreateJob});
AILAB_CLI_COMMAND({"train", "get", "Show one training job",
                   "trainingJobs/ID | --name trainingJobs/ID [--table]", &GetJob});
AILAB_CLI_COMMAND({"train", "list", "List training jobs, newest first",
                   "[--state RUNNING] [--owner USER] [--use_case useCases/ID] "
                   "[--dataset datasets/ID] [--filter 'state=QUEUED AND owner=u1'] "
                   "[--page_size N] [--page_token T] [--all] [--table]",
                   &ListJobs});
AILAB_CLI_COMMAND({"train", "cancel", "Cancel a queued or running training job",
                   "trainingJobs/ID | --name trainingJobs/ID", &CancelJob});
AILAB_CLI_COMMAND({"train", "watch", "Print a training job's progress until it ends",
                   "trainingJobs/ID | --name trainingJobs/ID", &WatchJob});
AILAB_CLI_COMMAND({"model", "list", "List trained models, newest first",
                   "[--use_case useCases/ID] [--owner USER] [--show_hidden] [--page_size N] "
                   "[--page_token T] [--all] [--table]",
                   &ListModels});
AILAB_CLI_COMMAND({"model", "get", "Show one model (--table: test metrics and confusion matrix)",
                   "models/ID | --name models/ID [--table]", &GetModel});
AILAB_CLI_COMMAND({"model", "hide", "Remove a model from the model lists (--unhide: show again)",
                   "models/ID | --name models/ID [--unhide]", &HideModel});
AILAB_CLI_COMMAND({"model", "predictions", "List a model's predictions on its test split",
                   "models/ID | --name models/ID [--page_size N] [--page_token T] [--all] "
                   "[--table]",
                   &ListPredictions});

}  // namespace ailab::cli
