// Evaluation handlers of EvaluationServiceImpl: create, get, list, cancel, the
// threshold recomputation, the assessment of deployed models, and the runner threads.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "services/evaluation/assessment.h"
#include "services/evaluation/common.h"
#include "services/evaluation/service.h"

namespace ailab::evaluation {
namespace {

using ::google::protobuf::util::TimeUtil;

constexpr int kMaxModels = 20;
constexpr double kDefaultThreshold = 0.5;

std::shared_ptr<spdlog::logger> Log() { return log::Logger("evaluation"); }

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status proto;
  proto.set_code(static_cast<int>(status.code()));
  proto.set_message(std::string(status.message()));
  return proto;
}

Split SplitOf(v1::DataSplit split) {
  switch (split) {
    case v1::TRAIN:
      return Split::kTrain;
    case v1::VALIDATION:
      return Split::kValidation;
    case v1::ALL:
      return Split::kAll;
    default:
      return Split::kTest;
  }
}

absl::Status CheckThreshold(double threshold, absl::string_view field) {
  if (threshold >= 0 && threshold <= 1) return absl::OkStatus();
  const std::string value = absl::StrCat(threshold);
  return InvalidArgument("INVALID_THRESHOLD", field,
                         absl::StrCat(field, " ", threshold, " is outside [0, 1]; pass a "
                                      "probability such as 0.5"),
                         {{field, value}});
}

}  // namespace

EvaluationServiceImpl::EvaluationServiceImpl(EvaluationStore* store, Backends* backends,
                                             ServiceOptions options)
    : store_(store), backends_(backends), options_(std::move(options)) {
  // Work of an earlier process cannot be resumed: its inputs were in memory.
  absl::StatusOr<std::vector<std::string>> running = store_->RunningEvaluations();
  if (running.ok()) {
    for (const std::string& id : *running) {
      absl::StatusOr<v1::Evaluation> failed =
          store_->UpdateEvaluation(id, [&](v1::Evaluation& evaluation) {
            evaluation.set_state(v1::Evaluation::FAILED);
            *evaluation.mutable_error() = ToRpcStatus(absl::AbortedError(
                "the evaluation service restarted while this evaluation ran; create it again"));
            *evaluation.mutable_end_time() = ToTimestamp(options_.clock());
            return absl::OkStatus();
          });
      Log()->warn("interrupted evaluation marked failed evaluation=evaluations/{} ok={}", id,
                  failed.ok());
    }
  } else {
    Log()->error("listing interrupted evaluations failed error={}", std::string(running.status().message()));
  }
  absl::StatusOr<int> failed_submissions = store_->FailScoringSubmissions(
      "the evaluation service restarted while this submission was scored; submit again");
  if (failed_submissions.ok() && *failed_submissions > 0) {
    Log()->warn("interrupted submissions marked failed count={}", *failed_submissions);
  } else if (!failed_submissions.ok()) {
    Log()->error("marking interrupted submissions failed error={}",
                 std::string(failed_submissions.status().message()));
  }

  for (int i = 0; i < std::max(1, options_.evaluation_runners); ++i) {
    runners_.emplace_back([this] { RunEvaluations(); });
  }
}

EvaluationServiceImpl::~EvaluationServiceImpl() { Shutdown(); }

void EvaluationServiceImpl::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && runners_.empty()) return;
    stopping_ = true;
    for (auto& [id, flag] : cancel_flags_) flag->store(true);
  }
  queue_changed_.notify_all();
  for (std::thread& runner : runners_) runner.join();
  runners_.clear();
}

absl::StatusOr<UseCaseInfo> EvaluationServiceImpl::ClassificationUseCase(const std::string& name) {
  AILAB_ASSIGN_OR_RETURN(UseCaseInfo use_case, backends_->GetUseCase(name));
  if (!use_case.classification || use_case.categories.size() < 2) {
    return FailedPrecondition(
        "NOT_A_CLASSIFICATION_USE_CASE",
        absl::StrCat("use case \"", name,
                     "\" is not a classification use case with at least two categories; only "
                     "classification models can be evaluated"),
        {{"use_case", name}});
  }
  return use_case;
}

absl::StatusOr<v1::Evaluation> EvaluationServiceImpl::DoCreateEvaluation(
    const v1::CreateEvaluationRequest& request, const std::optional<std::string>& caller) {
  // Request fields.
  const v1::Evaluation& input = request.evaluation();
  AILAB_RETURN_IF_ERROR(CheckResourceId(request.evaluation_id(), "evaluation_id"));
  AILAB_RETURN_IF_ERROR(CheckLength(input.display_name(), 200, "evaluation.display_name"));
  AILAB_RETURN_IF_ERROR(CheckName(input.use_case(), "useCases", "evaluation.use_case"));
  AILAB_RETURN_IF_ERROR(CheckName(input.dataset(), "datasets", "evaluation.dataset"));
  if (!v1::DataSplit_IsValid(input.split())) {
    const std::string split = absl::StrCat(input.split());
    return InvalidArgument("INVALID_SPLIT", "evaluation.split",
                           absl::StrCat("split ", input.split(),
                                        " is unknown; use TRAIN, VALIDATION, TEST or ALL"),
                           {{"split", split}});
  }
  if (input.models_size() == 0 || input.models_size() > kMaxModels) {
    const std::string count = absl::StrCat(input.models_size());
    return InvalidArgument("INVALID_MODEL_COUNT", "evaluation.models",
                           absl::StrCat("evaluation.models has ", input.models_size(),
                                        " models; pass 1 to ", kMaxModels),
                           {{"models", count}});
  }
  std::set<std::string> unique_models;
  for (const std::string& model : input.models()) {
    AILAB_RETURN_IF_ERROR(CheckName(model, "models", "evaluation.models"));
    if (!unique_models.insert(model).second) {
      return InvalidArgument("DUPLICATE_MODEL", "evaluation.models",
                             absl::StrCat("model \"", model, "\" is listed twice; list each once"),
                             {{"model", model}});
    }
  }
  const double threshold = input.has_threshold() ? input.threshold() : kDefaultThreshold;
  AILAB_RETURN_IF_ERROR(CheckThreshold(threshold, "evaluation.threshold"));

  // Use case and models.
  AILAB_ASSIGN_OR_RETURN(UseCaseInfo use_case, ClassificationUseCase(input.use_case()));
  EvaluationJob job;
  job.categories = use_case.categories;
  job.threshold = threshold;
  for (const std::string& name : input.models()) {
    AILAB_ASSIGN_OR_RETURN(ModelInfo model, backends_->GetModel(name));
    if (model.use_case != input.use_case()) {
      return FailedPrecondition(
          "MODEL_OF_OTHER_USE_CASE",
          absl::StrCat("model \"", name, "\" belongs to use case \"", model.use_case,
                       "\", not \"", input.use_case(), "\"; evaluate models of one use case"),
          {{"model", name}, {"use_case", model.use_case}});
    }
    AILAB_ASSIGN_OR_RETURN(std::vector<int> class_map,
                           MapModelClasses(name, model.classes, use_case.name, use_case.categories));
    job.models.push_back(std::move(model));
    job.class_maps.push_back(std::move(class_map));
  }

  // Instances of the split that have a label.
  AILAB_ASSIGN_OR_RETURN(std::vector<std::string> instances,
                         backends_->ListInstances(input.dataset(), SplitOf(input.split())));
  AILAB_ASSIGN_OR_RETURN(LabelSet labels,
                         backends_->ExportLabels(input.use_case(), input.dataset(),
                                                 input.label_source()));
  for (const std::string& instance : instances) {
    auto it = labels.labels.find(instance);
    if (it == labels.labels.end()) continue;
    if (it->second < 0 || it->second >= static_cast<int>(use_case.categories.size())) continue;
    job.instances.push_back(instance);
    job.truth.push_back(it->second);
  }
  const v1::DataSplit split = input.split() == v1::DATA_SPLIT_UNSPECIFIED ? v1::TEST : input.split();
  if (job.instances.empty()) {
    const std::string instance_count = absl::StrCat(instances.size());
    const std::string label_count = absl::StrCat(labels.labels.size());
    return FailedPrecondition(
        "NO_LABELLED_INSTANCES",
        absl::StrCat("split ", v1::DataSplit_Name(split), " of dataset \"", input.dataset(),
                     "\" has ", instances.size(), " instances and none of them has a label from \"",
                     input.label_source().empty() ? "the majority vote" : input.label_source(),
                     "\" (", labels.labels.size(),
                     " labels in the dataset); annotate them or pick another split"),
        {{"dataset", input.dataset()}, {"instances", instance_count}, {"labels", label_count}});
  }

  // Stored RUNNING, then queued.
  v1::Evaluation evaluation;
  job.id = request.evaluation_id().empty() ? NewId("e") : request.evaluation_id();
  evaluation.set_name(absl::StrCat("evaluations/", job.id));
  evaluation.set_display_name(input.display_name());
  evaluation.set_use_case(input.use_case());
  evaluation.set_dataset(input.dataset());
  evaluation.set_split(split);
  evaluation.set_label_source(input.label_source());
  *evaluation.mutable_models() = input.models();
  evaluation.set_threshold(threshold);
  evaluation.set_state(v1::Evaluation::RUNNING);
  for (const std::string& category : use_case.categories) evaluation.add_categories(category);
  evaluation.set_instance_count(static_cast<int64_t>(job.instances.size()));
  evaluation.set_owner(caller.value_or(input.owner()));
  *evaluation.mutable_create_time() = ToTimestamp(options_.clock());
  absl::Status inserted = store_->InsertEvaluation(evaluation);
  if (inserted.code() == absl::StatusCode::kAlreadyExists) {
    return AlreadyExists("EVALUATION_EXISTS",
                         absl::StrCat("evaluation \"", evaluation.name(),
                                      "\" already exists; choose another evaluation_id"),
                         {{"evaluation", evaluation.name()}});
  }
  AILAB_RETURN_IF_ERROR(inserted);

  job.cancelled = std::make_shared<std::atomic<bool>>(false);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancel_flags_[job.id] = job.cancelled;
    queue_.push_back(std::move(job));
  }
  queue_changed_.notify_one();
  Log()->info("evaluation created evaluation={} models={} instances={}", evaluation.name(),
              evaluation.models_size(), evaluation.instance_count());
  return evaluation;
}

void EvaluationServiceImpl::RunEvaluations() {
  while (true) {
    EvaluationJob job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      queue_changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    RunEvaluation(job);
    std::lock_guard<std::mutex> lock(mutex_);
    cancel_flags_.erase(job.id);
  }
}

absl::StatusOr<v1::ModelResult> EvaluationServiceImpl::EvaluateModel(
    const EvaluationJob& job, size_t model_index, std::atomic<int64_t>& completed) {
  const ModelInfo& model = job.models[model_index];
  const size_t k = job.categories.size();
  PredictionTable table;
  table.num_classes = static_cast<int>(k);
  table.truth = job.truth;
  table.probabilities.assign(job.instances.size() * k, 0.0);

  v1::ModelResult result;
  result.set_model(model.name);
  result.set_model_display_name(model.display_name);

  // Test predictions that training stored save inference calls; without them every
  // instance is predicted.
  std::map<std::string, std::vector<double>> stored;
  absl::StatusOr<std::map<std::string, std::vector<double>>> listed =
      backends_->ListTestPredictions(model.name);
  if (listed.ok()) {
    stored = *std::move(listed);
  } else {
    Log()->warn("stored test predictions unavailable, predicting every instance "
                "evaluation=evaluations/{} model={} error={}",
                job.id, model.name, std::string(listed.status().message()));
  }
  std::atomic<int64_t> stored_used{0};

  absl::Status predicted = ParallelFor(
      job.instances.size(), options_.prediction_parallelism,
      [&](size_t i) -> absl::Status {
        auto found = stored.find(job.instances[i]);
        if (found != stored.end() && found->second.size() == k) {
          std::vector<double> ordered = ToCategoryOrder(found->second, job.class_maps[model_index]);
          std::copy(ordered.begin(), ordered.end(), table.probabilities.begin() + i * k);
          stored_used.fetch_add(1);
          completed.fetch_add(1);
          return absl::OkStatus();
        }
        absl::StatusOr<InstanceOutput> output = backends_->Predict(model.name, job.instances[i]);
        if (!output.ok()) {
          return Annotate(output.status(), absl::StrCat("prediction of \"", job.instances[i], "\""));
        }
        if (output->probabilities.size() != k) {
          return Internal("PREDICTION_SIZE_MISMATCH",
                          absl::StrCat("inference returned ", output->probabilities.size(),
                                       " probabilities for \"", job.instances[i], "\", expected ", k));
        }
        std::vector<double> ordered = ToCategoryOrder(output->probabilities, job.class_maps[model_index]);
        std::copy(ordered.begin(), ordered.end(), table.probabilities.begin() + i * k);
        completed.fetch_add(1);
        return absl::OkStatus();
      },
      job.cancelled.get());
  if (absl::IsCancelled(predicted)) return predicted;
  if (!predicted.ok()) {
    Log()->warn("model evaluation failed evaluation=evaluations/{} model={} error={}", job.id,
                model.name, std::string(predicted.message()));
    *result.mutable_error() = ToRpcStatus(predicted);
    return result;
  }
  result.set_stored_prediction_count(stored_used.load());
  AILAB_ASSIGN_OR_RETURN(*result.mutable_metrics(),
                         ComputeMetrics(table, job.categories, job.threshold));
  AILAB_RETURN_IF_ERROR(store_->PutPredictions(job.id, model.name, EncodeTable(table)));
  return result;
}

void EvaluationServiceImpl::RunEvaluation(const EvaluationJob& job) {
  Log()->info("evaluation started evaluation=evaluations/{}", job.id);
  std::atomic<int64_t> completed{0};
  std::vector<v1::ModelResult> results;
  absl::Status status;

  // Progress is written from a side thread about once a second while models run.
  std::atomic<bool> done{false};
  std::thread progress([&] {
    int64_t written = -1;
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      const int64_t now = completed.load();
      if (now == written) continue;
      written = now;
      (void)store_->UpdateEvaluation(job.id, [&](v1::Evaluation& evaluation) {
        evaluation.set_completed_predictions(now);
        return absl::OkStatus();
      });
    }
  });
  for (size_t m = 0; m < job.models.size() && status.ok(); ++m) {
    absl::StatusOr<v1::ModelResult> result = EvaluateModel(job, m, completed);
    if (result.ok()) {
      results.push_back(*std::move(result));
    } else {
      status = result.status();
    }
  }
  done.store(true);
  progress.join();

  bool stopping = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping = stopping_;
  }
  absl::StatusOr<v1::Evaluation> stored =
      store_->UpdateEvaluation(job.id, [&](v1::Evaluation& evaluation) {
        if (evaluation.state() != v1::Evaluation::RUNNING) return absl::OkStatus();
        evaluation.set_completed_predictions(completed.load());
        *evaluation.mutable_end_time() = ToTimestamp(options_.clock());
        if (absl::IsCancelled(status) && stopping) {
          evaluation.set_state(v1::Evaluation::FAILED);
          *evaluation.mutable_error() = ToRpcStatus(absl::AbortedError(
              "the evaluation service stopped while this evaluation ran; create it again"));
        } else if (absl::IsCancelled(status)) {
          evaluation.set_state(v1::Evaluation::CANCELLED);
        } else if (!status.ok()) {
          evaluation.set_state(v1::Evaluation::FAILED);
          *evaluation.mutable_error() = ToRpcStatus(status);
        } else {
          evaluation.set_state(v1::Evaluation::SUCCEEDED);
          for (const v1::ModelResult& result : results) *evaluation.add_results() = result;
        }
        return absl::OkStatus();
      });
  if (!stored.ok()) {
    Log()->error("storing evaluation result failed evaluation=evaluations/{} error={}", job.id,
                 std::string(stored.status().message()));
    return;
  }
  Log()->info("evaluation finished evaluation=evaluations/{} state={}", job.id,
              v1::Evaluation::State_Name(stored->state()));
}

absl::StatusOr<v1::Evaluation> EvaluationServiceImpl::DoCancelEvaluation(
    const v1::CancelEvaluationRequest& request, const std::optional<std::string>& caller) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseName(request.name(), "evaluations", "name"));
  AILAB_ASSIGN_OR_RETURN(
      v1::Evaluation evaluation, store_->UpdateEvaluation(id, [&](v1::Evaluation& evaluation) {
        if (caller && !evaluation.owner().empty() && evaluation.owner() != *caller) {
          return PermissionDenied(
              "NOT_OWNER",
              absl::StrCat("evaluation \"", request.name(), "\" belongs to user \"",
                           evaluation.owner(),
                           "\"; only its owner or an administrator can cancel it"),
              {{"evaluation", request.name()}, {"owner", evaluation.owner()}, {"user", *caller}});
        }
        if (evaluation.state() != v1::Evaluation::RUNNING) {
          const std::string state = v1::Evaluation::State_Name(evaluation.state());
          return FailedPrecondition(
              "EVALUATION_FINISHED",
              absl::StrCat("evaluation \"", request.name(), "\" is already ", state,
                           "; only a RUNNING evaluation can be cancelled"),
              {{"evaluation", request.name()}, {"state", state}});
        }
        evaluation.set_state(v1::Evaluation::CANCELLED);
        *evaluation.mutable_end_time() = ToTimestamp(options_.clock());
        return absl::OkStatus();
      }));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cancel_flags_.find(id);
    if (it != cancel_flags_.end()) it->second->store(true);
  }
  Log()->info("evaluation cancelled evaluation={}", request.name());
  return evaluation;
}

absl::StatusOr<v1::ComputeAtThresholdResponse> EvaluationServiceImpl::DoComputeAtThreshold(
    const v1::ComputeAtThresholdRequest& request) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseName(request.evaluation(), "evaluations", "evaluation"));
  AILAB_RETURN_IF_ERROR(CheckName(request.model(), "models", "model"));
  AILAB_RETURN_IF_ERROR(CheckThreshold(request.threshold(), "threshold"));
  AILAB_ASSIGN_OR_RETURN(v1::Evaluation evaluation, store_->GetEvaluation(id));
  if (evaluation.state() != v1::Evaluation::SUCCEEDED) {
    const std::string state = v1::Evaluation::State_Name(evaluation.state());
    return FailedPrecondition("EVALUATION_NOT_SUCCEEDED",
                              absl::StrCat("evaluation \"", request.evaluation(), "\" is ", state,
                                           "; wait until it SUCCEEDED"),
                              {{"evaluation", request.evaluation()}, {"state", state}});
  }
  if (std::find(evaluation.models().begin(), evaluation.models().end(), request.model()) ==
      evaluation.models().end()) {
    return NotFound("MODEL_NOT_IN_EVALUATION",
                    absl::StrCat("model \"", request.model(), "\" is not one of the models of \"",
                                 request.evaluation(), "\""),
                    {{"model", request.model()}, {"evaluation", request.evaluation()}});
  }
  std::vector<std::string> categories(evaluation.categories().begin(),
                                      evaluation.categories().end());
  if (categories.size() != 2) {
    const std::string count = absl::StrCat(categories.size());
    return FailedPrecondition(
        "NOT_BINARY",
        absl::StrCat("evaluation \"", request.evaluation(), "\" has ", categories.size(),
                     " categories; thresholds apply to binary use cases only"),
        {{"evaluation", request.evaluation()}, {"categories", count}});
  }
  AILAB_ASSIGN_OR_RETURN(std::string bytes, store_->GetPredictions(id, request.model()));
  AILAB_ASSIGN_OR_RETURN(PredictionTable table, DecodeTable(bytes));
  v1::ComputeAtThresholdResponse response;
  response.set_evaluation(request.evaluation());
  response.set_model(request.model());
  AILAB_ASSIGN_OR_RETURN(*response.mutable_metrics(),
                         ComputeThresholdMetrics(table, categories, request.threshold()));
  return response;
}

absl::StatusOr<v1::AssessModelResponse> EvaluationServiceImpl::DoAssessModel(
    const v1::AssessModelRequest& request) {
  AILAB_RETURN_IF_ERROR(CheckName(request.model(), "models", "model"));
  AssessmentOptions options;
  options.threshold = request.has_threshold() ? request.threshold() : kDefaultThreshold;
  AILAB_RETURN_IF_ERROR(CheckThreshold(options.threshold, "threshold"));
  std::optional<absl::Time> start;
  std::optional<absl::Time> end;
  if (request.has_start_time()) {
    start = absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(request.start_time()));
  }
  if (request.has_end_time()) {
    end = absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(request.end_time()));
  }
  if (start && end && *end <= *start) {
    return InvalidArgument("INVALID_TIME_RANGE", "end_time",
                           "end_time is not after start_time; pass a non-empty range");
  }
  if (request.has_window()) {
    AILAB_ASSIGN_OR_RETURN(options.windows, CheckWindows(request, start, end));
  }
  AILAB_ASSIGN_OR_RETURN(ModelInfo model, backends_->GetModel(request.model()));
  AILAB_ASSIGN_OR_RETURN(UseCaseInfo use_case, ClassificationUseCase(model.use_case));
  if (request.has_alert_rule()) {
    AILAB_RETURN_IF_ERROR(CheckAlertRule(request.alert_rule(), use_case.categories.size() == 2));
    options.alert_rule = request.alert_rule();
  }
  AILAB_ASSIGN_OR_RETURN(Backends::ReviewedPredictions listed,
                         backends_->ListReviewedPredictions(request.model(), start, end));

  options.categories = use_case.categories;
  AILAB_ASSIGN_OR_RETURN(v1::AssessModelResponse response,
                         Assess(std::move(listed.reviewed), options));
  response.set_model(request.model());
  response.set_unreviewed_count(listed.unreviewed_count);
  if (response.alert_state() == v1::AlertRule::ALERT || response.alerting_window_count() > 0) {
    Log()->warn("model below alert level model={} metric={} level={} value={} alerting_windows={}",
                request.model(), v1::AlertRule::Metric_Name(request.alert_rule().metric()),
                request.alert_rule().level(), response.alert_metric_value(),
                response.alerting_window_count());
  }
  return response;
}

absl::StatusOr<WindowSpec> EvaluationServiceImpl::CheckWindows(
    const v1::AssessModelRequest& request, const std::optional<absl::Time>& start,
    const std::optional<absl::Time>& end) {
  const absl::Duration length = absl::Seconds(request.window().seconds()) +
                                absl::Nanoseconds(request.window().nanos());
  if (length < absl::Minutes(1)) {
    const std::string window = absl::FormatDuration(length);
    return InvalidArgument("INVALID_WINDOW", "window",
                           absl::StrCat("window ", window,
                                        " is shorter than one minute; pass a length such as 7 days"),
                           {{"window", window}});
  }
  if (!start) {
    return InvalidArgument("MISSING_FIELD", "start_time",
                           "start_time is required with window, as the start of the first window");
  }
  WindowSpec spec;
  spec.start = *start;
  spec.end = end.value_or(options_.clock());
  spec.length = length;
  if (spec.end <= spec.start) {
    return InvalidArgument("INVALID_TIME_RANGE", "start_time",
                           "start_time is in the future; pass a start before end_time or now");
  }
  const double count = std::ceil(absl::FDivDuration(spec.end - spec.start, length));
  if (count > kMaxAssessmentWindows) {
    const std::string windows = absl::StrCat(count);
    return InvalidArgument("TOO_MANY_WINDOWS", "window",
                           absl::StrCat("the time range holds ", count, " windows of ",
                                        absl::FormatDuration(length), "; at most ",
                                        kMaxAssessmentWindows,
                                        " are allowed, so pass a longer window or a shorter range"),
                           {{"windows", windows}});
  }
  return spec;
}

grpc::Status EvaluationServiceImpl::CreateEvaluation(grpc::ServerContext* context,
                                                     const v1::CreateEvaluationRequest* request,
                                                     v1::Evaluation* response) {
  absl::StatusOr<std::optional<std::string>> caller = ResolveCaller(context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  absl::StatusOr<v1::Evaluation> result = DoCreateEvaluation(*request, *caller);
  if (!result.ok()) {
    Log()->warn("CreateEvaluation failed reason={} error={}", GetErrorReason(result.status()),
                std::string(result.status().message()));
    return rpc::ToGrpcStatus(result.status());
  }
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status EvaluationServiceImpl::GetEvaluation(grpc::ServerContext* context,
                                                  const v1::GetEvaluationRequest* request,
                                                  v1::Evaluation* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::StatusOr<std::string> id = ParseName(request->name(), "evaluations", "name");
  if (!id.ok()) return rpc::ToGrpcStatus(id.status());
  absl::StatusOr<v1::Evaluation> evaluation = store_->GetEvaluation(*id);
  if (!evaluation.ok()) return rpc::ToGrpcStatus(evaluation.status());
  *response = *std::move(evaluation);
  return grpc::Status::OK;
}

grpc::Status EvaluationServiceImpl::ListEvaluations(grpc::ServerContext* context,
                                                    const v1::ListEvaluationsRequest* request,
                                                    v1::ListEvaluationsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::Status status = [&]() -> absl::Status {
    if (!request->use_case().empty()) {
      AILAB_RETURN_IF_ERROR(CheckName(request->use_case(), "useCases", "use_case"));
    }
    AILAB_ASSIGN_OR_RETURN(int limit, pg::ResolvePageSize(request->page_size()));
    AILAB_ASSIGN_OR_RETURN(int64_t offset, pg::DecodePageToken(request->page_token()));
    AILAB_ASSIGN_OR_RETURN(Page<v1::Evaluation> page,
                           store_->ListEvaluations(request->use_case(), offset, limit));
    for (v1::Evaluation& evaluation : page.items) *response->add_evaluations() = std::move(evaluation);
    if (page.has_more) response->set_next_page_token(pg::EncodePageToken(offset + limit));
    return absl::OkStatus();
  }();
  return rpc::ToGrpcStatus(status);
}

grpc::Status EvaluationServiceImpl::CancelEvaluation(grpc::ServerContext* context,
                                                     const v1::CancelEvaluationRequest* request,
                                                     v1::Evaluation* response) {
  // Administrators may cancel any evaluation.
  absl::StatusOr<std::optional<std::string>> caller = ResolveCallerUnlessAdministrator(context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  absl::StatusOr<v1::Evaluation> result = DoCancelEvaluation(*request, *caller);
  if (!result.ok()) {
    Log()->warn("CancelEvaluation failed evaluation={} reason={} error={}", request->name(),
                GetErrorReason(result.status()), std::string(result.status().message()));
    return rpc::ToGrpcStatus(result.status());
  }
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status EvaluationServiceImpl::ComputeAtThreshold(
    grpc::ServerContext* context, const v1::ComputeAtThresholdRequest* request,
    v1::ComputeAtThresholdResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::StatusOr<v1::ComputeAtThresholdResponse> result = DoComputeAtThreshold(*request);
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status EvaluationServiceImpl::AssessModel(grpc::ServerContext* context,
                                                const v1::AssessModelRequest* request,
                                                v1::AssessModelResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::StatusOr<v1::AssessModelResponse> result = DoAssessModel(*request);
  if (!result.ok()) {
    Log()->warn("AssessModel failed model={} error={}", request->model(),
                std::string(result.status().message()));
    return rpc::ToGrpcStatus(result.status());
  }
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace ailab::evaluation
