// LibTorch first: its glog headers define CHECK, which Catch2 must override.
#include "data.h"

#include <torch/torch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "ailab/imaging/npy.h"
#include "ailab/status/status.h"
#include "test_data.h"

namespace ailab::torch::internal {
namespace {

using ::ailab::torch::testing::ScratchDir;
using ::ailab::torch::testing::WriteDiscExamples;

std::vector<Example> LabelledExamples(const std::vector<int>& labels) {
  std::vector<Example> examples;
  for (size_t i = 0; i < labels.size(); ++i) {
    examples.push_back({"unused.npy", labels[i], absl::StrCat("instance-", i)});
  }
  return examples;
}

TrainingOptions SmallOptions() {
  TrainingOptions options;
  options.image_size = 32;
  return options;
}

std::map<int, int> ClassCounts(const std::vector<int64_t>& order, const std::vector<int>& labels) {
  std::map<int, int> counts;
  for (int64_t i : order) ++counts[labels[i]];
  return counts;
}

TEST_CASE("Random: same seed gives the same draws and state round-trips") {
  Random a(7);
  Random b(7);
  for (int i = 0; i < 5; ++i) CHECK(a.Below(1000) == b.Below(1000));
  std::string saved = a.Save();
  double next = a.Uniform();
  Random c(1);
  REQUIRE(c.Restore(saved));
  CHECK(c.Uniform() == next);
  CHECK_FALSE(c.Restore("not a state"));
  for (int i = 0; i < 1000; ++i) {
    double u = a.Uniform();
    REQUIRE(u >= 0);
    REQUIRE(u < 1);
  }
}

TEST_CASE("LoadImageSet: reads float32, uint16 and uint8 arrays") {
  ScratchDir dir;
  std::vector<float> ramp(32 * 32);
  std::vector<uint16_t> ramp16(32 * 32);
  std::vector<uint8_t> ramp8(32 * 32);
  for (size_t i = 0; i < ramp.size(); ++i) {
    ramp[i] = static_cast<float>(i) / ramp.size();
    ramp16[i] = static_cast<uint16_t>(i * 64);
    ramp8[i] = static_cast<uint8_t>(i % 256);
  }
  REQUIRE(imaging::WriteNpy(dir.File("f.npy"), *imaging::Array::FromFloat({32, 32}, ramp)).ok());
  REQUIRE(imaging::WriteNpy(dir.File("u16.npy"), *imaging::Array::FromUint16({1, 32, 32}, ramp16))
              .ok());
  REQUIRE(
      imaging::WriteNpy(dir.File("u8.npy"), *imaging::Array::FromUint8({32, 32, 1}, ramp8)).ok());
  std::vector<Example> examples = {
      {dir.File("f.npy"), 0, "a"}, {dir.File("u16.npy"), 1, "b"}, {dir.File("u8.npy"), 1, "c"}};

  auto set = LoadImageSet(examples, 32, "train");
  REQUIRE(set.ok());
  REQUIRE(set->images.sizes() == at::IntArrayRef({3, 1, 32, 32}));
  CHECK(set->labels[1].item<int64_t>() == 1);
  CHECK(set->label_values == std::vector<int>{0, 1, 1});
  at::Tensor flat = set->images.reshape({3, -1});
  CHECK(flat[0][5].item<float>() == Approx(5.0 / 1024));
  CHECK(flat[1][5].item<float>() == Approx(5 * 64 / 65535.0));
  CHECK(flat[2][300].item<float>() == Approx((300 % 256) / 255.0));
}

TEST_CASE("LoadImageSet: rejects wrong size, missing file and NaN") {
  ScratchDir dir;
  auto examples = WriteDiscExamples(dir.path(), "img", {0, 1}, 32, 2, 1);
  REQUIRE(examples.size() == 2);

  auto wrong_size = LoadImageSet(examples, 64, "train");
  CHECK(wrong_size.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(wrong_size.status()) == "ARRAY_SHAPE_MISMATCH");
  CHECK_THAT(std::string(wrong_size.status().message()), Catch::Contains("(32, 32)"));

  std::vector<Example> missing = {{dir.File("absent.npy"), 0, "gone"}};
  CHECK_FALSE(LoadImageSet(missing, 32, "train").ok());

  std::vector<float> pixels(32 * 32, 0.5f);
  pixels[7] = std::nanf("");
  REQUIRE(
      imaging::WriteNpy(dir.File("nan.npy"), *imaging::Array::FromFloat({32, 32}, pixels)).ok());
  auto nan = LoadImageSet({{dir.File("nan.npy"), 0, "nan"}}, 32, "validation");
  CHECK(GetErrorReason(nan.status()) == "ARRAY_NOT_FINITE");
}

TEST_CASE("EpochSampler: random visits every example once") {
  std::vector<int> labels = {0, 1, 0, 1, 1, 0, 0};
  EpochSampler sampler(Sampling::kRandom, labels, 2);
  Random random(3);
  std::vector<int64_t> first = sampler.NextEpoch(random);
  std::vector<int64_t> second = sampler.NextEpoch(random);
  std::vector<int64_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6});
  CHECK(first != second);
  CHECK(sampler.epoch_size() == 7);
}

TEST_CASE("EpochSampler: equal draws each class equally often") {
  std::vector<int> labels(40, 0);
  for (int i = 0; i < 10; ++i) labels[i * 4] = 1;  // 30 of class 0, 10 of class 1
  EpochSampler sampler(Sampling::kEqual, labels, 2);
  Random random(5);
  std::vector<int64_t> order = sampler.NextEpoch(random);
  REQUIRE(order.size() == 40);
  std::map<int, int> counts = ClassCounts(order, labels);
  CHECK(counts[0] == 20);
  CHECK(counts[1] == 20);
  // The small class repeats; within its first round every example appears once.
  std::set<int64_t> distinct(order.begin(), order.end());
  CHECK(distinct.size() > 20);
}

TEST_CASE("EpochSampler: three classes are balanced") {
  std::vector<int> labels;
  for (int i = 0; i < 50; ++i) labels.push_back(0);
  for (int i = 0; i < 20; ++i) labels.push_back(1);
  for (int i = 0; i < 11; ++i) labels.push_back(2);
  EpochSampler sampler(Sampling::kEqual, labels, 3);
  Random random(9);
  std::map<int, int> counts = ClassCounts(sampler.NextEpoch(random), labels);
  CHECK(counts[0] == 27);
  CHECK(counts[1] == 27);
  CHECK(counts[2] == 27);
}

TEST_CASE("EpochSampler: positives_only pairs each positive with a negative") {
  std::vector<int> labels = {0, 0, 0, 0, 0, 0, 1, 1, 0, 1};
  EpochSampler sampler(Sampling::kPositivesOnly, labels, 2);
  Random random(2);
  std::vector<int64_t> order = sampler.NextEpoch(random);
  CHECK(sampler.epoch_size() == 6);
  REQUIRE(order.size() == 6);
  std::map<int, int> counts = ClassCounts(order, labels);
  CHECK(counts[1] == 3);
  CHECK(counts[0] == 3);
  std::set<int64_t> distinct(order.begin(), order.end());
  CHECK(distinct.size() == 6);
  CHECK(distinct.count(6) == 1);
  CHECK(distinct.count(7) == 1);
  CHECK(distinct.count(9) == 1);
}

TEST_CASE("EpochSampler: positives_only keeps all negatives when they are fewer") {
  std::vector<int> labels = {1, 1, 1, 1, 0};
  EpochSampler sampler(Sampling::kPositivesOnly, labels, 2);
  Random random(2);
  CHECK(sampler.NextEpoch(random).size() == 5);
}

TEST_CASE("ValidateOptions: equal sampling needs ten examples per class") {
  TrainingOptions options = SmallOptions();
  options.sampling = "equal";
  std::vector<int> labels(25, 0);
  for (int i = 0; i < 9; ++i) labels[i] = 1;  // 16 of class 0, 9 of class 1
  absl::Status status = ValidateOptions(options, LabelledExamples(labels));
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(GetErrorReason(status) == "TOO_FEW_EXAMPLES_PER_CLASS");
  CHECK_THAT(std::string(status.message()), Catch::Contains("class 0: 16, class 1: 9"));

  labels[9] = 1;
  CHECK(ValidateOptions(options, LabelledExamples(labels)).ok());
}

TEST_CASE("ValidateOptions: positives_only needs a binary task with both classes") {
  TrainingOptions options = SmallOptions();
  options.sampling = "positives_only";
  options.num_classes = 3;
  absl::Status multi = ValidateOptions(options, LabelledExamples({0, 1, 2, 1}));
  CHECK(multi.code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(multi) == "SAMPLING_NEEDS_BINARY_TASK");

  options.num_classes = 2;
  absl::Status no_positive = ValidateOptions(options, LabelledExamples({0, 0, 0}));
  CHECK(no_positive.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(no_positive.message()), Catch::Contains("class 0: 3, class 1: 0"));
  CHECK(ValidateOptions(options, LabelledExamples({0, 1, 0})).ok());
}

TEST_CASE("ValidateOptions: rejects unknown names and bad values") {
  struct Case {
    const char* option;
    std::function<void(TrainingOptions&)> change;
    absl::StatusCode code;
  };
  const std::vector<Case> cases = {
      {"architecture", [](TrainingOptions& o) { o.architecture = "lenet"; },
       absl::StatusCode::kInvalidArgument},
      {"augmentation", [](TrainingOptions& o) { o.augmentation = "mixup"; },
       absl::StatusCode::kInvalidArgument},
      {"sampling", [](TrainingOptions& o) { o.sampling = "all"; },
       absl::StatusCode::kInvalidArgument},
      {"loss", [](TrainingOptions& o) { o.loss = "hinge"; }, absl::StatusCode::kInvalidArgument},
      {"optimizer", [](TrainingOptions& o) { o.optimizer = "rmsprop"; },
       absl::StatusCode::kInvalidArgument},
      {"metric", [](TrainingOptions& o) { o.metric = "accuracy"; },
       absl::StatusCode::kInvalidArgument},
      {"device", [](TrainingOptions& o) { o.device = "tpu"; }, absl::StatusCode::kInvalidArgument},
      {"image_size", [](TrainingOptions& o) { o.image_size = 16; },
       absl::StatusCode::kInvalidArgument},
      {"num_classes", [](TrainingOptions& o) { o.num_classes = 1; },
       absl::StatusCode::kInvalidArgument},
      {"batch_size", [](TrainingOptions& o) { o.batch_size = 1; },
       absl::StatusCode::kInvalidArgument},
      {"learning_rate", [](TrainingOptions& o) { o.learning_rate = 0; },
       absl::StatusCode::kInvalidArgument},
      {"max_epochs", [](TrainingOptions& o) { o.max_epochs = 0; },
       absl::StatusCode::kInvalidArgument},
      {"patience", [](TrainingOptions& o) { o.early_stopping_patience = -1; },
       absl::StatusCode::kInvalidArgument},
      {"min_improvement", [](TrainingOptions& o) { o.min_improvement = -1; },
       absl::StatusCode::kInvalidArgument},
      {"threads", [](TrainingOptions& o) { o.threads = -2; }, absl::StatusCode::kInvalidArgument},
      {"weights", [](TrainingOptions& o) { o.pretrained_weights = "/nonexistent/w.pt"; },
       absl::StatusCode::kNotFound},
  };
  std::vector<Example> train = LabelledExamples({0, 1, 0, 1});
  REQUIRE(ValidateOptions(SmallOptions(), train).ok());
  for (const Case& c : cases) {
    INFO(c.option);
    TrainingOptions options = SmallOptions();
    c.change(options);
    CHECK(ValidateOptions(options, train).code() == c.code);
  }
}

TEST_CASE("ValidateOptions: cuda is rejected without a CUDA device") {
  TrainingOptions options = SmallOptions();
  options.device = "cuda";
  absl::Status status = ValidateOptions(options, LabelledExamples({0, 1, 0, 1}));
  if (::torch::cuda::is_available()) {
    CHECK(status.ok());
  } else {
    CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(GetErrorReason(status) == "CUDA_UNAVAILABLE");
  }
}

TEST_CASE("ValidateOptions: rejects out-of-range labels and tiny sets") {
  TrainingOptions options = SmallOptions();
  absl::Status label = ValidateOptions(options, LabelledExamples({0, 1, 2}));
  CHECK(label.code() == absl::StatusCode::kInvalidArgument);
  CHECK(GetErrorReason(label) == "LABEL_OUT_OF_RANGE");
  CHECK_THAT(std::string(label.message()), Catch::Contains("instance-2"));
  CHECK(ValidateOptions(options, LabelledExamples({1})).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("Augment: flips alone mirror the image exactly") {
  at::Tensor batch = at::rand({3, 1, 32, 32});
  AugmentationRanges flips_only;
  flips_only.max_rotation_degrees = 0;
  flips_only.min_scale = 1;
  flips_only.max_scale = 1;
  flips_only.flip_probability = 1;  // always flip both axes
  Random random(1);
  at::Tensor out = Augment(batch, random, flips_only);
  CHECK(at::allclose(out, at::flip(batch, {2, 3}), 0, 1e-5));

  flips_only.flip_probability = 0;
  CHECK(at::allclose(Augment(batch, random, flips_only), batch, 0, 1e-5));
}

TEST_CASE("Augment: random transforms change images and repeat with the seed") {
  at::Tensor batch = at::rand({4, 1, 32, 32});
  Random a(11);
  Random b(11);
  at::Tensor first = Augment(batch, a);
  at::Tensor second = Augment(batch, b);
  CHECK(first.sizes() == batch.sizes());
  CHECK(at::equal(first, second));
  CHECK_FALSE(at::allclose(first, batch, 0, 1e-3));
  CHECK(at::isfinite(first).all().item<bool>());
  // Bilinear resampling with zeros outside keeps values inside the input's 0..1 range.
  CHECK(first.min().item<float>() >= 0);
  CHECK(first.max().item<float>() <= 1);
}

}  // namespace
}  // namespace ailab::torch::internal
