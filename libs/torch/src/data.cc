#include "data.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ailab/imaging/npy.h"
#include "ailab/status/status.h"

namespace ailab::torch::internal {

uint64_t Random::Below(uint64_t n) {
  // Rejection sampling on the top of the range keeps every value equally likely.
  const uint64_t limit =
      std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  uint64_t value;
  do {
    value = engine_();
  } while (value >= limit);
  return value % n;
}

double Random::Uniform() {
  // The top 53 bits fill a double's mantissa exactly.
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

void Random::Shuffle(std::vector<int64_t>& values) {
  for (size_t i = values.size(); i > 1; --i) {
    std::swap(values[i - 1], values[Below(i)]);
  }
}

std::string Random::Save() const {
  std::ostringstream out;
  out << engine_;
  return out.str();
}

bool Random::Restore(const std::string& state) {
  std::istringstream in(state);
  std::mt19937_64 engine;
  in >> engine;
  if (in.fail()) return false;
  engine_ = engine;
  return true;
}

namespace {

// Image side of an array's shape, or -1 when the shape is not a square image.
int64_t SquareSide(const std::vector<int64_t>& shape) {
  if (shape.size() == 2 && shape[0] == shape[1]) return shape[0];
  if (shape.size() == 3 && shape[0] == 1 && shape[1] == shape[2]) return shape[1];
  if (shape.size() == 3 && shape[2] == 1 && shape[0] == shape[1]) return shape[0];
  return -1;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  return absl::StrCat("(", absl::StrJoin(shape, ", "), ")");
}

absl::Status CopyPixels(const imaging::Array& array, float* out, int64_t count,
                        const Example& example, absl::string_view role, size_t index) {
  if (array.dtype == imaging::kFloat32) {
    std::memcpy(out, array.bytes.data(), static_cast<size_t>(count) * sizeof(float));
    for (int64_t i = 0; i < count; ++i) {
      if (!std::isfinite(out[i])) {
        return InvalidArgument(
            "ARRAY_NOT_FINITE", role,
            absl::StrCat(role, " example ", index, " (", example.id, ") has a NaN or infinite ",
                         "pixel at element ", i, "; prepare the array again"),
            {{"id", example.id}, {"element", absl::StrCat(i)}});
      }
    }
    return absl::OkStatus();
  }
  if (array.dtype == imaging::kUint16) {
    const auto* in = reinterpret_cast<const uint8_t*>(array.bytes.data());
    for (int64_t i = 0; i < count; ++i) {
      uint16_t value = static_cast<uint16_t>(in[2 * i] | (in[2 * i + 1] << 8));
      out[i] = static_cast<float>(value) / 65535.0f;
    }
    return absl::OkStatus();
  }
  if (array.dtype == imaging::kUint8) {
    for (int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(array.bytes[i]) / 255.0f;
    return absl::OkStatus();
  }
  return InvalidArgument("ARRAY_DTYPE_UNSUPPORTED", role,
                         absl::StrCat(role, " example ", index, " (", example.id, ") has dtype ",
                                      array.dtype, "; prepare arrays as float32, uint16 or uint8"),
                         {{"id", example.id}, {"dtype", array.dtype}});
}

}  // namespace

absl::StatusOr<ImageSet> LoadImageSet(const std::vector<Example>& examples, int image_size,
                                      absl::string_view role) {
  const int64_t n = static_cast<int64_t>(examples.size());
  const int64_t pixels = static_cast<int64_t>(image_size) * image_size;
  ImageSet set;
  set.images = at::empty({n, 1, image_size, image_size}, at::kFloat);
  set.labels = at::empty({n}, at::kLong);
  float* images = set.images.data_ptr<float>();
  int64_t* labels = set.labels.data_ptr<int64_t>();
  set.label_values.reserve(examples.size());

  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& example = examples[i];
    absl::StatusOr<imaging::Array> array = imaging::ReadNpy(example.array_path);
    if (!array.ok()) {
      return Annotate(array.status(), absl::StrCat("reading the array of ", role, " example ", i,
                                                   " (", example.id, ")"));
    }
    if (SquareSide(array->shape) != image_size) {
      return InvalidArgument(
          "ARRAY_SHAPE_MISMATCH", role,
          absl::StrCat(role, " example ", i, " (", example.id, ") has shape ",
                       ShapeText(array->shape), " but the model takes ", image_size, " x ",
                       image_size, "; prepare the dataset at image_size ", image_size,
                       " or set image_size to the prepared size"),
          {{"id", example.id},
           {"shape", ShapeText(array->shape)},
           {"image_size", absl::StrCat(image_size)}});
    }
    AILAB_RETURN_IF_ERROR(CopyPixels(*array, images + i * pixels, pixels, example, role, i));
    labels[i] = example.label;
    set.label_values.push_back(example.label);
  }
  return set;
}

EpochSampler::EpochSampler(Sampling sampling, const std::vector<int>& labels, int num_classes)
    : sampling_(sampling),
      example_count_(static_cast<int64_t>(labels.size())),
      by_class_(static_cast<size_t>(num_classes)) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= 0 && labels[i] < num_classes) {
      by_class_[labels[i]].push_back(static_cast<int64_t>(i));
    }
  }
  epoch_size_ = example_count_;
  if (sampling_ == Sampling::kPositivesOnly) {
    int64_t positives = static_cast<int64_t>(by_class_[kPositiveClass].size());
    int64_t negatives = static_cast<int64_t>(by_class_[1 - kPositiveClass].size());
    epoch_size_ = positives + std::min(positives, negatives);
  }
}

std::vector<int64_t> EpochSampler::NextEpoch(Random& random) const {
  switch (sampling_) {
    case Sampling::kEqual:
      return EqualEpoch(random);
    case Sampling::kPositivesOnly:
      return PositivesEpoch(random);
    case Sampling::kRandom:
      break;
  }
  std::vector<int64_t> order(static_cast<size_t>(example_count_));
  for (int64_t i = 0; i < example_count_; ++i) order[i] = i;
  random.Shuffle(order);
  return order;
}

std::vector<int64_t> EpochSampler::EqualEpoch(Random& random) const {
  // Classes without examples cannot be drawn; ValidateOptions rejects them earlier.
  std::vector<int64_t> classes;
  for (size_t c = 0; c < by_class_.size(); ++c) {
    if (!by_class_[c].empty()) classes.push_back(static_cast<int64_t>(c));
  }
  std::vector<std::vector<int64_t>> queues(by_class_.size());
  std::vector<size_t> positions(by_class_.size(), 0);
  std::vector<int64_t> round = classes;
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(epoch_size_));
  while (static_cast<int64_t>(order.size()) < epoch_size_) {
    random.Shuffle(round);
    for (int64_t c : round) {
      if (static_cast<int64_t>(order.size()) == epoch_size_) break;
      if (positions[c] == queues[c].size()) {
        queues[c] = by_class_[c];
        random.Shuffle(queues[c]);
        positions[c] = 0;
      }
      order.push_back(queues[c][positions[c]++]);
    }
  }
  return order;
}

std::vector<int64_t> EpochSampler::PositivesEpoch(Random& random) const {
  std::vector<int64_t> order = by_class_[kPositiveClass];
  std::vector<int64_t> negatives = by_class_[1 - kPositiveClass];
  random.Shuffle(negatives);
  size_t take = std::min(order.size(), negatives.size());
  order.insert(order.end(), negatives.begin(), negatives.begin() + static_cast<int64_t>(take));
  random.Shuffle(order);
  return order;
}

at::Tensor Augment(const at::Tensor& batch, Random& random, const AugmentationRanges& ranges) {
  const int64_t n = batch.size(0);
  at::Tensor theta = at::empty({n, 2, 3}, at::kFloat);
  float* t = theta.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    double angle =
        (2 * random.Uniform() - 1) * ranges.max_rotation_degrees * std::numbers::pi / 180;
    double scale = ranges.min_scale + random.Uniform() * (ranges.max_scale - ranges.min_scale);
    double flip_x = random.Uniform() < ranges.flip_probability ? -1 : 1;
    double flip_y = random.Uniform() < ranges.flip_probability ? -1 : 1;
    // affine_grid maps output coordinates to input coordinates, so the matrix is the
    // inverse of the wanted transform: rotate, then divide by the scale to enlarge.
    double c = std::cos(angle) / scale;
    double s = std::sin(angle) / scale;
    float* m = t + i * 6;
    m[0] = static_cast<float>(c * flip_x);
    m[1] = static_cast<float>(-s * flip_y);
    m[2] = 0;
    m[3] = static_cast<float>(s * flip_x);
    m[4] = static_cast<float>(c * flip_y);
    m[5] = 0;
  }
  theta = theta.to(batch.device());
  at::Tensor grid = at::affine_grid_generator(theta, batch.sizes(), /*align_corners=*/false);
  return at::grid_sampler(batch, grid, /*interpolation_mode=bilinear*/ 0,
                          /*padding_mode=zeros*/ 0, /*align_corners=*/false);
}

}  // namespace ailab::torch::internal
