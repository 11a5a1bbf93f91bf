// `ailab catalog ...`: browse, submit, review and discuss use cases through the
// catalog service (ailab.catalog.v1.CatalogService).
//
// Results print as protobuf JSON (the format `submit` and `update` read), or with
// --table as aligned columns. The acting user comes from --user or, when that is
// absent, from the AILAB_USER environment variable.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ailab/catalog/v1/catalog.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "ailab/rpc/status.h"
#include "ailab/status/status.h"
#include "cli.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace ailab::cli {
namespace {

using ::ailab::catalog::v1::CatalogService;
using ::ailab::catalog::v1::UseCase;

constexpr absl::Duration kCallTimeout = absl::Seconds(30);

std::unique_ptr<CatalogService::Stub> Stub(const Args& args) {
  return CatalogService::NewStub(rpc::Connect(ServiceAddress(args, "catalog")));
}

// Calls one method of the catalog service and returns its response or error.
template <typename Request, typename Response>
absl::StatusOr<Response> Call(const Args& args,
                              grpc::Status (CatalogService::Stub::*method)(grpc::ClientContext*,
                                                                           const Request&,
                                                                           Response*),
                              const Request& request) {
  auto stub = Stub(args);
  return CallUnary(*stub, method, request, kCallTimeout);
}

absl::StatusOr<std::string> User(const Args& args) {
  return RequireUser(args, "the user making the request");
}

// Reads a protobuf JSON file into `message`.
absl::Status ReadJsonFile(const std::string& path, google::protobuf::Message& message) {
  std::ifstream in(path);
  if (!in) {
    return InvalidArgument("FILE_NOT_READABLE", "file",
                           absl::StrCat("cannot read \"", path, "\"; check the path"),
                           {{"path", path}});
  }
  std::stringstream text;
  text << in.rdbuf();
  auto status = google::protobuf::util::JsonStringToMessage(text.str(), &message);
  if (!status.ok()) {
    return InvalidArgument("INVALID_JSON", "file",
                           absl::StrCat("\"", path, "\" is not a valid ", message.GetTypeName(),
                                        " in protobuf JSON: ", status.message().ToString()),
                           {{"path", path}});
  }
  return absl::OkStatus();
}

std::string ShortEnum(const std::string& name) {
  return absl::EndsWith(name, "_UNSPECIFIED") ? "-" : name;
}

void PrintTableHeader() {
  std::printf("%-45s %-10s %-4s %-16s %-26s %s\n", "NAME", "STATE", "MOD", "BODY AREA", "TASK",
              "DISPLAY NAME");
}

void PrintTableRow(const UseCase& use_case) {
  std::printf("%-45s %-10s %-4s %-16s %-26s %s\n", use_case.name().c_str(),
              UseCase::State_Name(use_case.state()).c_str(),
              ShortEnum(UseCase::Modality_Name(use_case.modality())).c_str(),
              ShortEnum(UseCase::BodyArea_Name(use_case.body_area())).c_str(),
              ShortEnum(UseCase::TaskKind_Name(use_case.task_kind())).c_str(),
              use_case.display_name().c_str());
}

// Prints one use case with its CDEs as readable text.
void PrintUseCaseDetails(const UseCase& use_case) {
  PrintTableHeader();
  PrintTableRow(use_case);
  std::printf("\n%s\n", use_case.description().c_str());
  std::printf("submitter: %s  etag: %s  updated: %s\n", use_case.submitter().c_str(),
              use_case.etag().c_str(),
              google::protobuf::util::TimeUtil::ToString(use_case.update_time()).c_str());
  if (!use_case.reviewer_notes().empty()) {
    std::printf("review by %s: %s\n", use_case.reviewer().c_str(),
                use_case.reviewer_notes().c_str());
  }
  for (const auto& element : use_case.data_elements()) {
    std::printf("\n[%s] %s (%s%s%s)\n", element.id().c_str(), element.name().c_str(),
                catalog::v1::DataElement::ValueKind_Name(element.value_kind()).c_str(),
                element.unit().empty() ? "" : ", ", element.unit().c_str());
    for (const auto& value : element.allowed_values()) {
      std::printf("  %-18s %-42s %s\n", value.value().c_str(), value.label().c_str(),
                  value.report_text().c_str());
    }
  }
}

absl::Status ListUseCases(const Args& args) {
  catalog::v1::ListUseCasesRequest request;
  request.set_filter(args.Get("filter"));
  request.set_query(args.Get("query"));
  request.set_order_by(args.Get("order_by"));
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));
  bool all_pages = args.Has("all");
  bool table = args.Has("table");

  catalog::v1::ListUseCasesResponse combined;
  if (table) PrintTableHeader();
  while (true) {
    AILAB_ASSIGN_OR_RETURN(auto page, Call(args, &CatalogService::Stub::ListUseCases, request));
    if (table) {
      for (const UseCase& use_case : page.use_cases()) PrintTableRow(use_case);
    }
    for (const UseCase& use_case : page.use_cases()) *combined.add_use_cases() = use_case;
    combined.set_total_size(page.total_size());
    combined.set_next_page_token(page.next_page_token());
    if (!all_pages || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (table) {
    std::printf("(%d of %d use cases)\n", combined.use_cases_size(), combined.total_size());
    if (!combined.next_page_token().empty()) {
      std::printf("next page: --page_token=%s\n", combined.next_page_token().c_str());
    }
    return absl::OkStatus();
  }
  return PrintJson(combined);
}

absl::Status GetUseCase(const Args& args) {
  catalog::v1::GetUseCaseRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_name(), args.Require("name"));
  AILAB_ASSIGN_OR_RETURN(UseCase use_case, Call(args, &CatalogService::Stub::GetUseCase, request));
  if (args.Has("table")) {
    PrintUseCaseDetails(use_case);
    return absl::OkStatus();
  }
  return PrintJson(use_case);
}

absl::Status SubmitUseCase(const Args& args) {
  catalog::v1::CreateUseCaseRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string path, args.Require("file"));
  AILAB_RETURN_IF_ERROR(ReadJsonFile(path, *request.mutable_use_case()));
  AILAB_ASSIGN_OR_RETURN(*request.mutable_user(), User(args));
  request.set_use_case_id(args.Get("use_case_id"));
  request.set_save_as_draft(args.Has("draft"));
  AILAB_ASSIGN_OR_RETURN(UseCase use_case,
                         Call(args, &CatalogService::Stub::CreateUseCase, request));
  return PrintJson(use_case);
}

absl::Status UpdateUseCase(const Args& args) {
  catalog::v1::UpdateUseCaseRequest request;
  AILAB_ASSIGN_OR_RETURN(std::string path, args.Require("file"));
  AILAB_RETURN_IF_ERROR(ReadJsonFile(path, *request.mutable_use_case()));
  if (args.Has("name")) request.mutable_use_case()->set_name(args.Get("name"));
  AILAB_ASSIGN_OR_RETURN(*request.mutable_user(), User(args));
  for (absl::string_view path_part :
       absl::StrSplit(args.Get("update_mask"), ',', absl::SkipWhitespace())) {
    request.mutable_update_mask()->add_paths(std::string(absl::StripAsciiWhitespace(path_part)));
  }
  AILAB_ASSIGN_OR_RETURN(UseCase use_case,
                         Call(args, &CatalogService::Stub::UpdateUseCase, request));
  return PrintJson(use_case);
}

absl::Status ReviewUseCase(const Args& args) {
  catalog::v1::ReviewUseCaseRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_name(), args.Require("name"));
  AILAB_ASSIGN_OR_RETURN(std::string decision_text, args.Require("decision"));
  catalog::v1::ReviewUseCaseRequest::Decision decision;
  if (!catalog::v1::ReviewUseCaseRequest::Decision_Parse(absl::AsciiStrToUpper(decision_text),
                                                         &decision) ||
      decision == catalog::v1::ReviewUseCaseRequest::DECISION_UNSPECIFIED) {
    return InvalidArgument("INVALID_OPTION", "decision",
                           absl::StrCat("option --decision \"", decision_text,
                                        "\" is not valid; use accept, return or reject"));
  }
  request.set_decision(decision);
  request.set_notes(args.Get("notes"));
  AILAB_ASSIGN_OR_RETURN(*request.mutable_user(), User(args));
  AILAB_ASSIGN_OR_RETURN(UseCase use_case,
                         Call(args, &CatalogService::Stub::ReviewUseCase, request));
  return PrintJson(use_case);
}

absl::Status ResubmitUseCase(const Args& args) {
  catalog::v1::ResubmitUseCaseRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_name(), args.Require("name"));
  request.set_notes(args.Get("notes"));
  AILAB_ASSIGN_OR_RETURN(*request.mutable_user(), User(args));
  AILAB_ASSIGN_OR_RETURN(UseCase use_case,
                         Call(args, &CatalogService::Stub::ResubmitUseCase, request));
  return PrintJson(use_case);
}

absl::Status ShowHistory(const Args& args) {
  catalog::v1::ListUseCaseHistoryRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_name(), args.Require("name"));
  request.set_page_size(1000);
  catalog::v1::ListUseCaseHistoryResponse combined;
  while (true) {
    AILAB_ASSIGN_OR_RETURN(auto page,
                           Call(args, &CatalogService::Stub::ListUseCaseHistory, request));
    for (const auto& change : page.state_changes()) *combined.add_state_changes() = change;
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (!args.Has("table")) return PrintJson(combined);
  std::printf("%-32s %-10s %-10s %-20s %s\n", "TIME", "FROM", "TO", "ACTOR", "NOTES");
  for (const auto& change : combined.state_changes()) {
    std::printf("%-32s %-10s %-10s %-20s %s\n",
                google::protobuf::util::TimeUtil::ToString(change.change_time()).c_str(),
                ShortEnum(UseCase::State_Name(change.from_state())).c_str(),
                UseCase::State_Name(change.to_state()).c_str(), change.actor().c_str(),
                change.notes().c_str());
  }
  return absl::OkStatus();
}

absl::Status AddComment(const Args& args) {
  catalog::v1::CreateCommentRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_parent(), args.Require("name"));
  AILAB_ASSIGN_OR_RETURN(*request.mutable_comment()->mutable_text(), args.Require("text"));
  AILAB_ASSIGN_OR_RETURN(*request.mutable_user(), User(args));
  AILAB_ASSIGN_OR_RETURN(auto comment, Call(args, &CatalogService::Stub::CreateComment, request));
  return PrintJson(comment);
}

absl::Status ListComments(const Args& args) {
  catalog::v1::ListCommentsRequest request;
  AILAB_ASSIGN_OR_RETURN(*request.mutable_parent(), args.Require("name"));
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));
  AILAB_ASSIGN_OR_RETURN(auto page, Call(args, &CatalogService::Stub::ListComments, request));
  return PrintJson(page);
}

// Parses an optional enum option such as --body_area=BREAST; absent gives 0.
template <typename Enum>
absl::StatusOr<Enum> EnumOption(const Args& args, absl::string_view key,
                                bool (*parse)(const std::string&, Enum*)) {
  if (!args.Has(key)) return static_cast<Enum>(0);
  Enum value;
  std::string text = absl::AsciiStrToUpper(args.Get(key));
  if (!parse(text, &value) || static_cast<int>(value) == 0) {
    const google::protobuf::EnumDescriptor* descriptor =
        google::protobuf::GetEnumDescriptor<Enum>();
    std::vector<std::string> names;
    for (int i = 1; i < descriptor->value_count(); ++i)
      names.push_back(descriptor->value(i)->name());
    return InvalidArgument(
        "INVALID_OPTION", key,
        absl::StrCat("option --", key, " \"", args.Get(key), "\" is not valid; use one of ",
                     absl::StrJoin(names, ", ")));
  }
  return value;
}

absl::Status RequestDraft(const Args& args) {
  catalog::v1::CreateDraftRequestRequest request;
  auto* draft = request.mutable_draft_request();
  AILAB_ASSIGN_OR_RETURN(*draft->mutable_title(), args.Require("title"));
  draft->set_description(args.Get("description"));
  draft->set_use_case(args.Get("use_case"));
  AILAB_ASSIGN_OR_RETURN(
      UseCase::BodyArea body_area,
      EnumOption<UseCase::BodyArea>(args, "body_area", &UseCase::BodyArea_Parse));
  draft->set_body_area(body_area);
  AILAB_ASSIGN_OR_RETURN(UseCase::Modality modality,
                         EnumOption<UseCase::Modality>(args, "modality", &UseCase::Modality_Parse));
  draft->set_modality(modality);
  AILAB_ASSIGN_OR_RETURN(*request.mutable_user(), User(args));
  AILAB_ASSIGN_OR_RETURN(auto stored,
                         Call(args, &CatalogService::Stub::CreateDraftRequest, request));
  return PrintJson(stored);
}

absl::Status ListDraftRequests(const Args& args) {
  catalog::v1::ListDraftRequestsRequest request;
  request.set_use_case(args.Get("use_case"));
  request.set_requester(args.Get("requester"));
  AILAB_ASSIGN_OR_RETURN(int64_t page_size, args.GetInt("page_size", 0));
  request.set_page_size(static_cast<int32_t>(page_size));
  request.set_page_token(args.Get("page_token"));
  AILAB_ASSIGN_OR_RETURN(auto page, Call(args, &CatalogService::Stub::ListDraftRequests, request));
  return PrintJson(page);
}

}  // namespace

AILAB_CLI_COMMAND({"catalog", "list", "List use cases (filter, full-text query, sort, pages)",
                   "[--filter 'body_area=BREAST AND state=PUBLISHED'] [--query TEXT] "
                   "[--order_by 'update_time desc'] [--page_size N] [--page_token T] [--all] "
                   "[--table]",
                   &ListUseCases});
AILAB_CLI_COMMAND({"catalog", "get", "Show one use case with its CDEs",
                   "--name useCases/ID [--table]", &GetUseCase});
AILAB_CLI_COMMAND({"catalog", "submit", "Submit a use case from a protobuf JSON file",
                   "--file use_case.json --user USER [--use_case_id ID] [--draft]",
                   &SubmitUseCase});
AILAB_CLI_COMMAND({"catalog", "update", "Change a DRAFT or RETURNED use case from a JSON file",
                   "--file use_case.json --user USER [--name useCases/ID] "
                   "[--update_mask display_name,description,...]",
                   &UpdateUseCase});
AILAB_CLI_COMMAND({"catalog", "resubmit", "Submit a DRAFT or RETURNED use case for review",
                   "--name useCases/ID --user USER [--notes TEXT]", &ResubmitUseCase});
AILAB_CLI_COMMAND({"catalog", "review", "Accept, return or reject a SUBMITTED use case",
                   "--name useCases/ID --decision accept|return|reject [--notes TEXT] "
                   "--user USER",
                   &ReviewUseCase});
AILAB_CLI_COMMAND({"catalog", "history", "Show every state change of a use case",
                   "--name useCases/ID [--table]", &ShowHistory});
AILAB_CLI_COMMAND({"catalog", "comment", "Comment on a PUBLISHED use case",
                   "--name useCases/ID --text TEXT --user USER", &AddComment});
AILAB_CLI_COMMAND({"catalog", "comments", "List the comments of a PUBLISHED use case",
                   "--name useCases/ID [--page_size N] [--page_token T]", &ListComments});
AILAB_CLI_COMMAND({"catalog", "request-draft", "Request a draft of a use case not yet published",
                   "--title TEXT [--description TEXT] [--use_case useCases/ID] "
                   "[--body_area AREA] [--modality MOD] --user USER",
                   &RequestDraft});
AILAB_CLI_COMMAND({"catalog", "draft-requests", "List requests to draft use cases",
                   "[--use_case useCases/ID] [--requester USER] [--page_size N] "
                   "[--page_token T]",
                   &ListDraftRequests});

}  // namespace ailab::cli
