// The gRPC service ailab.catalog.v1.CatalogService: request checks and the rules of
// the review workflow, over CatalogStore.
//
// Each method checks its request, runs one store call (one transaction) and turns
// the absl::Status result into a grpc::Status. Methods are thread-safe.
#pragma once

#include "ailab/catalog/v1/catalog.grpc.pb.h"
#include "store.h"

namespace ailab::catalog {

class CatalogServiceImpl final : public v1::CatalogService::Service {
 public:
  // `store` must outlive the service.
  explicit CatalogServiceImpl(CatalogStore& store) : store_(store) {}

  grpc::Status GetUseCase(grpc::ServerContext* context, const v1::GetUseCaseRequest* request,
                          v1::UseCase* response) override;
  grpc::Status ListUseCases(grpc::ServerContext* context, const v1::ListUseCasesRequest* request,
                            v1::ListUseCasesResponse* response) override;
  grpc::Status CreateUseCase(grpc::ServerContext* context, const v1::CreateUseCaseRequest* request,
                             v1::UseCase* response) override;
  grpc::Status UpdateUseCase(grpc::ServerContext* context, const v1::UpdateUseCaseRequest* request,
                             v1::UseCase* response) override;
  grpc::Status ReviewUseCase(grpc::ServerContext* context, const v1::ReviewUseCaseRequest* request,
                             v1::UseCase* response) override;
  grpc::Status ResubmitUseCase(grpc::ServerContext* context,
                               const v1::ResubmitUseCaseRequest* request,
                               v1::UseCase* response) override;
  grpc::Status ListUseCaseHistory(grpc::ServerContext* context,
                                  const v1::ListUseCaseHistoryRequest* request,
                                  v1::ListUseCaseHistoryResponse* response) override;
  grpc::Status CreateComment(grpc::ServerContext* context, const v1::CreateCommentRequest* request,
                             v1::Comment* response) override;
  grpc::Status ListComments(grpc::ServerContext* context, const v1::ListCommentsRequest* request,
                            v1::ListCommentsResponse* response) override;
  grpc::Status CreateDraftRequest(grpc::ServerContext* context,
                                  const v1::CreateDraftRequestRequest* request,
                                  v1::DraftRequest* response) override;
  grpc::Status ListDraftRequests(grpc::ServerContext* context,
                                 const v1::ListDraftRequestsRequest* request,
                                 v1::ListDraftRequestsResponse* response) override;

 private:
  CatalogStore& store_;
};

}  // namespace ailab::catalog
