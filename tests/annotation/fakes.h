// In-process stand-ins for the catalog and ingest, for the annotation tests.
//
// FakeCatalog and FakeIngest hold use cases and dataset listings that a test sets.
// They serve two ways: as the UseCaseDirectory and InstanceDirectory interfaces of the
// service library (UseCases(), Instances()), and as gRPC servers speaking the real
// catalog and ingest APIs (FakeServer), for tests that run the ailab-annotation
// binary. Both are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ailab/status/status.h"
#include "services/annotation/directories.h"

namespace ailab::annotation::testing {

// Use cases by name.
class FakeCatalog {
 public:
  void Put(UseCaseInfo info) {
    absl::MutexLock lock(&mutex_);
    use_cases_[info.name] = std::move(info);
  }

  absl::StatusOr<UseCaseInfo> Get(const std::string& name) {
    absl::MutexLock lock(&mutex_);
    auto it = use_cases_.find(name);
    if (it == use_cases_.end()) {
      return NotFound("USE_CASE_NOT_FOUND", absl::StrCat("use case \"", name, "\" not found"));
    }
    return it->second;
  }

  // A UseCaseDirectory reading this catalog (which must outlive it).
  std::unique_ptr<UseCaseDirectory> UseCases();

 private:
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, UseCaseInfo> use_cases_ ABSL_GUARDED_BY(mutex_);
};

// Dataset listings by dataset name.
class FakeIngest {
 public:
  // Sets `dataset` to instances "<dataset>/instances/1" .. "<dataset>/instances/<count>".
  std::vector<std::string> PutNumbered(const std::string& dataset, int count) {
    std::vector<std::string> names;
    names.reserve(count);
    for (int i = 1; i <= count; ++i) names.push_back(absl::StrCat(dataset, "/instances/", i));
    Put(dataset, names);
    return names;
  }

  void Put(const std::string& dataset, std::vector<std::string> names) {
    absl::MutexLock lock(&mutex_);
    datasets_[dataset] = std::move(names);
  }

  // Records the uploaded file name that ingest reports for `instance`.
  void SetSourceFile(const std::string& instance, const std::string& file) {
    absl::MutexLock lock(&mutex_);
    source_files_[instance] = file;
  }

  // Returns the file name set for `instance`, or "".
  std::string SourceFile(const std::string& instance) {
    absl::MutexLock lock(&mutex_);
    auto it = source_files_.find(instance);
    return it == source_files_.end() ? std::string() : it->second;
  }

  absl::StatusOr<std::vector<std::string>> List(const std::string& dataset) {
    absl::MutexLock lock(&mutex_);
    auto it = datasets_.find(dataset);
    if (it == datasets_.end()) {
      return NotFound("DATASET_NOT_FOUND", absl::StrCat("dataset \"", dataset, "\" not found"));
    }
    return it->second;
  }

  // An InstanceDirectory reading this ingest (which must outlive it).
  std::unique_ptr<InstanceDirectory> Instances();

 private:
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, std::vector<std::string>> datasets_ ABSL_GUARDED_BY(mutex_);
  absl::flat_hash_map<std::string, std::string> source_files_ ABSL_GUARDED_BY(mutex_);
};

namespace internal {

class FakeUseCaseDirectory : public UseCaseDirectory {
 public:
  explicit FakeUseCaseDirectory(FakeCatalog* catalog) : catalog_(catalog) {}
  absl::StatusOr<UseCaseInfo> Get(const std::string& name) override { return catalog_->Get(name); }

 private:
  FakeCatalog* catalog_;
};

class FakeInstanceDirectory : public InstanceDirectory {
 public:
  explicit FakeInstanceDirectory(FakeIngest* ingest) : ingest_(ingest) {}
  absl::StatusOr<std::vector<std::string>> List(const std::string& dataset) override {
    return ingest_->List(dataset);
  }

 private:
  FakeIngest* ingest_;
};

}  // namespace internal

inline std::unique_ptr<UseCaseDirectory> FakeCatalog::UseCases() {
  return std::make_unique<internal::FakeUseCaseDirectory>(this);
}

inline std::unique_ptr<InstanceDirectory> FakeIngest::Instances() {
  return std::make_unique<internal::FakeInstanceDirectory>(this);
}

}  // namespace ailab::annotation::testing
