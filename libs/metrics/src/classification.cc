#include "ailab/metrics/classification.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "ailab/status/status.h"
#include "src/parallel.h"

namespace ailab::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Inputs from this many rows sort their positive and negative halves on two threads.
constexpr size_t kParallelSortMinRows = 1 << 16;

double Ratio(int64_t numerator, int64_t denominator) {
  if (denominator == 0) return kNaN;
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

absl::Status SizeMismatch(absl::string_view left_name, size_t left, absl::string_view right_name,
                          size_t right) {
  const std::string left_size = absl::StrCat(left);
  const std::string right_size = absl::StrCat(right);
  return InvalidArgument(
      "SIZE_MISMATCH", left_name,
      absl::StrCat(left_name, " has ", left, " rows but ", right_name, " has ", right,
                   "; pass one value per row in both"),
      {{"left_size", left_size}, {"right_size", right_size}});
}

// Checks that every label is 0 or 1 and every score is a number.
absl::Status ValidateBinary(std::span<const int> truth01, std::span<const double> scores) {
  if (truth01.size() != scores.size()) {
    return SizeMismatch("truth", truth01.size(), "scores", scores.size());
  }
  for (size_t i = 0; i < truth01.size(); ++i) {
    if (truth01[i] != 0 && truth01[i] != 1) {
      const std::string row = absl::StrCat(i);
      const std::string label = absl::StrCat(truth01[i]);
      return InvalidArgument("INVALID_LABEL", "truth",
                             absl::StrCat("truth label ", truth01[i], " at row ", i,
                                          " is not 0 or 1; binary metrics need 0/1 labels"),
                             {{"row", row}, {"label", label}});
    }
    if (std::isnan(scores[i])) {
      const std::string row = absl::StrCat(i);
      return InvalidArgument("INVALID_SCORE", "scores",
                             absl::StrCat("score at row ", i, " is NaN; every score must be a number"),
                             {{"row", row}});
    }
  }
  return absl::OkStatus();
}

// Checks labels 0..num_classes-1 and an n x num_classes matrix of numbers.
absl::Status ValidateMulticlass(std::span<const int> truth, std::span<const double> probabilities,
                                int num_classes) {
  if (num_classes < 2) {
    const std::string classes = absl::StrCat(num_classes);
    return InvalidArgument("INVALID_NUM_CLASSES", "num_classes",
                           absl::StrCat("num_classes is ", num_classes, "; AUC needs at least 2"),
                           {{"num_classes", classes}});
  }
  if (probabilities.size() != truth.size() * static_cast<size_t>(num_classes)) {
    const std::string expected = absl::StrCat(truth.size() * num_classes);
    const std::string actual = absl::StrCat(probabilities.size());
    return InvalidArgument(
        "SIZE_MISMATCH", "probabilities",
        absl::StrCat("probabilities has ", probabilities.size(), " values but ", truth.size(),
                     " rows of ", num_classes, " classes need ", truth.size() * num_classes),
        {{"expected_size", expected}, {"actual_size", actual}});
  }
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || truth[i] >= num_classes) {
      const std::string row = absl::StrCat(i);
      const std::string label = absl::StrCat(truth[i]);
      return InvalidArgument("INVALID_LABEL", "truth",
                             absl::StrCat("truth label ", truth[i], " at row ", i,
                                          " is outside 0..", num_classes - 1),
                             {{"row", row}, {"label", label}});
    }
  }
  for (size_t i = 0; i < probabilities.size(); ++i) {
    if (std::isnan(probabilities[i])) {
      const std::string row = absl::StrCat(i / num_classes);
      const std::string column = absl::StrCat(i % num_classes);
      return InvalidArgument("INVALID_SCORE", "probabilities",
                             absl::StrCat("probability at row ", i / num_classes, " class ",
                                          i % num_classes, " is NaN"),
                             {{"row", row}, {"class", column}});
    }
  }
  return absl::OkStatus();
}

absl::Status AucUndefined(absl::string_view what, int64_t positives, int64_t negatives) {
  const std::string positive_count = absl::StrCat(positives);
  const std::string negative_count = absl::StrCat(negatives);
  return FailedPrecondition(
      "AUC_UNDEFINED",
      absl::StrCat(what, " is undefined with ", positives, " positive and ", negatives,
                   " negative rows; it needs at least one of each"),
      {{"positives", positive_count}, {"negatives", negative_count}});
}

// Splits the rows into the ascending sort keys (internal::SortKey) of the positive and
// the negative scores; keys compare as their scores do. `is_positive(i)` and `score(i)`
// read row i, and `positive_count` is the number of positive rows. Large inputs sort
// both halves on two threads.
template <typename IsPositive, typename Score>
void SplitAndSort(size_t n, size_t positive_count, IsPositive is_positive, Score score,
                  internal::LargeVector<uint64_t>& positives,
                  internal::LargeVector<uint64_t>& negatives) {
  positives.clear();
  negatives.clear();
  positives.reserve(positive_count);
  negatives.reserve(n - positive_count);
  for (size_t i = 0; i < n; ++i) {
    (is_positive(i) ? positives : negatives).push_back(internal::SortKey(score(i)));
  }
  internal::LargeVector<uint64_t> positive_scratch;
  internal::LargeVector<uint64_t> negative_scratch;
  if (n >= kParallelSortMinRows) {
    internal::ParallelFor(2, [&](int64_t half) {
      if (half == 0) {
        internal::RadixSortKeys(positives, positive_scratch);
      } else {
        internal::RadixSortKeys(negatives, negative_scratch);
      }
    });
  } else {
    internal::RadixSortKeys(positives, positive_scratch);
    internal::RadixSortKeys(negatives, negative_scratch);
  }
}

// Validates binary input like ValidateBinary in the same pass that counts the
// positives, since both read every row.
absl::StatusOr<size_t> CountPositives(std::span<const int> truth01,
                                      std::span<const double> scores) {
  if (truth01.size() != scores.size()) return ValidateBinary(truth01, scores);
  size_t positives = 0;
  bool invalid = false;
  for (size_t i = 0; i < truth01.size(); ++i) {
    invalid |= (static_cast<unsigned>(truth01[i]) > 1u) | std::isnan(scores[i]);
    positives += truth01[i] == 1 ? 1 : 0;
  }
  if (invalid) return ValidateBinary(truth01, scores);
  return positives;
}

// Mann-Whitney AUC of ascending positive and negative score keys, both non-empty.
double AucOfSorted(const internal::LargeVector<uint64_t>& positives,
                   const internal::LargeVector<uint64_t>& negatives) {
  // Twice the U statistic, as an integer: each positive gains 2 per negative below it
  // and 1 per negative equal to it.
  int64_t twice_u = 0;
  size_t below = 0;
  size_t not_above = 0;
  for (uint64_t s : positives) {
    while (below < negatives.size() && negatives[below] < s) ++below;
    if (not_above < below) not_above = below;
    while (not_above < negatives.size() && negatives[not_above] <= s) ++not_above;
    twice_u += static_cast<int64_t>(below + not_above);
  }
  return static_cast<double>(twice_u) /
         (2.0 * static_cast<double>(positives.size()) * static_cast<double>(negatives.size()));
}

}  // namespace

int64_t ConfusionMatrix::total() const {
  int64_t sum = 0;
  for (int64_t count : counts) sum += count;
  return sum;
}

absl::StatusOr<ConfusionMatrix> Confusion(std::span<const int> truth, std::span<const int> predicted,
                                          int num_classes) {
  if (num_classes < 1) {
    const std::string classes = absl::StrCat(num_classes);
    return InvalidArgument("INVALID_NUM_CLASSES", "num_classes",
                           absl::StrCat("num_classes is ", num_classes, "; it must be at least 1"),
                           {{"num_classes", classes}});
  }
  if (truth.size() != predicted.size()) {
    return SizeMismatch("truth", truth.size(), "predicted", predicted.size());
  }
  ConfusionMatrix cm;
  cm.num_classes = num_classes;
  cm.counts.assign(static_cast<size_t>(num_classes) * num_classes, 0);
  for (size_t i = 0; i < truth.size(); ++i) {
    const int t = truth[i];
    const int p = predicted[i];
    if (t < 0 || t >= num_classes || p < 0 || p >= num_classes) {
      const bool truth_bad = t < 0 || t >= num_classes;
      const int label = truth_bad ? t : p;
      const std::string row = absl::StrCat(i);
      const std::string label_text = absl::StrCat(label);
      return InvalidArgument(
          "INVALID_LABEL", truth_bad ? "truth" : "predicted",
          absl::StrCat(truth_bad ? "truth" : "predicted", " label ", label, " at row ", i,
                       " is outside 0..", num_classes - 1),
          {{"row", row}, {"label", label_text}});
    }
    ++cm.counts[static_cast<size_t>(t) * num_classes + p];
  }
  return cm;
}

absl::StatusOr<ConfusionMatrix> ConfusionFromCounts(int num_classes, std::vector<int64_t> counts) {
  if (num_classes < 1 || counts.size() != static_cast<size_t>(num_classes) * num_classes) {
    const std::string classes = absl::StrCat(num_classes);
    const std::string size = absl::StrCat(counts.size());
    return InvalidArgument("INVALID_CONFUSION_MATRIX", "counts",
                           absl::StrCat("a confusion matrix of ", num_classes, " classes needs ",
                                        num_classes, "x", num_classes, " counts, got ",
                                        counts.size()),
                           {{"num_classes", classes}, {"size", size}});
  }
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] < 0) {
      const std::string cell = absl::StrCat(i);
      return InvalidArgument(
          "INVALID_CONFUSION_MATRIX", "counts",
          absl::StrCat("count ", counts[i], " at row ", i / num_classes, " column ",
                       i % num_classes, " is negative"),
          {{"cell", cell}});
    }
  }
  ConfusionMatrix cm;
  cm.num_classes = num_classes;
  cm.counts = std::move(counts);
  return cm;
}

double CohenKappa(const ConfusionMatrix& cm, Weighting weighting) {
  const int k = cm.num_classes;
  std::vector<double> row_totals(k, 0.0);
  std::vector<double> column_totals(k, 0.0);
  double total = 0;
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      const double count = static_cast<double>(cm.at(i, j));
      row_totals[i] += count;
      column_totals[j] += count;
      total += count;
    }
  }
  if (total == 0) return kNaN;

  double observed = 0;
  double expected = 0;
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      double weight = 0;
      switch (weighting) {
        case Weighting::kNone:
          weight = i == j ? 0.0 : 1.0;
          break;
        case Weighting::kLinear:
          weight = std::abs(i - j);
          break;
        case Weighting::kQuadratic:
          weight = static_cast<double>(i - j) * (i - j);
          break;
      }
      observed += weight * static_cast<double>(cm.at(i, j));
      expected += weight * row_totals[i] * column_totals[j] / total;
    }
  }
  if (expected == 0) return kNaN;
  return 1.0 - observed / expected;
}

double Accuracy(const ConfusionMatrix& cm) {
  int64_t diagonal = 0;
  for (int i = 0; i < cm.num_classes; ++i) diagonal += cm.at(i, i);
  return Ratio(diagonal, cm.total());
}

absl::StatusOr<double> BinaryAuc(std::span<const int> truth01, std::span<const double> scores) {
  AILAB_ASSIGN_OR_RETURN(size_t positive_count, CountPositives(truth01, scores));
  internal::LargeVector<uint64_t> positives;
  internal::LargeVector<uint64_t> negatives;
  SplitAndSort(
      truth01.size(), positive_count, [&](size_t i) { return truth01[i] == 1; },
      [&](size_t i) { return scores[i]; }, positives, negatives);
  if (positives.empty() || negatives.empty()) {
    return AucUndefined("AUC", positives.size(), negatives.size());
  }
  return AucOfSorted(positives, negatives);
}

absl::StatusOr<std::vector<double>> OneVsRestAucPerClass(std::span<const int> truth,
                                                         std::span<const double> probabilities,
                                                         int num_classes) {
  AILAB_RETURN_IF_ERROR(ValidateMulticlass(truth, probabilities, num_classes));
  std::vector<int64_t> prevalence(num_classes, 0);
  for (int label : truth) ++prevalence[label];
  for (int c = 0; c < num_classes; ++c) {
    const int64_t positives = prevalence[c];
    const int64_t negatives = static_cast<int64_t>(truth.size()) - positives;
    if (positives == 0 || negatives == 0) {
      return Annotate(
          AucUndefined(absl::StrCat("one-vs-rest AUC of class ", c), positives, negatives),
          "every class must occur in truth, and not in every row");
    }
  }
  // One pass over the row-major matrix gathers every class's positive and negative
  // sort keys, so the matrix is read once rather than once per class. The classes are
  // then independent and sort on separate threads.
  const size_t n = truth.size();
  std::vector<internal::LargeVector<uint64_t>> positives(num_classes);
  std::vector<internal::LargeVector<uint64_t>> negatives(num_classes);
  for (int c = 0; c < num_classes; ++c) {
    positives[c].reserve(prevalence[c]);
    negatives[c].reserve(n - prevalence[c]);
  }
  for (size_t i = 0; i < n; ++i) {
    const double* row = probabilities.data() + i * num_classes;
    for (int c = 0; c < num_classes; ++c) {
      (truth[i] == c ? positives[c] : negatives[c]).push_back(internal::SortKey(row[c]));
    }
  }
  std::vector<double> aucs(num_classes);
  internal::ParallelFor(num_classes, [&](int64_t c) {
    internal::LargeVector<uint64_t> scratch;
    internal::RadixSortKeys(positives[c], scratch);
    internal::RadixSortKeys(negatives[c], scratch);
    aucs[c] = AucOfSorted(positives[c], negatives[c]);
    // Release this class's buffers before the thread takes its next class.
    internal::LargeVector<uint64_t>().swap(positives[c]);
    internal::LargeVector<uint64_t>().swap(negatives[c]);
  });
  return aucs;
}

absl::StatusOr<double> OneVsRestAuc(std::span<const int> truth,
                                    std::span<const double> probabilities, int num_classes,
                                    AucAverage average) {
  AILAB_ASSIGN_OR_RETURN(std::vector<double> aucs,
                         OneVsRestAucPerClass(truth, probabilities, num_classes));
  std::vector<int64_t> prevalence(num_classes, 0);
  for (int label : truth) ++prevalence[label];
  double sum = 0;
  for (int c = 0; c < num_classes; ++c) {
    if (average == AucAverage::kMacro) {
      sum += aucs[c] / num_classes;
    } else {
      sum += aucs[c] * static_cast<double>(prevalence[c]) / static_cast<double>(truth.size());
    }
  }
  return sum;
}

absl::StatusOr<std::vector<RocPoint>> RocCurve(std::span<const int> truth01,
                                               std::span<const double> scores,
                                               bool drop_intermediate) {
  AILAB_ASSIGN_OR_RETURN(size_t positive_count, CountPositives(truth01, scores));
  internal::LargeVector<uint64_t> positives;
  internal::LargeVector<uint64_t> negatives;
  SplitAndSort(
      truth01.size(), positive_count, [&](size_t i) { return truth01[i] == 1; },
      [&](size_t i) { return scores[i]; }, positives, negatives);
  if (positives.empty() || negatives.empty()) {
    return AucUndefined("the ROC curve", positives.size(), negatives.size());
  }

  // Walk distinct scores from the highest down; at each, count the rows at or above it.
  // Points go straight to the output, so no buffer of all steps is needed.
  struct Step {
    int64_t tp;
    int64_t fp;
    uint64_t threshold_key;
  };
  // Distinct scores of each half bound the point count, and reserving that avoids
  // copying and faulting in a growing vector.
  auto count_distinct = [](const internal::LargeVector<uint64_t>& keys) {
    size_t distinct = keys.empty() ? 0 : 1;
    for (size_t i = 1; i < keys.size(); ++i) distinct += keys[i] != keys[i - 1] ? 1 : 0;
    return distinct;
  };
  std::vector<RocPoint> points;
  points.reserve(count_distinct(positives) + count_distinct(negatives) + 1);
  points.push_back({0.0, 0.0, std::numeric_limits<double>::infinity()});
  const double p = static_cast<double>(positives.size());
  const double n = static_cast<double>(negatives.size());
  auto emit = [&](const Step& step) {
    points.push_back({static_cast<double>(step.fp) / n, static_cast<double>(step.tp) / p,
                      internal::FromSortKey(step.threshold_key)});
  };
  // With drop_intermediate, scikit-learn keeps the ends and every point where the second
  // difference of the TP or FP counts is non-zero, that is where the curve bends. That
  // needs the step before and after, so a step is emitted once its successor is known.
  std::optional<Step> previous;
  std::optional<Step> current;
  size_t pos_left = positives.size();  // positives[0, pos_left) are not yet counted
  size_t neg_left = negatives.size();
  while (pos_left > 0 || neg_left > 0) {
    uint64_t threshold = 0;
    if (pos_left > 0) threshold = positives[pos_left - 1];
    if (neg_left > 0) threshold = std::max(threshold, negatives[neg_left - 1]);
    while (pos_left > 0 && positives[pos_left - 1] == threshold) --pos_left;
    while (neg_left > 0 && negatives[neg_left - 1] == threshold) --neg_left;
    const Step next{static_cast<int64_t>(positives.size() - pos_left),
                    static_cast<int64_t>(negatives.size() - neg_left), threshold};
    if (!drop_intermediate) {
      emit(next);
      continue;
    }
    if (current.has_value()) {
      // `current` is the first step (no predecessor) or an inner one.
      const bool keep = !previous.has_value() ||
                        next.tp - 2 * current->tp + previous->tp != 0 ||
                        next.fp - 2 * current->fp + previous->fp != 0;
      if (keep) emit(*current);
    }
    previous = current;
    current = next;
  }
  if (drop_intermediate && current.has_value()) emit(*current);  // the last step
  return points;
}

absl::StatusOr<ThresholdMetrics> SensitivitySpecificity(std::span<const int> truth01,
                                                        std::span<const double> scores,
                                                        double threshold) {
  if (std::isnan(threshold)) {
    return InvalidArgument("INVALID_THRESHOLD", "threshold",
                           "threshold is NaN; pass a number such as 0.5");
  }
  if (truth01.size() != scores.size()) return ValidateBinary(truth01, scores);
  ThresholdMetrics m;
  m.threshold = threshold;
  // One pass counts the cells and checks the input, branch-free: cells[2 * truth +
  // called positive]. Invalid rows only set `invalid`, and ValidateBinary then names
  // the first one.
  int64_t cells[4] = {0, 0, 0, 0};
  bool invalid = false;
  for (size_t i = 0; i < truth01.size(); ++i) {
    const int label = truth01[i];
    const double score = scores[i];
    invalid |= (static_cast<unsigned>(label) > 1u) | std::isnan(score);
    ++cells[((label & 1) << 1) | (score >= threshold ? 1 : 0)];
  }
  if (invalid) return ValidateBinary(truth01, scores);
  m.true_negatives = cells[0];
  m.false_positives = cells[1];
  m.false_negatives = cells[2];
  m.true_positives = cells[3];
  m.sensitivity = Ratio(m.true_positives, m.true_positives + m.false_negatives);
  m.specificity = Ratio(m.true_negatives, m.true_negatives + m.false_positives);
  m.ppv = Ratio(m.true_positives, m.true_positives + m.false_positives);
  m.npv = Ratio(m.true_negatives, m.true_negatives + m.false_negatives);
  m.f1 = Ratio(2 * m.true_positives, 2 * m.true_positives + m.false_positives + m.false_negatives);
  m.accuracy = Ratio(m.true_positives + m.true_negatives, static_cast<int64_t>(truth01.size()));
  return m;
}

absl::StatusOr<ConfusionMatrix> ConfusionAtThreshold(std::span<const int> truth01,
                                                     std::span<const double> scores,
                                                     double threshold) {
  AILAB_ASSIGN_OR_RETURN(ThresholdMetrics at, SensitivitySpecificity(truth01, scores, threshold));
  return ConfusionFromCounts(
      2, {at.true_negatives, at.false_positives, at.false_negatives, at.true_positives});
}

absl::StatusOr<ConfusionMatrix> ConfusionOfArgmax(std::span<const int> truth,
                                                  std::span<const double> probabilities,
                                                  int num_classes) {
  if (num_classes < 1 || probabilities.size() != truth.size() * static_cast<size_t>(num_classes)) {
    const std::string classes = absl::StrCat(num_classes);
    const std::string size = absl::StrCat(probabilities.size());
    return InvalidArgument("SIZE_MISMATCH", "probabilities",
                           absl::StrCat(probabilities.size(), " probabilities are not ",
                                        truth.size(), " rows of ", num_classes, " classes"),
                           {{"num_classes", classes}, {"size", size}});
  }
  const size_t cells = static_cast<size_t>(num_classes) * num_classes;
  // Rows are counted in chunks, one count table per chunk, summed at the end; large
  // inputs spread the chunks over the cores.
  constexpr size_t kRowsPerChunk = size_t{1} << 18;
  const size_t chunks = std::max<size_t>(1, (truth.size() + kRowsPerChunk - 1) / kRowsPerChunk);
  std::vector<std::vector<int64_t>> partial(chunks, std::vector<int64_t>(cells, 0));
  std::vector<char> invalid(chunks, 0);
  internal::ParallelFor(static_cast<int64_t>(chunks), [&](int64_t chunk) {
    std::vector<int64_t>& counts = partial[chunk];
    const size_t begin = static_cast<size_t>(chunk) * kRowsPerChunk;
    const size_t end = std::min(truth.size(), begin + kRowsPerChunk);
    for (size_t r = begin; r < end; ++r) {
      const double* row = probabilities.data() + r * num_classes;
      int best = 0;
      bool has_nan = false;
      for (int c = 0; c < num_classes; ++c) {
        has_nan |= std::isnan(row[c]);
        best = row[c] > row[best] ? c : best;
      }
      const int t = truth[r];
      if (has_nan || t < 0 || t >= num_classes) {
        invalid[chunk] = 1;
        return;
      }
      ++counts[static_cast<size_t>(t) * num_classes + best];
    }
  });
  if (std::find(invalid.begin(), invalid.end(), 1) != invalid.end()) {
    // Rare path: the unfused functions produce the error message naming the row.
    AILAB_ASSIGN_OR_RETURN(std::vector<int> predicted, Argmax(probabilities, num_classes));
    return Confusion(truth, predicted, num_classes);
  }
  ConfusionMatrix cm;
  cm.num_classes = num_classes;
  cm.counts.assign(cells, 0);
  for (const std::vector<int64_t>& counts : partial) {
    for (size_t i = 0; i < cells; ++i) cm.counts[i] += counts[i];
  }
  return cm;
}

absl::StatusOr<std::vector<int>> Argmax(std::span<const double> probabilities, int num_classes) {
  if (num_classes < 1 || probabilities.size() % num_classes != 0) {
    const std::string classes = absl::StrCat(num_classes);
    const std::string size = absl::StrCat(probabilities.size());
    return InvalidArgument("SIZE_MISMATCH", "probabilities",
                           absl::StrCat(probabilities.size(), " probabilities do not split into rows of ",
                                        num_classes, " classes"),
                           {{"num_classes", classes}, {"size", size}});
  }
  const size_t rows = probabilities.size() / num_classes;
  std::vector<int> labels(rows);
  for (size_t r = 0; r < rows; ++r) {
    const double* row = probabilities.data() + r * num_classes;
    int best = 0;
    for (int c = 0; c < num_classes; ++c) {
      if (std::isnan(row[c])) {
        const std::string row_text = absl::StrCat(r);
        const std::string class_text = absl::StrCat(c);
        return InvalidArgument("INVALID_SCORE", "probabilities",
                               absl::StrCat("probability at row ", r, " class ", c, " is NaN"),
                               {{"row", row_text}, {"class", class_text}});
      }
      if (row[c] > row[best]) best = c;
    }
    labels[r] = best;
  }
  return labels;
}

}  // namespace ailab::metrics
