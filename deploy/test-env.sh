#!/usr/bin/env bash
# Prints the environment that the test fixtures (tests/support/fixtures.h) read to
# reach the PostgreSQL and Redis servers that deploy/start-infra.sh starts:
#
#   eval "$(deploy/test-env.sh)"
#
# Environment: AILAB_PG_PORT (default 55432), AILAB_REDIS_PORT (default 56379), the
# same variables start-infra.sh reads. Only prints; it starts nothing.
set -euo pipefail

pg_port="${AILAB_PG_PORT:-55432}"
redis_port="${AILAB_REDIS_PORT:-56379}"
for port in "$pg_port" "$redis_port"; do
  if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    echo "test-env: port \"$port\" is invalid; set AILAB_PG_PORT and AILAB_REDIS_PORT to numbers from 1 to 65535" >&2
    exit 2
  fi
done

echo "export AILAB_TEST_DATABASE_URL=postgresql://ailab@127.0.0.1:$pg_port/ailab"
echo "export AILAB_TEST_REDIS_ADDRESS=127.0.0.1:$redis_port"
