#!/usr/bin/env bash
# Preparation benchmark: the platform's preparation (decode, window, PNG and array) and
# its anchors, in the same run, on the same files, one thread each:
#   - pydicom 2.3 + NumPy + Pillow (+ python3-gdcm) via /usr/bin/python3;
#   - DCMTK's dcmj2pnm, one process per file (PNG only, so the platform runs without
#     the array for that comparison).
# Inputs: every DICOM file of ../shared/data/dicom outside malformed/ that both sides
# of a comparison decode. Prints one RESULT line per figure; docs/bench/preparation.md
# explains them.
#   AILAB_SOURCE_DIR=. AILAB_BINARY_DIR=build tests/bench/preparation/run.sh
# AILAB_BENCH_REPEAT (default 3) sets the runs per file; the best run counts. Times are
# CPU seconds of each process (user and system), so that other work on a shared machine
# does not count; AILAB_BENCH_WALL=1 measures elapsed seconds instead.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="${AILAB_SOURCE_DIR:-$(cd "$here/../../.." && pwd)}"
binary_dir="${AILAB_BINARY_DIR:-$source_dir/build}"
bench="$binary_dir/bench/bench_preparation"
data="$source_dir/../shared/data/dicom"
repeat="${AILAB_BENCH_REPEAT:-3}"
python=/usr/bin/python3
wall_flag=()
if [ "${AILAB_BENCH_WALL:-0}" = 1 ]; then
  wall_flag=(--wall)
fi
mammogram="$data/mg/MG1_JPLY.dcm"

if [ ! -x "$bench" ]; then
  echo "preparation bench: $bench is missing; build it with ninja -C $binary_dir bench" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

find "$data" -name '*.dcm' -not -path '*/malformed/*' | sort >"$work/all.txt"
echo "preparation bench: $(wc -l <"$work/all.txt") files, best of $repeat runs per file"

# Which files each pipeline decodes.
"$bench" --png_level=1 --no_array <"$work/all.txt" >"$work/probe-platform.txt"
"$python" "$here/anchor_pydicom.py" --png-level=1 --no-array <"$work/all.txt" \
  >"$work/probe-pydicom.txt" 2>/dev/null
"$python" "$here/anchor_dcmj2pnm.py" <"$work/all.txt" >"$work/probe-dcmtk.txt"
"$python" "$here/compare.py" intersect "$work/probe-platform.txt" "$work/probe-pydicom.txt" \
  >"$work/set-pydicom.txt"
"$python" "$here/compare.py" intersect "$work/probe-platform.txt" "$work/probe-dcmtk.txt" \
  >"$work/set-dcmtk.txt"
echo "preparation bench: platform decodes $(grep -c ' ok ' "$work/probe-platform.txt"), " \
  "pydicom $(grep -c ' ok ' "$work/probe-pydicom.txt"), dcmj2pnm" \
  "$(grep -c ' ok ' "$work/probe-dcmtk.txt")"

compare() { "$python" "$here/compare.py" "$@"; }

# Full preparation (PNG and a 256 x 256 array) at zlib levels 6 and 1.
for level in 6 1; do
  "$bench" --png_level="$level" --array_size=256 --repeat="$repeat" "${wall_flag[@]}" \
    <"$work/set-pydicom.txt" >"$work/platform-$level.txt"
  "$python" "$here/anchor_pydicom.py" --png-level="$level" --array-size=256 --repeat="$repeat" \
    "${wall_flag[@]}" \
    <"$work/set-pydicom.txt" >"$work/pydicom-$level.txt" 2>/dev/null
  compare throughput "preparation_images_per_s_png$level" "$work/platform-$level.txt" pydicom \
    "$work/pydicom-$level.txt" 3
  compare megapixels "preparation_megapixels_per_s_png$level" "$work/platform-$level.txt" \
    pydicom "$work/pydicom-$level.txt" 3
  compare bytes "preparation_png_bytes_png$level" "$work/platform-$level.txt" pydicom \
    "$work/pydicom-$level.txt" 1.05
done

# The same, with Pillow given the platform's zlib strategy (Z_RLE), so that the PNG
# encoder's choice is taken out of the comparison.
"$python" "$here/anchor_pydicom.py" --png-level=6 --png-strategy=rle --array-size=256 \
  --repeat="$repeat" "${wall_flag[@]}" <"$work/set-pydicom.txt" \
  >"$work/pydicom-6-rle.txt" 2>/dev/null
compare throughput preparation_images_per_s_png6_same_strategy "$work/platform-6.txt" \
  pydicom-rle "$work/pydicom-6-rle.txt" 3

# PNG only, against dcmj2pnm per file.
"$bench" --png_level=6 --no_array --repeat="$repeat" "${wall_flag[@]}" <"$work/set-dcmtk.txt" \
  >"$work/platform-png.txt"
"$python" "$here/anchor_dcmj2pnm.py" --repeat="$repeat" "${wall_flag[@]}" \
  <"$work/set-dcmtk.txt" \
  >"$work/dcmtk.txt"
compare throughput preparation_png_images_per_s "$work/platform-png.txt" dcmj2pnm \
  "$work/dcmtk.txt" 3
compare bytes preparation_png_bytes_dcmj2pnm "$work/platform-png.txt" dcmj2pnm \
  "$work/dcmtk.txt" 1.05

# Peak memory of one process preparing the 4664 x 3064 mammogram (PNG and array).
echo "$mammogram" | "$bench" --png_level=6 --array_size=256 >"$work/memory-platform.txt"
echo "$mammogram" | "$python" "$here/anchor_pydicom.py" --png-level=6 --array-size=256 \
  >"$work/memory-pydicom.txt" 2>/dev/null
compare memory preparation_peak_rss_mammogram "$work/memory-platform.txt" pydicom \
  "$work/memory-pydicom.txt" 300
