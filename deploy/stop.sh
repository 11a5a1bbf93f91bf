#!/usr/bin/env bash
# Stops the services started by deploy/start-services.sh (SIGTERM, then SIGKILL after
# 20 s), then the PostgreSQL and Redis servers of deploy/start-infra.sh. Data stays
# in DATA_DIR; `--services-only` leaves the two servers running.
#   deploy/stop.sh [--services-only] [DATA_DIR]
set -uo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
services_only=0
if [ "${1:-}" = "--services-only" ]; then services_only=1; shift; fi
data_dir="${1:-$repo_root/var}"

# The gateway stops first, so that no request reaches a service that is already
# stopping. The worker is next, because it hands its running job back to the training
# service as it stops. The services follow in the reverse of their start order, so each
# stops before the services it calls.
order=(gateway worker evaluation inference training annotation ingest catalog)
pid_files=()
for name in "${order[@]}"; do
  [ -f "$data_dir/run/$name.pid" ] && pid_files+=("$data_dir/run/$name.pid")
done
for pid_file in "$data_dir"/run/*.pid; do
  name="$(basename "$pid_file" .pid)"
  [[ " ${order[*]} " == *" $name "* ]] || pid_files+=("$pid_file")
done
for pid_file in "${pid_files[@]}"; do
  [ -f "$pid_file" ] || continue
  name="$(basename "$pid_file" .pid)"
  [ "$name" = "redis" ] && continue
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "stop: $name stopped" >&2
  fi
  rm -f "$pid_file"
done

if [ "$services_only" -eq 0 ]; then
  "$repo_root/deploy/stop-infra.sh" "$data_dir"
fi
