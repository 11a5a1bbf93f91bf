#include "service.h"

#include <cmath>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/status/text.h"
#include "filter.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "manifest.h"
#include "options.h"

namespace ailab::training {
namespace {

using google::protobuf::util::TimeUtil;
using State = v1::TrainingJob::State;

// Maximum lengths of the display name and of user ids (owner, label source).
constexpr size_t kMaxDisplayName = 200;
constexpr size_t kMaxLabelSource = 200;

std::shared_ptr<spdlog::logger> Logger() { return log::Logger("training"); }

// Returns a random id of 16 hex digits.
std::string NewId() {
  static absl::Mutex mutex(absl::kConstInit);
  static absl::BitGen* generator = new absl::BitGen();
  absl::MutexLock lock(&mutex);
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(*generator));
}

std::string IdOf(const std::string& name) {
  size_t slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

bool IsTerminal(State state) {
  return state == v1::TrainingJob::SUCCEEDED || state == v1::TrainingJob::FAILED ||
         state == v1::TrainingJob::CANCELLED;
}

std::string StateName(State state) { return v1::TrainingJob::State_Name(state); }

// Converts a library status for the wire, logging server-side failures.
grpc::Status Finish(const absl::Status& status, absl::string_view method) {
  if (!status.ok()) {
    if (status.code() == absl::StatusCode::kInternal ||
        status.code() == absl::StatusCode::kUnavailable ||
        status.code() == absl::StatusCode::kUnknown) {
      Logger()->error("request failed method={} error={}", std::string(method), status.ToString());
    } else {
      Logger()->debug("request rejected method={} error={}", std::string(method),
                      status.ToString());
    }
  }
  return rpc::ToGrpcStatus(status);
}

absl::Status MissingField(absl::string_view field, absl::string_view what) {
  return InvalidArgument("MISSING_FIELD", field, absl::StrCat(field, " is required: ", what),
                         {{"field", field}});
}

// Checks a reference to another service's resource, such as "useCases/{id}".
absl::Status CheckResourceName(const std::string& value, absl::string_view collection,
                               absl::string_view field) {
  if (value.empty()) {
    return MissingField(field, absl::StrCat("the ", collection, "/{id} to train on"));
  }
  absl::string_view id = value;
  bool ok = absl::ConsumePrefix(&id, absl::StrCat(collection, "/")) && !id.empty() &&
            id.find('/') == absl::string_view::npos;
  for (char c : id) {
    if (absl::ascii_isspace(c) || absl::ascii_iscntrl(c)) ok = false;
  }
  if (!ok) {
    return InvalidArgument(
        "INVALID_NAME", field,
        absl::StrCat(field, " \"", value, "\" is not a valid name; expected ", collection, "/{id}"),
        {{"field", field}, {"value", value}});
  }
  return absl::OkStatus();
}

absl::Status CheckText(const std::string& value, absl::string_view field, size_t max_size) {
  const size_t length = CharacterCount(value);
  if (length > max_size) {
    return InvalidArgument(
        "FIELD_TOO_LONG", field,
        absl::StrCat(field, " has ", length, " characters; at most ", max_size, " allowed"),
        {{"field", field}, {"size", absl::StrCat(length)}});
  }
  return CheckDisplayText(field, value);
}

absl::Status CheckAttempt(int attempt) {
  if (attempt >= 1) return absl::OkStatus();
  return InvalidArgument(
      "INVALID_ATTEMPT", "attempt",
      absl::StrCat("attempt is ", attempt,
                   "; pass the attempt number that StartTrainingAttempt returned (1 or more)"),
      {{"attempt", absl::StrCat(attempt)}});
}

absl::Status StaleAttempt(const v1::TrainingJob& job, int attempt) {
  return FailedPrecondition(
      "STALE_ATTEMPT",
      absl::StrCat("attempt ", attempt, " of ", job.name(), " is no longer current (the job is ",
                   StateName(job.state()), " at attempt ", job.attempt_count(),
                   "); stop working on it"),
      {{"name", job.name()},
       {"attempt", absl::StrCat(attempt)},
       {"current_attempt", absl::StrCat(job.attempt_count())},
       {"state", StateName(job.state())}});
}

absl::Status JobFinished(const v1::TrainingJob& job, absl::string_view action) {
  return FailedPrecondition("JOB_FINISHED",
                            absl::StrCat("training job ", job.name(), " is ",
                                         StateName(job.state()), " and cannot be ", action),
                            {{"name", job.name()}, {"state", StateName(job.state())}});
}

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(std::string(status.message()));
  return rpc_status;
}

void MarkEnded(v1::TrainingJob& job, State state) {
  job.set_state(state);
  *job.mutable_end_time() = CurrentTime();
}

// Records an epoch in the job's history, replacing epochs from a previous attempt that
// a resumed attempt repeats.
void RecordEpoch(v1::TrainingJob& job, const v1::EpochMetrics& epoch) {
  auto* history = job.mutable_history();
  while (!history->empty() && history->rbegin()->epoch() >= epoch.epoch()) {
    history->RemoveLast();
  }
  v1::EpochMetrics* recorded = history->Add();
  *recorded = epoch;
  if (!recorded->has_report_time()) *recorded->mutable_report_time() = CurrentTime();

  v1::TrainingProgress* progress = job.mutable_progress();
  progress->set_epoch(epoch.epoch());
  progress->set_step(epoch.step());
  progress->set_train_loss(epoch.train_loss());
  progress->set_val_loss(epoch.val_loss());
  progress->set_metric(epoch.metric());
}

absl::StatusOr<std::pair<int64_t, int>> ResolvePage(const std::string& token, int page_size,
                                                    int default_size) {
  AILAB_ASSIGN_OR_RETURN(int64_t offset, pg::DecodePageToken(token));
  AILAB_ASSIGN_OR_RETURN(int size, pg::ResolvePageSize(page_size, default_size, 1000));
  return std::make_pair(offset, size);
}

}  // namespace

TrainingService::TrainingService(Store* store, queue::JobQueue* queue, blob::BlobStore blobs,
                                 LabelSource* labels, InstanceSource* instances,
                                 ChallengeSource* challenges, ServiceOptions options)
    : store_(store),
      queue_(queue),
      blobs_(std::move(blobs)),
      labels_(labels),
      instances_(instances),
      challenges_(challenges),
      options_(std::move(options)) {}

TrainingService::~TrainingService() { Shutdown(); }

void TrainingService::StartMaintenance() {
  dispatcher_ = std::thread([this] { RunDispatcher(); });
  maintenance_ = std::thread([this] {
    Logger()->info("maintenance started interval_s={} reclaim_min_idle_s={}",
                   absl::ToDoubleSeconds(options_.maintenance_interval),
                   absl::ToDoubleSeconds(options_.reclaim_min_idle));
    // The first pass runs at once, so that jobs left unqueued by a crash go out at start.
    do {
      RunMaintenance();
    } while (!stop_.WaitForNotificationWithTimeout(options_.maintenance_interval));
    Logger()->info("maintenance stopped");
  });
}

void TrainingService::Shutdown() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  notifier_.Shutdown();
  {
    absl::MutexLock lock(&dispatch_request_mutex_);
    stopping_ = true;
    dispatch_requested_changed_.Signal();
  }
  if (dispatcher_.joinable()) dispatcher_.join();
  if (maintenance_.joinable()) maintenance_.join();
}

// ---------------------------------------------------------------------------------------
// Maintenance

void TrainingService::RunMaintenance() {
  // Writes entries that a crash, a Redis outage or a full window left unwritten.
  Dispatch();
  SweepActiveJobs();

  absl::StatusOr<std::vector<queue::Delivery>> stale =
      queue_->ReclaimStale(options_.replica_id, options_.reclaim_min_idle, 20);
  if (!stale.ok()) {
    Logger()->error("reclaiming stale queue entries failed error={}", stale.status().ToString());
    return;
  }
  for (const queue::Delivery& delivery : *stale) {
    absl::Status status = HandleStaleEntry(delivery);
    if (!status.ok()) {
      Logger()->error("handling stale entry failed entry={} job={} error={}", delivery.entry_id,
                      delivery.entry.job, status.ToString());
    }
  }
}

absl::Status TrainingService::WriteEntry(const StoredJob& stored) {
  queue::JobEntry entry;
  entry.job = stored.job.name();
  entry.attempt = stored.queue_generation;
  entry.owner = stored.job.owner();
  entry.gpu_count = stored.job.options().resources().gpu_count();
  entry.memory_mb = stored.job.options().resources().memory_mb();
  return queue_->Enqueue(entry).status();
}

void TrainingService::Dispatch() {
  absl::MutexLock lock(&dispatch_mutex_);
  while (!stop_.HasBeenNotified()) {
    absl::StatusOr<int64_t> waiting = queue_->CountWaiting(options_.dispatch_window);
    if (!waiting.ok()) {
      Logger()->error("counting waiting queue entries failed error={}",
                      waiting.status().ToString());
      return;
    }
    if (*waiting >= options_.dispatch_window) return;
    absl::StatusOr<std::optional<StoredJob>> dispatched = store_->DispatchNext(
        [this](const StoredJob& stored) { return WriteEntry(stored); });
    if (!dispatched.ok()) {
      Logger()->error("dispatching a queued job failed error={}",
                      dispatched.status().ToString());
      return;
    }
    if (!dispatched->has_value()) return;
    Logger()->info("job dispatched job={} owner={} generation={} waiting={}",
                   (*dispatched)->job.name(), (*dispatched)->job.owner(),
                   (*dispatched)->queue_generation, *waiting + 1);
  }
}

void TrainingService::RequestDispatch() {
  absl::MutexLock lock(&dispatch_request_mutex_);
  dispatch_requested_ = true;
  dispatch_requested_changed_.Signal();
}

void TrainingService::RunDispatcher() {
  Logger()->info("dispatcher started window={}", options_.dispatch_window);
  while (true) {
    {
      absl::MutexLock lock(&dispatch_request_mutex_);
      while (!dispatch_requested_ && !stopping_) {
        dispatch_requested_changed_.Wait(&dispatch_request_mutex_);
      }
      if (stopping_) break;
      dispatch_requested_ = false;
    }
    Dispatch();
  }
  Logger()->info("dispatcher stopped");
}

absl::Status TrainingService::HandleStaleEntry(const queue::Delivery& delivery) {
  absl::StatusOr<std::string> id = ParseJobName(delivery.entry.job, "job");
  if (!id.ok()) return queue_->Ack(delivery.entry_id);
  absl::StatusOr<StoredJob> current = store_->GetJob(*id);
  if (current.status().code() == absl::StatusCode::kNotFound) return queue_->Ack(delivery.entry_id);
  AILAB_RETURN_IF_ERROR(current.status());

  if (IsTerminal(current->job.state()) || delivery.entry.attempt != current->queue_generation) {
    return queue_->Ack(delivery.entry_id);
  }
  if (current->job.state() == v1::TrainingJob::QUEUED) {
    // The worker died before it started the attempt: put a fresh copy at the end.
    AILAB_RETURN_IF_ERROR(queue_->Enqueue(delivery.entry).status());
    return queue_->Ack(delivery.entry_id);
  }

  // RUNNING or CANCELLING, and the worker stopped renewing its lease.
  AILAB_RETURN_IF_ERROR(RecoverLostJob(*id, delivery.entry.attempt).status());
  return queue_->Ack(delivery.entry_id);
}

absl::StatusOr<StoredJob> TrainingService::RecoverLostJob(const std::string& id,
                                                          int32_t generation) {
  bool recovered = false;
  AILAB_ASSIGN_OR_RETURN(
      StoredJob stored,
      store_->UpdateJob(id, [&](v1::TrainingJob& job, JobChange& change) -> absl::Status {
        // Re-checked under the row lock: a worker call may have moved the job on.
        if (change.queue_generation != generation || IsTerminal(job.state()) ||
            job.state() == v1::TrainingJob::QUEUED) {
          change.changed = false;
          return absl::OkStatus();
        }
        recovered = true;
        if (job.state() == v1::TrainingJob::CANCELLING) {
          MarkEnded(job, v1::TrainingJob::CANCELLED);
          return absl::OkStatus();
        }
        absl::Status lost = Unavailable(
            "WORKER_LOST",
            absl::StrCat("worker ", job.worker_id(), " stopped renewing its lease during attempt ",
                         job.attempt_count()),
            {{"worker_id", job.worker_id()}, {"attempt", absl::StrCat(job.attempt_count())}});
        *job.mutable_error() = ToRpcStatus(lost);
        job.set_failure_count(job.failure_count() + 1);
        if (job.failure_count() >= job.max_attempts()) {
          MarkEnded(job, v1::TrainingJob::FAILED);
        } else {
          job.set_state(v1::TrainingJob::QUEUED);
          change.requeue = true;
        }
        return absl::OkStatus();
      }));
  if (!recovered) return stored;
  Logger()->warn("worker lost job={} worker={} state={} failures={}", stored.job.name(),
                 stored.job.worker_id(), StateName(stored.job.state()), stored.job.failure_count());
  notifier_.Notify(stored.job.name());
  if (stored.job.state() == v1::TrainingJob::QUEUED && !stored.enqueued) Dispatch();
  return stored;
}

void TrainingService::SweepActiveJobs() {
  // Finds running jobs that no worker holds a lease for, also when their queue entry
  // is gone (for example after Redis lost its data).
  for (const char* state : {"RUNNING", "CANCELLING"}) {
    JobFilter filter;
    filter.state = state;
    absl::StatusOr<std::pair<std::vector<v1::TrainingJob>, bool>> jobs =
        store_->ListJobs(filter, 0, 200);
    if (!jobs.ok()) {
      Logger()->error("listing active jobs failed error={}", jobs.status().ToString());
      return;
    }
    const int64_t cutoff_ms = absl::ToUnixMillis(absl::Now() - options_.reclaim_min_idle);
    for (const v1::TrainingJob& job : jobs->first) {
      if (TimeUtil::TimestampToMilliseconds(job.update_time()) > cutoff_ms) continue;
      absl::StatusOr<std::optional<std::string>> holder = queue_->LeaseHolder(job.name());
      if (!holder.ok()) {
        Logger()->error("reading lease failed job={} error={}", job.name(),
                        holder.status().ToString());
        return;
      }
      if (holder->has_value()) continue;
      absl::StatusOr<StoredJob> current = store_->GetJob(IdOf(job.name()));
      if (!current.ok()) continue;
      absl::Status status = RecoverLostJob(IdOf(job.name()), current->queue_generation).status();
      if (!status.ok()) {
        Logger()->error("recovering lost job failed job={} error={}", job.name(),
                        status.ToString());
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Jobs

absl::Status TrainingService::Create(const v1::CreateTrainingJobRequest& request,
                                     v1::TrainingJob* response) {
  // Checks the request before touching other services.
  if (!request.has_training_job()) {
    return MissingField("training_job", "the job to create");
  }
  const v1::TrainingJob& input = request.training_job();
  AILAB_RETURN_IF_ERROR(CheckResourceName(input.use_case(), "useCases", "training_job.use_case"));
  AILAB_RETURN_IF_ERROR(CheckResourceName(input.dataset(), "datasets", "training_job.dataset"));
  if (input.owner().empty()) {
    return MissingField("training_job.owner", "the user id of the person creating the job");
  }
  AILAB_RETURN_IF_ERROR(CheckText(input.owner(), "training_job.owner", kMaxLabelSource));
  if (input.label_source().empty()) {
    return MissingField("training_job.label_source",
                        "an annotator's user id, or \"consensus\" for the majority label");
  }
  AILAB_RETURN_IF_ERROR(
      CheckText(input.label_source(), "training_job.label_source", kMaxLabelSource));
  AILAB_RETURN_IF_ERROR(
      CheckText(input.display_name(), "training_job.display_name", kMaxDisplayName));
  if (!request.training_job_id().empty() && !IsValidId(request.training_job_id())) {
    return InvalidArgument(
        "INVALID_ID", "training_job_id",
        absl::StrCat("training_job_id \"", request.training_job_id(),
                     "\" is not valid; use 1 to 63 lower-case letters, digits and '-', starting "
                     "with a letter or a digit"),
        {{"training_job_id", request.training_job_id()}});
  }
  v1::TrainingOptions options = input.options();
  ApplyDefaults(options);
  AILAB_RETURN_IF_ERROR(ValidateOptions(options));

  const std::string id = request.training_job_id().empty() ? NewId() : request.training_job_id();
  const std::string name = absl::StrCat("trainingJobs/", id);
  const std::string annotator = input.label_source() == "consensus" ? "" : input.label_source();

  // The test and final datasets of an open challenge hold the labels its submissions are
  // scored against, so only the challenge's owner may train on them.
  if (challenges_ != nullptr) {
    AILAB_ASSIGN_OR_RETURN(std::vector<ReservedDatasets> reserved,
                           challenges_->ListReservedDatasets());
    absl::Status allowed = CheckDatasetNotReserved(reserved, input.owner(), input.dataset());
    if (!allowed.ok()) {
      Logger()->info("training job rejected owner={} dataset={} reason={}", input.owner(),
                     input.dataset(), GetErrorReason(allowed));
      return allowed;
    }
  }

  // Counting first rejects a dataset with too few labels without exporting them.
  AILAB_ASSIGN_OR_RETURN(LabelTotals totals,
                         labels_->CountLabels(input.use_case(), input.dataset(), annotator));
  if (totals.total < kMinLabelledInstances) {
    std::string counts = absl::StrJoin(
        totals.counts, ", ", [](std::string* out, const std::pair<std::string, int64_t>& count) {
          absl::StrAppend(out, count.first, ": ", count.second);
        });
    return FailedPrecondition(
        "TOO_FEW_LABELLED_INSTANCES",
        absl::StrCat("only ", totals.total, " instances of ", input.dataset(),
                     " are labelled by label source \"", input.label_source(), "\" (", counts,
                     "); training needs at least ", kMinLabelledInstances,
                     " labelled instances with prepared arrays"),
        {{"usable", absl::StrCat(totals.total)},
         {"counts", counts},
         {"minimum", absl::StrCat(kMinLabelledInstances)}});
  }

  // Joins the labels with the prepared instances and applies the data rules.
  ManifestInput manifest_input;
  manifest_input.training_job = name;
  manifest_input.use_case = input.use_case();
  manifest_input.dataset = input.dataset();
  manifest_input.label_source = input.label_source();
  manifest_input.options = options;
  AILAB_ASSIGN_OR_RETURN(manifest_input.labels,
                         labels_->ExportLabels(input.use_case(), input.dataset(), annotator));
  AILAB_ASSIGN_OR_RETURN(manifest_input.instances, instances_->ListInstances(input.dataset()));
  AILAB_ASSIGN_OR_RETURN(ManifestResult built, BuildManifest(manifest_input));

  v1::TrainingJob job;
  job.set_name(name);
  job.set_display_name(input.display_name());
  job.set_owner(input.owner());
  job.set_use_case(input.use_case());
  job.set_dataset(input.dataset());
  job.set_label_source(input.label_source());
  *job.mutable_options() = options;
  job.set_state(v1::TrainingJob::QUEUED);
  job.mutable_progress()->set_max_epochs(options.max_epochs());
  job.set_max_attempts(options_.max_attempts);
  *job.mutable_classes() = built.manifest.classes();
  for (const v1::LabelCount& count : built.label_counts) *job.add_label_counts() = count;
  *job.mutable_create_time() = CurrentTime();
  *job.mutable_update_time() = job.create_time();
  if (request.validate_only()) {
    *response = job;
    return absl::OkStatus();
  }

  // Snapshots the data so that every attempt trains on the same examples.
  *built.manifest.mutable_create_time() = job.create_time();
  std::string manifest_json;
  auto encoded = google::protobuf::util::MessageToJsonString(built.manifest, &manifest_json);
  if (!encoded.ok()) {
    return Internal("MANIFEST_NOT_ENCODED", absl::StrCat("could not encode the manifest of ", name,
                                                         ": ", encoded.ToString()));
  }
  AILAB_ASSIGN_OR_RETURN(std::string manifest_blob, blobs_.Put(manifest_json));
  job.set_manifest_blob(manifest_blob);

  // The row is the record of the job; the queue entry follows it.
  AILAB_RETURN_IF_ERROR(store_->InsertJob(job));
  Logger()->info("training job created job={} use_case={} dataset={} examples={} manifest={}", name,
                 job.use_case(), job.dataset(), built.manifest.examples_size(), manifest_blob);
  // Written now when the dispatch window has room; otherwise a later dispatch writes
  // it, after the jobs of owners with fewer active jobs.
  Dispatch();
  absl::StatusOr<StoredJob> stored = store_->GetJob(id);
  *response = stored.ok() ? stored->job : job;
  return absl::OkStatus();
}

grpc::Status TrainingService::CreateTrainingJob(grpc::ServerContext* context,
                                                const v1::CreateTrainingJobRequest* request,
                                                v1::TrainingJob* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Finish(Create(*request, response), "CreateTrainingJob");
}

grpc::Status TrainingService::GetTrainingJob(grpc::ServerContext* context,
                                             const v1::GetTrainingJobRequest* request,
                                             v1::TrainingJob* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::Status status = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(std::string id, ParseJobName(request->name(), "name"));
    AILAB_ASSIGN_OR_RETURN(StoredJob stored, store_->GetJob(id));
    *response = std::move(stored.job);
    return absl::OkStatus();
  }();
  return Finish(status, "GetTrainingJob");
}

grpc::Status TrainingService::ListTrainingJobs(grpc::ServerContext* context,
                                               const v1::ListTrainingJobsRequest* request,
                                               v1::ListTrainingJobsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::Status status = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(auto page, ResolvePage(request->page_token(), request->page_size(), 50));
    AILAB_ASSIGN_OR_RETURN(JobFilter filter, ParseJobFilter(request->filter()));
    AILAB_ASSIGN_OR_RETURN(auto jobs, store_->ListJobs(filter, page.first, page.second));
    for (v1::TrainingJob& job : jobs.first) *response->add_training_jobs() = std::move(job);
    if (jobs.second) {
      response->set_next_page_token(pg::EncodePageToken(page.first + page.second));
    }
    return absl::OkStatus();
  }();
  return Finish(status, "ListTrainingJobs");
}

namespace {

// Rejects a change to a job or model that belongs to `owner` when the call acts for a
// signed-in person who is neither that owner nor an administrator. Calls from the
// platform's services and operators' tools act for no one and pass.
absl::Status CheckOwner(const grpc::ServerContext* context, const std::string& owner,
                        absl::string_view what) {
  if (context == nullptr) return absl::OkStatus();
  AILAB_ASSIGN_OR_RETURN(rpc::CallerInfo caller, rpc::CallerOf(*context));
  if (!caller.identity.has_value() || caller.identity->user == owner ||
      caller.identity->HasRole(rpc::kRoleAdministrator)) {
    return absl::OkStatus();
  }
  return PermissionDenied("NOT_OWNER",
                          absl::StrCat(what, " belongs to user \"", owner,
                                       "\"; only its owner or an administrator can change it"),
                          {{"owner", owner}});
}

}  // namespace

absl::Status TrainingService::Cancel(const grpc::ServerContext* context,
                                     const v1::CancelTrainingJobRequest& request,
                                     v1::TrainingJob* response) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseJobName(request.name(), "name"));
  AILAB_ASSIGN_OR_RETURN(
      StoredJob stored,
      store_->UpdateJob(id, [&](v1::TrainingJob& job, JobChange& change) -> absl::Status {
        AILAB_RETURN_IF_ERROR(CheckOwner(context, job.owner(), request.name()));
        switch (job.state()) {
          case v1::TrainingJob::QUEUED:
            // Its queue entry stays; the worker that reads it gets FAILED_PRECONDITION
            // from StartTrainingAttempt and drops it.
            MarkEnded(job, v1::TrainingJob::CANCELLED);
            return absl::OkStatus();
          case v1::TrainingJob::RUNNING:
            job.set_state(v1::TrainingJob::CANCELLING);
            return absl::OkStatus();
          case v1::TrainingJob::CANCELLING:
            change.changed = false;
            return absl::OkStatus();
          default:
            return JobFinished(job, "cancelled");
        }
      }));
  Logger()->info("cancel requested job={} state={}", stored.job.name(),
                 StateName(stored.job.state()));
  notifier_.Notify(stored.job.name());
  *response = std::move(stored.job);
  return absl::OkStatus();
}

grpc::Status TrainingService::CancelTrainingJob(grpc::ServerContext* context,
                                                const v1::CancelTrainingJobRequest* request,
                                                v1::TrainingJob* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Finish(Cancel(context, *request, response), "CancelTrainingJob");
}

absl::Status TrainingService::Watch(grpc::ServerContext* context,
                                    const v1::WatchTrainingJobRequest& request,
                                    grpc::ServerWriter<v1::TrainingJob>* writer) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseJobName(request.name(), "name"));
  // Subscribing before the first read means no change after that read is missed.
  std::unique_ptr<JobNotifier::Subscription> subscription = notifier_.Subscribe(request.name());
  AILAB_ASSIGN_OR_RETURN(StoredJob stored, store_->GetJob(id));
  int64_t sent_version = -1;
  while (true) {
    if (stored.version != sent_version) {
      if (!writer->Write(stored.job)) return absl::OkStatus();  // The client went away.
      sent_version = stored.version;
    }
    if (IsTerminal(stored.job.state())) return absl::OkStatus();
    if (context->IsCancelled()) return absl::OkStatus();
    if (notifier_.shut_down()) {
      return Unavailable(
          "SHUTTING_DOWN",
          absl::StrCat("the training service is stopping; watch ", request.name(), " again"),
          {{"name", request.name()}});
    }
    subscription->WaitForChange(options_.watch_poll);
    AILAB_ASSIGN_OR_RETURN(stored, store_->GetJob(id));
  }
}

grpc::Status TrainingService::WatchTrainingJob(grpc::ServerContext* context,
                                               const v1::WatchTrainingJobRequest* request,
                                               grpc::ServerWriter<v1::TrainingJob>* writer) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Finish(Watch(context, *request, writer), "WatchTrainingJob");
}

// ---------------------------------------------------------------------------------------
// Worker protocol

absl::StatusOr<v1::TrainingManifest> TrainingService::ReadManifest(const std::string& blob_id) {
  AILAB_ASSIGN_OR_RETURN(std::string json, blobs_.Get(blob_id));
  v1::TrainingManifest manifest;
  google::protobuf::util::JsonParseOptions parse_options;
  parse_options.ignore_unknown_fields = true;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &manifest, parse_options);
  if (!parsed.ok()) {
    return Internal(
        "MANIFEST_NOT_READABLE",
        absl::StrCat("manifest blob ", blob_id, " is not a TrainingManifest: ", parsed.ToString()),
        {{"blob", blob_id}});
  }
  return manifest;
}

absl::Status TrainingService::CheckBlob(const std::string& blob_id, absl::string_view field) {
  if (blob_id.empty()) return MissingField(field, "a blob id (sha256:<hex>) from the blob store");
  absl::StatusOr<std::string> path = blobs_.PathOf(blob_id);
  if (path.status().code() == absl::StatusCode::kInvalidArgument) {
    return InvalidArgument(
        "INVALID_BLOB_ID", field,
        absl::StrCat(field, " \"", blob_id, "\" is not a blob id; expected sha256:<64 hex digits>"),
        {{"field", field}, {"value", blob_id}});
  }
  if (!blobs_.Contains(blob_id)) {
    return NotFound("BLOB_NOT_FOUND",
                    absl::StrCat(field, " ", blob_id,
                                 " is not in the blob store; check that the worker and the "
                                 "service share --blob_root"),
                    {{"field", field}, {"blob", blob_id}});
  }
  return absl::OkStatus();
}

absl::Status TrainingService::StartAttempt(const v1::StartTrainingAttemptRequest& request,
                                           v1::StartTrainingAttemptResponse* response) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseJobName(request.name(), "name"));
  if (request.worker_id().empty()) return MissingField("worker_id", "the calling worker's id");
  if (request.queued_attempt() < 1) {
    return InvalidArgument("INVALID_ATTEMPT", "queued_attempt",
                           absl::StrCat("queued_attempt is ", request.queued_attempt(),
                                        "; pass the queue entry's attempt field (1 or more)"),
                           {{"queued_attempt", absl::StrCat(request.queued_attempt())}});
  }

  // A worker must hold the job's lease before it starts, so that two workers never
  // train the same job at once.
  AILAB_ASSIGN_OR_RETURN(std::optional<std::string> holder, queue_->LeaseHolder(request.name()));
  if (holder.has_value() && *holder != request.worker_id()) {
    return MakeError(absl::StatusCode::kAborted, "LEASE_HELD",
                     absl::StrCat("training job ", request.name(), " is leased by worker ", *holder,
                                  "; leave the queue entry pending"),
                     {{"name", request.name()}, {"holder", *holder}});
  }

  // Set inside the transaction when the job changes but the call must still fail.
  absl::Status rejection;
  AILAB_ASSIGN_OR_RETURN(
      StoredJob stored,
      store_->UpdateJob(id, [&](v1::TrainingJob& job, JobChange& change) -> absl::Status {
        rejection = absl::OkStatus();
        if (IsTerminal(job.state())) return JobFinished(job, "started");
        if (request.queued_attempt() != change.queue_generation) {
          return FailedPrecondition(
              "STALE_QUEUE_ENTRY",
              absl::StrCat("the queue entry of ", job.name(), " is from queuing ",
                           request.queued_attempt(), " but the job has been queued ",
                           change.queue_generation, " times; acknowledge and drop the entry"),
              {{"name", job.name()},
               {"queued_attempt", absl::StrCat(request.queued_attempt())},
               {"queue_generation", absl::StrCat(change.queue_generation)}});
        }
        if (job.state() == v1::TrainingJob::CANCELLING) {
          // The worker of the last attempt died while stopping: the cancellation is done.
          MarkEnded(job, v1::TrainingJob::CANCELLED);
          rejection = JobFinished(job, "started");
          return absl::OkStatus();
        }
        if (job.state() == v1::TrainingJob::RUNNING) {
          // The entry of the running attempt came back, so its worker lost the lease.
          job.set_failure_count(job.failure_count() + 1);
          absl::Status lost =
              Unavailable("WORKER_LOST",
                          absl::StrCat("worker ", job.worker_id(),
                                       " lost its lease during attempt ", job.attempt_count()),
                          {{"worker_id", job.worker_id()}});
          *job.mutable_error() = ToRpcStatus(lost);
          if (job.failure_count() >= job.max_attempts()) {
            MarkEnded(job, v1::TrainingJob::FAILED);
            rejection = JobFinished(job, "started");
            return absl::OkStatus();
          }
        }
        job.set_state(v1::TrainingJob::RUNNING);
        job.set_attempt_count(job.attempt_count() + 1);
        job.set_worker_id(request.worker_id());
        if (!job.has_start_time()) *job.mutable_start_time() = CurrentTime();
        return absl::OkStatus();
      }));
  notifier_.Notify(stored.job.name());
  // The worker has read its entry, so the window has room for the next job. The
  // dispatcher thread writes it, keeping this call short.
  RequestDispatch();
  AILAB_RETURN_IF_ERROR(rejection);

  AILAB_ASSIGN_OR_RETURN(*response->mutable_manifest(), ReadManifest(stored.job.manifest_blob()));
  response->set_attempt(stored.job.attempt_count());
  response->set_resume_checkpoint_blob(stored.job.checkpoint_blob());
  response->set_resume_epoch(stored.job.checkpoint_epoch());
  *response->mutable_training_job() = std::move(stored.job);
  Logger()->info("attempt started job={} attempt={} worker={} resume_epoch={}", request.name(),
                 response->attempt(), request.worker_id(), response->resume_epoch());
  return absl::OkStatus();
}

grpc::Status TrainingService::StartTrainingAttempt(grpc::ServerContext* context,
                                                   const v1::StartTrainingAttemptRequest* request,
                                                   v1::StartTrainingAttemptResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Finish(StartAttempt(*request, response), "StartTrainingAttempt");
}

absl::Status TrainingService::ReportProgress(const v1::ReportTrainingProgressRequest& request,
                                             v1::ReportTrainingProgressResponse* response) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseJobName(request.name(), "name"));
  AILAB_RETURN_IF_ERROR(CheckAttempt(request.attempt()));
  if (request.has_epoch() && request.epoch().epoch() < 1) {
    return InvalidArgument(
        "INVALID_EPOCH", "epoch.epoch",
        absl::StrCat("epoch.epoch is ", request.epoch().epoch(), "; epochs are numbered from 1"),
        {{"epoch", absl::StrCat(request.epoch().epoch())}});
  }
  if (!request.checkpoint_blob().empty()) {
    AILAB_RETURN_IF_ERROR(CheckBlob(request.checkpoint_blob(), "checkpoint_blob"));
    if (request.checkpoint_epoch() < 1) {
      return InvalidArgument("INVALID_EPOCH", "checkpoint_epoch",
                             absl::StrCat("checkpoint_epoch is ", request.checkpoint_epoch(),
                                          "; give the epoch after which the checkpoint was "
                                          "written (1 or more)"),
                             {{"checkpoint_epoch", absl::StrCat(request.checkpoint_epoch())}});
    }
  }

  AILAB_ASSIGN_OR_RETURN(
      StoredJob stored,
      store_->UpdateJob(id, [&](v1::TrainingJob& job, JobChange& change) -> absl::Status {
        bool active =
            job.state() == v1::TrainingJob::RUNNING || job.state() == v1::TrainingJob::CANCELLING;
        if (!active || job.attempt_count() != request.attempt()) {
          return StaleAttempt(job, request.attempt());
        }
        change.changed = false;
        if (request.has_epoch()) {
          RecordEpoch(job, request.epoch());
          change.changed = true;
        }
        if (!request.checkpoint_blob().empty()) {
          job.set_checkpoint_blob(request.checkpoint_blob());
          job.set_checkpoint_epoch(request.checkpoint_epoch());
          change.changed = true;
        }
        return absl::OkStatus();
      }));
  if (request.has_epoch() || !request.checkpoint_blob().empty()) {
    notifier_.Notify(stored.job.name());
  }
  response->set_cancel_requested(stored.job.state() == v1::TrainingJob::CANCELLING);
  return absl::OkStatus();
}

grpc::Status TrainingService::ReportTrainingProgress(
    grpc::ServerContext* context, const v1::ReportTrainingProgressRequest* request,
    v1::ReportTrainingProgressResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Finish(ReportProgress(*request, response), "ReportTrainingProgress");
}

absl::Status TrainingService::Complete(const v1::CompleteTrainingJobRequest& request,
                                       v1::Model* response) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseJobName(request.name(), "name"));
  AILAB_RETURN_IF_ERROR(CheckAttempt(request.attempt()));
  AILAB_RETURN_IF_ERROR(CheckBlob(request.torchscript_blob(), "torchscript_blob"));
  AILAB_RETURN_IF_ERROR(CheckBlob(request.model_card_blob(), "model_card_blob"));
  if (!request.has_test_metrics()) {
    return MissingField("test_metrics", "the metrics of the model on the test split");
  }

  std::string existing_model;
  absl::Status rejection;
  absl::StatusOr<StoredJob> stored =
      store_->UpdateJob(id, [&](v1::TrainingJob& job, JobChange& change) -> absl::Status {
        rejection = absl::OkStatus();
        if (!job.model().empty()) {
          // A repeated completion: the model is already registered.
          existing_model = job.model();
          change.changed = false;
          return absl::OkStatus();
        }
        if (job.state() == v1::TrainingJob::CANCELLING) {
          MarkEnded(job, v1::TrainingJob::CANCELLED);
          rejection = FailedPrecondition(
              "JOB_CANCELLED",
              absl::StrCat("training job ", job.name(),
                           " was cancelled before it completed; no model is registered"),
              {{"name", job.name()}});
          return absl::OkStatus();
        }
        if (job.state() != v1::TrainingJob::RUNNING || job.attempt_count() != request.attempt()) {
          return StaleAttempt(job, request.attempt());
        }

        // Checks the predictions against the job's classes.
        const int num_classes = job.classes_size();
        for (int i = 0; i < request.test_predictions_size(); ++i) {
          const v1::TestPrediction& prediction = request.test_predictions(i);
          std::string field = absl::StrCat("test_predictions[", i, "]");
          if (prediction.instance().empty()) {
            return MissingField(absl::StrCat(field, ".instance"), "the instance name");
          }
          if (prediction.label() < 0 || prediction.label() >= num_classes ||
              prediction.predicted() < 0 || prediction.predicted() >= num_classes ||
              prediction.probabilities_size() != num_classes) {
            return InvalidArgument(
                "INVALID_PREDICTION", field,
                absl::StrCat(field, " for ", prediction.instance(), " has label ",
                             prediction.label(), ", predicted ", prediction.predicted(), " and ",
                             prediction.probabilities_size(), " probabilities; the job has ",
                             num_classes, " classes"),
                {{"instance", prediction.instance()}});
          }
        }

        v1::Model model;
        model.set_name(absl::StrCat("models/", NewId()));
        model.set_display_name(job.display_name().empty() ? job.name() : job.display_name());
        model.set_use_case(job.use_case());
        model.set_training_job(job.name());
        *model.mutable_classes() = job.classes();
        model.set_image_size(job.options().image_size());
        model.set_architecture(job.options().architecture());
        model.set_torchscript_blob(request.torchscript_blob());
        model.set_model_card_blob(request.model_card_blob());
        *model.mutable_test_metrics() = request.test_metrics();
        *model.mutable_create_time() = CurrentTime();
        model.set_owner(job.owner());
        model.set_dataset(job.dataset());
        model.set_best_epoch(request.best_epoch());
        change.model = model;
        change.predictions.assign(request.test_predictions().begin(),
                                  request.test_predictions().end());

        job.set_model(model.name());
        job.clear_error();
        MarkEnded(job, v1::TrainingJob::SUCCEEDED);
        return absl::OkStatus();
      });
  if (stored.status().code() == absl::StatusCode::kAlreadyExists) {
    // Another completion registered the model first; return that one.
    AILAB_ASSIGN_OR_RETURN(StoredJob current, store_->GetJob(id));
    existing_model = current.job.model();
  } else {
    AILAB_RETURN_IF_ERROR(stored.status());
    notifier_.Notify(stored->job.name());
    AILAB_RETURN_IF_ERROR(rejection);
    if (existing_model.empty()) existing_model = stored->job.model();
  }
  AILAB_ASSIGN_OR_RETURN(*response, store_->GetModel(IdOf(existing_model)));
  Logger()->info("training job completed job={} model={} kappa={}", request.name(),
                 response->name(), response->test_metrics().kappa());
  return absl::OkStatus();
}

grpc::Status TrainingService::CompleteTrainingJob(grpc::ServerContext* context,
                                                  const v1::CompleteTrainingJobRequest* request,
                                                  v1::Model* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Finish(Complete(*request, response), "CompleteTrainingJob");
}

absl::Status TrainingService::Fail(const v1::FailTrainingAttemptRequest& request,
                                   v1::TrainingJob* response) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseJobName(request.name(), "name"));
  AILAB_RETURN_IF_ERROR(CheckAttempt(request.attempt()));
  if (!request.has_error() || request.error().code() == 0 || request.error().message().empty()) {
    return MissingField("error", "a google.rpc.Status with a non-OK code and a message");
  }

  AILAB_ASSIGN_OR_RETURN(
      StoredJob stored,
      store_->UpdateJob(id, [&](v1::TrainingJob& job, JobChange& change) -> absl::Status {
        if (IsTerminal(job.state())) return JobFinished(job, "failed");
        if (job.attempt_count() != request.attempt()) return StaleAttempt(job, request.attempt());
        if (job.state() == v1::TrainingJob::QUEUED) {
          // This attempt's failure was already recorded and the job queued again.
          change.changed = false;
          return absl::OkStatus();
        }
        if (job.state() == v1::TrainingJob::CANCELLING) {
          MarkEnded(job, v1::TrainingJob::CANCELLED);
          return absl::OkStatus();
        }
        *job.mutable_error() = request.error();
        if (request.preempted()) {
          job.set_state(v1::TrainingJob::QUEUED);
          change.requeue = true;
          return absl::OkStatus();
        }
        job.set_failure_count(job.failure_count() + 1);
        if (request.retryable() && job.failure_count() < job.max_attempts()) {
          job.set_state(v1::TrainingJob::QUEUED);
          change.requeue = true;
        } else {
          MarkEnded(job, v1::TrainingJob::FAILED);
        }
        return absl::OkStatus();
      }));
  Logger()->info(
      "attempt failed job={} attempt={} retryable={} preempted={} state={} failures={} error={}",
      request.name(), request.attempt(), request.retryable(), request.preempted(),
      StateName(stored.job.state()), stored.job.failure_count(), request.error().message());
  notifier_.Notify(stored.job.name());
  if (stored.job.state() == v1::TrainingJob::QUEUED && !stored.enqueued) Dispatch();
  *response = std::move(stored.job);
  return absl::OkStatus();
}

grpc::Status TrainingService::FailTrainingAttempt(grpc::ServerContext* context,
                                                  const v1::FailTrainingAttemptRequest* request,
                                                  v1::TrainingJob* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Finish(Fail(*request, response), "FailTrainingAttempt");
}

// ---------------------------------------------------------------------------------------
// Models

grpc::Status TrainingService::GetModel(grpc::ServerContext* context, const v1::GetModelRequest* request,
                                       v1::Model* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::Status status = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(std::string id, ParseModelName(request->name(), "name"));
    AILAB_ASSIGN_OR_RETURN(*response, store_->GetModel(id));
    return absl::OkStatus();
  }();
  return Finish(status, "GetModel");
}

grpc::Status TrainingService::ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                                         v1::ListModelsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::Status status = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(auto page, ResolvePage(request->page_token(), request->page_size(), 50));
    if (!request->use_case().empty()) {
      AILAB_RETURN_IF_ERROR(CheckResourceName(request->use_case(), "useCases", "use_case"));
    }
    ModelFilter filter;
    filter.use_case = request->use_case();
    filter.owner = request->owner();
    filter.show_hidden = request->show_hidden();
    AILAB_ASSIGN_OR_RETURN(auto models, store_->ListModels(filter, page.first, page.second));
    for (v1::Model& model : models.first) *response->add_models() = std::move(model);
    if (models.second) {
      response->set_next_page_token(pg::EncodePageToken(page.first + page.second));
    }
    return absl::OkStatus();
  }();
  return Finish(status, "ListModels");
}

absl::Status TrainingService::ChangeModel(const grpc::ServerContext* context,
                                          const v1::UpdateModelRequest& request,
                                          v1::Model* response) {
  if (!request.has_model()) return MissingField("model", "the model with its name and new values");
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseModelName(request.model().name(), "model.name"));
  if (request.update_mask().paths_size() == 0) {
    return MissingField("update_mask", "the fields to change (display_name, hidden)");
  }
  for (const std::string& path : request.update_mask().paths()) {
    if (path != "display_name" && path != "hidden") {
      return InvalidArgument("INVALID_UPDATE_MASK", "update_mask",
                             absl::StrCat("update_mask path \"", path,
                                          "\" cannot be changed; only display_name and hidden can"),
                             {{"path", path}});
    }
    if (path == "display_name") {
      AILAB_RETURN_IF_ERROR(
          CheckText(request.model().display_name(), "model.display_name", kMaxDisplayName));
      if (request.model().display_name().empty()) {
        return MissingField("model.display_name", "a non-empty name to show");
      }
    }
  }
  AILAB_ASSIGN_OR_RETURN(*response, store_->UpdateModel(id, [&](v1::Model& model) -> absl::Status {
    AILAB_RETURN_IF_ERROR(CheckOwner(context, model.owner(), model.name()));
    for (const std::string& path : request.update_mask().paths()) {
      if (path == "display_name") model.set_display_name(request.model().display_name());
      if (path == "hidden") model.set_hidden(request.model().hidden());
    }
    return absl::OkStatus();
  }));
  Logger()->info("model updated model={} hidden={}", response->name(), response->hidden());
  return absl::OkStatus();
}

grpc::Status TrainingService::UpdateModel(grpc::ServerContext* context,
                                          const v1::UpdateModelRequest* request,
                                          v1::Model* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Finish(ChangeModel(context, *request, response), "UpdateModel");
}

grpc::Status TrainingService::DeleteModel(grpc::ServerContext* context,
                                          const v1::DeleteModelRequest* request,
                                          google::protobuf::Empty*) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::Status status = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(std::string id, ParseModelName(request->name(), "name"));
    AILAB_ASSIGN_OR_RETURN(v1::Model model, store_->GetModel(id));
    AILAB_RETURN_IF_ERROR(CheckOwner(context, model.owner(), model.name()));
    AILAB_RETURN_IF_ERROR(store_->DeleteModel(id));
    Logger()->info("model deleted model={}", request->name());
    return absl::OkStatus();
  }();
  return Finish(status, "DeleteModel");
}

grpc::Status TrainingService::ListTestPredictions(grpc::ServerContext* context,
                                                  const v1::ListTestPredictionsRequest* request,
                                                  v1::ListTestPredictionsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::Status status = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(std::string id, ParseModelName(request->parent(), "parent"));
    AILAB_ASSIGN_OR_RETURN(auto page,
                           ResolvePage(request->page_token(), request->page_size(), 100));
    AILAB_ASSIGN_OR_RETURN(auto predictions,
                           store_->ListTestPredictions(id, page.first, page.second));
    for (v1::TestPrediction& prediction : predictions.first) {
      *response->add_test_predictions() = std::move(prediction);
    }
    if (predictions.second) {
      response->set_next_page_token(pg::EncodePageToken(page.first + page.second));
    }
    return absl::OkStatus();
  }();
  return Finish(status, "ListTestPredictions");
}

}  // namespace ailab::training
