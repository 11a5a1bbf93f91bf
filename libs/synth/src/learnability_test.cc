// Checks that the synthetic density task needs a model, yet can be learnt.
//
// 240 images, 60 per category, are reduced to 128 x 104 display images (window and
// photometric interpretation applied, 4 x 4 area average), the input a model would be
// trained on. Classifiers are fitted on 144 images and scored on the other 96, where
// chance is 25%:
// - mean brightness of the breast, nearest centroid: about 44% accuracy;
// - seven brightness quantiles and the spread of the breast, softmax regression:
//   about 47%;
// - the share of the breast with high local texture energy, nearest centroid: about
//   60%, with a rank correlation of about 0.8 with the true dense fraction.
// Global brightness statistics fail because exposure, contrast, gamma, window, vendor
// processing, large-scale unevenness and the pectoral muscle vary from image to image.
// A single local texture measure already recovers much of the truth, so the category
// is in the pixels for a model to learn. The checks below keep margins around these
// values, which are fixed for the fixed seed.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include <catch2/catch.hpp>

#include "ailab/synth/mammogram.h"

namespace ailab::synth {
namespace {

constexpr int kPerCategory = 60;
constexpr int kTrainPerCategory = 36;
constexpr int kFactor = 4;
// Texture energy threshold, relative to the squared brightness range of the breast.
constexpr double kTextureThreshold = 0.0015;

// One image reduced to display values, with a breast mask (breast or muscle).
struct Reduced {
  int width = 0;
  int height = 0;
  std::vector<double> display;
  std::vector<uint8_t> breast;
  int category = 0;
  double dense_fraction = 0;
};

Reduced Reduce(const SyntheticImage& image) {
  Reduced r;
  r.width = image.columns / kFactor;
  r.height = image.rows / kFactor;
  r.display.resize(static_cast<size_t>(r.width) * r.height);
  r.breast.resize(r.display.size());
  r.category = static_cast<int>(image.category);
  r.dense_fraction = image.dense_fraction;
  for (int y = 0; y < r.height; ++y) {
    for (int x = 0; x < r.width; ++x) {
      double sum = 0;
      int tissue = 0;
      for (int dy = 0; dy < kFactor; ++dy) {
        for (int dx = 0; dx < kFactor; ++dx) {
          const size_t i = static_cast<size_t>(y * kFactor + dy) * image.columns + x * kFactor + dx;
          sum += DisplayValue(image, image.pixels[i]);
          tissue += image.labels[i] != static_cast<uint8_t>(TissueLabel::kBackground);
        }
      }
      r.display[static_cast<size_t>(y) * r.width + x] = sum / (kFactor * kFactor);
      r.breast[static_cast<size_t>(y) * r.width + x] = 2 * tissue > kFactor * kFactor;
    }
  }
  return r;
}

std::vector<double> BreastValues(const Reduced& r) {
  std::vector<double> values;
  for (size_t i = 0; i < r.display.size(); ++i) {
    if (r.breast[i]) values.push_back(r.display[i]);
  }
  std::sort(values.begin(), values.end());
  return values;
}

double QuantileSorted(const std::vector<double>& sorted, double q) {
  return sorted[static_cast<size_t>(q * (sorted.size() - 1) + 0.5)];
}

// Fraction of the breast whose texture energy is high. Fibroglandular tissue is
// streaked with fine strands while fat is smooth. The band-pass image (the display
// image minus its 3 x 3 box mean) therefore has high local energy (its square averaged
// over 5 x 5) over dense tissue. A pixel counts as dense when that energy exceeds
// `threshold` times the square of the breast's 5-95% brightness range.
double TextureDenseFraction(const Reduced& r, double threshold) {
  const int w = r.width, h = r.height;
  auto box_mean = [&](const std::vector<double>& values, int x, int y, int radius) {
    double sum = 0;
    int n = 0;
    for (int yy = std::max(0, y - radius); yy <= std::min(h - 1, y + radius); ++yy) {
      for (int xx = std::max(0, x - radius); xx <= std::min(w - 1, x + radius); ++xx) {
        if (!r.breast[yy * w + xx]) continue;
        sum += values[yy * w + xx];
        ++n;
      }
    }
    return n > 0 ? sum / n : 0.0;
  };
  std::vector<double> detail(r.display.size(), 0);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      if (!r.breast[y * w + x]) continue;
      const double d = r.display[y * w + x] - box_mean(r.display, x, y, 1);
      detail[y * w + x] = d * d;
    }
  }
  const std::vector<double> sorted = BreastValues(r);
  const double range = QuantileSorted(sorted, 0.95) - QuantileSorted(sorted, 0.05);
  int dense = 0, total = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      if (!r.breast[y * w + x]) continue;
      dense += box_mean(detail, x, y, 2) > threshold * range * range;
      ++total;
    }
  }
  return static_cast<double>(dense) / std::max(1, total);
}

using Features = std::vector<double>;

// Standardises each feature with the training mean and deviation.
void Standardise(std::vector<Features>& train, std::vector<Features>& test) {
  const size_t n = train.front().size();
  for (size_t j = 0; j < n; ++j) {
    double mean = 0, sq = 0;
    for (const auto& f : train) mean += f[j];
    mean /= train.size();
    for (const auto& f : train) sq += (f[j] - mean) * (f[j] - mean);
    const double sd = std::sqrt(sq / train.size()) + 1e-12;
    for (auto& f : train) f[j] = (f[j] - mean) / sd;
    for (auto& f : test) f[j] = (f[j] - mean) / sd;
  }
}

double NearestCentroidAccuracy(std::vector<Features> train, const std::vector<int>& train_labels,
                               std::vector<Features> test, const std::vector<int>& test_labels) {
  Standardise(train, test);
  const size_t n = train.front().size();
  std::array<Features, kDensityCategoryCount> centroid;
  std::array<int, kDensityCategoryCount> count{};
  for (auto& c : centroid) c.assign(n, 0);
  for (size_t i = 0; i < train.size(); ++i) {
    for (size_t j = 0; j < n; ++j) centroid[train_labels[i]][j] += train[i][j];
    ++count[train_labels[i]];
  }
  for (int k = 0; k < kDensityCategoryCount; ++k) {
    for (double& v : centroid[k]) v /= std::max(1, count[k]);
  }
  int correct = 0;
  for (size_t i = 0; i < test.size(); ++i) {
    int best = 0;
    double best_distance = 1e300;
    for (int k = 0; k < kDensityCategoryCount; ++k) {
      double d = 0;
      for (size_t j = 0; j < n; ++j)
        d += (test[i][j] - centroid[k][j]) * (test[i][j] - centroid[k][j]);
      if (d < best_distance) best_distance = d, best = k;
    }
    correct += best == test_labels[i];
  }
  return static_cast<double>(correct) / test.size();
}

// Softmax regression fitted by full-batch gradient descent with a small L2 penalty.
double SoftmaxAccuracy(std::vector<Features> train, const std::vector<int>& train_labels,
                       std::vector<Features> test, const std::vector<int>& test_labels) {
  Standardise(train, test);
  const size_t n = train.front().size() + 1;
  for (auto& f : train) f.push_back(1);
  for (auto& f : test) f.push_back(1);
  std::vector<std::array<double, kDensityCategoryCount>> weights(n);
  for (auto& w : weights) w.fill(0);
  auto scores = [&](const Features& f) {
    std::array<double, kDensityCategoryCount> z{};
    for (int k = 0; k < kDensityCategoryCount; ++k) {
      for (size_t j = 0; j < n; ++j) z[k] += weights[j][k] * f[j];
    }
    return z;
  };
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::vector<std::array<double, kDensityCategoryCount>> gradient(n);
    for (auto& g : gradient) g.fill(0);
    for (size_t i = 0; i < train.size(); ++i) {
      auto z = scores(train[i]);
      const double top = *std::max_element(z.begin(), z.end());
      double sum = 0;
      for (double& v : z) sum += (v = std::exp(v - top));
      for (int k = 0; k < kDensityCategoryCount; ++k) {
        const double error = z[k] / sum - (train_labels[i] == k ? 1 : 0);
        for (size_t j = 0; j < n; ++j) gradient[j][k] += error * train[i][j];
      }
    }
    for (size_t j = 0; j < n; ++j) {
      for (int k = 0; k < kDensityCategoryCount; ++k) {
        weights[j][k] -= 0.5 * (gradient[j][k] / train.size() + 1e-3 * weights[j][k]);
      }
    }
  }
  int correct = 0;
  for (size_t i = 0; i < test.size(); ++i) {
    const auto z = scores(test[i]);
    correct += std::max_element(z.begin(), z.end()) - z.begin() == test_labels[i];
  }
  return static_cast<double>(correct) / test.size();
}

std::vector<double> Ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t r = 0; r < order.size(); ++r) ranks[order[r]] = static_cast<double>(r);
  return ranks;
}

double Correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / a.size();
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / b.size();
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

TEST_CASE("Density task: brightness fails, texture works", "[synth][slow]") {
  Random random(20240601);
  std::vector<Features> mean_train, mean_test, histogram_train, histogram_test;
  std::vector<int> train_labels, test_labels;
  std::vector<Features> texture_train, texture_test;
  std::vector<double> texture, truth;
  for (int index = 0; index < kPerCategory; ++index) {
    for (int c = 0; c < kDensityCategoryCount; ++c) {
      MammogramParams params;
      params.category = static_cast<DensityCategory>(c);
      auto image = GenerateMammogram(params, random);
      REQUIRE(image.ok());
      const Reduced reduced = Reduce(*image);
      const std::vector<double> sorted = BreastValues(reduced);
      const double mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / sorted.size();
      Features histogram;
      for (double q : {0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95}) {
        histogram.push_back(QuantileSorted(sorted, q));
      }
      double sq = 0;
      for (double v : sorted) sq += (v - mean) * (v - mean);
      histogram.push_back(std::sqrt(sq / sorted.size()));
      const bool train = index < kTrainPerCategory;
      (train ? mean_train : mean_test).push_back({mean});
      (train ? histogram_train : histogram_test).push_back(histogram);
      (train ? train_labels : test_labels).push_back(c);
      texture.push_back(TextureDenseFraction(reduced, kTextureThreshold));
      (train ? texture_train : texture_test).push_back({texture.back()});
      truth.push_back(image->dense_fraction);
    }
  }

  const double mean_accuracy =
      NearestCentroidAccuracy(mean_train, train_labels, mean_test, test_labels);
  const double histogram_accuracy =
      SoftmaxAccuracy(histogram_train, train_labels, histogram_test, test_labels);
  const double texture_correlation = Correlation(Ranks(texture), Ranks(truth));
  std::printf("mean brightness, nearest centroid: accuracy %.3f\n", mean_accuracy);
  std::printf("brightness quantiles, softmax regression: accuracy %.3f\n", histogram_accuracy);
  std::printf("texture dense fraction: rank correlation with truth %.3f\n", texture_correlation);
  const double texture_accuracy =
      NearestCentroidAccuracy(texture_train, train_labels, texture_test, test_labels);
  std::printf("texture dense fraction, nearest centroid: accuracy %.3f\n", texture_accuracy);

  CHECK(mean_accuracy < 0.5);
  CHECK(histogram_accuracy < 0.55);
  CHECK(texture_correlation > 0.7);
  CHECK(texture_accuracy > histogram_accuracy + 0.05);
}

}  // namespace
}  // namespace ailab::synth
