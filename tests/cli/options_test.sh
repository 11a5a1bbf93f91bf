#!/usr/bin/env bash
# An unknown or mistyped option stops an `ailab` command before it calls a service:
# exit code 2 and a message naming the option. No service runs during this test, so a
# command that got past the check would fail with a connection error instead.
set -uo pipefail
ailab="${1:?usage: options_test.sh PATH_TO_AILAB}"
failures=0

expect_unknown() {
  local option="$1"; shift
  local output status
  output="$("$ailab" "$@" --catalog_address=127.0.0.1:1 --ingest_address=127.0.0.1:1 2>&1)"
  status=$?
  if [ "$status" -ne 2 ] || ! grep -q -- "unknown option --$option" <<<"$output"; then
    echo "FAIL: ailab $* gave exit $status: $output"
    failures=$((failures + 1))
  fi
}

expect_unknown dry_run dataset delete --dataset=datasets/x --dry_run
expect_unknown filtr catalog list --filtr 'state=PUBLISHED'
expect_unknown trian ingest instances --dataset=datasets/x --trian
expect_unknown valeu report --module=missing.xml --valeu breast_density=A

# Known options and service addresses pass the check: the command then fails to
# reach the service (exit 1), not with a usage error.
output="$("$ailab" dataset get --dataset=datasets/x --ingest_address=127.0.0.1:1 2>&1)"
status=$?
if [ "$status" -ne 1 ] || grep -q "unknown option" <<<"$output"; then
  echo "FAIL: ailab dataset get with known options gave exit $status: $output"
  failures=$((failures + 1))
fi

[ "$failures" -eq 0 ] && echo "cli_options_test: passed"
exit "$failures"
