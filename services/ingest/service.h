// gRPC implementation of ailab.ingest.v1.IngestService.
//
// Each method checks its request, calls the store, the file ingester or the
// preparation workers, and converts the absl::Status result into a grpc::Status.
// Methods are thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "challenges.h"
#include "ingest_file.h"
#include "preparation.h"
#include "store.h"

namespace ailab::ingest {

class IngestServiceImpl final : public v1::IngestService::Service {
 public:
  // `max_file_bytes` bounds each uploaded file. `challenges`, when not null, is called
  // before a dataset is deleted and for the hidden final datasets that reads must skip.
  // Arguments must outlive the service.
  IngestServiceImpl(IngestStore& store, FileIngester& ingester, PreparationWorkers& workers,
                    int64_t max_file_bytes, ChallengeDirectory* challenges)
      : store_(store),
        ingester_(ingester),
        workers_(workers),
        max_file_bytes_(max_file_bytes),
        challenges_(challenges) {}

  grpc::Status CreateDataset(grpc::ServerContext* context, const v1::CreateDatasetRequest* request,
                             v1::Dataset* response) override;
  grpc::Status GetDataset(grpc::ServerContext* context, const v1::GetDatasetRequest* request,
                          v1::Dataset* response) override;
  grpc::Status ListDatasets(grpc::ServerContext* context, const v1::ListDatasetsRequest* request,
                            v1::ListDatasetsResponse* response) override;
  grpc::Status DeleteDataset(grpc::ServerContext* context, const v1::DeleteDatasetRequest* request,
                             v1::DeleteDatasetResponse* response) override;
  grpc::Status UploadInstances(grpc::ServerContext* context,
                               grpc::ServerReader<v1::UploadInstancesRequest>* reader,
                               v1::UploadInstancesResponse* response) override;
  grpc::Status ListStudies(grpc::ServerContext* context, const v1::ListStudiesRequest* request,
                           v1::ListStudiesResponse* response) override;
  grpc::Status ListSeries(grpc::ServerContext* context, const v1::ListSeriesRequest* request,
                          v1::ListSeriesResponse* response) override;
  grpc::Status GetInstance(grpc::ServerContext* context, const v1::GetInstanceRequest* request,
                           v1::Instance* response) override;
  grpc::Status ListInstances(grpc::ServerContext* context, const v1::ListInstancesRequest* request,
                             v1::ListInstancesResponse* response) override;
  grpc::Status AssignSplits(grpc::ServerContext* context, const v1::AssignSplitsRequest* request,
                            v1::AssignSplitsResponse* response) override;
  grpc::Status CreatePreparationRun(grpc::ServerContext* context,
                                    const v1::CreatePreparationRunRequest* request,
                                    v1::PreparationRun* response) override;
  grpc::Status GetPreparationRun(grpc::ServerContext* context,
                                 const v1::GetPreparationRunRequest* request,
                                 v1::PreparationRun* response) override;
  grpc::Status ListPreparationRuns(grpc::ServerContext* context,
                                   const v1::ListPreparationRunsRequest* request,
                                   v1::ListPreparationRunsResponse* response) override;
  grpc::Status CancelPreparationRun(grpc::ServerContext* context,
                                    const v1::CancelPreparationRunRequest* request,
                                    v1::PreparationRun* response) override;

 private:
  // Returns the names ("datasets/ID") of the datasets that the caller may not read: the
  // final datasets of challenges that are not closed. Nothing is hidden from a
  // challenge's owner, data managers, administrators and platform services.
  absl::flat_hash_set<std::string> HiddenDatasets(const grpc::ServerContext& context);

  // Returns NOT_FOUND, as for a dataset that does not exist, when `dataset_id` is among
  // `hidden`.
  static absl::Status CheckVisible(const absl::flat_hash_set<std::string>& hidden,
                                   const std::string& dataset_id);

  // Returns the open challenges, listed at most kChallengeCacheTtl ago. While the
  // evaluation service cannot be reached it returns the last list it got, which is
  // empty before the first success.
  std::vector<OpenChallenge> CachedOpenChallenges();

  IngestStore& store_;
  FileIngester& ingester_;
  PreparationWorkers& workers_;
  const int64_t max_file_bytes_;
  ChallengeDirectory* const challenges_;

  std::mutex challenges_mutex_;
  std::vector<OpenChallenge> cached_challenges_;
  absl::Time challenges_listed_ = absl::InfinitePast();
  bool challenges_refreshing_ = false;
};

}  // namespace ailab::ingest
