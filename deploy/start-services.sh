#!/usr/bin/env bash
# Starts every service binary of the platform on 127.0.0.1, each in the background
# with its log in DATA_DIR/log/<service>.log and its pid in DATA_DIR/run/<service>.pid,
# waits until all report SERVING, then starts the HTTP gateway (port
# AILAB_GATEWAY_PORT, default 8080) with the web application. Services already running
# are left alone.
#
#   deploy/start-services.sh [DATA_DIR]      default: var/ in the checkout
#
# Needs the servers of deploy/start-infra.sh. Settings come from the environment
# (AILAB_DATABASE_URL, AILAB_REDIS_ADDRESS, ... see docs/configuration.md); the
# defaults match deploy/start-infra.sh.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data_dir="${1:-$repo_root/var}"
mkdir -p "$data_dir"
data_dir="$(cd "$data_dir" && pwd)"
bin_dir="${AILAB_BIN_DIR:-${AILAB_BUILD_DIR:-$repo_root/build}/bin}"
log() { echo "start-services: $*" >&2; }

mkdir -p "$data_dir/log" "$data_dir/run" "$data_dir/blobs" "$data_dir/work" "$data_dir/secrets"
chmod 700 "$data_dir/secrets"

# The de-identification key makes pseudonyms stable across restarts; it is created
# once per installation and must be kept secret.
if [ ! -s "$data_dir/secrets/deid.key" ]; then
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$data_dir/secrets/deid.key"
  chmod 600 "$data_dir/secrets/deid.key"
fi

# The internal token restricts calls such as scoring against hidden reference labels to
# the platform's own services. Like the key, it is made once and kept secret.
if [ ! -s "$data_dir/secrets/internal.token" ]; then
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$data_dir/secrets/internal.token"
  chmod 600 "$data_dir/secrets/internal.token"
fi
AILAB_INTERNAL_TOKEN="${AILAB_INTERNAL_TOKEN:-$(cat "$data_dir/secrets/internal.token")}"
export AILAB_INTERNAL_TOKEN

export AILAB_DATABASE_URL="${AILAB_DATABASE_URL:-postgresql://ailab@127.0.0.1:${AILAB_PG_PORT:-55432}/ailab}"
export AILAB_REDIS_ADDRESS="${AILAB_REDIS_ADDRESS:-127.0.0.1:${AILAB_REDIS_PORT:-56379}}"
export AILAB_BLOB_ROOT="${AILAB_BLOB_ROOT:-$data_dir/blobs}"
export AILAB_DEID_KEY_FILE="${AILAB_DEID_KEY_FILE:-$data_dir/secrets/deid.key}"
export AILAB_WORK_DIR="${AILAB_WORK_DIR:-$data_dir/work}"

services=(catalog ingest annotation training inference evaluation worker)
for service in "${services[@]}"; do
  binary="$bin_dir/ailab-$service"
  pid_file="$data_dir/run/$service.pid"
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    log "$service already running (pid $(cat "$pid_file"))"
    continue
  fi
  if [ ! -x "$binary" ]; then
    log "missing $binary; build first with deploy/build.sh"
    exit 1
  fi
  nohup "$binary" >>"$data_dir/log/$service.log" 2>&1 </dev/null &
  echo $! >"$pid_file"
  log "started $service (pid $!, log $data_dir/log/$service.log)"
done

"$bin_dir/ailab" platform status --wait 60 >&2

# The HTTP gateway for the web application. The first administrator's password is made
# once, like the keys above; sign in as "admin" with the contents of the file.
if [ ! -s "$data_dir/secrets/admin.password" ]; then
  head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$data_dir/secrets/admin.password"
  chmod 600 "$data_dir/secrets/admin.password"
fi
gateway_port="${AILAB_GATEWAY_PORT:-8080}"
web_root="${AILAB_GATEWAY_WEB_ROOT:-$repo_root/services/web/dist}"
pid_file="$data_dir/run/gateway.pid"
if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  log "gateway already running (pid $(cat "$pid_file"))"
elif [ ! -x "$bin_dir/ailab-gateway" ]; then
  log "missing $bin_dir/ailab-gateway; build first with deploy/build.sh"
  exit 1
else
  if [ ! -f "$web_root/index.html" ]; then
    log "no web application in $web_root; build it with deploy/build-web.sh (the API works without it)"
  fi
  rm -f "$data_dir/run/gateway.port"
  nohup "$bin_dir/ailab-gateway" --gateway_listen="127.0.0.1:$gateway_port" \
    --gateway_port_file="$data_dir/run/gateway.port" --web_root="$web_root" \
    --admin_password_file="$data_dir/secrets/admin.password" \
    >>"$data_dir/log/gateway.log" 2>&1 </dev/null &
  echo $! >"$pid_file"
  log "started gateway (pid $!, log $data_dir/log/gateway.log)"
  for _ in $(seq 1 300); do
    [ -s "$data_dir/run/gateway.port" ] && break
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      log "the gateway exited; see $data_dir/log/gateway.log"
      exit 1
    fi
    sleep 0.2
  done
  if [ ! -s "$data_dir/run/gateway.port" ]; then
    log "the gateway did not start listening within 60 s; see $data_dir/log/gateway.log"
    exit 1
  fi
  log "web application at http://127.0.0.1:$(cat "$data_dir/run/gateway.port")/" \
    "(user admin, password in $data_dir/secrets/admin.password)"
fi
