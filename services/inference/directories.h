// Interfaces to what the inference service reads from other services: models
// (training), use cases with their categories and report sentences (catalog) and
// dataset instances (ingest). Unit tests use fakes of them; the binary uses the gRPC
// implementations made by the New*() functions.
//
// Every implementation is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace ailab::inference {

// The parts of a training service Model that inference needs.
struct ModelInfo {
  // "models/{id}".
  std::string name;
  std::string display_name;
  // "useCases/{id}".
  std::string use_case;
  // Category codes in the order of the model's outputs.
  std::vector<std::string> classes;
  // Side of the square input in pixels.
  int image_size = 0;
  // Blob id of the TorchScript file.
  std::string torchscript_blob;
};

// Reads models from the training service.
class ModelDirectory {
 public:
  virtual ~ModelDirectory() = default;
  // Returns the model `name`; NOT_FOUND when it does not exist.
  virtual absl::StatusOr<ModelInfo> GetModel(const std::string& name) = 0;
};

// One category of a classification use case.
struct Category {
  // Value code, for example "B".
  std::string code;
  // Label shown to people.
  std::string label;
  // Sentence for the report when the model predicts this category.
  std::string report_text;
};

// The parts of a catalog UseCase that inference needs.
struct UseCaseInfo {
  // "useCases/{id}".
  std::string name;
  // True for BINARY_CLASSIFICATION use cases.
  bool binary = false;
  // Allowed values of the first data element, in order.
  std::vector<Category> categories;
  // DICOM Modality code of the images the use case is for, for example "MG"; empty
  // when the use case names none.
  std::string modality;
};

// Reads use cases from the catalog service.
class UseCaseDirectory {
 public:
  virtual ~UseCaseDirectory() = default;
  // Returns the use case `name`; NOT_FOUND when it does not exist.
  virtual absl::StatusOr<UseCaseInfo> GetUseCase(const std::string& name) = 0;
};

// The parts of an ingest Instance that inference needs.
struct InstanceInfo {
  // "datasets/{d}/instances/{i}".
  std::string name;
  // YYYY-MM-DD, or empty when unknown.
  std::string study_date;
  // Blob id of the prepared .npy array; empty when the instance has none.
  std::string array_blob;
  // Side of the prepared array in pixels (its shape is size x size); 0 when unknown.
  int array_size = 0;
  // Blob id of the DICOM file; empty when absent.
  std::string dicom_blob;
  // DICOM Modality code from the file's header, for example "CT"; empty when absent.
  std::string modality;
  // Body Part Examined from the file's header, for example "BREAST"; empty when absent.
  std::string body_part;
};

// Reads instances from the ingest service.
class InstanceDirectory {
 public:
  virtual ~InstanceDirectory() = default;
  // Returns the instance `name`; NOT_FOUND when it does not exist.
  virtual absl::StatusOr<InstanceInfo> GetInstance(const std::string& name) = 0;
};

// gRPC implementations over channels to the training, catalog and ingest services.
std::unique_ptr<ModelDirectory> NewGrpcModelDirectory(std::shared_ptr<grpc::Channel> channel);
std::unique_ptr<UseCaseDirectory> NewGrpcUseCaseDirectory(std::shared_ptr<grpc::Channel> channel);
std::unique_ptr<InstanceDirectory> NewGrpcInstanceDirectory(std::shared_ptr<grpc::Channel> channel);

}  // namespace ailab::inference
