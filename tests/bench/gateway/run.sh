#!/usr/bin/env bash
# Gateway benchmarks on a stack of its own (tests/web/stack.sh, no trained models):
#   - SaveAnnotation POSTs through the gateway with wrk at 64 and 256 connections,
#     against pgbench's single-row INSERT on the same PostgreSQL server (-c 64 -j 2);
#   - the gateway's resident memory (VmRSS sampled each 0.2 s, VmHWM) at 256 connections;
#   - GET /healthz with wrk at 64 connections, the HTTP layer without a service call;
#   - Annotate page timings in Chromium (annotate_timing.js) against plain fetch() calls.
# The gateway runs with --rate_limit_per_second=0 (set as
# AILAB_GATEWAY_RATE_LIMIT_PER_SECOND), since every wrk connection comes from 127.0.0.1
# and the default limit of 200 requests/s per client address would turn most requests
# into 429.
#
# Needs AILAB_SOURCE_DIR and AILAB_BINARY_DIR (deploy/bench.sh sets both), the service
# binaries and the gateway in $AILAB_BUILD_DIR/bin (default $AILAB_BINARY_DIR), the
# built web application, wrk, pgbench and /usr/bin/chromium.
# Environment: BENCH_GATEWAY_SECONDS (default 15) per wrk and pgbench run,
# BENCH_GATEWAY_USERS (default 32) radiologists whose tokens wrk cycles through.
set -euo pipefail
: "${AILAB_SOURCE_DIR:?set AILAB_SOURCE_DIR to the checkout}"
: "${AILAB_BINARY_DIR:?set AILAB_BINARY_DIR to the build folder}"
seconds="${BENCH_GATEWAY_SECONDS:-15}"
bench_users="${BENCH_GATEWAY_USERS:-32}"
here="$AILAB_SOURCE_DIR/tests/bench/gateway"
web_tests="$AILAB_SOURCE_DIR/tests/web"
pgbench=/usr/lib/postgresql/15/bin/pgbench
log() { echo "bench-gateway: $*" >&2; }
for tool in wrk "$pgbench" /usr/bin/chromium node; do
  command -v "$tool" >/dev/null || { log "FAILED: $tool is missing"; exit 1; }
done
if [ ! -d "$web_tests/node_modules/playwright-core" ]; then
  (cd "$web_tests" && npm ci --no-audit --no-fund >&2)
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/ailab-bench-gateway.XXXXXX")"
stack_dir="$work/stack"
cleanup() {
  status=$?
  [ -n "${sampler_pid:-}" ] && kill "$sampler_pid" 2>/dev/null
  "$web_tests/stop.sh" "$stack_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

AILAB_BUILD_DIR="${AILAB_BUILD_DIR:-$AILAB_BINARY_DIR}" AILAB_STACK_SEED=users \
  AILAB_GATEWAY_RATE_LIMIT_PER_SECOND=0 "$web_tests/stack.sh" "$stack_dir" >/dev/null
# shellcheck disable=SC1091  # written by stack.sh
set -a; . "$stack_dir/stack.env"; set +a
url="$AILAB_WEB_URL"
gateway_pid="$AILAB_GATEWAY_PID"

api() {
  local token="$1" service="$2" method="$3" body="$4"
  curl -fsS -X POST -H 'Content-Type: application/json' ${token:+-H "Authorization: Bearer $token"} \
    --data-binary "$body" "$url/api/$service/$method"
}
json() { /usr/bin/python3 -c "import json,sys; data=json.load(sys.stdin); print($1)"; }
identity=ailab.identity.v1.IdentityService
admin_token="$(api "" "$identity" SignIn "{\"username\":\"admin\",\"password\":\"$AILAB_STACK_ADMIN_PASSWORD\"}" | json 'data["token"]')"

# wrk's input: radiologist tokens and the dataset's instances.
data_file="$work/save.tsv"
printf 'target\t%s\t%s\n' "$AILAB_STACK_USE_CASE" "$AILAB_STACK_DATASET" >"$data_file"
for i in $(seq 1 "$bench_users"); do
  username="$(printf 'bench%02d' "$i")"
  password="$(head -c 12 /dev/urandom | base64 | tr '+/' '-_')"
  api "$admin_token" "$identity" CreateUser \
    "{\"username\":\"$username\",\"roles\":[\"radiologist\"],\"password\":\"$password\"}" >/dev/null
  token="$(api "" "$identity" SignIn "{\"username\":\"$username\",\"password\":\"$password\"}" | json 'data["token"]')"
  printf 'token\t%s\n' "$token" >>"$data_file"
done
api "$admin_token" ailab.ingest.v1.IngestService ListInstances \
  "{\"parent\":\"$AILAB_STACK_DATASET\",\"pageSize\":1000}" \
  | json '"\n".join("instance\t" + i["name"] for i in data["instances"])' >>"$data_file"
instances="$(grep -c '^instance' "$data_file")"
log "$bench_users users, $instances instances: $((bench_users * instances)) distinct annotation rows"

# Runs wrk with $1 connections and prints "<requests/s> <p99 ms> <failed> <requests>", where
# failed counts non-2xx responses and socket errors.
# With a second argument, it sends plain GETs of that path in place of SaveAnnotation.
run_wrk() {
  local connections="$1" path="${2:-}" out
  local target=(-s "$here/save_annotation.lua" "$url")
  [ -n "$path" ] && target=("$url$path")
  out="$(BENCH_SAVE_DATA="$data_file" wrk -t2 -c"$connections" -d"${seconds}s" --timeout 10s --latency \
    "${target[@]}")"
  echo "$out" >&2
  /usr/bin/python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
total = int(re.search(r"(\d+) requests in", out).group(1))
failed = (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
print(f"{rate} {p99} {failed} {total}")
PY
}

# Resident memory of the gateway: idle first, then sampled during the 256-connection run.
rss_kib() { awk -v key="$1:" '$1 == key { print $2 }' "/proc/$gateway_pid/status"; }
idle_rss="$(rss_kib VmRSS)"

# CPU time (user + system, in clock ticks) of the processes given, for the breakdown of
# the 64-connection run. PostgreSQL counts the postmaster's children (the services'
# pooled backends stay for the whole run).
cpu_ticks() {
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")))
  done
  echo "$total"
}
annotation_pid="$(cat "$AILAB_STACK_VAR/run/annotation.pid")"
pg_data="$AILAB_STACK_VAR/postgres"
[ -f "$AILAB_STACK_VAR/run/postgres-root" ] && pg_data="$(cat "$AILAB_STACK_VAR/run/postgres-root")/postgres"
postmaster_pid="$(head -n 1 "$pg_data/postmaster.pid")"
mapfile -t pg_pids < <(pgrep -P "$postmaster_pid")
cpu_before=("$(cpu_ticks "$gateway_pid")" "$(cpu_ticks "$annotation_pid")" "$(cpu_ticks "${pg_pids[@]}")")
read -r rate64 p99_64 failed64 total64 < <(run_wrk 64)
cpu_after=("$(cpu_ticks "$gateway_pid")" "$(cpu_ticks "$annotation_pid")" "$(cpu_ticks "${pg_pids[@]}")")
ticks="$(getconf CLK_TCK)"
cpu_line="$(for i in 0 1 2; do echo "$(( (cpu_after[i] - cpu_before[i]) * 1000 / ticks ))"; done | paste -sd' ')"
(
  peak=0
  while kill -0 "$gateway_pid" 2>/dev/null; do
    now="$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$gateway_pid/status" 2>/dev/null || echo 0)"
    [ "${now:-0}" -gt "$peak" ] && peak="$now" && echo "$peak" >"$work/rss-peak"
    sleep 0.2
  done
) &
sampler_pid=$!
read -r rate256 p99_256 failed256 total256 < <(run_wrk 256)
kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null || true
sampler_pid=
peak_rss="$(cat "$work/rss-peak" 2>/dev/null || echo 0)"
hwm_rss="$(rss_kib VmHWM)"
# The HTTP layer alone: /healthz calls no service and checks no token.
read -r healthz_rate _ _ _ < <(run_wrk 64 /healthz)

# The anchor: single-row INSERTs by pgbench on the stack's PostgreSQL server, with a
# per-transaction log for its p99.
psql_stack=(psql -h 127.0.0.1 -p "$AILAB_PG_PORT" -U ailab -d ailab -v ON_ERROR_STOP=1 -qtA)
"${psql_stack[@]}" -c "CREATE TABLE IF NOT EXISTS bench_gateway_insert (
  id bigserial PRIMARY KEY, annotator text NOT NULL, instance text NOT NULL, label text NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now())" >/dev/null
cat >"$work/insert.sql" <<'SQL'
\set user random(1, 32)
\set instance random(1, 120)
INSERT INTO bench_gateway_insert (annotator, instance, label)
  VALUES ('bench' || :user, 'datasets/density-web/instances/' || :instance, 'B');
SQL
(cd "$work" && "$pgbench" -n -h 127.0.0.1 -p "$AILAB_PG_PORT" -U ailab -c 64 -j 2 -T "$seconds" \
  -f insert.sql -l --log-prefix=pgbench-log ailab >"$work/pgbench-output.txt" 2>&1) \
  || { cat "$work/pgbench-output.txt" >&2; log "FAILED: pgbench"; exit 1; }
cat "$work/pgbench-output.txt" >&2
pg_tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench-output.txt" | head -n 1)"
pg_p99="$(cat "$work"/pgbench-log.* | awk '{ print $3 / 1000 }' | sort -n \
  | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; print v[i] }')"

# Annotate page timings in the browser.
timing="$(AILAB_STACK_JSON="$stack_dir/stack.json" node "$here/annotate_timing.js" --saves=20 --loads=3)"
echo "$timing" >&2
figure() { awk -v name="$1" '$1 == "FIGURE" && $2 == name { print $3 }' <<<"$timing"; }

/usr/bin/python3 - <<PY
def line(name, value, anchor, anchor_value, unit, ratio, goal, met):
    print(f"RESULT {name} platform={value:.3f} anchor={anchor}:{anchor_value:.3f} unit={unit} "
          f"ratio={ratio:.3f} goal={goal} {'MET' if met else 'MISSED'}")
rate64, rate256, pg_tps = $rate64, $rate256, $pg_tps
failed64, failed256, total64, total256 = $failed64, $failed256, $total64, $total256
p99_64, p99_256, pg_p99 = $p99_64, $p99_256, $pg_p99
ok64 = failed64 <= 0.001 * total64
ok256 = failed256 <= 0.001 * total256
line("gateway_save_rate_c64", rate64, "pgbench_insert_c64", pg_tps, "req/s", rate64 / pg_tps,
     "ratio>=0.5", ok64 and rate64 / pg_tps >= 0.5)
line("gateway_save_rate_c256", rate256, "pgbench_insert_c64", pg_tps, "req/s", rate256 / pg_tps,
     "ratio>=0.5", ok256 and rate256 / pg_tps >= 0.5)
line("gateway_save_p99_c64", p99_64, "pgbench_insert_p99_c64", pg_p99, "ms", p99_64 / pg_p99,
     "p99<50ms", ok64 and p99_64 < 50)
line("gateway_save_p99_c256", p99_256, "pgbench_insert_p99_c64", pg_p99, "ms", p99_256 / pg_p99,
     "report", True)
line("gateway_healthz_rate_c64", $healthz_rate, "gateway_save_rate_c64", rate64, "req/s",
     $healthz_rate / rate64, "report", True)
idle, peak, hwm = $idle_rss / 1024, $peak_rss / 1024, $hwm_rss / 1024
line("gateway_rss_c256", max(peak, hwm), "gateway_rss_idle", idle, "MiB", max(peak, hwm) / idle,
     "report", True)
first, png = $(figure first_image_median_ms), $(figure anchor_png_fetch_draw_median_ms)
save, save_p95, requests = $(figure save_to_next_median_ms), $(figure save_to_next_p95_ms), $(figure anchor_save_requests_median_ms)
line("annotate_first_image", first, "png_fetch_draw", png, "ms", first / png, "<1000ms", first < 1000)
line("annotate_save_to_next_median", save, "save_requests_fetch", requests, "ms", save / requests,
     "<150ms", save < 150)
line("annotate_save_to_next_p95", save_p95, "save_requests_fetch", requests, "ms", save_p95 / requests,
     "report", True)
gateway_ms, annotation_ms, pg_ms = map(int, "$cpu_line".split())
print(f"# CPU time during the {$seconds} s SaveAnnotation run at 64 connections: gateway "
      f"{gateway_ms / 1000:.1f} s, annotation service {annotation_ms / 1000:.1f} s, "
      f"PostgreSQL backends {pg_ms / 1000:.1f} s, for {total64} requests")
print(f"# failed requests: {failed64}/{total64} at 64 connections, {failed256}/{total256} at 256; "
      f"VmHWM {hwm:.1f} MiB, sampled VmRSS peak {peak:.1f} MiB")
PY
