#!/usr/bin/env bash
# Builds the web application into services/web/dist, which the gateway serves with
# --web_root. Installs the exact dependency versions of package-lock.json (npm ci),
# or resolves them with npm install when the lock file is missing. Running it again
# rebuilds from scratch and gives the same result.
#
#   deploy/build-web.sh
#
# Needs node 20 or newer and npm, and the npm registry (or a configured mirror) for
# the first install.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web_dir="$repo_root/services/web"
log() { echo "build-web: $*" >&2; }

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "$tool not found; install node 20 or newer (Debian: apt-get install nodejs npm)"
    exit 1
  fi
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  log "node $(node --version) is too old; node 20 or newer is required"
  exit 1
fi

cd "$web_dir"
if [ -f package-lock.json ]; then
  log "installing dependencies with npm ci"
  npm ci --no-audit --no-fund
else
  log "package-lock.json missing; resolving dependencies with npm install"
  npm install --no-audit --no-fund
fi

log "type-checking and bundling"
npm run build
if [ ! -f dist/index.html ]; then
  log "the build finished without dist/index.html"
  exit 1
fi
log "done: $web_dir/dist"
