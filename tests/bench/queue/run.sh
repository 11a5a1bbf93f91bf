#!/usr/bin/env bash
# Queue benchmarks: enqueue-to-start latency with a waiting worker against a bare Redis
# Streams hand-off, and 10,000 queued jobs against the same entries kept in Redis.
# Needs AILAB_SOURCE_DIR and AILAB_BINARY_DIR (deploy/bench.sh sets both) and the
# PostgreSQL test server; starts its own redis-server on 127.0.0.1:${BENCH_REDIS_PORT}.
set -euo pipefail
: "${AILAB_SOURCE_DIR:?set AILAB_SOURCE_DIR to the checkout}"
: "${AILAB_BINARY_DIR:?set AILAB_BINARY_DIR to the build folder}"
JOBS="${BENCH_QUEUE_JOBS:-200}"
BACKLOG="${BENCH_QUEUE_BACKLOG:-10000}"
PORT="${BENCH_REDIS_PORT:-56479}"

data_dir="$(mktemp -d)"
redis-server --bind 127.0.0.1 --port "$PORT" --dir "$data_dir" --save "" --appendonly no \
  --daemonize no --loglevel warning --logfile "$data_dir/redis.log" &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; rm -rf "$data_dir"' EXIT
for _ in $(seq 50); do
  redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done

out="$(AILAB_TEST_REDIS_ADDRESS="127.0.0.1:$PORT" \
  "$AILAB_BINARY_DIR/bench/bench_queue_dispatch" --jobs="$JOBS" --backlog="$BACKLOG")"
echo "$out" >&2
figure() { awk -v name="$1" '$1 == "FIGURE" && $2 == name { print $3 }' <<<"$out"; }

p50="$(figure latency_p50_ms)"; p99="$(figure latency_p99_ms)"
c50="$(figure create_to_start_p50_ms)"; c99="$(figure create_to_start_p99_ms)"
a50="$(figure anchor_latency_p50_ms)"; a99="$(figure anchor_latency_p99_ms)"
rss_first="$(figure service_rss_first_kib)"; rss_last="$(figure service_rss_last_kib)"
redis_growth="$(figure redis_growth_bytes)"; plain_growth="$(figure anchor_redis_growth_bytes)"
length="$(figure backlog_stream_length)"

python3 - "$p50" "$p99" "$a50" "$a99" "$rss_first" "$rss_last" "$redis_growth" "$plain_growth" \
  "$length" "$BACKLOG" "$c50" "$c99" <<'PY'
import sys
p50, p99, a50, a99, rss_first, rss_last, redis_growth, plain_growth = map(float, sys.argv[1:9])
length, backlog = int(sys.argv[9]), int(sys.argv[10])
c50, c99 = float(sys.argv[11]), float(sys.argv[12])
def line(name, value, anchor, anchor_value, unit, ratio, goal, met):
    print(f"RESULT {name} platform={value:.3f} anchor={anchor}:{anchor_value:.3f} unit={unit} "
          f"ratio={ratio:.3f} goal={goal} {'MET' if met else 'MISSED'}")
line("queue_start_latency_p50", p50, "redis_xadd_to_xreadgroup_p50", a50, "ms",
     p50 / a50 if a50 else 0, "report", True)
line("queue_start_latency_p99", p99, "redis_xadd_to_xreadgroup_p99", a99, "ms",
     p99 / a99 if a99 else 0, "p99<50ms", p99 < 50)
line("queue_create_to_start_p99", c99, "redis_xadd_to_xreadgroup_p99", a99, "ms",
     c99 / a99 if a99 else 0, "report", True)
growth = rss_last / rss_first if rss_first > 0 else 0
line("queue_backlog_service_rss", rss_last / 1024, "rss_at_1000_jobs", rss_first / 1024, "MiB",
     growth, "rss_10000/rss_1000<1.10", 0 < growth < 1.10)
line("queue_backlog_redis_growth", redis_growth / 1024, f"plain_stream_{backlog}_entries",
     plain_growth / 1024, "KiB", redis_growth / plain_growth if plain_growth else 0,
     "ratio<0.10", plain_growth > 0 and redis_growth / plain_growth < 0.10)
print(f"# backlog of {backlog} jobs left {length} entries in the stream", file=sys.stderr)
PY
