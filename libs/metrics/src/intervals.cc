#include "ailab/metrics/intervals.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "src/parallel.h"

namespace ailab::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Ratio(int64_t numerator, int64_t denominator) {
  if (denominator == 0) return kNaN;
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

absl::Status ValidateConfidence(double confidence) {
  if (confidence > 0 && confidence < 1) return absl::OkStatus();
  const std::string value = absl::StrCat(confidence);
  return InvalidArgument("INVALID_CONFIDENCE", "confidence",
                         absl::StrCat("confidence is ", confidence,
                                      "; pass a level strictly between 0 and 1 such as 0.95"),
                         {{"confidence", value}});
}

absl::Status ValidateOptions(const BootstrapOptions& options) {
  if (options.replicates < 1) {
    const std::string replicates = absl::StrCat(options.replicates);
    return InvalidArgument("INVALID_REPLICATES", "replicates",
                           absl::StrCat("replicates is ", options.replicates,
                                        "; draw at least 1 (1000 is usual)"),
                           {{"replicates", replicates}});
  }
  return ValidateConfidence(options.confidence);
}

// Percentile interval of `values` (NaN entries are skipped), interpolating linearly
// between order statistics as numpy.percentile does by default.
Interval PercentileInterval(std::vector<double> values, double confidence) {
  std::erase_if(values, [](double value) { return std::isnan(value); });
  if (values.empty()) return Interval{kNaN, kNaN};
  std::sort(values.begin(), values.end());
  auto percentile = [&](double q) {
    const double position = q * static_cast<double>(values.size() - 1);
    const size_t below = static_cast<size_t>(std::floor(position));
    const size_t above = std::min(below + 1, values.size() - 1);
    const double fraction = position - static_cast<double>(below);
    return values[below] + fraction * (values[above] - values[below]);
  };
  const double tail = (1.0 - confidence) / 2.0;
  return Interval{percentile(tail), percentile(1.0 - tail)};
}

// Draws `sample` from a multinomial of sum(counts) trials with cell probabilities
// counts / sum(counts), as a chain of binomials: cell i gets Binomial(trials left,
// counts[i] / mass left).
template <typename Engine>
void DrawMultinomial(const std::vector<int64_t>& counts, int64_t total, Engine& engine,
                     std::vector<int64_t>& sample) {
  int64_t trials_left = total;
  int64_t mass_left = total;
  for (size_t cell = 0; cell < counts.size(); ++cell) {
    const int64_t count = counts[cell];
    if (trials_left == 0 || count == 0) {
      sample[cell] = 0;
    } else if (count == mass_left) {
      sample[cell] = trials_left;
    } else {
      std::binomial_distribution<int64_t> draw(
          trials_left, static_cast<double>(count) / static_cast<double>(mass_left));
      sample[cell] = draw(engine);
    }
    trials_left -= sample[cell];
    mass_left -= count;
  }
}

// A fast generator for drawing row indices: splitmix64 over a counter, bounded to
// [0, bound) with Lemire's multiply-shift.
class RowDrawer {
 public:
  explicit RowDrawer(uint64_t seed) : state_(seed) {}
  // Uniform index in [0, bound).
  uint64_t Next(uint64_t bound) {
    state_ += 0x9E3779B97F4A7C15ull;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<uint64_t>((static_cast<unsigned __int128>(z) * bound) >> 64);
  }

 private:
  uint64_t state_;
};

// Sorted distinct scores with their positive and negative counts, ascending.
struct ScoreLevels {
  std::vector<int64_t> positives;
  std::vector<int64_t> negatives;
};

ScoreLevels LevelsOf(std::span<const int> truth01, std::span<const double> scores) {
  std::vector<double> positive_scores;
  std::vector<double> negative_scores;
  for (size_t i = 0; i < truth01.size(); ++i) {
    (truth01[i] == 1 ? positive_scores : negative_scores).push_back(scores[i]);
  }
  internal::LargeVector<uint64_t> scratch;
  internal::RadixSort(positive_scores, scratch);
  internal::RadixSort(negative_scores, scratch);
  ScoreLevels levels;
  size_t p = 0;
  size_t q = 0;
  while (p < positive_scores.size() || q < negative_scores.size()) {
    double level = std::numeric_limits<double>::infinity();
    if (p < positive_scores.size()) level = positive_scores[p];
    if (q < negative_scores.size()) level = std::min(level, negative_scores[q]);
    int64_t positive_count = 0;
    int64_t negative_count = 0;
    while (p < positive_scores.size() && positive_scores[p] == level) ++p, ++positive_count;
    while (q < negative_scores.size() && negative_scores[q] == level) ++q, ++negative_count;
    levels.positives.push_back(positive_count);
    levels.negatives.push_back(negative_count);
  }
  return levels;
}

// Mann-Whitney AUC from interleaved per-level counts: cell 2l is the negatives of level
// l, cell 2l + 1 its positives. NaN without both classes.
double AucOfCells(const std::vector<int64_t>& cells) {
  int64_t positives = 0;
  int64_t negatives_below = 0;
  double twice_u = 0;
  for (size_t level = 0; level < cells.size() / 2; ++level) {
    const int64_t negative_count = cells[2 * level];
    const int64_t positive_count = cells[2 * level + 1];
    twice_u += static_cast<double>(positive_count) *
               static_cast<double>(2 * negatives_below + negative_count);
    positives += positive_count;
    negatives_below += negative_count;
  }
  if (positives == 0 || negatives_below == 0) return kNaN;
  return twice_u / (2.0 * static_cast<double>(positives) * static_cast<double>(negatives_below));
}

}  // namespace

double NormalQuantileTwoSided(double confidence) {
  // Bisection on erf(z / sqrt 2) = confidence; 200 halvings of [0, 40] reach the
  // resolution of a double.
  double low = 0;
  double high = 40;
  for (int i = 0; i < 200; ++i) {
    const double middle = (low + high) / 2;
    if (std::erf(middle / std::sqrt(2.0)) < confidence) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return (low + high) / 2;
}

absl::StatusOr<AucWithInterval> AucDeLongInterval(std::span<const int> truth01,
                                                  std::span<const double> scores,
                                                  double confidence) {
  AILAB_RETURN_IF_ERROR(ValidateConfidence(confidence));
  AILAB_ASSIGN_OR_RETURN(double auc, BinaryAuc(truth01, scores));
  const ScoreLevels levels = LevelsOf(truth01, scores);
  int64_t positives = 0;
  int64_t negatives = 0;
  for (size_t l = 0; l < levels.positives.size(); ++l) {
    positives += levels.positives[l];
    negatives += levels.negatives[l];
  }
  AucWithInterval result;
  result.auc = auc;
  if (positives < 2 || negatives < 2) {
    result.variance = kNaN;
    result.interval = {kNaN, kNaN};
    return result;
  }

  // Structural components: V10 of a positive is the share of negatives it outranks
  // (ties count one half), V01 of a negative the share of positives that outrank it.
  // Rows on one score level share their value, so the sums run over levels.
  const double p = static_cast<double>(positives);
  const double n = static_cast<double>(negatives);
  int64_t negatives_below = 0;
  int64_t positives_below = 0;
  double sum_squares_10 = 0;
  double sum_squares_01 = 0;
  for (size_t l = 0; l < levels.positives.size(); ++l) {
    const int64_t positive_count = levels.positives[l];
    const int64_t negative_count = levels.negatives[l];
    const double v10 = (static_cast<double>(negatives_below) + 0.5 * negative_count) / n - auc;
    const double v01 =
        (p - static_cast<double>(positives_below) - 0.5 * positive_count) / p - auc;
    sum_squares_10 += static_cast<double>(positive_count) * v10 * v10;
    sum_squares_01 += static_cast<double>(negative_count) * v01 * v01;
    negatives_below += negative_count;
    positives_below += positive_count;
  }
  result.variance = sum_squares_10 / (p - 1) / p + sum_squares_01 / (n - 1) / n;
  const double half_width = NormalQuantileTwoSided(confidence) * std::sqrt(result.variance);
  result.interval = {std::max(0.0, auc - half_width), std::min(1.0, auc + half_width)};
  return result;
}

absl::StatusOr<std::vector<Interval>> ConfusionBootstrapIntervals(
    const ConfusionMatrix& cm, const std::vector<ConfusionStatistic>& statistics,
    const BootstrapOptions& options) {
  AILAB_RETURN_IF_ERROR(ValidateOptions(options));
  const int64_t total = cm.total();
  if (total == 0) return std::vector<Interval>(statistics.size(), Interval{kNaN, kNaN});

  std::mt19937_64 engine(options.seed);
  ConfusionMatrix sample;
  sample.num_classes = cm.num_classes;
  sample.counts.assign(cm.counts.size(), 0);
  std::vector<std::vector<double>> values(statistics.size());
  for (auto& column : values) column.reserve(options.replicates);
  for (int r = 0; r < options.replicates; ++r) {
    DrawMultinomial(cm.counts, total, engine, sample.counts);
    for (size_t s = 0; s < statistics.size(); ++s) values[s].push_back(statistics[s](sample));
  }
  std::vector<Interval> intervals;
  intervals.reserve(statistics.size());
  for (auto& column : values) {
    intervals.push_back(PercentileInterval(std::move(column), options.confidence));
  }
  return intervals;
}

absl::StatusOr<Interval> KappaBootstrapInterval(const ConfusionMatrix& cm, Weighting weighting,
                                                const BootstrapOptions& options) {
  AILAB_ASSIGN_OR_RETURN(
      std::vector<Interval> intervals,
      ConfusionBootstrapIntervals(
          cm, {[weighting](const ConfusionMatrix& m) { return CohenKappa(m, weighting); }},
          options));
  return intervals[0];
}

absl::StatusOr<ThresholdIntervals> ThresholdBootstrapIntervals(std::span<const int> truth01,
                                                               std::span<const double> scores,
                                                               double threshold,
                                                               const BootstrapOptions& options) {
  AILAB_ASSIGN_OR_RETURN(ThresholdMetrics at,
                         SensitivitySpecificity(truth01, scores, threshold));
  // Cells in Confusion() order: (truth 0, called 0), (0, 1), (1, 0), (1, 1).
  AILAB_ASSIGN_OR_RETURN(ConfusionMatrix cm,
                         ConfusionFromCounts(2, {at.true_negatives, at.false_positives,
                                                 at.false_negatives, at.true_positives}));
  auto tn = [](const ConfusionMatrix& m) { return m.counts[0]; };
  auto fp = [](const ConfusionMatrix& m) { return m.counts[1]; };
  auto fn = [](const ConfusionMatrix& m) { return m.counts[2]; };
  auto tp = [](const ConfusionMatrix& m) { return m.counts[3]; };
  std::vector<ConfusionStatistic> statistics = {
      [&](const ConfusionMatrix& m) { return Ratio(tp(m), tp(m) + fn(m)); },
      [&](const ConfusionMatrix& m) { return Ratio(tn(m), tn(m) + fp(m)); },
      [&](const ConfusionMatrix& m) { return Ratio(tp(m), tp(m) + fp(m)); },
      [&](const ConfusionMatrix& m) { return Ratio(tn(m), tn(m) + fn(m)); },
      [&](const ConfusionMatrix& m) { return Ratio(2 * tp(m), 2 * tp(m) + fp(m) + fn(m)); },
      [&](const ConfusionMatrix& m) { return Ratio(tp(m) + tn(m), m.total()); },
  };
  AILAB_ASSIGN_OR_RETURN(std::vector<Interval> intervals,
                         ConfusionBootstrapIntervals(cm, statistics, options));
  return ThresholdIntervals{intervals[0], intervals[1], intervals[2],
                            intervals[3], intervals[4], intervals[5]};
}

absl::StatusOr<Interval> AucBootstrapInterval(std::span<const int> truth01,
                                              std::span<const double> scores,
                                              const BootstrapOptions& options) {
  AILAB_RETURN_IF_ERROR(ValidateOptions(options));
  AILAB_RETURN_IF_ERROR(BinaryAuc(truth01, scores).status());
  const ScoreLevels levels = LevelsOf(truth01, scores);
  const size_t level_count = levels.positives.size();
  std::vector<int64_t> cells(2 * level_count);
  for (size_t l = 0; l < level_count; ++l) {
    cells[2 * l] = levels.negatives[l];
    cells[2 * l + 1] = levels.positives[l];
  }
  const int64_t total = static_cast<int64_t>(truth01.size());

  // Drawing cells costs one binomial draw per cell, and drawing rows one uniform draw per
  // row. A binomial draw costs several uniform ones, hence the factor of 8 (an estimate).
  const bool draw_cells = static_cast<int64_t>(cells.size()) * 8 < total;
  std::vector<int32_t> cell_of_row;
  if (!draw_cells) {
    cell_of_row.reserve(total);
    for (size_t cell = 0; cell < cells.size(); ++cell) {
      cell_of_row.insert(cell_of_row.end(), cells[cell], static_cast<int32_t>(cell));
    }
  }

  std::vector<double> aucs(options.replicates);
  const int workers = internal::WorkerCount(options.replicates);
  internal::ParallelFor(workers, [&](int64_t worker) {
    std::vector<int64_t> sample(cells.size());
    for (int64_t r = worker; r < options.replicates; r += workers) {
      const uint64_t seed = internal::SplitMix64(options.seed ^ internal::SplitMix64(r));
      if (draw_cells) {
        std::mt19937_64 engine(seed);
        DrawMultinomial(cells, total, engine, sample);
      } else {
        std::fill(sample.begin(), sample.end(), 0);
        RowDrawer drawer(seed);
        for (int64_t i = 0; i < total; ++i) ++sample[cell_of_row[drawer.Next(total)]];
      }
      aucs[r] = AucOfCells(sample);
    }
  });
  return PercentileInterval(std::move(aucs), options.confidence);
}

}  // namespace ailab::metrics
