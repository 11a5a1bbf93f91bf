// Training and inference speed of the platform, for run.sh to set against Python
// PyTorch (anchor.py) on the same inputs. One mode per call:
//   write DIR TRAIN VALIDATION SIZE CLASSES
//       writes TRAIN + VALIDATION float32 .npy arrays of uniform noise with cycling
//       labels and DIR/train.txt, DIR/validation.txt ("path label" lines); content
//       does not change the speed of a step.
//   step ARCH SIZE BATCH THREADS WARMUP STEPS
//       optimiser steps (forward, cross-entropy, backward, Adam) on one fixed random
//       batch, as the trainer runs them; prints "STEP images_per_second=...".
//   epoch DIR ARCH SIZE BATCH THREADS CLASSES
//       Train() for one epoch on DIR's files: reading the arrays, building the model,
//       the training pass, batch-norm recalibration, validation and the checkpoint;
//       prints "EPOCH images_per_second=... seconds=..." (training images over the
//       time from the call to the end of the first epoch) and leaves DIR/work/model.pt.
//   predict MODEL THREADS WARMUP REQUESTS
//       one-image requests through Predictor; prints "PREDICT p50_ms=... p99_ms=...".
// LibTorch first: its glog headers define CHECK.
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "ailab/imaging/npy.h"
#include "ailab/torch/trainer.h"
#include "losses.h"
#include "models.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

int Int(const char* text) { return std::atoi(text); }

int Usage() {
  std::fprintf(stderr,
               "usage: speed_bench write DIR TRAIN VALIDATION SIZE CLASSES\n"
               "       speed_bench step ARCH SIZE BATCH THREADS WARMUP STEPS\n"
               "       speed_bench epoch DIR ARCH SIZE BATCH THREADS CLASSES\n"
               "       speed_bench predict MODEL THREADS WARMUP REQUESTS\n");
  return 2;
}

int Write(const std::string& dir, int train, int validation, int size, int classes) {
  std::filesystem::create_directories(dir);
  at::manual_seed(5);
  for (const auto& [role, count] : {std::pair<std::string, int>{"train", train},
                                    std::pair<std::string, int>{"validation", validation}}) {
    std::string list_path = dir + "/" + role + ".txt";
    FILE* list = std::fopen(list_path.c_str(), "w");
    if (list == nullptr) {
      std::fprintf(stderr, "cannot write %s\n", list_path.c_str());
      return 1;
    }
    for (int i = 0; i < count; ++i) {
      at::Tensor pixels = at::rand({size, size});
      auto array = ailab::imaging::Array::FromFloat(
          {size, size}, {pixels.data_ptr<float>(), static_cast<size_t>(size) * size});
      std::string path = dir + "/" + role + "_" + std::to_string(i) + ".npy";
      if (!array.ok() || !ailab::imaging::WriteNpy(path, *array).ok()) {
        std::fprintf(stderr, "cannot write %s\n", path.c_str());
        std::fclose(list);
        return 1;
      }
      std::fprintf(list, "%s %d\n", path.c_str(), i % classes);
    }
    std::fclose(list);
  }
  return 0;
}

int Step(const std::string& arch, int size, int batch, int threads, int warmup, int steps) {
  at::set_num_threads(threads);
  // As Train() runs on the CPU.
  at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);
  at::manual_seed(1);
  auto model = ailab::torch::internal::BuildModel({arch, size, 4});
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  model->train(true);
  std::vector<at::Tensor> parameters;
  for (const at::Tensor& p : model->parameters(/*recurse=*/true)) parameters.push_back(p);
  torch::optim::Adam optimizer(parameters, torch::optim::AdamOptions(1e-3));
  at::Tensor images = at::rand({batch, 1, size, size});
  at::Tensor labels = at::randint(0, 4, {batch}, at::kLong);
  auto one_step = [&] {
    optimizer.zero_grad();
    at::Tensor logits = model->forward({images}).toTensor();
    at::Tensor loss = ailab::torch::internal::ComputeLoss(
        ailab::torch::internal::Loss::kCrossEntropy, logits, labels);
    loss.backward();
    optimizer.step();
  };
  for (int i = 0; i < warmup; ++i) one_step();
  auto start = Clock::now();
  for (int i = 0; i < steps; ++i) one_step();
  double seconds = Seconds(start);
  std::printf("STEP images_per_second=%.3f seconds=%.3f steps=%d\n",
              static_cast<double>(steps) * batch / seconds, seconds, steps);
  return 0;
}

std::vector<ailab::torch::Example> ReadList(const std::string& path) {
  std::vector<ailab::torch::Example> examples;
  FILE* list = std::fopen(path.c_str(), "r");
  if (list == nullptr) return examples;
  char file[4096];
  int label = 0;
  while (std::fscanf(list, "%4095s %d", file, &label) == 2) {
    examples.push_back({file, label, file});
  }
  std::fclose(list);
  return examples;
}

int Epoch(const std::string& dir, const std::string& arch, int size, int batch, int threads,
          int classes) {
  std::vector<ailab::torch::Example> train = ReadList(dir + "/train.txt");
  std::vector<ailab::torch::Example> validation = ReadList(dir + "/validation.txt");
  if (train.empty() || validation.empty()) {
    std::fprintf(stderr, "no examples in %s; run the write mode first\n", dir.c_str());
    return 1;
  }
  ailab::torch::TrainingOptions options;
  options.architecture = arch;
  options.image_size = size;
  options.num_classes = classes;
  options.batch_size = batch;
  options.threads = threads;
  options.max_epochs = 1;
  options.device = "cpu";
  auto start = Clock::now();
  double seconds = 0;
  ailab::torch::TrainingCallbacks callbacks;
  callbacks.on_epoch = [&](const ailab::torch::EpochReport&) {
    seconds = Seconds(start);
    return true;
  };
  auto result = ailab::torch::Train(options, train, validation, dir + "/work", std::nullopt,
                                    callbacks);
  if (!result.ok()) {
    std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
    return 1;
  }
  std::printf("EPOCH images_per_second=%.3f seconds=%.3f images=%zu\n",
              static_cast<double>(train.size()) / seconds, seconds, train.size());
  return 0;
}

int Predict(const std::string& model_path, int threads, int warmup, int requests) {
  auto predictor = ailab::torch::Predictor::Load(model_path, threads);
  if (!predictor.ok()) {
    std::fprintf(stderr, "%s\n", predictor.status().ToString().c_str());
    return 1;
  }
  const int side = (*predictor)->image_size();
  at::manual_seed(3);
  at::Tensor pixels = at::rand({side * side});
  std::vector<std::vector<float>> image = {
      std::vector<float>(pixels.data_ptr<float>(), pixels.data_ptr<float>() + side * side)};
  for (int i = 0; i < warmup; ++i) (void)(*predictor)->Predict(image);
  std::vector<double> latencies;
  for (int i = 0; i < requests; ++i) {
    auto start = Clock::now();
    auto result = (*predictor)->Predict(image);
    latencies.push_back(Seconds(start) * 1000.0);
    if (!result.ok()) {
      std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
      return 1;
    }
  }
  std::sort(latencies.begin(), latencies.end());
  auto quantile = [&](double q) {
    size_t index = static_cast<size_t>(q * static_cast<double>(latencies.size() - 1) + 0.5);
    return latencies[std::min(index, latencies.size() - 1)];
  };
  std::printf("PREDICT p50_ms=%.3f p99_ms=%.3f requests=%d\n", quantile(0.5), quantile(0.99),
              requests);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string mode = argv[1];
  // As the worker process does before it trains.
  if ((mode == "step" || mode == "epoch") && !ailab::torch::KeepTrainingMemoryInHeap()) {
    std::fprintf(stderr, "glibc rejected the allocator settings for training\n");
  }
  if (mode == "write" && argc == 7) {
    return Write(argv[2], Int(argv[3]), Int(argv[4]), Int(argv[5]), Int(argv[6]));
  }
  if (mode == "step" && argc == 8) {
    return Step(argv[2], Int(argv[3]), Int(argv[4]), Int(argv[5]), Int(argv[6]), Int(argv[7]));
  }
  if (mode == "epoch" && argc == 8) {
    return Epoch(argv[2], argv[3], Int(argv[4]), Int(argv[5]), Int(argv[6]), Int(argv[7]));
  }
  if (mode == "predict" && argc == 6) {
    return Predict(argv[2], Int(argv[3]), Int(argv[4]), Int(argv[5]));
  }
  return Usage();
}
