#!/usr/bin/env bash
# Metric speed of libs/metrics against scikit-learn, in one run on the same rows.
# bench_metrics generates the predictions, writes them to a scratch folder and times
# itself. anchor_sklearn.py then times scikit-learn on those files. The output is one
# RESULT line per figure (ratio = scikit-learn seconds / platform seconds) and one CHECK
# line per operation, which confirms that both sides computed the same value.
# Needs AILAB_SOURCE_DIR and AILAB_BINARY_DIR (deploy/bench.sh sets both).
# Optional: METRICS_BENCH_SIZES (default "1000000 10000000"), METRICS_BENCH_REPEATS
# (best of this many runs on both sides, default 3; the bootstrap runs once).
set -euo pipefail
: "${AILAB_SOURCE_DIR:?set AILAB_SOURCE_DIR to the checkout}"
: "${AILAB_BINARY_DIR:?set AILAB_BINARY_DIR to the build folder}"
bench="$AILAB_BINARY_DIR/bench/bench_metrics"
anchor="$AILAB_SOURCE_DIR/tests/bench/metrics/anchor_sklearn.py"
[ -x "$bench" ] || { echo "run.sh: $bench is missing; build it with ninja bench_metrics" >&2; exit 1; }
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT


# report LABEL PLATFORM_FILE ANCHOR_FILE: joins the TIME and VALUE lines of both sides by
# operation name; fails when a value differs.
report() {
  local label="$1" platform="$2" anchored="$3"
  awk -v label="$label" '
    FNR == NR { if ($1 == "TIME") pt[$2] = $3; if ($1 == "VALUE") pv[$2] = $3; if ($1 == "INFO") info = $0; next }
    $1 == "TIME" { at[$2] = $3; order[++n] = $2 }
    $1 == "VALUE" { av[$2] = $3 }
    END {
      status = 0
      for (i = 1; i <= n; ++i) {
        op = order[i]
        if (!(op in pt)) continue
        ratio = at[op] / pt[op]
        printf "RESULT %s_%s platform=%.4f anchor=sklearn:%.4f unit=s ratio=%.1f goal=>=10x %s\n",
               op, label, pt[op], at[op], ratio, (ratio >= 10 ? "MET" : "MISSED")
        diff = pv[op] - av[op]; if (diff < 0) diff = -diff
        scale = av[op] < 0 ? -av[op] : av[op]; if (scale < 1) scale = 1
        agree = diff <= 1e-9 * scale
        printf "CHECK %s_%s platform=%s sklearn=%s %s\n", op, label, pv[op], av[op],
               agree ? "agree" : "DIFFER"
        if (!agree) status = 1
      }
      exit status
    }' "$platform" "$anchored"
}

status=0
for rows in ${METRICS_BENCH_SIZES:-1000000 10000000}; do
  repeats="${METRICS_BENCH_REPEATS:-3}"
  label="$(awk -v n="$rows" 'BEGIN { printf "1e%d", log(n) / log(10) + 0.5 }')"
  "$bench" --task classification --rows "$rows" --data "$data" --repeats "$repeats" > "$data/platform.txt"
  grep '^INFO' "$data/platform.txt" | sed "s/^INFO/INFO $label repeats=$repeats/"
  /usr/bin/python3 "$anchor" classification "$data" "$repeats" > "$data/anchor.txt"
  report "$label" "$data/platform.txt" "$data/anchor.txt" || status=1
done

# Bootstrap: 1,000 resamples of the kappa of 10^5 four-class predictions. The goal is
# an absolute one (under one second). scikit-learn is quoted as a Python loop and as a
# NumPy-vectorised version. The intervals come from different random draws, so only
# their widths are printed, not compared.
rows=100000
repeats="${METRICS_BENCH_REPEATS:-1}"
"$bench" --task bootstrap --rows "$rows" --data "$data" --repeats "$repeats" > "$data/platform.txt"
/usr/bin/python3 "$anchor" bootstrap "$data" "$repeats" > "$data/anchor.txt"
awk '
  FNR == NR { if ($1 == "TIME") pt[$2] = $3; if ($1 == "VALUE") pv[$2] = $3; next }
  $1 == "TIME" { at[$2] = $3 } $1 == "VALUE" { av[$2] = $3 }
  END {
    p = pt["bootstrap_kappa_1000"]
    split("sklearn_loop numpy", kinds, " ")
    for (k = 1; k <= 2; ++k) {
      a = at["bootstrap_kappa_1000_" kinds[k]]
      printf "RESULT bootstrap_kappa_1000_1e5_vs_%s platform=%.4f anchor=%s:%.4f unit=s ratio=%.1f goal=<1s %s\n",
             kinds[k], p, kinds[k], a, a / p, (p < 1 ? "MET" : "MISSED")
    }
    printf "INFO bootstrap_kappa_1000_1e5 interval_width platform=%s sklearn_loop=%s numpy=%s\n",
           pv["bootstrap_kappa_1000"], av["bootstrap_kappa_1000_sklearn_loop"], av["bootstrap_kappa_1000_numpy"]
    printf "INFO bootstrap_auc_1000_1e5 platform=%.4f s (no anchor)\n", pt["bootstrap_auc_1000"]
    printf "INFO delong_auc_interval_1e5 platform=%.4f s (no anchor)\n", pt["delong_auc_interval"]
  }' "$data/platform.txt" "$data/anchor.txt"
exit "$status"
