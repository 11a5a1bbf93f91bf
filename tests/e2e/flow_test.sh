#!/usr/bin/env bash
# End-to-end test of deploy/flow.sh at small size: starts every service on its own
# ports against a fresh database (on the PostgreSQL and Redis of deploy/test.sh), runs
# the flow with a mid-flow restart of the annotation service and its calls through the
# HTTP gateway, then checks that every service answers health and reflection and that
# no patient name or id of the input files, and no secret, appears in any log.
set -euo pipefail
source_dir="${AILAB_SOURCE_DIR:?}"
binary_dir="${AILAB_BINARY_DIR:?}"
admin_url="${AILAB_TEST_DATABASE_URL:-postgresql://ailab@127.0.0.1:55432/ailab}"
work="$(mktemp -d "${TMPDIR:-/tmp}/ailab-e2e.XXXXXX")"
database="e2e_$$_$(date +%s)"
fail() { echo "e2e: FAILED: $*" >&2; exit 1; }

cleanup() {
  status=$?
  "$source_dir/deploy/stop.sh" --services-only "$work/var" >/dev/null 2>&1 || true
  psql "$admin_url" -qtAc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "e2e: kept $work for inspection" >&2; fi
  exit "$status"
}
trap cleanup EXIT

psql "$admin_url" -qtAc "CREATE DATABASE $database" >/dev/null
export AILAB_DATABASE_URL="${admin_url%/*}/$database"
export AILAB_REDIS_ADDRESS="${AILAB_TEST_REDIS_ADDRESS:-127.0.0.1:56379}"
export AILAB_BIN_DIR="$binary_dir/bin"
export AILAB_QUEUE_STREAM="e2e-$$"
port=7300
for service in catalog ingest annotation training inference evaluation worker; do
  port=$((port + 1))
  export "AILAB_$(echo "$service" | tr a-z A-Z)_ADDRESS=127.0.0.1:$port"
done
export AILAB_INGEST_DICOM_PORT=11399
# The gateway picks a free port and writes it to var/run/gateway.port.
export AILAB_GATEWAY_PORT=0

"$source_dir/deploy/start-services.sh" "$work/var"
# The client acts for the flow's users with the services' internal token.
export AILAB_INTERNAL_TOKEN="$(cat "$work/var/secrets/internal.token")"

# The hook restarts the annotation service after annotation and checks its counts.
mkdir -p "$work/hooks"
cat >"$work/hooks/after_annotate" <<HOOK
#!/usr/bin/env bash
set -euo pipefail
count() {
  "$binary_dir/bin/ailab" annotate progress --use_case useCases/breast-density \
    --dataset datasets/density-train --user reader1 | tr -d ' ' | grep -io '"annotatedcount":[0-9]*' | head -n 1
}
before="\$(count)"
pid="\$(cat "$work/var/run/annotation.pid")"
kill -TERM "\$pid"; while kill -0 "\$pid" 2>/dev/null; do sleep 0.1; done
rm -f "$work/var/run/annotation.pid"
"$source_dir/deploy/start-services.sh" "$work/var" >/dev/null 2>&1
after="\$(count)"
echo "annotation restarted: before \$before, after \$after"
[ -n "\$before" ] && [ "\$before" = "\$after" ]
HOOK
chmod +x "$work/hooks/after_annotate"

AILAB_GATEWAY_URL="http://127.0.0.1:$(cat "$work/var/run/gateway.port")" \
  AILAB_GATEWAY_ADMIN_PASSWORD_FILE="$work/var/secrets/admin.password" \
  AILAB_FLOW_HOOKS="$work/hooks" AILAB_FLOW_STUDIES="${AILAB_E2E_STUDIES:-160}" \
  AILAB_FLOW_EPOCHS="${AILAB_E2E_EPOCHS:-2}" AILAB_FLOW_SIZE=64 \
  "$source_dir/deploy/flow.sh" "$work/flow" | tee "$work/flow.log"

for key in kappa auc "confusion matrix" "report" "signed in as admin" "without signing in: HTTP 401"; do
  grep -qi "$key" "$work/flow.log" || fail "the flow output has no \"$key\""
done

# Health and reflection of all seven services.
"$binary_dir/bin/ailab" platform status | tee "$work/status.log"
for service in catalog ingest annotation training inference evaluation worker; do
  grep -q "^$service .*SERVING .*grpc.health.v1.Health" "$work/status.log" \
    || fail "$service does not list the health service through reflection"
done

# No patient name or id of any input file in the logs.
identifiers="$work/identifiers.txt"
: >"$identifiers"
for file in $(find "$source_dir/data/dicom" "$work/flow" -name '*.dcm'); do
  dcmdump +P PatientName +P PatientID "$file" 2>/dev/null \
    | sed -n 's/.*\[\(.*\)\].*/\1/p' | grep -v '^$' >>"$identifiers" || true
done
sort -u -o "$identifiers" "$identifiers"
[ -s "$identifiers" ] || fail "found no patient identifiers to look for"
while IFS= read -r value; do
  [ "${#value}" -ge 4 ] || continue
  if grep -rqF -- "$value" "$work/var/log"; then fail "a log contains the patient value \"$value\""; fi
done <"$identifiers"
# No secret in the logs either.
for secret in "$work/var/secrets/admin.password" "$work/var/secrets/internal.token"; do
  if grep -rqF -- "$(cat "$secret")" "$work/var/log"; then
    fail "a log contains the secret of $(basename "$secret")"
  fi
done
echo "e2e: passed ($(wc -l <"$identifiers") patient identifiers checked against the logs)"
