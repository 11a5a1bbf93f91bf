#!/usr/bin/env bash
# Stops a stack started by tests/web/stack.sh: the gateway and the services (SIGTERM,
# then SIGKILL after 20 s), then its own PostgreSQL and Redis, and removes STACK_DIR
# unless --keep is given. A kept folder cannot host a new stack (stack.sh rejects it)
# because its database is configured for the old ports.
#
#   tests/web/stop.sh [--keep] [STACK_DIR]      default: $AILAB_BUILD_DIR/web-stack
set -uo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
keep=0
if [ "${1:-}" = "--keep" ]; then keep=1; shift; fi
stack_dir="${1:-${AILAB_BUILD_DIR:-$repo_root/build}/web-stack}"
log() { echo "stop: $*" >&2; }

if [ ! -f "$stack_dir/ports.env" ]; then
  log "no stack in $stack_dir (no ports.env); nothing to stop"
  exit 0
fi
# The ports decide which Redis deploy/stop-infra.sh shuts down, so they must be this
# stack's and never the defaults of the shared servers.
pg_port="$(sed -n 's/^AILAB_PG_PORT=//p' "$stack_dir/ports.env")"
redis_port="$(sed -n 's/^AILAB_REDIS_PORT=//p' "$stack_dir/ports.env")"
if ! [[ "$pg_port" =~ ^[0-9]+$ && "$redis_port" =~ ^[0-9]+$ ]]; then
  log "$stack_dir/ports.env names no PostgreSQL and Redis ports; stop the processes of $stack_dir/var/run/*.pid by hand"
  exit 1
fi

var="$stack_dir/var"
pg_root="$var"
[ -f "$var/run/postgres-root" ] && pg_root="$(cat "$var/run/postgres-root")"
AILAB_PG_PORT="$pg_port" AILAB_REDIS_PORT="$redis_port" "$repo_root/deploy/stop.sh" "$var"

if [ "$keep" -eq 0 ]; then
  # PostgreSQL's files live outside STACK_DIR when the postgres user cannot reach it.
  if [ "$pg_root" != "$var" ] && [[ "$pg_root" == /var/tmp/ailab-pg-* ]]; then
    rm -rf "$pg_root"
  fi
  rm -rf "$stack_dir"
  log "removed $stack_dir"
else
  log "kept $stack_dir for inspection; run tests/web/stop.sh $stack_dir to remove it"
fi
