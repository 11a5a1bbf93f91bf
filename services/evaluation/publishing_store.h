// PostgreSQL storage of publishing, in the schema "evaluation" (migration 2 of
// EvaluationStore::Migrations): destinations with their tokens, and publications.
//
// A destination's token is stored in its own column, never in the stored Destination
// JSON, so reading a destination for a response cannot leak it.
//
// PublishingStore is thread-safe: every call runs in its own transaction on the pool.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "ailab/evaluation/v1/publishing.pb.h"
#include "ailab/pg/pg.h"
#include "services/evaluation/store.h"

namespace ailab::evaluation {

// A destination with its secret token (empty for folders and for HTTP without one).
struct StoredDestination {
  v1::Destination destination;
  std::string token;
};

class PublishingStore {
 public:
  // `pool` must outlive the store and work in the schema "evaluation".
  explicit PublishingStore(pg::Pool& pool) : pool_(pool) {}

  // Stores `destination` (its token field cleared) with `token`. ALREADY_EXISTS when
  // the id is taken.
  absl::Status InsertDestination(const v1::Destination& destination, const std::string& token);
  // NOT_FOUND when absent.
  absl::StatusOr<StoredDestination> GetDestination(const std::string& id);
  // Newest first, tokens left out.
  absl::StatusOr<Page<v1::Destination>> ListDestinations(int64_t offset, int limit);

  // Inserts `candidate` unless a publication of the same model, destination and
  // package checksum exists. In that case `on_existing` changes the existing one
  // under a row lock and it is stored and returned. `*inserted` is set to whether
  // `candidate` was inserted.
  absl::StatusOr<v1::Publication> InsertOrUpdatePublication(
      const v1::Publication& candidate,
      const std::function<absl::Status(v1::Publication&)>& on_existing, bool* inserted);
  absl::StatusOr<v1::Publication> GetPublication(const std::string& id);
  // Locks the publication, lets `mutate` change it and stores it.
  absl::StatusOr<v1::Publication> UpdatePublication(
      const std::string& id, const std::function<absl::Status(v1::Publication&)>& mutate);
  // Newest first; empty `model` or `destination` match all.
  absl::StatusOr<Page<v1::Publication>> ListPublications(const std::string& model,
                                                         const std::string& destination,
                                                         int64_t offset, int limit);
  // Marks every PUBLISHING publication FAILED with `error_message` (after a restart).
  absl::StatusOr<int> FailPublishing(const std::string& error_message);

 private:
  pg::Pool& pool_;
};

}  // namespace ailab::evaluation
