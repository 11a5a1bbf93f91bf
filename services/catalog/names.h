// Resource names and user ids of the catalog API: parsing, validation and formatting.
//
// Every function is pure and thread-safe. Errors are INVALID_ARGUMENT with a
// BadRequest naming the request field passed in `field`.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ailab::catalog {

// Collection prefix of use case names.
inline constexpr absl::string_view kUseCasesCollection = "useCases/";
// Collection prefix of draft request names.
inline constexpr absl::string_view kDraftRequestsCollection = "draftRequests/";

// Checks a use case id: 3 to 63 characters of lowercase letters, digits and hyphens,
// starting with a letter and not ending with a hyphen.
absl::Status ValidateUseCaseId(absl::string_view id, absl::string_view field);

// Returns the id of a use case name "useCases/{id}". An empty name is MISSING_FIELD,
// anything else that is not such a name is INVALID_USE_CASE_NAME.
absl::StatusOr<std::string> ParseUseCaseName(absl::string_view name, absl::string_view field);

// Returns "useCases/{id}".
std::string UseCaseName(absl::string_view id);

// Returns "useCases/{use_case_id}/comments/{comment_id}".
std::string CommentName(absl::string_view use_case_id, int64_t comment_id);

// Returns "draftRequests/{id}".
std::string DraftRequestName(int64_t id);

// Derives a use case id from a display name: lowercase ASCII letters and digits, each
// run of other characters replaced by one hyphen, cut to 63 characters, and "uc-"
// prepended when the result would not start with a letter. The result can still be
// too short to be valid (for example from "?"); callers validate it.
std::string UseCaseIdFromDisplayName(absl::string_view display_name);

// Checks the `user` field of a request: 1 to 128 printable ASCII characters without
// spaces, for example "alice" or "users/alice@example.org".
absl::Status ValidateUser(absl::string_view user, absl::string_view field = "user");

}  // namespace ailab::catalog
