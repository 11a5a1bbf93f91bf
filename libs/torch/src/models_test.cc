// LibTorch first: its glog headers define CHECK, which Catch2 must override.
#include "models.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "test_data.h"

namespace ailab::torch::internal {
namespace {

using ::ailab::torch::testing::ScratchDir;

// torchvision 0.14's parameter counts (3 input channels, 1000 classes, Inception v3
// without its auxiliary head) less the first convolution's two extra input channels.
int64_t ExpectedParameters(const std::string& architecture) {
  const std::map<std::string, std::pair<int64_t, int64_t>> torchvision = {
      // architecture: {parameters, first convolution's weights per input channel}
      {"resnet18", {11689512, 64 * 7 * 7}},   {"resnet34", {21797672, 64 * 7 * 7}},
      {"resnet50", {25557032, 64 * 7 * 7}},   {"vgg11_bn", {132868840, 64 * 3 * 3}},
      {"vgg16_bn", {138365992, 64 * 3 * 3}},  {"inception_v3", {23834568, 32 * 3 * 3}},
      {"densenet121", {7978856, 64 * 7 * 7}},
  };
  auto [total, per_channel] = torchvision.at(architecture);
  return total - 2 * per_channel;
}

bool HasParameter(const ::torch::jit::Module& module, const std::string& name) {
  for (const auto& item : module.named_parameters()) {
    if (item.name == name) return true;
  }
  return false;
}

int64_t CountParameters(const ::torch::jit::Module& module) {
  int64_t count = 0;
  for (const at::Tensor& p : module.parameters()) count += p.numel();
  return count;
}

TEST_CASE("BuildModel: parameter counts match torchvision") {
  std::string architecture = GENERATE("resnet18", "resnet34", "resnet50", "vgg11_bn", "vgg16_bn",
                                      "inception_v3", "densenet121");
  INFO(architecture);
  auto model = BuildModel({architecture, 64, 1000});
  REQUIRE(model.ok());
  CHECK(CountParameters(*model) == ExpectedParameters(architecture));
  CHECK(model->attr("architecture").toStringRef() == architecture);
  CHECK(model->attr("image_size").toInt() == 64);
  CHECK(model->attr("num_classes").toInt() == 1000);
  CHECK(HasParameter(*model, FirstConvWeight(architecture)));
  CHECK(HasParameter(*model, ClassifierPrefix(architecture) + "weight"));
}

TEST_CASE("BuildModel: unknown architecture is rejected") {
  auto model = BuildModel({"alexnet", 64, 2});
  CHECK(model.status().code() == absl::StatusCode::kInvalidArgument);
}

// Each architecture trains two steps, exports, and the exported file computes what
// the trained module computes.
TEST_CASE("BuildModel: every architecture trains and exports") {
  std::string architecture = GENERATE("resnet18", "resnet34", "resnet50", "vgg11_bn", "vgg16_bn",
                                      "inception_v3", "densenet121");
  INFO(architecture);
  at::manual_seed(3);
  auto built = BuildModel({architecture, 32, 3});
  REQUIRE(built.ok());
  ::torch::jit::Module model = *built;
  model.train(true);

  std::vector<at::Tensor> parameters;
  for (const at::Tensor& p : model.parameters()) parameters.push_back(p);
  // Plain SGD keeps no per-parameter state, which matters for VGG's 130M parameters.
  ::torch::optim::SGD optimizer(parameters, ::torch::optim::SGDOptions(0.01));
  at::Tensor images = at::rand({4, 1, 32, 32});
  at::Tensor labels = at::tensor({0, 1, 2, 1}, at::kLong);
  at::Tensor before = parameters[0].detach().clone();
  for (int step = 0; step < 2; ++step) {
    optimizer.zero_grad();
    at::Tensor logits = model.forward({images}).toTensor();
    REQUIRE(logits.sizes() == at::IntArrayRef({4, 3}));
    at::Tensor loss = at::cross_entropy_loss(logits, labels);
    REQUIRE(std::isfinite(loss.item<double>()));
    loss.backward();
    optimizer.step();
  }
  CHECK_FALSE(at::equal(before, parameters[0].detach()));

  model.train(false);
  at::Tensor expected;
  {
    at::NoGradGuard no_grad;
    expected = model.forward({images}).toTensor();
  }
  ScratchDir dir;
  std::string path = dir.File("model.pt");
  model.save(path);
  ::torch::jit::Module loaded = ::torch::jit::load(path);
  CHECK_FALSE(loaded.attr("training").toBool());
  at::Tensor actual;
  {
    at::NoGradGuard no_grad;
    actual = loaded.forward({images}).toTensor();
  }
  CHECK(at::allclose(actual, expected, /*rtol=*/0, /*atol=*/1e-5));
}

TEST_CASE("BuildModel: training mode updates batch norm statistics") {
  at::manual_seed(1);
  auto model = BuildModel({"resnet18", 32, 2});
  REQUIRE(model.ok());
  at::Tensor running_mean = model->attr("bn1").toModule().attr("running_mean").toTensor();
  at::Tensor before = running_mean.clone();
  {
    at::NoGradGuard no_grad;
    model->train(false);
    model->forward({at::rand({2, 1, 32, 32})});
    CHECK(at::equal(before, running_mean));
    model->train(true);
    model->forward({at::rand({2, 1, 32, 32})});
    CHECK_FALSE(at::equal(before, running_mean));
  }
}

}  // namespace
}  // namespace ailab::torch::internal
