// PostgreSQL storage of the annotation service (schema `annotation`, see
// migrations.cc): annotations, sessions, quotas, reference readers and contests.
//
// The store checks nothing about use cases, datasets or categories; the service does
// that before calling it. Times cross this interface as microseconds since the Unix
// epoch or as google.protobuf.Timestamp.
//
// AnnotationStore is thread-safe; each call runs in its own transaction.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ailab/annotation/v1/annotation.pb.h"
#include "ailab/pg/pg.h"
#include "services/annotation/aggregate.h"
#include "services/annotation/requests.h"

namespace ailab::annotation {

// The four fields that identify an annotation.
struct AnnotationKey {
  std::string use_case;
  std::string dataset;
  std::string annotator;
  std::string instance;
};

// An annotator's work on one use case and dataset.
struct AnnotatorSet {
  std::string use_case;
  std::string dataset;
  std::string annotator;
};

// Counts of an annotator's annotations by state.
struct StateCounts {
  int64_t annotated = 0;
  int64_t skipped = 0;
};

// A closed session.
struct SessionSummary {
  int64_t start_micros = 0;
  int64_t end_micros = 0;
  int64_t annotated = 0;
  int64_t skipped = 0;
};

// A time window [start, end) in microseconds since the Unix epoch.
struct TimeWindow {
  int64_t start_micros = 0;
  int64_t end_micros = 0;
};

class AnnotationStore {
 public:
  // Takes a pool on the `annotation` schema whose migrations are applied, with
  // `connections` connections. Batches of saves use at most a quarter of them at
  // once, so reads still find a connection while a crowd saves. Starts the writer
  // threads. The destructor writes the saves still queued, then stops them.
  explicit AnnotationStore(std::unique_ptr<pg::Pool> pool, int connections = 4);
  ~AnnotationStore();
  AnnotationStore(const AnnotationStore&) = delete;
  AnnotationStore& operator=(const AnnotationStore&) = delete;

  // Connects with `options` (its schema set to "annotation") and applies Migrations().
  static absl::StatusOr<std::unique_ptr<AnnotationStore>> Open(pg::PoolOptions options);

  // Result of Save.
  struct SaveResult {
    v1::Annotation annotation;
    bool created = false;
  };

  // Inserts the annotation of `key` as ANNOTATED with `label`, `boxes` and `masks`, or
  // replaces the stored one and increments its revision. With expected_revision > 0,
  // ABORTED when no annotation with that revision is stored. Opens the annotator's
  // session in the same statement. Unconditional saves (expected_revision 0) are
  // queued, and the store's writer threads send the saves queued together to
  // PostgreSQL as one statement, so a crowd of annotators costs fewer round trips and
  // commits.
  absl::StatusOr<SaveResult> Save(const AnnotationKey& key, const std::string& label,
                                  const google::protobuf::RepeatedPtrField<v1::Box>& boxes,
                                  const google::protobuf::RepeatedPtrField<v1::Mask>& masks,
                                  int64_t expected_revision);

  // Called once with the result of a save.
  using SaveDone = std::function<void(absl::StatusOr<SaveResult>)>;

  // Saves as Save() does without waiting. The save is queued, and `done` runs on a
  // writer thread once it is written. A conditional save is written alone. When the
  // boxes and masks cannot be encoded, `done` runs before SaveAsync returns.
  void SaveAsync(const AnnotationKey& key, const std::string& label,
                 const google::protobuf::RepeatedPtrField<v1::Box>& boxes,
                 const google::protobuf::RepeatedPtrField<v1::Mask>& masks,
                 int64_t expected_revision, SaveDone done);

  // Stores `key` as SKIPPED (again). FAILED_PRECONDITION naming the label when it is
  // ANNOTATED. Opens the annotator's session in the same transaction.
  absl::StatusOr<v1::Annotation> Skip(const AnnotationKey& key);

  // Returns annotation `id`; NOT_FOUND when absent.
  absl::StatusOr<v1::Annotation> Get(int64_t id);

  // Result of List.
  struct ListResult {
    std::vector<v1::Annotation> annotations;
    int64_t total_size = 0;
  };

  // Lists the annotations of `set` that match `filter`, in id order, from `offset`.
  absl::StatusOr<ListResult> List(const AnnotatorSet& set, const AnnotationFilter& filter,
                                  int64_t offset, int limit);

  // Counts the annotations of `set` by state.
  absl::StatusOr<StateCounts> CountStates(const AnnotatorSet& set);

  // Returns the state of every instance of `set` that has an annotation.
  absl::StatusOr<absl::flat_hash_map<std::string, v1::Annotation::State>> InstanceStates(
      const AnnotatorSet& set);

  // Returns the label of every ANNOTATED instance of `set`.
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> Labels(const AnnotatorSet& set);

  // Returns every ANNOTATED annotation of `set`, with boxes and masks.
  absl::StatusOr<std::vector<v1::Annotation>> Annotated(const AnnotatorSet& set);

  // Returns the labels of every ANNOTATED annotation of the use case and dataset whose
  // annotator is not `excluded_annotator` (empty excludes no annotator).
  absl::StatusOr<std::vector<LabelVote>> LabelsExcept(const std::string& use_case,
                                                      const std::string& dataset,
                                                      const std::string& excluded_annotator);

  // Counts ANNOTATED annotations per annotator of the use case and dataset, only those
  // first saved within `window` when it is set.
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> CountByAnnotator(
      const std::string& use_case, const std::string& dataset, std::optional<TimeWindow> window);

  // Opens a session of `set` unless one is open.
  absl::Status OpenSession(const AnnotatorSet& set);

  // Closes the open session of `set` and counts the annotations saved or skipped
  // during it. FAILED_PRECONDITION when no session is open.
  absl::StatusOr<SessionSummary> CloseSession(const AnnotatorSet& set);

  // Sets the quota of the use case and dataset; 0 removes it.
  absl::StatusOr<v1::Quota> SetQuota(const std::string& use_case, const std::string& dataset,
                                     int64_t quota, int64_t total_instances);

  // Returns the quota of the use case and dataset, 0 when none is set.
  absl::StatusOr<int64_t> GetQuota(const std::string& use_case, const std::string& dataset);

  // Makes `annotator` the reference reader of the use case and dataset. Setting the
  // same reader again changes nothing. FAILED_PRECONDITION when another reader is set
  // and has annotations of the use case and dataset.
  absl::StatusOr<v1::ReferenceReader> SetReferenceReader(const std::string& use_case,
                                                         const std::string& dataset,
                                                         const std::string& annotator);

  // Returns the reference reader of the use case and dataset, if one is set.
  absl::StatusOr<std::optional<v1::ReferenceReader>> GetReferenceReader(
      const std::string& use_case, const std::string& dataset);

  // Stores a new contest; `contest.name` and `create_time` are ignored.
  absl::StatusOr<v1::Contest> CreateContest(const v1::Contest& contest);

  // Returns contest `id`; NOT_FOUND when absent.
  absl::StatusOr<v1::Contest> GetContest(int64_t id);

  // Lists contests, newest first, from `offset`.
  absl::StatusOr<std::vector<v1::Contest>> ListContests(int64_t offset, int limit);

 private:
  // One unconditional save waiting to be written.
  struct PendingSave {
    AnnotationKey key;
    // The key as one string (SaveKeyText), for the batch's set, sort order and lookup.
    std::string key_text;
    std::string label;
    std::string shapes;
    int64_t expected_revision = 0;  // > 0: a conditional save, written alone
    SaveDone done;
    absl::StatusOr<SaveResult> result = absl::UnknownError("not saved yet");
  };

  // Saves `key` with one statement of its own (the path of conditional saves).
  absl::StatusOr<SaveResult> SaveOne(const AnnotationKey& key, const std::string& label,
                                     const std::string& shapes, int64_t expected_revision);
  // Takes batches from pending_ and writes them until the store stops and nothing is
  // left. The body of each writer thread.
  void WriteSaves();
  // Removes the next batch from pending_: up to kMaxSaveBatch unconditional saves, no
  // key twice, or one conditional save.
  std::vector<std::unique_ptr<PendingSave>> TakeSaveBatch();
  // Writes `batch` and sets each result; a batch that fails is retried one by one so
  // that each save gets its own error.
  void WriteSaveBatch(const std::vector<std::unique_ptr<PendingSave>>& batch);
  // Runs the batch statement for `sorted` (in key order) and returns the results in
  // the same order.
  absl::StatusOr<std::vector<SaveResult>> ExecuteSaveBatch(const std::vector<PendingSave*>& sorted);

  std::unique_ptr<pg::Pool> pool_;

  std::mutex save_mutex_;
  std::condition_variable save_queued_;
  std::deque<std::unique_ptr<PendingSave>> pending_;  // guarded by save_mutex_
  bool stopping_ = false;                             // guarded by save_mutex_
  std::vector<std::thread> save_writers_;
};

}  // namespace ailab::annotation
