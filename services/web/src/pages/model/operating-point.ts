// Binary operating point at a threshold, computed in the browser from an
// evaluation's ROC curve so the plot and figures follow the slider without a round
// trip. ComputeAtThreshold returns the exact figures afterwards.
import { scalarField } from './format';
import type { ClassificationMetrics, RocPoint, ThresholdMetrics } from './types';

/** Rates and counts at one threshold. Counts are undefined when the class sizes are unknown. */
export interface OperatingPoint {
  threshold: number;
  fpr: number;
  tpr: number;
  truePositives?: number;
  falsePositives?: number;
  trueNegatives?: number;
  falseNegatives?: number;
}

/**
 * Returns the ROC point of calling positive every instance whose probability is at or
 * above `threshold`. Each ROC point's threshold is the lowest probability it calls
 * positive, so the result is the point with the smallest threshold that is still at
 * or above `threshold`. Above every probability the result is (0, 0).
 */
export function rocPointAt(roc: RocPoint[], threshold: number): { fpr: number; tpr: number } {
  let best: { fpr: number; tpr: number; threshold: number } = { fpr: 0, tpr: 0, threshold: Infinity };
  for (const point of roc) {
    const pointThreshold = scalarField(point.threshold);
    if (Number.isNaN(pointThreshold) || pointThreshold < threshold) continue;
    if (pointThreshold <= best.threshold) {
      best = { fpr: scalarField(point.fpr), tpr: scalarField(point.tpr), threshold: pointThreshold };
    }
  }
  return { fpr: best.fpr, tpr: best.tpr };
}

/**
 * Computes the operating point of a binary result at `threshold`. The class sizes
 * come from the figures at the evaluation's own threshold (TP + FN positives,
 * FP + TN negatives), which do not depend on the threshold.
 */
export function operatingPointAt(metrics: ClassificationMetrics, threshold: number): OperatingPoint {
  const { fpr, tpr } = rocPointAt(metrics.roc ?? [], threshold);
  const point: OperatingPoint = { threshold, fpr, tpr };
  const reference = metrics.atThreshold;
  if (!reference) return point;
  const positives = scalarField(reference.truePositives) + scalarField(reference.falseNegatives);
  const negatives = scalarField(reference.trueNegatives) + scalarField(reference.falsePositives);
  if (!Number.isFinite(positives) || !Number.isFinite(negatives)) return point;
  point.truePositives = Math.round(tpr * positives);
  point.falseNegatives = positives - point.truePositives;
  point.falsePositives = Math.round(fpr * negatives);
  point.trueNegatives = negatives - point.falsePositives;
  return point;
}

/** Turns the service's ThresholdMetrics into an OperatingPoint. */
export function operatingPointFromMetrics(metrics: ThresholdMetrics): OperatingPoint {
  const truePositives = scalarField(metrics.truePositives);
  const falsePositives = scalarField(metrics.falsePositives);
  const trueNegatives = scalarField(metrics.trueNegatives);
  const falseNegatives = scalarField(metrics.falseNegatives);
  return {
    threshold: scalarField(metrics.threshold),
    tpr: scalarField(metrics.sensitivity),
    fpr: 1 - scalarField(metrics.specificity),
    truePositives,
    falsePositives,
    trueNegatives,
    falseNegatives,
  };
}

/** Figures derived from the counts of an operating point; NaN where a denominator is 0. */
export interface DerivedFigures {
  sensitivity: number;
  specificity: number;
  ppv: number;
  npv: number;
  f1: number;
  accuracy: number;
  kappa: number;
}

function ratio(numerator: number, denominator: number): number {
  return denominator > 0 ? numerator / denominator : Number.NaN;
}

/** Computes sensitivity, specificity, PPV, NPV, F1, accuracy and Cohen's kappa from counts. */
export function deriveFigures(point: OperatingPoint): DerivedFigures {
  const tp = point.truePositives;
  const fp = point.falsePositives;
  const tn = point.trueNegatives;
  const fn = point.falseNegatives;
  if (tp === undefined || fp === undefined || tn === undefined || fn === undefined) {
    return {
      sensitivity: point.tpr,
      specificity: 1 - point.fpr,
      ppv: Number.NaN,
      npv: Number.NaN,
      f1: Number.NaN,
      accuracy: Number.NaN,
      kappa: Number.NaN,
    };
  }
  const n = tp + fp + tn + fn;
  const accuracy = ratio(tp + tn, n);
  // Chance agreement of Cohen's kappa: both call positive, or both call negative.
  const expected = n > 0 ? ((tp + fn) * (tp + fp) + (tn + fp) * (tn + fn)) / (n * n) : Number.NaN;
  return {
    sensitivity: ratio(tp, tp + fn),
    specificity: ratio(tn, tn + fp),
    ppv: ratio(tp, tp + fp),
    npv: ratio(tn, tn + fn),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    accuracy,
    kappa: expected < 1 ? (accuracy - expected) / (1 - expected) : Number.NaN,
  };
}
