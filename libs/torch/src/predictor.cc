// Predictor: a TorchScript classification model loaded for inference.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/cuda.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/status/status.h"
#include "ailab/torch/trainer.h"
#include "errors.h"
#include "options.h"

namespace ailab::torch {
namespace {

int IntAttribute(const ::torch::jit::Module& module, const std::string& name) {
  if (!module.hasattr(name)) return 0;
  c10::IValue value = module.attr(name);
  return value.isInt() ? static_cast<int>(value.toInt()) : 0;
}

class TorchScriptPredictor : public Predictor {
 public:
  // `image_size` and `num_classes` come from the module as loaded, since freezing
  // drops the attributes forward() does not read.
  TorchScriptPredictor(::torch::jit::Module module, c10::Device device, int image_size,
                       int num_classes)
      : module_(std::move(module)),
        device_(device),
        image_size_(image_size),
        num_classes_(num_classes) {}

  absl::StatusOr<std::vector<std::vector<float>>> Predict(
      const std::vector<std::vector<float>>& images) override;

  int image_size() const override { return image_size_; }
  int num_classes() const override { return num_classes_; }

 private:
  absl::StatusOr<int64_t> Side(const std::vector<std::vector<float>>& images) const;

  ::torch::jit::Module module_;
  c10::Device device_;
  int image_size_;
  int num_classes_;
};

absl::StatusOr<int64_t> TorchScriptPredictor::Side(
    const std::vector<std::vector<float>>& images) const {
  int64_t side = image_size_;
  if (side == 0) side = static_cast<int64_t>(std::llround(std::sqrt(images[0].size())));
  const size_t pixels = static_cast<size_t>(side * side);
  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i].size() != pixels || pixels == 0) {
      return InvalidArgument(
          "IMAGE_SIZE_MISMATCH", "images",
          absl::StrCat("image ", i, " has ", images[i].size(), " values but the model takes ", side,
                       " x ", side, " = ", pixels,
                       "; resize the image to the model's input size first"),
          {{"index", absl::StrCat(i)},
           {"values", absl::StrCat(images[i].size())},
           {"image_size", absl::StrCat(side)}});
    }
  }
  return side;
}

absl::StatusOr<std::vector<std::vector<float>>> TorchScriptPredictor::Predict(
    const std::vector<std::vector<float>>& images) {
  std::vector<std::vector<float>> probabilities;
  if (images.empty()) return probabilities;
  AILAB_ASSIGN_OR_RETURN(int64_t side, Side(images));
  const int64_t n = static_cast<int64_t>(images.size());
  try {
    c10::InferenceMode inference;
    at::Tensor input = at::empty({n, 1, side, side}, at::kFloat);
    float* data = input.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(data + i * side * side, images[i].data(), images[i].size() * sizeof(float));
    }
    c10::IValue output = module_.forward({input.to(device_)});
    if (!output.isTensor() || output.toTensor().dim() != 2 || output.toTensor().size(0) != n) {
      return FailedPrecondition(
          "MODEL_OUTPUT_INVALID",
          absl::StrCat("the model returned ",
                       output.isTensor()
                           ? absl::StrCat("a tensor of ", output.toTensor().dim(), " dimensions")
                           : output.tagKind(),
                       " instead of an N x classes tensor of scores; export the model with "
                       "Train() or make its forward return logits"),
          {});
    }
    at::Tensor scores = at::softmax(output.toTensor().to(at::kFloat), 1).to(c10::kCPU).contiguous();
    const int64_t classes = scores.size(1);
    const float* p = scores.data_ptr<float>();
    probabilities.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) probabilities[i].assign(p + i * classes, p + (i + 1) * classes);
  } catch (const std::exception& e) {
    return Internal("PREDICTION_FAILED",
                    absl::StrCat("running the model on ", n, " images of ", side, " x ", side,
                                 " failed: ", internal::ExceptionText(e)),
                    {{"images", absl::StrCat(n)}});
  }
  return probabilities;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Predictor>> Predictor::Load(const std::string& torchscript_path,
                                                           int threads) {
  PredictorOptions options;
  options.threads = threads;
  return Load(torchscript_path, options);
}

absl::StatusOr<std::unique_ptr<Predictor>> Predictor::Load(const std::string& torchscript_path,
                                                           const PredictorOptions& options) {
  auto device_choice = internal::ParseDevice(options.device);
  if (!device_choice) {
    return InvalidArgument(
        "UNKNOWN_OPTION_VALUE", "device",
        absl::StrCat("unknown device \"", options.device, "\"; use auto, cpu or cuda"),
        {{"device", options.device}});
  }
  const bool cuda_available = ::torch::cuda::is_available();
  if (*device_choice == internal::DeviceChoice::kCuda && !cuda_available) {
    return FailedPrecondition("CUDA_UNAVAILABLE",
                              "device \"cuda\" was requested but no CUDA device is available to "
                              "LibTorch; use \"auto\" or \"cpu\"",
                              {{"device", options.device}});
  }
  if (options.threads < 0) {
    return InvalidArgument(
        "OPTION_OUT_OF_RANGE", "threads",
        absl::StrCat("threads ", options.threads, " is out of range; use 0 (every core) or more"),
        {{"threads", absl::StrCat(options.threads)}});
  }
  std::error_code error;
  if (!std::filesystem::is_regular_file(torchscript_path, error)) {
    return NotFound("MODEL_FILE_NOT_FOUND",
                    absl::StrCat("TorchScript model file \"", torchscript_path,
                                 "\" does not exist; check the path"),
                    {{"path", torchscript_path}});
  }
  c10::Device device = (*device_choice == internal::DeviceChoice::kCpu || !cuda_available)
                           ? c10::Device(c10::kCPU)
                           : c10::Device(c10::kCUDA, 0);
  unsigned cores = std::thread::hardware_concurrency();
  at::set_num_threads(options.threads > 0 ? options.threads
                                          : static_cast<int>(std::max(1u, cores)));
  try {
    ::torch::jit::Module module = ::torch::jit::load(torchscript_path, device);
    module.eval();
    const int image_size = IntAttribute(module, "image_size");
    const int num_classes = IntAttribute(module, "num_classes");
    bool optimized = false;
    // Freezing inlines the weights and folds each batch normalisation into the
    // convolution before it; on the CPU the convolutions then run on oneDNN's packed
    // weights. The outputs match the plain module to float rounding. A module that
    // cannot be frozen (one not written by Train()) runs as loaded.
    try {
      ::torch::jit::Module frozen = ::torch::jit::freeze(module);
      module = device.is_cpu() ? ::torch::jit::optimize_for_inference(frozen) : frozen;
      optimized = true;
    } catch (const std::exception& e) {
      log::Logger("predictor")
          ->warn("model not optimised, running it as loaded path={} error={}", torchscript_path,
                 internal::ExceptionText(e));
    }
    auto predictor = std::make_unique<TorchScriptPredictor>(std::move(module), device, image_size,
                                                            num_classes);
    log::Logger("predictor")
        ->info("model loaded path={} image_size={} classes={} device={} optimized={}",
               torchscript_path, predictor->image_size(), predictor->num_classes(), device.str(),
               optimized);
    return predictor;
  } catch (const std::exception& e) {
    return InvalidArgument(
        "MODEL_FILE_INVALID", "torchscript_path",
        absl::StrCat("\"", torchscript_path,
                     "\" is not a loadable TorchScript model: ", internal::ExceptionText(e)),
        {{"path", torchscript_path}});
  }
}

}  // namespace ailab::torch
