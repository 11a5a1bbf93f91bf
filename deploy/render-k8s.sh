#!/usr/bin/env bash
# Renders the Helm chart into the plain manifests of deploy/k8s (for clusters managed
# without Helm), one file per chart template plus a kustomization.yaml:
#
#   deploy/render-k8s.sh [OUT_DIR]        default OUT_DIR: deploy/k8s
#
# Values: charts/ailab/ci/default-values.yaml and deploy/k8s/render-values.yaml (no
# generated Secret, since a rendered random password would be committed). Helm hooks
# (the database check Job and the `helm test` Pod) are left out. Uses the Helm binary
# of deploy/install-helm.sh ($AILAB_TOOLS_DIR, else <build dir>/tools), else helm on
# PATH. tests/deploy checks that the committed files match a fresh rendering.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="${1:-$repo_root/deploy/k8s}"
tools_dir="${AILAB_TOOLS_DIR:-${AILAB_BUILD_DIR:-$repo_root/build}/tools}"
helm="$tools_dir/helm"
if [ ! -x "$helm" ]; then
  helm="$(command -v helm || true)"
fi
if [ -z "$helm" ]; then
  echo "render-k8s: helm not found in $tools_dir or on PATH; run deploy/install-helm.sh" >&2
  exit 1
fi

mkdir -p "$out_dir"
rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
"$helm" template ailab "$repo_root/charts/ailab" --namespace ailab --no-hooks \
  -f "$repo_root/charts/ailab/ci/default-values.yaml" \
  -f "$repo_root/deploy/k8s/render-values.yaml" >"$rendered"

# Drop earlier renderings, keeping the hand-written files.
find "$out_dir" -maxdepth 1 -name '*.yaml' ! -name render-values.yaml ! -name kustomization.yaml -delete

header="# Rendered from charts/ailab by deploy/render-k8s.sh; edit the chart, not this file."
awk -v dir="$out_dir" -v header="$header" '
  /^---$/ { separator = 1; next }
  /^# Source: / {
    file = $3; sub(/^.*\//, "", file); path = dir "/" file
    if (!(path in started)) { print header > path; started[path] = 1 }
    print "---" > path
    separator = 0
    next
  }
  { if (path != "") print > path }
' "$rendered"

{
  echo "$header"
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "namespace: ailab"
  echo "resources:"
  for file in "$out_dir"/*.yaml; do
    name="$(basename "$file")"
    case "$name" in render-values.yaml|kustomization.yaml) continue ;; esac
    echo "  - $name"
  done
} >"$out_dir/kustomization.yaml"
echo "render-k8s: wrote $(ls "$out_dir"/*.yaml | wc -l) files to $out_dir" >&2
