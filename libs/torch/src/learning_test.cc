// Slow (label "slow"): ResNet-18 must learn a simple synthetic two-class problem, which
// shows the training loop, losses and model selection work together.
// LibTorch first: its glog headers define CHECK, which Catch2 must override.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "ailab/imaging/npy.h"
#include "ailab/torch/trainer.h"
#include "test_data.h"

namespace ailab::torch {
namespace {

using testing::CyclingLabels;
using testing::DiscImage;
using testing::ScratchDir;
using testing::WriteDiscExamples;

TEST_CASE("Train: resnet18 separates bright from dark discs") {
  constexpr int kSize = 32;
  ScratchDir dir;
  std::vector<Example> train =
      WriteDiscExamples(dir.path(), "train", CyclingLabels(200, 2), kSize, 2, 1);
  std::vector<Example> validation =
      WriteDiscExamples(dir.path(), "validation", CyclingLabels(50, 2), kSize, 2, 2);
  REQUIRE(train.size() == 200);

  TrainingOptions options;
  options.architecture = "resnet18";
  options.image_size = kSize;
  options.batch_size = 16;
  options.learning_rate = 1e-3;
  options.max_epochs = 5;
  options.early_stopping_patience = 2;
  options.threads = 2;
  options.metric = "kappa";
  options.augmentation = "flip_rotate";
  options.device = "cpu";
  std::string work = (std::filesystem::path(dir.path()) / "work").string();
  auto result = Train(options, train, validation, work, std::nullopt, {});
  REQUIRE(result.ok());
  for (const EpochReport& report : result->history) {
    INFO("epoch " << report.epoch << " train_loss " << report.train_loss << " val_loss "
                  << report.val_loss << " kappa " << report.val_kappa << " auc " << report.val_auc);
    CHECK(std::isfinite(report.train_loss));
  }
  REQUIRE(result->best_epoch > 0);
  CHECK(result->history[result->best_epoch - 1].val_auc > 0.95);

  // Accuracy on images the run never saw.
  auto predictor = Predictor::Load(result->torchscript_path);
  REQUIRE(predictor.ok());
  std::mt19937_64 rng(99);
  std::vector<std::vector<float>> images;
  std::vector<int> labels = CyclingLabels(100, 2);
  for (int label : labels) images.push_back(DiscImage(kSize, label, 2, rng));
  auto probabilities = (*predictor)->Predict(images);
  REQUIRE(probabilities.ok());
  int correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    int predicted = (*probabilities)[i][1] > (*probabilities)[i][0] ? 1 : 0;
    correct += predicted == labels[i] ? 1 : 0;
  }
  CHECK(correct >= 90);
}

}  // namespace
}  // namespace ailab::torch
