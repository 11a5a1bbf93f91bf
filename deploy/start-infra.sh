#!/usr/bin/env bash
# Starts the PostgreSQL and Redis servers the platform uses, on 127.0.0.1 only, with
# their data in one folder. Safe to run again: a server already running is left alone.
#
#   deploy/start-infra.sh [DATA_DIR]       default DATA_DIR: var/ in the checkout
#
# Environment: AILAB_PG_PORT (default 55432), AILAB_REDIS_PORT (default 56379).
# Prints the settings for the services as shell assignments on the last lines, for
# `eval "$(deploy/start-infra.sh)"`; everything else goes to standard error.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data_dir="${1:-$repo_root/var}"
mkdir -p "$data_dir"
data_dir="$(cd "$data_dir" && pwd)"
pg_port="${AILAB_PG_PORT:-55432}"
redis_port="${AILAB_REDIS_PORT:-56379}"
pg_bin=/usr/lib/postgresql/15/bin
log() { echo "start-infra: $*" >&2; }

# PostgreSQL refuses to run as root, so as root it runs as the postgres user, and its
# folders must be reachable by that user.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  as_pg=(runuser -u postgres --)
fi

pg_root="$data_dir"
mkdir -p "$data_dir/log" "$data_dir/run"
if [ "$(id -u)" -eq 0 ]; then
  # A checkout under a private folder (such as /root) is not reachable by the postgres
  # user; PostgreSQL's files then live in a folder named after DATA_DIR under /var/tmp.
  if ! "${as_pg[@]}" test -x "$data_dir"; then
    pg_root="/var/tmp/ailab-pg-$(printf '%s' "$data_dir" | sha1sum | cut -c1-12)"
    log "the postgres user cannot reach $data_dir; keeping PostgreSQL's files in $pg_root"
    mkdir -p "$pg_root/log" "$pg_root/run"
    echo "$pg_root" >"$data_dir/run/postgres-root"
  fi
fi
pg_dir="$pg_root/postgres"
pg_run="$pg_root/run"
pg_log="$pg_root/log/postgres.log"
mkdir -p "$pg_dir"
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$pg_dir" "$pg_run"
  touch "$pg_log" && chown postgres:postgres "$pg_log"
fi

if [ ! -f "$pg_dir/PG_VERSION" ]; then
  log "initialising PostgreSQL in $pg_dir"
  "${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir" -U postgres --auth=trust -E UTF8 >/dev/null
  cat >>"$pg_dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pg_run'
max_connections = 300
shared_buffers = 256MB
CONF
fi

if "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir" status >/dev/null 2>&1; then
  log "PostgreSQL already running on 127.0.0.1:$pg_port"
else
  log "starting PostgreSQL on 127.0.0.1:$pg_port (log: $pg_log)"
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir" -l "$pg_log" -w -t 60 start >/dev/null
fi

psql_admin=(psql -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qtA)
if [ "$("${psql_admin[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'ailab'")" != "1" ]; then
  "${psql_admin[@]}" -c "CREATE ROLE ailab LOGIN CREATEDB SUPERUSER" >/dev/null
fi
if [ "$("${psql_admin[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'ailab'")" != "1" ]; then
  "${psql_admin[@]}" -c "CREATE DATABASE ailab OWNER ailab" >/dev/null
fi

redis_dir="$data_dir/redis"
mkdir -p "$redis_dir"
if redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
  log "Redis already running on 127.0.0.1:$redis_port"
else
  log "starting Redis on 127.0.0.1:$redis_port (append-only file on)"
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$redis_dir" \
    --appendonly yes --appendfsync everysec --save "" --daemonize yes \
    --pidfile "$data_dir/run/redis.pid" --logfile "$data_dir/log/redis.log"
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

echo "export AILAB_DATABASE_URL=postgresql://ailab@127.0.0.1:$pg_port/ailab"
echo "export AILAB_REDIS_ADDRESS=127.0.0.1:$redis_port"
