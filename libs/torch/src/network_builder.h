// Builds a network as a TorchScript module. The architecture code adds layers one by
// one. Each call registers the layer's tensors in a module tree, named as in
// torchvision's state dicts (such as "layer1.0.conv1.weight"), and appends one
// statement of functional ops to the forward method. The result is a
// torch::jit::Module that trains with autograd and saves as a TorchScript file.
#pragma once

#include <ATen/ATen.h>
#include <torch/csrc/jit/api/module.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace ailab::torch::internal {

// One module of the tree: its tensors and child modules in registration order.
struct ModuleNode {
  // Attribute name in the parent, such as "conv1" or "0".
  std::string name;
  // Class name stem of its TorchScript type, such as "Conv2d".
  std::string kind;
  // TorchScript expression that reaches this module from `self`.
  std::string expression;
  std::vector<std::pair<std::string, at::Tensor>> parameters;
  std::vector<std::pair<std::string, at::Tensor>> buffers;
  std::vector<std::unique_ptr<ModuleNode>> children;
};

// Momentum of the batch normalisation running statistics, as torch.nn.BatchNorm2d:
// each training-mode step sets them to (1 - m) * old + m * batch statistic.
inline constexpr double kBatchNormMomentum = 0.1;

// Initialisation of convolution weights. Biases start at zero.
enum class ConvInit {
  // Normal with std sqrt(2 / (out_channels * kernel area)): torchvision's ResNet and VGG.
  kKaimingNormalFanOut,
  // Normal with std sqrt(2 / (in_channels * kernel area)): torchvision's DenseNet.
  kKaimingNormalFanIn,
  // Normal with std 0.1: torchvision's Inception v3.
  kNormalStd01,
};

// Initialisation of fully connected layers.
enum class LinearInit {
  // Weight and bias uniform in +-1/sqrt(in_features), as torch.nn.Linear does.
  kUniform,
  // Weight uniform in +-1/sqrt(in_features), bias zero: torchvision's DenseNet.
  kUniformZeroBias,
  // Weight normal with std 0.01, bias zero: torchvision's VGG.
  kNormalStd001,
  // Weight normal with std 0.1, bias zero: torchvision's Inception v3.
  kNormalStd01,
};

struct ConvOptions {
  int in_channels = 0;
  int out_channels = 0;
  int kernel_h = 1;
  int kernel_w = 1;
  int stride = 1;
  int pad_h = 0;
  int pad_w = 0;
  bool bias = false;
  ConvInit init = ConvInit::kKaimingNormalFanOut;
};

// Collects modules and forward statements; Build() turns them into a jit::Module.
// Tensors are created on the CPU and initialised from LibTorch's default generator.
class NetworkBuilder {
 public:
  // `root_kind` names the root class, such as "ResNet".
  explicit NetworkBuilder(std::string root_kind);

  ModuleNode* root() { return root_.get(); }

  // Adds an empty container module `name` of class `kind` under `parent`.
  ModuleNode* AddModule(ModuleNode* parent, const std::string& name, const std::string& kind);

  // Layers with tensors: each adds module `name` under `parent`, emits the op on the
  // variable `input` and returns the variable holding the result.
  std::string Conv2d(ModuleNode* parent, const std::string& name, const std::string& input,
                     const ConvOptions& options);
  std::string BatchNorm2d(ModuleNode* parent, const std::string& name, const std::string& input,
                          int channels, double eps);
  std::string Linear(ModuleNode* parent, const std::string& name, const std::string& input,
                     int in_features, int out_features, LinearInit init);

  // Ops without tensors.
  std::string Relu(const std::string& input);  // in place, as torchvision's ReLU(inplace=True)
  std::string MaxPool2d(const std::string& input, int kernel, int stride, int padding);
  std::string AvgPool2d(const std::string& input, int kernel, int stride, int padding);
  std::string AdaptiveAvgPool2d(const std::string& input, int output_h, int output_w);
  std::string Flatten(const std::string& input);
  // Dropout with probability `p`, active only in training mode.
  std::string Dropout(const std::string& input, double p);
  std::string Add(const std::string& a, const std::string& b);
  // Concatenates along the channel dimension.
  std::string Cat(const std::vector<std::string>& inputs);

  // Name of the forward method's argument.
  static constexpr const char* kInput = "x";

  // Makes the module: one TorchScript class per distinct module layout, every module
  // with a `training` attribute, `attributes` (ints and strings) on the root, and the
  // forward method returning `output`. `namespace_name` prefixes the class names, such
  // as "__torch__.ailab.resnet18".
  absl::StatusOr<::torch::jit::Module> Build(
      const std::string& output, const std::string& namespace_name,
      const std::vector<std::pair<std::string, c10::IValue>>& attributes);

  // The forward method's TorchScript source, available before Build().
  std::string ForwardSource(const std::string& output) const;

 private:
  std::string Emit(const std::string& expression);
  ModuleNode* AddNode(ModuleNode* parent, const std::string& name, const std::string& kind);

  std::unique_ptr<ModuleNode> root_;
  std::vector<std::string> statements_;
  int next_variable_ = 0;
};

}  // namespace ailab::torch::internal
