// Built-in use cases loaded at start-up, so that a fresh installation has a catalog
// to browse and the demo use case "useCases/breast-density".
//
// Seeding is idempotent: a seed whose id exists is left as it is, even when it was
// reviewed or edited since. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ailab/catalog/v1/catalog.pb.h"
#include "store.h"

namespace ailab::catalog {

// User recorded as the submitter of the built-in use cases.
inline constexpr absl::string_view kSeedUser = "catalog-seed";

// Returns the built-in use cases with name, state and submitter set. Fails only
// when the built-in text does not parse, which a unit test rules out.
absl::StatusOr<std::vector<v1::UseCase>> SeedUseCases();

// Inserts every built-in use case that is not stored yet and returns how many were
// inserted.
absl::StatusOr<int> SeedCatalog(CatalogStore& store);

}  // namespace ailab::catalog
