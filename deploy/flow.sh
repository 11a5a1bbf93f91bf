#!/usr/bin/env bash
# The platform's end-to-end flow, driven through the `ailab` client against running
# services: catalog, ingest of synthetic and real DICOM, preparation, annotation by
# simulated readers, training through the queue, test metrics, a challenge
# leaderboard, inference with report text on a real mammogram and, with a gateway,
# the same platform over HTTP.
#
#   deploy/flow.sh WORK_DIR
#
# Environment:
#   AILAB_FLOW_STUDIES   synthetic images in the training dataset (default 300)
#   AILAB_FLOW_EPOCHS    maximum training epochs (default 10)
#   AILAB_FLOW_SIZE      array side the model trains on (default 128)
#   AILAB_FLOW_HOOKS     folder of executables run between steps (after_annotate),
#                        used by the end-to-end test to restart a service mid-flow
#   AILAB_GATEWAY_URL    when set, the flow ends with calls through the HTTP gateway,
#                        signed in as admin with the password in
#                        AILAB_GATEWAY_ADMIN_PASSWORD_FILE
# Service addresses come from AILAB_<SERVICE>_ADDRESS as for every ailab command.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:?usage: deploy/flow.sh WORK_DIR}"
mkdir -p "$work"
bin_dir="${AILAB_BIN_DIR:-${AILAB_BUILD_DIR:-$repo_root/build}/bin}"
studies="${AILAB_FLOW_STUDIES:-300}"
epochs="${AILAB_FLOW_EPOCHS:-10}"
size="${AILAB_FLOW_SIZE:-128}"
challenge_images=$(( studies / 5 > 40 ? studies / 5 : 40 ))

ailab() { "$bin_dir/ailab" "$@"; }
step() { printf '\n== %s\n' "$*"; }
hook() {
  if [ -n "${AILAB_FLOW_HOOKS:-}" ] && [ -x "$AILAB_FLOW_HOOKS/$1" ]; then
    step "hook $1"
    "$AILAB_FLOW_HOOKS/$1"
  fi
}
use_case=useCases/breast-density
started=$(date +%s)

step "Catalog: published use cases"
ailab catalog list --filter 'state=PUBLISHED' --table
ailab catalog get --name "$use_case" --table

step "Synthetic mammograms: $studies for training, $challenge_images each for the challenge"
ailab synth generate --out="$work/synth-train" --count="$studies" --seed=7 >/dev/null
# The challenge sets hold the four categories equally, so each is present and the
# leaderboard's AUC is defined (at the default 10 % of D, seed 8 drew none).
ailab synth generate --out="$work/synth-public" --count="$challenge_images" --seed=8 \
  --category_weights=0.25,0.25,0.25,0.25 >/dev/null
ailab synth generate --out="$work/synth-final" --count="$challenge_images" --seed=9 \
  --category_weights=0.25,0.25,0.25,0.25 >/dev/null
echo "written to $work/synth-*/ with truth.csv beside each set"

step "Ingest: datasets from synthetic and real DICOM"
for set in train public final; do
  ailab dataset create --id="density-$set" --display_name="Synthetic density ($set)" \
    --use_case="$use_case" >/dev/null
  ailab ingest upload --dataset="datasets/density-$set" "$work/synth-$set"/*.dcm | tail -n 1
done
ailab dataset create --id=real-dicom --display_name="Real DICOM samples" >/dev/null
mapfile -t real_files < <(find "$repo_root/data/dicom" -name '*.dcm' | sort)
ailab ingest upload --dataset=datasets/real-dicom "${real_files[@]}" | tail -n 1

step "Prepare: patient-level splits, PNGs for annotation and arrays for training"
ailab ingest split --dataset=datasets/density-train --train=0.6 --validation=0.2 --test=0.2 --seed=7
for set in density-train density-public density-final real-dicom; do
  ailab ingest prepare --dataset="datasets/$set" --kinds=png,array --size="$size" --wait | tail -n 1
done

step "Annotate: two simulated readers, one of them the reference reader"
ailab annotate set-reference --use_case "$use_case" --dataset datasets/density-train --reader reference
ailab annotate set-quota --use_case "$use_case" --dataset datasets/density-train \
  --quota $(( studies < 100 ? studies : 100 ))
ailab annotate simulate --use_case "$use_case" --dataset datasets/density-train --user reader1 \
  --truth "$work/synth-train/truth.csv" --error_rate 0.1 --seed 1 | tail -n 1
ailab annotate simulate --use_case "$use_case" --dataset datasets/density-train --user reference \
  --truth "$work/synth-train/truth.csv" --error_rate 0.03 --seed 2 | tail -n 1
for set in public final; do
  ailab annotate set-reference --use_case "$use_case" --dataset "datasets/density-$set" --reader reference
  ailab annotate simulate --use_case "$use_case" --dataset "datasets/density-$set" --user reference \
    --truth "$work/synth-$set/truth.csv" --error_rate 0.03 --seed 3 | tail -n 1
done
hook after_annotate
ailab annotate progress --use_case "$use_case" --dataset datasets/density-train --user reader1
ailab annotate agreement --use_case "$use_case" --dataset datasets/density-train --user reader1 --table

step "Train: ResNet-18 through the queue and a worker, tested on the held-out split"
ailab train create --id=density-resnet18 --use_case "$use_case" --dataset datasets/density-train \
  --label_source reader1 --user reader1 --architecture resnet18 --image_size "$size" \
  --max_epochs "$epochs" --early_stopping_patience 3 --batch_size 16 --learning_rate 0.001 \
  --augmentation flip_rotate \
  --seed 1 --wait | tee "$work/train.log"
# `train create --wait` has printed the model, its test metrics and confusion matrix.
model="$(grep -o 'models/[A-Za-z0-9._-]*' "$work/train.log" | tail -n 1)"

step "Leaderboard: submit the model to a challenge scored against the reference reader"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
open="$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
close="$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)"
ailab challenge create --id=density-challenge --display_name "Breast density challenge" \
  --use_case "$use_case" --test_dataset datasets/density-public --final_dataset datasets/density-final \
  --reference_reader reference --open_time "$open" --close_time "$close" --daily_limit 5 \
  --user organiser >/dev/null
ailab challenge submit --challenge challenges/density-challenge --model "$model" --participant reader1
ailab challenge leaderboard --challenge challenges/density-challenge

step "Run: the model on the real mammogram MG1_JPLY.dcm and on a synthetic one"
ailab run predict --model "$model" --file "$repo_root/data/dicom/mg/MG1_JPLY.dcm"
synthetic="$(ailab ingest instances --dataset=datasets/density-train --split=TEST --page_size=1 \
  | grep -o 'datasets/density-train/instances/[A-Za-z0-9._-]*' | head -n 1)"
ailab run predict --model "$model" --instance "$synthetic"

if [ -n "${AILAB_GATEWAY_URL:-}" ]; then
  step "Web: the same platform through the HTTP gateway at $AILAB_GATEWAY_URL"
  gateway="$AILAB_GATEWAY_URL"
  curl -fsS "$gateway/readyz"
  password="$(cat "${AILAB_GATEWAY_ADMIN_PASSWORD_FILE:?}")"
  signed_in="$(curl -fsS -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" \
    "$gateway/api/ailab.identity.v1.IdentityService/SignIn")"
  token="$(printf '%s' "$signed_in" | grep -o '"token": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/')"
  [ -n "$token" ] || { echo "flow: sign-in through the gateway returned no token" >&2; exit 1; }
  api() {
    local body="${2:-}"
    [ -n "$body" ] || body='{}'
    curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "$body" "$gateway/api/$1"
  }
  echo "signed in as admin"
  api ailab.training.v1.TrainingService/ListModels | grep -o "\"$model\"" | head -n 1
  api ailab.evaluation.v1.EvaluationService/ListLeaderboardEntries \
    '{"parent":"challenges/density-challenge"}' | grep -o '"participant": *"[^"]*"' | head -n 3
  status="$(curl -s -o /dev/null -w '%{http_code}' "$gateway/api/ailab.training.v1.TrainingService/ListModels" -d '{}')"
  echo "the same call without signing in: HTTP $status"
  [ "$status" = 401 ]
  if curl -fsS "$gateway/" | grep -q '<div id="root">'; then
    echo "web application served at $gateway/"
  else
    echo "web application not built (deploy/build-web.sh); the API works without it"
  fi
fi

step "Done in $(( $(date +%s) - started )) s (at $(date -u +%Y-%m-%dT%H:%M:%SZ))"
