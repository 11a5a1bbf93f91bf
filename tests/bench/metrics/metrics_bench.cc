// Times libs/metrics on generated predictions and writes those predictions as raw
// arrays, so that anchor_sklearn.py can time scikit-learn on the very same rows.
//
//   bench_metrics --task classification --rows N --data DIR [--repeats R]
//   bench_metrics --task bootstrap --rows N --data DIR [--repeats R]
//
// Files in DIR (native byte order): truth2.i32 and scores2.f64 (binary rows: label,
// positive-class score), truth4.i32 and probabilities4.f64 (four-class rows: label,
// row-major N x 4 probabilities). Output lines, one per measured operation:
//   TIME <operation> <seconds, best of R>
//   VALUE <operation> <result, for checking both sides computed the same thing>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "ailab/metrics/classification.h"
#include "ailab/metrics/intervals.h"

namespace {

namespace metrics = ::ailab::metrics;

uint64_t SplitMix64(uint64_t seed, uint64_t index) {
  uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform double in [0, 1) from a 64-bit hash.
double Unit(uint64_t hash) { return static_cast<double>(hash >> 11) * 0x1.0p-53; }

struct Rows {
  std::vector<int> truth2;
  std::vector<double> scores2;
  std::vector<int> truth4;
  std::vector<double> probabilities4;
};

// Binary rows: half positive, scores 0.6 u + 0.4 truth rounded to 6 decimals (so ties
// occur at 10^7 rows, AUC about 0.94). Four-class rows: class c gets u_c + 0.5 [truth ==
// c], normalised to sum 1.
Rows Generate(size_t n) {
  Rows rows;
  rows.truth2.resize(n);
  rows.scores2.resize(n);
  rows.truth4.resize(n);
  rows.probabilities4.resize(4 * n);
  for (size_t i = 0; i < n; ++i) {
    rows.truth2[i] = static_cast<int>(SplitMix64(1, i) & 1);
    rows.scores2[i] =
        std::round((0.6 * Unit(SplitMix64(2, i)) + 0.4 * rows.truth2[i]) * 1e6) / 1e6;
    rows.truth4[i] = static_cast<int>(SplitMix64(3, i) % 4);
    double values[4];
    double sum = 0;
    for (int c = 0; c < 4; ++c) {
      values[c] = Unit(SplitMix64(4 + c, i)) + (rows.truth4[i] == c ? 0.5 : 0.0);
      sum += values[c];
    }
    for (int c = 0; c < 4; ++c) rows.probabilities4[4 * i + c] = values[c] / sum;
  }
  return rows;
}

template <typename T>
void WriteArray(const std::string& path, const std::vector<T>& values) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(T)));
  if (!out) {
    std::fprintf(stderr, "bench_metrics: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

// Runs `operation` `repeats` times, prints the best time and the value of the last run.
void Measure(const char* name, int repeats, const std::function<double()>& operation) {
  double best = std::numeric_limits<double>::infinity();
  double value = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    value = operation();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count());
  }
  std::printf("TIME %s %.6f\nVALUE %s %.12g\n", name, best, name, value);
  std::fflush(stdout);
}

template <typename T>
T Unwrap(absl::StatusOr<T> result) {
  if (!result.ok()) {
    std::fprintf(stderr, "bench_metrics: %s\n", result.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(result);
}

void RunClassification(const Rows& rows, int repeats) {
  Measure("binary_confusion_matrix", repeats, [&] {
    const auto cm = Unwrap(metrics::ConfusionAtThreshold(rows.truth2, rows.scores2, 0.5));
    return static_cast<double>(cm.at(1, 1));
  });
  Measure("binary_kappa", repeats, [&] {
    const auto cm = Unwrap(metrics::ConfusionAtThreshold(rows.truth2, rows.scores2, 0.5));
    return metrics::CohenKappa(cm, metrics::Weighting::kNone);
  });
  Measure("binary_auc", repeats, [&] { return Unwrap(metrics::BinaryAuc(rows.truth2, rows.scores2)); });
  Measure("binary_roc_curve", repeats, [&] {
    const auto roc = Unwrap(metrics::RocCurve(rows.truth2, rows.scores2, /*drop_intermediate=*/true));
    return static_cast<double>(roc.size());
  });
  Measure("four_class_quadratic_kappa", repeats, [&] {
    const auto cm = Unwrap(metrics::ConfusionOfArgmax(rows.truth4, rows.probabilities4, 4));
    return metrics::CohenKappa(cm, metrics::Weighting::kQuadratic);
  });
  Measure("four_class_ovr_auc", repeats, [&] {
    return Unwrap(metrics::OneVsRestAuc(rows.truth4, rows.probabilities4, 4));
  });
}

void RunBootstrap(const Rows& rows, int repeats) {
  metrics::BootstrapOptions options;
  options.replicates = 1000;
  Measure("bootstrap_kappa_1000", repeats, [&] {
    const auto cm = Unwrap(metrics::ConfusionOfArgmax(rows.truth4, rows.probabilities4, 4));
    const auto interval =
        Unwrap(metrics::KappaBootstrapInterval(cm, metrics::Weighting::kNone, options));
    return interval.upper - interval.lower;
  });
  Measure("bootstrap_auc_1000", repeats, [&] {
    const auto interval = Unwrap(metrics::AucBootstrapInterval(rows.truth2, rows.scores2, options));
    return interval.upper - interval.lower;
  });
  Measure("delong_auc_interval", repeats, [&] {
    const auto result = Unwrap(metrics::AucDeLongInterval(rows.truth2, rows.scores2));
    return result.interval.upper - result.interval.lower;
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::string task = "classification";
  std::string data;
  int64_t rows = 1000000;
  int repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    int parsed = 0;
    if (key == "--task") {
      task = value;
    } else if (key == "--data") {
      data = value;
    } else if (key == "--rows" && absl::SimpleAtoi(value, &rows) && rows > 0) {
    } else if (key == "--repeats" && absl::SimpleAtoi(value, &parsed) && parsed > 0) {
      repeats = parsed;
    } else {
      std::fprintf(stderr, "bench_metrics: invalid option %s %s\n", key.c_str(), value.c_str());
      return 2;
    }
  }
  if (data.empty() || (task != "classification" && task != "bootstrap")) {
    std::fprintf(stderr,
                 "usage: bench_metrics --task classification|bootstrap --rows N --data DIR "
                 "[--repeats R]\n");
    return 2;
  }
  const Rows generated = Generate(static_cast<size_t>(rows));
  WriteArray(data + "/truth2.i32", generated.truth2);
  WriteArray(data + "/scores2.f64", generated.scores2);
  WriteArray(data + "/truth4.i32", generated.truth4);
  WriteArray(data + "/probabilities4.f64", generated.probabilities4);
  std::printf("INFO rows=%lld threads=%u\n", static_cast<long long>(rows),
              std::thread::hardware_concurrency());
  if (task == "classification") {
    RunClassification(generated, repeats);
  } else {
    RunBootstrap(generated, repeats);
  }
  return 0;
}
