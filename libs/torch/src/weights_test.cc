// LibTorch first: its glog headers define CHECK, which Catch2 must override.
#include "weights.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "ailab/status/status.h"
#include "models.h"
#include "test_data.h"

namespace ailab::torch::internal {
namespace {

using ::ailab::torch::testing::ScratchDir;

at::Tensor Named(const ::torch::jit::Module& module, const std::string& name) {
  for (const auto& item : module.named_parameters()) {
    if (item.name == name) return item.value;
  }
  for (const auto& item : module.named_buffers()) {
    if (item.name == name) return item.value;
  }
  return {};
}

// An ImageNet-like state dict for `architecture`: the model's tensors with random
// values, a three-channel first convolution, a 1000-class classifier and the
// num_batches_tracked entries torchvision writes.
c10::Dict<std::string, at::Tensor> ImageNetLikeWeights(const std::string& architecture) {
  at::manual_seed(42);
  auto model = BuildModel({architecture, 32, 1000});
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& item : model->named_parameters())
    dict.insert(item.name, at::randn_like(item.value));
  for (const auto& item : model->named_buffers()) dict.insert(item.name, at::rand_like(item.value));
  at::Tensor first = dict.at(FirstConvWeight(architecture));
  dict.insert_or_assign(FirstConvWeight(architecture),
                        at::randn({first.size(0), 3, first.size(2), first.size(3)}));
  dict.insert("bn1.num_batches_tracked", at::tensor(int64_t{10}));
  return dict;
}

void WritePickle(const std::string& path, const c10::IValue& value) {
  std::vector<char> bytes = ::torch::pickle_save(value);
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST_CASE("LoadPretrainedWeights: pickled dict loads with RGB summed and classifier kept") {
  ScratchDir dir;
  c10::Dict<std::string, at::Tensor> weights = ImageNetLikeWeights("resnet18");
  std::string path = dir.File("resnet18-imagenet.pt");
  WritePickle(path, c10::impl::toGenericDict(weights));

  at::manual_seed(1);
  auto model = BuildModel({"resnet18", 32, 2});
  REQUIRE(model.ok());
  at::Tensor fc_before = Named(*model, "fc.weight").clone();

  auto report = LoadPretrainedWeights(*model, "resnet18", path);
  REQUIRE(report.ok());
  CHECK(report->classifier_skipped);
  CHECK(report->first_conv_summed);
  CHECK(report->unused == 3);  // fc.weight, fc.bias and bn1.num_batches_tracked
  CHECK(at::equal(Named(*model, "fc.weight"), fc_before));
  CHECK(at::allclose(Named(*model, "conv1.weight"), weights.at("conv1.weight").sum(1, true)));
  CHECK(at::equal(Named(*model, "layer3.1.conv2.weight"), weights.at("layer3.1.conv2.weight")));
  CHECK(at::equal(Named(*model, "layer2.0.downsample.1.running_var"),
                  weights.at("layer2.0.downsample.1.running_var")));
}

TEST_CASE("LoadPretrainedWeights: TorchScript file of the same task loads every tensor") {
  ScratchDir dir;
  at::manual_seed(5);
  auto source = BuildModel({"densenet121", 32, 4});
  REQUIRE(source.ok());
  std::string path = dir.File("densenet.pt");
  source->save(path);

  at::manual_seed(6);
  auto model = BuildModel({"densenet121", 32, 4});
  auto report = LoadPretrainedWeights(*model, "densenet121", path);
  REQUIRE(report.ok());
  CHECK_FALSE(report->classifier_skipped);
  CHECK_FALSE(report->first_conv_summed);
  CHECK(report->unused == 0);
  CHECK(at::equal(Named(*model, "classifier.weight"), Named(*source, "classifier.weight")));
  CHECK(at::equal(Named(*model, "features.denseblock3.denselayer7.norm2.running_mean"),
                  Named(*source, "features.denseblock3.denselayer7.norm2.running_mean")));
}

TEST_CASE("LoadPretrainedWeights: state_dict key and DataParallel prefix are accepted") {
  ScratchDir dir;
  c10::Dict<std::string, at::Tensor> weights = ImageNetLikeWeights("resnet18");
  c10::Dict<std::string, at::Tensor> prefixed;
  for (const auto& entry : weights) prefixed.insert("module." + entry.key(), entry.value());
  c10::Dict<std::string, c10::impl::GenericDict> wrapper;
  wrapper.insert("state_dict", c10::impl::toGenericDict(prefixed));
  std::string path = dir.File("wrapped.pt");
  WritePickle(path, c10::impl::toGenericDict(wrapper));

  auto model = BuildModel({"resnet18", 32, 2});
  auto report = LoadPretrainedWeights(*model, "resnet18", path);
  REQUIRE(report.ok());
  CHECK(at::equal(Named(*model, "layer4.1.bn2.bias"), weights.at("layer4.1.bn2.bias")));
}

TEST_CASE("LoadPretrainedWeights: other architecture and garbage are rejected") {
  ScratchDir dir;
  std::string dense = dir.File("densenet.pt");
  WritePickle(dense, c10::impl::toGenericDict(ImageNetLikeWeights("densenet121")));
  auto model = BuildModel({"resnet18", 32, 2});
  at::Tensor before = Named(*model, "layer1.0.conv1.weight").clone();

  auto mismatch = LoadPretrainedWeights(*model, "resnet18", dense);
  CHECK(mismatch.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(GetErrorReason(mismatch.status()) == "WEIGHTS_TENSOR_MISSING");
  CHECK(at::equal(before, Named(*model, "layer1.0.conv1.weight")));

  // resnet50's layer1.0.conv1 is 64x64x1x1 where resnet18's is 64x64x3x3.
  std::string r50 = dir.File("resnet50.pt");
  WritePickle(r50, c10::impl::toGenericDict(ImageNetLikeWeights("resnet50")));
  auto shape = LoadPretrainedWeights(*model, "resnet18", r50);
  CHECK(GetErrorReason(shape.status()) == "WEIGHTS_SHAPE_MISMATCH");
  CHECK_THAT(std::string(shape.status().message()), Catch::Contains("[64, 64, 1, 1]"));

  std::string garbage = dir.File("garbage.pt");
  std::ofstream(garbage) << "not a weights file";
  auto unreadable = LoadPretrainedWeights(*model, "resnet18", garbage);
  CHECK(unreadable.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(unreadable.status()) == "WEIGHTS_UNREADABLE");
}

}  // namespace
}  // namespace ailab::torch::internal
