"""values.schema.json: bad values fail `helm template` with a message naming the key,
and conditional requirements (external database, SSO, own Secret) are enforced."""
import unittest

import deploylib


def template_errors(values_files=(), set_values=()):
    """Renders the chart and returns helm's error output; fails when rendering works."""
    result = deploylib.run_helm(
        deploylib.template_args(values_files, set_values), check=False)
    if result.returncode == 0:
        raise AssertionError(f"helm template accepted values {values_files} {set_values}")
    return result.stderr


class ValuesSchemaTest(unittest.TestCase):
    def test_bad_values_file_names_each_bad_key(self):
        errors = template_errors([deploylib.BAD_VALUES])
        self.assertIn("values don't meet the specifications of the schema", errors)
        expected = {
            "database.mode": "must be one of the following",
            "database.poolSize": "Expected: integer, given: string",
            "worker.gpu.count": "greater than or equal to 0",
            "worker.autoscaling.keda.enabled": "Expected: boolean, given: string",
            "ingest.dicom.aeTitle": "less than or equal to 16",
            "ingest.dicom.service.type": "must be one of the following",
            "catalog": "Additional property confg is not allowed",
        }
        for key, message in expected.items():
            with self.subTest(key=key):
                matching = [line for line in errors.splitlines()
                            if line.startswith(f"- {key}:") and message in line]
                self.assertTrue(matching, f"no error for {key} ({message}) in:\n{errors}")

    def test_single_bad_settings_are_rejected(self):
        cases = {
            "external database without host": (
                ["database.mode=external", "database.external.existingSecret=pg"],
                "host"),
            "external database without password Secret": (
                ["database.mode=external", "database.external.host=db.example"],
                "existingSecret"),
            "unknown sslmode": (["database.external.sslMode=sometimes"], "sslMode"),
            "SSO without issuer": (
                ["sso.enabled=true", "sso.jwks=\\{\\}", "sso.audience=ailab"],
                "issuerUrl"),
            "SSO without key set": (
                ["sso.enabled=true", "sso.issuerUrl=https://idp.example",
                 "sso.audience=ailab"], "jwks"),
            "SSO without audience": (
                ["sso.enabled=true", "sso.issuerUrl=https://idp.example",
                 "sso.jwks=\\{\\}"], "audience"),
            "SSO key set that is not JSON": (["sso.jwks=https://idp.example/jwks"], "jwks"),
            "SSO key set URL of the old values": (
                ["sso.jwksUrl=https://idp.example/jwks"], "jwksUrl"),
            "short administrator password": (["secrets.adminPassword=short"], "adminPassword"),
            "unknown flag of the gateway": (["gateway.config.rate_limit=0"], "rate_limit"),
            "gateway duration without unit": (["gateway.config.rpc_timeout=30"], "rpc_timeout"),
            "SSO issuer over plain HTTP": (
                ["sso.issuerUrl=http://idp.example"], "issuerUrl"),
            "own Secret without a name": (["secrets.create=false"], "existingSecret"),
            "short de-identification key": (["secrets.deidKey=short"], "deidKey"),
            "image tag latest": (
                ["database.bundled.image=docker.io/library/postgres:latest"], "image"),
            "image without tag": (
                ["redis.bundled.image=docker.io/library/redis"], "image"),
            "node port outside the range": (["ingest.dicom.service.nodePort=80"], "nodePort"),
            "log level": (["logLevel=verbose"], "logLevel"),
            "duration without unit": (["training.config.reclaim_min_idle=30"],
                                      "reclaim_min_idle"),
            "KEDA metric": (["worker.autoscaling.keda.metric=cpu"], "metric"),
            "access mode": (["blobStore.accessMode=ReadOnlyMany"], "accessMode"),
            "unknown flag of a service": (["inference.config.model_cache=4"], "model_cache"),
            "bad network range": (["ingest.dicom.allowedCidrs={10.0.0.0}"], "allowedCidrs"),
        }
        for label, (assignments, key) in cases.items():
            with self.subTest(case=label):
                errors = template_errors(set_values=assignments)
                self.assertIn("values don't meet the specifications of the schema", errors)
                self.assertIn(key, errors)

    def test_good_values_render(self):
        for path in (deploylib.DEFAULT_VALUES, deploylib.PRODUCTION_VALUES):
            with self.subTest(values=path):
                self.assertTrue(deploylib.render([path]))


if __name__ == "__main__":
    deploylib.run_tests("__main__")
