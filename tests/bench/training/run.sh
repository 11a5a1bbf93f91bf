#!/usr/bin/env bash
# Training and inference speed of the platform against Python PyTorch (Debian's
# python3-torch, /usr/bin/python3) on the same machine, inputs and thread count:
#   training_step_images_per_s   forward, loss, backward and Adam step on one batch
#   training_epoch_images_per_s  one epoch from the .npy files: reading, training,
#                                validation and the checkpoint
#   inference_p50_ms / _p99_ms   one-image requests on the same TorchScript file
# Each pair runs ROUNDS times, platform and anchor alternating, and the best round of
# each side counts, which damps the noise of a shared machine.
# Knobs: BENCH_TRAINING_ARCH (resnet18), _SIZE (128), _BATCH (16), _THREADS (number of
# cores), _ROUNDS (3), _STEPS (20), _TRAIN_IMAGES (256), _REQUESTS (200).
set -euo pipefail
: "${AILAB_BINARY_DIR:?set AILAB_BINARY_DIR to the build folder}"
: "${AILAB_SOURCE_DIR:?set AILAB_SOURCE_DIR to the checkout}"
ARCH="${BENCH_TRAINING_ARCH:-resnet18}"
SIZE="${BENCH_TRAINING_SIZE:-128}"
BATCH="${BENCH_TRAINING_BATCH:-16}"
THREADS="${BENCH_TRAINING_THREADS:-$(nproc)}"
ROUNDS="${BENCH_TRAINING_ROUNDS:-3}"
STEPS="${BENCH_TRAINING_STEPS:-20}"
TRAIN_IMAGES="${BENCH_TRAINING_TRAIN_IMAGES:-256}"
REQUESTS="${BENCH_TRAINING_REQUESTS:-200}"
CLASSES=4
bench="$AILAB_BINARY_DIR/bench/bench_training_speed"
anchor=(/usr/bin/python3 "$AILAB_SOURCE_DIR/tests/bench/training/anchor.py")

work="$(mktemp -d "${TMPDIR:-/tmp}/ailab-bench-training-XXXXXX")"
trap 'rm -rf "$work"' EXIT

# field LINE NAME: the value of NAME=... in LINE.
field() { tr ' ' '\n' <<<"$1" | awk -F= -v name="$2" '$1 == name { print $2 }'; }
# best VALUES... HIGHER: the largest (HIGHER=1) or smallest (0) value.
best() {
  local higher="$1"; shift
  printf '%s\n' "$@" | sort -g | { if [ "$higher" = 1 ]; then tail -n 1; else head -n 1; fi; }
}
# result ID PLATFORM ANCHOR_NAME ANCHOR UNIT GOAL_TEXT OP THRESHOLD
result() {
  /usr/bin/python3 - "$@" <<'PY'
import sys
id_, platform, anchor_name, anchor, unit, goal, op, threshold = sys.argv[1:]
platform, anchor, threshold = float(platform), float(anchor), float(threshold)
ratio = platform / anchor if anchor else 0.0
met = ratio >= threshold if op == ">=" else ratio <= threshold
print(f"RESULT {id_} platform={platform:.3f} anchor={anchor_name}:{anchor:.3f} unit={unit} "
      f"ratio={ratio:.3f} goal={goal} {'MET' if met else 'MISSED'}")
PY
}

echo "training bench: arch=$ARCH size=$SIZE batch=$BATCH threads=$THREADS rounds=$ROUNDS" >&2

step_platform=(); step_anchor=()
for _ in $(seq "$ROUNDS"); do
  line="$("$bench" step "$ARCH" "$SIZE" "$BATCH" "$THREADS" 3 "$STEPS" 2>/dev/null)"
  echo "platform $line" >&2; step_platform+=("$(field "$line" images_per_second)")
  line="$("${anchor[@]}" step "$ARCH" "$SIZE" "$BATCH" "$THREADS" 3 "$STEPS")"
  echo "anchor   $line" >&2; step_anchor+=("$(field "$line" images_per_second)")
done

"$bench" write "$work/data" "$TRAIN_IMAGES" $((TRAIN_IMAGES / 4)) "$SIZE" "$CLASSES"
epoch_platform=(); epoch_anchor=()
for _ in $(seq "$ROUNDS"); do
  line="$("$bench" epoch "$work/data" "$ARCH" "$SIZE" "$BATCH" "$THREADS" "$CLASSES" 2>/dev/null)"
  echo "platform $line" >&2; epoch_platform+=("$(field "$line" images_per_second)")
  line="$("${anchor[@]}" epoch "$work/data" "$ARCH" "$SIZE" "$BATCH" "$THREADS" "$CLASSES")"
  echo "anchor   $line" >&2; epoch_anchor+=("$(field "$line" images_per_second)")
done

model="$work/data/work/model.pt"
p50_platform=(); p99_platform=(); p50_anchor=(); p99_anchor=()
for _ in $(seq "$ROUNDS"); do
  line="$("$bench" predict "$model" "$THREADS" 20 "$REQUESTS" 2>/dev/null)"
  echo "platform $line" >&2
  p50_platform+=("$(field "$line" p50_ms)"); p99_platform+=("$(field "$line" p99_ms)")
  line="$("${anchor[@]}" predict "$model" "$THREADS" 20 "$REQUESTS")"
  echo "anchor   $line" >&2
  p50_anchor+=("$(field "$line" p50_ms)"); p99_anchor+=("$(field "$line" p99_ms)")
done

result training_step_images_per_s "$(best 1 "${step_platform[@]}")" python_torch_1.13 \
  "$(best 1 "${step_anchor[@]}")" images/s 'ratio>=1.0' '>=' 1.0
result training_epoch_images_per_s "$(best 1 "${epoch_platform[@]}")" python_torch_1.13_dataloader \
  "$(best 1 "${epoch_anchor[@]}")" images/s 'ratio>=1.2' '>=' 1.2
result inference_p50_ms "$(best 0 "${p50_platform[@]}")" python_torch_jit_load \
  "$(best 0 "${p50_anchor[@]}")" ms 'ratio<=1.0' '<=' 1.0
result inference_p99_ms "$(best 0 "${p99_platform[@]}")" python_torch_jit_load \
  "$(best 0 "${p99_anchor[@]}")" ms 'ratio<=1.0' '<=' 1.0
