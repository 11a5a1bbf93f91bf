// LibTorch first: its glog headers define CHECK, which Catch2 must override.
#include "ailab/torch/trainer.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <malloc.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "ailab/imaging/npy.h"
#include "ailab/status/status.h"
#include "test_data.h"

namespace ailab::torch {
namespace {

using testing::CyclingLabels;
using testing::ScratchDir;
using testing::WriteDiscExamples;

// Synthetic disc images in a scratch directory.
struct Dataset {
  Dataset(int train_count, int validation_count, int num_classes = 2, int size = 32) {
    train = WriteDiscExamples(dir.path(), "train", CyclingLabels(train_count, num_classes), size,
                              num_classes, 1);
    validation =
        WriteDiscExamples(dir.path(), "validation", CyclingLabels(validation_count, num_classes),
                          size, num_classes, 2);
  }
  ScratchDir dir;
  std::vector<Example> train;
  std::vector<Example> validation;
};

// One epoch of two steps of ResNet-18 on 32x32 images.
TrainingOptions FastOptions() {
  TrainingOptions options;
  options.architecture = "resnet18";
  options.image_size = 32;
  options.batch_size = 4;
  options.max_epochs = 1;
  options.early_stopping_patience = 0;
  options.threads = 1;
  options.device = "cpu";
  return options;
}

std::map<std::string, at::Tensor> CheckpointWeights(const std::string& path) {
  ::torch::serialize::InputArchive archive;
  archive.load_from(path);
  c10::IValue value;
  archive.read("model", value);
  std::map<std::string, at::Tensor> weights;
  for (const auto& entry : value.toGenericDict()) {
    weights[entry.key().toStringRef()] = entry.value().toTensor();
  }
  return weights;
}

// Names of the tensors that differ between two weight maps.
std::vector<std::string> Differences(const std::map<std::string, at::Tensor>& a,
                                     const std::map<std::string, at::Tensor>& b) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : a) {
    auto found = b.find(name);
    if (found == b.end() || !at::equal(tensor, found->second)) names.push_back(name);
  }
  if (a.size() != b.size()) names.push_back("(tensor count)");
  return names;
}

std::string WorkDir(const Dataset& data, const std::string& name) {
  return (std::filesystem::path(data.dir.path()) / name).string();
}

// Checks that the exported file loads and predicts probabilities.
void CheckExportedModel(const TrainingResult& result, int num_classes) {
  REQUIRE_FALSE(result.torchscript_path.empty());
  auto predictor = Predictor::Load(result.torchscript_path, 1);
  REQUIRE(predictor.ok());
  CHECK((*predictor)->image_size() == 32);
  CHECK((*predictor)->num_classes() == num_classes);
  auto probabilities = (*predictor)->Predict({std::vector<float>(32 * 32, 0.5f)});
  REQUIRE(probabilities.ok());
  REQUIRE(probabilities->size() == 1);
  REQUIRE((*probabilities)[0].size() == static_cast<size_t>(num_classes));
  double sum = 0;
  for (float p : (*probabilities)[0]) sum += p;
  CHECK(sum == Approx(1.0).epsilon(1e-5));
}

TEST_CASE("Train: each loss trains one epoch and exports") {
  std::string loss = GENERATE("cross_entropy", "mae", "mse", "focal");
  INFO(loss);
  Dataset data(8, 4);
  TrainingOptions options = FastOptions();
  options.loss = loss;
  auto result =
      Train(options, data.train, data.validation, WorkDir(data, "work"), std::nullopt, {});
  REQUIRE(result.ok());
  REQUIRE(result->history.size() == 1);
  const EpochReport& report = result->history[0];
  CHECK(report.epoch == 1);
  CHECK(report.step == 2);
  CHECK(std::isfinite(report.train_loss));
  CHECK(std::isfinite(report.val_loss));
  CHECK(std::isfinite(report.val_auc));
  CHECK(report.metric == report.val_linear_kappa);
  CHECK(result->best_epoch == 1);
  CHECK_FALSE(result->stopped);
  CheckExportedModel(*result, 2);
  CHECK(at::get_num_threads() == 1);
}

TEST_CASE("Train: sampling modes and augmentation train") {
  Dataset data(20, 4);
  TrainingOptions options = FastOptions();
  SECTION("equal") {
    options.sampling = "equal";
    auto result =
        Train(options, data.train, data.validation, WorkDir(data, "equal"), std::nullopt, {});
    REQUIRE(result.ok());
    CHECK(result->history[0].step == 5);
  }
  SECTION("positives_only") {
    // 10 positives and 10 negatives: every positive and an equal number of negatives.
    options.sampling = "positives_only";
    auto result =
        Train(options, data.train, data.validation, WorkDir(data, "positives"), std::nullopt, {});
    REQUIRE(result.ok());
    CHECK(result->history[0].step == 5);
  }
  SECTION("flip_rotate with sgd") {
    options.augmentation = "flip_rotate";
    options.optimizer = "sgd";
    auto result =
        Train(options, data.train, data.validation, WorkDir(data, "augment"), std::nullopt, {});
    REQUIRE(result.ok());
    CHECK(std::isfinite(result->history[0].train_loss));
    CheckExportedModel(*result, 2);
  }
  SECTION("equal sampling rejects a small class") {
    std::vector<Example> train = data.train;
    train.resize(17);  // 9 examples of class 0 and 8 of class 1
    options.sampling = "equal";
    auto result =
        Train(options, train, data.validation, WorkDir(data, "rejected"), std::nullopt, {});
    CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(std::string(result.status().message()), Catch::Contains("class 0: 9, class 1: 8"));
  }
}

TEST_CASE("Train: batch norm statistics match the training set") {
  Dataset data(64, 16);
  TrainingOptions options = FastOptions();
  options.batch_size = 16;
  auto result = Train(options, data.train, data.validation, WorkDir(data, "work"), std::nullopt, {});
  REQUIRE(result.ok());

  // The stem's input statistics over all training images, from the exported weights.
  ::torch::jit::Module model = ::torch::jit::load(result->torchscript_path);
  at::Tensor images = at::empty({64, 1, 32, 32});
  for (int i = 0; i < 64; ++i) {
    auto array = imaging::ReadNpy(data.train[i].array_path);
    REQUIRE(array.ok());
    auto pixels = array->AsFloat();
    REQUIRE(pixels.ok());
    std::memcpy(images[i].data_ptr<float>(), pixels->data(), 32 * 32 * sizeof(float));
  }
  at::NoGradGuard no_grad;
  at::Tensor features =
      at::conv2d(images, model.attr("conv1").toModule().attr("weight").toTensor(), {}, 2, 3);
  at::Tensor mean = features.mean({0, 2, 3});
  at::Tensor variance = features.var({0, 2, 3});
  ::torch::jit::Module bn1 = model.attr("bn1").toModule();
  at::Tensor running_mean = bn1.attr("running_mean").toTensor();
  at::Tensor running_var = bn1.attr("running_var").toTensor();

  // Four equal batches: the mean of their means is the overall mean. Their variances
  // leave out the spread between batch means, so they may be a little smaller.
  CHECK(at::allclose(running_mean, mean, /*rtol=*/1e-3, /*atol=*/1e-5));
  at::Tensor ratio = running_var / variance;
  INFO("running_var / variance from " << ratio.min().item<float>() << " to "
                                      << ratio.max().item<float>());
  CHECK(ratio.min().item<float>() > 0.8f);
  CHECK(ratio.max().item<float>() < 1.1f);
}

TEST_CASE("Train: three classes with the auc metric") {
  Dataset data(12, 6, 3);
  TrainingOptions options = FastOptions();
  options.num_classes = 3;
  options.metric = "auc";
  auto result =
      Train(options, data.train, data.validation, WorkDir(data, "work"), std::nullopt, {});
  REQUIRE(result.ok());
  CHECK(std::isfinite(result->history[0].val_auc));
  CHECK(result->history[0].metric == result->history[0].val_auc);
  CheckExportedModel(*result, 3);
}

TEST_CASE("Train: same seed gives identical models") {
  Dataset data(8, 4);
  TrainingOptions options = FastOptions();
  options.max_epochs = 2;
  options.augmentation = "flip_rotate";
  auto first = Train(options, data.train, data.validation, WorkDir(data, "a"), std::nullopt, {});
  auto second = Train(options, data.train, data.validation, WorkDir(data, "b"), std::nullopt, {});
  options.seed = 2;
  auto other = Train(options, data.train, data.validation, WorkDir(data, "c"), std::nullopt, {});
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(other.ok());
  auto a = CheckpointWeights(WorkDir(data, "a") + "/checkpoint.pt");
  auto b = CheckpointWeights(WorkDir(data, "b") + "/checkpoint.pt");
  auto c = CheckpointWeights(WorkDir(data, "c") + "/checkpoint.pt");
  CHECK(Differences(a, b).empty());
  CHECK_FALSE(Differences(a, c).empty());
  CHECK(first->history[1].train_loss == second->history[1].train_loss);
}

TEST_CASE("Train: resuming a checkpoint continues the same run") {
  Dataset data(8, 4);
  TrainingOptions options = FastOptions();
  options.max_epochs = 2;
  options.augmentation = "flip_rotate";
  auto straight =
      Train(options, data.train, data.validation, WorkDir(data, "straight"), std::nullopt, {});
  REQUIRE(straight.ok());

  options.max_epochs = 1;
  std::string work = WorkDir(data, "resumed");
  auto part = Train(options, data.train, data.validation, work, std::nullopt, {});
  REQUIRE(part.ok());
  std::string saved = work + "/epoch1.pt";
  std::filesystem::copy_file(work + "/checkpoint.pt", saved);

  options.max_epochs = 2;
  std::vector<int> checkpoint_epochs;
  TrainingCallbacks callbacks;
  callbacks.on_checkpoint = [&](const std::string& path, int epoch) {
    CHECK(std::filesystem::exists(path));
    checkpoint_epochs.push_back(epoch);
    return absl::OkStatus();
  };
  auto resumed = Train(options, data.train, data.validation, work, saved, callbacks);
  REQUIRE(resumed.ok());
  CHECK(checkpoint_epochs == std::vector<int>{2});
  REQUIRE(resumed->history.size() == 2);
  CHECK(resumed->history[0].train_loss == straight->history[0].train_loss);
  CHECK(resumed->history[1].train_loss == straight->history[1].train_loss);
  CHECK(resumed->history[1].step == 4);
  CHECK(resumed->best_epoch == straight->best_epoch);
  CHECK(Differences(CheckpointWeights(work + "/checkpoint.pt"),
                    CheckpointWeights(WorkDir(data, "straight") + "/checkpoint.pt"))
            .empty());
}

TEST_CASE("Train: resume rejects a foreign or missing checkpoint") {
  Dataset data(8, 4);
  TrainingOptions options = FastOptions();
  std::string work = WorkDir(data, "w");
  REQUIRE(Train(options, data.train, data.validation, work, std::nullopt, {}).ok());
  std::string checkpoint = work + "/checkpoint.pt";

  options.max_epochs = 2;
  options.architecture = "resnet34";
  auto mismatch = Train(options, data.train, data.validation, work, checkpoint, {});
  CHECK(mismatch.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(GetErrorReason(mismatch.status()) == "CHECKPOINT_MISMATCH");

  options.architecture = "resnet18";
  auto missing = Train(options, data.train, data.validation, work, work + "/absent.pt", {});
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);

  std::string garbage = work + "/garbage.pt";
  std::ofstream(garbage) << "not a checkpoint";
  auto unreadable = Train(options, data.train, data.validation, work, garbage, {});
  CHECK(unreadable.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(unreadable.status()) == "CHECKPOINT_UNREADABLE");
}

TEST_CASE("Train: callbacks stop the run") {
  Dataset data(8, 4);
  TrainingOptions options = FastOptions();
  options.max_epochs = 3;

  SECTION("on_epoch returning false stops after that epoch") {
    TrainingCallbacks callbacks;
    std::vector<int> epochs;
    callbacks.on_epoch = [&](const EpochReport& report) {
      epochs.push_back(report.epoch);
      return false;
    };
    auto result =
        Train(options, data.train, data.validation, WorkDir(data, "w"), std::nullopt, callbacks);
    REQUIRE(result.ok());
    CHECK(result->stopped);
    CHECK(epochs == std::vector<int>{1});
    CHECK(result->history.size() == 1);
    CHECK(std::filesystem::exists(result->torchscript_path));
  }
  SECTION("should_stop stops within the first epoch") {
    TrainingCallbacks callbacks;
    int polls = 0;
    callbacks.should_stop = [&] { return ++polls >= 2; };
    auto result =
        Train(options, data.train, data.validation, WorkDir(data, "w"), std::nullopt, callbacks);
    REQUIRE(result.ok());
    CHECK(result->stopped);
    CHECK(polls == 2);
    CHECK(result->history.empty());
    CHECK(result->torchscript_path.empty());
  }
  SECTION("an on_checkpoint error fails the run") {
    TrainingCallbacks callbacks;
    callbacks.on_checkpoint = [](const std::string&, int) {
      return absl::UnavailableError("blob store down");
    };
    auto result =
        Train(options, data.train, data.validation, WorkDir(data, "w"), std::nullopt, callbacks);
    CHECK(result.status().code() == absl::StatusCode::kUnavailable);
  }
}

TEST_CASE("Train: early stopping ends the run without improvement") {
  Dataset data(8, 4);
  TrainingOptions options = FastOptions();
  options.max_epochs = 4;
  options.metric = "val_loss";
  options.early_stopping_patience = 1;
  options.min_improvement = 1e9;  // no later epoch can improve on the first
  auto result = Train(options, data.train, data.validation, WorkDir(data, "w"), std::nullopt, {});
  REQUIRE(result.ok());
  CHECK(result->history.size() == 2);
  CHECK(result->best_epoch == 1);
  CHECK_FALSE(result->stopped);
  CHECK(result->history[0].metric == result->history[0].val_loss);
}

TEST_CASE("Train: pretrained weights are the starting point") {
  Dataset data(8, 4);
  // A TorchScript file from an earlier 2-class run serves as the weights file.
  TrainingOptions options = FastOptions();
  auto source =
      Train(options, data.train, data.validation, WorkDir(data, "source"), std::nullopt, {});
  REQUIRE(source.ok());

  options.pretrained_weights = source->torchscript_path;
  options.optimizer = "sgd";
  options.learning_rate = 1e-9;  // the weights barely move in two steps
  auto result =
      Train(options, data.train, data.validation, WorkDir(data, "tuned"), std::nullopt, {});
  REQUIRE(result.ok());
  ::torch::jit::Module before = ::torch::jit::load(source->torchscript_path);
  ::torch::jit::Module after = ::torch::jit::load(result->torchscript_path);
  at::Tensor a = before.attr("layer3")
                     .toModule()
                     .attr("1")
                     .toModule()
                     .attr("conv2")
                     .toModule()
                     .attr("weight")
                     .toTensor();
  at::Tensor b = after.attr("layer3")
                     .toModule()
                     .attr("1")
                     .toModule()
                     .attr("conv2")
                     .toModule()
                     .attr("weight")
                     .toTensor();
  CHECK(at::allclose(a, b, 0, 1e-6));
}

TEST_CASE("Train: bad inputs are rejected") {
  Dataset data(8, 4);
  TrainingOptions options = FastOptions();
  auto no_validation = Train(options, data.train, {}, WorkDir(data, "w"), std::nullopt, {});
  CHECK(no_validation.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(GetErrorReason(no_validation.status()) == "VALIDATION_SET_EMPTY");

  std::vector<Example> validation = data.validation;
  validation[1].label = 5;
  auto bad_label = Train(options, data.train, validation, WorkDir(data, "w"), std::nullopt, {});
  CHECK(bad_label.status().code() == absl::StatusCode::kInvalidArgument);

  options.image_size = 64;  // the arrays are 32x32
  auto wrong_size =
      Train(options, data.train, data.validation, WorkDir(data, "w"), std::nullopt, {});
  CHECK(GetErrorReason(wrong_size.status()) == "ARRAY_SHAPE_MISMATCH");
}

TEST_CASE("KeepTrainingMemoryInHeap: large tensors stay in heap") {
  REQUIRE(KeepTrainingMemoryInHeap());
  // 30 MiB, more than glibc's adaptive threshold reaches in these tests and below the
  // 32 MiB ceiling, stays out of glibc's mappings (hblkhd) and comes from the heap.
  constexpr size_t kBytes = 30u << 20;
  struct mallinfo2 before = mallinfo2();
  void* volatile block = std::malloc(kBytes);
  REQUIRE(block != nullptr);
  std::memset(block, 1, kBytes);
  struct mallinfo2 during = mallinfo2();
  std::free(block);
  CHECK(during.hblkhd == before.hblkhd);
  CHECK(during.arena >= before.arena);
  CHECK(during.uordblks >= before.uordblks + kBytes);
  // Freed, it stays in the heap for the next step instead of going back to the system.
  struct mallinfo2 after = mallinfo2();
  CHECK(after.arena == during.arena);
}

}  // namespace
}  // namespace ailab::torch
