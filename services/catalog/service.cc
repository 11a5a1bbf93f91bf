#include "service.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/pg/pg.h"
#include "ailab/rpc/identity.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "ailab/status/text.h"
#include "list_query.h"
#include "names.h"
#include "validation.h"
#include "workflow.h"

namespace ailab::catalog {
namespace {

using ::ailab::catalog::v1::Comment;
using ::ailab::catalog::v1::DraftRequest;
using ::ailab::catalog::v1::ReviewUseCaseRequest;
using ::ailab::catalog::v1::UseCase;

constexpr size_t kMaxNotesLength = 10000;
constexpr size_t kMaxCommentLength = 10000;
constexpr size_t kMaxTitleLength = 200;
constexpr size_t kMaxDescriptionLength = 10000;

std::shared_ptr<spdlog::logger> Log() { return log::Logger("catalog"); }

// Converts a method's result for gRPC and logs it when it failed. Errors caused by
// the request are logged at info level, others at error level.
grpc::Status Finish(absl::string_view method, absl::string_view resource,
                    const absl::Status& status) {
  if (!status.ok()) {
    bool client_error = status.code() == absl::StatusCode::kInvalidArgument ||
                        status.code() == absl::StatusCode::kNotFound ||
                        status.code() == absl::StatusCode::kAlreadyExists ||
                        status.code() == absl::StatusCode::kFailedPrecondition ||
                        status.code() == absl::StatusCode::kPermissionDenied ||
                        status.code() == absl::StatusCode::kAborted;
    auto level = client_error ? spdlog::level::info : spdlog::level::err;
    Log()->log(level, "request failed method={} resource={} code={} reason={} error={}",
               std::string(method), std::string(resource), absl::StatusCodeToString(status.code()),
               GetErrorReason(status), std::string(status.message()));
  }
  return rpc::ToGrpcStatus(status);
}

absl::Status CheckText(absl::string_view field, const std::string& value, size_t max) {
  const size_t length = CharacterCount(value);
  if (length <= max) return absl::OkStatus();
  return InvalidArgument(
      "FIELD_TOO_LONG", field,
      absl::StrCat(field, " has ", length, " characters; shorten it to at most ", max),
      {{"field", field}});
}

absl::Status Missing(absl::string_view field, absl::string_view fix) {
  return InvalidArgument("MISSING_FIELD", field, absl::StrCat(field, " is required: ", fix),
                         {{"field", field}});
}

// Page size and start offset of a List request.
struct PageRequest {
  int size = 0;
  int64_t offset = 0;
};

absl::StatusOr<PageRequest> ResolvePage(int page_size, const std::string& page_token) {
  PageRequest page;
  AILAB_ASSIGN_OR_RETURN(page.size, pg::ResolvePageSize(page_size));
  if (!page_token.empty()) {
    AILAB_ASSIGN_OR_RETURN(page.offset, pg::DecodePageToken(page_token));
  }
  return page;
}

std::string NextPageToken(const PageRequest& page, size_t returned, bool has_more) {
  return has_more ? pg::EncodePageToken(page.offset + static_cast<int64_t>(returned)) : "";
}

// Returns the id for CreateUseCase from use_case_id, use_case.name or the display
// name, in that order.
absl::StatusOr<std::string> ChooseUseCaseId(const v1::CreateUseCaseRequest& request) {
  const UseCase& use_case = request.use_case();
  std::string from_name;
  if (!use_case.name().empty()) {
    AILAB_ASSIGN_OR_RETURN(from_name, ParseUseCaseName(use_case.name(), "use_case.name"));
  }
  if (!request.use_case_id().empty()) {
    AILAB_RETURN_IF_ERROR(ValidateUseCaseId(request.use_case_id(), "use_case_id"));
    if (!from_name.empty() && from_name != request.use_case_id()) {
      return InvalidArgument(
          "CONFLICTING_USE_CASE_ID", "use_case_id",
          absl::StrCat("use_case_id \"", request.use_case_id(), "\" differs from use_case.name \"",
                       use_case.name(), "\"; set only one of them"),
          {{"use_case_id", request.use_case_id()}, {"name", use_case.name()}});
    }
    return request.use_case_id();
  }
  if (!from_name.empty()) return from_name;

  std::string derived = UseCaseIdFromDisplayName(use_case.display_name());
  absl::Status valid = ValidateUseCaseId(derived, "use_case_id");
  if (!valid.ok()) {
    return InvalidArgument(
        "INVALID_USE_CASE_ID", "use_case_id",
        absl::StrCat("no use case id can be made from display name \"", use_case.display_name(),
                     "\" (", valid.message(), "); set use_case_id"),
        {{"display_name", use_case.display_name()}});
  }
  return derived;
}

absl::StatusOr<UseCase> CreateUseCase(CatalogStore& store,
                                      const v1::CreateUseCaseRequest& request) {
  // TODO: take the user from the gateway's signed identity instead of the request.
  // Until then any caller can act as any user, so the submitter and reviewer checks
  // guard against mistakes, not against abuse.
  AILAB_RETURN_IF_ERROR(ValidateUser(request.user()));
  if (!request.has_use_case()) {
    return Missing("use_case", "give the use case to create");
  }
  UseCase use_case = request.use_case();
  NormalizeUseCase(use_case);
  ValidationLevel level =
      request.save_as_draft() ? ValidationLevel::kDraft : ValidationLevel::kSubmission;
  AILAB_RETURN_IF_ERROR(ValidateUseCaseContent(use_case, level));
  AILAB_ASSIGN_OR_RETURN(std::string id, ChooseUseCaseId(request));

  // Output-only fields come from the server.
  use_case.set_name(UseCaseName(id));
  use_case.set_state(request.save_as_draft() ? UseCase::DRAFT : UseCase::SUBMITTED);
  use_case.set_submitter(request.user());
  use_case.clear_reviewer();
  use_case.clear_reviewer_notes();
  use_case.clear_create_time();
  use_case.clear_update_time();
  use_case.clear_etag();

  AILAB_ASSIGN_OR_RETURN(UseCase stored, store.InsertUseCase(id, use_case, ""));
  Log()->info("use case created name={} state={} submitter={}", stored.name(),
              UseCase::State_Name(stored.state()), stored.submitter());
  return stored;
}

absl::StatusOr<UseCase> UpdateUseCase(CatalogStore& store,
                                      const v1::UpdateUseCaseRequest& request) {
  AILAB_RETURN_IF_ERROR(ValidateUser(request.user()));
  if (!request.has_use_case()) {
    return Missing("use_case", "give the use case with its name and the new values");
  }
  AILAB_ASSIGN_OR_RETURN(std::string id,
                         ParseUseCaseName(request.use_case().name(), "use_case.name"));
  AILAB_RETURN_IF_ERROR(ValidateUpdateMask(request.update_mask()));

  AILAB_ASSIGN_OR_RETURN(
      UseCase stored,
      store.UpdateUseCase(id, [&](UseCase& use_case, std::optional<StateChangeRecord>&) {
        AILAB_RETURN_IF_ERROR(CheckEditable(use_case, request.user(), request.use_case().etag()));
        AILAB_RETURN_IF_ERROR(ApplyUpdate(request.use_case(), request.update_mask(), use_case));
        NormalizeUseCase(use_case);
        return ValidateUseCaseContent(use_case, ValidationLevel::kDraft);
      }));
  Log()->info("use case updated name={} etag={} user={}", stored.name(), stored.etag(),
              request.user());
  return stored;
}

absl::StatusOr<UseCase> ReviewUseCase(CatalogStore& store,
                                      const v1::ReviewUseCaseRequest& request) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseUseCaseName(request.name(), "name"));
  AILAB_RETURN_IF_ERROR(ValidateUser(request.user()));
  if (request.decision() == ReviewUseCaseRequest::DECISION_UNSPECIFIED ||
      !ReviewUseCaseRequest::Decision_IsValid(request.decision())) {
    return InvalidArgument("INVALID_DECISION", "decision",
                           absl::StrCat("decision ", request.decision(),
                                        " is not valid; use ACCEPT, RETURN or REJECT"),
                           {{"decision", absl::StrCat(request.decision())}});
  }
  if (request.decision() != ReviewUseCaseRequest::ACCEPT &&
      absl::StripAsciiWhitespace(request.notes()).empty()) {
    return Missing("notes",
                   absl::StrCat("a ", ReviewUseCaseRequest::Decision_Name(request.decision()),
                                " decision needs notes that tell the submitter why"));
  }
  AILAB_RETURN_IF_ERROR(CheckText("notes", request.notes(), kMaxNotesLength));

  AILAB_ASSIGN_OR_RETURN(
      UseCase stored,
      store.UpdateUseCase(
          id, [&](UseCase& use_case, std::optional<StateChangeRecord>& change) -> absl::Status {
            AILAB_ASSIGN_OR_RETURN(
                change, ApplyReview(request.decision(), request.notes(), request.user(), use_case));
            return absl::OkStatus();
          }));
  Log()->info("use case reviewed name={} decision={} state={} reviewer={}", stored.name(),
              ReviewUseCaseRequest::Decision_Name(request.decision()),
              UseCase::State_Name(stored.state()), request.user());
  return stored;
}

absl::StatusOr<UseCase> ResubmitUseCase(CatalogStore& store,
                                        const v1::ResubmitUseCaseRequest& request) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseUseCaseName(request.name(), "name"));
  AILAB_RETURN_IF_ERROR(ValidateUser(request.user()));
  AILAB_RETURN_IF_ERROR(CheckText("notes", request.notes(), kMaxNotesLength));

  AILAB_ASSIGN_OR_RETURN(
      UseCase stored,
      store.UpdateUseCase(
          id, [&](UseCase& use_case, std::optional<StateChangeRecord>& change) -> absl::Status {
            AILAB_ASSIGN_OR_RETURN(change,
                                   ApplyResubmit(request.user(), request.notes(), use_case));
            return absl::OkStatus();
          }));
  Log()->info("use case submitted name={} submitter={}", stored.name(), request.user());
  return stored;
}

absl::StatusOr<v1::ListUseCasesResponse> ListUseCases(CatalogStore& store,
                                                      const v1::ListUseCasesRequest& request) {
  AILAB_ASSIGN_OR_RETURN(PageRequest page, ResolvePage(request.page_size(), request.page_token()));
  UseCaseQuery query;
  AILAB_ASSIGN_OR_RETURN(query.conditions, ParseUseCaseFilter(request.filter()));
  AILAB_ASSIGN_OR_RETURN(query.text_query, BuildTextSearchQuery(request.query()));
  AILAB_ASSIGN_OR_RETURN(query.order, ParseUseCaseOrderBy(request.order_by()));
  query.offset = page.offset;
  query.limit = page.size;

  AILAB_ASSIGN_OR_RETURN(UseCasePage result, store.ListUseCases(query));
  v1::ListUseCasesResponse response;
  for (UseCase& use_case : result.use_cases) *response.add_use_cases() = std::move(use_case);
  response.set_next_page_token(NextPageToken(page, response.use_cases_size(), result.has_more));
  response.set_total_size(static_cast<int32_t>(result.total_size));
  return response;
}

absl::StatusOr<v1::ListUseCaseHistoryResponse> ListUseCaseHistory(
    CatalogStore& store, const v1::ListUseCaseHistoryRequest& request) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseUseCaseName(request.name(), "name"));
  AILAB_ASSIGN_OR_RETURN(PageRequest page, ResolvePage(request.page_size(), request.page_token()));
  AILAB_ASSIGN_OR_RETURN(auto result, store.ListStateChanges(id, page.offset, page.size));
  v1::ListUseCaseHistoryResponse response;
  for (auto& change : result.items) *response.add_state_changes() = std::move(change);
  response.set_next_page_token(NextPageToken(page, result.items.size(), result.has_more));
  return response;
}

absl::StatusOr<Comment> CreateComment(CatalogStore& store,
                                      const v1::CreateCommentRequest& request) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseUseCaseName(request.parent(), "parent"));
  AILAB_RETURN_IF_ERROR(ValidateUser(request.user()));
  if (absl::StripAsciiWhitespace(request.comment().text()).empty()) {
    return Missing("comment.text", "write the comment's text");
  }
  AILAB_RETURN_IF_ERROR(CheckText("comment.text", request.comment().text(), kMaxCommentLength));
  AILAB_ASSIGN_OR_RETURN(
      Comment comment,
      store.InsertComment(id, request.user(), request.comment().text(), CheckCommentable));
  Log()->info("comment created name={} author={}", comment.name(), comment.author());
  return comment;
}

absl::StatusOr<v1::ListCommentsResponse> ListComments(CatalogStore& store,
                                                      const v1::ListCommentsRequest& request) {
  AILAB_ASSIGN_OR_RETURN(std::string id, ParseUseCaseName(request.parent(), "parent"));
  AILAB_ASSIGN_OR_RETURN(PageRequest page, ResolvePage(request.page_size(), request.page_token()));
  AILAB_ASSIGN_OR_RETURN(auto result,
                         store.ListComments(id, page.offset, page.size, CheckCommentable));
  v1::ListCommentsResponse response;
  for (auto& comment : result.items) *response.add_comments() = std::move(comment);
  response.set_next_page_token(NextPageToken(page, result.items.size(), result.has_more));
  return response;
}

absl::StatusOr<DraftRequest> CreateDraftRequest(CatalogStore& store,
                                                const v1::CreateDraftRequestRequest& request) {
  AILAB_RETURN_IF_ERROR(ValidateUser(request.user()));
  if (!request.has_draft_request()) {
    return Missing("draft_request", "give the title and description of the proposed use case");
  }
  DraftRequest draft = request.draft_request();
  if (absl::StripAsciiWhitespace(draft.title()).empty()) {
    return Missing("draft_request.title", "give the proposed use case a short title");
  }
  AILAB_RETURN_IF_ERROR(CheckText("draft_request.title", draft.title(), kMaxTitleLength));
  AILAB_RETURN_IF_ERROR(
      CheckText("draft_request.description", draft.description(), kMaxDescriptionLength));
  if (!draft.use_case().empty()) {
    AILAB_RETURN_IF_ERROR(ParseUseCaseName(draft.use_case(), "draft_request.use_case").status());
  }
  if (!UseCase::BodyArea_IsValid(draft.body_area())) {
    return InvalidArgument(
        "INVALID_BODY_AREA", "draft_request.body_area",
        absl::StrCat("draft_request.body_area ", draft.body_area(), " is not a known body area"));
  }
  if (!UseCase::Modality_IsValid(draft.modality())) {
    return InvalidArgument(
        "INVALID_MODALITY", "draft_request.modality",
        absl::StrCat("draft_request.modality ", draft.modality(), " is not a known modality"));
  }

  // Output-only fields come from the server.
  draft.clear_name();
  draft.clear_create_time();
  draft.set_requester(request.user());
  AILAB_ASSIGN_OR_RETURN(DraftRequest stored,
                         store.InsertDraftRequest(draft, CheckDraftRequestable));
  Log()->info("draft request created name={} use_case={} requester={}", stored.name(),
              stored.use_case(), stored.requester());
  return stored;
}

absl::StatusOr<v1::ListDraftRequestsResponse> ListDraftRequests(
    CatalogStore& store, const v1::ListDraftRequestsRequest& request) {
  AILAB_ASSIGN_OR_RETURN(PageRequest page, ResolvePage(request.page_size(), request.page_token()));
  std::string use_case_id;
  if (!request.use_case().empty()) {
    AILAB_ASSIGN_OR_RETURN(use_case_id, ParseUseCaseName(request.use_case(), "use_case"));
  }
  if (!request.requester().empty()) {
    AILAB_RETURN_IF_ERROR(ValidateUser(request.requester(), "requester"));
  }
  AILAB_ASSIGN_OR_RETURN(auto result, store.ListDraftRequests(use_case_id, request.requester(),
                                                              page.offset, page.size));
  v1::ListDraftRequestsResponse response;
  for (auto& draft : result.items) *response.add_draft_requests() = std::move(draft);
  response.set_next_page_token(NextPageToken(page, result.items.size(), result.has_more));
  return response;
}

// Copies a successful result into the gRPC response.
template <typename T>
grpc::Status Respond(absl::string_view method, absl::string_view resource, absl::StatusOr<T> result,
                     T* response) {
  if (result.ok()) *response = std::move(result).value();
  return Finish(method, resource, result.status());
}

}  // namespace

grpc::Status CatalogServiceImpl::GetUseCase(grpc::ServerContext* context,
                                            const v1::GetUseCaseRequest* request,
                                            UseCase* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  absl::StatusOr<UseCase> result = [&]() -> absl::StatusOr<UseCase> {
    AILAB_ASSIGN_OR_RETURN(std::string id, ParseUseCaseName(request->name(), "name"));
    return store_.GetUseCase(id);
  }();
  return Respond("GetUseCase", request->name(), std::move(result), response);
}

grpc::Status CatalogServiceImpl::ListUseCases(grpc::ServerContext* context,
                                              const v1::ListUseCasesRequest* request,
                                              v1::ListUseCasesResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("ListUseCases", request->filter(), catalog::ListUseCases(store_, *request),
                 response);
}

grpc::Status CatalogServiceImpl::CreateUseCase(grpc::ServerContext* context,
                                               const v1::CreateUseCaseRequest* request,
                                               UseCase* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  std::string resource =
      request->use_case_id().empty() ? request->use_case().name() : request->use_case_id();
  return Respond("CreateUseCase", resource, catalog::CreateUseCase(store_, *request), response);
}

grpc::Status CatalogServiceImpl::UpdateUseCase(grpc::ServerContext* context,
                                               const v1::UpdateUseCaseRequest* request,
                                               UseCase* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("UpdateUseCase", request->use_case().name(),
                 catalog::UpdateUseCase(store_, *request), response);
}

grpc::Status CatalogServiceImpl::ReviewUseCase(grpc::ServerContext* context,
                                               const v1::ReviewUseCaseRequest* request,
                                               UseCase* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("ReviewUseCase", request->name(), catalog::ReviewUseCase(store_, *request),
                 response);
}

grpc::Status CatalogServiceImpl::ResubmitUseCase(grpc::ServerContext* context,
                                                 const v1::ResubmitUseCaseRequest* request,
                                                 UseCase* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("ResubmitUseCase", request->name(), catalog::ResubmitUseCase(store_, *request),
                 response);
}

grpc::Status CatalogServiceImpl::ListUseCaseHistory(grpc::ServerContext* context,
                                                    const v1::ListUseCaseHistoryRequest* request,
                                                    v1::ListUseCaseHistoryResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("ListUseCaseHistory", request->name(),
                 catalog::ListUseCaseHistory(store_, *request), response);
}

grpc::Status CatalogServiceImpl::CreateComment(grpc::ServerContext* context,
                                               const v1::CreateCommentRequest* request,
                                               Comment* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("CreateComment", request->parent(), catalog::CreateComment(store_, *request),
                 response);
}

grpc::Status CatalogServiceImpl::ListComments(grpc::ServerContext* context,
                                              const v1::ListCommentsRequest* request,
                                              v1::ListCommentsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("ListComments", request->parent(), catalog::ListComments(store_, *request),
                 response);
}

grpc::Status CatalogServiceImpl::CreateDraftRequest(grpc::ServerContext* context,
                                                    const v1::CreateDraftRequestRequest* request,
                                                    DraftRequest* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("CreateDraftRequest", request->draft_request().use_case(),
                 catalog::CreateDraftRequest(store_, *request), response);
}

grpc::Status CatalogServiceImpl::ListDraftRequests(grpc::ServerContext* context,
                                                   const v1::ListDraftRequestsRequest* request,
                                                   v1::ListDraftRequestsResponse* response) {
  if (grpc::Status caller = rpc::CheckCaller(*context); !caller.ok()) return caller;
  return Respond("ListDraftRequests", request->use_case(),
                 catalog::ListDraftRequests(store_, *request), response);
}

}  // namespace ailab::catalog
