#include "names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"

namespace ailab::catalog {
namespace {

constexpr size_t kMinIdLength = 3;
constexpr size_t kMaxIdLength = 63;
constexpr size_t kMaxUserLength = 128;

bool IsIdCharacter(char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-'; }

}  // namespace

absl::Status ValidateUseCaseId(absl::string_view id, absl::string_view field) {
  std::string id_text(id);
  if (id.size() < kMinIdLength || id.size() > kMaxIdLength) {
    return InvalidArgument(
        "INVALID_USE_CASE_ID", field,
        absl::StrCat("use case id \"", id_text, "\" has ", id.size(),
                     " characters; use 3 to 63 lowercase letters, digits and hyphens"),
        {{"use_case_id", id_text}});
  }
  for (char c : id) {
    if (!IsIdCharacter(c)) {
      return InvalidArgument(
          "INVALID_USE_CASE_ID", field,
          absl::StrCat("use case id \"", id_text,
                       "\" contains characters other than lowercase letters, digits and "
                       "hyphens, for example \"breast-density\""),
          {{"use_case_id", id_text}});
    }
  }
  if (!absl::ascii_islower(id.front()) || id.back() == '-') {
    return InvalidArgument("INVALID_USE_CASE_ID", field,
                           absl::StrCat("use case id \"", id_text,
                                        "\" must start with a letter and must not end with "
                                        "a hyphen"),
                           {{"use_case_id", id_text}});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseUseCaseName(absl::string_view name, absl::string_view field) {
  if (name.empty()) {
    return InvalidArgument("MISSING_FIELD", field,
                           absl::StrCat(field,
                                        " is required; give a use case name such as "
                                        "\"useCases/breast-density\""),
                           {{"field", field}});
  }
  std::string name_text(name);
  if (!absl::StartsWith(name, kUseCasesCollection)) {
    return InvalidArgument("INVALID_USE_CASE_NAME", field,
                           absl::StrCat(field, " \"", name_text,
                                        "\" is not a use case name; use \"useCases/{id}\", "
                                        "for example \"useCases/breast-density\""),
                           {{"name", name_text}});
  }
  absl::string_view id = name.substr(kUseCasesCollection.size());
  absl::Status id_status = ValidateUseCaseId(id, field);
  if (!id_status.ok()) {
    return InvalidArgument(
        "INVALID_USE_CASE_NAME", field,
        absl::StrCat(field, " \"", name_text, "\" is invalid: ", id_status.message()),
        {{"name", name_text}});
  }
  return std::string(id);
}

std::string UseCaseName(absl::string_view id) { return absl::StrCat(kUseCasesCollection, id); }

std::string CommentName(absl::string_view use_case_id, int64_t comment_id) {
  return absl::StrCat(kUseCasesCollection, use_case_id, "/comments/", comment_id);
}

std::string DraftRequestName(int64_t id) { return absl::StrCat(kDraftRequestsCollection, id); }

std::string UseCaseIdFromDisplayName(absl::string_view display_name) {
  std::string id;
  bool pending_hyphen = false;
  for (char c : display_name) {
    if (absl::ascii_isalnum(c)) {
      if (pending_hyphen && !id.empty()) id.push_back('-');
      pending_hyphen = false;
      id.push_back(absl::ascii_tolower(c));
    } else {
      pending_hyphen = true;
    }
  }
  if (!id.empty() && !absl::ascii_islower(id.front())) id = absl::StrCat("uc-", id);
  if (id.size() > kMaxIdLength) id.resize(kMaxIdLength);
  while (!id.empty() && id.back() == '-') id.pop_back();
  return id;
}

absl::Status ValidateUser(absl::string_view user, absl::string_view field) {
  if (user.empty()) {
    return InvalidArgument("MISSING_FIELD", field,
                           absl::StrCat(field,
                                        " is required; give the id of the user making "
                                        "the request, for example \"alice\""),
                           {{"field", field}});
  }
  std::string user_text(user);
  if (user.size() > kMaxUserLength) {
    return InvalidArgument(
        "INVALID_USER", field,
        absl::StrCat(field, " has ", user.size(), " characters; user ids have at most 128"),
        {{"user", user_text.substr(0, kMaxUserLength)}});
  }
  for (char c : user) {
    if (!absl::ascii_isgraph(c)) {
      return InvalidArgument("INVALID_USER", field,
                             absl::StrCat(field, " \"", user_text,
                                          "\" contains spaces or non-printable characters; "
                                          "user ids are printable ASCII without spaces"),
                             {{"user", user_text}});
    }
  }
  return absl::OkStatus();
}

}  // namespace ailab::catalog
