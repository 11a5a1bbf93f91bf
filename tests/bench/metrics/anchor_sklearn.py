#!/usr/bin/python3
"""Time scikit-learn on the rows that bench_metrics wrote (see metrics_bench.cc).

    anchor_sklearn.py classification|bootstrap DATA_DIR REPEATS

Prints TIME <operation> <seconds, best of REPEATS> and VALUE <operation> <result>,
with the operation names of bench_metrics.
"""

import sys
import time

import numpy as np
from sklearn import metrics


def measure(name, repeats, operation):
    best = float("inf")
    value = None
    for _ in range(repeats):
        start = time.perf_counter()
        value = operation()
        best = min(best, time.perf_counter() - start)
    print(f"TIME {name} {best:.6f}")
    print(f"VALUE {name} {float(value):.12g}", flush=True)


def kappa_from_counts(counts):
    """Unweighted Cohen's kappa of confusion matrices stacked on the first axis."""
    total = counts.sum(axis=(1, 2))
    observed = np.trace(counts, axis1=1, axis2=2) / total
    expected = (counts.sum(axis=2) * counts.sum(axis=1)).sum(axis=1) / total ** 2
    return (observed - expected) / (1 - expected)


def classification(truth2, scores2, truth4, probabilities4, repeats):
    measure("binary_confusion_matrix", repeats,
            lambda: metrics.confusion_matrix(truth2, (scores2 >= 0.5).astype(np.int32))[1, 1])
    measure("binary_kappa", repeats,
            lambda: metrics.cohen_kappa_score(truth2, (scores2 >= 0.5).astype(np.int32)))
    measure("binary_auc", repeats, lambda: metrics.roc_auc_score(truth2, scores2))
    measure("binary_roc_curve", repeats, lambda: len(metrics.roc_curve(truth2, scores2)[0]))
    measure("four_class_quadratic_kappa", repeats,
            lambda: metrics.cohen_kappa_score(truth4, probabilities4.argmax(axis=1),
                                              weights="quadratic"))
    measure("four_class_ovr_auc", repeats,
            lambda: metrics.roc_auc_score(truth4, probabilities4, multi_class="ovr"))


def bootstrap(truth4, probabilities4, repeats):
    predicted = probabilities4.argmax(axis=1)
    n = len(truth4)

    def loop():
        rng = np.random.default_rng(1)
        kappas = []
        for _ in range(1000):
            rows = rng.integers(0, n, n)
            kappas.append(metrics.cohen_kappa_score(truth4[rows], predicted[rows]))
        lower, upper = np.percentile(kappas, [2.5, 97.5])
        return upper - lower

    def vectorised():
        # Resampled confusion matrices by bincount of (replicate, cell), 100 replicates
        # at a time to bound memory.
        rng = np.random.default_rng(1)
        cells = truth4 * 4 + predicted
        kappas = []
        for _ in range(10):
            rows = rng.integers(0, n, (100, n))
            codes = (np.arange(100)[:, None] * 16 + cells[rows]).ravel()
            counts = np.bincount(codes, minlength=100 * 16).reshape(100, 4, 4)
            kappas.append(kappa_from_counts(counts))
        lower, upper = np.percentile(np.concatenate(kappas), [2.5, 97.5])
        return upper - lower

    measure("bootstrap_kappa_1000_sklearn_loop", repeats, loop)
    measure("bootstrap_kappa_1000_numpy", repeats, vectorised)


def main():
    task, data, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    truth2 = np.fromfile(f"{data}/truth2.i32", dtype=np.int32)
    scores2 = np.fromfile(f"{data}/scores2.f64", dtype=np.float64)
    truth4 = np.fromfile(f"{data}/truth4.i32", dtype=np.int32)
    probabilities4 = np.fromfile(f"{data}/probabilities4.f64", dtype=np.float64).reshape(-1, 4)
    if task == "classification":
        classification(truth2, scores2, truth4, probabilities4, repeats)
    else:
        bootstrap(truth4, probabilities4, repeats)


if __name__ == "__main__":
    main()
