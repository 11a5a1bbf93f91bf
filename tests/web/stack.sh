#!/usr/bin/env bash
# Starts a complete platform on 127.0.0.1 for the browser tests and the gateway
# benchmark: its own PostgreSQL and Redis, every service, and the HTTP gateway serving
# the web application. Then it seeds a small data set through the `ailab` client and
# the gateway's HTTP API, and writes what a test needs into STACK_DIR:
#   stack.env   shell assignments (AILAB_WEB_URL, ports, user names, passwords)
#   stack.json  the same for the node tests
#
#   tests/web/stack.sh [STACK_DIR]      default: $AILAB_BUILD_DIR/web-stack
#   tests/web/stop.sh  [STACK_DIR]      stops everything it started
#
# Environment:
#   AILAB_BUILD_DIR          build folder with bin/ailab-* and bin/ailab (default build/)
#   AILAB_WEB_ROOT           the built web application (default services/web/dist)
#   AILAB_STACK_SEED         full (default): data, users and four trained models (two
#                            of the density use case, two of a binary one);
#                            users: users and the annotation dataset only, no training
#                            (the benchmark needs no models)
#   AILAB_STACK_STUDIES      synthetic images (default 120)
#   AILAB_GATEWAY_<FLAG>     gateway flags, e.g. AILAB_GATEWAY_RATE_LIMIT_PER_SECOND=0
# Ports are free ones picked at start; each run uses fresh ones.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${AILAB_BUILD_DIR:-$repo_root/build}"
build_dir="$(cd "$build_dir" && pwd)"
bin_dir="$build_dir/bin"
stack_dir="${1:-$build_dir/web-stack}"
web_root="${AILAB_WEB_ROOT:-$repo_root/services/web/dist}"
seed_mode="${AILAB_STACK_SEED:-full}"
studies="${AILAB_STACK_STUDIES:-120}"
use_case=useCases/breast-density
dataset=datasets/density-web
log() { echo "stack: $*" >&2; }
fail() {
  echo "stack: FAILED: $*" >&2
  if [ -n "${stack_dir:-}" ] && [ -f "$stack_dir/ports.env" ]; then
    echo "stack: what did start keeps running; stop it with tests/web/stop.sh $stack_dir" >&2
  fi
  exit 1
}

case "$seed_mode" in full | users) ;; *) fail "AILAB_STACK_SEED=\"$seed_mode\" is invalid; use full or users" ;; esac
for binary in ailab ailab-gateway ailab-catalog ailab-ingest ailab-annotation ailab-training \
  ailab-inference ailab-evaluation ailab-worker; do
  [ -x "$bin_dir/$binary" ] || fail "missing $bin_dir/$binary; build it first (deploy/build.sh) or set AILAB_BUILD_DIR"
done
[ -f "$web_root/index.html" ] || fail "missing $web_root/index.html; build the web application with deploy/build-web.sh"

mkdir -p "$stack_dir"
stack_dir="$(cd "$stack_dir" && pwd)"
if [ -f "$stack_dir/ports.env" ]; then
  fail "$stack_dir already has a stack; stop it with tests/web/stop.sh $stack_dir first"
fi
var="$stack_dir/var"
mkdir -p "$var/run" "$var/log" "$var/secrets"
chmod 700 "$var/secrets"

# Free ports, all picked at once so they are distinct. Another program may take one
# between this check and the bind, which then fails with a clear log line.
read -r -a ports < <(/usr/bin/python3 - <<'PY'
import socket
sockets = [socket.socket() for _ in range(12)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
PY
)
services=(catalog ingest annotation training inference evaluation worker)
export AILAB_PG_PORT="${ports[0]}" AILAB_REDIS_PORT="${ports[1]}"
gateway_port="${ports[2]}"
export AILAB_INGEST_DICOM_PORT="${ports[4]}"
{
  echo "AILAB_PG_PORT=$AILAB_PG_PORT"
  echo "AILAB_REDIS_PORT=$AILAB_REDIS_PORT"
} >"$stack_dir/ports.env"
for i in "${!services[@]}"; do
  upper="$(echo "${services[$i]}" | tr a-z A-Z)"
  port="${ports[$((5 + i))]}"
  export "AILAB_${upper}_ADDRESS=127.0.0.1:$port" "AILAB_${upper}_LISTEN=127.0.0.1:$port"
  echo "AILAB_${upper}_ADDRESS=127.0.0.1:$port" >>"$stack_dir/ports.env"
done

log "PostgreSQL on 127.0.0.1:$AILAB_PG_PORT, Redis on 127.0.0.1:$AILAB_REDIS_PORT"
eval "$("$repo_root/deploy/start-infra.sh" "$var")"

# deploy/start-services.sh starts the gateway after the services, on
# AILAB_GATEWAY_PORT with AILAB_GATEWAY_WEB_ROOT and the administrator password in
# var/secrets/admin.password, which it keeps when present. The gateway serves a copy
# of the web application, so a rebuild of services/web/dist while the stack runs does
# not change the pages under test. Gateway flags can also come from the environment
# as AILAB_GATEWAY_<FLAG>, e.g. AILAB_GATEWAY_RATE_LIMIT_PER_SECOND=0.
rm -rf "$stack_dir/web"
cp -R "$web_root" "$stack_dir/web"
export AILAB_GATEWAY_PORT="$gateway_port" AILAB_GATEWAY_WEB_ROOT="$stack_dir/web"
admin_password="$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
printf '%s' "$admin_password" >"$var/secrets/admin.password"
chmod 600 "$var/secrets/admin.password"

log "services on ports ${ports[*]:5:7}, gateway on $gateway_port"
AILAB_BIN_DIR="$bin_dir" "$repo_root/deploy/start-services.sh" "$var" >"$var/log/start-services.txt" 2>&1 \
  || { cat "$var/log/start-services.txt" >&2; fail "services did not start; logs in $var/log"; }
export AILAB_INTERNAL_TOKEN="$(cat "$var/secrets/internal.token")"
export AILAB_BLOB_ROOT="$var/blobs"

# A start-services.sh that does not start the gateway leaves it to this script.
if ! { [ -f "$var/run/gateway.pid" ] && kill -0 "$(cat "$var/run/gateway.pid")" 2>/dev/null; }; then
  nohup "$bin_dir/ailab-gateway" --gateway_listen="127.0.0.1:$gateway_port" \
    --gateway_port_file="$var/run/gateway.port" --web_root="$stack_dir/web" \
    --admin_password_file="$var/secrets/admin.password" \
    >>"$var/log/gateway.log" 2>&1 </dev/null &
  echo $! >"$var/run/gateway.pid"
fi
url="http://127.0.0.1:$gateway_port"
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && break
  kill -0 "$(cat "$var/run/gateway.pid")" 2>/dev/null || { tail -n 20 "$var/log/gateway.log" >&2; fail "the gateway exited; log in $var/log/gateway.log"; }
  sleep 0.2
done
curl -fsS -o /dev/null "$url/healthz" || fail "the gateway did not answer $url/healthz within 60 s; log in $var/log/gateway.log"
log "gateway on $url (pid $(cat "$var/run/gateway.pid"))"

# Calls a gateway method as the bearer of token $1 with JSON body $4; prints the reply.
api() {
  local token="$1" service="$2" method="$3" body="$4" reply status
  reply="$(curl -sS -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
    ${token:+-H "Authorization: Bearer $token"} --data-binary "$body" "$url/api/$service/$method")"
  status="${reply##*$'\n'}"
  reply="${reply%$'\n'*}"
  [ "$status" = 200 ] || fail "$service/$method returned HTTP $status: $reply"
  printf '%s\n' "$reply"
}
json_field() { /usr/bin/python3 -c 'import json,sys; v=json.load(sys.stdin); [v:=v[k] for k in sys.argv[1:]]; print(v)' "$@"; }
identity=ailab.identity.v1.IdentityService

sign_in_body="$(/usr/bin/python3 -c 'import json,sys; print(json.dumps({"username": "admin", "password": sys.argv[1]}))' "$admin_password")"
sign_in="$(api "" "$identity" SignIn "$sign_in_body")"
admin_token="$(json_field token <<<"$sign_in")"
admin_name="$(json_field user name <<<"$sign_in")"

# Accounts as username:role, each with a random password that goes into stack.env. The
# reference reader "reference" is no account: only the ailab client acts as it.
declare -A user_ids user_passwords
for entry in rad1:radiologist rad2:radiologist part1:participant rev1:reviewer dm1:data_manager; do
  username="${entry%%:*}" role="${entry#*:}"
  password="$(head -c 12 /dev/urandom | base64 | tr '+/' '-_')"
  body="$(/usr/bin/python3 -c 'import json,sys; print(json.dumps({"username": sys.argv[1], "displayName": sys.argv[1].upper(), "roles": [sys.argv[2]], "password": sys.argv[3]}))' "$username" "$role" "$password")"
  name="$(api "$admin_token" "$identity" CreateUser "$body" | json_field name)"
  user_ids[$username]="${name#users/}"
  user_passwords[$username]="$password"
done
log "users created: ${!user_ids[*]}"

# Data: synthetic mammograms, split by patient, PNG renderings and uint16 arrays at 64 px.
ailab() { "$bin_dir/ailab" "$@"; }
seed_log="$var/log/seed.log"
rad1="${user_ids[rad1]}"
{
  ailab synth generate --out="$stack_dir/synth" --count="$studies" --seed=11 --threads=2 --overwrite
  ailab dataset create --id=density-web --display_name="Synthetic density (browser tests)" --use_case="$use_case"
  ailab ingest upload --dataset="$dataset" "$stack_dir/synth"/*.dcm | tail -n 1
  ailab ingest split --dataset="$dataset" --train=0.6 --validation=0.2 --test=0.2 --seed=11
  ailab ingest prepare --dataset="$dataset" --kinds=png,array --size=64 --dtype=uint16 --wait | tail -n 1
  # rad1 labels all but 15 images, so training is allowed (100 labels) and the browser
  # test still finds images to label.
  ailab annotate set-reference --use_case "$use_case" --dataset "$dataset" --reader reference
  ailab annotate simulate --use_case "$use_case" --dataset "$dataset" --user reference \
    --truth "$stack_dir/synth/truth.csv" --error_rate 0.03 --seed 2 | tail -n 1
  ailab annotate simulate --use_case "$use_case" --dataset "$dataset" --user "$rad1" \
    --truth "$stack_dir/synth/truth.csv" --error_rate 0.1 --seed 1 --limit $((studies - 15)) | tail -n 1
} >>"$seed_log" 2>&1 || { tail -n 30 "$seed_log" >&2; fail "seeding failed; log in $seed_log"; }
log "dataset $dataset prepared and labelled"

# Trains a model of use case $1 with seed $2 (also its epochs) and prints its name.
train_model() {
  local target="$1" seed="$2" id log_file model
  id="web-${target#useCases/}-$seed"
  log_file="$var/log/train-$id.log"
  ailab train create --id="${id:0:63}" --use_case "$target" --dataset "$dataset" \
    --label_source "$rad1" --user "$rad1" --architecture resnet18 --image_size 64 \
    --max_epochs "$seed" --batch_size 16 --learning_rate 0.001 --seed "$seed" --wait \
    >"$log_file" 2>&1 || { tail -n 30 "$log_file" >&2; fail "training job $id failed; log in $log_file"; }
  model="$(grep -o 'models/[A-Za-z0-9._-]*' "$log_file" | tail -n 1)"
  [ -n "$model" ] || fail "training job $id reported no model; log in $log_file"
  echo "$model"
}

# The density use case has four categories. The evaluation page's threshold slider
# needs a binary one, so the same images also get labels of the seeded binary use case:
# densities A and B count as its first category, C and D as its second.
binary_use_case=useCases/pneumothorax-chest-radiograph
models=()
binary_models=()
if [ "$seed_mode" = full ]; then
  awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "category") column = i; print; next }
    { $column = ($column == "A" || $column == "B") ? "ABSENT" : "PRESENT"; print }' \
    "$stack_dir/synth/truth.csv" >"$stack_dir/synth/truth-binary.csv"
  {
    ailab annotate set-reference --use_case "$binary_use_case" --dataset "$dataset" --reader reference
    ailab annotate simulate --use_case "$binary_use_case" --dataset "$dataset" --user reference \
      --truth "$stack_dir/synth/truth-binary.csv" --error_rate 0.03 --seed 3 | tail -n 1
    ailab annotate simulate --use_case "$binary_use_case" --dataset "$dataset" --user "$rad1" \
      --truth "$stack_dir/synth/truth-binary.csv" --error_rate 0.1 --seed 4 | tail -n 1
  } >>"$seed_log" 2>&1 || { tail -n 30 "$seed_log" >&2; fail "binary labels failed; log in $seed_log"; }
  for seed in 1 2; do
    models+=("$(train_model "$use_case" "$seed")")
    binary_models+=("$(train_model "$binary_use_case" "$seed")")
  done
  log "models trained: ${models[*]} ${binary_models[*]}"
fi

# What the tests read. Written last, so its presence means the stack is complete.
{
  cat "$stack_dir/ports.env"
  echo "AILAB_WEB_URL=$url"
  echo "AILAB_GATEWAY_PID=$(cat "$var/run/gateway.pid")"
  echo "AILAB_STACK_VAR=$var"
  echo "AILAB_STACK_DATASET=$dataset"
  echo "AILAB_STACK_USE_CASE=$use_case"
  echo "AILAB_STACK_MODELS=\"${models[*]}\""
  echo "AILAB_STACK_BINARY_USE_CASE=$binary_use_case"
  echo "AILAB_STACK_BINARY_MODELS=\"${binary_models[*]}\""
  echo "AILAB_STACK_ADMIN_ID=${admin_name#users/}"
  echo "AILAB_STACK_ADMIN_PASSWORD=$admin_password"
  for username in "${!user_ids[@]}"; do
    upper="$(echo "$username" | tr a-z A-Z)"
    echo "AILAB_STACK_${upper}_ID=${user_ids[$username]}"
    echo "AILAB_STACK_${upper}_PASSWORD=${user_passwords[$username]}"
  done
} >"$stack_dir/stack.env.tmp"
/usr/bin/python3 - "$stack_dir/stack.env.tmp" "$stack_dir/stack.json" <<'PY'
import json, shlex, sys
values = {}
for line in open(sys.argv[1]):
    key, _, value = line.rstrip("\n").partition("=")
    values[key] = " ".join(shlex.split(value))
users = {}
for key, value in values.items():
    if key.startswith("AILAB_STACK_") and key.endswith("_PASSWORD"):
        username = key[len("AILAB_STACK_"):-len("_PASSWORD")].lower()
        users[username] = {"username": username, "password": value,
                           "id": values[f"AILAB_STACK_{username.upper()}_ID"]}
json.dump({"url": values["AILAB_WEB_URL"], "dataset": values["AILAB_STACK_DATASET"],
           "useCase": values["AILAB_STACK_USE_CASE"],
           "models": values["AILAB_STACK_MODELS"].split(),
           "binaryUseCase": values["AILAB_STACK_BINARY_USE_CASE"],
           "binaryModels": values["AILAB_STACK_BINARY_MODELS"].split(), "users": users,
           "gatewayPid": int(values["AILAB_GATEWAY_PID"]), "var": values["AILAB_STACK_VAR"],
           "pgPort": int(values["AILAB_PG_PORT"])},
          open(sys.argv[2], "w"), indent=2)
PY
chmod 600 "$stack_dir/stack.env.tmp" "$stack_dir/stack.json"
mv "$stack_dir/stack.env.tmp" "$stack_dir/stack.env"
log "ready: $url (credentials in $stack_dir/stack.env)"
echo "$url"
