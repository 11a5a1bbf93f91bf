#!/usr/bin/env bash
# Inference throughput at 16 concurrent clients with dynamic batching against the same
# service with batching off (--max_batch_size=1), same model, image and request count.
# Needs AILAB_BINARY_DIR (deploy/bench.sh sets it) and the PostgreSQL test server.
set -euo pipefail
: "${AILAB_BINARY_DIR:?set AILAB_BINARY_DIR to the build folder}"
CLIENTS="${BENCH_INFERENCE_CLIENTS:-16}"
REQUESTS="${BENCH_INFERENCE_REQUESTS:-40}"
SIZE="${BENCH_INFERENCE_SIZE:-128}"
THREADS="${BENCH_INFERENCE_THREADS:-2}"

out="$("$AILAB_BINARY_DIR/bench/bench_inference_batching" --clients="$CLIENTS" \
  --requests="$REQUESTS" --size="$SIZE" --batch="$CLIENTS" --threads="$THREADS")"
echo "$out" >&2
figure() { awk -v name="$1" '$1 == "FIGURE" && $2 == name { print $3 }' <<<"$out"; }
python3 - "$(figure batched_per_s)" "$(figure unbatched_per_s)" "$CLIENTS" <<'PY'
import sys
batched, unbatched, clients = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
ratio = batched / unbatched if unbatched else 0
print(f"RESULT inference_throughput_{clients}_clients platform={batched:.3f} "
      f"anchor=same_service_max_batch_size_1:{unbatched:.3f} unit=predictions/s "
      f"ratio={ratio:.3f} goal=ratio>=2 {'MET' if ratio >= 2 else 'MISSED'}")
PY
