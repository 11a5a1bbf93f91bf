#include "checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <mutex>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "errors.h"

namespace ailab::torch::internal {
namespace {

constexpr const char* kFormat = "ailab.torch.checkpoint/1";

// Columns of the history tensor, one row per epoch.
constexpr int kHistoryColumns = 8;

at::Tensor HistoryToTensor(const std::vector<EpochReport>& history) {
  at::Tensor table =
      at::empty({static_cast<int64_t>(history.size()), kHistoryColumns}, at::kDouble);
  double* row = table.data_ptr<double>();
  for (const EpochReport& report : history) {
    row[0] = report.epoch;
    row[1] = static_cast<double>(report.step);
    row[2] = report.train_loss;
    row[3] = report.val_loss;
    row[4] = report.metric;
    row[5] = report.val_kappa;
    row[6] = report.val_linear_kappa;
    row[7] = report.val_auc;
    row += kHistoryColumns;
  }
  return table;
}

std::vector<EpochReport> HistoryFromTensor(const at::Tensor& tensor) {
  at::Tensor table = tensor.to(at::kDouble).contiguous();
  std::vector<EpochReport> history;
  if (table.dim() != 2 || table.size(1) != kHistoryColumns) return history;
  const double* row = table.data_ptr<double>();
  for (int64_t i = 0; i < table.size(0); ++i, row += kHistoryColumns) {
    EpochReport report;
    report.epoch = static_cast<int>(row[0]);
    report.step = static_cast<int64_t>(row[1]);
    report.train_loss = row[2];
    report.val_loss = row[3];
    report.metric = row[4];
    report.val_kappa = row[5];
    report.val_linear_kappa = row[6];
    report.val_auc = row[7];
    history.push_back(report);
  }
  return history;
}

c10::impl::GenericDict ToDict(const TensorMap& weights) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, tensor] : weights) dict.insert(name, tensor.detach());
  return c10::impl::toGenericDict(dict);
}

TensorMap FromDict(const c10::IValue& value) {
  TensorMap weights;
  for (const auto& entry : value.toGenericDict()) {
    weights[entry.key().toStringRef()] = entry.value().toTensor();
  }
  return weights;
}

at::Generator DeviceGenerator(c10::Device device) {
  return at::globalContext().defaultGenerator(device);
}

absl::Status Unreadable(const std::string& path, absl::string_view detail) {
  return InvalidArgument("CHECKPOINT_UNREADABLE", "resume_checkpoint",
                         absl::StrCat("checkpoint \"", path, "\" cannot be read (", detail,
                                      "); resume from a checkpoint that Train() wrote, or start "
                                      "the job again without one"),
                         {{"checkpoint", path}});
}

}  // namespace

TensorMap CopyWeights(const ::torch::jit::Module& model) {
  TensorMap weights;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    weights[item.name] = item.value.detach().clone();
  }
  for (const auto& item : model.named_buffers(/*recurse=*/true)) {
    weights[item.name] = item.value.detach().clone();
  }
  return weights;
}

void SnapshotWeights(const ::torch::jit::Module& model, TensorMap* weights) {
  if (weights->empty()) {
    *weights = CopyWeights(model);
    return;
  }
  at::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    (*weights)[item.name].copy_(item.value);
  }
  for (const auto& item : model.named_buffers(/*recurse=*/true)) {
    (*weights)[item.name].copy_(item.value);
  }
}

void RestoreWeights(::torch::jit::Module& model, const TensorMap& weights) {
  at::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    auto found = weights.find(item.name);
    if (found != weights.end()) item.value.copy_(found->second);
  }
  for (const auto& item : model.named_buffers(/*recurse=*/true)) {
    auto found = weights.find(item.name);
    if (found != weights.end()) item.value.copy_(found->second);
  }
}

absl::Status WriteCheckpoint(const std::string& path, const std::string& fingerprint,
                             const TrainingState& state, const ::torch::jit::Module& model,
                             ::torch::optim::Optimizer& optimizer, const TensorMap* best_weights,
                             c10::Device device) {
  const std::string temporary = path + ".tmp";
  try {
    ::torch::serialize::OutputArchive archive;
    archive.write("format", c10::IValue(std::string(kFormat)));
    archive.write("fingerprint", c10::IValue(fingerprint));
    archive.write("epoch", c10::IValue(static_cast<int64_t>(state.epoch)));
    archive.write("step", c10::IValue(state.step));
    archive.write("best_epoch", c10::IValue(static_cast<int64_t>(state.best_epoch)));
    archive.write("best_metric", c10::IValue(state.best_metric));
    archive.write("epochs_without_improvement",
                  c10::IValue(static_cast<int64_t>(state.epochs_without_improvement)));
    archive.write("data_random", c10::IValue(state.data_random));
    archive.write("history", HistoryToTensor(state.history), /*is_buffer=*/true);
    archive.write("model", c10::IValue(ToDict(CopyWeights(model))));
    if (best_weights != nullptr) archive.write("best_model", c10::IValue(ToDict(*best_weights)));

    ::torch::serialize::OutputArchive optimizer_archive;
    optimizer.save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);

    at::Generator cpu = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(cpu.mutex());
      archive.write("cpu_generator", cpu.get_state(), /*is_buffer=*/true);
    }
    if (device.is_cuda()) {
      at::Generator generator = DeviceGenerator(device);
      std::lock_guard<std::mutex> lock(generator.mutex());
      archive.write("device_generator", generator.get_state(), /*is_buffer=*/true);
    }
    archive.save_to(temporary);
  } catch (const std::exception& e) {
    return Internal("CHECKPOINT_WRITE_FAILED",
                    absl::StrCat("writing checkpoint \"", path, "\" failed: ", ExceptionText(e),
                                 "; check the free space and permissions of the work directory"),
                    {{"checkpoint", path}});
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    return Internal("CHECKPOINT_WRITE_FAILED",
                    absl::StrCat("renaming checkpoint \"", temporary, "\" to \"", path,
                                 "\" failed: ", error.message()),
                    {{"checkpoint", path}});
  }
  return absl::OkStatus();
}

absl::Status ReadCheckpoint(const std::string& path, const std::string& fingerprint,
                            c10::Device device, TrainingState* state, ::torch::jit::Module& model,
                            ::torch::optim::Optimizer& optimizer, TensorMap* best_weights) {
  std::error_code exists_error;
  if (!std::filesystem::is_regular_file(path, exists_error)) {
    return NotFound("CHECKPOINT_NOT_FOUND",
                    absl::StrCat("checkpoint \"", path,
                                 "\" does not exist; give the path of a checkpoint that Train() "
                                 "wrote, or start without one"),
                    {{"checkpoint", path}});
  }
  ::torch::serialize::InputArchive archive;
  c10::IValue value;
  try {
    archive.load_from(path, device);
    if (!archive.try_read("format", value) || !value.isString() || value.toStringRef() != kFormat) {
      return Unreadable(path, "not a training checkpoint");
    }
  } catch (const std::exception& e) {
    return Unreadable(path, ExceptionText(e));
  }

  try {
    archive.read("fingerprint", value);
    if (value.toStringRef() != fingerprint) {
      return FailedPrecondition(
          "CHECKPOINT_MISMATCH",
          absl::StrCat("checkpoint \"", path, "\" was written for ", value.toStringRef(),
                       " but this run trains ", fingerprint,
                       "; resume with the options the checkpoint was made with"),
          {{"checkpoint", path},
           {"checkpoint_model", value.toStringRef()},
           {"model", fingerprint}});
    }
    TrainingState restored;
    archive.read("epoch", value);
    restored.epoch = static_cast<int>(value.toInt());
    archive.read("step", value);
    restored.step = value.toInt();
    archive.read("best_epoch", value);
    restored.best_epoch = static_cast<int>(value.toInt());
    archive.read("best_metric", value);
    restored.best_metric = value.toDouble();
    archive.read("epochs_without_improvement", value);
    restored.epochs_without_improvement = static_cast<int>(value.toInt());
    archive.read("data_random", value);
    restored.data_random = value.toStringRef();
    at::Tensor history;
    archive.read("history", history, /*is_buffer=*/true);
    restored.history = HistoryFromTensor(history.to(c10::kCPU));

    archive.read("model", value);
    RestoreWeights(model, FromDict(value));
    best_weights->clear();
    if (archive.try_read("best_model", value)) *best_weights = FromDict(value);

    ::torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);

    at::Tensor generator_state;
    archive.read("cpu_generator", generator_state, /*is_buffer=*/true);
    at::Generator cpu = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(cpu.mutex());
      cpu.set_state(generator_state.to(c10::kCPU));
    }
    if (device.is_cuda() && archive.try_read("device_generator", generator_state, true)) {
      at::Generator generator = DeviceGenerator(device);
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(generator_state.to(c10::kCPU));
    }
    *state = std::move(restored);
  } catch (const std::exception& e) {
    return Unreadable(path, ExceptionText(e));
  }
  return absl::OkStatus();
}

}  // namespace ailab::torch::internal
