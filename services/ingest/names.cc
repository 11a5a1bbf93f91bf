#include "names.h"

#include <random>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ailab/blob/blob_store.h"
#include "ailab/status/status.h"

namespace ailab::ingest {
namespace {

bool IsIdCharacter(char c) {
  return absl::ascii_islower(static_cast<unsigned char>(c)) ||
         absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-';
}

// Ids inside names: the dataset id rules, but ids the server derives may start with a
// digit.
bool IsValidChildId(absl::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  for (char c : id) {
    if (!IsIdCharacter(c)) return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateDatasetId(absl::string_view id) {
  bool valid = !id.empty() && id.size() <= 63 &&
               absl::ascii_islower(static_cast<unsigned char>(id.front())) && id.back() != '-';
  for (char c : id) valid = valid && IsIdCharacter(c);
  if (!valid) {
    return InvalidArgument("INVALID_DATASET_ID", "dataset_id",
                           absl::StrCat("dataset id \"", id,
                                        "\" is invalid; use 1 to 63 lower-case letters, digits "
                                        "and hyphens, starting with a letter"),
                           {{"dataset_id", id}});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseDatasetName(absl::string_view name, absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (name.empty()) {
    return InvalidArgument("MISSING_NAME", field,
                           absl::StrCat(field, " is required; use \"datasets/{dataset}\""));
  }
  if (parts.size() != 2 || parts[0] != "datasets" || !IsValidChildId(parts[1])) {
    return InvalidArgument("INVALID_NAME", field,
                           absl::StrCat(field, " \"", name,
                                        "\" is not a dataset name; use \"datasets/{dataset}\""),
                           {{std::string(field), name}});
  }
  return std::string(parts[1]);
}

absl::StatusOr<ChildName> ParseChildName(absl::string_view name, absl::string_view collection,
                                         absl::string_view field) {
  std::string expected = absl::StrCat("datasets/{dataset}/", collection, "/{id}");
  if (name.empty()) {
    return InvalidArgument("MISSING_NAME", field,
                           absl::StrCat(field, " is required; use \"", expected, "\""));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "datasets" || parts[2] != collection ||
      !IsValidChildId(parts[1]) || !IsValidChildId(parts[3])) {
    return InvalidArgument("INVALID_NAME", field,
                           absl::StrCat(field, " \"", name, "\" is invalid; use \"", expected, "\""),
                           {{std::string(field), name}});
  }
  return ChildName{std::string(parts[1]), std::string(parts[3])};
}

std::string DatasetName(absl::string_view dataset_id) { return absl::StrCat("datasets/", dataset_id); }

std::string InstanceName(absl::string_view dataset_id, absl::string_view id) {
  return absl::StrCat("datasets/", dataset_id, "/instances/", id);
}

std::string StudyName(absl::string_view dataset_id, absl::string_view id) {
  return absl::StrCat("datasets/", dataset_id, "/studies/", id);
}

std::string SeriesResourceName(absl::string_view dataset_id, absl::string_view study_id,
                               absl::string_view id) {
  return absl::StrCat("datasets/", dataset_id, "/studies/", study_id, "/series/", id);
}

std::string PreparationRunName(absl::string_view dataset_id, absl::string_view id) {
  return absl::StrCat("datasets/", dataset_id, "/preparationRuns/", id);
}

std::string DerivedId(absl::string_view key) {
  return blob::BlobStore::Sha256Hex(key).substr(0, 16);
}

std::string RandomId() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  uint64_t value = generator();
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 16; ++i) id.push_back(kDigits[(value >> (4 * i)) & 15]);
  return id;
}

}  // namespace ailab::ingest
