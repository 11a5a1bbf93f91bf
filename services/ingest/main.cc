// ailab-ingest: DICOM ingest and preparation (ailab.ingest.v1.IngestService).
//
// Stores datasets in the PostgreSQL schema "ingest" and files in the blob store,
// applies its migrations, resumes preparation runs a previous process left unfinished,
// and runs the preparation worker threads. Stops on SIGTERM.
#include <openssl/rand.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include <atomic>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ailab/dicom/storage_scp.h"
#include "ailab/blob/blob_store.h"
#include "ailab/config/flags.h"
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
          "dataset (datasets/ID) that receives instances pushed by DICOM C-STORE; it is created "
          "when missing. Empty: no DICOM storage SCP");
ABSL_FLAG(int, dicom_port, 11112, "TCP port of the DICOM storage SCP");
ABSL_FLAG(std::string, dicom_ae_title, "AILAB", "AE title of the DICOM storage SCP");

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

// Starts the DICOM storage SCP that ingests pushed instances into `dataset_name`.
absl::StatusOr<std::unique_ptr<ailab::dicom::StorageScp>> StartStorageScp(
    const std::string& dataset_name, ailab::ingest::IngestStore& store,
    ailab::ingest::FileIngester& ingester) {
  namespace v1 = ailab::ingest::v1;
  auto logger = ailab::log::Logger("ingest");
  AILAB_ASSIGN_OR_RETURN(std::string dataset_id,
                         ailab::ingest::ParseDatasetName(dataset_name, "dicom_dataset"));
  absl::Status exists = store.CheckDatasetExists(dataset_id);
  if (absl::IsNotFound(exists)) {
    v1::Dataset dataset;
    dataset.set_display_name("Received by DICOM C-STORE");
    AILAB_RETURN_IF_ERROR(store.CreateDataset(dataset_id, dataset).status());
    logger->info("dataset created for the storage SCP name={}", dataset_name);
  } else if (!exists.ok()) {
    return exists;
  }

  ailab::dicom::StorageScpOptions options;
  int port = absl::GetFlag(FLAGS_dicom_port);
  if (port < 1 || port > 65535) {
    return ailab::InvalidArgument("INVALID_DICOM_PORT", "dicom_port",
                                  absl::StrCat("--dicom_port ", port, " is invalid; use 1 to 65535"));
  }
  options.port = static_cast<uint16_t>(port);
  options.ae_title = absl::GetFlag(FLAGS_dicom_ae_title);
  // Names of received files: the sender, the start time of this process and a count.
  std::string started = absl::FormatTime("%Y%m%dT%H%M%S", absl::Now(), absl::UTCTimeZone());
  auto counter = std::make_shared<std::atomic<int64_t>>(0);
  auto handler = [&ingester, dataset_id, dataset_name, started, counter,
                  logger](ailab::dicom::ReceivedInstance received) -> absl::Status {
    std::string sender;
    for (char c : received.calling_ae_title) {
      sender.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) ? c : '_');
    }
    std::string file_name = absl::StrCat("cstore_", sender, "_", started, "_", ++*counter, ".dcm");
    absl::StatusCode code = absl::StatusCode::kOk;
    v1::UploadResult result = ingester.Ingest(dataset_id, file_name, received.bytes, "", &code);
    if (result.outcome() == v1::UploadResult::REJECTED) {
      logger->warn("C-STORE instance rejected dataset={} calling_ae={} reason={}", dataset_name,
                   sender, result.reason());
      return ailab::MakeError(code, result.reason(), result.message());
    }
    logger->info("C-STORE instance received dataset={} calling_ae={} instance={} outcome={}",
                 dataset_name, sender, result.instance(),
                 v1::UploadResult::Outcome_Name(result.outcome()));
    return absl::OkStatus();
  };
  AILAB_ASSIGN_OR_RETURN(auto scp, ailab::dicom::StorageScp::Start(options, handler));
  logger->info("storage SCP listening port={} ae_title={} dataset={}", options.port,
               options.ae_title, dataset_name);
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
  std::string blob_root = absl::GetFlag(FLAGS_blob_root);
  if (blob_root.empty()) {
    return ailab::InvalidArgument("MISSING_BLOB_ROOT", "blob_root",
                                  "--blob_root is required; set it to the shared blob folder");
  }

  // Database and blob store.
  ailab::pg::PoolOptions options;
  options.url = absl::GetFlag(FLAGS_database_url);
  options.size = absl::GetFlag(FLAGS_database_pool_size);
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
  if (std::string dataset = absl::GetFlag(FLAGS_dicom_dataset); !dataset.empty()) {
    AILAB_ASSIGN_OR_RETURN(scp, StartStorageScp(dataset, store, ingester));
  }

  ailab::ingest::IngestServiceImpl service(store, ingester, workers, max_file_bytes);
  ailab::rpc::ServerConfig config;
  config.name = "ingest";
  config.listen = ailab::config::ListenAddress(absl::GetFlag(FLAGS_ingest_address));
  config.port_file = absl::GetFlag(FLAGS_port_file);
  return ailab::rpc::RunServer(config, {&service}, [&] {
    if (scp != nullptr) scp->Stop();
    workers.Stop();
  });
}

}  // namespace

int main(int argc, char** argv) {
  ailab::rpc::BlockShutdownSignals();
  ailab::config::ParseFlags("ingest", argc, argv, kUsage);
  ailab::log::SetLevel(absl::GetFlag(FLAGS_log_level));
  ailab::SetErrorDomain("ingest.ailab");

  absl::Status status = Run();
  if (!status.ok()) {
    ailab::log::Logger("ingest")->error("ingest service failed reason={} error={}",
                                        ailab::GetErrorReason(status),
                                        std::string(status.message()));
    return 1;
  }
  return 0;
}
