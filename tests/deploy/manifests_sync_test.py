"""deploy/k8s must be what deploy/render-k8s.sh renders from the chart now: a change
to the chart without re-rendering fails here with the first differing lines."""
import difflib
import os
import subprocess
import tempfile
import unittest

import yaml

import deploylib

K8S_DIR = os.path.join(deploylib.SOURCE_DIR, "deploy", "k8s")
RENDER_SCRIPT = os.path.join(deploylib.SOURCE_DIR, "deploy", "render-k8s.sh")
HAND_WRITTEN = {"render-values.yaml", "README.md"}


def yaml_files(folder):
    return sorted(f for f in os.listdir(folder)
                  if f.endswith(".yaml") and f not in HAND_WRITTEN)


class ManifestsSyncTest(unittest.TestCase):
    def test_committed_manifests_match_the_chart(self):
        with tempfile.TemporaryDirectory() as fresh:
            environment = dict(os.environ, AILAB_TOOLS_DIR=deploylib.TOOLS_DIR)
            result = subprocess.run(["bash", RENDER_SCRIPT, fresh], env=environment,
                                    capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(yaml_files(K8S_DIR), yaml_files(fresh),
                             "files of deploy/k8s; run deploy/render-k8s.sh")
            for name in yaml_files(fresh):
                with self.subTest(file=name):
                    with open(os.path.join(K8S_DIR, name), encoding="utf-8") as handle:
                        committed = handle.read().splitlines()
                    with open(os.path.join(fresh, name), encoding="utf-8") as handle:
                        rendered = handle.read().splitlines()
                    difference = list(difflib.unified_diff(
                        committed, rendered, "deploy/k8s/" + name, "rendered", lineterm=""))
                    self.assertFalse(difference, "deploy/k8s is out of date; run "
                                     "deploy/render-k8s.sh\n" + "\n".join(difference[:40]))

    def test_kustomization_lists_every_manifest(self):
        with open(os.path.join(K8S_DIR, "kustomization.yaml"), encoding="utf-8") as handle:
            kustomization = yaml.safe_load(handle)
        self.assertEqual(kustomization["namespace"], deploylib.NAMESPACE)
        listed = sorted(kustomization["resources"])
        self.assertEqual(listed, [f for f in yaml_files(K8S_DIR) if f != "kustomization.yaml"])

    def test_manifests_hold_no_secret_values(self):
        for name in yaml_files(K8S_DIR):
            with open(os.path.join(K8S_DIR, name), encoding="utf-8") as handle:
                for document in yaml.safe_load_all(handle):
                    if document and document.get("kind") == "Secret":
                        self.fail(f"{name} contains Secret {document['metadata']['name']}")


if __name__ == "__main__":
    deploylib.run_tests("__main__")
