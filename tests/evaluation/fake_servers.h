// Fake gRPC servers of training, catalog, ingest, annotation and inference for the
// tests of the ailab-evaluation binary. All five services run on one loopback port
// and respond from a FakeBackends (fake_backends.h), so the binary sees the same data
// as the library tests.
#pragma once

#include <memory>
#include <string>

#include "fake_backends.h"
#include "grpcpp/server.h"

namespace ailab::evaluation::testing {

class FakeServers {
 public:
  // Starts the servers on 127.0.0.1 with a free port. `backends` must outlive them.
  // With a `blob_root`, training's GetModel stores the model's artifacts there and
  // returns their blob ids, as the real training service does.
  explicit FakeServers(FakeBackends* backends, const std::string& blob_root = "");
  ~FakeServers();

  // 127.0.0.1:<port> of every fake service.
  std::string address() const;

 private:
  struct Services;
  std::unique_ptr<Services> services_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace ailab::evaluation::testing
