// Calls of the evaluation service into other services, behind interfaces so that
// unit tests can use fakes: models (training), use cases (catalog), dataset listings
// (ingest), labels and reference scoring (annotation) and predictions (inference),
// and the model files that publishing packages (training and the blob store).
// gRPC implementations for the binary are made by the New*() functions.
//
// Every implementation is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ailab::evaluation {

// The parts of a training service Model that evaluation needs.
struct ModelInfo {
  // "models/{id}".
  std::string name;
  std::string display_name;
  // "useCases/{id}".
  std::string use_case;
  // Category codes in the order of the model's outputs.
  std::vector<std::string> classes;
  // User id of the model's owner; empty when the training service names none.
  std::string owner;
  // Dataset the model was trained on, "datasets/{id}"; empty when unknown.
  std::string dataset;
};

// The parts of a catalog UseCase that evaluation needs.
struct UseCaseInfo {
  // "useCases/{id}".
  std::string name;
  // True for BINARY_CLASSIFICATION.
  bool binary = false;
  // True for BINARY_ and MULTICLASS_CLASSIFICATION; other kinds cannot be evaluated
  // here yet.
  bool classification = false;
  // Category codes (allowed values of the first data element), in order.
  std::vector<std::string> categories;
};

// Split filter of a dataset listing; kAll lists every instance.
enum class Split { kAll, kTrain, kValidation, kTest };

// A model's output for one instance.
struct InstanceOutput {
  // Probabilities in the model's class order.
  std::vector<double> probabilities;
};

// Labels of one use case and dataset, as ExportLabels returns them.
struct LabelSet {
  // Category codes of the use case, in order.
  std::vector<std::string> categories;
  // Instance name -> index into `categories`.
  std::map<std::string, int> labels;
};

// One instance's probabilities, in the use case's category order.
struct ScoredPrediction {
  std::string instance;
  std::vector<double> probabilities;
};

// Aggregate scores from ScoreAgainstReference.
struct ReferenceScore {
  // Category codes and row-major counts (rows reference, columns predicted).
  std::vector<std::string> categories;
  std::vector<int64_t> confusion_counts;
  double kappa = 0;
  double linear_kappa = 0;
  double auc = 0;
  double accuracy = 0;
  int64_t scored_count = 0;
};

// The files of a trained model that a publication packages.
struct ModelArtifacts {
  ModelInfo info;
  // Bytes of the TorchScript model.
  std::string torchscript;
  // Bytes of the model card JSON.
  std::string model_card;
};

// A reviewed prediction of a deployed model, from the inference service.
struct ReviewedPrediction {
  // "predictions/{id}".
  std::string name;
  std::string study_date;
  absl::Time create_time;
  // Category codes with their probabilities, in the model's class order.
  std::vector<std::string> categories;
  std::vector<double> probabilities;
  std::string predicted_category;
  // Reviewer's category: the predicted one when confirmed, else the correction.
  std::string truth_category;
};

// Calls of the other services.
class Backends {
 public:
  virtual ~Backends() = default;

  // training GetModel. NOT_FOUND when the model does not exist.
  virtual absl::StatusOr<ModelInfo> GetModel(const std::string& name) = 0;

  // training GetModel, then the model's TorchScript and model card blobs from the
  // blob store. FAILED_PRECONDITION when the model has no TorchScript blob.
  virtual absl::StatusOr<ModelArtifacts> GetModelArtifacts(const std::string& name) = 0;

  // catalog GetUseCase. NOT_FOUND when the use case does not exist.
  virtual absl::StatusOr<UseCaseInfo> GetUseCase(const std::string& name) = 0;

  // ingest GetDataset: OK when `dataset` exists, NOT_FOUND when it does not.
  virtual absl::Status CheckDataset(const std::string& dataset) = 0;

  // ingest ListInstances over every page: the instance names of `dataset` in `split`.
  virtual absl::StatusOr<std::vector<std::string>> ListInstances(const std::string& dataset,
                                                                 Split split) = 0;

  // annotation ExportLabels over every page; an empty `annotator` is the majority vote
  // of the annotators who are not reference readers.
  virtual absl::StatusOr<LabelSet> ExportLabels(const std::string& use_case,
                                                const std::string& dataset,
                                                const std::string& annotator) = 0;

  // annotation ScoreAgainstReference.
  virtual absl::StatusOr<ReferenceScore> ScoreAgainstReference(
      const std::string& use_case, const std::string& dataset, const std::string& reference_reader,
      const std::vector<ScoredPrediction>& predictions) = 0;

  // training ListTestPredictions over every page: the probabilities, in the model's
  // class order, that training stored for each test instance name of `model`.
  virtual absl::StatusOr<std::map<std::string, std::vector<double>>> ListTestPredictions(
      const std::string& model) = 0;

  // inference Predict of `model` on `instance`, not recorded.
  virtual absl::StatusOr<InstanceOutput> Predict(const std::string& model,
                                                 const std::string& instance) = 0;

  // inference ListPredictions of `model` in [start, end) over every page: the reviewed
  // predictions, and the number of unreviewed ones.
  struct ReviewedPredictions {
    std::vector<ReviewedPrediction> reviewed;
    int64_t unreviewed_count = 0;
  };
  virtual absl::StatusOr<ReviewedPredictions> ListReviewedPredictions(
      const std::string& model, std::optional<absl::Time> start, std::optional<absl::Time> end) = 0;
};

// Addresses of the services behind the gRPC Backends.
struct BackendAddresses {
  std::string training;
  std::string catalog;
  std::string ingest;
  std::string annotation;
  std::string inference;
  // Root of the shared blob store (--blob_root), where model files are read.
  std::string blob_root;
};

// Backends over gRPC channels to the services at `addresses`.
std::unique_ptr<Backends> NewGrpcBackends(const BackendAddresses& addresses);

}  // namespace ailab::evaluation
