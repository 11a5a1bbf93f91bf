// Checks of a use case's content (display name, description, enums and CDEs) before
// it is stored. The rules are listed on ailab.catalog.v1.DataElement.
//
// Every function is pure and thread-safe. Errors are INVALID_ARGUMENT with a
// BadRequest naming the field path, for example
// "use_case.data_elements[0].allowed_values[1].value".
#pragma once

#include "absl/status/status.h"
#include "ailab/catalog/v1/catalog.pb.h"

namespace ailab::catalog {

// Completeness that a use case must reach.
enum class ValidationLevel {
  // A draft: a display name, and every field present well-formed.
  kDraft,
  // A submission for review: everything a draft needs, plus a description, body
  // area, modality, task kind and CDEs that fit the task kind.
  kSubmission,
};

// Fills in defaults that clients may leave out: an unset DataElement.value_kind
// becomes CATEGORICAL.
void NormalizeUseCase(v1::UseCase& use_case);

// Checks the client-settable fields of `use_case` at `level`. Output-only fields
// (state, submitter, times, etag) are not looked at.
absl::Status ValidateUseCaseContent(const v1::UseCase& use_case, ValidationLevel level);

}  // namespace ailab::catalog
