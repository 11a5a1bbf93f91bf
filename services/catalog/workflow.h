// Rules of the use case review workflow, as pure functions on protos:
//
//   DRAFT --resubmit--> SUBMITTED --accept--> PUBLISHED
//                       SUBMITTED --return--> RETURNED --resubmit--> SUBMITTED
//                       SUBMITTED --reject--> REJECTED
//
// Only the submitter edits (DRAFT, RETURNED) and resubmits; a reviewer may not review
// their own submission; comments go on PUBLISHED use cases only. A state that does
// not allow a call is FAILED_PRECONDITION naming the state, a user without the right
// is PERMISSION_DENIED naming the user.
//
// Every function is thread-safe.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ailab/catalog/v1/catalog.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "store.h"

namespace ailab::catalog {

// Checks that `user` may edit `use_case`: the submitter, in DRAFT or RETURNED, and
// with a matching `etag` when one is given (ABORTED otherwise).
absl::Status CheckEditable(const v1::UseCase& use_case, const std::string& user,
                           const std::string& etag);

// Copies the fields named by `mask` from `update` into `use_case`. An empty mask
// copies every editable field. A path outside display_name, description, body_area,
// modality, task_kind and data_elements is INVALID_ARGUMENT naming it.
absl::Status ApplyUpdate(const v1::UseCase& update, const google::protobuf::FieldMask& mask,
                         v1::UseCase& use_case);

// Checks the paths of an update mask without applying it.
absl::Status ValidateUpdateMask(const google::protobuf::FieldMask& mask);

// Applies a reviewer's decision to a SUBMITTED use case and returns the state
// change to record. `decision` must be ACCEPT, RETURN or REJECT.
absl::StatusOr<StateChangeRecord> ApplyReview(v1::ReviewUseCaseRequest::Decision decision,
                                              const std::string& notes, const std::string& reviewer,
                                              v1::UseCase& use_case);

// Moves a DRAFT or RETURNED use case of `user` to SUBMITTED after the submission
// checks, and returns the state change to record. Incomplete content is
// FAILED_PRECONDITION with the reason USE_CASE_INCOMPLETE.
absl::StatusOr<StateChangeRecord> ApplyResubmit(const std::string& user, const std::string& notes,
                                                v1::UseCase& use_case);

// Checks that `use_case` takes comments: it must be PUBLISHED.
absl::Status CheckCommentable(const v1::UseCase& use_case);

// Checks that a draft may be requested for `use_case`: it must not be PUBLISHED.
absl::Status CheckDraftRequestable(const v1::UseCase& use_case);

}  // namespace ailab::catalog
