#include "options.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/status/status.h"

namespace ailab::training {
namespace {

const std::vector<std::string>& Architectures() {
  static const auto* names = new std::vector<std::string>{
      "resnet18", "resnet34", "resnet50", "vgg11_bn", "vgg16_bn", "inception_v3", "densenet121"};
  return *names;
}

absl::Status CheckChoice(absl::string_view field, const std::string& value,
                         const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) {
    return absl::OkStatus();
  }
  std::string path = absl::StrCat("training_job.options.", field);
  std::string choices = absl::StrJoin(allowed, ", ");
  return InvalidArgument(
      "INVALID_TRAINING_OPTION", path,
      absl::StrCat(path, " \"", value, "\" is not supported; use one of: ", choices),
      {{"field", path}, {"value", value}, {"allowed", choices}});
}

absl::Status CheckRange(absl::string_view field, double value, double min, double max,
                        absl::string_view unit = "") {
  if (value >= min && value <= max && std::isfinite(value)) return absl::OkStatus();
  std::string path = absl::StrCat("training_job.options.", field);
  std::string text = absl::StrCat(value);
  return InvalidArgument(
      "INVALID_TRAINING_OPTION", path,
      absl::StrCat(path, " is ", text, unit, "; it must be between ", min, " and ", max, unit),
      {{"field", path}, {"value", text}});
}

}  // namespace

void ApplyDefaults(v1::TrainingOptions& options) {
  if (options.architecture().empty()) options.set_architecture("resnet18");
  if (options.image_size() == 0) options.set_image_size(128);
  if (options.augmentation().empty()) options.set_augmentation("none");
  if (options.sampling().empty()) options.set_sampling("random");
  if (options.loss().empty()) options.set_loss("cross_entropy");
  if (options.batch_size() == 0) options.set_batch_size(16);
  if (options.learning_rate() == 0) options.set_learning_rate(1e-3);
  if (options.optimizer().empty()) options.set_optimizer("adam");
  if (!options.has_early_stopping_patience()) options.set_early_stopping_patience(3);
  if (!options.has_min_improvement()) options.set_min_improvement(1e-4);
  if (options.max_epochs() == 0) options.set_max_epochs(10);
  if (options.metric().empty()) options.set_metric("linear_kappa");
}

absl::Status ValidateOptions(const v1::TrainingOptions& options) {
  AILAB_RETURN_IF_ERROR(CheckChoice("architecture", options.architecture(), Architectures()));
  AILAB_RETURN_IF_ERROR(
      CheckRange("image_size", options.image_size(), kMinImageSize, kMaxImageSize, " px"));
  AILAB_RETURN_IF_ERROR(
      CheckChoice("augmentation", options.augmentation(), {"none", "flip_rotate"}));
  AILAB_RETURN_IF_ERROR(
      CheckChoice("sampling", options.sampling(), {"random", "equal", "positives_only"}));
  AILAB_RETURN_IF_ERROR(
      CheckChoice("loss", options.loss(), {"cross_entropy", "mae", "mse", "focal"}));
  AILAB_RETURN_IF_ERROR(
      CheckRange("batch_size", options.batch_size(), kMinBatchSize, kMaxBatchSize));
  if (!(options.learning_rate() > 0 && options.learning_rate() <= 1)) {
    std::string text = absl::StrCat(options.learning_rate());
    return InvalidArgument("INVALID_TRAINING_OPTION", "training_job.options.learning_rate",
                           absl::StrCat("training_job.options.learning_rate is ", text,
                                        "; it must be above 0 and at most 1 (for example 0.001)"),
                           {{"field", "training_job.options.learning_rate"}, {"value", text}});
  }
  AILAB_RETURN_IF_ERROR(CheckChoice("optimizer", options.optimizer(), {"adam", "sgd"}));
  AILAB_RETURN_IF_ERROR(
      CheckRange("early_stopping_patience", options.early_stopping_patience(), 0, kMaxEpochs));
  AILAB_RETURN_IF_ERROR(CheckRange("min_improvement", options.min_improvement(), 0, 1));
  AILAB_RETURN_IF_ERROR(CheckRange("max_epochs", options.max_epochs(), 1, kMaxEpochs));
  AILAB_RETURN_IF_ERROR(
      CheckChoice("metric", options.metric(), {"linear_kappa", "kappa", "auc", "val_loss"}));
  AILAB_RETURN_IF_ERROR(
      CheckRange("resources.gpu_count", options.resources().gpu_count(), 0, kMaxGpuCount));
  AILAB_RETURN_IF_ERROR(CheckRange("resources.memory_mb",
                                   static_cast<double>(options.resources().memory_mb()), 0,
                                   static_cast<double>(kMaxMemoryMb), " MiB"));
  return absl::OkStatus();
}

}  // namespace ailab::training
