#!/usr/bin/env bash
# One Orthanc trial of the C-STORE benchmark, run by run.sh inside `unshare -rn`: a new
# network namespace whose only interface is its own loopback, because Orthanc 1.10's
# DICOM server listens on every interface and has no option to bind one address.
# Usage: orthanc_trial.sh WORK_DIR FILES_DIR ASSOCIATIONS NODELAY RSS_OUT
# Prints "elapsed=<s> stored=<instances>".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
work=$1 files=$2 associations=$3 nodelay=$4 rss_out=$5

ip link set lo up
mkdir -p "$work/storage" "$work/index"
cat >"$work/orthanc.json" <<JSON
{
  "Name": "bench",
  "StorageDirectory": "$work/storage",
  "IndexDirectory": "$work/index",
  "StorageCompression": false,
  "HttpServerEnabled": true,
  "HttpPort": 8042,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomServerEnabled": true,
  "DicomAet": "ORTHANC",
  "DicomPort": 4242,
  "DicomCheckCalledAet": false,
  "DicomThreadsCount": 8,
  "Plugins": [],
  "OverwriteInstances": false
}
JSON
Orthanc "$work/orthanc.json" >"$work/orthanc.log" 2>&1 &
orthanc=$!
trap 'kill $orthanc 2>/dev/null; wait $orthanc 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  echoscu -aec ORTHANC 127.0.0.1 4242 >/dev/null 2>&1 && break
  sleep 0.2
done
sample_rss "$orthanc" "$rss_out" &
sampler=$!
elapsed=$(send 4242 ORTHANC "$files" "$associations" "$nodelay" "$work/storescu.log")
kill "$sampler" 2>/dev/null || true
stored=$(curl -s http://127.0.0.1:8042/statistics |
  /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["CountInstances"])')
echo "elapsed=$elapsed stored=$stored"
