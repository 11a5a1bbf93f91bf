#!/usr/bin/env bash
# Stops the PostgreSQL and Redis servers started by deploy/start-infra.sh.
#   deploy/stop-infra.sh [DATA_DIR]
set -uo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data_dir="${1:-$repo_root/var}"
redis_port="${AILAB_REDIS_PORT:-56379}"
as_pg=()
[ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
pg_root="$data_dir"
[ -f "$data_dir/run/postgres-root" ] && pg_root="$(cat "$data_dir/run/postgres-root")"
if [ -f "$pg_root/postgres/PG_VERSION" ]; then
  "${as_pg[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$pg_root/postgres" -m fast -w stop \
    >/dev/null 2>&1 && echo "stop-infra: PostgreSQL stopped" >&2
fi
redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1 \
  && echo "stop-infra: Redis stopped" >&2
exit 0
