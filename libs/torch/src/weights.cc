#include "weights.h"

#include <ATen/core/Dict.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/serialize.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/status/status.h"
#include "errors.h"
#include "models.h"

namespace ailab::torch::internal {
namespace {

std::string ShapeText(at::IntArrayRef shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// Tensors of a dict IValue with string keys; non-tensor values are left out.
std::map<std::string, at::Tensor> TensorsOfDict(const c10::IValue& value) {
  std::map<std::string, at::Tensor> tensors;
  if (!value.isGenericDict()) return tensors;
  c10::impl::GenericDict dict = value.toGenericDict();
  for (const auto& entry : dict) {
    if (!entry.key().isString()) continue;
    if (entry.key().toStringRef() == "state_dict" && entry.value().isGenericDict()) {
      return TensorsOfDict(entry.value());
    }
    if (entry.value().isTensor()) tensors[entry.key().toStringRef()] = entry.value().toTensor();
  }
  return tensors;
}

std::map<std::string, at::Tensor> StripDataParallelPrefix(std::map<std::string, at::Tensor> in) {
  constexpr absl::string_view kPrefix = "module.";
  for (const auto& [name, tensor] : in) {
    if (!absl::StartsWith(name, kPrefix)) return in;
  }
  std::map<std::string, at::Tensor> out;
  for (auto& [name, tensor] : in) out[name.substr(kPrefix.size())] = tensor;
  return out;
}

}  // namespace

absl::StatusOr<std::map<std::string, at::Tensor>> ReadStateDict(const std::string& path) {
  std::map<std::string, at::Tensor> tensors;
  std::string module_error;
  try {
    ::torch::jit::Module module = ::torch::jit::load(path, c10::Device(c10::kCPU));
    for (const auto& item : module.named_parameters(/*recurse=*/true)) {
      tensors[item.name] = item.value;
    }
    for (const auto& item : module.named_buffers(/*recurse=*/true)) tensors[item.name] = item.value;
  } catch (const std::exception& e) {
    module_error = ExceptionText(e);
  }

  std::string pickle_error;
  if (tensors.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return NotFound("WEIGHTS_FILE_NOT_FOUND",
                      absl::StrCat("cannot open pretrained weights file \"", path, "\""),
                      {{"pretrained_weights", path}});
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      tensors = TensorsOfDict(::torch::pickle_load(bytes));
      for (auto& [name, tensor] : tensors) tensor = tensor.to(c10::kCPU);
    } catch (const std::exception& e) {
      pickle_error = ExceptionText(e);
    }
  }

  if (tensors.empty()) {
    return InvalidArgument(
        "WEIGHTS_UNREADABLE", "pretrained_weights",
        absl::StrCat(
            "pretrained weights file \"", path,
            "\" holds no named tensors; write it with torch.save(dict(model.state_dict()), "
            "path) or torch.jit.save as docs/pretrained-weights.md shows. LibTorch "
            "cannot read the OrderedDict that torch.save(model.state_dict()) writes, so "
            "convert it to a dict first (as TorchScript: ",
            module_error.empty() ? "no tensors" : module_error,
            "; as a pickled dict: ", pickle_error.empty() ? "no tensors" : pickle_error, ")"),
        {{"pretrained_weights", path}});
  }
  return StripDataParallelPrefix(std::move(tensors));
}

absl::StatusOr<WeightsReport> LoadPretrainedWeights(::torch::jit::Module& model,
                                                    const std::string& architecture,
                                                    const std::string& path) {
  AILAB_ASSIGN_OR_RETURN(auto file, ReadStateDict(path));
  const std::string classifier = ClassifierPrefix(architecture);
  const std::string first_conv = FirstConvWeight(architecture);

  // Pairs every model tensor with its source first, so a mismatch leaves the model as
  // it was.
  std::vector<std::pair<at::Tensor, at::Tensor>> copies;
  WeightsReport report;
  size_t used = 0;
  auto plan = [&](const std::string& name, const at::Tensor& target) -> absl::Status {
    auto found = file.find(name);
    bool is_classifier = absl::StartsWith(name, classifier);
    if (is_classifier && (found == file.end() || found->second.sizes() != target.sizes())) {
      report.classifier_skipped = true;
      return absl::OkStatus();
    }
    if (found == file.end()) {
      return FailedPrecondition(
          "WEIGHTS_TENSOR_MISSING",
          absl::StrCat("pretrained weights file \"", path, "\" has no tensor \"", name,
                       "\", which ", architecture,
                       " needs; convert the weights of the same architecture (see "
                       "docs/pretrained-weights.md)"),
          {{"pretrained_weights", path}, {"tensor", name}, {"architecture", architecture}});
    }
    ++used;
    at::Tensor source = found->second.to(at::kFloat);
    if (name == first_conv && source.dim() == 4 && target.dim() == 4 && source.size(1) == 3 &&
        target.size(1) == 1) {
      source = source.sum(1, /*keepdim=*/true);
      report.first_conv_summed = true;
    }
    if (source.sizes() != target.sizes()) {
      return FailedPrecondition(
          "WEIGHTS_SHAPE_MISMATCH",
          absl::StrCat("tensor \"", name, "\" of pretrained weights file \"", path, "\" has shape ",
                       ShapeText(found->second.sizes()), " but ", architecture, " needs ",
                       ShapeText(target.sizes()),
                       "; convert the weights of the same architecture (see "
                       "docs/pretrained-weights.md)"),
          {{"pretrained_weights", path},
           {"tensor", name},
           {"file_shape", ShapeText(found->second.sizes())},
           {"model_shape", ShapeText(target.sizes())}});
    }
    copies.emplace_back(target, source);
    return absl::OkStatus();
  };
  try {
    for (const auto& item : model.named_parameters(/*recurse=*/true)) {
      AILAB_RETURN_IF_ERROR(plan(item.name, item.value));
    }
    for (const auto& item : model.named_buffers(/*recurse=*/true)) {
      AILAB_RETURN_IF_ERROR(plan(item.name, item.value));
    }
    ::torch::NoGradGuard no_grad;
    for (auto& [target, source] : copies) target.copy_(source);
  } catch (const std::exception& e) {
    return Internal(
        "WEIGHTS_LOAD_FAILED",
        absl::StrCat("loading pretrained weights file \"", path, "\" failed: ", ExceptionText(e)),
        {{"pretrained_weights", path}});
  }
  report.loaded = static_cast<int>(copies.size());
  report.unused = static_cast<int>(file.size() - used);
  return report;
}

}  // namespace ailab::torch::internal
