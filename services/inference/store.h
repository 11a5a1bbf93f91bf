// PostgreSQL storage of the inference service, in the schema "inference": recorded
// predictions with their reviews, and per-site report templates.
//
// Each prediction is one row of `predictions`: the Prediction message as protobuf
// JSON in `body`, plus the columns that lists filter and sort on (model, instance,
// review state, creation time, study date).
//
// PredictionStore is thread-safe: every call runs in its own transaction on the pool.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ailab/inference/v1/inference.pb.h"
#include "ailab/pg/pg.h"

namespace ailab::inference {

// Selection and page of ListPredictions.
struct PredictionQuery {
  // Empty matches every model or instance.
  std::string model;
  std::string instance;
  // Creation time range [start_time, end_time); absent bounds are open.
  std::optional<absl::Time> start_time;
  std::optional<absl::Time> end_time;
  // STATE_UNSPECIFIED matches every state.
  v1::Review::State review_state = v1::Review::STATE_UNSPECIFIED;
  // When set, true matches CONFIRMED and CORRECTED, false UNREVIEWED.
  std::optional<bool> reviewed;
  int64_t offset = 0;
  int limit = 50;
};

// One page of predictions, newest first.
struct PredictionPage {
  std::vector<v1::Prediction> predictions;
  // True when predictions follow this page.
  bool has_more = false;
};

class PredictionStore {
 public:
  // `pool` must outlive the store and work in the schema "inference".
  explicit PredictionStore(pg::Pool& pool) : pool_(pool) {}

  // Migrations of the schema "inference", for Pool::Migrate.
  static std::vector<pg::Migration> Migrations();

  // Stores `prediction`, whose name ("predictions/{id}") must be set. ALREADY_EXISTS
  // when the name is taken.
  absl::Status Insert(const v1::Prediction& prediction);

  // Returns the prediction with `id`, or NOT_FOUND.
  absl::StatusOr<v1::Prediction> Get(const std::string& id);

  // Returns one page of predictions matching `query`.
  absl::StatusOr<PredictionPage> List(const PredictionQuery& query);

  // Locks the prediction `id`, lets `mutate` change it and stores the result.
  // NOT_FOUND when absent; an error of `mutate` is returned and nothing is written.
  absl::StatusOr<v1::Prediction> Update(const std::string& id,
                                        const std::function<absl::Status(v1::Prediction&)>& mutate);

  // Returns the report template of (site, use case id), or nullopt when none is set.
  absl::StatusOr<std::optional<v1::ReportTemplate>> GetReportTemplate(const std::string& site,
                                                                      const std::string& use_case_id);

  // Creates or replaces the report template of (site, use case id).
  absl::StatusOr<v1::ReportTemplate> PutReportTemplate(const std::string& site,
                                                       const std::string& use_case_id,
                                                       bool blank_when_negative);

 private:
  pg::Pool& pool_;
};

}  // namespace ailab::inference
