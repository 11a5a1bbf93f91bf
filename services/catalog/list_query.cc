#include "list_query.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ailab/catalog/v1/catalog.pb.h"
#include "ailab/status/status.h"
#include "google/protobuf/descriptor.h"
#include "names.h"

namespace ailab::catalog {
namespace {

using ::ailab::catalog::v1::UseCase;

constexpr size_t kMaxFilterLength = 1000;
constexpr size_t kMaxQueryLength = 200;
constexpr size_t kMaxQueryWords = 20;

// One token of a filter, with its 1-based character position for error messages.
struct Token {
  enum Kind { kWord, kQuoted, kEquals, kNotEquals, kEnd };
  Kind kind = kEnd;
  std::string text;
  size_t position = 0;
};

absl::Status FilterError(absl::string_view filter, absl::string_view message) {
  return InvalidArgument("INVALID_FILTER", "filter",
                         absl::StrCat("filter \"", filter, "\" is invalid: ", message,
                                      "; write conditions like `body_area=BREAST AND "
                                      "state=PUBLISHED`"),
                         {{"filter", filter}});
}

// Splits a filter into tokens. A word is a run of characters other than spaces,
// '=', '!' and '"'; a quoted value may contain \" and \\ escapes.
absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view filter) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < filter.size()) {
    char c = filter[i];
    if (absl::ascii_isspace(c)) {
      ++i;
      continue;
    }
    Token token;
    token.position = i + 1;
    if (c == '=') {
      token.kind = Token::kEquals;
      ++i;
    } else if (c == '!') {
      if (i + 1 >= filter.size() || filter[i + 1] != '=') {
        return FilterError(filter,
                           absl::StrCat("'!' at position ", i + 1, " must be followed by '='"));
      }
      token.kind = Token::kNotEquals;
      i += 2;
    } else if (c == '"') {
      token.kind = Token::kQuoted;
      ++i;
      bool closed = false;
      while (i < filter.size()) {
        char q = filter[i++];
        if (q == '"') {
          closed = true;
          break;
        }
        if (q == '\\' && i < filter.size()) q = filter[i++];
        token.text.push_back(q);
      }
      if (!closed) {
        return FilterError(filter, absl::StrCat("the quoted value starting at position ",
                                                token.position, " has no closing quote"));
      }
    } else {
      token.kind = Token::kWord;
      while (i < filter.size() && !absl::ascii_isspace(filter[i]) && filter[i] != '=' &&
             filter[i] != '!' && filter[i] != '"') {
        token.text.push_back(filter[i++]);
      }
    }
    tokens.push_back(std::move(token));
  }
  Token end;
  end.position = filter.size() + 1;
  tokens.push_back(end);
  return tokens;
}

// Returns the enum descriptor that checks values of a filter field, or nullptr for
// fields with free-form values.
const google::protobuf::EnumDescriptor* EnumOfField(absl::string_view field) {
  if (field == "body_area") return UseCase::BodyArea_descriptor();
  if (field == "modality") return UseCase::Modality_descriptor();
  if (field == "state") return UseCase::State_descriptor();
  if (field == "task_kind") return UseCase::TaskKind_descriptor();
  return nullptr;
}

std::string EnumNames(const google::protobuf::EnumDescriptor* descriptor) {
  std::vector<std::string> names;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    if (descriptor->value(i)->number() == 0) continue;
    names.push_back(descriptor->value(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<std::string> CanonicalValue(absl::string_view filter, absl::string_view field,
                                           const std::string& value) {
  if (value.empty()) {
    return FilterError(filter, absl::StrCat("the value of ", field, " is empty"));
  }
  const google::protobuf::EnumDescriptor* descriptor = EnumOfField(field);
  if (descriptor == nullptr) {
    AILAB_RETURN_IF_ERROR(ValidateUser(value, "filter"));
    return value;
  }
  std::string upper = absl::AsciiStrToUpper(value);
  if (field == "modality" && upper == "PET") upper = "PT";
  const google::protobuf::EnumValueDescriptor* enum_value = descriptor->FindValueByName(upper);
  if (enum_value == nullptr) {
    return FilterError(filter, absl::StrCat("\"", value, "\" is not a ", field, "; use one of ",
                                            EnumNames(descriptor)));
  }
  return enum_value->name();
}

}  // namespace

absl::StatusOr<std::vector<FilterCondition>> ParseUseCaseFilter(absl::string_view filter) {
  if (filter.size() > kMaxFilterLength) {
    return InvalidArgument(
        "INVALID_FILTER", "filter",
        absl::StrCat("filter has ", filter.size(), " characters; the maximum is 1000"));
  }
  AILAB_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(filter));
  std::vector<FilterCondition> conditions;
  size_t next = 0;
  if (tokens[next].kind == Token::kEnd) return conditions;

  while (true) {
    // field
    const Token& field = tokens[next++];
    if (field.kind != Token::kWord) {
      return FilterError(filter,
                         absl::StrCat("expected a field name at position ", field.position));
    }
    if (EnumOfField(field.text) == nullptr && field.text != "submitter") {
      return FilterError(filter, absl::StrCat("field \"", field.text,
                                              "\" is not supported; use body_area, modality, "
                                              "state, task_kind or submitter"));
    }

    // operator
    const Token& op = tokens[next++];
    if (op.kind != Token::kEquals && op.kind != Token::kNotEquals) {
      return FilterError(filter, absl::StrCat("expected '=' or '!=' after \"", field.text,
                                              "\" at position ", op.position));
    }

    // value
    const Token& value = tokens[next++];
    if (value.kind != Token::kWord && value.kind != Token::kQuoted) {
      return FilterError(filter, absl::StrCat("expected a value for ", field.text, " at position ",
                                              value.position));
    }
    AILAB_ASSIGN_OR_RETURN(std::string canonical, CanonicalValue(filter, field.text, value.text));
    conditions.push_back({field.text, op.kind == Token::kNotEquals, std::move(canonical)});

    // AND or the end
    const Token& join = tokens[next];
    if (join.kind == Token::kEnd) break;
    std::string upper = absl::AsciiStrToUpper(join.text);
    if (join.kind == Token::kWord && upper == "OR") {
      return FilterError(filter, absl::StrCat("OR at position ", join.position,
                                              " is not supported; only AND joins conditions"));
    }
    if (join.kind != Token::kWord || upper != "AND") {
      return FilterError(filter, absl::StrCat("expected AND or the end of the filter at position ",
                                              join.position));
    }
    ++next;
  }
  return conditions;
}

absl::StatusOr<std::vector<OrderTerm>> ParseUseCaseOrderBy(absl::string_view order_by) {
  std::vector<OrderTerm> terms;
  if (absl::StripAsciiWhitespace(order_by).empty()) return terms;
  std::string order_text(order_by);
  auto order_error = [&](absl::string_view message) {
    return InvalidArgument("INVALID_ORDER_BY", "order_by",
                           absl::StrCat("order_by \"", order_text, "\" is invalid: ", message,
                                        "; use display_name, create_time or update_time, each "
                                        "optionally followed by \"desc\""),
                           {{"order_by", order_text}});
  };
  for (absl::string_view part : absl::StrSplit(order_by, ',')) {
    std::vector<absl::string_view> words =
        absl::StrSplit(part, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
    if (words.empty()) return order_error("it has an empty field");
    OrderTerm term;
    term.column = std::string(words[0]);
    if (term.column != "display_name" && term.column != "create_time" &&
        term.column != "update_time") {
      return order_error(absl::StrCat("field \"", term.column, "\" cannot be sorted on"));
    }
    if (words.size() > 2) {
      return order_error(absl::StrCat("unexpected \"", words[2], "\" after ", term.column));
    }
    if (words.size() == 2) {
      std::string direction = absl::AsciiStrToLower(words[1]);
      if (direction != "desc" && direction != "asc") {
        return order_error(absl::StrCat("\"", words[1], "\" is not a direction"));
      }
      term.descending = direction == "desc";
    }
    for (const OrderTerm& existing : terms) {
      if (existing.column == term.column) {
        return order_error(absl::StrCat("field ", term.column, " appears twice"));
      }
    }
    terms.push_back(std::move(term));
  }
  return terms;
}

absl::StatusOr<std::string> BuildTextSearchQuery(absl::string_view query) {
  std::string query_text(query);
  if (query.size() > kMaxQueryLength) {
    return InvalidArgument(
        "INVALID_QUERY", "query",
        absl::StrCat("query has ", query.size(), " characters; the maximum is 200"));
  }
  std::vector<std::string> words;
  std::string word;
  for (size_t i = 0; i <= query.size(); ++i) {
    if (i < query.size() && absl::ascii_isalnum(query[i])) {
      word.push_back(absl::ascii_tolower(query[i]));
      continue;
    }
    if (!word.empty()) words.push_back(absl::StrCat(word, ":*"));
    word.clear();
  }
  if (words.empty()) {
    if (absl::StripAsciiWhitespace(query).empty()) return std::string();
    return InvalidArgument(
        "INVALID_QUERY", "query",
        absl::StrCat("query \"", query_text, "\" contains no letters or digits to search for"),
        {{"query", query_text}});
  }
  if (words.size() > kMaxQueryWords) {
    return InvalidArgument("INVALID_QUERY", "query",
                           absl::StrCat("query has ", words.size(), " words; the maximum is 20"),
                           {{"query", query_text}});
  }
  return absl::StrJoin(words, " & ");
}

}  // namespace ailab::catalog
