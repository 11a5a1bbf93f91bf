#!/usr/bin/env bash
# Prints, one per line, the Debian packages that provide the shared libraries the
# given binaries load (from ldd), so that a runtime image installs those and nothing
# else. libc6 is left out because every Debian base image has it.
#
#   deploy/docker/runtime-packages.sh [--skip=PREFIX]... BINARY...
#
# Libraries under a --skip prefix (for example /opt/libtorch/, which the GPU image
# copies in itself) are left out. Fails when a library is not found or belongs to no
# installed package, naming it.
set -euo pipefail

skip_prefixes=()
binaries=()
for argument in "$@"; do
  case "$argument" in
    --skip=*) skip_prefixes+=("${argument#--skip=}") ;;
    -*) echo "runtime-packages: unknown option $argument" >&2; exit 2 ;;
    *) binaries+=("$argument") ;;
  esac
done
if [ "${#binaries[@]}" -eq 0 ]; then
  echo "usage: runtime-packages.sh [--skip=PREFIX]... BINARY..." >&2
  exit 2
fi

is_skipped() {
  local prefix
  for prefix in "${skip_prefixes[@]}"; do
    [[ "$1" == "$prefix"* ]] && return 0
  done
  return 1
}

libraries=()
for binary in "${binaries[@]}"; do
  if [ ! -x "$binary" ]; then
    echo "runtime-packages: $binary is not an executable file; build it first" >&2
    exit 1
  fi
  if ! output="$(ldd "$binary" 2>&1)"; then
    echo "runtime-packages: ldd cannot read $binary: $output" >&2
    exit 1
  fi
  if missing="$(grep 'not found' <<<"$output")"; then
    echo "runtime-packages: $binary needs libraries that are not installed:" >&2
    echo "$missing" >&2
    exit 1
  fi
  while read -r path; do
    is_skipped "$path" || libraries+=("$path")
  done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$output")
done
if [ "${#libraries[@]}" -eq 0 ]; then
  exit 0
fi
mapfile -t libraries < <(printf '%s\n' "${libraries[@]}" | sort -u)

# Spellings under which dpkg may have registered a library: the path ldd printed and
# the file it links to, each with and without the /usr prefix (Debian 12 merged /lib
# into /usr/lib, and packages list either form).
spellings() {
  local path
  for path in "$1" "$(readlink -f "$1")"; do
    echo "$path"
    case "$path" in
      /usr/lib/*) echo "${path#/usr}" ;;
      /lib/*) echo "/usr$path" ;;
    esac
  done
}

# One dpkg query for every spelling (dpkg -S is slow per call); lines read
# "package[:arch]: path".
declare -A owner
mapfile -t candidates < <(for library in "${libraries[@]}"; do spellings "$library"; done | sort -u)
while IFS= read -r line; do
  owner["${line#*: }"]="${line%%[:]*}"
done < <(dpkg -S "${candidates[@]}" 2>/dev/null || true)

packages=()
for library in "${libraries[@]}"; do
  package=""
  while read -r spelling; do
    if [ -n "${owner[$spelling]:-}" ]; then
      package="${owner[$spelling]}"
      break
    fi
  done < <(spellings "$library")
  if [ -z "$package" ]; then
    echo "runtime-packages: no installed Debian package provides $library" >&2
    exit 1
  fi
  packages+=("$package")
done

printf '%s\n' "${packages[@]}" | sort -u | grep -vx 'libc6'
