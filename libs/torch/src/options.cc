#include "options.h"

#include <torch/cuda.h>

#include <cmath>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/status/status.h"

namespace ailab::torch {
namespace internal {
namespace {

// Joins the accepted names for error messages: "a, b or c".
std::string ListNames(const std::vector<std::string>& names) {
  if (names.size() == 1) return names[0];
  std::vector<std::string> head(names.begin(), names.end() - 1);
  return absl::StrCat(absl::StrJoin(head, ", "), " or ", names.back());
}

absl::Status UnknownName(absl::string_view field, const std::string& value,
                         const std::vector<std::string>& accepted) {
  return InvalidArgument(
      "UNKNOWN_OPTION_VALUE", field,
      absl::StrCat("unknown ", field, " \"", value, "\"; use ", ListNames(accepted)),
      {{"field", field}, {"value", value}});
}

absl::Status OutOfRange(absl::string_view field, absl::string_view value, absl::string_view range) {
  return InvalidArgument("OPTION_OUT_OF_RANGE", field,
                         absl::StrCat(field, " ", value, " is out of range; use ", range),
                         {{"field", field}, {"value", value}});
}

// "class 0: 12, class 1: 4".
std::string FormatCounts(const std::vector<int64_t>& counts) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < counts.size(); ++i) {
    parts.push_back(absl::StrCat("class ", i, ": ", counts[i]));
  }
  return absl::StrJoin(parts, ", ");
}

absl::Status CheckSampling(const TrainingOptions& options, Sampling sampling,
                           const std::vector<Example>& train) {
  std::vector<int64_t> counts = CountPerClass(train, options.num_classes);
  std::string counts_text = FormatCounts(counts);
  if (sampling == Sampling::kEqual) {
    for (size_t i = 0; i < counts.size(); ++i) {
      if (counts[i] < kMinExamplesPerClassForEqual) {
        return FailedPrecondition(
            "TOO_FEW_EXAMPLES_PER_CLASS",
            absl::StrCat("equal sampling needs at least ", kMinExamplesPerClassForEqual,
                         " training examples of each class, but class ", i, " has ", counts[i],
                         " (", counts_text,
                         "); label more examples of that class or use random sampling"),
            {{"sampling", options.sampling}, {"class", absl::StrCat(i)}, {"counts", counts_text}});
      }
    }
  }
  if (sampling == Sampling::kPositivesOnly) {
    if (options.num_classes != 2) {
      return InvalidArgument(
          "SAMPLING_NEEDS_BINARY_TASK", "sampling",
          absl::StrCat("positives_only sampling is defined for binary tasks only, but the task "
                       "has ",
                       options.num_classes, " classes; use random or equal sampling"),
          {{"sampling", options.sampling}, {"num_classes", absl::StrCat(options.num_classes)}});
    }
    if (counts[kPositiveClass] == 0 || counts[1 - kPositiveClass] == 0) {
      return FailedPrecondition(
          "SAMPLING_NEEDS_BOTH_CLASSES",
          absl::StrCat("positives_only sampling needs at least one positive (class 1) and one "
                       "negative (class 0) training example (",
                       counts_text, "); label examples of the missing class"),
          {{"sampling", options.sampling}, {"counts", counts_text}});
    }
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& ArchitectureNames() {
  static const auto* names = new std::vector<std::string>{
      "resnet18", "resnet34", "resnet50", "vgg11_bn", "vgg16_bn", "inception_v3", "densenet121"};
  return *names;
}

std::optional<Augmentation> ParseAugmentation(const std::string& name) {
  if (name == "none") return Augmentation::kNone;
  if (name == "flip_rotate") return Augmentation::kFlipRotate;
  return std::nullopt;
}

std::optional<Sampling> ParseSampling(const std::string& name) {
  if (name == "random") return Sampling::kRandom;
  if (name == "equal") return Sampling::kEqual;
  if (name == "positives_only") return Sampling::kPositivesOnly;
  return std::nullopt;
}

std::optional<Loss> ParseLoss(const std::string& name) {
  if (name == "cross_entropy") return Loss::kCrossEntropy;
  if (name == "mae") return Loss::kMae;
  if (name == "mse") return Loss::kMse;
  if (name == "focal") return Loss::kFocal;
  return std::nullopt;
}

std::optional<Optimizer> ParseOptimizer(const std::string& name) {
  if (name == "adam") return Optimizer::kAdam;
  if (name == "sgd") return Optimizer::kSgd;
  return std::nullopt;
}

std::optional<Metric> ParseMetric(const std::string& name) {
  if (name == "kappa") return Metric::kKappa;
  if (name == "linear_kappa") return Metric::kLinearKappa;
  if (name == "auc") return Metric::kAuc;
  if (name == "val_loss") return Metric::kValLoss;
  return std::nullopt;
}

std::optional<DeviceChoice> ParseDevice(const std::string& name) {
  if (name == "auto") return DeviceChoice::kAuto;
  if (name == "cpu") return DeviceChoice::kCpu;
  if (name == "cuda") return DeviceChoice::kCuda;
  return std::nullopt;
}

absl::StatusOr<ParsedOptions> ParseOptions(const TrainingOptions& options) {
  ParsedOptions parsed;
  bool known_architecture = false;
  for (const std::string& name : ArchitectureNames()) {
    known_architecture = known_architecture || name == options.architecture;
  }
  if (!known_architecture) {
    return UnknownName("architecture", options.architecture, ArchitectureNames());
  }

  auto augmentation = ParseAugmentation(options.augmentation);
  if (!augmentation)
    return UnknownName("augmentation", options.augmentation, {"none", "flip_rotate"});
  auto sampling = ParseSampling(options.sampling);
  if (!sampling) {
    return UnknownName("sampling", options.sampling, {"random", "equal", "positives_only"});
  }
  auto loss = ParseLoss(options.loss);
  if (!loss) return UnknownName("loss", options.loss, {"cross_entropy", "mae", "mse", "focal"});
  auto optimizer = ParseOptimizer(options.optimizer);
  if (!optimizer) return UnknownName("optimizer", options.optimizer, {"adam", "sgd"});
  auto metric = ParseMetric(options.metric);
  if (!metric) {
    return UnknownName("metric", options.metric, {"kappa", "linear_kappa", "auc", "val_loss"});
  }
  auto device = ParseDevice(options.device);
  if (!device) return UnknownName("device", options.device, {"auto", "cpu", "cuda"});

  parsed.augmentation = *augmentation;
  parsed.sampling = *sampling;
  parsed.loss = *loss;
  parsed.optimizer = *optimizer;
  parsed.metric = *metric;
  parsed.device = *device;
  return parsed;
}

bool HigherIsBetter(Metric metric) { return metric != Metric::kValLoss; }

std::vector<int64_t> CountPerClass(const std::vector<Example>& examples, int num_classes) {
  std::vector<int64_t> counts(static_cast<size_t>(std::max(num_classes, 0)), 0);
  for (const Example& example : examples) {
    if (example.label >= 0 && example.label < num_classes) ++counts[example.label];
  }
  return counts;
}

absl::Status ValidateExamples(const std::vector<Example>& examples, int num_classes,
                              absl::string_view role) {
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& example = examples[i];
    if (example.label < 0 || example.label >= num_classes) {
      return InvalidArgument(
          "LABEL_OUT_OF_RANGE", role,
          absl::StrCat(role, " example ", i, " (", example.id, ") has label ", example.label,
                       ", outside 0..", num_classes - 1,
                       "; labels are category indices below num_classes"),
          {{"index", absl::StrCat(i)}, {"id", example.id}, {"label", absl::StrCat(example.label)}});
    }
    if (example.array_path.empty()) {
      return InvalidArgument(
          "ARRAY_PATH_MISSING", role,
          absl::StrCat(role, " example ", i, " (", example.id,
                       ") has no array_path; give the path of its prepared .npy array"),
          {{"index", absl::StrCat(i)}, {"id", example.id}});
    }
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::Status ValidateOptions(const TrainingOptions& options, const std::vector<Example>& train) {
  using namespace internal;
  AILAB_ASSIGN_OR_RETURN(ParsedOptions parsed, ParseOptions(options));

  if (options.image_size < kMinImageSize || options.image_size > kMaxImageSize) {
    return OutOfRange("image_size", absl::StrCat(options.image_size),
                      absl::StrCat(kMinImageSize, "..", kMaxImageSize, " pixels"));
  }
  if (options.num_classes < kMinClasses || options.num_classes > kMaxClasses) {
    return OutOfRange("num_classes", absl::StrCat(options.num_classes),
                      absl::StrCat(kMinClasses, "..", kMaxClasses));
  }
  if (options.batch_size < kMinBatchSize || options.batch_size > kMaxBatchSize) {
    return OutOfRange("batch_size", absl::StrCat(options.batch_size),
                      absl::StrCat(kMinBatchSize, "..", kMaxBatchSize,
                                   " (batch normalisation needs two examples per batch)"));
  }
  if (!std::isfinite(options.learning_rate) || options.learning_rate <= 0 ||
      options.learning_rate > 10) {
    return OutOfRange("learning_rate", absl::StrCat(options.learning_rate),
                      "a value above 0 and at most 10, such as 0.001");
  }
  if (options.max_epochs < 1 || options.max_epochs > kMaxEpochs) {
    return OutOfRange("max_epochs", absl::StrCat(options.max_epochs),
                      absl::StrCat("1..", kMaxEpochs));
  }
  if (options.early_stopping_patience < 0 || options.early_stopping_patience > kMaxEpochs) {
    return OutOfRange("early_stopping_patience", absl::StrCat(options.early_stopping_patience),
                      absl::StrCat("0..", kMaxEpochs, " epochs (0 turns early stopping off)"));
  }
  if (!std::isfinite(options.min_improvement) || options.min_improvement < 0) {
    return OutOfRange("min_improvement", absl::StrCat(options.min_improvement),
                      "a finite value of at least 0");
  }
  if (options.threads < 0 || options.threads > kMaxThreads) {
    return OutOfRange("threads", absl::StrCat(options.threads),
                      absl::StrCat("0..", kMaxThreads, " (0 uses every core)"));
  }
  if (parsed.device == DeviceChoice::kCuda && !::torch::cuda::is_available()) {
    return FailedPrecondition(
        "CUDA_UNAVAILABLE",
        "device \"cuda\" was requested but no CUDA device is available to LibTorch; use \"auto\" "
        "or \"cpu\", or run the worker on a machine with a GPU",
        {{"device", options.device}});
  }
  if (!options.pretrained_weights.empty()) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(options.pretrained_weights, error)) {
      return NotFound("WEIGHTS_FILE_NOT_FOUND",
                      absl::StrCat("pretrained weights file \"", options.pretrained_weights,
                                   "\" does not exist; convert the ImageNet weights as "
                                   "docs/pretrained-weights.md describes, or leave "
                                   "pretrained_weights empty for random initialisation"),
                      {{"pretrained_weights", options.pretrained_weights}});
    }
  }

  if (train.size() < 2) {
    return FailedPrecondition("TOO_FEW_TRAINING_EXAMPLES",
                              absl::StrCat("training needs at least 2 examples, but ", train.size(),
                                           " were given; label more images"),
                              {{"train_examples", absl::StrCat(train.size())}});
  }
  AILAB_RETURN_IF_ERROR(ValidateExamples(train, options.num_classes, "train"));
  return CheckSampling(options, parsed.sampling, train);
}

}  // namespace ailab::torch
