// `ailab dataset ...` and `ailab ingest ...`: datasets, DICOM upload, splits and
// preparation through the ingest service (ailab.ingest.v1.IngestService).
//
// `dataset` commands print protobuf JSON. `ingest upload` prints one line per file
// (stored, duplicate or rejected with the reason) and a summary, and exits 1 when any
// file was rejected. `ingest prepare --wait` polls the run and prints its progress.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/types/span.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "cli.h"
#include "upload_files.h"
#include "google/protobuf/util/json_util.h"

namespace ailab::cli {
namespace {

namespace v1 = ::ailab::ingest::v1;
using v1::IngestService;

constexpr absl::Duration kCallTimeout = absl::Seconds(60);
// Bytes per upload message; well below the server's 64 MiB message limit.
constexpr size_t kChunkBytes = 1 << 20;

std::unique_ptr<IngestService::Stub> Stub(const Args& args) {
  return IngestService::NewStub(rpc::Connect(ServiceAddress(args, "ingest")));
}

template <typename Request, typename Response>
absl::StatusOr<Response> Call(const Args& args,
                              grpc::Status (IngestService::Stub::*method)(grpc::ClientContext*,
                                                                          const Request&,
                                                                          Response*),
                              const Request& request) {
  auto stub = Stub(args);
  return CallUnary(*stub, method, request, kCallTimeout);
}

// Accepts "datasets/x" or the bare id "x".
absl::StatusOr<std::string> DatasetName(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string dataset, args.Require("dataset"));
  if (dataset.rfind("datasets/", 0) == 0) return dataset;
  return absl::StrCat("datasets/", dataset);
}

// --- dataset ---------------------------------------------------------------------

absl::Status CreateDataset(const Args& args) {
  v1::CreateDatasetRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string display_name, args.Require("display_name"));
  request.mutable_dataset()->set_display_name(display_name);
  request.mutable_dataset()->set_description(args.Get("description"));
  request.mutable_dataset()->set_use_case(args.Get("use_case"));
  request.set_dataset_id(args.Get("id"));
  AILAB_ASSIGN_OR_RETURN(v1::Dataset dataset, Call(args, &IngestService::Stub::CreateDataset,
                                                   request));
  return PrintJson(dataset);
}

absl::Status GetDataset(const Args& args) {
  v1::GetDatasetRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string name, DatasetName(args));
  request.set_name(name);
  AILAB_ASSIGN_OR_RETURN(v1::Dataset dataset, Call(args, &IngestService::Stub::GetDataset,
                                                   request));
  return PrintJson(dataset);
}

absl::Status ListDatasets(const Args& args) {
  v1::ListDatasetsRequest request;
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));
  AILAB_ASSIGN_OR_RETURN(v1::ListDatasetsResponse response,
                         Call(args, &IngestService::Stub::ListDatasets, request));
  return PrintJson(response);
}

absl::Status DeleteDataset(const Args& args) {
  v1::DeleteDatasetRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string name, DatasetName(args));
  request.set_name(name);
  AILAB_ASSIGN_OR_RETURN(v1::DeleteDatasetResponse response,
                         Call(args, &IngestService::Stub::DeleteDataset, request));
  return PrintJson(response);
}

// --- ingest upload ---------------------------------------------------------------

// Files per UploadInstances stream. The service returns results only when a stream
// ends, so when a stream breaks (the service restarted, say) only its own files go
// unreported.
constexpr size_t kFilesPerStream = 50;

// Totals over the streams of one upload.
struct UploadTotals {
  int stored = 0;
  int duplicate = 0;
  int rejected = 0;
};

void PrintUploadResults(const v1::UploadInstancesResponse& response) {
  for (const v1::UploadResult& result : response.results()) {
    switch (result.outcome()) {
      case v1::UploadResult::STORED:
        std::printf("stored     %s -> %s\n", result.file_name().c_str(), result.instance().c_str());
        break;
      case v1::UploadResult::DUPLICATE:
        std::printf("duplicate  %s -> %s\n", result.file_name().c_str(), result.instance().c_str());
        break;
      default:
        std::printf("rejected   %s: [%s] %s\n", result.file_name().c_str(), result.reason().c_str(),
                    result.message().c_str());
        break;
    }
    for (const std::string& warning : result.warnings()) {
      std::printf("           warning: %s\n", warning.c_str());
    }
  }
  std::fflush(stdout);
}

// Sends `files` to `dataset` over one UploadInstances stream, in chunks, prints each
// file's result and adds them to `totals`. A file that cannot be read is reported and
// skipped.
absl::Status UploadStream(IngestService::Stub& stub, const std::string& dataset,
                          absl::Span<const UploadFile> files, UploadOpener& opener,
                          UploadTotals& totals) {
  grpc::ClientContext context;
  AddPlatformToken(context);
  v1::UploadInstancesResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::UploadInstancesRequest>> writer(
      stub.UploadInstances(&context, &response));

  bool first = true;
  bool broken = false;
  for (const UploadFile& file : files) {
    absl::StatusOr<std::unique_ptr<UploadReader>> reader = opener.Open(file);
    if (!reader.ok()) {
      std::printf("rejected   %s: %s\n", file.display_name.c_str(),
                  std::string(reader.status().message()).c_str());
      ++totals.rejected;
      continue;
    }
    std::string buffer;
    buffer.reserve(kChunkBytes);
    while (true) {
      buffer.clear();
      bool last = false;
      absl::Status read = (*reader)->Read(kChunkBytes, &buffer, &last);
      if (!read.ok()) {
        // What was read goes as the whole file, which the server then rejects as
        // truncated (counted among its rejections); this line says why.
        std::printf("read error %s: %s\n", file.display_name.c_str(),
                    std::string(read.message()).c_str());
        last = true;
        buffer.clear();
      }
      v1::UploadInstancesRequest chunk;
      if (first) chunk.set_parent(dataset);
      first = false;
      chunk.set_file_name(file.display_name);
      chunk.set_data(buffer);
      chunk.set_last_chunk(last);
      if (!writer->Write(chunk)) {
        broken = true;
        break;
      }
      if (last) break;
    }
    if (broken) break;  // the stream broke; Finish() returns why
  }
  if (first) return absl::OkStatus();  // every file of this stream was unreadable
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return rpc::FromGrpcStatus(status);
  PrintUploadResults(response);
  totals.stored += response.stored_count();
  totals.duplicate += response.duplicate_count();
  totals.rejected += response.rejected_count();
  return absl::OkStatus();
}

absl::Status Upload(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string dataset, DatasetName(args));
  std::vector<std::string> notes;
  AILAB_ASSIGN_OR_RETURN(std::vector<UploadFile> files,
                         ExpandUploadPaths(args.positional(), &notes));
  for (const std::string& note : notes) std::printf("%s\n", note.c_str());

  auto stub = Stub(args);
  UploadOpener opener;
  UploadTotals totals;
  for (size_t begin = 0; begin < files.size(); begin += kFilesPerStream) {
    const size_t count = std::min(kFilesPerStream, files.size() - begin);
    absl::Status sent = UploadStream(
        *stub, dataset, absl::MakeConstSpan(files).subspan(begin, count), opener, totals);
    if (!sent.ok()) {
      std::printf("%d stored, %d duplicate, %d rejected before the failure\n", totals.stored,
                  totals.duplicate, totals.rejected);
      std::fflush(stdout);
      return Annotate(sent, absl::StrCat("upload of files ", begin + 1, " to ", begin + count,
                                         " of ", files.size(),
                                         " failed, and their results are unknown; run the same "
                                         "command again, which reports files already stored "
                                         "as duplicates"));
    }
  }
  std::printf("%d stored, %d duplicate, %d rejected\n", totals.stored, totals.duplicate,
              totals.rejected);
  std::fflush(stdout);
  if (totals.rejected > 0) {
    return FailedPrecondition("FILES_REJECTED",
                              absl::StrCat(totals.rejected, " of ", files.size(),
                                           " files were rejected; see the lines above"));
  }
  return absl::OkStatus();
}

// --- ingest instances / split / prepare ---------------------------------------------

const char* SplitName(v1::DataSplit split) {
  switch (split) {
    case v1::TRAIN:
      return "TRAIN";
    case v1::VALIDATION:
      return "VALIDATION";
    case v1::TEST:
      return "TEST";
    default:
      return "-";
  }
}

absl::Status ListInstances(const Args& args) {
  AILAB_ASSIGN_OR_RETURN(std::string dataset, DatasetName(args));
  std::string filter = args.Get("filter");
  if (args.Has("split")) {
    std::string split = absl::StrCat("split=", absl::AsciiStrToUpper(args.Get("split")));
    filter = filter.empty() ? split : absl::StrCat(filter, " AND ", split);
  }
  bool json = args.Has("json");
  std::string token = args.Get("page_token");
  if (!json) {
    std::printf("%-52s %-28s %-8s %-4s %-4s %-10s %-10s %s\n", "NAME", "SOURCE FILE", "MODALITY",
                "LAT", "VIEW", "STUDY DATE", "SPLIT", "READY");
  }
  // Without --page_size or --page_token every page is fetched; with either, one page.
  bool one_page = args.Has("page_size") || args.Has("page_token");
  do {
    v1::ListInstancesRequest request;
    request.set_parent(dataset);
    request.set_filter(filter);
    request.set_page_token(token);
    AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
    request.set_page_size(static_cast<int32_t>(page_size));
    AILAB_ASSIGN_OR_RETURN(v1::ListInstancesResponse response,
                           Call(args, &IngestService::Stub::ListInstances, request));
    if (json) {
      AILAB_RETURN_IF_ERROR(PrintJson(response));
    } else {
      for (const v1::Instance& i : response.instances()) {
        std::string ready = absl::StrCat(i.png_ready() ? "png " : "", i.array_ready() ? "array" : "");
        std::printf("%-52s %-28s %-8s %-4s %-4s %-10s %-10s %s\n", i.name().c_str(),
                    i.source_file().c_str(), i.modality().c_str(), i.laterality().c_str(),
                    i.view().c_str(), i.study_date().c_str(), SplitName(i.split()),
                    ready.empty() ? "-" : ready.c_str());
      }
    }
    token = response.next_page_token();
    if (one_page && !token.empty() && !json) std::printf("next page: --page_token=%s\n", token.c_str());
  } while (!token.empty() && !one_page);
  return absl::OkStatus();
}

absl::Status AssignSplits(const Args& args) {
  v1::AssignSplitsRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string dataset, DatasetName(args));
  request.set_dataset(dataset);
  AILAB_ASSIGN_OR_RETURN(double train, args.GetDouble("train", 0.7));
  AILAB_ASSIGN_OR_RETURN(double validation, args.GetDouble("validation", 0.15));
  AILAB_ASSIGN_OR_RETURN(double test, args.GetDouble("test", 0.15));
  AILAB_ASSIGN_OR_RETURN(int64_t seed, args.GetInt("seed", 0));
  request.set_train_fraction(train);
  request.set_validation_fraction(validation);
  request.set_test_fraction(test);
  request.set_seed(seed);
  AILAB_ASSIGN_OR_RETURN(v1::AssignSplitsResponse response,
                         Call(args, &IngestService::Stub::AssignSplits, request));
  return PrintJson(response);
}

const char* StateName(v1::PreparationRun::State state) {
  return v1::PreparationRun::State_Name(state).c_str();
}

absl::Status Prepare(const Args& args) {
  v1::CreatePreparationRunRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string dataset, DatasetName(args));
  request.set_parent(dataset);
  v1::PreparationRun* run = request.mutable_preparation_run();
  for (absl::string_view kind : absl::StrSplit(args.Get("kinds", "png,array"), ',',
                                               absl::SkipWhitespace())) {
    std::string upper = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(kind));
    if (upper == "PNG") {
      run->add_kinds(v1::PNG);
    } else if (upper == "ARRAY") {
      run->add_kinds(v1::ARRAY);
    } else {
      return InvalidArgument("INVALID_OPTION", "kinds",
                             absl::StrCat("--kinds has \"", kind, "\"; use png, array or both"));
    }
  }
  AILAB_ASSIGN_OR_RETURN(int64_t size, args.GetInt("size", 128));
  run->set_array_size(static_cast<int32_t>(size));
  run->set_window_preset(args.Get("window"));
  if (args.Get("dtype") == "uint16") run->set_array_dtype("<u2");
  run->set_only_missing(args.Has("only_missing"));
  AILAB_ASSIGN_OR_RETURN(v1::PreparationRun created,
                         Call(args, &IngestService::Stub::CreatePreparationRun, request));
  if (!args.Has("wait")) return PrintJson(created);

  // Poll until the run ends, printing progress when it changes.
  std::printf("%s: %s\n", created.name().c_str(), StateName(created.state()));
  int64_t last_done = -1;
  v1::PreparationRun current = created;
  while (current.state() == v1::PreparationRun::QUEUED ||
         current.state() == v1::PreparationRun::RUNNING) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    v1::GetPreparationRunRequest get;
    get.set_name(created.name());
    AILAB_ASSIGN_OR_RETURN(current, Call(args, &IngestService::Stub::GetPreparationRun, get));
    if (current.done_count() != last_done) {
      last_done = current.done_count();
      std::printf("%s: %lld/%lld done, %lld failed\n", StateName(current.state()),
                  static_cast<long long>(current.done_count()),
                  static_cast<long long>(current.total_count()),
                  static_cast<long long>(current.failed_count()));
      std::fflush(stdout);
    }
  }
  for (const v1::PreparationFailure& failure : current.failures()) {
    std::printf("failed     %s (%s): [%s] %s\n", failure.source_file().c_str(),
                failure.instance().c_str(), failure.reason().c_str(), failure.message().c_str());
  }
  std::printf("%s: %s\n", created.name().c_str(), StateName(current.state()));
  if (current.state() != v1::PreparationRun::SUCCEEDED) {
    return FailedPrecondition("PREPARATION_NOT_SUCCEEDED",
                              absl::StrCat("preparation run ", created.name(), " ended ",
                                           StateName(current.state()),
                                           current.error().empty() ? "" : ": ", current.error()));
  }
  return absl::OkStatus();
}

absl::Status CancelPreparation(const Args& args) {
  v1::CancelPreparationRunRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string name, args.Require("run"));
  request.set_name(name);
  AILAB_ASSIGN_OR_RETURN(v1::PreparationRun run,
                         Call(args, &IngestService::Stub::CancelPreparationRun, request));
  return PrintJson(run);
}

}  // namespace

AILAB_CLI_COMMAND({"dataset", "create", "Create an empty dataset",
                   "--display_name=TEXT [--id=ID] [--description=TEXT] [--use_case=useCases/ID]",
                   &CreateDataset});
AILAB_CLI_COMMAND({"dataset", "get", "Show a dataset with its counts", "--dataset=NAME",
                   &GetDataset});
AILAB_CLI_COMMAND({"dataset", "list", "List datasets, newest first",
                   "[--page_size=N] [--page_token=TOKEN]", &ListDatasets});
AILAB_CLI_COMMAND({"dataset", "delete", "Delete a dataset and its instances", "--dataset=NAME",
                   &DeleteDataset});
AILAB_CLI_COMMAND({"ingest", "upload", "Upload DICOM files, folders, zip archives or a DICOMDIR",
                   "--dataset=NAME PATH...  (folders recursively, .zip by entry, a DICOMDIR "
                   "as the files it lists)", &Upload});
AILAB_CLI_COMMAND({"ingest", "instances", "List the instances of a dataset",
                   "--dataset=NAME [--split=TRAIN|VALIDATION|TEST|UNSPECIFIED] "
                   "[--filter=EXPR] [--json] [--page_size=N] [--page_token=TOKEN]",
                   &ListInstances});
AILAB_CLI_COMMAND({"ingest", "split", "Assign patients to train, validation and test",
                   "--dataset=NAME [--train=0.7] [--validation=0.15] [--test=0.15] [--seed=0]",
                   &AssignSplits});
AILAB_CLI_COMMAND({"ingest", "prepare", "Render PNGs and arrays for a dataset",
                   "--dataset=NAME [--kinds=png,array] [--size=128] [--window=auto|file|"
                   "voi_lut|minmax|C/W] [--dtype=float32|uint16] [--only_missing] [--wait]",
                   &Prepare});
AILAB_CLI_COMMAND({"ingest", "cancel", "Cancel a preparation run",
                   "--run=datasets/ID/preparationRuns/ID", &CancelPreparation});

}  // namespace ailab::cli
