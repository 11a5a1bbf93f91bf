// LibTorch first: its glog headers define CHECK, which Catch2 must override.
#include <torch/script.h>
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "ailab/torch/trainer.h"
#include "models.h"
#include "test_data.h"

namespace ailab::torch {
namespace {

using testing::ScratchDir;

// A freshly initialised 3-class ResNet-18 for 32x32 input saved as TorchScript.
struct SavedModel {
  SavedModel() {
    at::manual_seed(4);
    auto built = internal::BuildModel({"resnet18", 32, 3});
    REQUIRE(built.ok());
    module = *built;
    module.eval();
    path = dir.File("model.pt");
    module.save(path);
  }
  ScratchDir dir;
  ::torch::jit::Module module;
  std::string path;
};

std::vector<std::vector<float>> RandomImages(int count, int size, uint64_t seed) {
  at::manual_seed(seed);
  std::vector<std::vector<float>> images;
  for (int i = 0; i < count; ++i) {
    at::Tensor image = at::rand({size * size});
    images.emplace_back(image.data_ptr<float>(), image.data_ptr<float>() + size * size);
  }
  return images;
}

// Softmax of the module's own output, for comparison.
at::Tensor Expected(::torch::jit::Module& module, const std::vector<std::vector<float>>& images) {
  at::Tensor input = at::empty({static_cast<int64_t>(images.size()), 1, 32, 32});
  for (size_t i = 0; i < images.size(); ++i) {
    std::memcpy(input[i].data_ptr<float>(), images[i].data(), images[i].size() * sizeof(float));
  }
  at::NoGradGuard no_grad;
  return at::softmax(module.forward({input}).toTensor(), 1);
}

TEST_CASE("Predictor: returns the model's softmax probabilities") {
  SavedModel saved;
  auto predictor = Predictor::Load(saved.path, 1);
  REQUIRE(predictor.ok());
  CHECK((*predictor)->image_size() == 32);
  CHECK((*predictor)->num_classes() == 3);

  std::vector<std::vector<float>> images = RandomImages(5, 32, 9);
  auto probabilities = (*predictor)->Predict(images);
  REQUIRE(probabilities.ok());
  REQUIRE(probabilities->size() == 5);
  at::Tensor expected = Expected(saved.module, images);
  for (size_t i = 0; i < 5; ++i) {
    REQUIRE((*probabilities)[i].size() == 3);
    for (int c = 0; c < 3; ++c) {
      CHECK((*probabilities)[i][c] == Approx(expected[i][c].item<float>()).margin(1e-6));
    }
  }
  auto empty = (*predictor)->Predict({});
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("Predictor: concurrent calls give the sequential results") {
  SavedModel saved;
  auto predictor = Predictor::Load(saved.path, 1);
  REQUIRE(predictor.ok());
  std::vector<std::vector<std::vector<float>>> inputs;
  std::vector<std::vector<std::vector<float>>> sequential;
  for (int t = 0; t < 4; ++t) {
    inputs.push_back(RandomImages(3, 32, 20 + t));
    auto result = (*predictor)->Predict(inputs.back());
    REQUIRE(result.ok());
    sequential.push_back(*result);
  }

  std::vector<std::vector<std::vector<float>>> concurrent(4);
  std::vector<bool> ok(4, false);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 3; ++repeat) {
        auto result = (*predictor)->Predict(inputs[t]);
        ok[t] = result.ok();
        if (result.ok()) concurrent[t] = *result;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  for (int t = 0; t < 4; ++t) {
    CHECK(ok[t]);
    for (size_t i = 0; i < sequential[t].size(); ++i) {
      for (size_t c = 0; c < 3; ++c) {
        CHECK(concurrent[t][i][c] == Approx(sequential[t][i][c]).margin(1e-6));
      }
    }
  }
}

TEST_CASE("Predictor: rejects bad files and image sizes") {
  SavedModel saved;
  auto predictor = Predictor::Load(saved.path, 1);
  REQUIRE(predictor.ok());
  auto wrong = (*predictor)->Predict({std::vector<float>(32 * 32), std::vector<float>(64 * 64)});
  CHECK(wrong.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(wrong.status()) == "IMAGE_SIZE_MISMATCH");
  CHECK_THAT(std::string(wrong.status().message()), Catch::Contains("image 1"));

  auto missing = Predictor::Load(saved.dir.File("absent.pt"));
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);

  std::string garbage = saved.dir.File("garbage.pt");
  std::ofstream(garbage) << "not a model";
  auto invalid = Predictor::Load(garbage);
  CHECK(invalid.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(invalid.status()) == "MODEL_FILE_INVALID");

  PredictorOptions options;
  options.device = "gpu";
  CHECK(Predictor::Load(saved.path, options).status().code() == absl::StatusCode::kInvalidArgument);
}

// Python's torch.jit.load must read the exported file too. Runs when the interpreter
// named by AILAB_TEST_PYTHON (default python3) can import torch; otherwise it only
// warns, since the build machines need no Python PyTorch.
TEST_CASE("Predictor: exported file loads in Python PyTorch") {
  const char* configured = std::getenv("AILAB_TEST_PYTHON");
  std::string python = configured != nullptr ? configured : "python3";
  if (std::system(absl::StrCat(python, " -c 'import torch' > /dev/null 2>&1").c_str()) != 0) {
    WARN("skipped: " << python << " cannot import torch; set AILAB_TEST_PYTHON to one that can");
    return;
  }
  SavedModel saved;
  std::vector<std::vector<float>> images = RandomImages(2, 32, 31);
  std::string input_path = saved.dir.File("input.pt");
  {
    at::Tensor input = at::empty({2, 1, 32, 32});
    for (int i = 0; i < 2; ++i) {
      std::memcpy(input[i].data_ptr<float>(), images[i].data(), 32 * 32 * sizeof(float));
    }
    std::vector<char> bytes = ::torch::pickle_save(input);
    std::ofstream(input_path, std::ios::binary).write(bytes.data(), bytes.size());
  }
  std::string output_path = saved.dir.File("output.txt");
  std::string script =
      absl::StrCat("import torch\n", "m = torch.jit.load('", saved.path, "')\n", "m.eval()\n",
                   "x = torch.load('", input_path, "')\n", "with torch.no_grad():\n",
                   "    p = torch.softmax(m(x), 1)\n", "open('", output_path,
                   "', 'w').write(' '.join('%.8f' % v for v in p.flatten().tolist()) + ' ' + "
                   "str(m.image_size))\n");
  std::string script_path = saved.dir.File("check.py");
  std::ofstream(script_path) << script;
  REQUIRE(std::system(absl::StrCat(python, " ", script_path).c_str()) == 0);

  std::ifstream in(output_path);
  std::vector<double> python_values;
  double value;
  while (in >> value) python_values.push_back(value);
  REQUIRE(python_values.size() == 7);
  CHECK(python_values[6] == 32);
  at::Tensor expected = Expected(saved.module, images);
  for (int i = 0; i < 2; ++i) {
    for (int c = 0; c < 3; ++c) {
      CHECK(python_values[i * 3 + c] == Approx(expected[i][c].item<float>()).margin(1e-5));
    }
  }
}

}  // namespace
}  // namespace ailab::torch
