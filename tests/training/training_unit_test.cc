// Pure parts of the training service: option defaults and checks, manifest rules, the
// list filter and the job notifier.
#include <catch2/catch.hpp>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "filter.h"
#include "manifest.h"
#include "notifier.h"
#include "options.h"
#include "store.h"

namespace ailab::training {
namespace {

bool Contains(absl::string_view text, absl::string_view part) {
  return absl::StrContains(text, part);
}

v1::TrainingOptions DefaultOptions() {
  v1::TrainingOptions options;
  ApplyDefaults(options);
  return options;
}

TEST_CASE("TrainingOptions: defaults are filled", "[training]") {
  v1::TrainingOptions options = DefaultOptions();
  CHECK(options.architecture() == "resnet18");
  CHECK(options.image_size() == 128);
  CHECK(options.augmentation() == "none");
  CHECK(options.sampling() == "random");
  CHECK(options.loss() == "cross_entropy");
  CHECK(options.batch_size() == 16);
  CHECK(options.learning_rate() == Approx(1e-3));
  CHECK(options.optimizer() == "adam");
  CHECK(options.early_stopping_patience() == 3);
  CHECK(options.min_improvement() == Approx(1e-4));
  CHECK(options.max_epochs() == 10);
  CHECK(options.metric() == "linear_kappa");
  CHECK(ValidateOptions(options).ok());
}

TEST_CASE("TrainingOptions: explicit zero patience is kept", "[training]") {
  v1::TrainingOptions options;
  options.set_early_stopping_patience(0);
  ApplyDefaults(options);
  CHECK(options.early_stopping_patience() == 0);
  CHECK(ValidateOptions(options).ok());
}

TEST_CASE("TrainingOptions: bad values are rejected by name", "[training]") {
  struct Case {
    std::string field;
    std::function<void(v1::TrainingOptions&)> set;
    std::string value_text;
  };
  std::vector<Case> cases = {
      {"architecture", [](auto& o) { o.set_architecture("alexnet"); }, "alexnet"},
      {"image_size", [](auto& o) { o.set_image_size(8); }, "8"},
      {"image_size", [](auto& o) { o.set_image_size(4096); }, "4096"},
      {"augmentation", [](auto& o) { o.set_augmentation("mixup"); }, "mixup"},
      {"sampling", [](auto& o) { o.set_sampling("stratified"); }, "stratified"},
      {"loss", [](auto& o) { o.set_loss("hinge"); }, "hinge"},
      {"batch_size", [](auto& o) { o.set_batch_size(-4); }, "-4"},
      {"learning_rate", [](auto& o) { o.set_learning_rate(-0.5); }, "-0.5"},
      {"learning_rate", [](auto& o) { o.set_learning_rate(3); }, "3"},
      {"optimizer", [](auto& o) { o.set_optimizer("rmsprop"); }, "rmsprop"},
      {"early_stopping_patience", [](auto& o) { o.set_early_stopping_patience(-1); }, "-1"},
      {"max_epochs", [](auto& o) { o.set_max_epochs(5000); }, "5000"},
      {"metric", [](auto& o) { o.set_metric("f1"); }, "f1"},
      {"resources.gpu_count", [](auto& o) { o.mutable_resources()->set_gpu_count(64); }, "64"},
      {"resources.memory_mb", [](auto& o) { o.mutable_resources()->set_memory_mb(-1); }, "-1"},
  };
  for (const Case& c : cases) {
    INFO("field " << c.field << " value " << c.value_text);
    v1::TrainingOptions options = DefaultOptions();
    c.set(options);
    absl::Status status = ValidateOptions(options);
    REQUIRE_FALSE(status.ok());
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(GetErrorReason(status) == "INVALID_TRAINING_OPTION");
    CHECK(Contains(status.message(), absl::StrCat("training_job.options.", c.field)));
    CHECK(Contains(status.message(), c.value_text));
  }
}

// Labels and instances of one dataset: `per_class[c]` instances of class c, split by
// index (70% TRAIN, 10% VALIDATION, 20% TEST).
ManifestInput MakeInput(const std::vector<int>& per_class, const std::string& sampling = "random") {
  ManifestInput input;
  input.training_job = "trainingJobs/t1";
  input.use_case = "useCases/breast-density";
  input.dataset = "datasets/d1";
  input.label_source = "ann1";
  input.options = DefaultOptions();
  input.options.set_sampling(sampling);
  const char* codes[] = {"A", "B", "C", "D", "E"};
  for (size_t c = 0; c < per_class.size(); ++c) input.labels.categories.push_back(codes[c]);
  int index = 0;
  for (size_t c = 0; c < per_class.size(); ++c) {
    for (int i = 0; i < per_class[c]; ++i, ++index) {
      InstanceRecord record;
      record.name = absl::StrCat("datasets/d1/instances/i", 1000 + index);
      record.array_blob = absl::StrCat("sha256:", std::string(60, 'a'), 1000 + index);
      record.array_shape = {128, 128};
      int slot = i % 10;
      record.split = slot < 7 ? v1::TRAIN : (slot == 7 ? v1::VALIDATION : v1::TEST);
      input.instances.push_back(record);
      input.labels.labels.emplace_back(record.name, static_cast<int>(c));
    }
  }
  return input;
}

TEST_CASE("BuildManifest: usable instances are joined", "[training]") {
  absl::StatusOr<ManifestResult> result = BuildManifest(MakeInput({60, 50}));
  REQUIRE(result.ok());
  CHECK(result->manifest.examples_size() == 110);
  CHECK(result->manifest.classes_size() == 2);
  CHECK(result->manifest.image_size() == 128);
  REQUIRE(result->label_counts.size() == 2);
  CHECK(result->label_counts[0].category() == "A");
  CHECK(result->label_counts[0].count() == 60);
  CHECK(result->label_counts[0].train_count() == 42);
  CHECK(result->label_counts[0].validation_count() == 6);
  CHECK(result->label_counts[0].test_count() == 12);
  CHECK(result->label_counts[1].count() == 50);
  // Sorted by instance name, so the manifest is the same whatever order labels come in.
  for (int i = 1; i < result->manifest.examples_size(); ++i) {
    CHECK(result->manifest.examples(i - 1).instance() < result->manifest.examples(i).instance());
  }
}

TEST_CASE("BuildManifest: fewer than 100 is rejected with counts", "[training]") {
  absl::StatusOr<ManifestResult> result = BuildManifest(MakeInput({50, 49}));
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(GetErrorReason(result.status()) == "TOO_FEW_LABELLED_INSTANCES");
  CHECK(Contains(result.status().message(), "99"));
  CHECK(Contains(result.status().message(), "A: 50, B: 49"));
  CHECK(Contains(result.status().message(), "100"));
}

TEST_CASE("BuildManifest: instances without arrays do not count", "[training]") {
  ManifestInput input = MakeInput({60, 50});
  for (int i = 0; i < 15; ++i) input.instances[i].array_blob.clear();
  absl::StatusOr<ManifestResult> result = BuildManifest(input);
  REQUIRE_FALSE(result.ok());
  CHECK(GetErrorReason(result.status()) == "TOO_FEW_LABELLED_INSTANCES");
  CHECK(Contains(result.status().message(), "only 95"));
  CHECK(Contains(result.status().message(), "15 have no prepared array"));
}

TEST_CASE("BuildManifest: arrays of another size are named", "[training]") {
  ManifestInput input = MakeInput({60, 50});
  for (InstanceRecord& record : input.instances) record.array_shape = {256, 256};
  absl::StatusOr<ManifestResult> result = BuildManifest(input);
  REQUIRE_FALSE(result.ok());
  CHECK(Contains(result.status().message(), "256x256"));
  CHECK(Contains(result.status().message(), "image_size"));
}

TEST_CASE("BuildManifest: equal sampling needs 10 per class", "[training]") {
  // Class C has 12 instances, of which 9 fall in the TRAIN split.
  absl::StatusOr<ManifestResult> result = BuildManifest(MakeInput({60, 50, 12}, "equal"));
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(GetErrorReason(result.status()) == "TOO_FEW_INSTANCES_PER_CLASS");
  CHECK(Contains(result.status().message(), "class C has 9"));
  CHECK(Contains(result.status().message(), "A: 60, B: 50, C: 12"));

  CHECK(BuildManifest(MakeInput({60, 50, 12}, "random")).ok());
  CHECK(BuildManifest(MakeInput({60, 50, 20}, "equal")).ok());
}

TEST_CASE("BuildManifest: positives_only needs a binary use case", "[training]") {
  absl::StatusOr<ManifestResult> result = BuildManifest(MakeInput({40, 40, 40}, "positives_only"));
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(result.status().message(), "3 categories"));
  CHECK(BuildManifest(MakeInput({60, 60}, "positives_only")).ok());
}

TEST_CASE("BuildManifest: empty split is rejected", "[training]") {
  ManifestInput input = MakeInput({60, 50});
  for (InstanceRecord& record : input.instances) {
    if (record.split == v1::TEST) record.split = v1::TRAIN;
  }
  absl::StatusOr<ManifestResult> result = BuildManifest(input);
  REQUIRE_FALSE(result.ok());
  CHECK(GetErrorReason(result.status()) == "EMPTY_SPLIT");
  CHECK(Contains(result.status().message(), "TEST: 0"));
}

TEST_CASE("BuildManifest: unsplit instances are left out", "[training]") {
  ManifestInput input = MakeInput({60, 50});
  for (int i = 0; i < 20; ++i) input.instances[i].split = v1::DATA_SPLIT_UNSPECIFIED;
  absl::StatusOr<ManifestResult> result = BuildManifest(input);
  REQUIRE_FALSE(result.ok());
  CHECK(Contains(result.status().message(), "20 have no split"));
}

TEST_CASE("BuildManifest: one category is rejected", "[training]") {
  absl::StatusOr<ManifestResult> result = BuildManifest(MakeInput({150}));
  REQUIRE_FALSE(result.ok());
  CHECK(GetErrorReason(result.status()) == "TOO_FEW_CATEGORIES");
}

TEST_CASE("ParseJobFilter: conditions are parsed", "[training]") {
  absl::StatusOr<JobFilter> filter = ParseJobFilter(
      "state=RUNNING AND owner=\"u 1\" AND use_case=useCases/x AND dataset=datasets/d");
  REQUIRE(filter.ok());
  CHECK(filter->state == "RUNNING");
  CHECK(filter->owner == "u 1");
  CHECK(filter->use_case == "useCases/x");
  CHECK(filter->dataset == "datasets/d");
  CHECK(ParseJobFilter("").ok());
}

TEST_CASE("ParseJobFilter: bad conditions are rejected", "[training]") {
  for (std::string bad : {"state=DONE", "colour=red", "owner", "owner="}) {
    INFO(bad);
    absl::StatusOr<JobFilter> filter = ParseJobFilter(bad);
    REQUIRE_FALSE(filter.ok());
    CHECK(filter.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Contains(filter.status().message(), bad));
  }
}

TEST_CASE("ParseJobName: names are checked", "[training]") {
  CHECK(*ParseJobName("trainingJobs/abc-1", "name") == "abc-1");
  for (std::string bad :
       {"", "trainingJobs/", "models/abc", "trainingJobs/ABC", "trainingJobs/a/b"}) {
    INFO(bad);
    absl::StatusOr<std::string> id = ParseJobName(bad, "name");
    REQUIRE_FALSE(id.ok());
    CHECK(id.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Contains(id.status().message(), "name"));
  }
}

TEST_CASE("JobNotifier: notify wakes subscriber", "[training]") {
  JobNotifier notifier;
  auto subscription = notifier.Subscribe("trainingJobs/a");
  // A notification of another job does not count.
  notifier.Notify("trainingJobs/b");
  CHECK_FALSE(subscription->WaitForChange(absl::Milliseconds(10)));

  std::thread notifying([&] { notifier.Notify("trainingJobs/a"); });
  bool woke = false;
  for (int i = 0; i < 100 && !woke; ++i)
    woke = subscription->WaitForChange(absl::Milliseconds(100));
  notifying.join();
  CHECK(woke);

  // A notification made before the wait is not lost.
  notifier.Notify("trainingJobs/a");
  CHECK(subscription->WaitForChange(absl::Seconds(10)));
}

TEST_CASE("JobNotifier: shutdown ends waits", "[training]") {
  JobNotifier notifier;
  auto subscription = notifier.Subscribe("trainingJobs/a");
  notifier.Shutdown();
  CHECK(notifier.shut_down());
  CHECK_FALSE(subscription->WaitForChange(absl::Seconds(30)));
}

}  // namespace
}  // namespace ailab::training
