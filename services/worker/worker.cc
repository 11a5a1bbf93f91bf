#include "worker.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "ailab/imaging/npy.h"
#include "ailab/log/log.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/internal_caller.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/torch/trainer.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "test_metrics.h"

namespace ailab::worker {
namespace {

using google::protobuf::util::TimeUtil;

// Images per Predict() call while testing.
constexpr int kTestBatchSize = 32;
// Timeout of one call to the training service.
constexpr absl::Duration kCallTimeout = absl::Seconds(60);
// Tries of the final Complete or Fail call while the service is unreachable.
constexpr int kFinalCallTries = 6;

std::shared_ptr<spdlog::logger> Logger() { return log::Logger("worker"); }

// The current time with microsecond precision (TimeUtil::GetCurrentTime() of protobuf
// 3.21 returns whole seconds).
google::protobuf::Timestamp CurrentTime() {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(absl::Now()));
}

std::string IdOf(const std::string& name) {
  size_t slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(std::string(status.message()));
  return rpc_status;
}

// Calls `call` with a fresh context until it succeeds or fails with an error that
// retrying does not fix, waiting 1, 2, 4, ... seconds between tries.
absl::Status CallWithRetries(const std::function<grpc::Status(grpc::ClientContext*)>& call,
                             absl::string_view what, int tries) {
  absl::Duration backoff = absl::Seconds(1);
  absl::Status status;
  for (int i = 0; i < tries; ++i) {
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    rpc::AddInternalToken(context);
    status = rpc::FromGrpcStatus(call(&context));
    if (status.ok() || (status.code() != absl::StatusCode::kUnavailable &&
                        status.code() != absl::StatusCode::kDeadlineExceeded)) {
      return status;
    }
    Logger()->warn("call failed, retrying call={} try={} error={}", std::string(what), i + 1,
                   status.ToString());
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(30));
  }
  return status;
}

torch::TrainingOptions ToTrainerOptions(const v1::TrainingOptions& options, int num_classes) {
  torch::TrainingOptions trainer;
  trainer.architecture = options.architecture();
  trainer.image_size = options.image_size();
  trainer.num_classes = num_classes;
  trainer.augmentation = options.augmentation();
  trainer.sampling = options.sampling();
  trainer.loss = options.loss();
  trainer.batch_size = options.batch_size();
  trainer.learning_rate = options.learning_rate();
  trainer.optimizer = options.optimizer();
  trainer.max_epochs = options.max_epochs();
  trainer.early_stopping_patience = options.early_stopping_patience();
  trainer.min_improvement = options.min_improvement();
  trainer.metric = options.metric();
  trainer.seed = options.seed();
  return trainer;
}

v1::EpochMetrics ToEpochMetrics(const torch::EpochReport& report) {
  v1::EpochMetrics metrics;
  metrics.set_epoch(report.epoch);
  metrics.set_step(report.step);
  metrics.set_train_loss(report.train_loss);
  metrics.set_val_loss(report.val_loss);
  metrics.set_metric(report.metric);
  metrics.set_val_kappa(report.val_kappa);
  metrics.set_val_linear_kappa(report.val_linear_kappa);
  metrics.set_val_auc(report.val_auc);
  *metrics.mutable_report_time() = CurrentTime();
  return metrics;
}

// Reads a prepared array as `image_size` squared floats.
absl::StatusOr<std::vector<float>> ReadImage(const std::string& path, int image_size,
                                             const std::string& instance) {
  AILAB_ASSIGN_OR_RETURN(imaging::Array array, imaging::ReadNpy(path));
  AILAB_ASSIGN_OR_RETURN(std::vector<float> values, array.AsFloat());
  if (static_cast<int64_t>(values.size()) != int64_t{image_size} * image_size) {
    return FailedPrecondition(
        "ARRAY_SIZE_MISMATCH",
        absl::StrCat("the array of ", instance, " has ", values.size(),
                     " values but the model takes ", image_size, "x", image_size, " images"),
        {{"instance", instance}});
  }
  // uint16 arrays hold 0..65535; the models take 0..1.
  if (array.dtype == imaging::kUint16) {
    for (float& value : values) value /= 65535.0f;
  }
  return values;
}

}  // namespace

bool IsRetryable(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------
// One attempt of one job.

class Worker::Attempt {
 public:
  Attempt(Worker* worker, std::string job, v1::StartTrainingAttemptResponse start)
      : worker_(worker), job_(std::move(job)), start_(std::move(start)) {}

  // Trains, tests and reports the outcome to the service.
  void Run() {
    std::thread heartbeat([this] { Heartbeat(); });
    absl::StatusOr<std::optional<v1::CompleteTrainingJobRequest>> outcome = TrainAndTest();
    finished_.Notify();
    heartbeat.join();
    // Released before the outcome is sent, so that a worker reading the job's next
    // queue entry (after a retryable failure) can take the lease at once.
    (void)worker_->queue_->ReleaseLease(job_, options().worker_id);
    Report(outcome);
  }

 private:
  const WorkerOptions& options() const { return worker_->options_; }
  int attempt() const { return start_.attempt(); }

  // Renews the lease and checks with the service whether the job was cancelled, until
  // the attempt ends.
  void Heartbeat() {
    while (!finished_.WaitForNotificationWithTimeout(options().heartbeat_interval)) {
      absl::StatusOr<bool> renewed = worker_->queue_->RenewLease(job_, options().worker_id);
      if (renewed.ok() && !*renewed) {
        Logger()->error("lease lost job={} attempt={}", job_, attempt());
        lost_ = true;
      } else if (!renewed.ok()) {
        Logger()->warn("lease renewal failed job={} error={}", job_, renewed.status().ToString());
      }

      v1::ReportTrainingProgressRequest request;
      request.set_name(job_);
      request.set_attempt(attempt());
      SendProgress(request);
    }
  }

  // Sends a progress report and records whether the reply cancels or ends the attempt.
  void SendProgress(const v1::ReportTrainingProgressRequest& request) {
    v1::ReportTrainingProgressResponse response;
    grpc::ClientContext context;
    rpc::SetTimeout(context, kCallTimeout);
    rpc::AddInternalToken(context);
    absl::Status status = rpc::FromGrpcStatus(
        worker_->service_->ReportTrainingProgress(&context, request, &response));
    if (status.code() == absl::StatusCode::kFailedPrecondition) {
      // The service moved on (another attempt, or the job ended): stop working on it.
      Logger()->warn("attempt no longer current job={} attempt={} error={}", job_, attempt(),
                     status.ToString());
      lost_ = true;
    } else if (!status.ok()) {
      Logger()->warn("progress report failed job={} error={}", job_, status.ToString());
    } else if (response.cancel_requested() && !cancel_requested_.exchange(true)) {
      Logger()->info("cancellation requested job={} attempt={}", job_, attempt());
    }
  }

  bool ShouldStop() const { return cancel_requested_ || lost_ || worker_->stop_.HasBeenNotified(); }

  // Returns the completion to send, nullopt when training was stopped, or the error
  // that ended the attempt.
  absl::StatusOr<std::optional<v1::CompleteTrainingJobRequest>> TrainAndTest() {
    const v1::TrainingManifest& manifest = start_.manifest();
    const v1::TrainingOptions& job_options = start_.training_job().options();
    const int num_classes = manifest.classes_size();

    // Resolves every array to its file in the shared blob store.
    std::vector<torch::Example> train, validation, test;
    for (const v1::ManifestExample& example : manifest.examples()) {
      absl::StatusOr<std::string> path = worker_->blobs_.PathOf(example.array_blob());
      if (!path.ok()) {
        return FailedPrecondition(
            "ARRAY_MISSING",
            absl::StrCat("the array of ", example.instance(), " (", example.array_blob(),
                         ") is not in the blob store: ", path.status().message()),
            {{"instance", example.instance()}, {"blob", example.array_blob()}});
      }
      torch::Example item{*path, example.label(), example.instance()};
      if (example.split() == v1::TRAIN) train.push_back(item);
      if (example.split() == v1::VALIDATION) validation.push_back(item);
      if (example.split() == v1::TEST) test.push_back(item);
    }

    torch::TrainingOptions trainer = ToTrainerOptions(job_options, num_classes);
    trainer.threads = options().threads;
    trainer.device = options().device;
    if (job_options.pretrained()) {
      std::string path =
          absl::StrCat(options().pretrained_weights_dir, "/", job_options.architecture(), ".pt");
      if (options().pretrained_weights_dir.empty() || !std::filesystem::exists(path)) {
        return FailedPrecondition(
            "PRETRAINED_WEIGHTS_MISSING",
            absl::StrCat("pretrained weights for ", job_options.architecture(),
                         " are not on worker ", options().worker_id, " (looked for ", path,
                         "); install them under --pretrained_weights_dir or train with "
                         "random initialisation"),
            {{"architecture", job_options.architecture()}, {"path", path}});
      }
      trainer.pretrained_weights = path;
    }
    AILAB_RETURN_IF_ERROR(torch::ValidateOptions(trainer, train));

    // Each attempt gets its own folder, removed when the job is done.
    std::string work_dir =
        absl::StrCat(options().work_dir, "/", IdOf(job_), "/attempt-", attempt());
    std::error_code error;
    std::filesystem::create_directories(work_dir, error);
    if (error) {
      return Internal("WORK_DIR_FAILED",
                      absl::StrCat("could not create ", work_dir, ": ", error.message()),
                      {{"work_dir", work_dir}});
    }

    std::optional<std::string> resume;
    if (!start_.resume_checkpoint_blob().empty()) {
      absl::StatusOr<std::string> path = worker_->blobs_.PathOf(start_.resume_checkpoint_blob());
      if (path.ok()) {
        resume = *path;
        Logger()->info("resuming job={} attempt={} epoch={}", job_, attempt(),
                       start_.resume_epoch());
      } else {
        Logger()->warn("checkpoint missing, starting afresh job={} blob={}", job_,
                       start_.resume_checkpoint_blob());
      }
    }

    torch::TrainingCallbacks callbacks;
    callbacks.on_epoch = [this](const torch::EpochReport& report) {
      Logger()->info("epoch done job={} attempt={} epoch={} train_loss={} val_loss={} metric={}",
                     job_, attempt(), report.epoch, report.train_loss, report.val_loss,
                     report.metric);
      v1::ReportTrainingProgressRequest request;
      request.set_name(job_);
      request.set_attempt(attempt());
      *request.mutable_epoch() = ToEpochMetrics(report);
      SendProgress(request);
      history_.push_back(request.epoch());
      return !ShouldStop();
    };
    callbacks.should_stop = [this] { return ShouldStop(); };
    callbacks.on_checkpoint = [this](const std::string& path, int epoch) -> absl::Status {
      // A checkpoint that cannot be stored only costs a resumed attempt some epochs.
      absl::StatusOr<std::string> blob = worker_->blobs_.PutFile(path);
      if (!blob.ok()) {
        Logger()->warn("checkpoint not stored job={} epoch={} error={}", job_, epoch,
                       blob.status().ToString());
        return absl::OkStatus();
      }
      v1::ReportTrainingProgressRequest request;
      request.set_name(job_);
      request.set_attempt(attempt());
      request.set_checkpoint_blob(*blob);
      request.set_checkpoint_epoch(epoch);
      SendProgress(request);
      return absl::OkStatus();
    };

    AILAB_ASSIGN_OR_RETURN(torch::TrainingResult result,
                           torch::Train(trainer, train, validation, work_dir, resume, callbacks));
    if (result.stopped || ShouldStop()) return std::nullopt;

    return TestAndPackage(result, test);
  }

  // Tests the exported model on the TEST split and stores the model files.
  absl::StatusOr<std::optional<v1::CompleteTrainingJobRequest>> TestAndPackage(
      const torch::TrainingResult& result, const std::vector<torch::Example>& test) {
    const v1::TrainingJob& job = start_.training_job();
    const int image_size = job.options().image_size();
    std::vector<std::string> classes(job.classes().begin(), job.classes().end());

    torch::PredictorOptions predictor_options;
    predictor_options.threads = options().threads;
    predictor_options.device = options().device;
    AILAB_ASSIGN_OR_RETURN(std::unique_ptr<torch::Predictor> predictor,
                           torch::Predictor::Load(result.torchscript_path, predictor_options));

    v1::CompleteTrainingJobRequest request;
    std::vector<int> labels;
    std::vector<std::vector<float>> probabilities;
    for (size_t begin = 0; begin < test.size(); begin += kTestBatchSize) {
      if (ShouldStop()) return std::nullopt;
      size_t end = std::min(test.size(), begin + kTestBatchSize);
      std::vector<std::vector<float>> images;
      for (size_t i = begin; i < end; ++i) {
        AILAB_ASSIGN_OR_RETURN(std::vector<float> image,
                               ReadImage(test[i].array_path, image_size, test[i].id));
        images.push_back(std::move(image));
      }
      AILAB_ASSIGN_OR_RETURN(std::vector<std::vector<float>> batch, predictor->Predict(images));
      for (size_t i = begin; i < end; ++i) {
        const std::vector<float>& row = batch[i - begin];
        v1::TestPrediction* prediction = request.add_test_predictions();
        prediction->set_instance(test[i].id);
        prediction->set_label(test[i].label);
        prediction->set_predicted(ArgMax(row));
        for (float p : row) prediction->add_probabilities(p);
        labels.push_back(test[i].label);
        probabilities.push_back(row);
      }
    }
    AILAB_ASSIGN_OR_RETURN(v1::TestMetrics metrics,
                           ComputeTestMetrics(classes, labels, probabilities));

    // The model card records what went into the model, for people and registries.
    v1::ModelCard card;
    card.set_display_name(job.display_name().empty() ? job.name() : job.display_name());
    card.set_use_case(job.use_case());
    card.set_training_job(job.name());
    card.set_dataset(job.dataset());
    card.set_label_source(job.label_source());
    *card.mutable_classes() = job.classes();
    *card.mutable_label_counts() = job.label_counts();
    *card.mutable_options() = job.options();
    // Epochs of earlier attempts come from the job; this attempt's from its reports.
    for (const v1::EpochMetrics& epoch : job.history()) {
      if (history_.empty() || epoch.epoch() < history_.front().epoch()) *card.add_history() = epoch;
    }
    for (const v1::EpochMetrics& epoch : history_) *card.add_history() = epoch;
    card.set_best_epoch(result.best_epoch);
    *card.mutable_test_metrics() = metrics;
    card.set_worker_id(options().worker_id);
    card.set_manifest_blob(job.manifest_blob());
    *card.mutable_create_time() = CurrentTime();
    std::string card_json;
    google::protobuf::util::JsonPrintOptions print_options;
    print_options.add_whitespace = true;
    print_options.always_print_primitive_fields = true;
    print_options.preserve_proto_field_names = true;
    auto printed = google::protobuf::util::MessageToJsonString(card, &card_json, print_options);
    if (!printed.ok()) {
      return Internal("MODEL_CARD_NOT_ENCODED",
                      absl::StrCat("could not encode the model card: ", printed.ToString()));
    }

    AILAB_ASSIGN_OR_RETURN(std::string torchscript_blob,
                           worker_->blobs_.PutFile(result.torchscript_path));
    AILAB_ASSIGN_OR_RETURN(std::string card_blob, worker_->blobs_.Put(card_json));
    request.set_name(job_);
    request.set_attempt(attempt());
    request.set_torchscript_blob(torchscript_blob);
    request.set_model_card_blob(card_blob);
    *request.mutable_test_metrics() = metrics;
    request.set_best_epoch(result.best_epoch);
    return request;
  }

  // Tells the service how the attempt ended.
  void Report(const absl::StatusOr<std::optional<v1::CompleteTrainingJobRequest>>& outcome) {
    if (lost_) {
      Logger()->warn("attempt abandoned job={} attempt={}", job_, attempt());
      return;
    }
    if (outcome.ok() && outcome->has_value()) {
      v1::Model model;
      absl::Status status = CallWithRetries(
          [&](grpc::ClientContext* context) {
            return worker_->service_->CompleteTrainingJob(context, **outcome, &model);
          },
          "CompleteTrainingJob", kFinalCallTries);
      if (status.ok()) {
        Logger()->info("job completed job={} attempt={} model={} kappa={} auc={}", job_, attempt(),
                       model.name(), model.test_metrics().kappa(), model.test_metrics().auc());
      } else {
        Logger()->error("completion not recorded job={} error={}", job_, status.ToString());
      }
      return;
    }

    v1::FailTrainingAttemptRequest request;
    request.set_name(job_);
    request.set_attempt(attempt());
    if (!outcome.ok()) {
      *request.mutable_error() = ToRpcStatus(outcome.status());
      request.set_retryable(IsRetryable(outcome.status().code()));
      Logger()->error("attempt failed job={} attempt={} retryable={} error={}", job_, attempt(),
                      request.retryable(), outcome.status().ToString());
    } else if (cancel_requested_) {
      *request.mutable_error() = ToRpcStatus(
          absl::CancelledError(absl::StrCat("training of ", job_, " was cancelled by its owner")));
      Logger()->info("attempt cancelled job={} attempt={}", job_, attempt());
    } else {
      *request.mutable_error() = ToRpcStatus(absl::UnavailableError(
          absl::StrCat("worker ", options().worker_id, " shut down during attempt ", attempt())));
      request.set_retryable(true);
      request.set_preempted(true);
      Logger()->info("attempt preempted job={} attempt={}", job_, attempt());
    }
    v1::TrainingJob job;
    absl::Status status = CallWithRetries(
        [&](grpc::ClientContext* context) {
          return worker_->service_->FailTrainingAttempt(context, request, &job);
        },
        "FailTrainingAttempt", kFinalCallTries);
    if (!status.ok()) {
      Logger()->error("failure not recorded job={} error={}", job_, status.ToString());
    }
  }

  Worker* worker_;
  std::string job_;
  v1::StartTrainingAttemptResponse start_;
  std::vector<v1::EpochMetrics> history_;
  std::atomic<bool> cancel_requested_{false};
  std::atomic<bool> lost_{false};
  absl::Notification finished_;
};

// ---------------------------------------------------------------------------------------
// The loop.

Worker::Worker(WorkerOptions options, std::shared_ptr<v1::TrainingService::Stub> service,
               blob::BlobStore blobs)
    : options_(std::move(options)), service_(std::move(service)), blobs_(std::move(blobs)) {}

Worker::~Worker() = default;

void Worker::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
}

void Worker::Run() {
  auto logger = Logger();
  logger->info("worker started worker={} gpus={} memory_mb={} stream={}:jobs", options_.worker_id,
               options_.gpu_count, options_.memory_mb, options_.queue.prefix);
  absl::Duration backoff = absl::Seconds(1);
  while (!stop_.HasBeenNotified()) {
    if (queue_ == nullptr) {
      absl::StatusOr<std::unique_ptr<queue::JobQueue>> opened =
          queue::JobQueue::Open(options_.queue);
      if (!opened.ok()) {
        logger->error("queue not reachable, retrying in {}s error={}",
                      absl::ToInt64Seconds(backoff), opened.status().ToString());
        stop_.WaitForNotificationWithTimeout(backoff);
        backoff = std::min(backoff * 2, absl::Seconds(30));
        continue;
      }
      queue_ = *std::move(opened);
      backoff = absl::Seconds(1);
    }

    absl::StatusOr<std::optional<queue::Delivery>> delivery =
        queue_->Consume(options_.worker_id, options_.consume_block);
    if (!delivery.ok()) {
      logger->error("reading the queue failed, retrying in {}s error={}",
                    absl::ToInt64Seconds(backoff), delivery.status().ToString());
      stop_.WaitForNotificationWithTimeout(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(30));
      continue;
    }
    backoff = absl::Seconds(1);
    if (delivery->has_value()) Handle(**delivery);
  }
  logger->info("worker stopped worker={}", options_.worker_id);
}

void Worker::Bounce(const queue::Delivery& delivery) {
  queue::JobEntry entry = delivery.entry;
  entry.bounces += 1;
  Logger()->info("job needs more than this worker offers job={} gpus={} memory_mb={} bounces={}",
                 entry.job, entry.gpu_count, entry.memory_mb, entry.bounces);
  absl::StatusOr<std::string> requeued = queue_->Enqueue(entry);
  if (!requeued.ok()) {
    // The entry stays pending; the service takes it back once it is stale.
    Logger()->error("passing entry on failed job={} error={}", entry.job,
                    requeued.status().ToString());
    return;
  }
  (void)queue_->Ack(delivery.entry_id);
  // Gives workers that fit a chance to read the copy first.
  stop_.WaitForNotificationWithTimeout(absl::Seconds(1));
}

void Worker::Handle(const queue::Delivery& delivery) {
  const std::string& job = delivery.entry.job;
  auto logger = Logger();
  const bool fits = delivery.entry.gpu_count <= options_.gpu_count &&
                    (options_.memory_mb == 0 || delivery.entry.memory_mb <= options_.memory_mb);
  if (!fits) {
    Bounce(delivery);
    return;
  }

  // The lease makes this worker the only one on the job.
  absl::StatusOr<bool> leased = queue_->AcquireLease(job, options_.worker_id);
  if (!leased.ok() || !*leased) {
    logger->warn("job is leased elsewhere, leaving its entry pending job={} entry={}", job,
                 delivery.entry_id);
    return;
  }

  v1::StartTrainingAttemptRequest request;
  request.set_name(job);
  request.set_worker_id(options_.worker_id);
  request.set_queued_attempt(delivery.entry.attempt);
  v1::StartTrainingAttemptResponse started;
  grpc::ClientContext context;
  rpc::SetTimeout(context, kCallTimeout);
  rpc::AddInternalToken(context);
  absl::Status status =
      rpc::FromGrpcStatus(service_->StartTrainingAttempt(&context, request, &started));
  if (!status.ok()) {
    (void)queue_->ReleaseLease(job, options_.worker_id);
    if (status.code() == absl::StatusCode::kFailedPrecondition ||
        status.code() == absl::StatusCode::kNotFound) {
      // A cancelled, finished or superseded job: the entry has no more use.
      logger->info("dropping queue entry job={} entry={} reason={}", job, delivery.entry_id,
                   std::string(status.message()));
      (void)queue_->Ack(delivery.entry_id);
    } else {
      // The entry stays pending; the service takes it back once it is stale.
      logger->error("starting attempt failed job={} error={}", job, status.ToString());
      stop_.WaitForNotificationWithTimeout(absl::Seconds(2));
    }
    return;
  }

  logger->info("attempt started job={} attempt={} examples={} resume_epoch={}", job,
               started.attempt(), started.manifest().examples_size(), started.resume_epoch());
  Attempt attempt(this, job, std::move(started));
  attempt.Run();

  // The service has the outcome (or gave the job to another attempt): acknowledge,
  // then remove this job's files.
  absl::Status acked = queue_->Ack(delivery.entry_id);
  if (!acked.ok()) logger->warn("ack failed job={} error={}", job, acked.ToString());
  std::error_code error;
  std::filesystem::remove_all(absl::StrCat(options_.work_dir, "/", IdOf(job)), error);
}

}  // namespace ailab::worker
