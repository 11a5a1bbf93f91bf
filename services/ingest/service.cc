#include "service.h"

#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/dicom/pixels.h"
#include "ailab/imaging/npy.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/status/text.h"
#include "names.h"
#include "splits.h"

namespace ailab::ingest {
namespace {

using rpc::ToGrpcStatus;

// Page size and offset of a List request.
struct PageRequest {
  int limit = 50;
  int64_t offset = 0;
};

absl::StatusOr<PageRequest> ResolvePage(int page_size, const std::string& page_token) {
  PageRequest page;
  AILAB_ASSIGN_OR_RETURN(page.limit, pg::ResolvePageSize(page_size));
  if (!page_token.empty()) {
    AILAB_ASSIGN_OR_RETURN(page.offset, pg::DecodePageToken(page_token));
  }
  return page;
}

std::string NextPageToken(const PageRequest& page, size_t returned, bool has_more) {
  return has_more ? pg::EncodePageToken(page.offset + static_cast<int64_t>(returned)) : "";
}

// Logs an error the service returns, with its reason, at the level it deserves.
grpc::Status Finish(const std::string& method, const absl::Status& status) {
  if (!status.ok()) {
    auto logger = log::Logger("ingest");
    bool server_side = status.code() == absl::StatusCode::kInternal ||
                       status.code() == absl::StatusCode::kUnavailable ||
                       status.code() == absl::StatusCode::kUnknown;
    if (server_side) {
      logger->error("{} failed code={} reason={} error={}", method,
                    absl::StatusCodeToString(status.code()), GetErrorReason(status),
                    std::string(status.message()));
    } else {
      logger->info("{} rejected code={} reason={}", method,
                   absl::StatusCodeToString(status.code()), GetErrorReason(status));
    }
  }
  return ToGrpcStatus(status);
}

absl::Status ValidateDataset(const v1::Dataset& dataset) {
  if (dataset.display_name().empty() || CharacterCount(dataset.display_name()) > 200) {
    return InvalidArgument("INVALID_DISPLAY_NAME", "dataset.display_name",
                           "dataset.display_name is required and may have at most 200 characters");
  }
  AILAB_RETURN_IF_ERROR(CheckDisplayText("dataset.display_name", dataset.display_name()));
  if (const size_t length = CharacterCount(dataset.description()); length > 4000) {
    return InvalidArgument(
        "INVALID_DESCRIPTION", "dataset.description",
        absl::StrCat("dataset.description has ", length, " characters; at most 4000 are allowed"));
  }
  const std::string& use_case = dataset.use_case();
  if (!use_case.empty() &&
      (!absl::StartsWith(use_case, "useCases/") || use_case.size() == 9 ||
       use_case.find('/', 9) != std::string::npos)) {
    return InvalidArgument("INVALID_USE_CASE", "dataset.use_case",
                           absl::StrCat("dataset.use_case \"", use_case,
                                        "\" is not a use case name; use \"useCases/{id}\""),
                           {{"use_case", use_case}});
  }
  return absl::OkStatus();
}

// Checks the settings of a new preparation run and fills in defaults.
absl::StatusOr<v1::PreparationRun> ValidateRunSettings(const v1::PreparationRun& requested) {
  v1::PreparationRun run;
  bool png = false, array = false;
  for (int kind : requested.kinds()) {
    if (kind == v1::PNG) {
      png = true;
    } else if (kind == v1::ARRAY) {
      array = true;
    } else {
      return InvalidArgument("INVALID_PREPARATION_KIND", "preparation_run.kinds",
                             absl::StrCat("preparation kind ", kind,
                                          " is invalid; use PNG and/or ARRAY"));
    }
  }
  if (!png && !array) {
    return InvalidArgument("MISSING_PREPARATION_KIND", "preparation_run.kinds",
                           "preparation_run.kinds is empty; ask for PNG and/or ARRAY");
  }
  if (png) run.add_kinds(v1::PNG);
  if (array) run.add_kinds(v1::ARRAY);

  int size = requested.array_size() == 0 ? 128 : requested.array_size();
  if (size < 8 || size > 4096) {
    return InvalidArgument("INVALID_ARRAY_SIZE", "preparation_run.array_size",
                           absl::StrCat("preparation_run.array_size ", requested.array_size(),
                                        " is invalid; use 8 to 4096 pixels (0 means 128)"));
  }
  run.set_array_size(size);

  AILAB_RETURN_IF_ERROR(dicom::ParseWindowPreset(requested.window_preset()).status());
  run.set_window_preset(requested.window_preset());

  std::string dtype = requested.array_dtype().empty() ? std::string(imaging::kFloat32)
                                                      : requested.array_dtype();
  if (dtype != imaging::kFloat32 && dtype != imaging::kUint16) {
    return InvalidArgument("INVALID_ARRAY_DTYPE", "preparation_run.array_dtype",
                           absl::StrCat("preparation_run.array_dtype \"", dtype,
                                        "\" is invalid; use \"<f4\" (float32) or \"<u2\" (uint16)"),
                           {{"array_dtype", dtype}});
  }
  run.set_array_dtype(dtype);
  run.set_only_missing(requested.only_missing());
  return run;
}

v1::UploadResult RejectedChunk(const std::string& file_name, absl::string_view reason,
                               absl::string_view message) {
  v1::UploadResult result;
  result.set_file_name(file_name);
  result.set_outcome(v1::UploadResult::REJECTED);
  result.set_reason(std::string(reason));
  result.set_message(std::string(message));
  return result;
}

}  // namespace

// How long a list of open challenges serves reads before ingest lists them again, so
// that the final dataset of a new challenge is hidden within this time.
constexpr absl::Duration kChallengeCacheTtl = absl::Seconds(10);

std::vector<OpenChallenge> IngestServiceImpl::CachedOpenChallenges() {
  {
    std::lock_guard<std::mutex> lock(challenges_mutex_);
    if (challenges_refreshing_ || absl::Now() - challenges_listed_ < kChallengeCacheTtl) {
      return cached_challenges_;
    }
    challenges_refreshing_ = true;
  }
  // Listed without the lock, so that other reads go on with the last list meanwhile.
  absl::StatusOr<std::vector<OpenChallenge>> listed = challenges_->ListOpenChallenges();
  std::lock_guard<std::mutex> lock(challenges_mutex_);
  challenges_refreshing_ = false;
  challenges_listed_ = absl::Now();
  if (listed.ok()) {
    cached_challenges_ = std::move(listed).value();
  } else {
    // NOTE: before the first successful list nothing is hidden, so a final dataset is
    // readable while ingest has never reached the evaluation service.
    log::Logger("ingest")->warn(
        "listing open challenges failed, keeping the last list "
        "challenges={} error={}",
        cached_challenges_.size(), std::string(listed.status().message()));
  }
  return cached_challenges_;
}

absl::flat_hash_set<std::string> IngestServiceImpl::HiddenDatasets(
    const grpc::ServerContext& context) {
  absl::flat_hash_set<std::string> hidden;
  if (challenges_ == nullptr) return hidden;
  absl::StatusOr<rpc::CallerInfo> caller = rpc::CallerOf(context);
  // CheckCaller has accepted the call already, and platform services see everything.
  if (!caller.ok() || !caller->identity.has_value()) return hidden;
  const rpc::Identity& identity = *caller->identity;
  // HasRole is true for administrators too.
  if (identity.HasRole(rpc::kRoleDataManager)) return hidden;
  for (const OpenChallenge& challenge : CachedOpenChallenges()) {
    if (challenge.owner != identity.user) hidden.insert(challenge.final_dataset);
  }
  return hidden;
}

absl::Status IngestServiceImpl::CheckVisible(const absl::flat_hash_set<std::string>& hidden,
                                             const std::string& dataset_id) {
  const std::string name = DatasetName(dataset_id);
  if (!hidden.contains(name)) return absl::OkStatus();
  // The same error as for a dataset that does not exist, which reveals nothing.
  return NotFound("DATASET_NOT_FOUND",
                  absl::StrCat("dataset \"", name, "\" not found; list datasets with ListDatasets"),
                  {{"name", name}});
}

grpc::Status IngestServiceImpl::CreateDataset(grpc::ServerContext* context,
                                              const v1::CreateDatasetRequest* request,
                                              v1::Dataset* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_RETURN_IF_ERROR(ValidateDataset(request->dataset()));
    std::string id = request->dataset_id();
    if (id.empty()) {
      id = absl::StrCat("ds-", RandomId());
    } else {
      AILAB_RETURN_IF_ERROR(ValidateDatasetId(id));
    }
    AILAB_ASSIGN_OR_RETURN(*response, store_.CreateDataset(id, request->dataset()));
    log::Logger("ingest")->info("dataset created name={}", response->name());
    return absl::OkStatus();
  };
  return Finish("CreateDataset", run());
}

grpc::Status IngestServiceImpl::GetDataset(grpc::ServerContext* context,
                                           const v1::GetDatasetRequest* request,
                                           v1::Dataset* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(std::string id, ParseDatasetName(request->name(), "name"));
    AILAB_RETURN_IF_ERROR(CheckVisible(HiddenDatasets(*context), id));
    AILAB_ASSIGN_OR_RETURN(*response, store_.GetDataset(id));
    return absl::OkStatus();
  };
  return Finish("GetDataset", run());
}

grpc::Status IngestServiceImpl::ListDatasets(grpc::ServerContext* context,
                                             const v1::ListDatasetsRequest* request,
                                             v1::ListDatasetsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(PageRequest page,
                           ResolvePage(request->page_size(), request->page_token()));
    AILAB_ASSIGN_OR_RETURN(Page<v1::Dataset> result, store_.ListDatasets(page.offset, page.limit));
    // A page may come back shorter than requested, but the token still moves on by a full
    // page.
    const absl::flat_hash_set<std::string> hidden = HiddenDatasets(*context);
    for (v1::Dataset& dataset : result.items) {
      if (hidden.contains(dataset.name())) continue;
      *response->add_datasets() = std::move(dataset);
    }
    response->set_next_page_token(NextPageToken(page, result.items.size(), result.has_more));
    return absl::OkStatus();
  };
  return Finish("ListDatasets", run());
}

grpc::Status IngestServiceImpl::DeleteDataset(grpc::ServerContext* context,
                                              const v1::DeleteDatasetRequest* request,
                                              v1::DeleteDatasetResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(std::string id, ParseDatasetName(request->name(), "name"));
    if (challenges_ != nullptr) {
      // A challenge that is not closed scores on its datasets until it closes.
      const std::string name = DatasetName(id);
      AILAB_ASSIGN_OR_RETURN(std::vector<OpenChallenge> open, challenges_->ListOpenChallenges());
      std::vector<std::string> scoring;
      for (const OpenChallenge& challenge : open) {
        if (challenge.test_dataset == name || challenge.final_dataset == name) {
          scoring.push_back(challenge.name);
        }
      }
      if (!scoring.empty()) {
        return FailedPrecondition(
            "DATASET_IN_CHALLENGE",
            absl::StrCat("dataset \"", name, "\" is scored by ", absl::StrJoin(scoring, ", "),
                         ", which is not closed; close the challenge first, then delete the "
                         "dataset"),
            {{"dataset", name}, {"challenge", scoring.front()}});
      }
    }
    AILAB_ASSIGN_OR_RETURN(int64_t deleted, store_.DeleteDataset(id));
    response->set_deleted_instances(deleted);
    log::Logger("ingest")->info("dataset deleted name={} instances={}", request->name(), deleted);
    return absl::OkStatus();
  };
  return Finish("DeleteDataset", run());
}

grpc::Status IngestServiceImpl::UploadInstances(
    grpc::ServerContext* context, grpc::ServerReader<v1::UploadInstancesRequest>* reader,
    v1::UploadInstancesResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto logger = log::Logger("ingest");

  // A file being received.
  struct PendingFile {
    std::string file_name;
    std::string data;
    std::string sha256;
    bool too_large = false;
  };
  std::string parent;
  std::string dataset_id;
  std::optional<PendingFile> pending;
  int file_index = 0;

  auto add_result = [&](v1::UploadResult result) {
    switch (result.outcome()) {
      case v1::UploadResult::STORED:
        response->set_stored_count(response->stored_count() + 1);
        logger->debug("instance stored dataset={} instance={}", parent, result.instance());
        break;
      case v1::UploadResult::DUPLICATE:
        response->set_duplicate_count(response->duplicate_count() + 1);
        break;
      default:
        response->set_rejected_count(response->rejected_count() + 1);
        // The message names the file, and file names may carry patient names; log the
        // position in the stream and the reason only.
        logger->warn("uploaded file rejected dataset={} file_index={} reason={}", parent,
                     file_index, result.reason());
        break;
    }
    ++file_index;
    *response->add_results() = std::move(result);
  };
  auto finish_file = [&](PendingFile& file) {
    if (file.too_large) {
      add_result(RejectedChunk(file.file_name, "FILE_TOO_LARGE",
                               absl::StrCat(file.file_name, ": the file is larger than the limit "
                                            "of ", max_file_bytes_, " bytes")));
      return;
    }
    add_result(ingester_.Ingest(dataset_id, file.file_name, file.data, file.sha256));
  };

  v1::UploadInstancesRequest chunk;
  while (reader->Read(&chunk)) {
    // The first message names the dataset; later ones may repeat it.
    if (parent.empty()) {
      absl::StatusOr<std::string> id = ParseDatasetName(chunk.parent(), "parent");
      if (!id.ok()) return Finish("UploadInstances", id.status());
      absl::Status exists = store_.CheckDatasetExists(*id);
      if (!exists.ok()) return Finish("UploadInstances", exists);
      parent = chunk.parent();
      dataset_id = *id;
      logger->info("upload started dataset={}", parent);
    } else if (!chunk.parent().empty() && chunk.parent() != parent) {
      return Finish("UploadInstances",
                    InvalidArgument("PARENT_CHANGED", "parent",
                                    absl::StrCat("parent changed from \"", parent, "\" to \"",
                                                 chunk.parent(),
                                                 "\" within one upload; use one stream per "
                                                 "dataset")));
    }

    std::string file_name = BaseFileName(chunk.file_name());
    if (file_name.empty()) {
      add_result(RejectedChunk("", "MISSING_FILE_NAME",
                               "a chunk has no file_name; every chunk must name its file"));
      continue;
    }
    // A chunk of another file ends the previous one, which never got its last chunk.
    if (pending.has_value() && pending->file_name != file_name) {
      add_result(RejectedChunk(pending->file_name, "INCOMPLETE_FILE",
                               absl::StrCat(pending->file_name, ": the file ended without a "
                                            "chunk with last_chunk set; upload it again")));
      pending.reset();
    }
    if (!pending.has_value()) pending = PendingFile{file_name};
    if (!pending->too_large) {
      if (static_cast<int64_t>(pending->data.size() + chunk.data().size()) > max_file_bytes_) {
        pending->too_large = true;
        std::string().swap(pending->data);
      } else {
        pending->data.append(chunk.data());
      }
    }
    if (!chunk.sha256().empty()) pending->sha256 = chunk.sha256();
    if (chunk.last_chunk()) {
      finish_file(*pending);
      pending.reset();
    }
  }
  if (pending.has_value()) {
    add_result(RejectedChunk(pending->file_name, "INCOMPLETE_FILE",
                             absl::StrCat(pending->file_name, ": the upload ended before the "
                                          "file's last chunk; upload it again")));
  }
  if (parent.empty()) {
    return Finish("UploadInstances",
                  InvalidArgument("EMPTY_UPLOAD", "parent",
                                  "the upload stream had no message; send the dataset name in "
                                  "parent and at least one file"));
  }
  logger->info("upload finished dataset={} stored={} duplicate={} rejected={}", parent,
               response->stored_count(), response->duplicate_count(), response->rejected_count());
  return grpc::Status::OK;
}

grpc::Status IngestServiceImpl::ListStudies(grpc::ServerContext* context,
                                            const v1::ListStudiesRequest* request,
                                            v1::ListStudiesResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(std::string id, ParseDatasetName(request->parent(), "parent"));
    AILAB_RETURN_IF_ERROR(CheckVisible(HiddenDatasets(*context), id));
    AILAB_ASSIGN_OR_RETURN(PageRequest page,
                           ResolvePage(request->page_size(), request->page_token()));
    AILAB_ASSIGN_OR_RETURN(Page<v1::Study> result, store_.ListStudies(id, page.offset, page.limit));
    for (v1::Study& study : result.items) *response->add_studies() = std::move(study);
    response->set_next_page_token(NextPageToken(page, result.items.size(), result.has_more));
    return absl::OkStatus();
  };
  return Finish("ListStudies", run());
}

grpc::Status IngestServiceImpl::ListSeries(grpc::ServerContext* context,
                                           const v1::ListSeriesRequest* request,
                                           v1::ListSeriesResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(ChildName study, ParseChildName(request->parent(), "studies", "parent"));
    AILAB_RETURN_IF_ERROR(CheckVisible(HiddenDatasets(*context), study.dataset_id));
    AILAB_ASSIGN_OR_RETURN(PageRequest page,
                           ResolvePage(request->page_size(), request->page_token()));
    AILAB_ASSIGN_OR_RETURN(Page<v1::Series> result,
                           store_.ListSeries(study.dataset_id, study.id, page.offset, page.limit));
    for (v1::Series& series : result.items) *response->add_series() = std::move(series);
    response->set_next_page_token(NextPageToken(page, result.items.size(), result.has_more));
    return absl::OkStatus();
  };
  return Finish("ListSeries", run());
}

grpc::Status IngestServiceImpl::GetInstance(grpc::ServerContext* context,
                                            const v1::GetInstanceRequest* request,
                                            v1::Instance* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(ChildName name, ParseChildName(request->name(), "instances", "name"));
    AILAB_RETURN_IF_ERROR(CheckVisible(HiddenDatasets(*context), name.dataset_id));
    AILAB_ASSIGN_OR_RETURN(*response, store_.GetInstance(name.dataset_id, name.id));
    return absl::OkStatus();
  };
  return Finish("GetInstance", run());
}

grpc::Status IngestServiceImpl::ListInstances(grpc::ServerContext* context,
                                              const v1::ListInstancesRequest* request,
                                              v1::ListInstancesResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(std::string id, ParseDatasetName(request->parent(), "parent"));
    AILAB_RETURN_IF_ERROR(CheckVisible(HiddenDatasets(*context), id));
    AILAB_ASSIGN_OR_RETURN(PageRequest page,
                           ResolvePage(request->page_size(), request->page_token()));
    AILAB_ASSIGN_OR_RETURN(std::vector<InstanceCondition> filter,
                           ParseInstanceFilter(request->filter()));
    AILAB_ASSIGN_OR_RETURN(Page<v1::Instance> result,
                           store_.ListInstances(id, filter, page.offset, page.limit));
    for (v1::Instance& instance : result.items) *response->add_instances() = std::move(instance);
    response->set_next_page_token(NextPageToken(page, result.items.size(), result.has_more));
    response->set_total_size(result.total_size);
    return absl::OkStatus();
  };
  return Finish("ListInstances", run());
}

grpc::Status IngestServiceImpl::AssignSplits(grpc::ServerContext* context,
                                             const v1::AssignSplitsRequest* request,
                                             v1::AssignSplitsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(std::string id, ParseDatasetName(request->dataset(), "dataset"));
    SplitFractions fractions{request->train_fraction(), request->validation_fraction(),
                             request->test_fraction()};
    AILAB_RETURN_IF_ERROR(ValidateSplitFractions(fractions));
    AILAB_ASSIGN_OR_RETURN(std::vector<std::string> patients, store_.ListPatients(id));
    if (patients.empty()) {
      return FailedPrecondition("DATASET_EMPTY",
                                absl::StrCat("dataset \"", request->dataset(),
                                             "\" has no instances to split; upload DICOM files "
                                             "with UploadInstances first"),
                                {{"dataset", request->dataset()}});
    }
    AILAB_ASSIGN_OR_RETURN(auto splits, AssignPatientSplits(patients, fractions, request->seed()));
    AILAB_ASSIGN_OR_RETURN(*response, store_.ApplySplits(id, splits));
    log::Logger("ingest")->info(
        "splits assigned dataset={} seed={} train={} validation={} test={}", request->dataset(),
        request->seed(), response->train_instances(), response->validation_instances(),
        response->test_instances());
    return absl::OkStatus();
  };
  return Finish("AssignSplits", run());
}

grpc::Status IngestServiceImpl::CreatePreparationRun(grpc::ServerContext* context,
                                                     const v1::CreatePreparationRunRequest* request,
                                                     v1::PreparationRun* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(std::string id, ParseDatasetName(request->parent(), "parent"));
    AILAB_ASSIGN_OR_RETURN(v1::PreparationRun settings,
                           ValidateRunSettings(request->preparation_run()));
    AILAB_ASSIGN_OR_RETURN(*response, store_.CreateRun(id, RandomId(), settings));
    log::Logger("ingest")->info("preparation run created name={} instances={} array_size={}",
                                response->name(), response->total_count(),
                                response->array_size());
    workers_.Notify();
    return absl::OkStatus();
  };
  return Finish("CreatePreparationRun", run());
}

grpc::Status IngestServiceImpl::GetPreparationRun(grpc::ServerContext* context,
                                                  const v1::GetPreparationRunRequest* request,
                                                  v1::PreparationRun* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(ChildName name,
                           ParseChildName(request->name(), "preparationRuns", "name"));
    AILAB_RETURN_IF_ERROR(CheckVisible(HiddenDatasets(*context), name.dataset_id));
    AILAB_ASSIGN_OR_RETURN(*response, store_.GetRun(name.dataset_id, name.id));
    return absl::OkStatus();
  };
  return Finish("GetPreparationRun", run());
}

grpc::Status IngestServiceImpl::ListPreparationRuns(grpc::ServerContext* context,
                                                    const v1::ListPreparationRunsRequest* request,
                                                    v1::ListPreparationRunsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(std::string id, ParseDatasetName(request->parent(), "parent"));
    AILAB_RETURN_IF_ERROR(CheckVisible(HiddenDatasets(*context), id));
    AILAB_ASSIGN_OR_RETURN(PageRequest page,
                           ResolvePage(request->page_size(), request->page_token()));
    AILAB_ASSIGN_OR_RETURN(Page<v1::PreparationRun> result,
                           store_.ListRuns(id, page.offset, page.limit));
    for (v1::PreparationRun& item : result.items) {
      *response->add_preparation_runs() = std::move(item);
    }
    response->set_next_page_token(NextPageToken(page, result.items.size(), result.has_more));
    return absl::OkStatus();
  };
  return Finish("ListPreparationRuns", run());
}

grpc::Status IngestServiceImpl::CancelPreparationRun(grpc::ServerContext* context,
                                                     const v1::CancelPreparationRunRequest* request,
                                                     v1::PreparationRun* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  auto run = [&]() -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(ChildName name,
                           ParseChildName(request->name(), "preparationRuns", "name"));
    AILAB_ASSIGN_OR_RETURN(*response, store_.CancelRun(name.dataset_id, name.id));
    log::Logger("ingest")->info("preparation run cancelled name={} done={} total={}",
                                response->name(), response->done_count(),
                                response->total_count());
    return absl::OkStatus();
  };
  return Finish("CancelPreparationRun", run());
}

}  // namespace ailab::ingest
