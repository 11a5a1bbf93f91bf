"""`helm lint` of the chart with each values file under charts/ailab/ci, and the
rejection of the bad values by values.schema.json."""
import glob
import os
import unittest

import deploylib


class ChartLintTest(unittest.TestCase):
    def test_lint_passes_for_each_good_values_file(self):
        files = sorted(f for f in glob.glob(os.path.join(deploylib.CI_VALUES, "*.yaml"))
                       if f != deploylib.BAD_VALUES)
        self.assertGreaterEqual(len(files), 2, "expected the default and production values")
        for path in files:
            with self.subTest(values=os.path.basename(path)):
                result = deploylib.run_helm(
                    ["lint", "--strict", deploylib.CHART_DIR, "-f", path], check=False)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertIn("0 chart(s) failed", result.stdout)

    def test_lint_fails_for_bad_values(self):
        result = deploylib.run_helm(
            ["lint", deploylib.CHART_DIR, "-f", deploylib.BAD_VALUES], check=False)
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertIn("values don't meet the specifications of the schema", result.stdout)


if __name__ == "__main__":
    deploylib.run_tests("__main__")
