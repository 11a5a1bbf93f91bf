#include "network_builder.h"

#include <torch/csrc/jit/api/compilation_unit.h>

#include <cmath>
#include <exception>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/status/status.h"
#include "errors.h"

namespace ailab::torch::internal {
namespace {

// True when `name` can follow a dot in TorchScript; other names ("0") need getattr.
bool IsIdentifier(const std::string& name) {
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// A float literal that TorchScript reads as a float, never as an int.
std::string FloatLiteral(double value) {
  std::string text = absl::StrCat(value);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string IntList(std::initializer_list<int> values) {
  return absl::StrCat("[", absl::StrJoin(values, ", "), "]");
}

at::Tensor NewParameter(at::IntArrayRef shape) {
  at::Tensor tensor = at::empty(shape, at::TensorOptions().dtype(at::kFloat));
  return tensor;
}

// Builds the jit::Module of `node` and its children, reusing one TorchScript class for
// modules whose attributes have the same names, kinds and child classes.
class Materializer {
 public:
  explicit Materializer(std::string namespace_name)
      : namespace_(std::move(namespace_name)),
        unit_(std::make_shared<::torch::jit::CompilationUnit>()) {}

  ::torch::jit::Module Make(const ModuleNode& node) {
    std::vector<std::pair<std::string, ::torch::jit::Module>> children;
    children.reserve(node.children.size());
    for (const auto& child : node.children) children.emplace_back(child->name, Make(*child));

    std::string layout = node.kind;
    for (const auto& [name, tensor] : node.parameters) absl::StrAppend(&layout, "|p:", name);
    for (const auto& [name, tensor] : node.buffers) absl::StrAppend(&layout, "|b:", name);
    for (const auto& [name, module] : children) {
      absl::StrAppend(&layout, "|m:", name, "=", module.type()->name()->qualifiedName());
    }

    ::torch::jit::Module module;
    auto found = types_.find(layout);
    if (found == types_.end()) {
      int& count = kind_counts_[node.kind];
      std::string class_name = count == 0 ? node.kind : absl::StrCat(node.kind, "_", count);
      ++count;
      module = ::torch::jit::Module(c10::QualifiedName(absl::StrCat(namespace_, ".", class_name)),
                                    unit_, /*shouldMangle=*/false);
      types_.emplace(layout, module.type());
    } else {
      module = ::torch::jit::Module(unit_, found->second);
    }

    module.register_attribute("training", c10::BoolType::get(), true);
    for (const auto& [name, tensor] : node.parameters) {
      module.register_parameter(name, tensor, /*is_buffer=*/false);
    }
    for (const auto& [name, tensor] : node.buffers) module.register_buffer(name, tensor);
    for (const auto& [name, child] : children) module.register_module(name, child);
    return module;
  }

 private:
  std::string namespace_;
  std::shared_ptr<::torch::jit::CompilationUnit> unit_;
  std::map<std::string, c10::ClassTypePtr> types_;
  std::map<std::string, int> kind_counts_;
};

}  // namespace

NetworkBuilder::NetworkBuilder(std::string root_kind) : root_(std::make_unique<ModuleNode>()) {
  root_->kind = std::move(root_kind);
  root_->expression = "self";
}

ModuleNode* NetworkBuilder::AddNode(ModuleNode* parent, const std::string& name,
                                    const std::string& kind) {
  auto node = std::make_unique<ModuleNode>();
  node->name = name;
  node->kind = kind;
  node->expression = IsIdentifier(name)
                         ? absl::StrCat(parent->expression, ".", name)
                         : absl::StrCat("getattr(", parent->expression, ", \"", name, "\")");
  ModuleNode* raw = node.get();
  parent->children.push_back(std::move(node));
  return raw;
}

ModuleNode* NetworkBuilder::AddModule(ModuleNode* parent, const std::string& name,
                                      const std::string& kind) {
  return AddNode(parent, name, kind);
}

std::string NetworkBuilder::Emit(const std::string& expression) {
  std::string variable = absl::StrCat("v", ++next_variable_);
  statements_.push_back(absl::StrCat(variable, " = ", expression));
  return variable;
}

std::string NetworkBuilder::Conv2d(ModuleNode* parent, const std::string& name,
                                   const std::string& input, const ConvOptions& options) {
  ModuleNode* node = AddNode(parent, name, options.bias ? "Conv2dBias" : "Conv2d");
  at::Tensor weight =
      NewParameter({options.out_channels, options.in_channels, options.kernel_h, options.kernel_w});
  double area = static_cast<double>(options.kernel_h) * options.kernel_w;
  switch (options.init) {
    case ConvInit::kKaimingNormalFanOut:
      weight.normal_(0, std::sqrt(2.0 / (options.out_channels * area)));
      break;
    case ConvInit::kKaimingNormalFanIn:
      weight.normal_(0, std::sqrt(2.0 / (options.in_channels * area)));
      break;
    case ConvInit::kNormalStd01:
      weight.normal_(0, 0.1);
      break;
  }
  node->parameters.emplace_back("weight", weight);
  std::string bias = "None";
  if (options.bias) {
    node->parameters.emplace_back("bias", at::zeros({options.out_channels}, at::kFloat));
    bias = absl::StrCat(node->expression, ".bias");
  }
  return Emit(absl::StrCat("torch.conv2d(", input, ", ", node->expression, ".weight, ", bias, ", ",
                           IntList({options.stride, options.stride}), ", ",
                           IntList({options.pad_h, options.pad_w}), ", [1, 1], 1)"));
}

std::string NetworkBuilder::BatchNorm2d(ModuleNode* parent, const std::string& name,
                                        const std::string& input, int channels, double eps) {
  ModuleNode* node = AddNode(parent, name, "BatchNorm2d");
  node->parameters.emplace_back("weight", at::ones({channels}, at::kFloat));
  node->parameters.emplace_back("bias", at::zeros({channels}, at::kFloat));
  node->buffers.emplace_back("running_mean", at::zeros({channels}, at::kFloat));
  node->buffers.emplace_back("running_var", at::ones({channels}, at::kFloat));
  const std::string& m = node->expression;
  // self.training selects batch statistics and updates the running ones in place.
  return Emit(absl::StrCat("torch.batch_norm(", input, ", ", m, ".weight, ", m, ".bias, ", m,
                           ".running_mean, ", m, ".running_var, self.training, ",
                           FloatLiteral(kBatchNormMomentum), ", ", FloatLiteral(eps),
                           ", True)"));
}

std::string NetworkBuilder::Linear(ModuleNode* parent, const std::string& name,
                                   const std::string& input, int in_features, int out_features,
                                   LinearInit init) {
  ModuleNode* node = AddNode(parent, name, "Linear");
  at::Tensor weight = NewParameter({out_features, in_features});
  at::Tensor bias = at::zeros({out_features}, at::kFloat);
  double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  switch (init) {
    case LinearInit::kUniform:
      weight.uniform_(-bound, bound);
      bias.uniform_(-bound, bound);
      break;
    case LinearInit::kUniformZeroBias:
      weight.uniform_(-bound, bound);
      break;
    case LinearInit::kNormalStd001:
      weight.normal_(0, 0.01);
      break;
    case LinearInit::kNormalStd01:
      weight.normal_(0, 0.1);
      break;
  }
  node->parameters.emplace_back("weight", weight);
  node->parameters.emplace_back("bias", bias);
  return Emit(absl::StrCat("torch.linear(", input, ", ", node->expression, ".weight, ",
                           node->expression, ".bias)"));
}

std::string NetworkBuilder::Relu(const std::string& input) {
  return Emit(absl::StrCat("torch.relu_(", input, ")"));
}

std::string NetworkBuilder::MaxPool2d(const std::string& input, int kernel, int stride,
                                      int padding) {
  return Emit(absl::StrCat("torch.max_pool2d(", input, ", ", IntList({kernel, kernel}), ", ",
                           IntList({stride, stride}), ", ", IntList({padding, padding}),
                           ", [1, 1], False)"));
}

std::string NetworkBuilder::AvgPool2d(const std::string& input, int kernel, int stride,
                                      int padding) {
  return Emit(absl::StrCat("torch.avg_pool2d(", input, ", ", IntList({kernel, kernel}), ", ",
                           IntList({stride, stride}), ", ", IntList({padding, padding}), ")"));
}

std::string NetworkBuilder::AdaptiveAvgPool2d(const std::string& input, int output_h,
                                              int output_w) {
  return Emit(
      absl::StrCat("torch.adaptive_avg_pool2d(", input, ", ", IntList({output_h, output_w}), ")"));
}

std::string NetworkBuilder::Flatten(const std::string& input) {
  return Emit(absl::StrCat("torch.flatten(", input, ", 1)"));
}

std::string NetworkBuilder::Dropout(const std::string& input, double p) {
  return Emit(absl::StrCat("torch.dropout(", input, ", ", FloatLiteral(p), ", self.training)"));
}

std::string NetworkBuilder::Add(const std::string& a, const std::string& b) {
  return Emit(absl::StrCat("torch.add(", a, ", ", b, ")"));
}

std::string NetworkBuilder::Cat(const std::vector<std::string>& inputs) {
  return Emit(absl::StrCat("torch.cat([", absl::StrJoin(inputs, ", "), "], 1)"));
}

std::string NetworkBuilder::ForwardSource(const std::string& output) const {
  std::string source = absl::StrCat("def forward(self, ", kInput, ": Tensor) -> Tensor:\n");
  for (const std::string& statement : statements_)
    absl::StrAppend(&source, "    ", statement, "\n");
  absl::StrAppend(&source, "    return ", output, "\n");
  return source;
}

absl::StatusOr<::torch::jit::Module> NetworkBuilder::Build(
    const std::string& output, const std::string& namespace_name,
    const std::vector<std::pair<std::string, c10::IValue>>& attributes) {
  try {
    // Parameters are leaves of the autograd graph that training updates.
    std::vector<ModuleNode*> pending = {root_.get()};
    while (!pending.empty()) {
      ModuleNode* node = pending.back();
      pending.pop_back();
      for (auto& [name, tensor] : node->parameters) tensor.requires_grad_(true);
      for (auto& child : node->children) pending.push_back(child.get());
    }

    Materializer materializer(namespace_name);
    ::torch::jit::Module module = materializer.Make(*root_);
    for (const auto& [name, value] : attributes) {
      module.register_attribute(name, value.type(), value);
    }
    module.define(ForwardSource(output));
    return module;
  } catch (const std::exception& e) {
    return Internal("MODEL_BUILD_FAILED",
                    absl::StrCat("building the ", root_->kind,
                                 " TorchScript module failed: ", ExceptionText(e)),
                    {{"kind", root_->kind}});
  }
}

}  // namespace ailab::torch::internal
