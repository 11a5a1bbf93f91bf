#!/usr/bin/env bash
# Builds the benchmarks and runs each area's tests/bench/<area>/run.sh, which measures
# the platform and its anchors in the same run and prints one line per figure:
#   RESULT <id> platform=<value> anchor=<name>:<value> unit=<unit> ratio=<r> goal=<goal> <MET|MISSED>
# Usage: deploy/bench.sh [area...]   (default: every area). Output also goes to var/bench/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${AILAB_BUILD_DIR:-$root/build}"
out="$root/var/bench"
mkdir -p "$out"

# The anchors' tools and Python packages (Orthanc, wrk, PyTorch, scikit-learn, pydicom).
if [ "$(id -u)" -eq 0 ]; then
  "$root/deploy/install-deps.sh" --bench
fi
ninja -C "$build" bench

areas=("$@")
if [ "${#areas[@]}" -eq 0 ]; then
  for d in "$root"/tests/bench/*/; do
    [ -x "$d/run.sh" ] && areas+=("$(basename "$d")")
  done
fi

export AILAB_SOURCE_DIR="$root" AILAB_BINARY_DIR="$build"
status=0
for area in "${areas[@]}"; do
  script="$root/tests/bench/$area/run.sh"
  if [ ! -x "$script" ]; then
    echo "bench: no benchmark area named $area (folders of tests/bench with a run.sh)" >&2
    status=1
    continue
  fi
  echo "== $area"
  if ! "$script" 2>&1 | tee "$out/$area.txt"; then
    echo "bench: $area failed; its output is in var/bench/$area.txt" >&2
    status=1
  fi
done
exit "$status"
