// PostgreSQL storage of the ingest service, in the schema "ingest".
//
// Tables (see Migrations()): datasets; studies, series and instances with their
// de-identified header fields and blob ids; preparation_runs. Each run has one
// preparation_items row per instance it processes (PENDING, RUNNING, DONE or FAILED), so
// a restarted service resumes the run where it stopped. identity_map and
// deidentification_key hold protected health information and are for the
// administrator alone; no RPC reads them.
//
// IngestStore is thread-safe: every call runs in its own transaction on the pool.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ailab/dicom/deidentify.h"
#include "ailab/ingest/v1/ingest.pb.h"
#include "ailab/pg/pg.h"
#include "filter.h"

namespace ailab::ingest {

// One page of a list.
template <typename T>
struct Page {
  std::vector<T> items;
  int64_t total_size = 0;
  bool has_more = false;
};

// An instance to insert, with the ids of its study and series.
struct NewInstance {
  std::string dataset_id;
  std::string id;
  std::string study_id;
  std::string series_id;
  std::string study_instance_uid;
  std::string series_instance_uid;
  // Header fields and blobs; name, study and series are derived from the ids.
  v1::Instance instance;
  // Original identifiers and their pseudonyms, for the identity map.
  std::vector<dicom::IdentityMapping> mappings;
};

// A preparation item claimed by a worker thread, with its run's settings.
struct ClaimedItem {
  std::string dataset_id;
  std::string run_id;
  std::string instance_id;
  v1::PreparationRun run;
  v1::Instance instance;
};

// Outputs of preparing one instance; empty blobs are not changed.
struct PreparedOutputs {
  std::string png_blob;
  std::string array_blob;
  std::vector<int64_t> array_shape;
  std::string array_dtype;
};

class IngestStore {
 public:
  // `pool` must outlive the store and work in the schema "ingest".
  explicit IngestStore(pg::Pool& pool) : pool_(pool) {}

  // Migrations of the schema "ingest", for Pool::Migrate.
  static std::vector<pg::Migration> Migrations();

  // Returns the stored de-identification key, creating it from `generated` when the
  // deployment has none yet.
  absl::StatusOr<std::string> LoadOrCreateDeidentificationKey(const std::string& generated);

  // Datasets. CreateDataset: ALREADY_EXISTS when the id is taken.
  absl::StatusOr<v1::Dataset> CreateDataset(const std::string& id, const v1::Dataset& dataset);
  absl::StatusOr<v1::Dataset> GetDataset(const std::string& id);
  absl::StatusOr<Page<v1::Dataset>> ListDatasets(int64_t offset, int limit);
  // Returns the number of instances deleted. FAILED_PRECONDITION while a run is active.
  absl::StatusOr<int64_t> DeleteDataset(const std::string& id);
  // NOT_FOUND naming the dataset when it does not exist.
  absl::Status CheckDatasetExists(const std::string& id);

  // Returns the id of the instance with `sop_instance_uid` in the dataset, if any.
  absl::StatusOr<std::optional<std::string>> FindInstanceBySopUid(
      const std::string& dataset_id, const std::string& sop_instance_uid);

  // Inserts the instance with its study, series and identity mappings in one
  // transaction. Returns false (and changes nothing) when the dataset already has an
  // instance with the same SOP Instance UID.
  absl::StatusOr<bool> InsertInstance(const NewInstance& instance);

  absl::StatusOr<v1::Instance> GetInstance(const std::string& dataset_id, const std::string& id);
  absl::StatusOr<Page<v1::Instance>> ListInstances(const std::string& dataset_id,
                                                   const std::vector<InstanceCondition>& filter,
                                                   int64_t offset, int limit);
  absl::StatusOr<Page<v1::Study>> ListStudies(const std::string& dataset_id, int64_t offset,
                                              int limit);
  absl::StatusOr<Page<v1::Series>> ListSeries(const std::string& dataset_id,
                                              const std::string& study_id, int64_t offset,
                                              int limit);

  // Splits: the dataset's distinct patients, and the assignment of their instances.
  absl::StatusOr<std::vector<std::string>> ListPatients(const std::string& dataset_id);
  absl::StatusOr<v1::AssignSplitsResponse> ApplySplits(
      const std::string& dataset_id, const std::map<std::string, v1::DataSplit>& splits);

  // Preparation runs. CreateRun snapshots the instances to process; a run with
  // nothing to do is SUCCEEDED at once.
  absl::StatusOr<v1::PreparationRun> CreateRun(const std::string& dataset_id,
                                               const std::string& run_id,
                                               const v1::PreparationRun& settings);
  absl::StatusOr<v1::PreparationRun> GetRun(const std::string& dataset_id,
                                            const std::string& run_id);
  absl::StatusOr<Page<v1::PreparationRun>> ListRuns(const std::string& dataset_id,
                                                    int64_t offset, int limit);
  // FAILED_PRECONDITION when the run has ended.
  absl::StatusOr<v1::PreparationRun> CancelRun(const std::string& dataset_id,
                                               const std::string& run_id);

  // Claims the next PENDING item of the oldest active run (marking the run RUNNING),
  // or returns nothing when no work is waiting.
  absl::StatusOr<std::optional<ClaimedItem>> ClaimNextItem();

  // Records the outcome of a claimed item: the instance's outputs or error, the run's
  // progress, and the run's end when it was its last item. Returns the run's state
  // after the update.
  absl::StatusOr<v1::PreparationRun::State> CompleteItem(const ClaimedItem& item,
                                                         const PreparedOutputs& outputs,
                                                         const absl::Status& outcome);

  // Returns items left RUNNING by a stopped process to PENDING, so their runs resume.
  // Returns the number of items reset.
  absl::StatusOr<int64_t> ResumeInterruptedItems();

 private:
  pg::Pool& pool_;
};

}  // namespace ailab::ingest
