#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts PostgreSQL, Redis and every
# service and the HTTP gateway on 127.0.0.1 with data in var/, runs the end-to-end
# flow on the bundled data (deploy/flow.sh), and leaves the platform running.
#
#   deploy/demo.sh            run as root on Debian 12 for the package install
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
data_dir="$repo_root/var"

if [ "$(id -u)" -eq 0 ]; then
  deploy/install-deps.sh
fi
build_started=$(date +%s)
deploy/build.sh
echo "demo: build took $(( $(date +%s) - build_started )) s" >&2

eval "$(deploy/start-infra.sh "$data_dir")"
deploy/start-services.sh "$data_dir"
# The client acts for the flow's users with the services' internal token.
export AILAB_INTERNAL_TOKEN="${AILAB_INTERNAL_TOKEN:-$(cat "$data_dir/secrets/internal.token")}"

flow_started=$(date +%s)
AILAB_GATEWAY_URL="http://127.0.0.1:$(cat "$data_dir/run/gateway.port")" \
  AILAB_GATEWAY_ADMIN_PASSWORD_FILE="$data_dir/secrets/admin.password" \
  deploy/flow.sh "$data_dir/demo" 2>&1 | tee "$data_dir/log/flow.log"
echo
echo "The flow took $(( $(date +%s) - flow_started )) s; its output is in var/log/flow.log."
echo "The platform is still running on 127.0.0.1 (ports 7101-7107)."
echo "Web application: http://127.0.0.1:$(cat "$data_dir/run/gateway.port")/ (user admin," \
  "password in var/secrets/admin.password)"
echo "Try: build/bin/ailab help   |   build/bin/ailab platform status"
echo "Logs: var/log/<service>.log. Stop everything with: bash deploy/stop.sh"
