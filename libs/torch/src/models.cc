#include "models.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "network_builder.h"

namespace ailab::torch::internal {
namespace {

constexpr double kResNetEps = 1e-5;
constexpr double kInceptionEps = 1e-3;

ConvOptions Conv(int in, int out, int kernel, int stride, int pad, ConvInit init) {
  ConvOptions options;
  options.in_channels = in;
  options.out_channels = out;
  options.kernel_h = kernel;
  options.kernel_w = kernel;
  options.stride = stride;
  options.pad_h = pad;
  options.pad_w = pad;
  options.init = init;
  return options;
}

// ---------------------------------------------------------------------------------------
// ResNet (torchvision layout, stride in the 3x3 convolution of bottleneck blocks).

struct ResNetConfig {
  std::vector<int> blocks;
  bool bottleneck = false;
};

std::string ResNetBlock(NetworkBuilder& b, ModuleNode* layer, int index, const std::string& input,
                        int inplanes, int planes, int stride, bool bottleneck) {
  constexpr ConvInit kInit = ConvInit::kKaimingNormalFanOut;
  int expansion = bottleneck ? 4 : 1;
  ModuleNode* block =
      b.AddModule(layer, absl::StrCat(index), bottleneck ? "Bottleneck" : "BasicBlock");
  std::string out;
  if (bottleneck) {
    out = b.Conv2d(block, "conv1", input, Conv(inplanes, planes, 1, 1, 0, kInit));
    out = b.Relu(b.BatchNorm2d(block, "bn1", out, planes, kResNetEps));
    out = b.Conv2d(block, "conv2", out, Conv(planes, planes, 3, stride, 1, kInit));
    out = b.Relu(b.BatchNorm2d(block, "bn2", out, planes, kResNetEps));
    out = b.Conv2d(block, "conv3", out, Conv(planes, planes * expansion, 1, 1, 0, kInit));
    out = b.BatchNorm2d(block, "bn3", out, planes * expansion, kResNetEps);
  } else {
    out = b.Conv2d(block, "conv1", input, Conv(inplanes, planes, 3, stride, 1, kInit));
    out = b.Relu(b.BatchNorm2d(block, "bn1", out, planes, kResNetEps));
    out = b.Conv2d(block, "conv2", out, Conv(planes, planes, 3, 1, 1, kInit));
    out = b.BatchNorm2d(block, "bn2", out, planes, kResNetEps);
  }
  std::string identity = input;
  if (stride != 1 || inplanes != planes * expansion) {
    ModuleNode* downsample = b.AddModule(block, "downsample", "Sequential");
    identity =
        b.Conv2d(downsample, "0", input, Conv(inplanes, planes * expansion, 1, stride, 0, kInit));
    identity = b.BatchNorm2d(downsample, "1", identity, planes * expansion, kResNetEps);
  }
  return b.Relu(b.Add(out, identity));
}

std::string BuildResNet(NetworkBuilder& b, const ResNetConfig& config, int num_classes) {
  ModuleNode* root = b.root();
  std::string x = b.Conv2d(root, "conv1", NetworkBuilder::kInput,
                           Conv(1, 64, 7, 2, 3, ConvInit::kKaimingNormalFanOut));
  x = b.Relu(b.BatchNorm2d(root, "bn1", x, 64, kResNetEps));
  x = b.MaxPool2d(x, 3, 2, 1);
  int expansion = config.bottleneck ? 4 : 1;
  int inplanes = 64;
  for (int stage = 0; stage < 4; ++stage) {
    int planes = 64 << stage;
    ModuleNode* layer = b.AddModule(root, absl::StrCat("layer", stage + 1), "Sequential");
    for (int i = 0; i < config.blocks[stage]; ++i) {
      int stride = (stage > 0 && i == 0) ? 2 : 1;
      x = ResNetBlock(b, layer, i, x, inplanes, planes, stride, config.bottleneck);
      inplanes = planes * expansion;
    }
  }
  x = b.Flatten(b.AdaptiveAvgPool2d(x, 1, 1));
  return b.Linear(root, "fc", x, 512 * expansion, num_classes, LinearInit::kUniform);
}

// ---------------------------------------------------------------------------------------
// VGG with batch normalisation (torchvision layout: features.N, 7x7 average pooling,
// three fully connected layers at classifier.0, .3 and .6).

constexpr int kMaxPool = 0;

std::string BuildVgg(NetworkBuilder& b, const std::vector<int>& config, int num_classes) {
  ModuleNode* root = b.root();
  ModuleNode* features = b.AddModule(root, "features", "Sequential");
  std::string x = NetworkBuilder::kInput;
  int index = 0;
  int channels = 1;
  for (int width : config) {
    if (width == kMaxPool) {
      x = b.MaxPool2d(x, 2, 2, 0);
      index += 1;
      continue;
    }
    ConvOptions conv = Conv(channels, width, 3, 1, 1, ConvInit::kKaimingNormalFanOut);
    conv.bias = true;
    x = b.Conv2d(features, absl::StrCat(index), x, conv);
    x = b.Relu(b.BatchNorm2d(features, absl::StrCat(index + 1), x, width, kResNetEps));
    index += 3;
    channels = width;
  }
  x = b.Flatten(b.AdaptiveAvgPool2d(x, 7, 7));
  ModuleNode* classifier = b.AddModule(root, "classifier", "Sequential");
  x = b.Relu(b.Linear(classifier, "0", x, 512 * 7 * 7, 4096, LinearInit::kNormalStd001));
  x = b.Dropout(x, 0.5);
  x = b.Relu(b.Linear(classifier, "3", x, 4096, 4096, LinearInit::kNormalStd001));
  x = b.Dropout(x, 0.5);
  return b.Linear(classifier, "6", x, 4096, num_classes, LinearInit::kNormalStd001);
}

// ---------------------------------------------------------------------------------------
// DenseNet-121 (torchvision layout: features.denseblockN.denselayerM, transitions,
// norm5, classifier).

std::string BuildDenseNet121(NetworkBuilder& b, int num_classes) {
  constexpr int kGrowth = 32;
  constexpr int kBottleneckWidth = 4 * kGrowth;
  constexpr ConvInit kInit = ConvInit::kKaimingNormalFanIn;
  const std::vector<int> kBlocks = {6, 12, 24, 16};

  ModuleNode* root = b.root();
  ModuleNode* features = b.AddModule(root, "features", "Sequential");
  std::string x = b.Conv2d(features, "conv0", NetworkBuilder::kInput, Conv(1, 64, 7, 2, 3, kInit));
  x = b.Relu(b.BatchNorm2d(features, "norm0", x, 64, kResNetEps));
  x = b.MaxPool2d(x, 3, 2, 1);
  int channels = 64;
  for (size_t block_index = 0; block_index < kBlocks.size(); ++block_index) {
    ModuleNode* block =
        b.AddModule(features, absl::StrCat("denseblock", block_index + 1), "DenseBlock");
    std::vector<std::string> maps = {x};
    for (int i = 0; i < kBlocks[block_index]; ++i) {
      int in = channels + i * kGrowth;
      ModuleNode* layer = b.AddModule(block, absl::StrCat("denselayer", i + 1), "DenseLayer");
      std::string h = maps.size() == 1 ? maps[0] : b.Cat(maps);
      h = b.Relu(b.BatchNorm2d(layer, "norm1", h, in, kResNetEps));
      h = b.Conv2d(layer, "conv1", h, Conv(in, kBottleneckWidth, 1, 1, 0, kInit));
      h = b.Relu(b.BatchNorm2d(layer, "norm2", h, kBottleneckWidth, kResNetEps));
      h = b.Conv2d(layer, "conv2", h, Conv(kBottleneckWidth, kGrowth, 3, 1, 1, kInit));
      maps.push_back(h);
    }
    x = b.Cat(maps);
    channels += kBlocks[block_index] * kGrowth;
    if (block_index + 1 < kBlocks.size()) {
      ModuleNode* transition =
          b.AddModule(features, absl::StrCat("transition", block_index + 1), "Transition");
      x = b.Relu(b.BatchNorm2d(transition, "norm", x, channels, kResNetEps));
      x = b.Conv2d(transition, "conv", x, Conv(channels, channels / 2, 1, 1, 0, kInit));
      x = b.AvgPool2d(x, 2, 2, 0);
      channels /= 2;
    }
  }
  x = b.Relu(b.BatchNorm2d(features, "norm5", x, channels, kResNetEps));
  x = b.Flatten(b.AdaptiveAvgPool2d(x, 1, 1));
  return b.Linear(root, "classifier", x, channels, num_classes, LinearInit::kUniformZeroBias);
}

// ---------------------------------------------------------------------------------------
// Inception v3 (torchvision layout without the auxiliary classifier). Adapted to small
// inputs: the stem's unpadded 3x3 convolutions and every stride-2 convolution and
// pooling are padded by one pixel, so each stride-2 stage halves the side (rounding up)
// and a 32x32 input still reaches the last block at 1x1. Padding leaves the tensor
// shapes unchanged, so torchvision's weights still fit.

struct Kernel {
  int h;
  int w;
};

class InceptionBuilder {
 public:
  explicit InceptionBuilder(NetworkBuilder& b) : b_(b) {}

  // BasicConv2d: convolution without bias, batch norm (eps 0.001), ReLU.
  std::string Unit(ModuleNode* parent, const std::string& name, const std::string& input, int in,
                   int out, Kernel kernel, int stride = 1, Kernel pad = {0, 0}) {
    ModuleNode* unit = b_.AddModule(parent, name, "BasicConv2d");
    ConvOptions conv;
    conv.in_channels = in;
    conv.out_channels = out;
    conv.kernel_h = kernel.h;
    conv.kernel_w = kernel.w;
    conv.stride = stride;
    conv.pad_h = pad.h;
    conv.pad_w = pad.w;
    conv.init = ConvInit::kNormalStd01;
    std::string x = b_.Conv2d(unit, "conv", input, conv);
    return b_.Relu(b_.BatchNorm2d(unit, "bn", x, out, kInceptionEps));
  }

  // InceptionA: 64 + 64 + 96 + pool_features channels.
  std::string A(ModuleNode* root, const std::string& name, const std::string& x, int in,
                int pool_features) {
    ModuleNode* m = b_.AddModule(root, name, "InceptionA");
    std::string b1 = Unit(m, "branch1x1", x, in, 64, {1, 1});
    std::string b5 = Unit(m, "branch5x5_1", x, in, 48, {1, 1});
    b5 = Unit(m, "branch5x5_2", b5, 48, 64, {5, 5}, 1, {2, 2});
    std::string b3 = Unit(m, "branch3x3dbl_1", x, in, 64, {1, 1});
    b3 = Unit(m, "branch3x3dbl_2", b3, 64, 96, {3, 3}, 1, {1, 1});
    b3 = Unit(m, "branch3x3dbl_3", b3, 96, 96, {3, 3}, 1, {1, 1});
    std::string bp = Unit(m, "branch_pool", b_.AvgPool2d(x, 3, 1, 1), in, pool_features, {1, 1});
    return b_.Cat({b1, b5, b3, bp});
  }

  // InceptionB (grid reduction): 384 + 96 + in channels.
  std::string B(ModuleNode* root, const std::string& name, const std::string& x, int in) {
    ModuleNode* m = b_.AddModule(root, name, "InceptionB");
    std::string b3 = Unit(m, "branch3x3", x, in, 384, {3, 3}, 2, {1, 1});
    std::string bd = Unit(m, "branch3x3dbl_1", x, in, 64, {1, 1});
    bd = Unit(m, "branch3x3dbl_2", bd, 64, 96, {3, 3}, 1, {1, 1});
    bd = Unit(m, "branch3x3dbl_3", bd, 96, 96, {3, 3}, 2, {1, 1});
    std::string bp = b_.MaxPool2d(x, 3, 2, 1);
    return b_.Cat({b3, bd, bp});
  }

  // InceptionC (factorised 7x7): 768 channels.
  std::string C(ModuleNode* root, const std::string& name, const std::string& x, int c7) {
    constexpr int in = 768;
    ModuleNode* m = b_.AddModule(root, name, "InceptionC");
    std::string b1 = Unit(m, "branch1x1", x, in, 192, {1, 1});
    std::string b7 = Unit(m, "branch7x7_1", x, in, c7, {1, 1});
    b7 = Unit(m, "branch7x7_2", b7, c7, c7, {1, 7}, 1, {0, 3});
    b7 = Unit(m, "branch7x7_3", b7, c7, 192, {7, 1}, 1, {3, 0});
    std::string bd = Unit(m, "branch7x7dbl_1", x, in, c7, {1, 1});
    bd = Unit(m, "branch7x7dbl_2", bd, c7, c7, {7, 1}, 1, {3, 0});
    bd = Unit(m, "branch7x7dbl_3", bd, c7, c7, {1, 7}, 1, {0, 3});
    bd = Unit(m, "branch7x7dbl_4", bd, c7, c7, {7, 1}, 1, {3, 0});
    bd = Unit(m, "branch7x7dbl_5", bd, c7, 192, {1, 7}, 1, {0, 3});
    std::string bp = Unit(m, "branch_pool", b_.AvgPool2d(x, 3, 1, 1), in, 192, {1, 1});
    return b_.Cat({b1, b7, bd, bp});
  }

  // InceptionD (grid reduction): 320 + 192 + 768 = 1280 channels.
  std::string D(ModuleNode* root, const std::string& name, const std::string& x) {
    constexpr int in = 768;
    ModuleNode* m = b_.AddModule(root, name, "InceptionD");
    std::string b3 = Unit(m, "branch3x3_1", x, in, 192, {1, 1});
    b3 = Unit(m, "branch3x3_2", b3, 192, 320, {3, 3}, 2, {1, 1});
    std::string b7 = Unit(m, "branch7x7x3_1", x, in, 192, {1, 1});
    b7 = Unit(m, "branch7x7x3_2", b7, 192, 192, {1, 7}, 1, {0, 3});
    b7 = Unit(m, "branch7x7x3_3", b7, 192, 192, {7, 1}, 1, {3, 0});
    b7 = Unit(m, "branch7x7x3_4", b7, 192, 192, {3, 3}, 2, {1, 1});
    std::string bp = b_.MaxPool2d(x, 3, 2, 1);
    return b_.Cat({b3, b7, bp});
  }

  // InceptionE (expanded filter bank): 320 + 768 + 768 + 192 = 2048 channels.
  std::string E(ModuleNode* root, const std::string& name, const std::string& x, int in) {
    ModuleNode* m = b_.AddModule(root, name, "InceptionE");
    std::string b1 = Unit(m, "branch1x1", x, in, 320, {1, 1});
    std::string b3 = Unit(m, "branch3x3_1", x, in, 384, {1, 1});
    std::string b3a = Unit(m, "branch3x3_2a", b3, 384, 384, {1, 3}, 1, {0, 1});
    std::string b3b = Unit(m, "branch3x3_2b", b3, 384, 384, {3, 1}, 1, {1, 0});
    std::string bd = Unit(m, "branch3x3dbl_1", x, in, 448, {1, 1});
    bd = Unit(m, "branch3x3dbl_2", bd, 448, 384, {3, 3}, 1, {1, 1});
    std::string bda = Unit(m, "branch3x3dbl_3a", bd, 384, 384, {1, 3}, 1, {0, 1});
    std::string bdb = Unit(m, "branch3x3dbl_3b", bd, 384, 384, {3, 1}, 1, {1, 0});
    std::string bp = Unit(m, "branch_pool", b_.AvgPool2d(x, 3, 1, 1), in, 192, {1, 1});
    return b_.Cat({b1, b3a, b3b, bda, bdb, bp});
  }

 private:
  NetworkBuilder& b_;
};

std::string BuildInceptionV3(NetworkBuilder& b, int num_classes) {
  ModuleNode* root = b.root();
  InceptionBuilder inception(b);
  std::string x =
      inception.Unit(root, "Conv2d_1a_3x3", NetworkBuilder::kInput, 1, 32, {3, 3}, 2, {1, 1});
  x = inception.Unit(root, "Conv2d_2a_3x3", x, 32, 32, {3, 3}, 1, {1, 1});
  x = inception.Unit(root, "Conv2d_2b_3x3", x, 32, 64, {3, 3}, 1, {1, 1});
  x = b.MaxPool2d(x, 3, 2, 1);
  x = inception.Unit(root, "Conv2d_3b_1x1", x, 64, 80, {1, 1});
  x = inception.Unit(root, "Conv2d_4a_3x3", x, 80, 192, {3, 3}, 1, {1, 1});
  x = b.MaxPool2d(x, 3, 2, 1);
  x = inception.A(root, "Mixed_5b", x, 192, 32);
  x = inception.A(root, "Mixed_5c", x, 256, 64);
  x = inception.A(root, "Mixed_5d", x, 288, 64);
  x = inception.B(root, "Mixed_6a", x, 288);
  x = inception.C(root, "Mixed_6b", x, 128);
  x = inception.C(root, "Mixed_6c", x, 160);
  x = inception.C(root, "Mixed_6d", x, 160);
  x = inception.C(root, "Mixed_6e", x, 192);
  x = inception.D(root, "Mixed_7a", x);
  x = inception.E(root, "Mixed_7b", x, 1280);
  x = inception.E(root, "Mixed_7c", x, 2048);
  x = b.AdaptiveAvgPool2d(x, 1, 1);
  x = b.Flatten(b.Dropout(x, 0.5));
  return b.Linear(root, "fc", x, 2048, num_classes, LinearInit::kNormalStd01);
}

}  // namespace

absl::StatusOr<::torch::jit::Module> BuildModel(const ModelSpec& spec) {
  const std::string& arch = spec.architecture;
  std::string output;
  std::unique_ptr<NetworkBuilder> builder;
  auto start = [&](const char* kind) {
    builder = std::make_unique<NetworkBuilder>(kind);
    return builder.get();
  };
  // Convolution widths of each stage, each stage ending in a 2x2 max pooling.
  const std::vector<int> kVgg11 = {64,  kMaxPool,            //
                                   128, kMaxPool,            //
                                   256, 256,      kMaxPool,  //
                                   512, 512,      kMaxPool,  //
                                   512, 512,      kMaxPool};
  const std::vector<int> kVgg16 = {64,  64,  kMaxPool,            //
                                   128, 128, kMaxPool,            //
                                   256, 256, 256,      kMaxPool,  //
                                   512, 512, 512,      kMaxPool,  //
                                   512, 512, 512,      kMaxPool};
  if (arch == "resnet18") {
    output = BuildResNet(*start("ResNet"), {{2, 2, 2, 2}, false}, spec.num_classes);
  } else if (arch == "resnet34") {
    output = BuildResNet(*start("ResNet"), {{3, 4, 6, 3}, false}, spec.num_classes);
  } else if (arch == "resnet50") {
    output = BuildResNet(*start("ResNet"), {{3, 4, 6, 3}, true}, spec.num_classes);
  } else if (arch == "vgg11_bn") {
    output = BuildVgg(*start("VGG"), kVgg11, spec.num_classes);
  } else if (arch == "vgg16_bn") {
    output = BuildVgg(*start("VGG"), kVgg16, spec.num_classes);
  } else if (arch == "densenet121") {
    output = BuildDenseNet121(*start("DenseNet"), spec.num_classes);
  } else if (arch == "inception_v3") {
    output = BuildInceptionV3(*start("Inception3"), spec.num_classes);
  } else {
    return InvalidArgument("UNKNOWN_OPTION_VALUE", "architecture",
                           absl::StrCat("unknown architecture \"", arch, "\""),
                           {{"architecture", arch}});
  }
  return builder->Build(output, absl::StrCat("__torch__.ailab.", arch),
                        {{"architecture", c10::IValue(arch)},
                         {"image_size", c10::IValue(static_cast<int64_t>(spec.image_size))},
                         {"num_classes", c10::IValue(static_cast<int64_t>(spec.num_classes))}});
}

std::string ClassifierPrefix(const std::string& architecture) {
  if (architecture.rfind("vgg", 0) == 0) return "classifier.6.";
  if (architecture.rfind("densenet", 0) == 0) return "classifier.";
  return "fc.";
}

std::string FirstConvWeight(const std::string& architecture) {
  if (architecture.rfind("vgg", 0) == 0) return "features.0.weight";
  if (architecture.rfind("densenet", 0) == 0) return "features.conv0.weight";
  if (architecture == "inception_v3") return "Conv2d_1a_3x3.conv.weight";
  return "conv1.weight";
}

}  // namespace ailab::torch::internal
