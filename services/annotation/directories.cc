#include "services/annotation/directories.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"

namespace ailab::annotation {

const char* TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kBinaryClassification:
      return "BINARY_CLASSIFICATION";
    case TaskKind::kMulticlassClassification:
      return "MULTICLASS_CLASSIFICATION";
    case TaskKind::kDetection:
      return "DETECTION";
    case TaskKind::kSegmentation:
      return "SEGMENTATION";
  }
  return "UNKNOWN";
}

bool IsClassification(TaskKind kind) {
  return kind == TaskKind::kBinaryClassification || kind == TaskKind::kMulticlassClassification;
}

int UseCaseInfo::CategoryIndex(const std::string& code) const {
  for (size_t i = 0; i < categories.size(); ++i) {
    if (categories[i] == code) return static_cast<int>(i);
  }
  return -1;
}

CachingDirectory::CachingDirectory(std::unique_ptr<UseCaseDirectory> use_cases,
                                   std::unique_ptr<InstanceDirectory> instances,
                                   absl::Duration ttl)
    : use_cases_(std::move(use_cases)), instances_(std::move(instances)), ttl_(ttl) {}

absl::StatusOr<UseCaseInfo> CachingDirectory::GetUseCase(const std::string& name) {
  {
    absl::MutexLock lock(&mutex_);
    auto it = use_case_cache_.find(name);
    if (it != use_case_cache_.end() && absl::Now() - it->second.fetched < ttl_) {
      return it->second.info;
    }
  }
  AILAB_ASSIGN_OR_RETURN(UseCaseInfo info, use_cases_->Get(name));
  absl::MutexLock lock(&mutex_);
  use_case_cache_[name] = CachedUseCase{info, absl::Now()};
  return info;
}

absl::StatusOr<std::shared_ptr<const DatasetInstances>> CachingDirectory::FetchInstances(
    const std::string& dataset) {
  AILAB_ASSIGN_OR_RETURN(std::vector<std::string> names, instances_->List(dataset));
  auto instances = std::make_shared<DatasetInstances>();
  instances->index.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    instances->index.emplace(names[i], static_cast<int64_t>(i));
  }
  instances->names = std::move(names);
  std::shared_ptr<const DatasetInstances> shared = std::move(instances);

  absl::MutexLock lock(&mutex_);
  instance_cache_[dataset] = CachedInstances{shared, absl::Now()};
  return shared;
}

absl::StatusOr<std::shared_ptr<const DatasetInstances>> CachingDirectory::GetInstances(
    const std::string& dataset) {
  {
    absl::MutexLock lock(&mutex_);
    auto it = instance_cache_.find(dataset);
    if (it != instance_cache_.end() && absl::Now() - it->second.fetched < ttl_) {
      return it->second.instances;
    }
  }
  return FetchInstances(dataset);
}

absl::StatusOr<int64_t> CachingDirectory::FindInstance(const std::string& dataset,
                                                       const std::string& instance) {
  AILAB_ASSIGN_OR_RETURN(std::shared_ptr<const DatasetInstances> instances,
                         GetInstances(dataset));
  auto it = instances->index.find(instance);
  if (it != instances->index.end()) return it->second;

  // The listing may predate an upload, so one fresh listing decides.
  AILAB_ASSIGN_OR_RETURN(instances, FetchInstances(dataset));
  it = instances->index.find(instance);
  if (it != instances->index.end()) return it->second;
  return NotFound("INSTANCE_NOT_FOUND",
                  absl::StrCat("instance \"", instance, "\" not found in dataset \"", dataset,
                               "\"; list the dataset's instances with ingest ListInstances"),
                  {{"instance", instance}, {"dataset", dataset}});
}

}  // namespace ailab::annotation
