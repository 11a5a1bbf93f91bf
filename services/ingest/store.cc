#include "store.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ailab/status/status.h"
#include "names.h"

namespace ailab::ingest {
namespace {

constexpr char kSchemaV1[] = R"sql(
CREATE TABLE datasets (
  id text PRIMARY KEY,
  seq bigserial UNIQUE,
  display_name text NOT NULL,
  description text NOT NULL DEFAULT '',
  use_case text NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE studies (
  dataset_id text NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
  id text NOT NULL,
  study_instance_uid text NOT NULL,
  patient_pseudonym text NOT NULL,
  study_date text NOT NULL DEFAULT '',
  PRIMARY KEY (dataset_id, id)
);

CREATE TABLE series (
  dataset_id text NOT NULL,
  study_id text NOT NULL,
  id text NOT NULL,
  series_instance_uid text NOT NULL,
  modality text NOT NULL DEFAULT '',
  PRIMARY KEY (dataset_id, id),
  FOREIGN KEY (dataset_id, study_id) REFERENCES studies (dataset_id, id) ON DELETE CASCADE
);

CREATE TABLE instances (
  dataset_id text NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
  id text NOT NULL,
  seq bigserial,
  study_id text NOT NULL,
  series_id text NOT NULL,
  sop_instance_uid text NOT NULL,
  sop_class_uid text NOT NULL DEFAULT '',
  source_file text NOT NULL DEFAULT '',
  patient_pseudonym text NOT NULL,
  study_date text NOT NULL DEFAULT '',
  modality text NOT NULL DEFAULT '',
  body_part text NOT NULL DEFAULT '',
  laterality text NOT NULL DEFAULT '',
  view text NOT NULL DEFAULT '',
  manufacturer text NOT NULL DEFAULT '',
  model text NOT NULL DEFAULT '',
  pixel_spacing_row_mm double precision NOT NULL DEFAULT 0,
  pixel_spacing_column_mm double precision NOT NULL DEFAULT 0,
  pixel_spacing_source text NOT NULL DEFAULT '',
  presentation_intent text NOT NULL DEFAULT '',
  image_rows integer NOT NULL DEFAULT 0,
  image_columns integer NOT NULL DEFAULT 0,
  frames integer NOT NULL DEFAULT 0,
  photometric_interpretation text NOT NULL DEFAULT '',
  bits_stored integer NOT NULL DEFAULT 0,
  transfer_syntax_uid text NOT NULL DEFAULT '',
  burned_in_annotation text NOT NULL DEFAULT '',
  has_image boolean NOT NULL DEFAULT false,
  split text NOT NULL DEFAULT '' CHECK (split IN ('', 'TRAIN', 'VALIDATION', 'TEST')),
  dicom_blob text NOT NULL,
  dicom_size_bytes bigint NOT NULL DEFAULT 0,
  png_blob text NOT NULL DEFAULT '',
  array_blob text NOT NULL DEFAULT '',
  array_shape text NOT NULL DEFAULT '',
  array_dtype text NOT NULL DEFAULT '',
  preparation_error text NOT NULL DEFAULT '',
  warnings text NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dataset_id, id),
  UNIQUE (dataset_id, sop_instance_uid),
  FOREIGN KEY (dataset_id, series_id) REFERENCES series (dataset_id, id) ON DELETE CASCADE
);
CREATE INDEX instances_by_upload ON instances (dataset_id, seq);
CREATE INDEX instances_by_patient ON instances (dataset_id, patient_pseudonym);

CREATE TABLE preparation_runs (
  dataset_id text NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
  id text NOT NULL,
  seq bigserial,
  kinds text NOT NULL,
  array_size integer NOT NULL,
  window_preset text NOT NULL DEFAULT '',
  array_dtype text NOT NULL,
  only_missing boolean NOT NULL DEFAULT false,
  state text NOT NULL CHECK (state IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
  total_count bigint NOT NULL DEFAULT 0,
  done_count bigint NOT NULL DEFAULT 0,
  failed_count bigint NOT NULL DEFAULT 0,
  error text NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT now(),
  start_time timestamptz,
  end_time timestamptz,
  PRIMARY KEY (dataset_id, id)
);

CREATE TABLE preparation_items (
  dataset_id text NOT NULL,
  run_id text NOT NULL,
  instance_id text NOT NULL,
  instance_seq bigint NOT NULL,
  state text NOT NULL DEFAULT 'PENDING'
    CHECK (state IN ('PENDING', 'RUNNING', 'DONE', 'FAILED')),
  reason text NOT NULL DEFAULT '',
  message text NOT NULL DEFAULT '',
  PRIMARY KEY (dataset_id, run_id, instance_id),
  FOREIGN KEY (dataset_id, run_id) REFERENCES preparation_runs (dataset_id, id) ON DELETE CASCADE
);
CREATE INDEX preparation_items_waiting ON preparation_items (dataset_id, run_id, instance_seq)
  WHERE state = 'PENDING';

CREATE TABLE identity_map (
  kind text NOT NULL,
  original text NOT NULL,
  pseudonym text NOT NULL,
  first_dataset_id text NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, original, pseudonym)
);
COMMENT ON TABLE identity_map IS
  'Original identifiers (protected health information) and the pseudonyms that replaced them '
  'at ingest. Only the administrator role may read this table; no RPC returns its content.';
REVOKE ALL ON identity_map FROM PUBLIC;

CREATE TABLE deidentification_key (
  id integer PRIMARY KEY CHECK (id = 1),
  secret text NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE deidentification_key IS
  'Secret key from which pseudonyms, replacement UIDs and date shifts derive. Only the '
  'administrator role may read this table; whoever holds the key can confirm a guessed identity.';
REVOKE ALL ON deidentification_key FROM PUBLIC;
)sql";

// Columns of an instance as selected everywhere.
constexpr char kInstanceColumns[] =
    "dataset_id, id, study_id, series_id, sop_instance_uid, sop_class_uid, source_file, "
    "patient_pseudonym, study_date, modality, body_part, laterality, view, manufacturer, model, "
    "pixel_spacing_row_mm, pixel_spacing_column_mm, pixel_spacing_source, presentation_intent, "
    "image_rows, image_columns, frames, photometric_interpretation, bits_stored, "
    "transfer_syntax_uid, burned_in_annotation, has_image, split, dicom_blob, dicom_size_bytes, "
    "png_blob, array_blob, array_shape, array_dtype, preparation_error, warnings, "
    "EXTRACT(EPOCH FROM create_time)::float8 AS create_epoch";

constexpr char kRunColumns[] =
    "dataset_id, id, kinds, array_size, window_preset, array_dtype, only_missing, state, "
    "total_count, done_count, failed_count, error, "
    "EXTRACT(EPOCH FROM create_time)::float8 AS create_epoch, "
    "COALESCE(EXTRACT(EPOCH FROM start_time)::float8, 0) AS start_epoch, "
    "COALESCE(EXTRACT(EPOCH FROM end_time)::float8, 0) AS end_epoch";

void SetTimestamp(double epoch_seconds, google::protobuf::Timestamp* out) {
  if (epoch_seconds <= 0) return;
  double seconds = std::floor(epoch_seconds);
  out->set_seconds(static_cast<int64_t>(seconds));
  out->set_nanos(static_cast<int32_t>((epoch_seconds - seconds) * 1e9));
}

std::string SplitToText(v1::DataSplit split) {
  switch (split) {
    case v1::TRAIN:
      return "TRAIN";
    case v1::VALIDATION:
      return "VALIDATION";
    case v1::TEST:
      return "TEST";
    default:
      return "";
  }
}

v1::DataSplit SplitFromText(const std::string& text) {
  if (text == "TRAIN") return v1::TRAIN;
  if (text == "VALIDATION") return v1::VALIDATION;
  if (text == "TEST") return v1::TEST;
  return v1::DATA_SPLIT_UNSPECIFIED;
}

v1::Instance InstanceFromRow(const pqxx::row& row) {
  v1::Instance out;
  std::string dataset_id = row["dataset_id"].as<std::string>();
  std::string study_id = row["study_id"].as<std::string>();
  out.set_name(InstanceName(dataset_id, row["id"].as<std::string>()));
  out.set_study(StudyName(dataset_id, study_id));
  out.set_series(SeriesResourceName(dataset_id, study_id, row["series_id"].as<std::string>()));
  out.set_sop_instance_uid(row["sop_instance_uid"].as<std::string>());
  out.set_sop_class_uid(row["sop_class_uid"].as<std::string>());
  out.set_source_file(row["source_file"].as<std::string>());
  out.set_patient_pseudonym(row["patient_pseudonym"].as<std::string>());
  out.set_study_date(row["study_date"].as<std::string>());
  out.set_modality(row["modality"].as<std::string>());
  out.set_body_part(row["body_part"].as<std::string>());
  out.set_laterality(row["laterality"].as<std::string>());
  out.set_view(row["view"].as<std::string>());
  out.set_manufacturer(row["manufacturer"].as<std::string>());
  out.set_model(row["model"].as<std::string>());
  double row_mm = row["pixel_spacing_row_mm"].as<double>();
  if (row_mm > 0) {
    out.mutable_pixel_spacing()->set_row_mm(row_mm);
    out.mutable_pixel_spacing()->set_column_mm(row["pixel_spacing_column_mm"].as<double>());
    out.mutable_pixel_spacing()->set_source(row["pixel_spacing_source"].as<std::string>());
  }
  out.set_presentation_intent(row["presentation_intent"].as<std::string>());
  out.set_rows(row["image_rows"].as<int>());
  out.set_columns(row["image_columns"].as<int>());
  out.set_frames(row["frames"].as<int>());
  out.set_photometric_interpretation(row["photometric_interpretation"].as<std::string>());
  out.set_bits_stored(row["bits_stored"].as<int>());
  out.set_transfer_syntax_uid(row["transfer_syntax_uid"].as<std::string>());
  out.set_burned_in_annotation(row["burned_in_annotation"].as<std::string>());
  out.set_has_image(row["has_image"].as<bool>());
  out.set_split(SplitFromText(row["split"].as<std::string>()));
  out.set_dicom_blob(row["dicom_blob"].as<std::string>());
  out.set_dicom_size_bytes(row["dicom_size_bytes"].as<int64_t>());
  out.set_png_blob(row["png_blob"].as<std::string>());
  out.set_array_blob(row["array_blob"].as<std::string>());
  for (absl::string_view extent :
       absl::StrSplit(row["array_shape"].as<std::string>(), ',', absl::SkipEmpty())) {
    int64_t value = 0;
    if (absl::SimpleAtoi(extent, &value)) out.add_array_shape(value);
  }
  out.set_array_dtype(row["array_dtype"].as<std::string>());
  out.set_png_ready(!out.png_blob().empty());
  out.set_array_ready(!out.array_blob().empty());
  out.set_preparation_error(row["preparation_error"].as<std::string>());
  for (absl::string_view warning :
       absl::StrSplit(row["warnings"].as<std::string>(), '\n', absl::SkipEmpty())) {
    out.add_warnings(std::string(warning));
  }
  SetTimestamp(row["create_epoch"].as<double>(), out.mutable_create_time());
  return out;
}

v1::PreparationRun::State StateFromText(const std::string& text) {
  v1::PreparationRun::State state = v1::PreparationRun::STATE_UNSPECIFIED;
  v1::PreparationRun::State_Parse(text, &state);
  return state;
}

v1::PreparationRun RunFromRow(const pqxx::row& row) {
  v1::PreparationRun run;
  run.set_name(PreparationRunName(row["dataset_id"].as<std::string>(), row["id"].as<std::string>()));
  for (absl::string_view kind : absl::StrSplit(row["kinds"].as<std::string>(), ',', absl::SkipEmpty())) {
    v1::PreparationKind parsed = v1::PREPARATION_KIND_UNSPECIFIED;
    if (v1::PreparationKind_Parse(std::string(kind), &parsed)) run.add_kinds(parsed);
  }
  run.set_array_size(row["array_size"].as<int>());
  run.set_window_preset(row["window_preset"].as<std::string>());
  run.set_array_dtype(row["array_dtype"].as<std::string>());
  run.set_only_missing(row["only_missing"].as<bool>());
  run.set_state(StateFromText(row["state"].as<std::string>()));
  run.set_total_count(row["total_count"].as<int64_t>());
  run.set_done_count(row["done_count"].as<int64_t>());
  run.set_failed_count(row["failed_count"].as<int64_t>());
  run.set_error(row["error"].as<std::string>());
  SetTimestamp(row["create_epoch"].as<double>(), run.mutable_create_time());
  SetTimestamp(row["start_epoch"].as<double>(), run.mutable_start_time());
  SetTimestamp(row["end_epoch"].as<double>(), run.mutable_end_time());
  return run;
}

absl::Status DatasetNotFound(const std::string& id) {
  return NotFound("DATASET_NOT_FOUND",
                  absl::StrCat("dataset \"", DatasetName(id),
                               "\" not found; list datasets with ListDatasets"),
                  {{"name", DatasetName(id)}});
}

absl::Status RunNotFound(const std::string& dataset_id, const std::string& run_id) {
  std::string name = PreparationRunName(dataset_id, run_id);
  return NotFound("PREPARATION_RUN_NOT_FOUND",
                  absl::StrCat("preparation run \"", name,
                               "\" not found; list runs with ListPreparationRuns"),
                  {{"name", name}});
}

absl::Status CheckDatasetExistsIn(pqxx::work& tx, const std::string& id) {
  if (tx.exec_params("SELECT 1 FROM datasets WHERE id = $1", id).empty()) {
    return DatasetNotFound(id);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Dataset> LoadDataset(pqxx::work& tx, const std::string& id) {
  pqxx::result rows = tx.exec_params(
      "SELECT d.id, d.display_name, d.description, d.use_case, "
      "  EXTRACT(EPOCH FROM d.create_time)::float8 AS create_epoch, "
      "  (SELECT count(*) FROM instances i WHERE i.dataset_id = d.id) AS instances, "
      "  (SELECT count(*) FROM studies s WHERE s.dataset_id = d.id) AS studies, "
      "  (SELECT count(*) FROM series s WHERE s.dataset_id = d.id) AS series, "
      "  (SELECT count(DISTINCT patient_pseudonym) FROM instances i WHERE i.dataset_id = d.id) "
      "    AS patients, "
      "  (SELECT count(*) FROM instances i WHERE i.dataset_id = d.id AND split = 'TRAIN') AS train, "
      "  (SELECT count(*) FROM instances i WHERE i.dataset_id = d.id AND split = 'VALIDATION') "
      "    AS validation, "
      "  (SELECT count(*) FROM instances i WHERE i.dataset_id = d.id AND split = 'TEST') AS test, "
      "  (SELECT count(*) FROM instances i WHERE i.dataset_id = d.id AND split = '') AS unassigned, "
      "  (SELECT count(*) FROM instances i WHERE i.dataset_id = d.id AND png_blob <> '') "
      "    AS png_ready, "
      "  (SELECT count(*) FROM instances i WHERE i.dataset_id = d.id AND array_blob <> '') "
      "    AS array_ready, "
      "  (SELECT count(*) FROM instances i WHERE i.dataset_id = d.id AND has_image) AS images "
      "FROM datasets d WHERE d.id = $1",
      id);
  if (rows.empty()) return DatasetNotFound(id);
  const pqxx::row& row = rows[0];
  v1::Dataset dataset;
  dataset.set_name(DatasetName(id));
  dataset.set_display_name(row["display_name"].as<std::string>());
  dataset.set_description(row["description"].as<std::string>());
  dataset.set_use_case(row["use_case"].as<std::string>());
  SetTimestamp(row["create_epoch"].as<double>(), dataset.mutable_create_time());
  v1::DatasetCounts* counts = dataset.mutable_counts();
  counts->set_instances(row["instances"].as<int64_t>());
  counts->set_studies(row["studies"].as<int64_t>());
  counts->set_series(row["series"].as<int64_t>());
  counts->set_patients(row["patients"].as<int64_t>());
  counts->set_train(row["train"].as<int64_t>());
  counts->set_validation(row["validation"].as<int64_t>());
  counts->set_test(row["test"].as<int64_t>());
  counts->set_unassigned(row["unassigned"].as<int64_t>());
  counts->set_png_ready(row["png_ready"].as<int64_t>());
  counts->set_array_ready(row["array_ready"].as<int64_t>());
  counts->set_images(row["images"].as<int64_t>());
  return dataset;
}

absl::StatusOr<v1::PreparationRun> LoadRun(pqxx::work& tx, const std::string& dataset_id,
                                           const std::string& run_id, bool with_failures) {
  pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT ", kRunColumns, " FROM preparation_runs WHERE dataset_id = $1 AND id = $2"),
      dataset_id, run_id);
  if (rows.empty()) return RunNotFound(dataset_id, run_id);
  v1::PreparationRun run = RunFromRow(rows[0]);
  if (with_failures) {
    pqxx::result failures = tx.exec_params(
        "SELECT p.instance_id, p.reason, p.message, COALESCE(i.source_file, '') AS source_file "
        "FROM preparation_items p LEFT JOIN instances i "
        "  ON i.dataset_id = p.dataset_id AND i.id = p.instance_id "
        "WHERE p.dataset_id = $1 AND p.run_id = $2 AND p.state = 'FAILED' "
        "ORDER BY p.instance_seq LIMIT 100",
        dataset_id, run_id);
    for (const pqxx::row& row : failures) {
      v1::PreparationFailure* failure = run.add_failures();
      failure->set_instance(InstanceName(dataset_id, row["instance_id"].as<std::string>()));
      failure->set_source_file(row["source_file"].as<std::string>());
      failure->set_reason(row["reason"].as<std::string>());
      failure->set_message(row["message"].as<std::string>());
    }
  }
  return run;
}

// Ends a RUNNING run when none of its items is waiting or in progress.
void FinishRunIfDone(pqxx::work& tx, const std::string& dataset_id, const std::string& run_id) {
  tx.exec_params(
      "UPDATE preparation_runs SET state = 'SUCCEEDED', end_time = now() "
      "WHERE dataset_id = $1 AND id = $2 AND state IN ('QUEUED', 'RUNNING') "
      "AND NOT EXISTS (SELECT 1 FROM preparation_items WHERE dataset_id = $1 AND run_id = $2 "
      "  AND state IN ('PENDING', 'RUNNING'))",
      dataset_id, run_id);
}

}  // namespace

std::vector<pg::Migration> IngestStore::Migrations() {
  return {{1, "datasets, instances, preparation runs and the identity map", kSchemaV1}};
}

absl::StatusOr<std::string> IngestStore::LoadOrCreateDeidentificationKey(
    const std::string& generated) {
  return pool_.Query<std::string>([&](pqxx::work& tx) -> absl::StatusOr<std::string> {
    tx.exec_params(
        "INSERT INTO deidentification_key (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        generated);
    return tx.exec("SELECT secret FROM deidentification_key WHERE id = 1")[0][0].as<std::string>();
  });
}

absl::StatusOr<v1::Dataset> IngestStore::CreateDataset(const std::string& id,
                                                       const v1::Dataset& dataset) {
  return pool_.Query<v1::Dataset>([&](pqxx::work& tx) -> absl::StatusOr<v1::Dataset> {
    pqxx::result inserted = tx.exec_params(
        "INSERT INTO datasets (id, display_name, description, use_case) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (id) DO NOTHING RETURNING id",
        id, dataset.display_name(), dataset.description(), dataset.use_case());
    if (inserted.empty()) {
      return AlreadyExists("DATASET_ALREADY_EXISTS",
                           absl::StrCat("dataset \"", DatasetName(id),
                                        "\" already exists; choose another dataset_id"),
                           {{"name", DatasetName(id)}});
    }
    return LoadDataset(tx, id);
  });
}

absl::StatusOr<v1::Dataset> IngestStore::GetDataset(const std::string& id) {
  return pool_.Query<v1::Dataset>(
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Dataset> { return LoadDataset(tx, id); });
}

absl::StatusOr<Page<v1::Dataset>> IngestStore::ListDatasets(int64_t offset, int limit) {
  return pool_.Query<Page<v1::Dataset>>([&](pqxx::work& tx) -> absl::StatusOr<Page<v1::Dataset>> {
    Page<v1::Dataset> page;
    page.total_size = tx.exec("SELECT count(*) FROM datasets")[0][0].as<int64_t>();
    pqxx::result rows = tx.exec_params(
        "SELECT id FROM datasets ORDER BY seq DESC OFFSET $1 LIMIT $2", offset, limit + 1);
    for (const pqxx::row& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.has_more = true;
        break;
      }
      AILAB_ASSIGN_OR_RETURN(v1::Dataset dataset, LoadDataset(tx, row[0].as<std::string>()));
      page.items.push_back(std::move(dataset));
    }
    return page;
  });
}

absl::StatusOr<int64_t> IngestStore::DeleteDataset(const std::string& id) {
  return pool_.Query<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    if (tx.exec_params("SELECT 1 FROM datasets WHERE id = $1 FOR UPDATE", id).empty()) {
      return DatasetNotFound(id);
    }
    pqxx::result active = tx.exec_params(
        "SELECT id FROM preparation_runs WHERE dataset_id = $1 AND state IN ('QUEUED', 'RUNNING') "
        "LIMIT 1",
        id);
    if (!active.empty()) {
      std::string run = PreparationRunName(id, active[0][0].as<std::string>());
      return FailedPrecondition("PREPARATION_RUN_ACTIVE",
                                absl::StrCat("dataset \"", DatasetName(id),
                                             "\" has an active preparation run \"", run,
                                             "\"; cancel it with CancelPreparationRun first"),
                                {{"name", DatasetName(id)}, {"preparation_run", run}});
    }
    int64_t instances =
        tx.exec_params("SELECT count(*) FROM instances WHERE dataset_id = $1", id)[0][0]
            .as<int64_t>();
    tx.exec_params("DELETE FROM datasets WHERE id = $1", id);
    return instances;
  });
}

absl::Status IngestStore::CheckDatasetExists(const std::string& id) {
  return pool_.Run([&](pqxx::work& tx) { return CheckDatasetExistsIn(tx, id); });
}

absl::StatusOr<std::optional<std::string>> IngestStore::FindInstanceBySopUid(
    const std::string& dataset_id, const std::string& sop_instance_uid) {
  using Result = std::optional<std::string>;
  return pool_.Query<Result>([&](pqxx::work& tx) -> absl::StatusOr<Result> {
    pqxx::result rows = tx.exec_params(
        "SELECT id FROM instances WHERE dataset_id = $1 AND sop_instance_uid = $2", dataset_id,
        sop_instance_uid);
    if (rows.empty()) return Result();
    return Result(rows[0][0].as<std::string>());
  });
}

absl::StatusOr<bool> IngestStore::InsertInstance(const NewInstance& record) {
  const v1::Instance& i = record.instance;
  return pool_.Query<bool>([&](pqxx::work& tx) -> absl::StatusOr<bool> {
    AILAB_RETURN_IF_ERROR(CheckDatasetExistsIn(tx, record.dataset_id));
    tx.exec_params(
        "INSERT INTO studies (dataset_id, id, study_instance_uid, patient_pseudonym, study_date) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dataset_id, id) DO NOTHING",
        record.dataset_id, record.study_id, record.study_instance_uid, i.patient_pseudonym(),
        i.study_date());
    tx.exec_params(
        "INSERT INTO series (dataset_id, study_id, id, series_instance_uid, modality) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dataset_id, id) DO NOTHING",
        record.dataset_id, record.study_id, record.series_id, record.series_instance_uid,
        i.modality());
    std::string warnings = absl::StrJoin(i.warnings(), "\n");
    pqxx::result inserted = tx.exec_params(
        "INSERT INTO instances (dataset_id, id, study_id, series_id, sop_instance_uid, "
        "  sop_class_uid, source_file, patient_pseudonym, study_date, modality, body_part, "
        "  laterality, view, manufacturer, model, pixel_spacing_row_mm, pixel_spacing_column_mm, "
        "  pixel_spacing_source, presentation_intent, image_rows, image_columns, frames, "
        "  photometric_interpretation, bits_stored, transfer_syntax_uid, burned_in_annotation, "
        "  has_image, dicom_blob, dicom_size_bytes, warnings) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
        "  $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30) "
        "ON CONFLICT DO NOTHING RETURNING id",
        record.dataset_id, record.id, record.study_id, record.series_id, i.sop_instance_uid(),
        i.sop_class_uid(), i.source_file(), i.patient_pseudonym(), i.study_date(), i.modality(),
        i.body_part(), i.laterality(), i.view(), i.manufacturer(), i.model(),
        i.pixel_spacing().row_mm(), i.pixel_spacing().column_mm(), i.pixel_spacing().source(),
        i.presentation_intent(), i.rows(), i.columns(), i.frames(),
        i.photometric_interpretation(), i.bits_stored(), i.transfer_syntax_uid(),
        i.burned_in_annotation(), i.has_image(), i.dicom_blob(), i.dicom_size_bytes(), warnings);
    if (inserted.empty()) return false;
    for (const dicom::IdentityMapping& mapping : record.mappings) {
      if (mapping.original.empty()) continue;
      tx.exec_params(
          "INSERT INTO identity_map (kind, original, pseudonym, first_dataset_id) "
          "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
          mapping.kind, mapping.original, mapping.pseudonym, record.dataset_id);
    }
    return true;
  });
}

absl::StatusOr<v1::Instance> IngestStore::GetInstance(const std::string& dataset_id,
                                                      const std::string& id) {
  return pool_.Query<v1::Instance>([&](pqxx::work& tx) -> absl::StatusOr<v1::Instance> {
    pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT ", kInstanceColumns, " FROM instances WHERE dataset_id = $1 AND id = $2"),
        dataset_id, id);
    if (rows.empty()) {
      AILAB_RETURN_IF_ERROR(CheckDatasetExistsIn(tx, dataset_id));
      std::string name = InstanceName(dataset_id, id);
      return NotFound("INSTANCE_NOT_FOUND",
                      absl::StrCat("instance \"", name,
                                   "\" not found; list instances with ListInstances"),
                      {{"name", name}});
    }
    return InstanceFromRow(rows[0]);
  });
}

absl::StatusOr<Page<v1::Instance>> IngestStore::ListInstances(
    const std::string& dataset_id, const std::vector<InstanceCondition>& filter, int64_t offset,
    int limit) {
  return pool_.Query<Page<v1::Instance>>(
      [&](pqxx::work& tx) -> absl::StatusOr<Page<v1::Instance>> {
        AILAB_RETURN_IF_ERROR(CheckDatasetExistsIn(tx, dataset_id));
        // Conditions from ParseInstanceFilter: known columns, values quoted.
        std::string where = absl::StrCat("dataset_id = ", tx.quote(dataset_id));
        for (const InstanceCondition& c : filter) {
          if (c.field == "has_image") {
            absl::StrAppend(&where, " AND ", c.value == "true" ? "" : "NOT ", "has_image");
          } else if (c.boolean) {
            absl::StrAppend(&where, " AND ", c.column, c.value == "true" ? " <> ''" : " = ''");
          } else if (c.field == "split") {
            absl::StrAppend(&where, " AND split = ",
                            tx.quote(c.value == "UNSPECIFIED" ? "" : c.value));
          } else {
            absl::StrAppend(&where, " AND ", c.column, " = ", tx.quote(c.value));
          }
        }
        Page<v1::Instance> page;
        page.total_size =
            tx.exec(absl::StrCat("SELECT count(*) FROM instances WHERE ", where))[0][0]
                .as<int64_t>();
        pqxx::result rows = tx.exec(absl::StrCat("SELECT ", kInstanceColumns,
                                                 " FROM instances WHERE ", where,
                                                 " ORDER BY seq OFFSET ", offset, " LIMIT ",
                                                 limit + 1));
        for (const pqxx::row& row : rows) {
          if (static_cast<int>(page.items.size()) == limit) {
            page.has_more = true;
            break;
          }
          page.items.push_back(InstanceFromRow(row));
        }
        return page;
      });
}

absl::StatusOr<Page<v1::Study>> IngestStore::ListStudies(const std::string& dataset_id,
                                                         int64_t offset, int limit) {
  return pool_.Query<Page<v1::Study>>([&](pqxx::work& tx) -> absl::StatusOr<Page<v1::Study>> {
    AILAB_RETURN_IF_ERROR(CheckDatasetExistsIn(tx, dataset_id));
    Page<v1::Study> page;
    page.total_size =
        tx.exec_params("SELECT count(*) FROM studies WHERE dataset_id = $1", dataset_id)[0][0]
            .as<int64_t>();
    pqxx::result rows = tx.exec_params(
        "SELECT s.id, s.study_instance_uid, s.patient_pseudonym, s.study_date, "
        "  (SELECT count(*) FROM series x WHERE x.dataset_id = s.dataset_id AND x.study_id = s.id) "
        "    AS series_count, "
        "  (SELECT count(*) FROM instances i WHERE i.dataset_id = s.dataset_id "
        "    AND i.study_id = s.id) AS instance_count, "
        "  (SELECT string_agg(DISTINCT modality, ',') FROM series x "
        "    WHERE x.dataset_id = s.dataset_id AND x.study_id = s.id AND modality <> '') "
        "    AS modalities "
        "FROM studies s WHERE s.dataset_id = $1 ORDER BY s.study_date, s.id OFFSET $2 LIMIT $3",
        dataset_id, offset, limit + 1);
    for (const pqxx::row& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.has_more = true;
        break;
      }
      v1::Study study;
      study.set_name(StudyName(dataset_id, row["id"].as<std::string>()));
      study.set_study_instance_uid(row["study_instance_uid"].as<std::string>());
      study.set_patient_pseudonym(row["patient_pseudonym"].as<std::string>());
      study.set_study_date(row["study_date"].as<std::string>());
      study.set_series_count(row["series_count"].as<int64_t>());
      study.set_instance_count(row["instance_count"].as<int64_t>());
      if (!row["modalities"].is_null()) {
        for (absl::string_view m : absl::StrSplit(row["modalities"].as<std::string>(), ',')) {
          study.add_modalities(std::string(m));
        }
      }
      page.items.push_back(std::move(study));
    }
    return page;
  });
}

absl::StatusOr<Page<v1::Series>> IngestStore::ListSeries(const std::string& dataset_id,
                                                         const std::string& study_id,
                                                         int64_t offset, int limit) {
  return pool_.Query<Page<v1::Series>>([&](pqxx::work& tx) -> absl::StatusOr<Page<v1::Series>> {
    if (tx.exec_params("SELECT 1 FROM studies WHERE dataset_id = $1 AND id = $2", dataset_id,
                       study_id)
            .empty()) {
      AILAB_RETURN_IF_ERROR(CheckDatasetExistsIn(tx, dataset_id));
      std::string name = StudyName(dataset_id, study_id);
      return NotFound("STUDY_NOT_FOUND",
                      absl::StrCat("study \"", name, "\" not found; list studies with ListStudies"),
                      {{"name", name}});
    }
    Page<v1::Series> page;
    pqxx::result rows = tx.exec_params(
        "SELECT x.id, x.series_instance_uid, x.modality, "
        "  (SELECT count(*) FROM instances i WHERE i.dataset_id = x.dataset_id "
        "    AND i.series_id = x.id) AS instance_count "
        "FROM series x WHERE x.dataset_id = $1 AND x.study_id = $2 ORDER BY x.id "
        "OFFSET $3 LIMIT $4",
        dataset_id, study_id, offset, limit + 1);
    for (const pqxx::row& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.has_more = true;
        break;
      }
      v1::Series series;
      series.set_name(SeriesResourceName(dataset_id, study_id, row["id"].as<std::string>()));
      series.set_series_instance_uid(row["series_instance_uid"].as<std::string>());
      series.set_modality(row["modality"].as<std::string>());
      series.set_instance_count(row["instance_count"].as<int64_t>());
      page.items.push_back(std::move(series));
    }
    page.total_size = static_cast<int64_t>(offset + page.items.size()) + (page.has_more ? 1 : 0);
    return page;
  });
}

absl::StatusOr<std::vector<std::string>> IngestStore::ListPatients(const std::string& dataset_id) {
  using Result = std::vector<std::string>;
  return pool_.Query<Result>([&](pqxx::work& tx) -> absl::StatusOr<Result> {
    AILAB_RETURN_IF_ERROR(CheckDatasetExistsIn(tx, dataset_id));
    Result patients;
    for (const pqxx::row& row :
         tx.exec_params("SELECT DISTINCT patient_pseudonym FROM instances WHERE dataset_id = $1",
                        dataset_id)) {
      patients.push_back(row[0].as<std::string>());
    }
    return patients;
  });
}

absl::StatusOr<v1::AssignSplitsResponse> IngestStore::ApplySplits(
    const std::string& dataset_id, const std::map<std::string, v1::DataSplit>& splits) {
  using Result = v1::AssignSplitsResponse;
  return pool_.Query<Result>([&](pqxx::work& tx) -> absl::StatusOr<Result> {
    AILAB_RETURN_IF_ERROR(CheckDatasetExistsIn(tx, dataset_id));
    Result response;
    for (const auto& [patient, split] : splits) {
      tx.exec_params(
          "UPDATE instances SET split = $3 WHERE dataset_id = $1 AND patient_pseudonym = $2",
          dataset_id, patient, SplitToText(split));
      if (split == v1::TRAIN) response.set_train_patients(response.train_patients() + 1);
      if (split == v1::VALIDATION) {
        response.set_validation_patients(response.validation_patients() + 1);
      }
      if (split == v1::TEST) response.set_test_patients(response.test_patients() + 1);
    }
    for (const pqxx::row& row : tx.exec_params(
             "SELECT split, count(*) FROM instances WHERE dataset_id = $1 GROUP BY split",
             dataset_id)) {
      std::string split = row[0].as<std::string>();
      int64_t count = row[1].as<int64_t>();
      if (split == "TRAIN") response.set_train_instances(count);
      if (split == "VALIDATION") response.set_validation_instances(count);
      if (split == "TEST") response.set_test_instances(count);
    }
    return response;
  });
}

absl::StatusOr<v1::PreparationRun> IngestStore::CreateRun(const std::string& dataset_id,
                                                          const std::string& run_id,
                                                          const v1::PreparationRun& settings) {
  using Result = v1::PreparationRun;
  return pool_.Query<Result>([&](pqxx::work& tx) -> absl::StatusOr<Result> {
    AILAB_RETURN_IF_ERROR(CheckDatasetExistsIn(tx, dataset_id));
    std::vector<std::string> kinds;
    bool png = false, array = false;
    for (int kind : settings.kinds()) {
      kinds.push_back(v1::PreparationKind_Name(static_cast<v1::PreparationKind>(kind)));
      png = png || kind == v1::PNG;
      array = array || kind == v1::ARRAY;
    }
    tx.exec_params(
        "INSERT INTO preparation_runs (dataset_id, id, kinds, array_size, window_preset, "
        "  array_dtype, only_missing, state) VALUES ($1, $2, $3, $4, $5, $6, $7, 'QUEUED')",
        dataset_id, run_id, absl::StrJoin(kinds, ","), settings.array_size(),
        settings.window_preset(), settings.array_dtype(), settings.only_missing());

    // The instances to process: every image, or those still missing an output.
    std::string missing;
    if (settings.only_missing()) {
      std::vector<std::string> parts;
      if (png) parts.push_back("png_blob = ''");
      if (array) parts.push_back("array_blob = ''");
      missing = absl::StrCat(" AND (", absl::StrJoin(parts, " OR "), ")");
    }
    pqxx::result items = tx.exec_params(
        absl::StrCat("INSERT INTO preparation_items (dataset_id, run_id, instance_id, instance_seq) "
                     "SELECT dataset_id, $2, id, seq FROM instances WHERE dataset_id = $1 "
                     "AND has_image",
                     missing, " RETURNING instance_id"),
        dataset_id, run_id);
    tx.exec_params("UPDATE preparation_runs SET total_count = $3 WHERE dataset_id = $1 AND id = $2",
                   dataset_id, run_id, static_cast<int64_t>(items.size()));
    if (items.empty()) {
      tx.exec_params(
          "UPDATE preparation_runs SET state = 'SUCCEEDED', start_time = now(), end_time = now() "
          "WHERE dataset_id = $1 AND id = $2",
          dataset_id, run_id);
    }
    return LoadRun(tx, dataset_id, run_id, false);
  });
}

absl::StatusOr<v1::PreparationRun> IngestStore::GetRun(const std::string& dataset_id,
                                                       const std::string& run_id) {
  return pool_.Query<v1::PreparationRun>([&](pqxx::work& tx) -> absl::StatusOr<v1::PreparationRun> {
    return LoadRun(tx, dataset_id, run_id, true);
  });
}

absl::StatusOr<Page<v1::PreparationRun>> IngestStore::ListRuns(const std::string& dataset_id,
                                                               int64_t offset, int limit) {
  using Result = Page<v1::PreparationRun>;
  return pool_.Query<Result>([&](pqxx::work& tx) -> absl::StatusOr<Result> {
    AILAB_RETURN_IF_ERROR(CheckDatasetExistsIn(tx, dataset_id));
    Result page;
    page.total_size = tx.exec_params("SELECT count(*) FROM preparation_runs WHERE dataset_id = $1",
                                     dataset_id)[0][0]
                          .as<int64_t>();
    pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT ", kRunColumns,
                     " FROM preparation_runs WHERE dataset_id = $1 ORDER BY seq DESC "
                     "OFFSET $2 LIMIT $3"),
        dataset_id, offset, limit + 1);
    for (const pqxx::row& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.has_more = true;
        break;
      }
      page.items.push_back(RunFromRow(row));
    }
    return page;
  });
}

absl::StatusOr<v1::PreparationRun> IngestStore::CancelRun(const std::string& dataset_id,
                                                          const std::string& run_id) {
  using Result = v1::PreparationRun;
  return pool_.Query<Result>([&](pqxx::work& tx) -> absl::StatusOr<Result> {
    pqxx::result rows = tx.exec_params(
        "SELECT state FROM preparation_runs WHERE dataset_id = $1 AND id = $2 FOR UPDATE",
        dataset_id, run_id);
    if (rows.empty()) return RunNotFound(dataset_id, run_id);
    std::string state = rows[0][0].as<std::string>();
    if (state != "QUEUED" && state != "RUNNING") {
      std::string name = PreparationRunName(dataset_id, run_id);
      return FailedPrecondition("PREPARATION_RUN_ENDED",
                                absl::StrCat("preparation run \"", name, "\" has already ended (",
                                             state, "); only QUEUED or RUNNING runs can be "
                                             "cancelled"),
                                {{"name", name}, {"state", state}});
    }
    tx.exec_params(
        "UPDATE preparation_runs SET state = 'CANCELLED', end_time = now() "
        "WHERE dataset_id = $1 AND id = $2",
        dataset_id, run_id);
    return LoadRun(tx, dataset_id, run_id, true);
  });
}

absl::StatusOr<std::optional<ClaimedItem>> IngestStore::ClaimNextItem() {
  using Result = std::optional<ClaimedItem>;
  return pool_.Query<Result>([&](pqxx::work& tx) -> absl::StatusOr<Result> {
    // SKIP LOCKED lets several worker threads (or replicas) claim different items.
    pqxx::result claimed = tx.exec(
        "UPDATE preparation_items p SET state = 'RUNNING' "
        "FROM (SELECT i.dataset_id, i.run_id, i.instance_id FROM preparation_items i "
        "      JOIN preparation_runs r ON r.dataset_id = i.dataset_id AND r.id = i.run_id "
        "      WHERE i.state = 'PENDING' AND r.state IN ('QUEUED', 'RUNNING') "
        "      ORDER BY r.seq, i.instance_seq LIMIT 1 FOR UPDATE OF i SKIP LOCKED) next "
        "WHERE p.dataset_id = next.dataset_id AND p.run_id = next.run_id "
        "  AND p.instance_id = next.instance_id "
        "RETURNING p.dataset_id, p.run_id, p.instance_id");
    if (claimed.empty()) return Result();
    ClaimedItem item;
    item.dataset_id = claimed[0][0].as<std::string>();
    item.run_id = claimed[0][1].as<std::string>();
    item.instance_id = claimed[0][2].as<std::string>();
    tx.exec_params(
        "UPDATE preparation_runs SET state = 'RUNNING', start_time = COALESCE(start_time, now()) "
        "WHERE dataset_id = $1 AND id = $2 AND state = 'QUEUED'",
        item.dataset_id, item.run_id);
    AILAB_ASSIGN_OR_RETURN(item.run, LoadRun(tx, item.dataset_id, item.run_id, false));
    pqxx::result rows = tx.exec_params(
        absl::StrCat("SELECT ", kInstanceColumns, " FROM instances WHERE dataset_id = $1 AND id = $2"),
        item.dataset_id, item.instance_id);
    if (rows.empty()) {
      return NotFound("INSTANCE_NOT_FOUND", absl::StrCat("instance \"",
                                                         InstanceName(item.dataset_id,
                                                                      item.instance_id),
                                                         "\" of a preparation run is gone"));
    }
    item.instance = InstanceFromRow(rows[0]);
    return Result(std::move(item));
  });
}

absl::StatusOr<v1::PreparationRun::State> IngestStore::CompleteItem(
    const ClaimedItem& item, const PreparedOutputs& outputs, const absl::Status& outcome) {
  using Result = v1::PreparationRun::State;
  return pool_.Query<Result>([&](pqxx::work& tx) -> absl::StatusOr<Result> {
    if (outcome.ok()) {
      std::string shape = absl::StrJoin(outputs.array_shape, ",");
      tx.exec_params(
          "UPDATE instances SET preparation_error = '', "
          "  png_blob = CASE WHEN $3 = '' THEN png_blob ELSE $3 END, "
          "  array_blob = CASE WHEN $4 = '' THEN array_blob ELSE $4 END, "
          "  array_shape = CASE WHEN $4 = '' THEN array_shape ELSE $5 END, "
          "  array_dtype = CASE WHEN $4 = '' THEN array_dtype ELSE $6 END "
          "WHERE dataset_id = $1 AND id = $2",
          item.dataset_id, item.instance_id, outputs.png_blob, outputs.array_blob, shape,
          outputs.array_dtype);
    } else {
      tx.exec_params("UPDATE instances SET preparation_error = $3 WHERE dataset_id = $1 AND id = $2",
                     item.dataset_id, item.instance_id, std::string(outcome.message()));
    }
    std::string state = outcome.ok() ? "DONE" : "FAILED";
    pqxx::result updated = tx.exec_params(
        "UPDATE preparation_items SET state = $4, reason = $5, message = $6 "
        "WHERE dataset_id = $1 AND run_id = $2 AND instance_id = $3 AND state = 'RUNNING' "
        "RETURNING 1",
        item.dataset_id, item.run_id, item.instance_id, state, GetErrorReason(outcome),
        std::string(outcome.message()));
    if (!updated.empty()) {
      tx.exec_params(
          "UPDATE preparation_runs SET done_count = done_count + 1, "
          "  failed_count = failed_count + $3 WHERE dataset_id = $1 AND id = $2",
          item.dataset_id, item.run_id, outcome.ok() ? 0 : 1);
    }
    FinishRunIfDone(tx, item.dataset_id, item.run_id);
    pqxx::result run_state = tx.exec_params(
        "SELECT state FROM preparation_runs WHERE dataset_id = $1 AND id = $2", item.dataset_id,
        item.run_id);
    return run_state.empty() ? v1::PreparationRun::STATE_UNSPECIFIED
                             : StateFromText(run_state[0][0].as<std::string>());
  });
}

absl::StatusOr<int64_t> IngestStore::ResumeInterruptedItems() {
  return pool_.Query<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    // NOTE: this assumes one ingest process per database. With several replicas, an
    // item that another replica is working on would be claimed twice. That is harmless
    // because blobs are content-addressed and the outcome is the same.
    pqxx::result reset = tx.exec(
        "UPDATE preparation_items SET state = 'PENDING' WHERE state = 'RUNNING' RETURNING 1");
    return static_cast<int64_t>(reset.size());
  });
}

}  // namespace ailab::ingest
