#!/usr/bin/python3
"""Write sklearn_reference.json: classification metrics computed with scikit-learn.

The C++ test metrics_sklearn_reference_test reads the file and recomputes every value
with libs/metrics. Small cases store their rows in the file. The 10^6-row cases store
only the generator name, seed and row count, because both sides rebuild the rows from
the same splitmix64 formula (see generate_rows below and GenerateRows in
sklearn_reference_test.cc).

Run with Debian's scikit-learn from the checkout root:
    /usr/bin/python3 tests/metrics/make_reference.py > tests/metrics/sklearn_reference.json
"""

import json
import math
import random
import sys

import numpy as np
import sklearn
from sklearn import metrics

MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(seed, rows):
    """Return splitmix64 outputs for indices 0..rows-1 as uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (np.arange(1, rows + 1, dtype=np.uint64) *
                               np.uint64(0x9E3779B97F4A7C15))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def generate_rows(kind, seed, rows):
    """Rebuild the rows of a generated case.

    binary: truth = h1 & 1; score = ((h2 mod 1000) + 300 * truth) / 1300, so about 1300
    distinct scores with many ties.
    four_class: truth = h1 mod 4; class c gets u_c = (h_{c+2} mod 16) + 8 * [truth == c]
    and probability (u_c + 1) / sum over classes of (u_c + 1).
    h_j is splitmix64 of (seed * 16 + j) at each row index.
    """
    h = [splitmix64(seed * 16 + j, rows) for j in range(6)]
    if kind == "binary":
        truth = (h[1] & np.uint64(1)).astype(np.int64)
        scores = ((h[2] % np.uint64(1000)).astype(np.int64) + 300 * truth) / 1300.0
        return truth, scores
    truth = (h[1] % np.uint64(4)).astype(np.int64)
    units = np.stack([(h[c + 2] % np.uint64(16)).astype(np.int64) + 8 * (truth == c)
                      for c in range(4)], axis=1) + 1
    return truth, units / units.sum(axis=1, keepdims=True).astype(np.float64)


def number(value):
    """A JSON number, or None for NaN."""
    value = float(value)
    return None if math.isnan(value) else value


def ratio(numerator, denominator):
    return None if denominator == 0 else numerator / denominator


def delong(truth, scores):
    """DeLong variance of the AUC from its structural components, O(P * N)."""
    positives = scores[truth == 1]
    negatives = scores[truth == 0]
    if len(positives) < 2 or len(negatives) < 2:
        return None
    psi = (positives[:, None] > negatives[None, :]) + 0.5 * (positives[:, None] ==
                                                              negatives[None, :])
    v10 = psi.mean(axis=1)
    v01 = psi.mean(axis=0)
    variance = v10.var(ddof=1) / len(positives) + v01.var(ddof=1) / len(negatives)
    auc = psi.mean()
    half = 1.959963984540054 * math.sqrt(variance)
    return {"auc": auc, "variance": variance, "lower": max(0.0, auc - half),
            "upper": min(1.0, auc + half)}


def roc(truth, scores, drop):
    fpr, tpr, thresholds = metrics.roc_curve(truth, scores, drop_intermediate=drop)
    # scikit-learn 1.2 puts max + 1 as the first threshold, later versions +inf; the
    # test skips the first threshold.
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thresholds[1:].tolist()}


def agreement(truth, predicted, k):
    labels = list(range(k))
    out = {"confusion_matrix": metrics.confusion_matrix(truth, predicted, labels=labels).tolist(),
           "accuracy": number(metrics.accuracy_score(truth, predicted)) if len(truth) else None}
    for key, weights in (("kappa", None), ("linear_kappa", "linear"),
                         ("quadratic_kappa", "quadratic")):
        with np.errstate(all="ignore"):
            out[key] = number(metrics.cohen_kappa_score(truth, predicted, labels=labels,
                                                        weights=weights))
    return out


def binary_expected(truth, scores, threshold, sample_roc=False):
    truth = np.asarray(truth)
    scores = np.asarray(scores, dtype=np.float64)
    predicted = (scores >= threshold).astype(np.int64)
    out = agreement(truth, predicted, 2)
    tn, fp, fn, tp = metrics.confusion_matrix(truth, predicted, labels=[0, 1]).ravel().tolist()
    out.update({
        "sensitivity": number(metrics.recall_score(truth, predicted, zero_division=0))
        if tp + fn else None,
        "specificity": number(metrics.recall_score(truth, predicted, pos_label=0,
                                                   zero_division=0)) if tn + fp else None,
        "ppv": number(metrics.precision_score(truth, predicted, zero_division=0))
        if tp + fp else None,
        "npv": ratio(tn, tn + fn),
        "f1": number(metrics.f1_score(truth, predicted, zero_division=0))
        if 2 * tp + fp + fn else None,
    })
    if len(set(truth.tolist())) < 2:
        out["auc"] = None  # scikit-learn raises ValueError: the AUC is undefined
        return out
    out["auc"] = metrics.roc_auc_score(truth, scores)
    if sample_roc:
        full = roc(truth, scores, False)
        step = max(1, len(full["fpr"]) // 40)
        out["roc_points"] = len(full["fpr"])
        out["roc_sample"] = {"step": step, "fpr": full["fpr"][::step], "tpr": full["tpr"][::step]}
        out["roc_drop_points"] = len(roc(truth, scores, True)["fpr"])
    else:
        out["roc"] = roc(truth, scores, False)
        out["roc_drop"] = roc(truth, scores, True)
        out["delong"] = delong(truth, scores)
    return out


def multiclass_expected(truth, probabilities):
    truth = np.asarray(truth)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    k = probabilities.shape[1]
    out = agreement(truth, probabilities.argmax(axis=1), k)
    labels = list(range(k))
    if any(not 0 < (truth == c).sum() < len(truth) for c in labels):
        out["auc_macro"] = None  # scikit-learn raises ValueError for the absent class
        out["auc_weighted"] = None
        return out
    out["auc_macro"] = metrics.roc_auc_score(truth, probabilities, multi_class="ovr",
                                             average="macro", labels=labels)
    out["auc_weighted"] = metrics.roc_auc_score(truth, probabilities, multi_class="ovr",
                                                average="weighted", labels=labels)
    out["auc_per_class"] = [metrics.roc_auc_score(truth == c, probabilities[:, c])
                            for c in labels]
    return out


def binary_case(name, truth, scores, threshold=0.5):
    return {"name": name, "num_classes": 2, "threshold": threshold, "truth": list(truth),
            "scores": list(scores), "expected": binary_expected(truth, scores, threshold)}


def multiclass_case(name, truth, probabilities):
    return {"name": name, "num_classes": len(probabilities[0]), "truth": list(truth),
            "probabilities": [list(row) for row in probabilities],
            "expected": multiclass_expected(truth, probabilities)}


def normalised(units):
    total = float(sum(units))
    return [u / total for u in units]


def main():
    rng = random.Random(20261204)
    cases = []

    truth = [rng.randint(0, 1) for _ in range(40)]
    scores = [round(min(1.0, max(0.0, rng.gauss(0.35 + 0.3 * t, 0.2))), 1) for t in truth]
    cases.append(binary_case("binary_ties", truth, scores))
    cases.append(binary_case("binary_ties_threshold_0.3", truth, scores, threshold=0.3))
    cases.append(binary_case("binary_constant_scores", truth, [0.5] * len(truth)))
    cases.append(binary_case("binary_one_class_absent", [0] * 12,
                             [rng.randint(0, 10) / 10 for _ in range(12)]))
    cases.append(binary_case("binary_one_row", [1], [0.7]))
    cases.append(binary_case("binary_two_rows", [0, 1], [0.8, 0.2]))
    cases.append(binary_case("binary_two_rows_tied", [1, 0], [0.4, 0.4]))

    truth = [rng.randint(0, 3) for _ in range(60)]
    probabilities = [normalised([rng.randint(0, 3) + 3 * (t == c) + 1 for c in range(4)])
                     for t in truth]
    cases.append(multiclass_case("four_class_ties", truth, probabilities))
    cases.append(multiclass_case("four_class_constant", truth, [[0.25] * 4] * len(truth)))
    absent = [t if t != 3 else 2 for t in truth]
    cases.append(multiclass_case("four_class_one_class_absent", absent, probabilities))
    cases.append(multiclass_case("four_class_one_row", [2], [[0.1, 0.2, 0.6, 0.1]]))
    cases.append(multiclass_case("four_class_two_rows", [0, 3],
                                 [[0.4, 0.2, 0.2, 0.2], [0.1, 0.1, 0.1, 0.7]]))

    rows = 1_000_000
    truth, scores = generate_rows("binary", 7, rows)
    cases.append({"name": "binary_million", "num_classes": 2, "threshold": 0.5,
                  "generator": {"kind": "binary", "seed": 7, "rows": rows},
                  "expected": binary_expected(truth, scores, 0.5, sample_roc=True)})
    truth, probabilities = generate_rows("four_class", 11, rows)
    cases.append({"name": "four_class_million", "num_classes": 4,
                  "generator": {"kind": "four_class", "seed": 11, "rows": rows},
                  "expected": multiclass_expected(truth, probabilities)})

    # One case per line keeps diffs readable; allow_nan=False because JSON has no NaN.
    header = {"generated_by": "tests/metrics/make_reference.py",
              "scikit_learn": sklearn.__version__, "numpy": np.__version__}
    lines = [json.dumps(case, allow_nan=False) for case in cases]
    sys.stdout.write(json.dumps(header)[:-1] + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n")


if __name__ == "__main__":
    main()
