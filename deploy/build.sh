#!/usr/bin/env bash
# Configures and builds the platform into build/ (or $AILAB_BUILD_DIR), then the web
# application into services/web/dist (AILAB_SKIP_WEB=1 leaves it out).
#   deploy/build.sh [extra cmake arguments]
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${AILAB_BUILD_DIR:-$repo_root/build}"
jobs="${AILAB_BUILD_JOBS:-$(nproc)}"
echo "build: configuring $build_dir" >&2
cmake -S "$repo_root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${AILAB_BUILD_TYPE:-Release}" "$@" >/dev/null
echo "build: compiling with $jobs jobs (a first build takes a while on 2 cores)" >&2
ninja -C "$build_dir" -j "$jobs"

# The web application that the gateway serves (npm; see deploy/build-web.sh).
if [ "${AILAB_SKIP_WEB:-0}" != 1 ]; then
  "$repo_root/deploy/build-web.sh"
fi
