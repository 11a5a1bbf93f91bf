#include "services/inference/store.h"

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace ailab::inference {
namespace {

using ::google::protobuf::util::TimeUtil;

constexpr char kPredictionPrefix[] = "predictions/";

std::string PredictionId(const std::string& name) {
  return name.substr(sizeof(kPredictionPrefix) - 1);
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json);
  if (!status.ok()) {
    return Internal("JSON_ENCODING_FAILED",
                    absl::StrCat("could not encode a stored record: ", status.ToString()));
  }
  return json;
}

absl::StatusOr<v1::Prediction> PredictionFromJson(const std::string& json, const std::string& id) {
  v1::Prediction prediction;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(json, &prediction, options);
  if (!status.ok()) {
    return Internal("STORED_PREDICTION_UNREADABLE",
                    absl::StrCat("stored prediction \"", id, "\" is unreadable: ", status.ToString()),
                    {{"prediction", id}});
  }
  return prediction;
}

int64_t Micros(const google::protobuf::Timestamp& timestamp) {
  return TimeUtil::TimestampToMicroseconds(timestamp);
}

// SQL of a timestamptz from a microsecond count parameter $n.
std::string MicrosToTimestampSql(int parameter) {
  return absl::StrCat("(TIMESTAMPTZ 'epoch' + $", parameter, "::bigint * INTERVAL '1 microsecond')");
}

std::optional<std::string> StudyDateOrNull(const v1::Prediction& prediction) {
  if (prediction.study_date().empty()) return std::nullopt;
  return prediction.study_date();
}

absl::Status PredictionNotFound(const std::string& id) {
  const std::string name = absl::StrCat(kPredictionPrefix, id);
  return NotFound("PREDICTION_NOT_FOUND",
                  absl::StrCat("prediction \"", name,
                               "\" not found; list predictions with ListPredictions"),
                  {{"prediction", name}});
}

}  // namespace

std::vector<pg::Migration> PredictionStore::Migrations() {
  return {
      {1, "predictions and report templates", R"sql(
CREATE TABLE predictions (
  id text PRIMARY KEY,
  model text NOT NULL,
  instance text NOT NULL DEFAULT '',
  review_state text NOT NULL,
  study_date date,
  create_time timestamptz NOT NULL,
  body jsonb NOT NULL
);
CREATE INDEX predictions_by_time ON predictions (create_time DESC, id DESC);
CREATE INDEX predictions_by_model_time ON predictions (model, create_time DESC, id DESC);
CREATE INDEX predictions_by_instance ON predictions (instance) WHERE instance <> '';

CREATE TABLE report_templates (
  site text NOT NULL,
  use_case_id text NOT NULL,
  blank_when_negative boolean NOT NULL,
  update_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site, use_case_id)
);
)sql"},
  };
}

absl::Status PredictionStore::Insert(const v1::Prediction& prediction) {
  AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(prediction));
  const std::string id = PredictionId(prediction.name());
  return pool_.Run([&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        absl::StrCat("INSERT INTO predictions (id, model, instance, review_state, study_date, "
                     "create_time, body) VALUES ($1, $2, $3, $4, $5::date, ",
                     MicrosToTimestampSql(6), ", $7::jsonb)"),
        id, prediction.model(), prediction.instance(),
        v1::Review::State_Name(prediction.review().state()), StudyDateOrNull(prediction),
        Micros(prediction.create_time()), json);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Prediction> PredictionStore::Get(const std::string& id) {
  return pool_.Query<v1::Prediction>([&](pqxx::work& tx) -> absl::StatusOr<v1::Prediction> {
    pqxx::result rows = tx.exec_params("SELECT body::text FROM predictions WHERE id = $1", id);
    if (rows.empty()) return PredictionNotFound(id);
    return PredictionFromJson(rows[0][0].as<std::string>(), id);
  });
}

absl::StatusOr<PredictionPage> PredictionStore::List(const PredictionQuery& query) {
  // Optional conditions compare with NULL parameters so that one statement serves
  // every combination.
  std::optional<int64_t> start_micros;
  std::optional<int64_t> end_micros;
  if (query.start_time) start_micros = absl::ToUnixMicros(*query.start_time);
  if (query.end_time) end_micros = absl::ToUnixMicros(*query.end_time);
  std::optional<std::string> state;
  if (query.review_state != v1::Review::STATE_UNSPECIFIED) {
    state = v1::Review::State_Name(query.review_state);
  }
  std::optional<bool> reviewed = query.reviewed;
  const std::string sql = absl::StrCat(
      "SELECT id, body::text FROM predictions WHERE ($1 = '' OR model = $1) "
      "AND ($2 = '' OR instance = $2) "
      "AND ($3::bigint IS NULL OR create_time >= ", MicrosToTimestampSql(3), ") ",
      "AND ($4::bigint IS NULL OR create_time < ", MicrosToTimestampSql(4), ") ",
      "AND ($5::text IS NULL OR review_state = $5) "
      "AND ($6::boolean IS NULL OR (review_state <> 'UNREVIEWED') = $6) "
      "ORDER BY create_time DESC, id DESC OFFSET $7 LIMIT $8");
  return pool_.Query<PredictionPage>([&](pqxx::work& tx) -> absl::StatusOr<PredictionPage> {
    pqxx::result rows = tx.exec_params(sql, query.model, query.instance, start_micros, end_micros,
                                       state, reviewed, query.offset, query.limit + 1);
    PredictionPage page;
    for (const auto& row : rows) {
      if (static_cast<int>(page.predictions.size()) == query.limit) {
        page.has_more = true;
        break;
      }
      AILAB_ASSIGN_OR_RETURN(v1::Prediction prediction,
                             PredictionFromJson(row[1].as<std::string>(), row[0].as<std::string>()));
      page.predictions.push_back(std::move(prediction));
    }
    return page;
  });
}

absl::StatusOr<v1::Prediction> PredictionStore::Update(
    const std::string& id, const std::function<absl::Status(v1::Prediction&)>& mutate) {
  return pool_.Query<v1::Prediction>([&](pqxx::work& tx) -> absl::StatusOr<v1::Prediction> {
    pqxx::result rows =
        tx.exec_params("SELECT body::text FROM predictions WHERE id = $1 FOR UPDATE", id);
    if (rows.empty()) return PredictionNotFound(id);
    AILAB_ASSIGN_OR_RETURN(v1::Prediction prediction,
                           PredictionFromJson(rows[0][0].as<std::string>(), id));
    AILAB_RETURN_IF_ERROR(mutate(prediction));
    AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(prediction));
    tx.exec_params("UPDATE predictions SET review_state = $2, body = $3::jsonb WHERE id = $1", id,
                   v1::Review::State_Name(prediction.review().state()), json);
    return prediction;
  });
}

absl::StatusOr<std::optional<v1::ReportTemplate>> PredictionStore::GetReportTemplate(
    const std::string& site, const std::string& use_case_id) {
  using Result = std::optional<v1::ReportTemplate>;
  return pool_.Query<Result>([&](pqxx::work& tx) -> absl::StatusOr<Result> {
    pqxx::result rows = tx.exec_params(
        "SELECT blank_when_negative, (extract(epoch FROM update_time) * 1000000)::bigint "
        "FROM report_templates WHERE site = $1 AND use_case_id = $2",
        site, use_case_id);
    if (rows.empty()) return Result();
    v1::ReportTemplate report_template;
    report_template.set_name(absl::StrCat("sites/", site, "/reportTemplates/", use_case_id));
    report_template.set_blank_when_negative(rows[0][0].as<bool>());
    *report_template.mutable_update_time() =
        TimeUtil::MicrosecondsToTimestamp(rows[0][1].as<int64_t>());
    return Result(report_template);
  });
}

absl::StatusOr<v1::ReportTemplate> PredictionStore::PutReportTemplate(
    const std::string& site, const std::string& use_case_id, bool blank_when_negative) {
  AILAB_RETURN_IF_ERROR(pool_.Run([&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "INSERT INTO report_templates (site, use_case_id, blank_when_negative, update_time) "
        "VALUES ($1, $2, $3, now()) ON CONFLICT (site, use_case_id) DO UPDATE SET "
        "blank_when_negative = EXCLUDED.blank_when_negative, update_time = now()",
        site, use_case_id, blank_when_negative);
    return absl::OkStatus();
  }));
  AILAB_ASSIGN_OR_RETURN(std::optional<v1::ReportTemplate> stored,
                         GetReportTemplate(site, use_case_id));
  if (!stored) {
    return Internal("REPORT_TEMPLATE_LOST", "report template vanished right after it was written");
  }
  return *stored;
}

}  // namespace ailab::inference
