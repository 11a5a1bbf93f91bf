#!/usr/bin/env bash
# Builds the DICOM fuzzer (tests/fuzz/project, clang with ASan and UBSan) and runs it
# for a bounded time on a corpus seeded from the shared DICOM test set. Exits non-zero
# when the build fails or the fuzzer finds a crash, a sanitizer report or a leak; the
# input that caused it is left in <build dir>/artifacts.
#
#   tests/fuzz/run_fuzzer.sh BUILD_DIR [SECONDS]
#
# SECONDS defaults to 60 (AILAB_FUZZ_SECONDS overrides both). AILAB_SOURCE_DIR is the
# checkout, set by CTest; the seeds are in $AILAB_SOURCE_DIR/../shared/data/dicom.
set -euo pipefail
build_dir="${1:?usage: run_fuzzer.sh BUILD_DIR [SECONDS]}"
seconds="${AILAB_FUZZ_SECONDS:-${2:-60}}"
source_dir="${AILAB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
seeds="$source_dir/../shared/data/dicom"

for tool in clang clang++; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "run_fuzzer: $tool is not installed; run deploy/install-deps.sh as root" >&2
    exit 1
  fi
done
if [ ! -d "$seeds" ]; then
  echo "run_fuzzer: seed folder $seeds is missing; place the shared test data beside the checkout" >&2
  exit 1
fi

cmake -S "$source_dir/tests/fuzz/project" -B "$build_dir" -G Ninja \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >"$build_dir.configure.log" 2>&1 || {
  cat "$build_dir.configure.log" >&2
  exit 1
}
nice ninja -C "$build_dir" -j "${AILAB_FUZZ_BUILD_JOBS:-2}" dicom_fuzzer

# A fresh corpus each run, so that the run is bounded by the seeds and the time. Files
# above the input size limit would only be cut, so the large images stay out.
max_len=262144
corpus="$build_dir/corpus"
artifacts="$build_dir/artifacts"
rm -rf "$corpus"
mkdir -p "$corpus" "$artifacts"
find "$seeds" -name '*.dcm' -size -"$((max_len / 1024))"k -exec cp {} "$corpus/" \;
echo "run_fuzzer: $(ls "$corpus" | wc -l) seed files, $seconds s"

# detect_leaks: DCMTK's process-wide codec registrations are allocated once and kept.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
# -malloc_limit_mb: DCMTK 3.6.7 allocates a value's buffer from its length field before
# it reads the value. A damaged length therefore requests up to 4 GiB, which are never
# touched and are freed when the read fails. The RSS limit still catches memory that is used.
"$build_dir/dicom_fuzzer" "$corpus" \
  -max_total_time="$seconds" -max_len="$max_len" -timeout=30 -rss_limit_mb=2560 \
  -malloc_limit_mb=4200 \
  -artifact_prefix="$artifacts/" -print_final_stats=1
