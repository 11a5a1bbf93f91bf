// gRPC servers that serve the catalog's GetUseCase and ingest's ListInstances and
// GetInstance from a FakeCatalog and a FakeIngest, so that tests can run the
// ailab-annotation binary without the real catalog and ingest services.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ailab/rpc/server.h"
#include "fakes.h"

namespace ailab::annotation::testing {

// Both fake services on one loopback server with a free port.
class FakeServers {
 public:
  // `catalog` and `ingest` are not owned and must outlive the servers.
  static absl::StatusOr<std::unique_ptr<FakeServers>> Start(FakeCatalog* catalog,
                                                            FakeIngest* ingest);
  ~FakeServers();

  // 127.0.0.1:<port>, for --catalog_address and --ingest_address.
  std::string address() const;

 private:
  class CatalogImpl;
  class IngestImpl;
  FakeServers() = default;
  std::unique_ptr<CatalogImpl> catalog_;
  std::unique_ptr<IngestImpl> ingest_;
  std::unique_ptr<rpc::Server> server_;
};

}  // namespace ailab::annotation::testing
