#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts PostgreSQL and Redis for
# the tests in their own data folder, and runs every CTest suite. Exits non-zero when
# any test fails.
#
#   deploy/test.sh [ctest arguments]      e.g. deploy/test.sh -L unit
#
# Test servers use ports 55433 (PostgreSQL) and 56380 (Redis), so a running demo on
# the default ports is not disturbed. AILAB_TEST_PG_PORT and AILAB_TEST_REDIS_PORT
# change those ports (AILAB_PG_PORT and AILAB_REDIS_PORT, which start-infra.sh reads,
# are set from them here); AILAB_TEST_DATA_DIR moves their data folder.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

if [ "$(id -u)" -eq 0 ]; then
  deploy/install-deps.sh
fi
deploy/build.sh

export AILAB_PG_PORT="${AILAB_TEST_PG_PORT:-55433}"
export AILAB_REDIS_PORT="${AILAB_TEST_REDIS_PORT:-56380}"
test_data="${AILAB_TEST_DATA_DIR:-$repo_root/var/test}"
eval "$(deploy/start-infra.sh "$test_data")"
export AILAB_TEST_DATABASE_URL="$AILAB_DATABASE_URL"
export AILAB_TEST_REDIS_ADDRESS="$AILAB_REDIS_ADDRESS"
# Stops the test servers on every exit, keeping the exit status of the tests.
trap 'status=$?; "$repo_root/deploy/stop-infra.sh" "$test_data" || true; exit $status' EXIT

cd "${AILAB_BUILD_DIR:-$repo_root/build}"
ctest --output-on-failure --timeout 900 -j "${AILAB_TEST_JOBS:-2}" "$@"
