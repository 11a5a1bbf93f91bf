// What the annotation service needs from other services: a use case's task kind and
// categories (from the catalog) and a dataset's instances in order (from ingest).
//
// The service reaches both through two small interfaces, so that its logic can run
// against in-process fakes in tests. MakeGrpcUseCaseDirectory and
// MakeGrpcInstanceDirectory call the real services. CachingDirectory keeps answers
// for a short time, because GetNextInstance and SaveAnnotation consult them on every
// call.
//
// Every class here is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ailab::annotation {

// Output kind of a use case, as the catalog defines it.
enum class TaskKind {
  kBinaryClassification,
  kMulticlassClassification,
  kDetection,
  kSegmentation,
};

// Returns the catalog's name of `kind`, for example "DETECTION".
const char* TaskKindName(TaskKind kind);

// Returns true for the two classification kinds.
bool IsClassification(TaskKind kind);

// The parts of a catalog use case that annotation uses.
struct UseCaseInfo {
  // "useCases/{id}".
  std::string name;
  TaskKind task_kind = TaskKind::kMulticlassClassification;
  // Category codes in order: the values of the use case's first data element.
  std::vector<std::string> categories;

  // Returns the index of `code` in `categories`, or -1.
  int CategoryIndex(const std::string& code) const;
};

// Looks up use cases.
class UseCaseDirectory {
 public:
  virtual ~UseCaseDirectory() = default;
  // Returns the use case `name` ("useCases/{id}"). NOT_FOUND when it does not exist,
  // UNAVAILABLE when the catalog cannot be reached.
  virtual absl::StatusOr<UseCaseInfo> Get(const std::string& name) = 0;
};

// Lists the instances of datasets.
class InstanceDirectory {
 public:
  virtual ~InstanceDirectory() = default;
  // Returns the names ("datasets/{d}/instances/{i}") of the instances with pixel data
  // of `dataset`, in dataset order (ingest's upload order). NOT_FOUND when the dataset does not exist, UNAVAILABLE when ingest cannot
  // be reached.
  virtual absl::StatusOr<std::vector<std::string>> List(const std::string& dataset) = 0;
};

// Calls the catalog service at `address` (host:port).
std::unique_ptr<UseCaseDirectory> MakeGrpcUseCaseDirectory(const std::string& address);

// Calls the ingest service at `address` (host:port).
std::unique_ptr<InstanceDirectory> MakeGrpcInstanceDirectory(const std::string& address);

// A dataset's instances with their positions.
struct DatasetInstances {
  // Instance names in dataset order.
  std::vector<std::string> names;
  // Instance name to 0-based index in `names`.
  absl::flat_hash_map<std::string, int64_t> index;
};

// Results of a UseCaseDirectory and an InstanceDirectory, each cached for `ttl`.
// Errors are not kept. A lookup of an instance missing from a kept listing fetches
// the listing again once, so an instance uploaded a moment ago is found.
class CachingDirectory {
 public:
  CachingDirectory(std::unique_ptr<UseCaseDirectory> use_cases,
                   std::unique_ptr<InstanceDirectory> instances, absl::Duration ttl);

  // Returns the use case `name`; errors as UseCaseDirectory::Get.
  absl::StatusOr<UseCaseInfo> GetUseCase(const std::string& name);

  // Returns the instances of `dataset`; errors as InstanceDirectory::List.
  absl::StatusOr<std::shared_ptr<const DatasetInstances>> GetInstances(const std::string& dataset);

  // Returns the 0-based position of `instance` in `dataset`. NOT_FOUND naming both
  // when the dataset does not contain it.
  absl::StatusOr<int64_t> FindInstance(const std::string& dataset, const std::string& instance);

 private:
  absl::StatusOr<std::shared_ptr<const DatasetInstances>> FetchInstances(
      const std::string& dataset);

  std::unique_ptr<UseCaseDirectory> use_cases_;
  std::unique_ptr<InstanceDirectory> instances_;
  absl::Duration ttl_;

  struct CachedUseCase {
    UseCaseInfo info;
    absl::Time fetched;
  };
  struct CachedInstances {
    std::shared_ptr<const DatasetInstances> instances;
    absl::Time fetched;
  };
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, CachedUseCase> use_case_cache_ ABSL_GUARDED_BY(mutex_);
  absl::flat_hash_map<std::string, CachedInstances> instance_cache_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace ailab::annotation
