#include "splits.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "ailab/blob/blob_store.h"
#include "ailab/status/status.h"

namespace ailab::ingest {

absl::Status ValidateSplitFractions(const SplitFractions& f) {
  for (auto [field, value] : {std::pair<const char*, double>{"train_fraction", f.train},
                              {"validation_fraction", f.validation},
                              {"test_fraction", f.test}}) {
    if (!(value >= 0 && value <= 1)) {
      return InvalidArgument("INVALID_SPLIT_FRACTION", field,
                             absl::StrCat(field, " is ", value, "; it must be 0 to 1"));
    }
  }
  double sum = f.train + f.validation + f.test;
  if (std::abs(sum - 1.0) > 0.001) {
    return InvalidArgument("INVALID_SPLIT_FRACTION", "train_fraction",
                           absl::StrCat("split fractions sum to ", sum,
                                        "; train, validation and test must sum to 1"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, v1::DataSplit>> AssignPatientSplits(
    const std::vector<std::string>& patients, const SplitFractions& fractions, int64_t seed) {
  AILAB_RETURN_IF_ERROR(ValidateSplitFractions(fractions));
  std::set<std::string> unique(patients.begin(), patients.end());

  // Order by a hash of seed and patient.
  std::vector<std::pair<std::string, std::string>> ordered;
  for (const std::string& patient : unique) {
    ordered.emplace_back(blob::BlobStore::Sha256Hex(absl::StrCat(seed, ":", patient)), patient);
  }
  std::sort(ordered.begin(), ordered.end());

  size_t n = ordered.size();
  size_t train_end = static_cast<size_t>(std::llround(n * fractions.train));
  size_t validation_end =
      static_cast<size_t>(std::llround(n * (fractions.train + fractions.validation)));
  train_end = std::min(train_end, n);
  validation_end = std::clamp(validation_end, train_end, n);

  std::map<std::string, v1::DataSplit> splits;
  for (size_t i = 0; i < n; ++i) {
    v1::DataSplit split = i < train_end        ? v1::TRAIN
                          : i < validation_end ? v1::VALIDATION
                                               : v1::TEST;
    splits[ordered[i].second] = split;
  }
  return splits;
}

}  // namespace ailab::ingest
