#include "workflow.h"

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "validation.h"

namespace ailab::catalog {
namespace {

using ::ailab::catalog::v1::ReviewUseCaseRequest;
using ::ailab::catalog::v1::UseCase;

std::string StateName(const UseCase& use_case) { return UseCase::State_Name(use_case.state()); }

absl::Status WrongState(const UseCase& use_case, absl::string_view action,
                        absl::string_view allowed) {
  std::string state = StateName(use_case);
  return FailedPrecondition("WRONG_USE_CASE_STATE",
                            absl::StrCat("use case \"", use_case.name(), "\" is ", state,
                                         "; it can be ", action, " only when ", allowed),
                            {{"name", use_case.name()}, {"state", state}});
}

absl::Status NotSubmitter(const UseCase& use_case, const std::string& user,
                          absl::string_view action) {
  return PermissionDenied(
      "NOT_SUBMITTER",
      absl::StrCat("user \"", user, "\" may not ", action, " use case \"", use_case.name(),
                   "\"; only its submitter \"", use_case.submitter(), "\" may"),
      {{"name", use_case.name()}, {"user", user}});
}

}  // namespace

absl::Status CheckEditable(const UseCase& use_case, const std::string& user,
                           const std::string& etag) {
  if (use_case.submitter() != user) return NotSubmitter(use_case, user, "change");
  if (use_case.state() != UseCase::DRAFT && use_case.state() != UseCase::RETURNED) {
    return WrongState(use_case, "changed", "DRAFT or RETURNED");
  }
  if (!etag.empty() && etag != use_case.etag()) {
    return MakeError(absl::StatusCode::kAborted, "ETAG_MISMATCH",
                     absl::StrCat("use case \"", use_case.name(), "\" has etag \"", use_case.etag(),
                                  "\", not \"", etag,
                                  "\"; it changed meanwhile, so get it again and reapply the "
                                  "change"),
                     {{"name", use_case.name()}, {"etag", etag}});
  }
  return absl::OkStatus();
}

absl::Status ValidateUpdateMask(const google::protobuf::FieldMask& mask) {
  for (const std::string& path : mask.paths()) {
    if (path != "display_name" && path != "description" && path != "body_area" &&
        path != "modality" && path != "task_kind" && path != "data_elements") {
      return InvalidArgument("INVALID_UPDATE_MASK", "update_mask",
                             absl::StrCat("update_mask path \"", path,
                                          "\" cannot be changed; use display_name, description, "
                                          "body_area, modality, task_kind or data_elements"),
                             {{"path", path}});
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyUpdate(const UseCase& update, const google::protobuf::FieldMask& mask,
                         UseCase& use_case) {
  AILAB_RETURN_IF_ERROR(ValidateUpdateMask(mask));
  auto selected = [&](absl::string_view path) {
    if (mask.paths_size() == 0) return true;
    for (const std::string& candidate : mask.paths()) {
      if (candidate == path) return true;
    }
    return false;
  };
  if (selected("display_name")) use_case.set_display_name(update.display_name());
  if (selected("description")) use_case.set_description(update.description());
  if (selected("body_area")) use_case.set_body_area(update.body_area());
  if (selected("modality")) use_case.set_modality(update.modality());
  if (selected("task_kind")) use_case.set_task_kind(update.task_kind());
  if (selected("data_elements")) *use_case.mutable_data_elements() = update.data_elements();
  return absl::OkStatus();
}

absl::StatusOr<StateChangeRecord> ApplyReview(ReviewUseCaseRequest::Decision decision,
                                              const std::string& notes, const std::string& reviewer,
                                              UseCase& use_case) {
  if (use_case.state() != UseCase::SUBMITTED) {
    return WrongState(use_case, "reviewed", "SUBMITTED");
  }
  if (use_case.submitter() == reviewer) {
    return PermissionDenied(
        "SELF_REVIEW",
        absl::StrCat("user \"", reviewer, "\" submitted use case \"", use_case.name(),
                     "\" and may not review it; ask another reviewer"),
        {{"name", use_case.name()}, {"user", reviewer}});
  }
  StateChangeRecord change;
  change.from_state = use_case.state();
  change.actor = reviewer;
  change.notes = notes;
  switch (decision) {
    case ReviewUseCaseRequest::ACCEPT:
      change.to_state = UseCase::PUBLISHED;
      break;
    case ReviewUseCaseRequest::RETURN:
      change.to_state = UseCase::RETURNED;
      break;
    case ReviewUseCaseRequest::REJECT:
      change.to_state = UseCase::REJECTED;
      break;
    default:
      return InvalidArgument(
          "INVALID_DECISION", "decision",
          absl::StrCat("decision ", decision, " is not valid; use ACCEPT, RETURN or REJECT"),
          {{"decision", absl::StrCat(decision)}});
  }
  use_case.set_state(change.to_state);
  use_case.set_reviewer(reviewer);
  use_case.set_reviewer_notes(notes);
  return change;
}

absl::StatusOr<StateChangeRecord> ApplyResubmit(const std::string& user, const std::string& notes,
                                                UseCase& use_case) {
  if (use_case.submitter() != user) return NotSubmitter(use_case, user, "submit");
  if (use_case.state() != UseCase::DRAFT && use_case.state() != UseCase::RETURNED) {
    return WrongState(use_case, "submitted", "DRAFT or RETURNED");
  }
  absl::Status complete = ValidateUseCaseContent(use_case, ValidationLevel::kSubmission);
  if (!complete.ok()) {
    return FailedPrecondition("USE_CASE_INCOMPLETE",
                              absl::StrCat("use case \"", use_case.name(),
                                           "\" is not ready for review: ", complete.message(),
                                           "; change it with UpdateUseCase first"),
                              {{"name", use_case.name()}, {"reason", GetErrorReason(complete)}});
  }
  StateChangeRecord change{use_case.state(), UseCase::SUBMITTED, user, notes};
  use_case.set_state(UseCase::SUBMITTED);
  return change;
}

absl::Status CheckCommentable(const UseCase& use_case) {
  if (use_case.state() == UseCase::PUBLISHED) return absl::OkStatus();
  return WrongState(use_case, "commented on", "PUBLISHED");
}

absl::Status CheckDraftRequestable(const UseCase& use_case) {
  if (use_case.state() != UseCase::PUBLISHED) return absl::OkStatus();
  return FailedPrecondition("USE_CASE_PUBLISHED",
                            absl::StrCat("use case \"", use_case.name(),
                                         "\" is already PUBLISHED; comment on it instead of "
                                         "requesting a draft"),
                            {{"name", use_case.name()}, {"state", StateName(use_case)}});
}

}  // namespace ailab::catalog
