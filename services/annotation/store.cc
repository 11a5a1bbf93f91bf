#include "services/annotation/store.h"

#include <algorithm>
#include <future>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "services/annotation/migrations.h"

namespace ailab::annotation {
namespace {

using google::protobuf::util::TimeUtil;

// Columns read into an Annotation by ToAnnotation, in this order.
constexpr char kAnnotationColumns[] =
    "id, use_case, dataset, annotator, instance, state, label, COALESCE(shapes::text, ''), "
    "(extract(epoch FROM create_time) * 1000000)::bigint, "
    "(extract(epoch FROM update_time) * 1000000)::bigint, revision";

// Converts microseconds since the epoch, sent as a bigint parameter, to timestamptz.
#define AILAB_MICROS_TO_TIMESTAMP(param) "('epoch'::timestamptz + " param "::bigint * interval '1 microsecond')"

// Reads a timestamptz column as microseconds since the epoch.
#define AILAB_TIMESTAMP_MICROS(column) "(extract(epoch FROM " column ") * 1000000)::bigint"

google::protobuf::Timestamp FromMicros(int64_t micros) {
  return TimeUtil::MicrosecondsToTimestamp(micros);
}

v1::Annotation::State ParseState(const std::string& state) {
  if (state == "ANNOTATED") return v1::Annotation::ANNOTATED;
  if (state == "SKIPPED") return v1::Annotation::SKIPPED;
  return v1::Annotation::STATE_UNSPECIFIED;
}

// Returns the JSON stored in the `shapes` column, or "" when there are no shapes.
absl::StatusOr<std::string> ShapesJson(const google::protobuf::RepeatedPtrField<v1::Box>& boxes,
                                       const google::protobuf::RepeatedPtrField<v1::Mask>& masks) {
  if (boxes.empty() && masks.empty()) return std::string();
  v1::Annotation shapes;
  *shapes.mutable_boxes() = boxes;
  *shapes.mutable_masks() = masks;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(shapes, &json);
  if (!status.ok()) {
    return Internal("SHAPES_NOT_ENCODED",
                    absl::StrCat("could not encode boxes and masks as JSON: ", status.ToString()));
  }
  return json;
}

absl::StatusOr<v1::Annotation> ToAnnotation(const pqxx::row& row) {
  v1::Annotation annotation;
  annotation.set_name(AnnotationName(row[0].as<int64_t>()));
  annotation.set_use_case(row[1].as<std::string>());
  annotation.set_dataset(row[2].as<std::string>());
  annotation.set_annotator(row[3].as<std::string>());
  annotation.set_instance(row[4].as<std::string>());
  annotation.set_state(ParseState(row[5].as<std::string>()));
  annotation.set_label(row[6].as<std::string>());
  std::string shapes = row[7].as<std::string>();
  if (!shapes.empty()) {
    v1::Annotation parsed;
    auto status = google::protobuf::util::JsonStringToMessage(shapes, &parsed);
    if (!status.ok()) {
      return Internal("SHAPES_NOT_DECODED",
                      absl::StrCat("stored boxes and masks of ", annotation.name(),
                                   " are not readable: ", status.ToString()),
                      {{"annotation", annotation.name()}});
    }
    *annotation.mutable_boxes() = parsed.boxes();
    *annotation.mutable_masks() = parsed.masks();
  }
  *annotation.mutable_create_time() = FromMicros(row[8].as<int64_t>());
  *annotation.mutable_update_time() = FromMicros(row[9].as<int64_t>());
  annotation.set_revision(row[10].as<int64_t>());
  return annotation;
}

void OpenSessionIn(pqxx::work& tx, const std::string& use_case, const std::string& dataset,
                   const std::string& annotator) {
  tx.exec_params(
      "INSERT INTO sessions (use_case, dataset, annotator) VALUES ($1, $2, $3) "
      "ON CONFLICT (use_case, dataset, annotator) WHERE end_time IS NULL DO NOTHING",
      use_case, dataset, annotator);
}

v1::Contest ToContest(const pqxx::row& row) {
  v1::Contest contest;
  contest.set_name(ContestName(row[0].as<int64_t>()));
  contest.set_display_name(row[1].as<std::string>());
  contest.set_use_case(row[2].as<std::string>());
  contest.set_dataset(row[3].as<std::string>());
  *contest.mutable_start_time() = FromMicros(row[4].as<int64_t>());
  *contest.mutable_end_time() = FromMicros(row[5].as<int64_t>());
  *contest.mutable_create_time() = FromMicros(row[6].as<int64_t>());
  return contest;
}

constexpr char kContestColumns[] =
    "id, display_name, use_case, dataset, " AILAB_TIMESTAMP_MICROS("start_time") ", "
    AILAB_TIMESTAMP_MICROS("end_time") ", " AILAB_TIMESTAMP_MICROS("create_time");

// The save statement and the name it is prepared under. The data-modifying WITH opens
// the annotator's session (PostgreSQL runs it exactly once, whether or not the main
// statement reads it), and it stays open even when the save fails its revision check.
// The main statement chooses between insert and update under the unique key, so
// concurrent saves of one key do not fail or duplicate (PostgreSQL's INSERT ... ON
// CONFLICT guarantee; annotation_grpc_test checks it with 20 clients). With an expected
// revision it inserts nothing when no annotation exists, because the statement commits
// on its own and a row inserted there could not be rolled back. xmax is 0 on a new row.
constexpr char kSaveStatement[] = "annotation_save";
const std::string& SaveSql() {
  static const std::string* const sql = new std::string(absl::StrCat(
      "WITH opened AS (INSERT INTO sessions (use_case, dataset, annotator) VALUES ($1, $2, $3) "
      "ON CONFLICT (use_case, dataset, annotator) WHERE end_time IS NULL DO NOTHING) "
      "INSERT INTO annotations AS a (use_case, dataset, annotator, instance, state, label, "
      "shapes) SELECT $1::text, $2::text, $3::text, $4::text, 'ANNOTATED', $5::text, "
      "NULLIF($6::text, '')::jsonb "
      "WHERE $7::bigint = 0 OR EXISTS (SELECT 1 FROM annotations WHERE use_case = $1 AND "
      "dataset = $2 AND annotator = $3 AND instance = $4) "
      "ON CONFLICT ON CONSTRAINT annotations_key DO UPDATE "
      "SET state = 'ANNOTATED', label = EXCLUDED.label, shapes = EXCLUDED.shapes, "
      "update_time = now(), revision = a.revision + 1 "
      "WHERE $7::bigint = 0 OR a.revision = $7::bigint "
      "RETURNING ",
      kAnnotationColumns, ", (xmax = 0)"));
  return *sql;
}

// The batch form of the save statement for unconditional saves: parallel arrays, one
// element per save, and no key twice. It opens each annotator's session like the
// single save, and changes rows in the order of the arrays.
constexpr char kSaveBatchStatement[] = "annotation_save_batch";
const std::string& SaveBatchSql() {
  static const std::string* const sql = new std::string(absl::StrCat(
      "WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
      "$5::text[], $6::text[]) WITH ORDINALITY AS t(use_case, dataset, annotator, instance, "
      "label, shapes, position)), "
      "opened AS (INSERT INTO sessions (use_case, dataset, annotator) "
      "SELECT DISTINCT use_case, dataset, annotator FROM input ORDER BY 1, 2, 3 "
      "ON CONFLICT (use_case, dataset, annotator) WHERE end_time IS NULL DO NOTHING) "
      "INSERT INTO annotations AS a (use_case, dataset, annotator, instance, state, label, "
      "shapes) SELECT use_case, dataset, annotator, instance, 'ANNOTATED', label, "
      "NULLIF(shapes, '')::jsonb FROM input ORDER BY position "
      "ON CONFLICT ON CONSTRAINT annotations_key DO UPDATE "
      "SET state = 'ANNOTATED', label = EXCLUDED.label, shapes = EXCLUDED.shapes, "
      "update_time = now(), revision = a.revision + 1 "
      "RETURNING ",
      kAnnotationColumns, ", (xmax = 0)"));
  return *sql;
}

// Largest number of saves one batch statement writes.
constexpr size_t kMaxSaveBatch = 64;

// The key of a save as one string, for sets and sorting.
std::string SaveKeyText(const AnnotationKey& key) {
  return absl::StrCat(key.use_case, "\n", key.dataset, "\n", key.annotator, "\n", key.instance);
}

// Returns `values` as a PostgreSQL array literal of text: every element quoted, with
// '"' and '\\' escaped by a backslash.
std::string TextArray(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal.push_back(',');
    literal.push_back('"');
    for (char c : values[i]) {
      if (c == '"' || c == '\\') literal.push_back('\\');
      literal.push_back(c);
    }
    literal.push_back('"');
  }
  literal.push_back('}');
  return literal;
}

}  // namespace

AnnotationStore::AnnotationStore(std::unique_ptr<pg::Pool> pool, int connections)
    : pool_(std::move(pool)) {
  // Fewer writers make larger batches. In the gateway benchmark at 64 connections, 2
  // writers instead of 4 cut PostgreSQL's CPU per save from 0.085 to 0.053-0.060 ms.
  const int writers = std::max(1, connections / 4);
  for (int i = 0; i < writers; ++i) save_writers_.emplace_back([this] { WriteSaves(); });
}

AnnotationStore::~AnnotationStore() {
  {
    std::lock_guard<std::mutex> lock(save_mutex_);
    stopping_ = true;
  }
  save_queued_.notify_all();
  for (std::thread& writer : save_writers_) writer.join();
}

absl::StatusOr<std::unique_ptr<AnnotationStore>> AnnotationStore::Open(pg::PoolOptions options) {
  options.schema = "annotation";
  AILAB_ASSIGN_OR_RETURN(std::unique_ptr<pg::Pool> pool, pg::Pool::Create(options));
  AILAB_RETURN_IF_ERROR(pool->Migrate(Migrations()));
  return std::make_unique<AnnotationStore>(std::move(pool), options.size);
}

absl::StatusOr<AnnotationStore::SaveResult> AnnotationStore::Save(
    const AnnotationKey& key, const std::string& label,
    const google::protobuf::RepeatedPtrField<v1::Box>& boxes,
    const google::protobuf::RepeatedPtrField<v1::Mask>& masks, int64_t expected_revision) {
  std::promise<absl::StatusOr<SaveResult>> saved;
  std::future<absl::StatusOr<SaveResult>> result = saved.get_future();
  SaveAsync(key, label, boxes, masks, expected_revision,
            [&saved](absl::StatusOr<SaveResult> done) { saved.set_value(std::move(done)); });
  return result.get();
}

void AnnotationStore::SaveAsync(const AnnotationKey& key, const std::string& label,
                                const google::protobuf::RepeatedPtrField<v1::Box>& boxes,
                                const google::protobuf::RepeatedPtrField<v1::Mask>& masks,
                                int64_t expected_revision, SaveDone done) {
  absl::StatusOr<std::string> shapes = ShapesJson(boxes, masks);
  if (!shapes.ok()) {
    done(shapes.status());
    return;
  }
  auto save = std::make_unique<PendingSave>();
  save->key = key;
  save->key_text = SaveKeyText(key);
  save->label = label;
  save->shapes = *std::move(shapes);
  save->expected_revision = expected_revision;
  save->done = std::move(done);
  {
    std::lock_guard<std::mutex> lock(save_mutex_);
    pending_.push_back(std::move(save));
  }
  save_queued_.notify_one();
}

void AnnotationStore::WriteSaves() {
  // A writer that finds one save queued writes it at once, alone. Saves that arrive
  // while the writers are busy queue up and go together in the next batch.
  std::unique_lock<std::mutex> lock(save_mutex_);
  while (true) {
    save_queued_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;
    std::vector<std::unique_ptr<PendingSave>> batch = TakeSaveBatch();
    lock.unlock();
    WriteSaveBatch(batch);
    for (std::unique_ptr<PendingSave>& save : batch) save->done(std::move(save->result));
    batch.clear();
    lock.lock();
  }
}

absl::StatusOr<AnnotationStore::SaveResult> AnnotationStore::SaveOne(const AnnotationKey& key,
                                                                     const std::string& label,
                                                                     const std::string& shapes,
                                                                     int64_t expected_revision) {
  // Saving is the hot path of annotating, so it is one prepared statement run outside a
  // transaction block. The annotator's session is opened in the same statement, the plan
  // is made once per connection, and no BEGIN or COMMIT round trip is made. libpqxx
  // prepares the statement on the server at its first use, and a repeated prepare() with
  // the same text changes nothing.
  return pool_->QueryAutocommit<SaveResult>(
      [&](pqxx::nontransaction& tx) -> absl::StatusOr<SaveResult> {
        tx.conn().prepare(kSaveStatement, SaveSql());
        pqxx::result result =
            tx.exec_prepared(kSaveStatement, key.use_case, key.dataset, key.annotator, key.instance,
                             label, shapes, expected_revision);

        if (result.empty() || (expected_revision > 0 && result[0][11].as<bool>())) {
          pqxx::result stored = tx.exec_params(
              "SELECT revision FROM annotations WHERE use_case = $1 AND dataset = $2 AND "
              "annotator = $3 AND instance = $4",
              key.use_case, key.dataset, key.annotator, key.instance);
          std::string found = stored.empty() || !result.empty()
                                  ? "no annotation"
                                  : absl::StrCat("revision ", stored[0][0].c_str());
          return MakeError(
              absl::StatusCode::kAborted, "REVISION_MISMATCH",
              absl::StrCat("annotation of instance \"", key.instance, "\" by \"", key.annotator,
                           "\" has ", found, ", not expected revision ", expected_revision,
                           "; read it again with GetAnnotation and retry"),
              {{"instance", key.instance}, {"expected_revision", absl::StrCat(expected_revision)}});
        }
        AILAB_ASSIGN_OR_RETURN(v1::Annotation annotation, ToAnnotation(result[0]));
        return SaveResult{std::move(annotation), result[0][11].as<bool>()};
      });
}

std::vector<std::unique_ptr<AnnotationStore::PendingSave>> AnnotationStore::TakeSaveBatch() {
  std::vector<std::unique_ptr<PendingSave>> batch;
  absl::flat_hash_set<absl::string_view> keys;
  for (auto it = pending_.begin(); it != pending_.end() && batch.size() < kMaxSaveBatch;) {
    // A conditional save is written alone, with the single-row statement.
    if ((*it)->expected_revision > 0) {
      if (!batch.empty()) {
        ++it;
        continue;
      }
      batch.push_back(std::move(*it));
      pending_.erase(it);
      break;
    }
    // One statement cannot change a row twice, so a second save of a key waits for the
    // next batch.
    if (keys.insert((*it)->key_text).second) {
      batch.push_back(std::move(*it));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  return batch;
}

absl::StatusOr<std::vector<AnnotationStore::SaveResult>> AnnotationStore::ExecuteSaveBatch(
    const std::vector<PendingSave*>& sorted) {
  std::vector<std::string> use_cases, datasets, annotators, instances, labels, shapes;
  for (const PendingSave* save : sorted) {
    use_cases.push_back(save->key.use_case);
    datasets.push_back(save->key.dataset);
    annotators.push_back(save->key.annotator);
    instances.push_back(save->key.instance);
    labels.push_back(save->label);
    shapes.push_back(save->shapes);
  }

  absl::flat_hash_map<absl::string_view, size_t> index;
  for (size_t i = 0; i < sorted.size(); ++i) index[sorted[i]->key_text] = i;

  return pool_->QueryAutocommit<std::vector<SaveResult>>(
      [&](pqxx::nontransaction& tx) -> absl::StatusOr<std::vector<SaveResult>> {
        tx.conn().prepare(kSaveBatchStatement, SaveBatchSql());
        pqxx::result result = tx.exec_prepared(
            kSaveBatchStatement, TextArray(use_cases), TextArray(datasets), TextArray(annotators),
            TextArray(instances), TextArray(labels), TextArray(shapes));
        std::vector<SaveResult> results(sorted.size());
        size_t found = 0;
        for (const pqxx::row& row : result) {
          AnnotationKey key{row[1].as<std::string>(), row[2].as<std::string>(),
                            row[3].as<std::string>(), row[4].as<std::string>()};
          auto at = index.find(SaveKeyText(key));
          if (at == index.end()) continue;
          AILAB_ASSIGN_OR_RETURN(v1::Annotation annotation, ToAnnotation(row));
          results[at->second] = SaveResult{std::move(annotation), row[11].as<bool>()};
          ++found;
        }
        if (found != sorted.size()) {
          return Internal(
              "SAVE_BATCH_INCOMPLETE",
              absl::StrCat("a batch of ", sorted.size(), " saves returned ", found, " rows"));
        }
        return results;
      });
}

void AnnotationStore::WriteSaveBatch(const std::vector<std::unique_ptr<PendingSave>>& batch) {
  if (batch.size() == 1) {
    PendingSave& save = *batch.front();
    save.result = SaveOne(save.key, save.label, save.shapes, save.expected_revision);
    return;
  }
  // Rows are changed in key order, as in every batch, so two batches that share rows
  // wait for each other instead of deadlocking.
  std::vector<PendingSave*> sorted;
  for (const std::unique_ptr<PendingSave>& save : batch) sorted.push_back(save.get());
  std::sort(sorted.begin(), sorted.end(), [](const PendingSave* a, const PendingSave* b) {
    return a->key_text < b->key_text;
  });
  absl::StatusOr<std::vector<SaveResult>> written = ExecuteSaveBatch(sorted);
  if (written.ok()) {
    for (size_t i = 0; i < sorted.size(); ++i) sorted[i]->result = std::move((*written)[i]);
    return;
  }
  if (written.status().code() == absl::StatusCode::kUnavailable) {
    // PostgreSQL is unreachable, or the statement's outcome is unknown: each save gets
    // that error, and the client's retry decides.
    for (PendingSave* save : sorted) save->result = written.status();
    return;
  }
  // The statement changed nothing, so each save runs on its own and gets its own result.
  log::Logger("annotation")
      ->warn("save batch failed, saving one by one size={} reason={} error={}", sorted.size(),
             GetErrorReason(written.status()), std::string(written.status().message()));
  for (PendingSave* save : sorted) {
    save->result = SaveOne(save->key, save->label, save->shapes, 0);
  }
}

absl::StatusOr<v1::Annotation> AnnotationStore::Skip(const AnnotationKey& key) {
  return pool_->Query<v1::Annotation>([&](pqxx::work& tx) -> absl::StatusOr<v1::Annotation> {
    OpenSessionIn(tx, key.use_case, key.dataset, key.annotator);
    pqxx::result result = tx.exec_params(
        absl::StrCat("INSERT INTO annotations AS a (use_case, dataset, annotator, instance, "
                     "state) VALUES ($1, $2, $3, $4, 'SKIPPED') "
                     "ON CONFLICT ON CONSTRAINT annotations_key DO UPDATE "
                     "SET update_time = now(), revision = a.revision + 1 "
                     "WHERE a.state = 'SKIPPED' RETURNING ",
                     kAnnotationColumns),
        key.use_case, key.dataset, key.annotator, key.instance);
    if (result.empty()) {
      return FailedPrecondition(
          "ALREADY_ANNOTATED",
          absl::StrCat("instance \"", key.instance, "\" is already annotated by \"",
                       key.annotator,
                       "\"; to change it, save a new label with SaveAnnotation instead of "
                       "skipping"),
          {{"instance", key.instance}, {"annotator", key.annotator}});
    }
    return ToAnnotation(result[0]);
  });
}

absl::StatusOr<v1::Annotation> AnnotationStore::Get(int64_t id) {
  return pool_->Query<v1::Annotation>([&](pqxx::work& tx) -> absl::StatusOr<v1::Annotation> {
    pqxx::result result = tx.exec_params(
        absl::StrCat("SELECT ", kAnnotationColumns, " FROM annotations WHERE id = $1"), id);
    if (result.empty()) {
      return NotFound("ANNOTATION_NOT_FOUND",
                      absl::StrCat("annotation \"", AnnotationName(id),
                                   "\" not found; list your annotations with ListAnnotations"),
                      {{"annotation", AnnotationName(id)}});
    }
    return ToAnnotation(result[0]);
  });
}

absl::StatusOr<AnnotationStore::ListResult> AnnotationStore::List(const AnnotatorSet& set,
                                                                  const AnnotationFilter& filter,
                                                                  int64_t offset, int limit) {
  std::string state;
  if (filter.state.has_value()) {
    state = *filter.state == v1::Annotation::ANNOTATED ? "ANNOTATED" : "SKIPPED";
  }
  const std::string where =
      "WHERE use_case = $1 AND dataset = $2 AND annotator = $3 "
      "AND ($4::boolean = false OR state = $5) AND ($6::boolean = false OR label = $7) "
      "AND ($8::boolean = false OR instance = $9)";
  return pool_->Query<ListResult>([&](pqxx::work& tx) -> absl::StatusOr<ListResult> {
    ListResult list;
    pqxx::result count = tx.exec_params(
        absl::StrCat("SELECT count(*) FROM annotations ", where), set.use_case, set.dataset,
        set.annotator, filter.state.has_value(), state, filter.label.has_value(),
        filter.label.value_or(""), filter.instance.has_value(), filter.instance.value_or(""));
    list.total_size = count[0][0].as<int64_t>();

    pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT ", kAnnotationColumns, " FROM annotations ", where,
                     " ORDER BY id LIMIT $10 OFFSET $11"),
        set.use_case, set.dataset, set.annotator, filter.state.has_value(), state,
        filter.label.has_value(), filter.label.value_or(""), filter.instance.has_value(),
        filter.instance.value_or(""), limit, offset);
    for (const pqxx::row& row : rows) {
      AILAB_ASSIGN_OR_RETURN(v1::Annotation annotation, ToAnnotation(row));
      list.annotations.push_back(std::move(annotation));
    }
    return list;
  });
}

absl::StatusOr<StateCounts> AnnotationStore::CountStates(const AnnotatorSet& set) {
  return pool_->Query<StateCounts>([&](pqxx::work& tx) -> absl::StatusOr<StateCounts> {
    pqxx::result result = tx.exec_params(
        "SELECT count(*) FILTER (WHERE state = 'ANNOTATED'), "
        "count(*) FILTER (WHERE state = 'SKIPPED') FROM annotations "
        "WHERE use_case = $1 AND dataset = $2 AND annotator = $3",
        set.use_case, set.dataset, set.annotator);
    return StateCounts{result[0][0].as<int64_t>(), result[0][1].as<int64_t>()};
  });
}

absl::StatusOr<absl::flat_hash_map<std::string, v1::Annotation::State>>
AnnotationStore::InstanceStates(const AnnotatorSet& set) {
  using StateMap = absl::flat_hash_map<std::string, v1::Annotation::State>;
  return pool_->Query<StateMap>([&](pqxx::work& tx) -> absl::StatusOr<StateMap> {
    pqxx::result result = tx.exec_params(
        "SELECT instance, state FROM annotations "
        "WHERE use_case = $1 AND dataset = $2 AND annotator = $3",
        set.use_case, set.dataset, set.annotator);
    StateMap states;
    states.reserve(result.size());
    for (const pqxx::row& row : result) {
      states.emplace(row[0].as<std::string>(), ParseState(row[1].as<std::string>()));
    }
    return states;
  });
}

absl::StatusOr<absl::flat_hash_map<std::string, std::string>> AnnotationStore::Labels(
    const AnnotatorSet& set) {
  using LabelMap = absl::flat_hash_map<std::string, std::string>;
  return pool_->Query<LabelMap>([&](pqxx::work& tx) -> absl::StatusOr<LabelMap> {
    pqxx::result result = tx.exec_params(
        "SELECT instance, label FROM annotations "
        "WHERE use_case = $1 AND dataset = $2 AND annotator = $3 AND state = 'ANNOTATED'",
        set.use_case, set.dataset, set.annotator);
    LabelMap labels;
    labels.reserve(result.size());
    for (const pqxx::row& row : result) {
      labels.emplace(row[0].as<std::string>(), row[1].as<std::string>());
    }
    return labels;
  });
}

absl::StatusOr<std::vector<v1::Annotation>> AnnotationStore::Annotated(const AnnotatorSet& set) {
  using Annotations = std::vector<v1::Annotation>;
  return pool_->Query<Annotations>([&](pqxx::work& tx) -> absl::StatusOr<Annotations> {
    pqxx::result result = tx.exec_params(
        absl::StrCat("SELECT ", kAnnotationColumns,
                     " FROM annotations WHERE use_case = $1 AND dataset = $2 AND "
                     "annotator = $3 AND state = 'ANNOTATED' ORDER BY id"),
        set.use_case, set.dataset, set.annotator);
    Annotations annotations;
    annotations.reserve(result.size());
    for (const pqxx::row& row : result) {
      AILAB_ASSIGN_OR_RETURN(v1::Annotation annotation, ToAnnotation(row));
      annotations.push_back(std::move(annotation));
    }
    return annotations;
  });
}

absl::StatusOr<std::vector<LabelVote>> AnnotationStore::LabelsExcept(
    const std::string& use_case, const std::string& dataset,
    const std::string& excluded_annotator) {
  using Votes = std::vector<LabelVote>;
  return pool_->Query<Votes>([&](pqxx::work& tx) -> absl::StatusOr<Votes> {
    pqxx::result result = tx.exec_params(
        "SELECT instance, annotator, label FROM annotations "
        "WHERE use_case = $1 AND dataset = $2 AND state = 'ANNOTATED' AND annotator <> $3",
        use_case, dataset, excluded_annotator);
    Votes votes;
    votes.reserve(result.size());
    for (const pqxx::row& row : result) {
      votes.push_back(LabelVote{row[0].as<std::string>(), row[1].as<std::string>(),
                                row[2].as<std::string>()});
    }
    return votes;
  });
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> AnnotationStore::CountByAnnotator(
    const std::string& use_case, const std::string& dataset, std::optional<TimeWindow> window) {
  using Counts = std::vector<std::pair<std::string, int64_t>>;
  TimeWindow bounds = window.value_or(TimeWindow{});
  return pool_->Query<Counts>([&](pqxx::work& tx) -> absl::StatusOr<Counts> {
    pqxx::result result = tx.exec_params(
        "SELECT annotator, count(*) FROM annotations "
        "WHERE use_case = $1 AND dataset = $2 AND state = 'ANNOTATED' AND "
        "($3::boolean = false OR (create_time >= " AILAB_MICROS_TO_TIMESTAMP("$4")
        " AND create_time < " AILAB_MICROS_TO_TIMESTAMP("$5") ")) GROUP BY annotator",
        use_case, dataset, window.has_value(), bounds.start_micros, bounds.end_micros);
    Counts counts;
    counts.reserve(result.size());
    for (const pqxx::row& row : result) {
      counts.emplace_back(row[0].as<std::string>(), row[1].as<int64_t>());
    }
    return counts;
  });
}

absl::Status AnnotationStore::OpenSession(const AnnotatorSet& set) {
  return pool_->Run([&](pqxx::work& tx) -> absl::Status {
    OpenSessionIn(tx, set.use_case, set.dataset, set.annotator);
    return absl::OkStatus();
  });
}

absl::StatusOr<SessionSummary> AnnotationStore::CloseSession(const AnnotatorSet& set) {
  return pool_->Query<SessionSummary>([&](pqxx::work& tx) -> absl::StatusOr<SessionSummary> {
    pqxx::result closed = tx.exec_params(
        "UPDATE sessions SET end_time = now() "
        "WHERE use_case = $1 AND dataset = $2 AND annotator = $3 AND end_time IS NULL "
        "RETURNING " AILAB_TIMESTAMP_MICROS("start_time") ", " AILAB_TIMESTAMP_MICROS("end_time"),
        set.use_case, set.dataset, set.annotator);
    if (closed.empty()) {
      return FailedPrecondition(
          "NO_OPEN_SESSION",
          absl::StrCat("annotator \"", set.annotator, "\" has no open session for use case \"",
                       set.use_case, "\" and dataset \"", set.dataset,
                       "\"; GetNextInstance, SaveAnnotation or SkipInstance opens one"),
          {{"annotator", set.annotator}, {"use_case", set.use_case}, {"dataset", set.dataset}});
    }
    SessionSummary summary;
    summary.start_micros = closed[0][0].as<int64_t>();
    summary.end_micros = closed[0][1].as<int64_t>();
    pqxx::result counts = tx.exec_params(
        "SELECT count(*) FILTER (WHERE state = 'ANNOTATED'), "
        "count(*) FILTER (WHERE state = 'SKIPPED') FROM annotations "
        "WHERE use_case = $1 AND dataset = $2 AND annotator = $3 AND "
        "update_time >= " AILAB_MICROS_TO_TIMESTAMP("$4"),
        set.use_case, set.dataset, set.annotator, summary.start_micros);
    summary.annotated = counts[0][0].as<int64_t>();
    summary.skipped = counts[0][1].as<int64_t>();
    return summary;
  });
}

absl::StatusOr<v1::Quota> AnnotationStore::SetQuota(const std::string& use_case,
                                                    const std::string& dataset, int64_t quota,
                                                    int64_t total_instances) {
  return pool_->Query<v1::Quota>([&](pqxx::work& tx) -> absl::StatusOr<v1::Quota> {
    pqxx::result result = tx.exec_params(
        "INSERT INTO quotas (use_case, dataset, quota, total_instances) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (use_case, dataset) DO UPDATE SET quota = EXCLUDED.quota, "
        "total_instances = EXCLUDED.total_instances, update_time = now() "
        "RETURNING " AILAB_TIMESTAMP_MICROS("update_time"),
        use_case, dataset, quota, total_instances);
    v1::Quota stored;
    stored.set_use_case(use_case);
    stored.set_dataset(dataset);
    stored.set_quota(quota);
    stored.set_total_instances(total_instances);
    *stored.mutable_update_time() = FromMicros(result[0][0].as<int64_t>());
    return stored;
  });
}

absl::StatusOr<int64_t> AnnotationStore::GetQuota(const std::string& use_case,
                                                  const std::string& dataset) {
  return pool_->Query<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    pqxx::result result = tx.exec_params(
        "SELECT quota FROM quotas WHERE use_case = $1 AND dataset = $2", use_case, dataset);
    return result.empty() ? int64_t{0} : result[0][0].as<int64_t>();
  });
}

absl::StatusOr<v1::ReferenceReader> AnnotationStore::SetReferenceReader(
    const std::string& use_case, const std::string& dataset, const std::string& annotator) {
  return pool_->Query<v1::ReferenceReader>(
      [&](pqxx::work& tx) -> absl::StatusOr<v1::ReferenceReader> {
        // Locks the current row, so two replacements cannot both pass the check.
        pqxx::result current = tx.exec_params(
            "SELECT annotator FROM reference_readers WHERE use_case = $1 AND dataset = $2 "
            "FOR UPDATE",
            use_case, dataset);
        if (!current.empty() && current[0][0].as<std::string>() != annotator) {
          std::string previous = current[0][0].as<std::string>();
          pqxx::result labelled = tx.exec_params(
              "SELECT count(*) FROM annotations WHERE use_case = $1 AND dataset = $2 AND "
              "annotator = $3",
              use_case, dataset, previous);
          int64_t count = labelled[0][0].as<int64_t>();
          if (count > 0) {
            return FailedPrecondition(
                "REFERENCE_READER_HAS_ANNOTATIONS",
                absl::StrCat("use case \"", use_case, "\" and dataset \"", dataset,
                             "\" already have reference reader \"", previous, "\" with ", count,
                             " annotations; replacing them would make those labels exportable, "
                             "so use another dataset for a new reference reader"),
                {{"use_case", use_case}, {"dataset", dataset}, {"reference_reader", previous}});
          }
        }
        tx.exec_params(
            "INSERT INTO reference_readers (use_case, dataset, annotator) VALUES ($1, $2, $3) "
            "ON CONFLICT (use_case, dataset) DO UPDATE SET annotator = EXCLUDED.annotator, "
            "create_time = CASE WHEN reference_readers.annotator = EXCLUDED.annotator "
            "THEN reference_readers.create_time ELSE now() END",
            use_case, dataset, annotator);
        pqxx::result stored = tx.exec_params(
            "SELECT r.annotator, " AILAB_TIMESTAMP_MICROS("r.create_time") ", "
            "(SELECT count(*) FROM annotations a WHERE a.use_case = r.use_case AND "
            "a.dataset = r.dataset AND a.annotator = r.annotator AND a.state = 'ANNOTATED') "
            "FROM reference_readers r WHERE r.use_case = $1 AND r.dataset = $2",
            use_case, dataset);
        v1::ReferenceReader reader;
        reader.set_use_case(use_case);
        reader.set_dataset(dataset);
        reader.set_annotator(stored[0][0].as<std::string>());
        *reader.mutable_create_time() = FromMicros(stored[0][1].as<int64_t>());
        reader.set_annotated_count(stored[0][2].as<int64_t>());
        return reader;
      });
}

absl::StatusOr<std::optional<v1::ReferenceReader>> AnnotationStore::GetReferenceReader(
    const std::string& use_case, const std::string& dataset) {
  using Reader = std::optional<v1::ReferenceReader>;
  return pool_->Query<Reader>([&](pqxx::work& tx) -> absl::StatusOr<Reader> {
    pqxx::result stored = tx.exec_params(
        "SELECT r.annotator, " AILAB_TIMESTAMP_MICROS("r.create_time") ", "
        "(SELECT count(*) FROM annotations a WHERE a.use_case = r.use_case AND "
        "a.dataset = r.dataset AND a.annotator = r.annotator AND a.state = 'ANNOTATED') "
        "FROM reference_readers r WHERE r.use_case = $1 AND r.dataset = $2",
        use_case, dataset);
    if (stored.empty()) return Reader();
    v1::ReferenceReader reader;
    reader.set_use_case(use_case);
    reader.set_dataset(dataset);
    reader.set_annotator(stored[0][0].as<std::string>());
    *reader.mutable_create_time() = FromMicros(stored[0][1].as<int64_t>());
    reader.set_annotated_count(stored[0][2].as<int64_t>());
    return Reader(std::move(reader));
  });
}

absl::StatusOr<v1::Contest> AnnotationStore::CreateContest(const v1::Contest& contest) {
  return pool_->Query<v1::Contest>([&](pqxx::work& tx) -> absl::StatusOr<v1::Contest> {
    pqxx::result result = tx.exec_params(
        absl::StrCat("INSERT INTO contests (display_name, use_case, dataset, start_time, "
                     "end_time) VALUES ($1, $2, $3, " AILAB_MICROS_TO_TIMESTAMP("$4") ", "
                     AILAB_MICROS_TO_TIMESTAMP("$5") ") RETURNING ",
                     kContestColumns),
        contest.display_name(), contest.use_case(), contest.dataset(),
        TimeUtil::TimestampToMicroseconds(contest.start_time()),
        TimeUtil::TimestampToMicroseconds(contest.end_time()));
    return ToContest(result[0]);
  });
}

absl::StatusOr<v1::Contest> AnnotationStore::GetContest(int64_t id) {
  return pool_->Query<v1::Contest>([&](pqxx::work& tx) -> absl::StatusOr<v1::Contest> {
    pqxx::result result = tx.exec_params(
        absl::StrCat("SELECT ", kContestColumns, " FROM contests WHERE id = $1"), id);
    if (result.empty()) {
      return NotFound("CONTEST_NOT_FOUND",
                      absl::StrCat("contest \"", ContestName(id),
                                   "\" not found; list contests with ListContests"),
                      {{"contest", ContestName(id)}});
    }
    return ToContest(result[0]);
  });
}

absl::StatusOr<std::vector<v1::Contest>> AnnotationStore::ListContests(int64_t offset,
                                                                       int limit) {
  using Contests = std::vector<v1::Contest>;
  return pool_->Query<Contests>([&](pqxx::work& tx) -> absl::StatusOr<Contests> {
    pqxx::result result = tx.exec_params(
        absl::StrCat("SELECT ", kContestColumns,
                     " FROM contests ORDER BY id DESC LIMIT $1 OFFSET $2"),
        limit, offset);
    Contests contests;
    for (const pqxx::row& row : result) contests.push_back(ToContest(row));
    return contests;
  });
}

}  // namespace ailab::annotation
