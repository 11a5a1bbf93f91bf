// In-process gRPC servers that stand in for the annotation service (CountLabels,
// ExportLabels), the ingest service (ListInstances) and the evaluation service
// (ListChallenges) in the training tests. Every other method returns UNIMPLEMENTED.
//
// The fakes are thread-safe: tests change their data while the training service calls
// them.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "ailab/annotation/v1/annotation.grpc.pb.h"
#include "ailab/evaluation/v1/evaluation.grpc.pb.h"
#include "ailab/ingest/v1/ingest.grpc.pb.h"
#include "grpcpp/server.h"

namespace ailab::training::testing {

// One labelled, prepared instance of a fake dataset.
struct FakeInstance {
  std::string name;
  // Category index of its label, or -1 for an unlabelled instance.
  int label = -1;
  std::string array_blob;
  std::vector<int64_t> array_shape = {128, 128};
  ingest::v1::DataSplit split = ingest::v1::TRAIN;
};

class FakeDataServices {
 public:
  // Starts the fakes on one loopback port.
  FakeDataServices();
  ~FakeDataServices();

  // host:port serving the fake services.
  const std::string& address() const { return address_; }

  // Sets the categories of `use_case` (default A, B, C, D for every use case).
  void SetCategories(const std::string& use_case, std::vector<std::string> categories);

  // Replaces the instances of `dataset` and the labels of `annotator` on them.
  // `annotator` "" sets the consensus labels.
  void SetDataset(const std::string& use_case, const std::string& dataset,
                  const std::string& annotator, std::vector<FakeInstance> instances);

  // Annotators for which ExportLabels and CountLabels return PERMISSION_DENIED, as the
  // annotation service does for reference readers.
  void AddReferenceReader(const std::string& annotator);

  // Adds a challenge that ListChallenges returns (no challenges at first).
  void AddChallenge(evaluation::v1::Challenge challenge);

  // Annotator of the last ExportLabels request ("" for the consensus).
  std::string last_export_annotator();

  // Builds `per_class[c]` prepared instances of class c in `dataset`, named
  // "<dataset>/instances/i<n>" with array blobs from `array_blob(n)` (or fake ids), split
  // 70/10/20 into TRAIN, VALIDATION and TEST by index.
  static std::vector<FakeInstance> MakeInstances(
      const std::string& dataset, const std::vector<int>& per_class,
      const std::function<std::string(int)>& array_blob = nullptr);

 private:
  class Annotation;
  class Ingest;
  class Evaluation;
  std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> categories_;
  // (use case, dataset, annotator) -> labelled instances.
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<FakeInstance>> labels_;
  std::map<std::string, std::vector<FakeInstance>> instances_;
  std::vector<std::string> reference_readers_;
  std::vector<evaluation::v1::Challenge> challenges_;
  std::string last_export_annotator_;
  std::unique_ptr<Annotation> annotation_;
  std::unique_ptr<Ingest> ingest_;
  std::unique_ptr<Evaluation> evaluation_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace ailab::training::testing
