// ailab-ingest: DICOM ingest and preparation (ailab.ingest.v1.IngestService).
//
// Stores datasets in the PostgreSQL schema "ingest" and files in the blob store,
// applies its migrations, resumes preparation runs a previous process left unfinished,
// and runs the preparation worker threads. Stops on SIGTERM.
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ailab/blob/blob_store.h"
#include "ailab/config/flags.h"
#include "ailab/dicom/pixels.h"
#include "ailab/dicom/storage_scp.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/server.h"
#include "ailab/status/status.h"
#include "ingest_file.h"
#include "names.h"
#include "preparation.h"
#include "service.h"
#include "store.h"

ABSL_FLAG(std::string, deid_key, "",
          "secret key for pseudonyms, replacement UIDs and date shifts (at least 16 bytes); "
          "empty: --deid_key_file, else the key stored in the database, created at random on "
          "the first start");
ABSL_FLAG(std::string, deid_key_file, "",
          "file holding the de-identification key (surrounding white space is ignored), used "
          "when --deid_key is empty");
ABSL_FLAG(int64_t, max_upload_file_bytes, int64_t{1} << 30,
          "largest DICOM file accepted by UploadInstances, in bytes");
ABSL_FLAG(int, preparation_threads, 2, "threads that prepare PNG renderings and arrays");
ABSL_FLAG(int, max_date_shift_days, 365,
          "dates of each patient move back by 1 to this many days at de-identification; 0 keeps "
          "dates unchanged");
ABSL_FLAG(bool, retain_patient_characteristics, false,
          "keep patient sex, age, size and weight at de-identification");
ABSL_FLAG(std::string, dicom_dataset, "",
          "dataset (datasets/ID) that receives instances pushed by DICOM C-STORE to "
          "--dicom_ae_title; it is created when missing. Empty, with no --dicom_routes: no "
          "DICOM storage SCP");
ABSL_FLAG(std::string, dicom_routes, "",
          "more routes of the DICOM storage SCP, comma-separated: CALLED_AE=datasets/ID sends "
          "what is addressed to CALLED_AE into that dataset, CALLED_AE@CALLING_AE=datasets/ID "
          "does so only for one sender and wins over the plain route. Datasets are created "
          "when missing");
ABSL_FLAG(std::string, dicom_bind_address, "127.0.0.1",
          "IPv4 address the DICOM storage SCP listens on; 0.0.0.0 for every interface");
ABSL_FLAG(int, dicom_port, 11112, "TCP port of the DICOM storage SCP; 0 picks a free port");
ABSL_FLAG(std::string, dicom_port_file, "",
          "file the DICOM storage SCP writes its port number to once it listens (useful with "
          "--dicom_port=0)");
ABSL_FLAG(std::string, dicom_ae_title, "AILAB", "AE title of the DICOM storage SCP");
ABSL_FLAG(std::string, dicom_allowed_calling_ae_titles, "",
          "comma-separated AE titles allowed to send to the DICOM storage SCP; empty allows "
          "every sender");
ABSL_FLAG(int, dicom_max_associations, 16,
          "DICOM associations served at the same time; more are rejected as transient");
ABSL_FLAG(int64_t, dicom_max_dataset_bytes, int64_t{1} << 30,
          "largest data set accepted in one C-STORE request, in bytes");
ABSL_FLAG(int, dicom_max_pdu_bytes, 131072,
          "largest PDU the DICOM storage SCP receives, in bytes (4096 to 131072)");

namespace {

constexpr char kUsage[] =
    "ailab-ingest: DICOM upload, de-identification, splits and preparation over gRPC.\n"
    "  ailab-ingest [--listen=127.0.0.1:7102] [--database_url=...] [--blob_root=...]";

absl::StatusOr<std::string> RandomKey() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return ailab::Internal("RANDOM_FAILED", "could not generate a random de-identification key");
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string key;
  for (unsigned char b : bytes) {
    key.push_back(kDigits[b >> 4]);
    key.push_back(kDigits[b & 15]);
  }
  return key;
}

// Routing table of C-STORE instances: the dataset for each called AE title, and for
// pairs of called and calling AE titles.
struct DicomRoutes {
  // Dataset ids keyed by called AE title, and by "CALLED@CALLING".
  std::map<std::string, std::string> by_called;
  std::map<std::string, std::string> by_called_and_calling;
  // Dataset names (datasets/ID) in the order the flags name them, for creation.
  std::vector<std::string> dataset_names;

  // Returns the dataset id for an instance, or "" when no route matches.
  std::string Find(const std::string& called, const std::string& calling) const {
    if (auto it = by_called_and_calling.find(absl::StrCat(called, "@", calling));
        it != by_called_and_calling.end()) {
      return it->second;
    }
    auto it = by_called.find(called);
    return it == by_called.end() ? "" : it->second;
  }
};

absl::Status CheckAeTitle(const std::string& title, absl::string_view flag) {
  if (title.empty() || title.size() > 16) {
    return ailab::InvalidArgument("INVALID_AE_TITLE", flag,
                                  absl::StrCat("AE title \"", title, "\" in --", flag,
                                               " is invalid; use 1 to 16 characters"));
  }
  return absl::OkStatus();
}

// Reads the routes from --dicom_dataset (with --dicom_ae_title) and --dicom_routes.
absl::StatusOr<DicomRoutes> ParseDicomRoutes() {
  DicomRoutes routes;
  auto add = [&routes](const std::string& key, const std::string& dataset_name,
                       absl::string_view flag) -> absl::Status {
    AILAB_ASSIGN_OR_RETURN(std::string id, ailab::ingest::ParseDatasetName(dataset_name, flag));
    size_t at = key.find('@');
    std::string called = key.substr(0, at);
    AILAB_RETURN_IF_ERROR(CheckAeTitle(called, flag));
    auto& table = at == std::string::npos ? routes.by_called : routes.by_called_and_calling;
    if (at != std::string::npos) AILAB_RETURN_IF_ERROR(CheckAeTitle(key.substr(at + 1), flag));
    if (!table.emplace(key, id).second) {
      return ailab::InvalidArgument("DUPLICATE_DICOM_ROUTE", flag,
                                    absl::StrCat("route \"", key, "\" is given twice in --",
                                                 flag, "; keep one"));
    }
    routes.dataset_names.push_back(dataset_name);
    return absl::OkStatus();
  };
  if (std::string dataset = absl::GetFlag(FLAGS_dicom_dataset); !dataset.empty()) {
    AILAB_RETURN_IF_ERROR(add(absl::GetFlag(FLAGS_dicom_ae_title), dataset, "dicom_dataset"));
  }
  for (absl::string_view entry :
       absl::StrSplit(absl::GetFlag(FLAGS_dicom_routes), ',', absl::SkipWhitespace())) {
    std::vector<std::string> parts = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (parts.size() != 2) {
      return ailab::InvalidArgument(
          "INVALID_DICOM_ROUTE", "dicom_routes",
          absl::StrCat("route \"", entry, "\" in --dicom_routes is invalid; write ",
                       "CALLED_AE=datasets/ID or CALLED_AE@CALLING_AE=datasets/ID"));
    }
    AILAB_RETURN_IF_ERROR(add(std::string(absl::StripAsciiWhitespace(parts[0])),
                              std::string(absl::StripAsciiWhitespace(parts[1])), "dicom_routes"));
  }
  // A sender-specific route needs its called AE title to be accepted by the SCP.
  for (const auto& [key, id] : routes.by_called_and_calling) {
    std::string called = key.substr(0, key.find('@'));
    if (routes.by_called.count(called) == 0) {
      return ailab::InvalidArgument(
          "INVALID_DICOM_ROUTE", "dicom_routes",
          absl::StrCat("route \"", key, "\" has no route for its called AE title ", called,
                       " from other senders; add ", called, "=datasets/ID to --dicom_routes"));
    }
  }
  return routes;
}

// Reads the storage SCP settings from the flags.
absl::StatusOr<ailab::dicom::StorageScpOptions> StorageScpFlags(const DicomRoutes& routes) {
  ailab::dicom::StorageScpOptions options;
  int port = absl::GetFlag(FLAGS_dicom_port);
  if (port < 0 || port > 65535) {
    return ailab::InvalidArgument(
        "INVALID_DICOM_PORT", "dicom_port",
        absl::StrCat("--dicom_port ", port, " is invalid; use 1 to 65535, or 0 for a free port"));
  }
  options.port = static_cast<uint16_t>(port);
  options.bind_address = absl::GetFlag(FLAGS_dicom_bind_address);
  options.ae_titles.clear();
  for (const auto& [called, id] : routes.by_called) options.ae_titles.push_back(called);
  for (absl::string_view title : absl::StrSplit(absl::GetFlag(FLAGS_dicom_allowed_calling_ae_titles),
                                                ',', absl::SkipWhitespace())) {
    std::string trimmed(absl::StripAsciiWhitespace(title));
    AILAB_RETURN_IF_ERROR(CheckAeTitle(trimmed, "dicom_allowed_calling_ae_titles"));
    options.allowed_calling_ae_titles.push_back(trimmed);
  }
  options.max_associations = absl::GetFlag(FLAGS_dicom_max_associations);
  options.max_dataset_bytes = absl::GetFlag(FLAGS_dicom_max_dataset_bytes);
  // Out-of-range values are rejected by StorageScp::Start.
  options.max_pdu_bytes = static_cast<uint32_t>(std::max(0, absl::GetFlag(FLAGS_dicom_max_pdu_bytes)));
  return options;
}

// Replaces every character of an AE title that is not a letter or digit, for file names.
std::string FileNamePart(const std::string& ae_title) {
  std::string part;
  for (char c : ae_title) {
    part.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) ? c : '_');
  }
  return part;
}

// Starts the DICOM storage SCP that ingests pushed instances into the routed datasets.
absl::StatusOr<std::unique_ptr<ailab::dicom::StorageScp>> StartStorageScp(
    const DicomRoutes& routes, ailab::ingest::IngestStore& store,
    ailab::ingest::FileIngester& ingester) {
  namespace v1 = ailab::ingest::v1;
  auto logger = ailab::log::Logger("ingest");
  AILAB_ASSIGN_OR_RETURN(ailab::dicom::StorageScpOptions options, StorageScpFlags(routes));
  for (const std::string& dataset_name : routes.dataset_names) {
    AILAB_ASSIGN_OR_RETURN(std::string dataset_id,
                           ailab::ingest::ParseDatasetName(dataset_name, "dicom_routes"));
    absl::Status exists = store.CheckDatasetExists(dataset_id);
    if (absl::IsNotFound(exists)) {
      v1::Dataset dataset;
      dataset.set_display_name("Received by DICOM C-STORE");
      absl::Status created = store.CreateDataset(dataset_id, dataset).status();
      // Two routes may name the same dataset; a concurrent start may have created it.
      if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
      logger->info("dataset created for the storage SCP name={}", dataset_name);
    } else if (!exists.ok()) {
      return exists;
    }
  }

  // Names of received files: the sender, the start time of this process and a count.
  std::string started = absl::FormatTime("%Y%m%dT%H%M%S", absl::Now(), absl::UTCTimeZone());
  auto counter = std::make_shared<std::atomic<int64_t>>(0);
  auto handler = [&ingester, routes, started, counter,
                  logger](ailab::dicom::ReceivedInstance received) -> absl::Status {
    std::string sender = FileNamePart(received.calling_ae_title);
    std::string dataset_id = routes.Find(received.called_ae_title, received.calling_ae_title);
    if (dataset_id.empty()) {
      // Unreachable while the SCP accepts only the routed called AE titles.
      logger->error("C-STORE instance has no route called_ae={} calling_ae={}",
                    received.called_ae_title, sender);
      return ailab::FailedPrecondition("NO_DICOM_ROUTE", "no dataset is routed for this sender");
    }
    std::string file_name = absl::StrCat("cstore_", sender, "_", started, "_", ++*counter, ".dcm");
    absl::StatusCode code = absl::StatusCode::kOk;
    v1::UploadResult result = ingester.Ingest(dataset_id, file_name, received.bytes, "", &code);
    if (result.outcome() == v1::UploadResult::REJECTED) {
      logger->warn("C-STORE instance rejected dataset=datasets/{} calling_ae={} file={} reason={}",
                   dataset_id, sender, file_name, result.reason());
      return ailab::MakeError(code, result.reason(), result.message());
    }
    logger->debug("C-STORE instance received dataset=datasets/{} calling_ae={} instance={} "
                  "outcome={}",
                  dataset_id, sender, result.instance(),
                  v1::UploadResult::Outcome_Name(result.outcome()));
    return absl::OkStatus();
  };
  AILAB_ASSIGN_OR_RETURN(auto scp, ailab::dicom::StorageScp::Start(options, handler));
  if (std::string path = absl::GetFlag(FLAGS_dicom_port_file); !path.empty()) {
    // Written to a temporary name and renamed, so a reader never sees a partial number.
    std::string temporary = absl::StrCat(path, ".tmp");
    std::ofstream(temporary) << scp->port() << "\n";
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
      return ailab::FailedPrecondition("PORT_FILE_UNWRITABLE",
                                       absl::StrCat("cannot write --dicom_port_file \"", path,
                                                    "\"; check that its folder exists"),
                                       {{"path", path}});
    }
  }
  logger->info("storage SCP listening address={}:{} ae_titles={} routes={} max_associations={}",
               options.bind_address, scp->port(), absl::StrJoin(options.ae_titles, ","),
               routes.by_called.size() + routes.by_called_and_calling.size(),
               options.max_associations);
  return scp;
}

// Returns the key from --deid_key or --deid_key_file; empty when neither is set.
absl::StatusOr<std::string> ConfiguredKey() {
  std::string key = absl::GetFlag(FLAGS_deid_key);
  if (std::string path = absl::GetFlag(FLAGS_deid_key_file); key.empty() && !path.empty()) {
    std::ifstream file(path);
    if (!file) {
      return ailab::FailedPrecondition("DEIDENTIFICATION_KEY_UNREADABLE",
                                       absl::StrCat("cannot read --deid_key_file \"", path,
                                                    "\"; create it or fix its permissions"),
                                       {{"path", path}});
    }
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    key = std::string(absl::StripAsciiWhitespace(text));
  }
  if (!key.empty() && key.size() < 16) {
    return ailab::InvalidArgument("INVALID_DEIDENTIFICATION_KEY", "deid_key",
                                  "the de-identification key (--deid_key or --deid_key_file) must "
                                  "be at least 16 bytes long");
  }
  return key;
}

absl::Status Run() {
  auto logger = ailab::log::Logger("ingest");

  // Settings first, so a bad flag changes nothing in the database.
  AILAB_ASSIGN_OR_RETURN(std::string key, ConfiguredKey());
  AILAB_ASSIGN_OR_RETURN(DicomRoutes dicom_routes, ParseDicomRoutes());
  std::string blob_root = absl::GetFlag(FLAGS_blob_root);
  if (blob_root.empty()) {
    return ailab::InvalidArgument("MISSING_BLOB_ROOT", "blob_root",
                                  "--blob_root is required; set it to the shared blob folder");
  }

  // Database and blob store.
  ailab::pg::PoolOptions options;
  options.url = absl::GetFlag(FLAGS_database_url);
  options.size = ailab::config::DatabasePoolSize(4);
  options.schema = "ingest";
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<ailab::pg::Pool> pool, ailab::pg::Pool::Create(options));
  AILAB_RETURN_IF_ERROR(pool->Migrate(ailab::ingest::IngestStore::Migrations()));
  logger->info("database ready schema={} pool_size={}", options.schema, options.size);
  if (absl::GetFlag(FLAGS_migrate_only)) {
    logger->info("migrations applied; exiting as --migrate_only asks");
    return absl::OkStatus();
  }
  AILAB_ASSIGN_OR_RETURN(ailab::blob::BlobStore blobs, ailab::blob::BlobStore::Open(blob_root));
  ailab::ingest::IngestStore store(*pool);

  // De-identification settings; the key itself is never logged.
  ailab::ingest::IngestOptions ingest_options;
  if (key.empty()) {
    AILAB_ASSIGN_OR_RETURN(std::string generated, RandomKey());
    AILAB_ASSIGN_OR_RETURN(key, store.LoadOrCreateDeidentificationKey(generated));
    logger->info("de-identification key loaded from the database");
  }
  ingest_options.deidentify.secret_key = key;
  ingest_options.deidentify.max_date_shift_days = absl::GetFlag(FLAGS_max_date_shift_days);
  ingest_options.deidentify.retain_patient_characteristics =
      absl::GetFlag(FLAGS_retain_patient_characteristics);
  int64_t max_file_bytes = absl::GetFlag(FLAGS_max_upload_file_bytes);
  ingest_options.limits.max_file_bytes = max_file_bytes;
  ailab::ingest::FileIngester ingester(store, blobs, ingest_options);

  // Preparation runs interrupted by a previous stop resume now.
  AILAB_ASSIGN_OR_RETURN(int64_t resumed, store.ResumeInterruptedItems());
  if (resumed > 0) logger->info("preparation items resumed count={}", resumed);
  ailab::ingest::PreparationWorkers workers(store, blobs, ingest_options.limits,
                                            absl::GetFlag(FLAGS_preparation_threads));
  workers.Start();

  // DICOM push from a PACS, when configured.
  std::unique_ptr<ailab::dicom::StorageScp> scp;
  if (!dicom_routes.by_called.empty()) {
    AILAB_ASSIGN_OR_RETURN(scp, StartStorageScp(dicom_routes, store, ingester));
  }

  // The evaluation service names the datasets that open challenges score on, which
  // may not be deleted. An empty address turns that check off.
  std::unique_ptr<ailab::ingest::ChallengeDirectory> challenges;
  if (const std::string address = absl::GetFlag(FLAGS_evaluation_address); !address.empty()) {
    challenges = ailab::ingest::MakeEvaluationChallengeDirectory(address);
  } else {
    logger->warn("no --evaluation_address, so datasets of open challenges may be deleted");
  }
  ailab::ingest::IngestServiceImpl service(store, ingester, workers, max_file_bytes,
                                           challenges.get());
  ailab::rpc::ServerConfig config;
  config.name = "ingest";
  config.listen = ailab::config::ListenAddress(absl::GetFlag(FLAGS_ingest_address));
  config.port_file = absl::GetFlag(FLAGS_port_file);
  absl::Status served = ailab::rpc::RunServer(config, {&service}, [&] {
    if (scp != nullptr) scp->Stop();
    workers.Stop();
  });
  if (scp != nullptr) {
    ailab::dicom::StorageScpStats stats = scp->stats();
    logger->info("storage SCP stopped associations={} rejected={} aborted={} instances={} "
                 "peak_associations={}",
                 stats.associations_accepted, stats.associations_rejected,
                 stats.associations_aborted, stats.instances_received, stats.associations_peak);
  }
  return served;
}

}  // namespace

int main(int argc, char** argv) {
  ailab::rpc::BlockShutdownSignals();
  ailab::config::ParseFlags("ingest", argc, argv, kUsage);
  ailab::log::SetLevel(absl::GetFlag(FLAGS_log_level));
  ailab::SetErrorDomain("ingest.ailab");

  // Preparing images is much of this process's work, so their buffers stay in the heap.
  if (!ailab::dicom::KeepImageMemoryInHeap()) {
    ailab::log::Logger("ingest")->warn("glibc rejected the allocator settings for images");
  }
  absl::Status status = Run();
  if (!status.ok()) {
    ailab::log::Logger("ingest")->error("ingest service failed reason={} error={}",
                                        ailab::GetErrorReason(status),
                                        std::string(status.message()));
    return 1;
  }
  return 0;
}
