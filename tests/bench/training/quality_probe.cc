// Trains a model on synthetic mammograms and scores it on a held-out test set: the
// figure behind the quality acceptance line, with every knob as a flag so that the
// settings can be explored. Prints the per-epoch history and one line
//   QUALITY linear_kappa=... kappa=... accuracy=... epochs=... seconds=...
// Flags (--name=value): count (train images), validation, test, size, epochs, lr,
// batch, arch, augmentation, patience, metric, variability, label_error, seed, threads,
// data_seed, cache (folder kept between runs; default a fresh temporary one).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "ailab/imaging/npy.h"
#include "ailab/metrics/classification.h"
#include "ailab/torch/trainer.h"
#include "synth_examples.h"

namespace {

using ailab::torch::Example;

std::map<std::string, std::string> ParseArgs(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) continue;
    size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      args[arg.substr(2)] = "1";
    } else {
      args[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
    }
  }
  return args;
}

double Number(const std::map<std::string, std::string>& args, const std::string& name,
              double fallback) {
  auto found = args.find(name);
  double value = fallback;
  if (found != args.end() && !absl::SimpleAtod(found->second, &value)) {
    std::fprintf(stderr, "flag --%s: \"%s\" is not a number\n", name.c_str(),
                 found->second.c_str());
    std::exit(2);
  }
  return value;
}

std::string Text(const std::map<std::string, std::string>& args, const std::string& name,
                 const std::string& fallback) {
  auto found = args.find(name);
  return found == args.end() ? fallback : found->second;
}

std::vector<Example> MakeSet(const std::string& dir, const std::string& prefix, int count,
                             uint64_t seed, int size, double variability, double label_error,
                             int rows, int columns) {
  // A cache folder keeps each set's labels beside its arrays, so a rerun skips drawing.
  std::string list_path = dir + "/" + prefix + "-" + std::to_string(count) + "-" +
                          std::to_string(seed) + "-" + std::to_string(size) + "-" +
                          std::to_string(rows) + ".txt";
  if (FILE* list = std::fopen(list_path.c_str(), "r")) {
    std::vector<Example> cached;
    char path[4096];
    int label = 0;
    while (std::fscanf(list, "%4095s %d", path, &label) == 2) {
      cached.push_back({path, label, std::string("synth/") + path});
    }
    std::fclose(list);
    if (static_cast<int>(cached.size()) == count) return cached;
  }
  ailab::torch::testing::SynthExampleOptions options;
  options.dir = dir;
  options.prefix = prefix;
  options.count = count;
  options.seed = seed;
  options.image_size = size;
  options.variability = variability;
  options.label_error_rate = label_error;
  options.rows = rows;
  options.columns = columns;
  auto examples = ailab::torch::testing::WriteSynthExamples(options);
  if (!examples.ok()) {
    std::fprintf(stderr, "writing %s examples failed: %s\n", prefix.c_str(),
                 examples.status().ToString().c_str());
    std::exit(1);
  }
  if (FILE* list = std::fopen(list_path.c_str(), "w")) {
    for (const Example& e : *examples) std::fprintf(list, "%s %d\n", e.array_path.c_str(), e.label);
    std::fclose(list);
  }
  return *examples;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = ParseArgs(argc, argv);
  const int count = static_cast<int>(Number(args, "count", 300));
  const int validation_count = static_cast<int>(Number(args, "validation", 100));
  const int test_count = static_cast<int>(Number(args, "test", 200));
  const int size = static_cast<int>(Number(args, "size", 128));
  const double variability = Number(args, "variability", 1.0);
  const double label_error = Number(args, "label_error", 0.0);
  const int rows = static_cast<int>(Number(args, "rows", 512));
  const int columns = static_cast<int>(Number(args, "columns", rows * 13 / 16));
  const uint64_t data_seed = static_cast<uint64_t>(Number(args, "data_seed", 11));

  std::string cache = Text(args, "cache", "");
  bool temporary = cache.empty();
  if (temporary) {
    cache = (std::filesystem::temp_directory_path() /
             ("ailab-quality-" + std::to_string(::getpid())))
                .string();
  }
  std::filesystem::create_directories(cache);

  auto start = std::chrono::steady_clock::now();
  std::vector<Example> train =
      MakeSet(cache, "train", count, data_seed, size, variability, label_error,
              rows, columns);
  std::vector<Example> validation =
      MakeSet(cache, "validation", validation_count, data_seed + 1, size, variability, label_error,
              rows, columns);
  std::vector<Example> test = MakeSet(cache, "test", test_count, data_seed + 2, size, variability, 0, rows,
                                     columns);
  double generate_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("generated %d+%d+%d images in %.1f s\n", count, validation_count, test_count,
              generate_seconds);

  ailab::torch::TrainingOptions options;
  options.architecture = Text(args, "arch", "resnet18");
  options.image_size = size;
  options.num_classes = 4;
  options.batch_size = static_cast<int>(Number(args, "batch", 16));
  options.learning_rate = Number(args, "lr", 1e-3);
  options.optimizer = Text(args, "optimizer", "adam");
  options.max_epochs = static_cast<int>(Number(args, "epochs", 6));
  options.early_stopping_patience = static_cast<int>(Number(args, "patience", 3));
  options.metric = Text(args, "metric", "linear_kappa");
  options.augmentation = Text(args, "augmentation", "none");
  options.sampling = Text(args, "sampling", "random");
  options.loss = Text(args, "loss", "cross_entropy");
  options.seed = static_cast<uint64_t>(Number(args, "seed", 1));
  options.threads = static_cast<int>(Number(args, "threads", 0));
  options.device = "cpu";

  std::string work = cache + "/work";
  start = std::chrono::steady_clock::now();
  auto result = ailab::torch::Train(options, train, validation, work, std::nullopt, {});
  double train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) {
    std::fprintf(stderr, "training failed: %s\n", result.status().ToString().c_str());
    return 1;
  }
  for (const auto& r : result->history) {
    std::printf("epoch %d train_loss %.4f val_loss %.4f val_kappa %.3f val_linear_kappa %.3f\n",
                r.epoch, r.train_loss, r.val_loss, r.val_kappa, r.val_linear_kappa);
  }

  auto predictor = ailab::torch::Predictor::Load(result->torchscript_path, options.threads);
  if (!predictor.ok()) {
    std::fprintf(stderr, "loading the model failed: %s\n", predictor.status().ToString().c_str());
    return 1;
  }
  std::vector<std::vector<float>> images;
  std::vector<int> truth;
  for (const Example& e : test) {
    auto array = ailab::imaging::ReadNpy(e.array_path);
    images.push_back(*array->AsFloat());
    truth.push_back(e.label);
  }
  auto probabilities = (*predictor)->Predict(images);
  if (!probabilities.ok()) {
    std::fprintf(stderr, "prediction failed: %s\n", probabilities.status().ToString().c_str());
    return 1;
  }
  std::vector<int> predicted;
  for (const auto& p : *probabilities) {
    predicted.push_back(static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin()));
  }
  auto confusion = ailab::metrics::Confusion(truth, predicted, 4);
  double linear = ailab::metrics::CohenKappa(*confusion, ailab::metrics::Weighting::kLinear);
  double kappa = ailab::metrics::CohenKappa(*confusion, ailab::metrics::Weighting::kNone);
  double accuracy = ailab::metrics::Accuracy(*confusion);
  std::printf("QUALITY linear_kappa=%.4f kappa=%.4f accuracy=%.4f epochs=%zu best_epoch=%d "
              "seconds=%.1f\n",
              linear, kappa, accuracy, result->history.size(), result->best_epoch, train_seconds);
  if (temporary) std::filesystem::remove_all(cache);
  return 0;
}
