#include "services/evaluation/publishing_store.h"

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "services/evaluation/json.h"

namespace ailab::evaluation {
namespace {

using ::google::protobuf::util::TimeUtil;

std::string LastPart(const std::string& name) { return name.substr(name.rfind('/') + 1); }

int64_t Micros(const google::protobuf::Timestamp& timestamp) {
  return TimeUtil::TimestampToMicroseconds(timestamp);
}

absl::Status DestinationNotFound(const std::string& id) {
  const std::string name = absl::StrCat("destinations/", id);
  return NotFound(
      "DESTINATION_NOT_FOUND",
      absl::StrCat("destination \"", name, "\" not found; list destinations with ListDestinations"),
      {{"destination", name}});
}

absl::Status PublicationNotFound(const std::string& id) {
  const std::string name = absl::StrCat("publications/", id);
  return NotFound(
      "PUBLICATION_NOT_FOUND",
      absl::StrCat("publication \"", name, "\" not found; list publications with ListPublications"),
      {{"publication", name}});
}

template <typename T>
absl::StatusOr<Page<T>> ReadPage(const pqxx::result& rows, int limit) {
  Page<T> page;
  for (const auto& row : rows) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.has_more = true;
      break;
    }
    AILAB_ASSIGN_OR_RETURN(T item, FromJson<T>(row[1].as<std::string>(), row[0].as<std::string>()));
    page.items.push_back(std::move(item));
  }
  return page;
}

absl::Status WritePublication(pqxx::work& tx, const v1::Publication& publication) {
  AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(publication));
  tx.exec_params("UPDATE publications SET state = $2, body = $3::jsonb WHERE id = $1",
                 LastPart(publication.name()), v1::Publication::State_Name(publication.state()),
                 json);
  return absl::OkStatus();
}

}  // namespace

absl::Status PublishingStore::InsertDestination(const v1::Destination& destination,
                                                const std::string& token) {
  v1::Destination stored = destination;
  if (stored.has_http()) stored.mutable_http()->clear_token();
  AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(stored));
  return pool_.Run([&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "INSERT INTO destinations (id, create_time, token, body) VALUES "
        "($1, TIMESTAMPTZ 'epoch' + $2::bigint * INTERVAL '1 microsecond', $3, $4::jsonb)",
        LastPart(stored.name()), Micros(stored.create_time()), token, json);
    return absl::OkStatus();
  });
}

absl::StatusOr<StoredDestination> PublishingStore::GetDestination(const std::string& id) {
  return pool_.Query<StoredDestination>([&](pqxx::work& tx) -> absl::StatusOr<StoredDestination> {
    pqxx::result rows =
        tx.exec_params("SELECT body::text, token FROM destinations WHERE id = $1", id);
    if (rows.empty()) return DestinationNotFound(id);
    StoredDestination stored;
    AILAB_ASSIGN_OR_RETURN(stored.destination,
                           FromJson<v1::Destination>(rows[0][0].as<std::string>(), id));
    stored.token = rows[0][1].as<std::string>();
    return stored;
  });
}

absl::StatusOr<Page<v1::Destination>> PublishingStore::ListDestinations(int64_t offset, int limit) {
  return pool_.Query<Page<v1::Destination>>(
      [&](pqxx::work& tx) -> absl::StatusOr<Page<v1::Destination>> {
        pqxx::result rows = tx.exec_params(
            "SELECT id, body::text FROM destinations ORDER BY create_time DESC, id DESC "
            "OFFSET $1 LIMIT $2",
            offset, limit + 1);
        return ReadPage<v1::Destination>(rows, limit);
      });
}

absl::StatusOr<v1::Publication> PublishingStore::InsertOrUpdatePublication(
    const v1::Publication& candidate,
    const std::function<absl::Status(v1::Publication&)>& on_existing, bool* inserted) {
  AILAB_ASSIGN_OR_RETURN(std::string json, ToJson(candidate));
  return pool_.Query<v1::Publication>([&](pqxx::work& tx) -> absl::StatusOr<v1::Publication> {
    *inserted = false;
    pqxx::result added = tx.exec_params(
        "INSERT INTO publications (id, model, destination, package_sha256, state, create_time, "
        "body) VALUES ($1, $2, $3, $4, $5, "
        "TIMESTAMPTZ 'epoch' + $6::bigint * INTERVAL '1 microsecond', $7::jsonb) "
        "ON CONFLICT (model, destination, package_sha256) DO NOTHING RETURNING id",
        LastPart(candidate.name()), candidate.model(), LastPart(candidate.destination()),
        candidate.manifest().package_sha256(), v1::Publication::State_Name(candidate.state()),
        Micros(candidate.create_time()), json);
    if (!added.empty()) {
      *inserted = true;
      return candidate;
    }
    pqxx::result rows = tx.exec_params(
        "SELECT id, body::text FROM publications WHERE model = $1 AND destination = $2 "
        "AND package_sha256 = $3 FOR UPDATE",
        candidate.model(), LastPart(candidate.destination()),
        candidate.manifest().package_sha256());
    if (rows.empty()) {
      return absl::AbortedError("a concurrent publication of the same package was removed; retry");
    }
    AILAB_ASSIGN_OR_RETURN(
        v1::Publication existing,
        FromJson<v1::Publication>(rows[0][1].as<std::string>(), rows[0][0].as<std::string>()));
    AILAB_RETURN_IF_ERROR(on_existing(existing));
    AILAB_RETURN_IF_ERROR(WritePublication(tx, existing));
    return existing;
  });
}

absl::StatusOr<v1::Publication> PublishingStore::GetPublication(const std::string& id) {
  return pool_.Query<v1::Publication>([&](pqxx::work& tx) -> absl::StatusOr<v1::Publication> {
    pqxx::result rows = tx.exec_params("SELECT body::text FROM publications WHERE id = $1", id);
    if (rows.empty()) return PublicationNotFound(id);
    return FromJson<v1::Publication>(rows[0][0].as<std::string>(), id);
  });
}

absl::StatusOr<v1::Publication> PublishingStore::UpdatePublication(
    const std::string& id, const std::function<absl::Status(v1::Publication&)>& mutate) {
  return pool_.Query<v1::Publication>([&](pqxx::work& tx) -> absl::StatusOr<v1::Publication> {
    pqxx::result rows =
        tx.exec_params("SELECT body::text FROM publications WHERE id = $1 FOR UPDATE", id);
    if (rows.empty()) return PublicationNotFound(id);
    AILAB_ASSIGN_OR_RETURN(v1::Publication publication,
                           FromJson<v1::Publication>(rows[0][0].as<std::string>(), id));
    AILAB_RETURN_IF_ERROR(mutate(publication));
    AILAB_RETURN_IF_ERROR(WritePublication(tx, publication));
    return publication;
  });
}

absl::StatusOr<Page<v1::Publication>> PublishingStore::ListPublications(
    const std::string& model, const std::string& destination, int64_t offset, int limit) {
  return pool_.Query<Page<v1::Publication>>(
      [&](pqxx::work& tx) -> absl::StatusOr<Page<v1::Publication>> {
        pqxx::result rows = tx.exec_params(
            "SELECT id, body::text FROM publications WHERE ($1 = '' OR model = $1) "
            "AND ($2 = '' OR destination = $2) "
            "ORDER BY create_time DESC, id DESC OFFSET $3 LIMIT $4",
            model, destination.empty() ? std::string() : LastPart(destination), offset, limit + 1);
        return ReadPage<v1::Publication>(rows, limit);
      });
}

absl::StatusOr<int> PublishingStore::FailPublishing(const std::string& error_message) {
  return pool_.Query<int>([&](pqxx::work& tx) -> absl::StatusOr<int> {
    pqxx::result rows =
        tx.exec("SELECT id, body::text FROM publications WHERE state = 'PUBLISHING' FOR UPDATE");
    for (const auto& row : rows) {
      AILAB_ASSIGN_OR_RETURN(
          v1::Publication publication,
          FromJson<v1::Publication>(row[1].as<std::string>(), row[0].as<std::string>()));
      publication.set_state(v1::Publication::FAILED);
      publication.mutable_error()->set_code(static_cast<int>(absl::StatusCode::kAborted));
      publication.mutable_error()->set_message(error_message);
      AILAB_RETURN_IF_ERROR(WritePublication(tx, publication));
    }
    return static_cast<int>(rows.size());
  });
}

}  // namespace ailab::evaluation
