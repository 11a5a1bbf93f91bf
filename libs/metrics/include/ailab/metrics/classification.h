// Classification metrics: confusion matrix, Cohen's kappa, accuracy, ROC AUC, ROC
// points and threshold figures (sensitivity, specificity, PPV, NPV, F1).
//
// The definitions follow scikit-learn (confusion_matrix, cohen_kappa_score,
// roc_auc_score, roc_curve), so figures computed here can be checked against it:
//
//   auto cm = ailab::metrics::Confusion(truth, predicted, /*num_classes=*/4);
//   double kappa = ailab::metrics::CohenKappa(*cm, ailab::metrics::Weighting::kQuadratic);
//   auto auc = ailab::metrics::BinaryAuc(truth01, scores);
//
// Labels are class indices 0..num_classes-1. Probabilities of n rows and k classes are
// one row-major span of n*k values. Every function allocates a fixed number of buffers
// per call (none per row), so inputs of tens of millions of rows are fine. Ranking
// functions (AUC, ROC) sort the scores with a radix sort of their bit patterns, which is
// O(n), and use up to two threads (one per class for one-vs-rest AUC, up to the
// hardware concurrency).
//
// Undefined figures: a ratio with a zero denominator (kappa when the expected
// disagreement is 0, sensitivity without positives, accuracy of no rows) is NaN, as
// scikit-learn returns it. AUC and ROC without both classes are an error, as
// scikit-learn raises one. Callers that print JSON must write NaN as null.
//
// All functions are pure and thread-safe, also when they start threads of their own.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace ailab::metrics {

// Counts of (truth, predicted) pairs over `num_classes` classes.
struct ConfusionMatrix {
  int num_classes = 0;
  // Row-major num_classes x num_classes counts: row = truth, column = predicted.
  std::vector<int64_t> counts;

  // Count of rows with truth `truth` predicted as `predicted`.
  int64_t at(int truth, int predicted) const {
    return counts[static_cast<size_t>(truth) * num_classes + predicted];
  }
  // Total number of rows counted.
  int64_t total() const;
};

// Builds the confusion matrix of `truth` against `predicted`. Returns INVALID_ARGUMENT
// when the sizes differ, when num_classes < 1, or when a label is outside
// 0..num_classes-1 (the message names the row and the label).
absl::StatusOr<ConfusionMatrix> Confusion(std::span<const int> truth, std::span<const int> predicted,
                                          int num_classes);

// Builds the 2 x 2 confusion matrix of `truth01` against "score >= threshold" without
// materialising the predicted labels. Errors as SensitivitySpecificity.
absl::StatusOr<ConfusionMatrix> ConfusionAtThreshold(std::span<const int> truth01,
                                                     std::span<const double> scores,
                                                     double threshold);

// Builds the confusion matrix of `truth` against the most probable class of each row of
// `probabilities` (n x num_classes, the first maximum on ties), equal to
// Confusion(truth, *Argmax(probabilities, num_classes), num_classes) without the
// intermediate labels. Errors as Argmax and Confusion.
absl::StatusOr<ConfusionMatrix> ConfusionOfArgmax(std::span<const int> truth,
                                                  std::span<const double> probabilities,
                                                  int num_classes);

// Builds a confusion matrix from row-major counts (for example one received in a
// proto). Returns INVALID_ARGUMENT unless counts.size() == num_classes^2 and no count
// is negative.
absl::StatusOr<ConfusionMatrix> ConfusionFromCounts(int num_classes, std::vector<int64_t> counts);

// Disagreement weights of Cohen's kappa.
enum class Weighting {
  kNone,       // 1 off the diagonal, 0 on it
  kLinear,     // |i - j|
  kQuadratic,  // (i - j)^2
};

// Cohen's kappa of `cm`: 1 - sum(w * observed) / sum(w * expected), where expected is
// the outer product of the row and column totals divided by the total. Returns NaN
// when sum(w * expected) is 0, which happens when both raters use one single and the
// same class for every row, and for an empty matrix. scikit-learn's cohen_kappa_score
// divides 0 by 0 there, which gives NaN too.
double CohenKappa(const ConfusionMatrix& cm, Weighting weighting);

// Fraction of rows on the diagonal; NaN for an empty matrix.
double Accuracy(const ConfusionMatrix& cm);

// Area under the ROC curve of `scores` for the binary `truth01` (0 or 1 each):
// the probability that a random positive scores above a random negative, with ties
// counted as one half (Mann-Whitney U / (positives * negatives)). Returns
// INVALID_ARGUMENT for a size mismatch, a label other than 0 or 1, or a NaN score, and
// FAILED_PRECONDITION with reason AUC_UNDEFINED when one class is absent.
absl::StatusOr<double> BinaryAuc(std::span<const int> truth01, std::span<const double> scores);

// Averaging of per-class one-vs-rest AUCs.
enum class AucAverage {
  kMacro,     // unweighted mean over classes
  kWeighted,  // mean weighted by each class's prevalence in `truth`
};

// One-vs-rest AUC of `probabilities` (n x num_classes, row-major) for `truth` labels
// 0..num_classes-1: class c's AUC uses column c as the score of "truth == c". With
// two classes this equals BinaryAuc on column 1. Returns FAILED_PRECONDITION with
// reason AUC_UNDEFINED naming the class when a class has no row or every row.
absl::StatusOr<double> OneVsRestAuc(std::span<const int> truth,
                                    std::span<const double> probabilities, int num_classes,
                                    AucAverage average = AucAverage::kMacro);

// Per-class one-vs-rest AUCs, in class order (same errors as OneVsRestAuc).
absl::StatusOr<std::vector<double>> OneVsRestAucPerClass(std::span<const int> truth,
                                                         std::span<const double> probabilities,
                                                         int num_classes);

// One point of an ROC curve: rows scoring >= threshold are called positive.
struct RocPoint {
  double fpr = 0;        // false positive rate, FP / negatives
  double tpr = 0;        // true positive rate (sensitivity), TP / positives
  double threshold = 0;  // score cut-off; +infinity for the first point (0, 0)
};

// ROC curve like scikit-learn's roc_curve: one point per distinct score, in
// decreasing threshold order, preceded by (0, 0) at threshold +infinity (the
// scikit-learn >= 1.3 convention). With drop_intermediate, points that lie on a
// straight segment between their neighbours are dropped, as scikit-learn does by
// default. Errors as BinaryAuc.
absl::StatusOr<std::vector<RocPoint>> RocCurve(std::span<const int> truth01,
                                               std::span<const double> scores,
                                               bool drop_intermediate = false);

// Binary figures at one threshold: a row is called positive when score >= threshold.
// Ratios with a zero denominator are NaN.
struct ThresholdMetrics {
  double threshold = 0;
  int64_t true_positives = 0;
  int64_t false_positives = 0;
  int64_t true_negatives = 0;
  int64_t false_negatives = 0;
  double sensitivity = 0;  // TP / (TP + FN), also called recall or TPR
  double specificity = 0;  // TN / (TN + FP)
  double ppv = 0;          // positive predictive value (precision), TP / (TP + FP)
  double npv = 0;          // negative predictive value, TN / (TN + FN)
  double f1 = 0;           // 2TP / (2TP + FP + FN)
  double accuracy = 0;     // (TP + TN) / n
};

// Computes ThresholdMetrics of `scores` at `threshold`. Returns INVALID_ARGUMENT for a
// size mismatch, a label other than 0 or 1, or a NaN score or threshold. An empty
// input or a single class is allowed (the undefined ratios are NaN).
absl::StatusOr<ThresholdMetrics> SensitivitySpecificity(std::span<const int> truth01,
                                                        std::span<const double> scores,
                                                        double threshold);

// Index of the largest of each row of `probabilities` (n x num_classes), the first
// one on ties. Returns INVALID_ARGUMENT when the size is not a multiple of
// num_classes, num_classes < 1, or a value is NaN.
absl::StatusOr<std::vector<int>> Argmax(std::span<const double> probabilities, int num_classes);

// A two-sided percentile bootstrap confidence interval.
struct Interval {
  double lower = 0;
  double upper = 0;
};

// Options of KappaBootstrapInterval.
struct BootstrapOptions {
  int replicates = 1000;     // resamples drawn
  double confidence = 0.95;  // central coverage, in (0, 1)
  uint64_t seed = 1;         // fixed seed: the same input gives the same interval
};

// Percentile bootstrap interval of CohenKappa(cm, weighting) from resampling the rows
// behind `cm` with replacement. Resampling rows only changes how many fall in each
// cell, so each replicate draws the cell counts from a multinomial of cm.total()
// trials with the observed cell frequencies: the cost does not grow with the number
// of rows, and a confusion matrix is enough (no per-row data). Replicates whose kappa
// is NaN are skipped; the interval is NaN..NaN when all are. Returns INVALID_ARGUMENT
// for replicates < 1 or confidence outside (0, 1).
absl::StatusOr<Interval> KappaBootstrapInterval(const ConfusionMatrix& cm, Weighting weighting,
                                                const BootstrapOptions& options = {});

}  // namespace ailab::metrics
