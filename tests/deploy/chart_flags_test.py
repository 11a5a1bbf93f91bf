"""The chart's settings and docs/configuration.md against the flags of the built
binaries, read from `ailab-<service> --helpfull`:

- every AILAB_* variable that the chart gives a service names a flag of its binary
  (a misspelt flag would be ignored silently by the binary);
- every flag of every built binary is documented in docs/configuration.md with its
  environment variable and default.

Binaries missing from the build (inference and worker without LibTorch, or a service
not built yet) are reported and skipped.
"""
import os
import re
import subprocess
import unittest

import deploylib

DOC = os.path.join(deploylib.SOURCE_DIR, "docs", "configuration.md")

# (component, flag) pairs that the chart sets ahead of the binary: reported, not
# failed, while the binary lacks the flag. Empty while every flag exists.
PENDING_FLAGS = set()

# Components checked: the services and the HTTP gateway.
COMPONENTS = list(deploylib.SERVICE_PORTS) + ["gateway"]

# Variables that a binary reads itself rather than through a flag; its --helpfull
# must name each of them.
DIRECT_VARIABLES = {("gateway", "AILAB_GATEWAY_ADMIN_PASSWORD")}


def binary_path(component):
    return os.path.join(deploylib.BINARY_DIR, "bin", f"ailab-{component}")


def read_help(component):
    """Returns the --helpfull output of a component's binary."""
    # The binaries apply AILAB_* variables before --helpfull prints the defaults, and
    # deploy/test.sh exports some of them, so the binaries run without any.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AILAB_")}
    result = subprocess.run([binary_path(component), "--helpfull"],
                            capture_output=True, text=True, timeout=60, env=environment)
    return result.stdout


def read_flags(help_text):
    """Returns {flag: (default, defining file)} of the platform's own flags."""
    flags, source = {}, None
    entries = []
    for line in help_text.splitlines():
        header = re.match(r"^  Flags from (.+):$", line)
        if header:
            source = header.group(1)
            continue
        if re.match(r"^    --", line):
            entries.append([source, line.strip()])
        elif line.startswith("      ") and entries:
            entries[-1][1] += " " + line.strip()
    for source, text in entries:
        if not source or not re.search(r"(^|/)(libs|services)/", source):
            continue
        match = re.match(r"--(\w+) \((.*)\);\s*default: (.*);$", text)
        if match:
            flags[match.group(1)] = (match.group(3).strip('"'), source)
    return flags


class ChartFlagsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.flags = {}
        cls.help = {}
        cls.missing = []
        for component in COMPONENTS:
            if os.access(binary_path(component), os.X_OK):
                cls.help[component] = read_help(component)
                cls.flags[component] = read_flags(cls.help[component])
            else:
                cls.missing.append(component)
        if cls.missing:
            print(f"NOTE: not built, not checked: {', '.join(cls.missing)}")
        # The production values add the variables of single sign-on and TLS.
        cls.renderings = []
        for values in (deploylib.DEFAULT_VALUES, deploylib.PRODUCTION_VALUES):
            objects = deploylib.render([values])
            cls.renderings.append((deploylib.by_kind(objects, "ConfigMap"),
                                   deploylib.by_kind(objects, "Deployment")))
        with open(DOC, encoding="utf-8") as handle:
            cls.doc = handle.read()

    def chart_variables(self, component):
        names = set()
        for configmaps, deployments in self.renderings:
            names |= set(configmaps[deploylib.name("shared")]["data"])
            names |= set(configmaps[deploylib.name(component)]["data"])
            container = deployments[deploylib.name(component)]["spec"]["template"]["spec"][
                "containers"][0]
            names |= {e["name"] for e in container.get("env", [])}
        return {n for n in names if n.startswith("AILAB_")}

    def test_some_binary_is_built(self):
        if not self.flags:
            deploylib.skip("no service binary is built; build ailab-catalog and the others")
        self.assertIn("database_url", next(iter(self.flags.values())))

    def test_chart_variables_name_real_flags(self):
        for component, flags in self.flags.items():
            prefix = f"AILAB_{component.upper()}_"
            for variable in sorted(self.chart_variables(component)):
                with self.subTest(component=component, variable=variable):
                    candidates = {variable[len("AILAB_"):].lower()}
                    if variable.startswith(prefix):
                        candidates.add(variable[len(prefix):].lower())
                    if (component, variable) in DIRECT_VARIABLES:
                        self.assertIn(variable, " ".join(self.help[component].split()),
                                      f"ailab-{component} --helpfull does not name {variable}")
                        continue
                    known = candidates & set(flags)
                    pending = {(component, c) for c in candidates} & PENDING_FLAGS
                    if not known and pending:
                        print(f"NOTE: {variable} is set by the chart, but ailab-{component} "
                              "has no such flag yet")
                        continue
                    self.assertTrue(known, f"{variable} names no flag of ailab-{component}")

    def test_gateway_variables_are_checked(self):
        if "gateway" not in self.flags:
            self.skipTest("ailab-gateway is not built; build the target ailab-gateway")
        variables = self.chart_variables("gateway")
        for variable in ("AILAB_GATEWAY_GATEWAY_LISTEN", "AILAB_GATEWAY_WEB_ROOT",
                         "AILAB_GATEWAY_OIDC_JWKS_FILE", "AILAB_GATEWAY_TLS_CERT_FILE",
                         "AILAB_GATEWAY_RATE_LIMIT_PER_SECOND", "AILAB_INTERNAL_TOKEN",
                         "AILAB_GATEWAY_ADMIN_PASSWORD", "AILAB_DATABASE_URL"):
            self.assertIn(variable, variables)
        self.assertIn("gateway_listen", self.flags["gateway"])
        self.assertIn("oidc_jwks_file", self.flags["gateway"])

    def test_every_flag_is_documented(self):
        rows = [line for line in self.doc.splitlines() if line.startswith("| `--")]
        for component, flags in self.flags.items():
            for flag, (default, source) in sorted(flags.items()):
                with self.subTest(component=component, flag=flag):
                    shared = "libs/config" in source
                    variable = (f"AILAB_{flag.upper()}" if shared
                                else f"AILAB_{component.upper()}_{flag.upper()}")
                    if flag in ("listen", "port_file"):
                        variable = f"AILAB_<SERVICE>_{flag.upper()}"
                    matching = [r for r in rows if r.startswith(f"| `--{flag}` |")
                                and f"`{variable}`" in r]
                    self.assertTrue(matching, f"--{flag} of ailab-{component} ({variable}) is "
                                              "not in docs/configuration.md")
                    cell = matching[0].split("|")[2].strip()
                    expected = f"`{default}`" if default else "empty"
                    self.assertEqual(cell, expected, f"default of --{flag}")


if __name__ == "__main__":
    deploylib.run_tests("__main__")
