// LibTorch adapter: training, TorchScript export and prediction for image
// classification models, with no LibTorch type in this header so that including it
// stays cheap. LibTorch exceptions (c10::Error and others) never leave this library:
// every call returns an absl::Status.
//
// Inputs are prepared arrays: NumPy .npy files of one-channel float32 images scaled
// to 0..1 at size x size (the ingest service's ARRAY preparation), read with
// ailab/imaging/npy.h. uint16 and uint8 arrays are accepted too and divided by 65535
// and 255. Shapes S x S, 1 x S x S and S x S x 1 are accepted.
//
// Thread safety: run one Train() at a time per process, since it seeds LibTorch's
// global generators and sets its thread count. A Predictor's Predict() is safe to call
// from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ailab::torch {

// Every option of the training form.
struct TrainingOptions {
  // resnet18, resnet34, resnet50, vgg11_bn, vgg16_bn, inception_v3, densenet121.
  std::string architecture = "resnet18";
  // Side of the square input in pixels.
  int image_size = 128;
  // Number of categories; the model outputs one score per category.
  int num_classes = 2;
  // none, flip_rotate (random flips, rotations and small scaling).
  std::string augmentation = "none";
  // random: each example once per epoch. equal: each class equally often, which needs
  // at least 10 training examples per class. positives_only (binary tasks only): each
  // epoch takes every positive (class 1) once plus as many randomly drawn negatives.
  std::string sampling = "random";
  // cross_entropy, mae, mse (on softmax probabilities against one-hot labels), focal
  // (sigmoid focal loss, alpha 0.25, gamma 2, against one-hot labels).
  std::string loss = "cross_entropy";
  // Path of a weights file to start from (empty: random initialisation): a dict of
  // torchvision parameter names to tensors, see docs/pretrained-weights.md. The first
  // convolution's RGB weights are summed to one channel; the classifier keeps its
  // random start when its class count differs.
  std::string pretrained_weights;
  int batch_size = 16;
  double learning_rate = 1e-3;
  // adam, sgd.
  std::string optimizer = "adam";
  int max_epochs = 10;
  // Epochs without improvement of `metric` before stopping (0: never stop early).
  int early_stopping_patience = 3;
  // Smallest change of `metric` that counts as an improvement.
  double min_improvement = 1e-4;
  // kappa, linear_kappa, auc, val_loss: what early stopping and model selection watch.
  std::string metric = "linear_kappa";
  // Seeds model initialisation, data order, augmentation and dropout. On the CPU the
  // same seed, options and thread count give the same model.
  uint64_t seed = 1;
  // CPU threads (0: the number of cores). LibTorch's thread count is process-wide.
  int threads = 0;
  // cpu, cuda, or auto (CUDA when present).
  std::string device = "auto";
};

// One labelled example.
struct Example {
  // Path of the .npy array.
  std::string array_path;
  // Category index in 0..num_classes-1.
  int label = 0;
  // Identifier echoed in predictions (instance name).
  std::string id;
};

// Figures of one finished epoch.
struct EpochReport {
  int epoch = 0;
  int64_t step = 0;
  double train_loss = 0;
  double val_loss = 0;
  // Value of TrainingOptions::metric on the validation set.
  double metric = 0;
  double val_kappa = 0;
  double val_linear_kappa = 0;
  double val_auc = 0;
};

// Hooks the caller (the worker) gives the trainer.
struct TrainingCallbacks {
  // Called after every epoch; returning false stops training (cancelled).
  std::function<bool(const EpochReport&)> on_epoch;
  // Polled between steps; returning true stops training within one step.
  std::function<bool()> should_stop;
  // Called with the path of the checkpoint written after each epoch.
  std::function<absl::Status(const std::string& checkpoint_path, int epoch)> on_checkpoint;
};

// Outcome of a training run.
struct TrainingResult {
  // TorchScript file of the best epoch's model, loadable by torch.jit.load.
  std::string torchscript_path;
  std::vector<EpochReport> history;
  int best_epoch = 0;
  // True when stopped by callbacks rather than by early stopping or max_epochs.
  bool stopped = false;
};

// Checks options (known names, positive sizes, sampling rules such as at least 10
// examples of each class for "equal") against the training examples, returning
// INVALID_ARGUMENT or FAILED_PRECONDITION with the counts per class.
absl::Status ValidateOptions(const TrainingOptions& options, const std::vector<Example>& train);

// Trains on `train`, selecting the best epoch on `validation`. Writes checkpoints and
// the model into `work_dir`. When `resume_checkpoint` is set, continues from it.
// Checks the options with ValidateOptions first; an empty `validation` is
// FAILED_PRECONDITION, and unreadable or wrongly sized arrays are INVALID_ARGUMENT.
//
// After every epoch the trainer overwrites `work_dir`/checkpoint.pt with the model,
// the optimiser state, the random generator states, the history and the best epoch so
// far. It then calls on_checkpoint and on_epoch, in that order. An error from
// on_checkpoint ends the run with that error.
//
// Resuming with the same options continues exactly as the uninterrupted run would
// have, bit for bit on the CPU. The checkpoint must come from the same architecture,
// image_size, num_classes and optimizer (FAILED_PRECONDITION otherwise). Other options,
// such as max_epochs, may change.
//
// At the end (max_epochs, early stopping, or a stop by the callbacks after at least
// one epoch) the best epoch's weights are exported to `work_dir`/model.pt. The module
// returns logits (N x num_classes) for N x 1 x S x S float input; Predictor applies
// softmax. It carries the attributes architecture, image_size and num_classes.
//
// Runs on CUDA device 0 when device is "cuda", or "auto" with CUDA present. While it
// runs, LibTorch's deterministic algorithms are on, and afterwards the previous
// settings are restored. On CUDA only cuDNN's deterministic mode is used, so CUDA runs
// may differ in the last bits.
absl::StatusOr<TrainingResult> Train(const TrainingOptions& options,
                                     const std::vector<Example>& train,
                                     const std::vector<Example>& validation,
                                     const std::string& work_dir,
                                     const std::optional<std::string>& resume_checkpoint,
                                     const TrainingCallbacks& callbacks);

// Keeps the memory of large tensors in glibc's heap between training steps, for a
// process whose work is training (the worker, the benchmarks). glibc otherwise maps
// allocations above an adaptive threshold and returns freed memory to the system, so
// each step faults in its activations and gradients again. Afterwards allocations up
// to 32 MiB come from the heap and up to 1 GiB of free memory stays in it, so resident
// memory stays near the training peak. docs/bench/training.md measures 6 to 12% faster
// steps. Process-wide and permanent. Returns false when glibc rejects a setting.
bool KeepTrainingMemoryInHeap();

// Device and thread settings of a Predictor.
struct PredictorOptions {
  // CPU threads (0: the number of cores). LibTorch's thread count is process-wide, so
  // the last Load() or Train() sets it.
  int threads = 0;
  // cpu, cuda, or auto (CUDA when present).
  std::string device = "auto";
};

// A loaded TorchScript model.
class Predictor {
 public:
  // Loads a TorchScript file written by Train() (or any module taking N x 1 x S x S).
  // NOT_FOUND for a missing file, INVALID_ARGUMENT for a file that is not TorchScript.
  static absl::StatusOr<std::unique_ptr<Predictor>> Load(const std::string& torchscript_path,
                                                         int threads = 0);
  static absl::StatusOr<std::unique_ptr<Predictor>> Load(const std::string& torchscript_path,
                                                         const PredictorOptions& options);
  virtual ~Predictor() = default;

  // Returns class probabilities (softmax) for each image; each image is image_size()
  // squared floats in row order.
  virtual absl::StatusOr<std::vector<std::vector<float>>> Predict(
      const std::vector<std::vector<float>>& images) = 0;

  // Input side the model expects. It is 0 when the file does not record it (a module
  // not written by Train()), and then images of any square size are passed on.
  virtual int image_size() const = 0;
  // Number of categories, or 0 when the file does not record it.
  virtual int num_classes() const = 0;
};

}  // namespace ailab::torch
