// The ailab-annotation binary on a scratch database, with the catalog and ingest
// played by FakeServers, for the tests of the binary and of the CLI.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ailab/annotation/v1/annotation.grpc.pb.h"
#include "ailab/rpc/client.h"
#include "catch2/catch.hpp"
#include "fake_servers.h"
#include "fakes.h"
#include "fixtures.h"

namespace ailab::annotation::testing {

inline constexpr char kDensity[] = "useCases/breast-density";
inline constexpr char kDataset[] = "datasets/crowd";
inline const std::vector<std::string> kCategories = {"A", "B", "C", "D"};

// The binary on a scratch database, reading use cases and instances from fakes.
class Deployment {
 public:
  explicit Deployment(int instances, std::vector<std::string> extra_args = {}) {
    catalog_.Put({kDensity, TaskKind::kMulticlassClassification, kCategories});
    names_ = ingest_.PutNumbered(kDataset, instances);
    fakes_ = FakeServers::Start(&catalog_, &ingest_).value();
    std::vector<std::string> args = {"--database_url=" + database_.url(),
                                     "--database_pool_size=8",
                                     "--catalog_address=" + fakes_->address(),
                                     "--ingest_address=" + fakes_->address(),
                                     "--min_reference_overlap=3"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto process = ailab::testing::ServiceProcess::Start("ailab-annotation", args);
    if (!process.ok()) FAIL("ailab-annotation did not start: " << process.status().message());
    process_ = *std::move(process);
  }

  std::unique_ptr<v1::AnnotationService::Stub> NewStub() const {
    return v1::AnnotationService::NewStub(rpc::Connect(process_->address()));
  }

  const std::string& instance(int i) const { return names_[i - 1]; }
  ailab::testing::ServiceProcess& process() { return *process_; }
  const std::string& database_url() const { return database_.url(); }
  FakeIngest& ingest() { return ingest_; }
  // Address of the fake catalog and ingest.
  std::string directory_address() const { return fakes_->address(); }
  // Address of ailab-annotation.
  std::string address() const { return process_->address(); }

 private:
  ailab::testing::ScratchDatabase database_;
  FakeCatalog catalog_;
  FakeIngest ingest_;
  std::vector<std::string> names_;
  std::unique_ptr<FakeServers> fakes_;
  std::unique_ptr<ailab::testing::ServiceProcess> process_;
};

}  // namespace ailab::annotation::testing
