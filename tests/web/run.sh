#!/usr/bin/env bash
# Browser tests of the web application (ctest web_browser_test): builds the web
# application when services/web/dist is missing, installs playwright-core from the lock
# file, starts a stack with tests/web/stack.sh, runs browser.test.js in Debian's
# /usr/bin/chromium (headless) and stops the stack.
#
# Environment:
#   AILAB_SOURCE_DIR, AILAB_BINARY_DIR   checkout and build folder (CTest sets both)
#   OUT_DIR                    screenshots and timings (default $AILAB_BINARY_DIR/web-test)
#   AILAB_UPDATE_SCREENSHOTS=1 also copies the screenshots into docs/screenshots/
#   AILAB_WEB_STACK            an already running stack's folder: use it, start none
#   AILAB_WEB_KEEP_STACK=1     leave the stack running at the end (printed)
set -euo pipefail
source_dir="${AILAB_SOURCE_DIR:?set AILAB_SOURCE_DIR to the checkout}"
binary_dir="${AILAB_BINARY_DIR:?set AILAB_BINARY_DIR to the build folder}"
web_tests="$source_dir/tests/web"
export OUT_DIR="${OUT_DIR:-$binary_dir/web-test}"
mkdir -p "$OUT_DIR"
log() { echo "web-test: $*" >&2; }

[ -x /usr/bin/chromium ] || { log "FAILED: /usr/bin/chromium is missing; install Debian's chromium package"; exit 1; }
if [ ! -f "${AILAB_WEB_ROOT:-$source_dir/services/web/dist}/index.html" ]; then
  log "building the web application (deploy/build-web.sh)"
  "$source_dir/deploy/build-web.sh" >&2
fi
if [ ! -d "$web_tests/node_modules/playwright-core" ]; then
  log "installing playwright-core (npm ci in tests/web)"
  (cd "$web_tests" && npm ci --no-audit --no-fund >&2)
fi

stack_dir="${AILAB_WEB_STACK:-}"
started_stack=0
if [ -z "$stack_dir" ]; then
  stack_dir="$(mktemp -d "$binary_dir/web-stack.XXXXXX")"
  rmdir "$stack_dir"
  started_stack=1
fi
finish() {
  status=$?
  if [ "$started_stack" -eq 1 ]; then
    if [ "${AILAB_WEB_KEEP_STACK:-0}" = 1 ]; then
      log "stack left running in $stack_dir (tests/web/stop.sh $stack_dir stops it)"
    elif [ "$status" -ne 0 ]; then
      "$web_tests/stop.sh" --keep "$stack_dir"
      log "kept $stack_dir with the service logs in var/log/"
    else
      "$web_tests/stop.sh" "$stack_dir"
    fi
  fi
  exit "$status"
}
trap finish EXIT
if [ "$started_stack" -eq 1 ]; then
  AILAB_BUILD_DIR="${AILAB_BUILD_DIR:-$binary_dir}" "$web_tests/stack.sh" "$stack_dir" >/dev/null
fi
[ -f "$stack_dir/stack.json" ] || { log "FAILED: $stack_dir has no stack.json; start it with tests/web/stack.sh"; exit 1; }

export AILAB_STACK_JSON="$stack_dir/stack.json"
cd "$web_tests"
node --test --test-concurrency=1 --test-reporter=spec browser.test.js
if [ "${AILAB_UPDATE_SCREENSHOTS:-0}" = 1 ]; then
  mkdir -p "$source_dir/docs/screenshots"
  cp "$OUT_DIR"/screenshots/*.png "$source_dir/docs/screenshots/"
  log "screenshots copied to docs/screenshots/"
fi
