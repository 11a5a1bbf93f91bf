// PostgreSQL storage of the catalog: use cases with their CDEs, state history,
// comments and draft requests, in the schema "catalog".
//
// Tables (see Migrations()): use_cases (one row per use case, enums stored by name,
// a tsvector for full-text search), data_elements and allowed_values (the CDEs, in
// order), state_changes, comments and draft_requests. The store checks existence
// and keeps each change in one transaction. The rules of the review workflow come
// from the caller as callbacks that run inside that transaction.
//
// CatalogStore is thread-safe: every call runs in its own transaction on the pool.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ailab/catalog/v1/catalog.pb.h"
#include "ailab/pg/pg.h"
#include "list_query.h"

namespace ailab::catalog {

// A state change to record with a write.
struct StateChangeRecord {
  v1::UseCase::State from_state = v1::UseCase::STATE_UNSPECIFIED;
  v1::UseCase::State to_state = v1::UseCase::STATE_UNSPECIFIED;
  std::string actor;
  std::string notes;
};

// Selection, order and page of ListUseCases.
struct UseCaseQuery {
  std::vector<FilterCondition> conditions;
  // tsquery text from BuildTextSearchQuery(), or empty for no text search.
  std::string text_query;
  // Sort keys. Without keys, a text query sorts by relevance and no query by display name.
  std::vector<OrderTerm> order;
  int64_t offset = 0;
  int limit = 50;
};

// One page of use cases.
struct UseCasePage {
  std::vector<v1::UseCase> use_cases;
  // Number of use cases matching the query over all pages.
  int64_t total_size = 0;
  // True when use cases follow this page.
  bool has_more = false;
};

// One page of any other list.
template <typename T>
struct Page {
  std::vector<T> items;
  bool has_more = false;
};

class CatalogStore {
 public:
  // Checks run inside a write's transaction, on the locked use case, before the write.
  using UseCaseCheck = std::function<absl::Status(const v1::UseCase& use_case)>;
  // Changes a locked use case in place and may set the state change to record.
  using UseCaseMutation = std::function<absl::Status(
      v1::UseCase& use_case, std::optional<StateChangeRecord>& state_change)>;

  // `pool` must outlive the store and work in the schema "catalog".
  explicit CatalogStore(pg::Pool& pool) : pool_(pool) {}

  // Migrations of the schema "catalog", for Pool::Migrate.
  static std::vector<pg::Migration> Migrations();

  // Inserts `use_case` under `id` with its state and submitter as given, and records
  // its creation (from STATE_UNSPECIFIED) with `notes`. ALREADY_EXISTS when the id is
  // taken.
  absl::StatusOr<v1::UseCase> InsertUseCase(const std::string& id, const v1::UseCase& use_case,
                                            const std::string& notes);

  // Like InsertUseCase, but returns false instead of ALREADY_EXISTS when the id is
  // taken, leaving the stored use case unchanged.
  absl::StatusOr<bool> InsertUseCaseIfAbsent(const std::string& id, const v1::UseCase& use_case,
                                             const std::string& notes);

  // Returns the use case `id`, or NOT_FOUND.
  absl::StatusOr<v1::UseCase> GetUseCase(const std::string& id);

  // Locks the use case `id`, runs `mutation` on it and, when that succeeds, stores
  // the result with a new etag and update time, and the state change if one was set.
  // Returns NOT_FOUND when the id does not exist. An error of `mutation` is returned
  // as it is, and nothing is written.
  absl::StatusOr<v1::UseCase> UpdateUseCase(const std::string& id, const UseCaseMutation& mutation);

  // Returns one page of use cases.
  absl::StatusOr<UseCasePage> ListUseCases(const UseCaseQuery& query);

  // Returns one page of the state changes of `id`, oldest first. NOT_FOUND when the
  // use case does not exist.
  absl::StatusOr<Page<v1::StateChange>> ListStateChanges(const std::string& id, int64_t offset,
                                                         int limit);

  // Adds a comment to `use_case_id` after `check` accepts the use case.
  absl::StatusOr<v1::Comment> InsertComment(const std::string& use_case_id,
                                            const std::string& author, const std::string& text,
                                            const UseCaseCheck& check);

  // Returns one page of the comments of `use_case_id`, oldest first, after `check`
  // accepts the use case.
  absl::StatusOr<Page<v1::Comment>> ListComments(const std::string& use_case_id, int64_t offset,
                                                 int limit, const UseCaseCheck& check);

  // Stores a draft request. When it names a use case, `check` runs on that use case
  // first (NOT_FOUND when it does not exist).
  absl::StatusOr<v1::DraftRequest> InsertDraftRequest(const v1::DraftRequest& request,
                                                      const UseCaseCheck& check);

  // Returns one page of draft requests, newest first. An empty `use_case_id` or
  // `requester` matches every request.
  absl::StatusOr<Page<v1::DraftRequest>> ListDraftRequests(const std::string& use_case_id,
                                                           const std::string& requester,
                                                           int64_t offset, int limit);

 private:
  pg::Pool& pool_;
};

// Returns NOT_FOUND for the use case `id`, naming it and how to find existing ones.
absl::Status UseCaseNotFound(const std::string& id);

}  // namespace ailab::catalog
