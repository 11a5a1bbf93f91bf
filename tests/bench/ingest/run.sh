#!/usr/bin/env bash
# C-STORE ingest benchmark: the ingest service's storage SCP against Orthanc, in the same
# run, on the same files, sent by DCMTK's storescu over loopback.
#
# Figures (instances per second, ratio platform / Orthanc, goal at least 2):
#   one association and eight at once, each with the sender's TCP_NODELAY unset and set.
# Memory: 10,000 small instances over eight associations; the growth of resident memory
# between the early part of the run and its end, for both receivers.
#
# Environment: AILAB_SOURCE_DIR, AILAB_BINARY_DIR (set by deploy/bench.sh),
# AILAB_TEST_DATABASE_URL (PostgreSQL server for a scratch database),
# BENCH_INGEST_COUNT (instances per throughput trial, default 1000),
# BENCH_INGEST_MEMORY_COUNT (instances of the memory trial, default 10000).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
src=${AILAB_SOURCE_DIR:-$(cd "$here/../../.." && pwd)}
bin=${AILAB_BINARY_DIR:-$src/build}
count=${BENCH_INGEST_COUNT:-1000}
memory_count=${BENCH_INGEST_MEMORY_COUNT:-10000}
server_url=${AILAB_TEST_DATABASE_URL:-postgresql://ailab@127.0.0.1:55432/ailab}
data="$src/../shared/data/dicom"
python=/usr/bin/python3

work=$(mktemp -d /tmp/bench-ingest-XXXXXX)
db="bench_ingest_$$"
db_url="${server_url%/*}/$db"
ingest_pid=""
cleanup() {
  if [ -n "$ingest_pid" ]; then
    kill "$ingest_pid" 2>/dev/null || true
    wait "$ingest_pid" 2>/dev/null || true
  fi
  psql "$server_url" -qc "drop database if exists $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

for tool in storescu echoscu Orthanc unshare curl psql bc; do
  command -v "$tool" >/dev/null || { echo "bench ingest: $tool is not installed" >&2; exit 1; }
done
[ -x "$bin/bin/ailab-ingest" ] || { echo "bench ingest: build ailab-ingest first" >&2; exit 1; }

echo "bench ingest: writing $count + $memory_count test instances under $work" >&2
"$python" "$here/make_copies.py" "$data/mg/MG_clunie_pixelspacing_ELE.dcm" "$work/mg" "$count" 8
"$python" "$here/make_copies.py" "$data/uncompressed/CT_small.dcm" "$work/ct" "$memory_count" 8

# The platform: one ailab-ingest process; each trial sends to its own called AE title,
# routed to its own dataset, so that no trial stores the instances of another as
# duplicates.
psql "$server_url" -qc "create database $db" >/dev/null
mkdir -p "$work/blobs"
routes=""
for trial in P1UNSET P1SET P8UNSET P8SET MEMORY; do
  routes+="${routes:+,}$trial=datasets/$(echo "$trial" | tr 'A-Z' 'a-z')"
done
"$bin/bin/ailab-ingest" --database_url="$db_url" --blob_root="$work/blobs" \
  --deid_key=bench-ingest-key-0123456789abcdef --listen=127.0.0.1:0 \
  --port_file="$work/grpc_port" --dicom_port=0 --dicom_port_file="$work/dicom_port" \
  --dicom_routes="$routes" --dicom_max_associations=16 --log_level=warn \
  >"$work/ingest.log" 2>&1 &
ingest_pid=$!
for _ in $(seq 1 150); do
  [ -s "$work/grpc_port" ] && break
  sleep 0.2
done
[ -s "$work/dicom_port" ] || { echo "bench ingest: ailab-ingest did not start" >&2; cat "$work/ingest.log" >&2; exit 1; }
port=$(cat "$work/dicom_port")

stored_in() {
  psql "$db_url" -Atc "select count(*) from ingest.instances where dataset_id = '$1'"
}

# Median of the values of lines FROM to TO (1-based, inclusive) of FILE.
median_lines() {
  sed -n "$2,$3p" "$1" | sort -n | awk '{v[NR] = $1} END {if (NR == 0) print 0; else print v[int((NR + 1) / 2)]}'
}

# Prints "EARLY LATE" resident memory in MiB: the median of the samples between 10% and
# 30% of the run (after the start-up allocations) and the median of its last fifth.
rss_early_late_mib() {
  local file=$1 n
  n=$(wc -l <"$file")
  if [ "$n" -lt 10 ]; then
    echo "bench ingest: only $n memory samples in $file" >&2
    echo "0 0"
    return
  fi
  local early late
  early=$(median_lines "$file" $((n / 10 + 1)) $((n * 3 / 10)))
  late=$(median_lines "$file" $((n * 4 / 5 + 1)) "$n")
  echo "$(echo "$early / 1024" | bc -l) $(echo "$late / 1024" | bc -l)"
}

result() {  # ID PLATFORM ANCHOR UNIT GOAL_TEXT MET(0|1)
  local ratio
  ratio=$(echo "if ($3 > 0) $2 / $3 else 0" | bc -l)
  printf 'RESULT %s platform=%.1f anchor=orthanc:%.1f unit=%s ratio=%.2f goal=%s %s\n' \
    "$1" "$2" "$3" "$4" "$ratio" "$5" "$([ "$6" = 1 ] && echo MET || echo MISSED)"
}

for associations in 1 8; do
  for nodelay in unset set; do
    trial="P${associations}$(echo "$nodelay" | tr 'a-z' 'A-Z')"
    dataset=$(echo "$trial" | tr 'A-Z' 'a-z')
    seconds=$(send "$port" "$trial" "$work/mg" "$associations" "$nodelay" "$work/storescu.log")
    stored=$(stored_in "$dataset")
    platform=$(echo "$stored / $seconds" | bc -l)

    orthanc_out=$(unshare -rn bash "$here/orthanc_trial.sh" "$work/orthanc-$dataset" "$work/mg" \
      "$associations" "$nodelay" "$work/orthanc-$dataset.rss")
    orthanc_seconds=$(echo "$orthanc_out" | sed -n 's/.*elapsed=\([0-9.]*\).*/\1/p')
    orthanc_stored=$(echo "$orthanc_out" | sed -n 's/.*stored=\([0-9]*\).*/\1/p')
    anchor=$(echo "$orthanc_stored / $orthanc_seconds" | bc -l)
    echo "bench ingest: $trial platform stored $stored/$count in ${seconds}s," \
      "Orthanc stored $orthanc_stored/$count in ${orthanc_seconds}s" >&2
    met=$(echo "$stored == $count && $platform >= 2 * $anchor" | bc -l)
    result "cstore_${associations}assoc_sender_nodelay_${nodelay}" "$platform" "$anchor" \
      instances/s ">=2x_orthanc" "$met"
  done
done

# Memory over 10,000 instances: eight associations, sender TCP_NODELAY set.
sample_rss "$ingest_pid" "$work/platform.rss" &
sampler=$!
seconds=$(send "$port" MEMORY "$work/ct" 8 set "$work/storescu.log")
kill "$sampler" 2>/dev/null || true
stored=$(stored_in memory)
read -r platform_early platform_late < <(rss_early_late_mib "$work/platform.rss")
platform_growth=$(echo "$platform_late - $platform_early" | bc -l)
platform_peak=$(sort -n "$work/platform.rss" | tail -1)
orthanc_out=$(unshare -rn bash "$here/orthanc_trial.sh" "$work/orthanc-memory" "$work/ct" 8 set \
  "$work/orthanc-memory.rss")
read -r orthanc_early orthanc_late < <(rss_early_late_mib "$work/orthanc-memory.rss")
orthanc_growth=$(echo "$orthanc_late - $orthanc_early" | bc -l)
orthanc_peak=$(sort -n "$work/orthanc-memory.rss" | tail -1)
printf 'bench ingest: memory trial platform stored %s/%s in %.1fs, RSS %.1f -> %.1f MiB (peak %d MiB, %d samples); Orthanc %s, RSS %.1f -> %.1f MiB (peak %d MiB)\n' \
  "$stored" "$memory_count" "$seconds" "$platform_early" "$platform_late" \
  $((platform_peak / 1024)) "$(wc -l <"$work/platform.rss")" "$orthanc_out" \
  "$orthanc_early" "$orthanc_late" $((orthanc_peak / 1024)) >&2
met=$(echo "$stored == $memory_count && $platform_growth <= 32" | bc -l)
result "cstore_${memory_count}_instances_rss_growth" "$platform_growth" "$orthanc_growth" MiB \
  "growth<=32MiB" "$met"
if grep -q "^E: " "$work/storescu.log"; then
  echo "bench ingest: storescu reported errors:" >&2
  grep "^E: " "$work/storescu.log" | sort | uniq -c | head >&2
fi
