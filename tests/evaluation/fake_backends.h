// An in-process fake of everything the evaluation service calls, for tests.
//
// Datasets, labels, reference labels and models are plain maps that a test fills.
// A model's prediction of an instance comes from `skill`: for model m on dataset d,
// the instance at position i of d is predicted right when (i % 10) < skill[m][d],
// with probability 0.8 on the predicted category; otherwise it predicts the next
// category. ScoreAgainstReference scores with ailab::metrics, as the annotation
// service does, and records each call, so tests can check what left "annotation".
//
// Thread-safe: the evaluation service calls it from several threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ailab/metrics/classification.h"
#include "ailab/status/status.h"
#include "services/evaluation/backends.h"

namespace ailab::evaluation::testing {

class FakeBackends : public Backends {
 public:
  struct Instance {
    std::string name;
    Split split = Split::kTest;
  };
  struct Reference {
    std::string reader;
    // Instance name -> category index.
    std::map<std::string, int> labels;
  };

  // Adds a dataset of `count` instances "datasets/<id>/instances/i<n>", with the split
  // of each instance from `split_of(n)`.
  void AddDataset(const std::string& dataset, int count,
                  const std::function<Split(int)>& split_of = [](int) { return Split::kTest; }) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int n = 0; n < count; ++n) {
      datasets_[dataset].push_back({absl::StrCat(dataset, "/instances/i", n), split_of(n)});
    }
  }

  void AddUseCase(const std::string& name, std::vector<std::string> categories, bool binary) {
    std::lock_guard<std::mutex> lock(mutex_);
    UseCaseInfo info;
    info.name = name;
    info.binary = binary;
    info.classification = true;
    info.categories = std::move(categories);
    use_cases_[name] = info;
  }

  void AddDetectionUseCase(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    UseCaseInfo info;
    info.name = name;
    info.categories = {"finding"};
    use_cases_[name] = info;
  }

  void AddModel(const std::string& name, const std::string& use_case,
                std::vector<std::string> classes, const std::string& owner = "",
                const std::string& dataset = "") {
    std::lock_guard<std::mutex> lock(mutex_);
    models_[name] = ModelInfo{
        name, absl::StrCat("display ", name), use_case, std::move(classes), owner, dataset};
  }

  // Labels of `annotator` (ExportLabels) or of the reference reader of the dataset:
  // instance at position n gets label_of(n).
  void SetLabels(const std::string& use_case, const std::string& dataset,
                 const std::string& annotator, const std::function<int(int)>& label_of) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& labels = labels_[Key(use_case, dataset, annotator)];
    const auto& instances = datasets_[dataset];
    for (size_t n = 0; n < instances.size(); ++n) labels[instances[n].name] = label_of(n);
  }

  void SetReference(const std::string& use_case, const std::string& dataset,
                    const std::string& reader, const std::function<int(int)>& label_of) {
    std::lock_guard<std::mutex> lock(mutex_);
    Reference& reference = references_[Key(use_case, dataset, "")];
    reference.reader = reader;
    const auto& instances = datasets_[dataset];
    for (size_t n = 0; n < instances.size(); ++n) reference.labels[instances[n].name] = label_of(n);
  }

  // Right predictions per 10 instances of `model` on `dataset`, 0 to 10.
  void SetSkill(const std::string& model, const std::string& dataset, int right_per_ten) {
    std::lock_guard<std::mutex> lock(mutex_);
    skill_[model][dataset] = right_per_ten;
  }

  // Makes every prediction of `model` fail with INVALID_ARGUMENT.
  void SetFailing(const std::string& model, bool failing) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failing) {
      failing_.insert(model);
    } else {
      failing_.erase(model);
    }
  }

  // Makes every Predict call wait until Release() (to test cancellation).
  void HoldPredictions() {
    std::lock_guard<std::mutex> lock(mutex_);
    hold_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      hold_ = false;
    }
    released_.notify_all();
  }
  // Waits until at least one Predict call is waiting in HoldPredictions().
  void WaitForHeldPrediction() {
    std::unique_lock<std::mutex> lock(mutex_);
    held_changed_.wait(lock, [&] { return held_count_ > 0; });
  }

  // Files of `model` for GetModelArtifacts; without them it is FAILED_PRECONDITION.
  void SetArtifacts(const std::string& model, std::string torchscript, std::string model_card) {
    std::lock_guard<std::mutex> lock(mutex_);
    artifacts_[model] = {std::move(torchscript), std::move(model_card)};
  }

  // Stored test predictions of `model` for ListTestPredictions: instance name ->
  // probabilities in the model's class order.
  void SetTestPredictions(const std::string& model,
                          std::map<std::string, std::vector<double>> predictions) {
    std::lock_guard<std::mutex> lock(mutex_);
    test_predictions_[model] = std::move(predictions);
  }

  void SetReviewed(std::vector<ReviewedPrediction> reviewed, int64_t unreviewed) {
    std::lock_guard<std::mutex> lock(mutex_);
    reviewed_ = std::move(reviewed);
    unreviewed_ = unreviewed;
  }

  // Every ScoreAgainstReference request: (dataset, reader, number of predictions).
  struct ScoreCall {
    std::string dataset;
    std::string reader;
    size_t predictions = 0;
  };
  std::vector<ScoreCall> score_calls() {
    std::lock_guard<std::mutex> lock(mutex_);
    return score_calls_;
  }
  // Every ExportLabels request as "use_case|dataset|annotator".
  std::vector<std::string> export_calls() {
    std::lock_guard<std::mutex> lock(mutex_);
    return export_calls_;
  }
  int64_t predict_calls() const { return predict_calls_.load(); }

  // Backends.
  absl::StatusOr<ModelInfo> GetModel(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = models_.find(name);
    if (it == models_.end()) {
      return NotFound("MODEL_NOT_FOUND", absl::StrCat("model \"", name, "\" not found"),
                      {{"model", name}});
    }
    return it->second;
  }

  absl::StatusOr<ModelArtifacts> GetModelArtifacts(const std::string& name) override {
    AILAB_ASSIGN_OR_RETURN(ModelInfo info, GetModel(name));
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = artifacts_.find(name);
    if (it == artifacts_.end()) {
      return FailedPrecondition("MODEL_HAS_NO_TORCHSCRIPT",
                                absl::StrCat("model \"", name, "\" has no TorchScript file"),
                                {{"model", name}});
    }
    ModelArtifacts artifacts;
    artifacts.info = std::move(info);
    artifacts.torchscript = it->second.first;
    artifacts.model_card = it->second.second;
    return artifacts;
  }

  absl::StatusOr<UseCaseInfo> GetUseCase(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = use_cases_.find(name);
    if (it == use_cases_.end()) {
      return NotFound("USE_CASE_NOT_FOUND", absl::StrCat("use case \"", name, "\" not found"),
                      {{"use_case", name}});
    }
    return it->second;
  }

  absl::Status CheckDataset(const std::string& dataset) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (datasets_.count(dataset) == 0) {
      return NotFound("DATASET_NOT_FOUND", absl::StrCat("dataset \"", dataset, "\" not found"),
                      {{"dataset", dataset}});
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> ListInstances(const std::string& dataset,
                                                         Split split) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = datasets_.find(dataset);
    if (it == datasets_.end()) {
      return NotFound("DATASET_NOT_FOUND", absl::StrCat("dataset \"", dataset, "\" not found"),
                      {{"dataset", dataset}});
    }
    std::vector<std::string> names;
    for (const Instance& instance : it->second) {
      if (split == Split::kAll || instance.split == split) names.push_back(instance.name);
    }
    return names;
  }

  absl::StatusOr<LabelSet> ExportLabels(const std::string& use_case, const std::string& dataset,
                                        const std::string& annotator) override {
    std::lock_guard<std::mutex> lock(mutex_);
    export_calls_.push_back(Key(use_case, dataset, annotator));
    auto reference = references_.find(Key(use_case, dataset, ""));
    if (reference != references_.end() && reference->second.reader == annotator) {
      return PermissionDenied("REFERENCE_READER_EXPORT", "reference labels are not exported");
    }
    LabelSet set;
    set.categories = use_cases_[use_case].categories;
    auto it = labels_.find(Key(use_case, dataset, annotator));
    if (it != labels_.end()) set.labels = it->second;
    return set;
  }

  absl::StatusOr<ReferenceScore> ScoreAgainstReference(
      const std::string& use_case, const std::string& dataset, const std::string& reference_reader,
      const std::vector<ScoredPrediction>& predictions) override {
    std::lock_guard<std::mutex> lock(mutex_);
    score_calls_.push_back({dataset, reference_reader, predictions.size()});
    auto reference = references_.find(Key(use_case, dataset, ""));
    if (reference == references_.end()) {
      return NotFound("REFERENCE_READER_NOT_FOUND", "no reference reader");
    }
    if (!reference_reader.empty() && reference_reader != reference->second.reader) {
      return FailedPrecondition("REFERENCE_READER_MISMATCH",
                                absl::StrCat("\"", reference_reader, "\" is not the reference reader"));
    }
    const int k = static_cast<int>(use_cases_[use_case].categories.size());
    std::vector<int> truth;
    std::vector<double> probabilities;
    for (const ScoredPrediction& prediction : predictions) {
      auto label = reference->second.labels.find(prediction.instance);
      if (label == reference->second.labels.end()) continue;
      truth.push_back(label->second);
      probabilities.insert(probabilities.end(), prediction.probabilities.begin(),
                           prediction.probabilities.end());
    }
    AILAB_ASSIGN_OR_RETURN(std::vector<int> predicted, metrics::Argmax(probabilities, k));
    AILAB_ASSIGN_OR_RETURN(metrics::ConfusionMatrix matrix, metrics::Confusion(truth, predicted, k));
    ReferenceScore score;
    score.categories = use_cases_[use_case].categories;
    score.confusion_counts = matrix.counts;
    score.kappa = metrics::CohenKappa(matrix, metrics::Weighting::kNone);
    score.linear_kappa = metrics::CohenKappa(matrix, metrics::Weighting::kLinear);
    score.accuracy = metrics::Accuracy(matrix);
    absl::StatusOr<double> auc = metrics::OneVsRestAuc(truth, probabilities, k);
    score.auc = auc.ok() ? *auc : std::nan("");
    score.scored_count = static_cast<int64_t>(truth.size());
    return score;
  }

  absl::StatusOr<std::map<std::string, std::vector<double>>> ListTestPredictions(
      const std::string& model) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = test_predictions_.find(model);
    if (it == test_predictions_.end()) return std::map<std::string, std::vector<double>>();
    return it->second;
  }

  absl::StatusOr<InstanceOutput> Predict(const std::string& model,
                                         const std::string& instance) override {
    predict_calls_.fetch_add(1);
    std::unique_lock<std::mutex> lock(mutex_);
    if (hold_) {
      ++held_count_;
      held_changed_.notify_all();
      released_.wait(lock, [&] { return !hold_; });
      --held_count_;
    }
    if (failing_.count(model) > 0) {
      return InvalidArgument("BROKEN_MODEL", "model", absl::StrCat("model \"", model, "\" fails"));
    }
    auto found = models_.find(model);
    if (found == models_.end()) return NotFound("MODEL_NOT_FOUND", "model not found");
    const std::string dataset = instance.substr(0, instance.find("/instances/"));
    const auto& instances = datasets_[dataset];
    int position = -1;
    for (size_t n = 0; n < instances.size(); ++n) {
      if (instances[n].name == instance) position = static_cast<int>(n);
    }
    if (position < 0) return NotFound("INSTANCE_NOT_FOUND", "instance not found");

    // Truth from the reference reader, else from any annotator's labels.
    const std::string use_case = found->second.use_case;
    int truth = 0;
    auto reference = references_.find(Key(use_case, dataset, ""));
    if (reference != references_.end() && reference->second.labels.count(instance) > 0) {
      truth = reference->second.labels.at(instance);
    } else {
      for (const auto& [key, labels] : labels_) {
        if (labels.count(instance) > 0) truth = labels.at(instance);
      }
    }
    const int k = static_cast<int>(use_cases_[use_case].categories.size());
    const int right_per_ten = skill_[model].count(dataset) > 0 ? skill_[model][dataset] : 10;
    const int predicted = (position % 10) < right_per_ten ? truth : (truth + 1) % k;
    // Probabilities in the model's class order.
    InstanceOutput output;
    output.probabilities.assign(k, 0.2 / std::max(1, k - 1));
    const std::string& code = use_cases_[use_case].categories[predicted];
    const auto& classes = found->second.classes;
    const size_t model_index = std::find(classes.begin(), classes.end(), code) - classes.begin();
    output.probabilities[model_index] = 0.8;
    return output;
  }

  absl::StatusOr<ReviewedPredictions> ListReviewedPredictions(
      const std::string& model, std::optional<absl::Time> start,
      std::optional<absl::Time> end) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ReviewedPredictions result;
    for (const ReviewedPrediction& prediction : reviewed_) {
      if (start && prediction.create_time < *start) continue;
      if (end && prediction.create_time >= *end) continue;
      result.reviewed.push_back(prediction);
    }
    result.unreviewed_count = unreviewed_;
    return result;
  }

 private:
  static std::string Key(const std::string& use_case, const std::string& dataset,
                         const std::string& annotator) {
    return absl::StrCat(use_case, "|", dataset, "|", annotator);
  }

  std::mutex mutex_;
  std::condition_variable released_;
  std::condition_variable held_changed_;
  bool hold_ = false;
  int held_count_ = 0;
  std::map<std::string, ModelInfo> models_;
  std::map<std::string, UseCaseInfo> use_cases_;
  std::map<std::string, std::vector<Instance>> datasets_;
  std::map<std::string, std::map<std::string, int>> labels_;
  std::map<std::string, Reference> references_;
  std::map<std::string, std::map<std::string, int>> skill_;
  std::set<std::string> failing_;
  std::map<std::string, std::map<std::string, std::vector<double>>> test_predictions_;
  // Model name -> (TorchScript bytes, model card JSON).
  std::map<std::string, std::pair<std::string, std::string>> artifacts_;
  std::vector<ReviewedPrediction> reviewed_;
  int64_t unreviewed_ = 0;
  std::vector<ScoreCall> score_calls_;
  std::vector<std::string> export_calls_;
  std::atomic<int64_t> predict_calls_{0};
};

}  // namespace ailab::evaluation::testing
