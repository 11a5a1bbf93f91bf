#include "store.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "ailab/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "names.h"

namespace ailab::catalog {
namespace {

using ::ailab::catalog::v1::AllowedValue;
using ::ailab::catalog::v1::Comment;
using ::ailab::catalog::v1::DataElement;
using ::ailab::catalog::v1::DraftRequest;
using ::ailab::catalog::v1::StateChange;
using ::ailab::catalog::v1::UseCase;
using ::google::protobuf::util::TimeUtil;

// Columns read into a UseCase by UseCaseFromRow(); times as microseconds since the
// Unix epoch.
constexpr absl::string_view kUseCaseColumns =
    "id, display_name, description, body_area, modality, task_kind, state, submitter, "
    "reviewer, reviewer_notes, revision, "
    "(extract(epoch FROM create_time) * 1000000)::bigint AS create_micros, "
    "(extract(epoch FROM update_time) * 1000000)::bigint AS update_micros";

// The tsvector of a use case from three texts of decreasing weight: the title, the
// CDE names and the descriptions. $a, $b and $c are replaced by parameter numbers.
constexpr absl::string_view kSearchDocument =
    "setweight(to_tsvector('english', $a), 'A') || "
    "setweight(to_tsvector('english', $b), 'B') || "
    "setweight(to_tsvector('english', $c), 'C')";

std::string SearchDocumentSql(int first_parameter) {
  return absl::StrReplaceAll(kSearchDocument, {{"$a", absl::StrCat("$", first_parameter)},
                                               {"$b", absl::StrCat("$", first_parameter + 1)},
                                               {"$c", absl::StrCat("$", first_parameter + 2)}});
}

// Texts indexed for full-text search, in the order of kSearchDocument. Hyphens and
// underscores of ids become spaces so that their words are found.
struct SearchTexts {
  std::string title;
  std::string elements;
  std::string descriptions;
};

SearchTexts MakeSearchTexts(const std::string& id, const UseCase& use_case) {
  SearchTexts texts;
  texts.title = absl::StrCat(use_case.display_name(), " ", absl::StrReplaceAll(id, {{"-", " "}}));
  std::vector<std::string> element_words;
  std::vector<std::string> descriptions = {use_case.description()};
  for (const DataElement& element : use_case.data_elements()) {
    element_words.push_back(absl::StrReplaceAll(element.id(), {{"_", " "}}));
    element_words.push_back(element.name());
    for (const AllowedValue& value : element.allowed_values()) {
      element_words.push_back(value.label());
    }
    descriptions.push_back(element.description());
  }
  texts.elements = absl::StrJoin(element_words, " ");
  texts.descriptions = absl::StrJoin(descriptions, " ");
  return texts;
}

google::protobuf::Timestamp TimestampFromMicros(int64_t micros) {
  return TimeUtil::MicrosecondsToTimestamp(micros);
}

UseCase::State StateFromName(const std::string& name) {
  UseCase::State state = UseCase::STATE_UNSPECIFIED;
  UseCase::State_Parse(name, &state);
  return state;
}

UseCase UseCaseFromRow(const pqxx::row& row) {
  UseCase use_case;
  use_case.set_name(UseCaseName(row["id"].as<std::string>()));
  use_case.set_display_name(row["display_name"].as<std::string>());
  use_case.set_description(row["description"].as<std::string>());
  UseCase::BodyArea body_area = UseCase::BODY_AREA_UNSPECIFIED;
  UseCase::BodyArea_Parse(row["body_area"].as<std::string>(), &body_area);
  use_case.set_body_area(body_area);
  UseCase::Modality modality = UseCase::MODALITY_UNSPECIFIED;
  UseCase::Modality_Parse(row["modality"].as<std::string>(), &modality);
  use_case.set_modality(modality);
  UseCase::TaskKind task_kind = UseCase::TASK_KIND_UNSPECIFIED;
  UseCase::TaskKind_Parse(row["task_kind"].as<std::string>(), &task_kind);
  use_case.set_task_kind(task_kind);
  use_case.set_state(StateFromName(row["state"].as<std::string>()));
  use_case.set_submitter(row["submitter"].as<std::string>());
  use_case.set_reviewer(row["reviewer"].as<std::string>());
  use_case.set_reviewer_notes(row["reviewer_notes"].as<std::string>());
  use_case.set_etag(row["revision"].as<std::string>());
  *use_case.mutable_create_time() = TimestampFromMicros(row["create_micros"].as<int64_t>());
  *use_case.mutable_update_time() = TimestampFromMicros(row["update_micros"].as<int64_t>());
  return use_case;
}

std::string IdOf(const UseCase& use_case) {
  return use_case.name().substr(kUseCasesCollection.size());
}

// Reads the data elements and allowed values of `use_cases` with two queries.
void LoadDataElements(pqxx::work& tx, std::vector<UseCase>& use_cases) {
  if (use_cases.empty()) return;
  std::map<std::string, UseCase*> by_id;
  std::vector<std::string> ids;
  for (UseCase& use_case : use_cases) {
    ids.push_back(IdOf(use_case));
    by_id[ids.back()] = &use_case;
  }
  // Ids are validated to lowercase letters, digits and hyphens, so a comma separates
  // them safely.
  std::string id_list = absl::StrJoin(ids, ",");

  pqxx::result elements = tx.exec_params(
      "SELECT use_case_id, element_id, name, description, value_kind, unit "
      "FROM data_elements WHERE use_case_id = ANY(string_to_array($1, ',')) "
      "ORDER BY use_case_id, position",
      id_list);
  for (const pqxx::row& row : elements) {
    DataElement* element = by_id[row["use_case_id"].as<std::string>()]->add_data_elements();
    element->set_id(row["element_id"].as<std::string>());
    element->set_name(row["name"].as<std::string>());
    element->set_description(row["description"].as<std::string>());
    DataElement::ValueKind kind = DataElement::CATEGORICAL;
    DataElement::ValueKind_Parse(row["value_kind"].as<std::string>(), &kind);
    element->set_value_kind(kind);
    element->set_unit(row["unit"].as<std::string>());
  }

  pqxx::result values = tx.exec_params(
      "SELECT use_case_id, element_position, value, label, report_text "
      "FROM allowed_values WHERE use_case_id = ANY(string_to_array($1, ',')) "
      "ORDER BY use_case_id, element_position, position",
      id_list);
  for (const pqxx::row& row : values) {
    UseCase* use_case = by_id[row["use_case_id"].as<std::string>()];
    int position = row["element_position"].as<int>();
    if (position < 0 || position >= use_case->data_elements_size()) continue;
    AllowedValue* value = use_case->mutable_data_elements(position)->add_allowed_values();
    value->set_value(row["value"].as<std::string>());
    value->set_label(row["label"].as<std::string>());
    value->set_report_text(row["report_text"].as<std::string>());
  }
}

// Replaces the stored data elements of `id` with those of `use_case`.
void WriteDataElements(pqxx::work& tx, const std::string& id, const UseCase& use_case) {
  tx.exec_params("DELETE FROM data_elements WHERE use_case_id = $1", id);
  for (int i = 0; i < use_case.data_elements_size(); ++i) {
    const DataElement& element = use_case.data_elements(i);
    tx.exec_params(
        "INSERT INTO data_elements (use_case_id, position, element_id, name, description, "
        "value_kind, unit) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        id, i, element.id(), element.name(), element.description(),
        DataElement::ValueKind_Name(element.value_kind()), element.unit());
    for (int j = 0; j < element.allowed_values_size(); ++j) {
      const AllowedValue& value = element.allowed_values(j);
      tx.exec_params(
          "INSERT INTO allowed_values (use_case_id, element_position, position, value, label, "
          "report_text) VALUES ($1, $2, $3, $4, $5, $6)",
          id, i, j, value.value(), value.label(), value.report_text());
    }
  }
}

void WriteStateChange(pqxx::work& tx, const std::string& id, const StateChangeRecord& change) {
  tx.exec_params(
      "INSERT INTO state_changes (use_case_id, from_state, to_state, actor, notes) "
      "VALUES ($1, $2, $3, $4, $5)",
      id, UseCase::State_Name(change.from_state), UseCase::State_Name(change.to_state),
      change.actor, change.notes);
}

// Reads one use case with its data elements; `lock` is appended to the SELECT, for
// example "FOR UPDATE".
absl::StatusOr<UseCase> LoadUseCase(pqxx::work& tx, const std::string& id, absl::string_view lock) {
  pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT ", kUseCaseColumns, " FROM use_cases WHERE id = $1 ", lock), id);
  if (rows.empty()) return UseCaseNotFound(id);
  std::vector<UseCase> use_cases = {UseCaseFromRow(rows[0])};
  LoadDataElements(tx, use_cases);
  return std::move(use_cases[0]);
}

// Inserts a use case; returns false when the id is taken.
bool InsertUseCaseRow(pqxx::work& tx, const std::string& id, const UseCase& use_case,
                      const std::string& notes) {
  SearchTexts texts = MakeSearchTexts(id, use_case);
  pqxx::result inserted = tx.exec_params(
      absl::StrCat("INSERT INTO use_cases (id, display_name, description, body_area, modality, "
                   "task_kind, state, submitter, search_document) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ",
                   SearchDocumentSql(9), ") ON CONFLICT (id) DO NOTHING RETURNING id"),
      id, use_case.display_name(), use_case.description(),
      UseCase::BodyArea_Name(use_case.body_area()), UseCase::Modality_Name(use_case.modality()),
      UseCase::TaskKind_Name(use_case.task_kind()), UseCase::State_Name(use_case.state()),
      use_case.submitter(), texts.title, texts.elements, texts.descriptions);
  if (inserted.empty()) return false;
  WriteDataElements(tx, id, use_case);
  WriteStateChange(tx, id,
                   {UseCase::STATE_UNSPECIFIED, use_case.state(), use_case.submitter(), notes});
  return true;
}

}  // namespace

absl::Status UseCaseNotFound(const std::string& id) {
  std::string name = UseCaseName(id);
  return NotFound(
      "USE_CASE_NOT_FOUND",
      absl::StrCat("use case \"", name, "\" not found; list existing use cases with ListUseCases"),
      {{"name", name}});
}

std::vector<pg::Migration> CatalogStore::Migrations() {
  return {
      {1, "use cases, data elements, history, comments and draft requests", R"sql(
CREATE TABLE use_cases (
  id text PRIMARY KEY,
  display_name text NOT NULL,
  description text NOT NULL,
  body_area text NOT NULL,
  modality text NOT NULL,
  task_kind text NOT NULL,
  state text NOT NULL
    CHECK (state IN ('DRAFT', 'SUBMITTED', 'RETURNED', 'PUBLISHED', 'REJECTED')),
  submitter text NOT NULL,
  reviewer text NOT NULL DEFAULT '',
  reviewer_notes text NOT NULL DEFAULT '',
  revision bigint NOT NULL DEFAULT 1,
  create_time timestamptz NOT NULL DEFAULT now(),
  update_time timestamptz NOT NULL DEFAULT now(),
  search_document tsvector NOT NULL
);
CREATE INDEX use_cases_search_document ON use_cases USING gin (search_document);
CREATE INDEX use_cases_state ON use_cases (state);
CREATE INDEX use_cases_display_name ON use_cases ((lower(display_name) COLLATE "C"), id);

CREATE TABLE data_elements (
  use_case_id text NOT NULL REFERENCES use_cases (id) ON DELETE CASCADE,
  position integer NOT NULL,
  element_id text NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  value_kind text NOT NULL,
  unit text NOT NULL,
  PRIMARY KEY (use_case_id, position),
  UNIQUE (use_case_id, element_id)
);

CREATE TABLE allowed_values (
  use_case_id text NOT NULL,
  element_position integer NOT NULL,
  position integer NOT NULL,
  value text NOT NULL,
  label text NOT NULL,
  report_text text NOT NULL,
  PRIMARY KEY (use_case_id, element_position, position),
  UNIQUE (use_case_id, element_position, value),
  FOREIGN KEY (use_case_id, element_position)
    REFERENCES data_elements (use_case_id, position) ON DELETE CASCADE
);

CREATE TABLE state_changes (
  id bigserial PRIMARY KEY,
  use_case_id text NOT NULL REFERENCES use_cases (id) ON DELETE CASCADE,
  from_state text NOT NULL,
  to_state text NOT NULL,
  actor text NOT NULL,
  notes text NOT NULL,
  change_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX state_changes_use_case ON state_changes (use_case_id, id);

CREATE TABLE comments (
  id bigserial PRIMARY KEY,
  use_case_id text NOT NULL REFERENCES use_cases (id) ON DELETE CASCADE,
  author text NOT NULL,
  text text NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comments_use_case ON comments (use_case_id, id);

CREATE TABLE draft_requests (
  id bigserial PRIMARY KEY,
  title text NOT NULL,
  description text NOT NULL,
  requester text NOT NULL,
  use_case_id text REFERENCES use_cases (id) ON DELETE SET NULL,
  body_area text NOT NULL,
  modality text NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX draft_requests_use_case ON draft_requests (use_case_id, id);
CREATE INDEX draft_requests_requester ON draft_requests (requester, id);
)sql"},
  };
}

absl::StatusOr<UseCase> CatalogStore::InsertUseCase(const std::string& id, const UseCase& use_case,
                                                    const std::string& notes) {
  return pool_.Query<UseCase>([&](pqxx::work& tx) -> absl::StatusOr<UseCase> {
    if (!InsertUseCaseRow(tx, id, use_case, notes)) {
      std::string name = UseCaseName(id);
      return AlreadyExists(
          "USE_CASE_EXISTS",
          absl::StrCat("use case \"", name, "\" already exists; choose another use_case_id"),
          {{"name", name}});
    }
    return LoadUseCase(tx, id, "");
  });
}

absl::StatusOr<bool> CatalogStore::InsertUseCaseIfAbsent(const std::string& id,
                                                         const UseCase& use_case,
                                                         const std::string& notes) {
  return pool_.Query<bool>([&](pqxx::work& tx) -> absl::StatusOr<bool> {
    return InsertUseCaseRow(tx, id, use_case, notes);
  });
}

absl::StatusOr<UseCase> CatalogStore::GetUseCase(const std::string& id) {
  return pool_.Query<UseCase>(
      [&](pqxx::work& tx) -> absl::StatusOr<UseCase> { return LoadUseCase(tx, id, ""); });
}

absl::StatusOr<UseCase> CatalogStore::UpdateUseCase(const std::string& id,
                                                    const UseCaseMutation& mutation) {
  return pool_.Query<UseCase>([&](pqxx::work& tx) -> absl::StatusOr<UseCase> {
    AILAB_ASSIGN_OR_RETURN(UseCase use_case, LoadUseCase(tx, id, "FOR UPDATE"));
    std::optional<StateChangeRecord> state_change;
    AILAB_RETURN_IF_ERROR(mutation(use_case, state_change));

    SearchTexts texts = MakeSearchTexts(id, use_case);
    tx.exec_params(
        absl::StrCat("UPDATE use_cases SET display_name = $2, description = $3, body_area = $4, "
                     "modality = $5, task_kind = $6, state = $7, reviewer = $8, "
                     "reviewer_notes = $9, revision = revision + 1, update_time = now(), "
                     "search_document = ",
                     SearchDocumentSql(10), " WHERE id = $1"),
        id, use_case.display_name(), use_case.description(),
        UseCase::BodyArea_Name(use_case.body_area()), UseCase::Modality_Name(use_case.modality()),
        UseCase::TaskKind_Name(use_case.task_kind()), UseCase::State_Name(use_case.state()),
        use_case.reviewer(), use_case.reviewer_notes(), texts.title, texts.elements,
        texts.descriptions);
    WriteDataElements(tx, id, use_case);
    if (state_change.has_value()) WriteStateChange(tx, id, *state_change);
    return LoadUseCase(tx, id, "");
  });
}

absl::StatusOr<UseCasePage> CatalogStore::ListUseCases(const UseCaseQuery& query) {
  // WHERE clause; column names come from the parser's fixed list, values are
  // parameters.
  std::vector<std::string> parameters;
  std::vector<std::string> clauses;
  for (const FilterCondition& condition : query.conditions) {
    parameters.push_back(condition.value);
    clauses.push_back(
        absl::StrCat(condition.column, condition.negated ? " <> $" : " = $", parameters.size()));
  }
  std::string rank;
  if (!query.text_query.empty()) {
    parameters.push_back(query.text_query);
    std::string tsquery = absl::StrCat("to_tsquery('english', $", parameters.size(), ")");
    clauses.push_back(absl::StrCat("search_document @@ ", tsquery));
    rank = absl::StrCat("ts_rank(search_document, ", tsquery, ") DESC");
  }
  std::string where =
      clauses.empty() ? "" : absl::StrCat(" WHERE ", absl::StrJoin(clauses, " AND "));

  // ORDER BY, always ending with the primary key so that pages neither overlap nor
  // leave gaps.
  std::vector<std::string> order;
  for (const OrderTerm& term : query.order) {
    std::string column =
        term.column == "display_name" ? "lower(display_name) COLLATE \"C\"" : term.column;
    order.push_back(absl::StrCat(column, term.descending ? " DESC" : " ASC"));
  }
  if (order.empty()) order.push_back(rank.empty() ? "lower(display_name) COLLATE \"C\" ASC" : rank);
  order.push_back("id ASC");

  std::vector<std::string> page_parameters = parameters;
  page_parameters.push_back(absl::StrCat(query.limit + 1));
  page_parameters.push_back(absl::StrCat(query.offset));
  std::string page_sql =
      absl::StrCat("SELECT ", kUseCaseColumns, " FROM use_cases", where, " ORDER BY ",
                   absl::StrJoin(order, ", "), " LIMIT $", page_parameters.size() - 1,
                   "::bigint OFFSET $", page_parameters.size(), "::bigint");
  std::string count_sql = absl::StrCat("SELECT count(*) FROM use_cases", where);

  return pool_.Query<UseCasePage>([&](pqxx::work& tx) -> absl::StatusOr<UseCasePage> {
    UseCasePage page;
    pqxx::result count = tx.exec_params(count_sql, pqxx::prepare::make_dynamic_params(parameters));
    page.total_size = count[0][0].as<int64_t>();
    pqxx::result rows =
        tx.exec_params(page_sql, pqxx::prepare::make_dynamic_params(page_parameters));
    for (const pqxx::row& row : rows) {
      if (static_cast<int>(page.use_cases.size()) == query.limit) {
        page.has_more = true;
        break;
      }
      page.use_cases.push_back(UseCaseFromRow(row));
    }
    LoadDataElements(tx, page.use_cases);
    return page;
  });
}

absl::StatusOr<Page<StateChange>> CatalogStore::ListStateChanges(const std::string& id,
                                                                 int64_t offset, int limit) {
  return pool_.Query<Page<StateChange>>([&](pqxx::work& tx) -> absl::StatusOr<Page<StateChange>> {
    if (tx.exec_params("SELECT 1 FROM use_cases WHERE id = $1", id).empty()) {
      return UseCaseNotFound(id);
    }
    pqxx::result rows = tx.exec_params(
        "SELECT from_state, to_state, actor, notes, "
        "(extract(epoch FROM change_time) * 1000000)::bigint AS change_micros "
        "FROM state_changes WHERE use_case_id = $1 ORDER BY id LIMIT $2::bigint OFFSET $3::bigint",
        id, static_cast<int64_t>(limit) + 1, offset);
    Page<StateChange> page;
    for (const pqxx::row& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.has_more = true;
        break;
      }
      StateChange& change = page.items.emplace_back();
      change.set_from_state(StateFromName(row["from_state"].as<std::string>()));
      change.set_to_state(StateFromName(row["to_state"].as<std::string>()));
      change.set_actor(row["actor"].as<std::string>());
      change.set_notes(row["notes"].as<std::string>());
      *change.mutable_change_time() = TimestampFromMicros(row["change_micros"].as<int64_t>());
    }
    return page;
  });
}

absl::StatusOr<Comment> CatalogStore::InsertComment(const std::string& use_case_id,
                                                    const std::string& author,
                                                    const std::string& text,
                                                    const UseCaseCheck& check) {
  return pool_.Query<Comment>([&](pqxx::work& tx) -> absl::StatusOr<Comment> {
    // FOR SHARE keeps the state from changing until the comment is stored.
    AILAB_ASSIGN_OR_RETURN(UseCase use_case, LoadUseCase(tx, use_case_id, "FOR SHARE"));
    AILAB_RETURN_IF_ERROR(check(use_case));
    pqxx::row row = tx.exec_params1(
        "INSERT INTO comments (use_case_id, author, text) VALUES ($1, $2, $3) "
        "RETURNING id, (extract(epoch FROM create_time) * 1000000)::bigint",
        use_case_id, author, text);
    Comment comment;
    comment.set_name(CommentName(use_case_id, row[0].as<int64_t>()));
    comment.set_author(author);
    comment.set_text(text);
    *comment.mutable_create_time() = TimestampFromMicros(row[1].as<int64_t>());
    return comment;
  });
}

absl::StatusOr<Page<Comment>> CatalogStore::ListComments(const std::string& use_case_id,
                                                         int64_t offset, int limit,
                                                         const UseCaseCheck& check) {
  return pool_.Query<Page<Comment>>([&](pqxx::work& tx) -> absl::StatusOr<Page<Comment>> {
    AILAB_ASSIGN_OR_RETURN(UseCase use_case, LoadUseCase(tx, use_case_id, ""));
    AILAB_RETURN_IF_ERROR(check(use_case));
    pqxx::result rows = tx.exec_params(
        "SELECT id, author, text, (extract(epoch FROM create_time) * 1000000)::bigint "
        "FROM comments WHERE use_case_id = $1 ORDER BY id LIMIT $2::bigint OFFSET $3::bigint",
        use_case_id, static_cast<int64_t>(limit) + 1, offset);
    Page<Comment> page;
    for (const pqxx::row& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.has_more = true;
        break;
      }
      Comment& comment = page.items.emplace_back();
      comment.set_name(CommentName(use_case_id, row[0].as<int64_t>()));
      comment.set_author(row[1].as<std::string>());
      comment.set_text(row[2].as<std::string>());
      *comment.mutable_create_time() = TimestampFromMicros(row[3].as<int64_t>());
    }
    return page;
  });
}

absl::StatusOr<DraftRequest> CatalogStore::InsertDraftRequest(const DraftRequest& request,
                                                              const UseCaseCheck& check) {
  return pool_.Query<DraftRequest>([&](pqxx::work& tx) -> absl::StatusOr<DraftRequest> {
    std::string use_case_id;
    if (!request.use_case().empty()) {
      use_case_id = request.use_case().substr(kUseCasesCollection.size());
      AILAB_ASSIGN_OR_RETURN(UseCase use_case, LoadUseCase(tx, use_case_id, "FOR SHARE"));
      AILAB_RETURN_IF_ERROR(check(use_case));
    }
    pqxx::row row = tx.exec_params1(
        "INSERT INTO draft_requests (title, description, requester, use_case_id, body_area, "
        "modality) VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6) "
        "RETURNING id, (extract(epoch FROM create_time) * 1000000)::bigint",
        request.title(), request.description(), request.requester(), use_case_id,
        UseCase::BodyArea_Name(request.body_area()), UseCase::Modality_Name(request.modality()));
    DraftRequest stored = request;
    stored.set_name(DraftRequestName(row[0].as<int64_t>()));
    *stored.mutable_create_time() = TimestampFromMicros(row[1].as<int64_t>());
    return stored;
  });
}

absl::StatusOr<Page<DraftRequest>> CatalogStore::ListDraftRequests(const std::string& use_case_id,
                                                                   const std::string& requester,
                                                                   int64_t offset, int limit) {
  return pool_.Query<Page<DraftRequest>>([&](pqxx::work& tx) -> absl::StatusOr<Page<DraftRequest>> {
    pqxx::result rows = tx.exec_params(
        "SELECT id, title, description, requester, COALESCE(use_case_id, '') AS use_case_id, "
        "body_area, modality, (extract(epoch FROM create_time) * 1000000)::bigint AS micros "
        "FROM draft_requests WHERE ($1 = '' OR use_case_id = $1) "
        "AND ($2 = '' OR requester = $2) "
        "ORDER BY id DESC LIMIT $3::bigint OFFSET $4::bigint",
        use_case_id, requester, static_cast<int64_t>(limit) + 1, offset);
    Page<DraftRequest> page;
    for (const pqxx::row& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.has_more = true;
        break;
      }
      DraftRequest& request = page.items.emplace_back();
      request.set_name(DraftRequestName(row["id"].as<int64_t>()));
      request.set_title(row["title"].as<std::string>());
      request.set_description(row["description"].as<std::string>());
      request.set_requester(row["requester"].as<std::string>());
      std::string stored_use_case = row["use_case_id"].as<std::string>();
      if (!stored_use_case.empty()) request.set_use_case(UseCaseName(stored_use_case));
      UseCase::BodyArea body_area = UseCase::BODY_AREA_UNSPECIFIED;
      UseCase::BodyArea_Parse(row["body_area"].as<std::string>(), &body_area);
      request.set_body_area(body_area);
      UseCase::Modality modality = UseCase::MODALITY_UNSPECIFIED;
      UseCase::Modality_Parse(row["modality"].as<std::string>(), &modality);
      request.set_modality(modality);
      *request.mutable_create_time() = TimestampFromMicros(row["micros"].as<int64_t>());
    }
    return page;
  });
}

}  // namespace ailab::catalog
