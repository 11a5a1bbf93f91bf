// Train(): the epoch loop around the model, data, loss and checkpoint pieces.
#include "ailab/torch/trainer.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <malloc.h>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/log/log.h"
#include "ailab/metrics/classification.h"
#include "ailab/status/status.h"
#include "checkpoint.h"
#include "data.h"
#include "errors.h"
#include "losses.h"
#include "models.h"
#include "network_builder.h"
#include "options.h"
#include "weights.h"

namespace ailab::torch {
namespace {

using internal::DeviceChoice;
using internal::ParsedOptions;
using internal::TensorMap;
using internal::TrainingState;

constexpr const char* kCheckpointFile = "checkpoint.pt";
constexpr const char* kModelFile = "model.pt";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Maximum number of training images whose batch statistics replace the batch
// normalisation running statistics after each epoch. In the quality test, 128 gave the
// validation losses of 512 at a quarter of the cost, while 64 began to drift.
constexpr int64_t kMaxRecalibrationImages = 128;

// The parts of the options that fix the tensors a checkpoint holds.
std::string Fingerprint(const TrainingOptions& options) {
  return absl::StrCat(options.architecture, " at ", options.image_size, "x", options.image_size,
                      " with ", options.num_classes, " classes and the ", options.optimizer,
                      " optimiser");
}

// NOTE: the CUDA paths (device choice, batch copies, generator state in checkpoints)
// have only run where LibTorch was built without CUDA, so only the CPU path is tested.
c10::Device ChooseDevice(DeviceChoice choice) {
  bool cuda = choice == DeviceChoice::kCuda ||
              (choice == DeviceChoice::kAuto && ::torch::cuda::is_available());
  return cuda ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
}

int ThreadCount(int requested) {
  if (requested > 0) return requested;
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

// Makes the run repeatable while it lives and restores the previous process-wide
// settings afterwards. On the CPU it turns on LibTorch's deterministic algorithms. On
// CUDA it only selects cuDNN's deterministic kernels: with the global switch, LibTorch
// 1.13 warns on every step about backward passes that lack a deterministic CUDA kernel
// (adaptive average pooling). CUDA runs may therefore differ in the last bits.
class DeterminismScope {
 public:
  explicit DeterminismScope(c10::Device device)
      : algorithms_(at::globalContext().deterministicAlgorithms()),
        warn_only_(at::globalContext().deterministicAlgorithmsWarnOnly()),
        cudnn_deterministic_(at::globalContext().deterministicCuDNN()),
        cudnn_benchmark_(at::globalContext().benchmarkCuDNN()) {
    if (!device.is_cuda()) {
      // warn_only: an op without a deterministic kernel warns instead of failing.
      at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/true);
    }
    at::globalContext().setDeterministicCuDNN(true);
    at::globalContext().setBenchmarkCuDNN(false);
  }
  ~DeterminismScope() {
    at::globalContext().setDeterministicAlgorithms(algorithms_, warn_only_);
    at::globalContext().setDeterministicCuDNN(cudnn_deterministic_);
    at::globalContext().setBenchmarkCuDNN(cudnn_benchmark_);
  }

 private:
  bool algorithms_;
  bool warn_only_;
  bool cudnn_deterministic_;
  bool cudnn_benchmark_;
};

// Figures of one pass over the validation set.
struct Evaluation {
  double loss = kNaN;
  double kappa = kNaN;
  double linear_kappa = kNaN;
  double auc = kNaN;
};

class TrainingRun {
 public:
  TrainingRun(const TrainingOptions& options, const ParsedOptions& parsed,
              const TrainingCallbacks& callbacks, std::string work_dir)
      : options_(options),
        parsed_(parsed),
        callbacks_(callbacks),
        work_dir_(std::move(work_dir)),
        device_(ChooseDevice(parsed.device)),
        random_(options.seed),
        logger_(log::Logger("trainer")) {}

  absl::Status Prepare(const std::vector<Example>& train, const std::vector<Example>& validation,
                       const std::optional<std::string>& resume_checkpoint);
  absl::StatusOr<TrainingResult> Run();

 private:
  bool ShouldStop() const { return callbacks_.should_stop && callbacks_.should_stop(); }

  // Copies examples `indices` of `set` into the batch buffers and returns the batch
  // (images, labels) on the training device.
  std::pair<at::Tensor, at::Tensor> Gather(const internal::ImageSet& set, const int64_t* indices,
                                           int64_t count);

  // One epoch of optimiser steps; the mean training loss, or nullopt when stopped.
  absl::StatusOr<std::optional<double>> TrainEpoch();
  // Sets the running statistics of every batch normalisation layer to their mean over
  // training batches. Returns false when stopped, and the statistics stay unchanged.
  bool RecalibrateBatchNorm();
  // One pass over the validation set; nullopt when stopped.
  std::optional<Evaluation> Validate();
  double MetricValue(const Evaluation& evaluation) const;
  bool Improves(double value) const;
  absl::StatusOr<std::string> Export();

  const TrainingOptions& options_;
  ParsedOptions parsed_;
  const TrainingCallbacks& callbacks_;
  std::string work_dir_;
  c10::Device device_;
  internal::Random random_;
  std::shared_ptr<spdlog::logger> logger_;

  internal::ImageSet train_;
  internal::ImageSet validation_;
  std::unique_ptr<internal::EpochSampler> sampler_;
  ::torch::jit::Module model_;
  std::unique_ptr<::torch::optim::Optimizer> optimizer_;
  TrainingState state_;
  TensorMap best_weights_;

  // Reused batch buffers: CPU gather target and, on CUDA, its device copy.
  at::Tensor batch_images_;
  at::Tensor batch_labels_;
  at::Tensor device_images_;
  at::Tensor device_labels_;
};

absl::Status TrainingRun::Prepare(const std::vector<Example>& train,
                                  const std::vector<Example>& validation,
                                  const std::optional<std::string>& resume_checkpoint) {
  AILAB_ASSIGN_OR_RETURN(train_, internal::LoadImageSet(train, options_.image_size, "train"));
  AILAB_ASSIGN_OR_RETURN(validation_,
                         internal::LoadImageSet(validation, options_.image_size, "validation"));
  sampler_ = std::make_unique<internal::EpochSampler>(parsed_.sampling, train_.label_values,
                                                      options_.num_classes);

  // Model initialisation and dropout draw from LibTorch's default generators.
  at::manual_seed(options_.seed);
  AILAB_ASSIGN_OR_RETURN(model_, internal::BuildModel({options_.architecture, options_.image_size,
                                                       options_.num_classes}));
  if (!options_.pretrained_weights.empty() && !resume_checkpoint) {
    AILAB_ASSIGN_OR_RETURN(internal::WeightsReport report,
                           internal::LoadPretrainedWeights(model_, options_.architecture,
                                                           options_.pretrained_weights));
    logger_->info(
        "pretrained weights loaded tensors={} classifier_skipped={} first_conv_summed={} "
        "unused={}",
        report.loaded, report.classifier_skipped, report.first_conv_summed, report.unused);
  }
  model_.to(device_);
  model_.train(true);

  std::vector<at::Tensor> parameters;
  for (const at::Tensor& parameter : model_.parameters(/*recurse=*/true)) {
    parameters.push_back(parameter);
  }
  if (parsed_.optimizer == internal::Optimizer::kAdam) {
    optimizer_ = std::make_unique<::torch::optim::Adam>(
        parameters, ::torch::optim::AdamOptions(options_.learning_rate));
  } else {
    optimizer_ = std::make_unique<::torch::optim::SGD>(
        parameters, ::torch::optim::SGDOptions(options_.learning_rate).momentum(0.9));
  }

  if (resume_checkpoint) {
    AILAB_RETURN_IF_ERROR(internal::ReadCheckpoint(*resume_checkpoint, Fingerprint(options_),
                                                   device_, &state_, model_, *optimizer_,
                                                   &best_weights_));
    if (!random_.Restore(state_.data_random)) {
      return InvalidArgument("CHECKPOINT_UNREADABLE", "resume_checkpoint",
                             absl::StrCat("checkpoint \"", *resume_checkpoint,
                                          "\" has a malformed data generator state; start the "
                                          "job again without it"),
                             {{"checkpoint", *resume_checkpoint}});
    }
    if (best_weights_.empty()) best_weights_ = internal::CopyWeights(model_);
    logger_->info("resumed checkpoint epoch={} step={} best_epoch={}", state_.epoch, state_.step,
                  state_.best_epoch);
  }

  const int64_t batch = options_.batch_size;
  batch_images_ = at::empty({batch, 1, options_.image_size, options_.image_size}, at::kFloat);
  batch_labels_ = at::empty({batch}, at::kLong);
  if (device_.is_cuda()) {
    device_images_ = at::empty_like(batch_images_, batch_images_.options().device(device_));
    device_labels_ = at::empty_like(batch_labels_, batch_labels_.options().device(device_));
  }
  return absl::OkStatus();
}

std::pair<at::Tensor, at::Tensor> TrainingRun::Gather(const internal::ImageSet& set,
                                                      const int64_t* indices, int64_t count) {
  at::Tensor index = at::from_blob(const_cast<int64_t*>(indices), {count}, at::kLong);
  at::Tensor images = batch_images_.narrow(0, 0, count);
  at::Tensor labels = batch_labels_.narrow(0, 0, count);
  at::index_select_out(images, set.images, 0, index);
  at::index_select_out(labels, set.labels, 0, index);
  if (!device_.is_cuda()) return {images, labels};
  at::Tensor device_images = device_images_.narrow(0, 0, count);
  at::Tensor device_labels = device_labels_.narrow(0, 0, count);
  device_images.copy_(images);
  device_labels.copy_(labels);
  return {device_images, device_labels};
}

absl::StatusOr<std::optional<double>> TrainingRun::TrainEpoch() {
  std::vector<int64_t> order = sampler_->NextEpoch(random_);
  const int64_t total = static_cast<int64_t>(order.size());
  const int64_t batch = options_.batch_size;
  at::Tensor loss_sum = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device_));
  int64_t seen = 0;
  model_.train(true);
  for (int64_t start = 0; start < total; start += batch) {
    int64_t count = std::min(batch, total - start);
    // Batch normalisation cannot train on a single example; such a last batch is left out.
    if (count < 2) break;
    if (ShouldStop()) return std::optional<double>();

    auto [images, labels] = Gather(train_, order.data() + start, count);
    if (parsed_.augmentation == internal::Augmentation::kFlipRotate) {
      images = internal::Augment(images, random_);
    }
    optimizer_->zero_grad();
    at::Tensor logits = model_.forward({images}).toTensor();
    at::Tensor loss = internal::ComputeLoss(parsed_.loss, logits, labels);
    loss.backward();
    optimizer_->step();

    loss_sum.add_(loss.detach(), static_cast<double>(count));
    seen += count;
    ++state_.step;
  }
  double mean = seen > 0 ? loss_sum.item<double>() / static_cast<double>(seen) : kNaN;
  if (!std::isfinite(mean)) {
    return FailedPrecondition(
        "TRAINING_DIVERGED",
        absl::StrCat("the training loss became ", mean, " in epoch ", state_.epoch + 1,
                     "; lower the learning rate (now ", options_.learning_rate, ")"),
        {{"epoch", absl::StrCat(state_.epoch + 1)},
         {"learning_rate", absl::StrCat(options_.learning_rate)}});
  }
  return std::optional<double>(mean);
}

// With momentum 0.1, the running statistics keep 0.9^n of their start values (mean 0,
// variance 1) after n steps, and they trail the weights, which change fast early on.
// A few hundred images give 10 to 25 steps per epoch. After such an epoch the stem's
// running variance was still 0.29 while its batches had about 0.006, so in evaluation
// mode the model predicted one class for every validation image. Averaging each
// layer's batch statistics over a fixed share of the training set, with the current
// weights, makes evaluation mode see what training mode saw. Reusing the statistics of
// the epoch's own steps costs nothing, but those come from weights that changed after
// each step, and the quality test's validation loss then jumped between 1.0 and 3.4.
bool TrainingRun::RecalibrateBatchNorm() {
  std::vector<at::Tensor> statistics;
  for (const auto& item : model_.named_buffers(/*recurse=*/true)) {
    if (absl::EndsWith(item.name, "running_mean") || absl::EndsWith(item.name, "running_var")) {
      statistics.push_back(item.value);
    }
  }
  if (statistics.empty()) return true;
  const int64_t total = train_.images.size(0);
  const int64_t used = std::min(total, kMaxRecalibrationImages);
  const int64_t batch = options_.batch_size;
  // Evenly spread over the training set, the same images every epoch.
  std::vector<int64_t> indices(static_cast<size_t>(used));
  for (int64_t i = 0; i < used; ++i) indices[i] = i * total / used;

  at::NoGradGuard no_grad;
  std::vector<at::Tensor> previous;
  std::vector<at::Tensor> sums;
  for (const at::Tensor& tensor : statistics) {
    previous.push_back(tensor.clone());
    sums.push_back(at::zeros_like(tensor));
  }
  auto restore = [&] {
    for (size_t i = 0; i < statistics.size(); ++i) statistics[i].copy_(previous[i]);
  };
  model_.train(true);
  int64_t batches = 0;
  for (int64_t start = 0; start < used; start += batch) {
    int64_t count = std::min(batch, used - start);
    if (count < 2) break;
    if (ShouldStop()) {
      restore();
      return false;
    }
    // From zero, one update leaves momentum times the batch statistic.
    for (at::Tensor& tensor : statistics) tensor.zero_();
    auto [images, labels] = Gather(train_, indices.data() + start, count);
    model_.forward({images});
    for (size_t i = 0; i < statistics.size(); ++i) sums[i].add_(statistics[i]);
    ++batches;
  }
  if (batches == 0) {
    restore();
    return true;
  }
  const double scale = 1.0 / (internal::kBatchNormMomentum * static_cast<double>(batches));
  for (size_t i = 0; i < statistics.size(); ++i) statistics[i].copy_(sums[i].mul(scale));
  return true;
}

std::optional<Evaluation> TrainingRun::Validate() {
  const int64_t total = validation_.images.size(0);
  const int64_t batch = options_.batch_size;
  const int classes = options_.num_classes;
  at::Tensor probabilities = at::empty({total, classes}, at::kDouble);
  std::vector<int64_t> all(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) all[i] = i;
  at::Tensor loss_sum = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device_));

  model_.train(false);
  {
    at::NoGradGuard no_grad;
    for (int64_t start = 0; start < total; start += batch) {
      if (ShouldStop()) {
        model_.train(true);
        return std::nullopt;
      }
      int64_t count = std::min(batch, total - start);
      auto [images, labels] = Gather(validation_, all.data() + start, count);
      at::Tensor logits = model_.forward({images}).toTensor();
      loss_sum.add_(internal::ComputeLoss(parsed_.loss, logits, labels),
                    static_cast<double>(count));
      probabilities.narrow(0, start, count).copy_(at::softmax(logits, 1).to(at::kDouble));
    }
  }
  model_.train(true);

  Evaluation evaluation;
  evaluation.loss = loss_sum.item<double>() / static_cast<double>(total);
  const double* p = probabilities.data_ptr<double>();
  std::vector<int> predicted(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) {
    predicted[i] = static_cast<int>(std::max_element(p + i * classes, p + (i + 1) * classes) -
                                    (p + i * classes));
  }
  const std::vector<int>& truth = validation_.label_values;
  if (auto confusion = metrics::Confusion(truth, predicted, classes); confusion.ok()) {
    evaluation.kappa = metrics::CohenKappa(*confusion, metrics::Weighting::kNone);
    evaluation.linear_kappa = metrics::CohenKappa(*confusion, metrics::Weighting::kLinear);
  }
  absl::StatusOr<double> auc = kNaN;
  if (classes == 2) {
    std::vector<double> positive(static_cast<size_t>(total));
    for (int64_t i = 0; i < total; ++i) positive[i] = p[i * 2 + 1];
    auc = metrics::BinaryAuc(truth, positive);
  } else {
    auc = metrics::OneVsRestAuc(truth, std::span<const double>(p, total * classes), classes);
  }
  // AUC is undefined (NaN) when the validation set lacks a class.
  if (auc.ok()) evaluation.auc = *auc;
  return evaluation;
}

double TrainingRun::MetricValue(const Evaluation& evaluation) const {
  switch (parsed_.metric) {
    case internal::Metric::kKappa:
      return evaluation.kappa;
    case internal::Metric::kLinearKappa:
      return evaluation.linear_kappa;
    case internal::Metric::kAuc:
      return evaluation.auc;
    case internal::Metric::kValLoss:
      return evaluation.loss;
  }
  return kNaN;
}

bool TrainingRun::Improves(double value) const {
  if (state_.best_epoch == 0) return true;
  if (std::isnan(value)) return false;
  if (std::isnan(state_.best_metric)) return true;
  if (internal::HigherIsBetter(parsed_.metric)) {
    return value > state_.best_metric + options_.min_improvement;
  }
  return value < state_.best_metric - options_.min_improvement;
}

absl::StatusOr<std::string> TrainingRun::Export() {
  internal::RestoreWeights(model_, best_weights_);
  model_.train(false);
  model_.to(c10::Device(c10::kCPU));
  std::string path = (std::filesystem::path(work_dir_) / kModelFile).string();
  std::string temporary = path + ".tmp";
  model_.save(temporary);
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    return Internal(
        "MODEL_WRITE_FAILED",
        absl::StrCat("renaming \"", temporary, "\" to \"", path, "\" failed: ", error.message()),
        {{"path", path}});
  }
  return path;
}

absl::StatusOr<TrainingResult> TrainingRun::Run() {
  TrainingResult result;
  const std::string checkpoint_path = (std::filesystem::path(work_dir_) / kCheckpointFile).string();
  const int patience = options_.early_stopping_patience;
  bool finished = patience > 0 && state_.epochs_without_improvement >= patience;

  while (!finished && state_.epoch < options_.max_epochs) {
    const int epoch = state_.epoch + 1;
    Clock::time_point start = Clock::now();
    AILAB_ASSIGN_OR_RETURN(std::optional<double> train_loss, TrainEpoch());
    const double train_seconds = SecondsSince(start);
    start = Clock::now();
    const bool recalibrated = train_loss && RecalibrateBatchNorm();
    const double recalibrate_seconds = SecondsSince(start);
    start = Clock::now();
    std::optional<Evaluation> evaluation;
    if (recalibrated) evaluation = Validate();
    const double validate_seconds = SecondsSince(start);
    if (!evaluation) {
      logger_->info("training stopped during epoch={} step={}", epoch, state_.step);
      result.stopped = true;
      break;
    }

    EpochReport report;
    report.epoch = epoch;
    report.step = state_.step;
    report.train_loss = *train_loss;
    report.val_loss = evaluation->loss;
    report.metric = MetricValue(*evaluation);
    report.val_kappa = evaluation->kappa;
    report.val_linear_kappa = evaluation->linear_kappa;
    report.val_auc = evaluation->auc;

    if (Improves(report.metric)) {
      state_.best_epoch = epoch;
      state_.best_metric = report.metric;
      state_.epochs_without_improvement = 0;
      internal::SnapshotWeights(model_, &best_weights_);
    } else {
      ++state_.epochs_without_improvement;
    }
    state_.epoch = epoch;
    state_.history.push_back(report);
    state_.data_random = random_.Save();
    start = Clock::now();
    AILAB_RETURN_IF_ERROR(internal::WriteCheckpoint(
        checkpoint_path, Fingerprint(options_), state_, model_, *optimizer_,
        state_.best_epoch == epoch ? nullptr : &best_weights_, device_));
    // The seconds show where an epoch's time goes.
    logger_->info(
        "epoch finished epoch={} step={} train_loss={:.5f} val_loss={:.5f} {}={:.4f} "
        "best_epoch={} train_s={:.3f} recalibrate_s={:.3f} validate_s={:.3f} "
        "checkpoint_s={:.3f}",
        epoch, state_.step, report.train_loss, report.val_loss, options_.metric, report.metric,
        state_.best_epoch, train_seconds, recalibrate_seconds, validate_seconds,
        SecondsSince(start));
    if (callbacks_.on_checkpoint) {
      absl::Status status = callbacks_.on_checkpoint(checkpoint_path, epoch);
      if (!status.ok()) return Annotate(status, absl::StrCat("on_checkpoint of epoch ", epoch));
    }
    if (callbacks_.on_epoch && !callbacks_.on_epoch(report)) {
      logger_->info("training stopped by on_epoch epoch={}", epoch);
      result.stopped = true;
      break;
    }
    if (patience > 0 && state_.epochs_without_improvement >= patience) {
      logger_->info("early stopping epoch={} best_epoch={} patience={}", epoch, state_.best_epoch,
                    patience);
      finished = true;
    }
  }

  result.history = state_.history;
  result.best_epoch = state_.best_epoch;
  if (state_.best_epoch > 0) {
    AILAB_ASSIGN_OR_RETURN(result.torchscript_path, Export());
  }
  return result;
}

}  // namespace

bool KeepTrainingMemoryInHeap() {
  // glibc's ceiling for the mapping threshold on 64-bit systems (HEAP_MAX_SIZE / 2).
  constexpr int kMmapThreshold = 32 * 1024 * 1024;
  // Only more than 1 GiB free at the top of the heap goes back to the system.
  constexpr int kTrimThreshold = 1 << 30;
  const bool mmap_threshold_set = mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1;
  const bool trim_threshold_set = mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
  return mmap_threshold_set && trim_threshold_set;
}

absl::StatusOr<TrainingResult> Train(const TrainingOptions& options,
                                     const std::vector<Example>& train,
                                     const std::vector<Example>& validation,
                                     const std::string& work_dir,
                                     const std::optional<std::string>& resume_checkpoint,
                                     const TrainingCallbacks& callbacks) {
  AILAB_RETURN_IF_ERROR(ValidateOptions(options, train));
  AILAB_ASSIGN_OR_RETURN(ParsedOptions parsed, internal::ParseOptions(options));
  if (validation.empty()) {
    return FailedPrecondition("VALIDATION_SET_EMPTY",
                              "training needs at least one validation example to choose the best "
                              "epoch; assign some labelled images to the validation split",
                              {});
  }
  AILAB_RETURN_IF_ERROR(internal::ValidateExamples(validation, options.num_classes, "validation"));
  std::error_code error;
  std::filesystem::create_directories(work_dir, error);
  if (error) {
    return FailedPrecondition(
        "WORK_DIR_UNAVAILABLE",
        absl::StrCat("cannot create work directory \"", work_dir, "\": ", error.message()),
        {{"work_dir", work_dir}});
  }

  auto logger = log::Logger("trainer");
  try {
    DeterminismScope determinism(ChooseDevice(parsed.device));
    at::set_num_threads(ThreadCount(options.threads));
    TrainingRun run(options, parsed, callbacks, work_dir);
    const Clock::time_point start = Clock::now();
    AILAB_RETURN_IF_ERROR(run.Prepare(train, validation, resume_checkpoint));
    logger->info(
        "training started architecture={} image_size={} classes={} train={} validation={} "
        "threads={} resume={} prepare_s={:.3f}",
        options.architecture, options.image_size, options.num_classes, train.size(),
        validation.size(), at::get_num_threads(), resume_checkpoint.has_value(),
        SecondsSince(start));
    absl::StatusOr<TrainingResult> result = run.Run();
    if (result.ok()) {
      logger->info("training finished epochs={} best_epoch={} stopped={}", result->history.size(),
                   result->best_epoch, result->stopped);
    } else {
      logger->error("training failed error={}", result.status().ToString());
    }
    return result;
  } catch (const std::exception& e) {
    std::string text = internal::ExceptionText(e);
    logger->error("training failed architecture={} error={}", options.architecture, text);
    if (internal::IsOutOfMemory(e)) {
      return ResourceExhausted(
          "TRAINING_OUT_OF_MEMORY",
          absl::StrCat("training ran out of memory: ", text, "; lower batch_size or image_size"),
          {{"batch_size", absl::StrCat(options.batch_size)},
           {"image_size", absl::StrCat(options.image_size)}});
    }
    return Internal("TRAINING_FAILED", absl::StrCat("training failed: ", text),
                    {{"architecture", options.architecture}});
  }
}

}  // namespace ailab::torch
