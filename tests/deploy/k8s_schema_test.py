"""Every object the chart renders validates against the Kubernetes API schemas
(kubernetes-models, Kubernetes 1.36 schemas) and KEDA's CRD schemas
(@kubernetes-models/keda), unknown fields included, for several sets of values."""
import json
import os
import subprocess
import tempfile
import unittest

import deploylib

VALIDATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "k8s_validate.mjs")

# Renderings that together reach every template branch.
VARIANTS = {
    "default": ([deploylib.DEFAULT_VALUES], []),
    "external database, SSO, GPU, KEDA lag": ([deploylib.PRODUCTION_VALUES], []),
    "bundled with KEDA stream length, gateway, fixed node port": (
        [deploylib.DEFAULT_VALUES],
        ["worker.autoscaling.keda.enabled=true", "worker.gpu.count=2",
         "gateway.enabled=true", "ingest.dicom.service.nodePort=31112",
         "migrations.migrateOnlyFlag=true", "secrets.deidKey=0123456789abcdef0123456789abcdef",
         "blobStore.existingClaim=shared-nfs"]),
    "external database without TLS CA, KEDA with Redis password": (
        [deploylib.DEFAULT_VALUES],
        ["database.mode=external", "database.external.host=10.1.2.3",
         "database.external.existingSecret=pg", "database.external.sslMode=require",
         "redis.mode=external", "redis.external.host=redis.example",
         "redis.external.existingSecret=redis", "worker.autoscaling.keda.enabled=true",
         "networkPolicy.enabled=false", "smokeTest.enabled=false"]),
}


def validate(objects):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(objects, handle)
        path = handle.name
    try:
        return subprocess.run(["node", VALIDATOR, deploylib.schema_modules_dir(), path],
                              capture_output=True, text=True)
    finally:
        os.unlink(path)


class KubernetesSchemaTest(unittest.TestCase):
    def test_rendered_objects_validate(self):
        for label, (values_files, set_values) in VARIANTS.items():
            with self.subTest(values=label):
                objects = deploylib.render(values_files, set_values)
                self.assertGreater(len(objects), 20)
                result = validate(objects)
                self.assertEqual(result.returncode, 0,
                                 f"invalid objects for {label}:\n{result.stdout}{result.stderr}")
                self.assertIn(f"{len(objects)} valid, 0 invalid", result.stdout)

    def test_validator_rejects_bad_objects(self):
        objects = deploylib.render([deploylib.PRODUCTION_VALUES])
        deployment = next(o for o in objects if o["kind"] == "Deployment")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        container["readOnlyRootFilesytem"] = True
        container["ports"][0]["containerPort"] = "7101"
        scaled = next(o for o in objects if o["kind"] == "ScaledObject")
        del scaled["spec"]["scaleTargetRef"]["name"]
        unknown = {"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w"}}
        result = validate([deployment, scaled, unknown])
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("readOnlyRootFilesytem: unknown field", result.stdout)
        self.assertIn("/containerPort: type", result.stdout)
        self.assertIn('"missingProperty":"name"', result.stdout)
        self.assertIn("NO SCHEMA Widget/w", result.stdout)
        self.assertIn("0 valid, 3 invalid", result.stdout)


if __name__ == "__main__":
    deploylib.run_tests("__main__", needs_schemas=True)
