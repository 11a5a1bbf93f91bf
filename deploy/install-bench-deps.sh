#!/usr/bin/env bash
# Installs the Debian 12 packages that the benchmarks' anchors need beyond what
# deploy/install-deps.sh installs for the build and the tests. These are Orthanc
# (C-STORE), wrk (HTTP load), bc, and the Python packages that the anchors run under
# /usr/bin/python3: PyTorch with torchvision, scikit-learn, pydicom with GDCM, NumPy
# and Pillow.
# Safe to run again: packages already present are skipped. deploy/bench.sh runs it
# when started as root.
set -euo pipefail

packages=(
  orthanc wrk bc
  python3-numpy python3-pil python3-sklearn
  python3-pydicom python3-gdcm
  python3-torch python3-torchvision
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-bench-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-bench-deps: missing packages: ${missing[*]}; run this script as root" >&2
  exit 1
fi

echo "install-bench-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Orthanc's package starts its own server under systemd on a normal host; the benchmark
# runs its own instances on loopback.
if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
  systemctl stop orthanc 2>/dev/null || true
fi
