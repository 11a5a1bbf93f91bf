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


def binary_path(component):
    return os.path.join(deploylib.BINARY_DIR, "bin", f"ailab-{component}")


def read_flags(component):
    """Returns {flag: (default, defining file)} of the platform's own flags."""
    # The binaries apply AILAB_* variables before --helpfull prints the defaults, and
    # deploy/test.sh exports some of them, so the binaries run without any.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AILAB_")}
    result = subprocess.run([binary_path(component), "--helpfull"],
                            capture_output=True, text=True, timeout=60, env=environment)
    flags, source = {}, None
    entries = []
    for line in result.stdout.splitlines():
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
        cls.missing = []
        for component in deploylib.SERVICE_PORTS:
            if os.access(binary_path(component), os.X_OK):
                cls.flags[component] = read_flags(component)
            else:
                cls.missing.append(component)
        if cls.missing:
            print(f"NOTE: not built, not checked: {', '.join(cls.missing)}")
        objects = deploylib.render([deploylib.DEFAULT_VALUES])
        cls.configmaps = deploylib.by_kind(objects, "ConfigMap")
        cls.deployments = deploylib.by_kind(objects, "Deployment")
        with open(DOC, encoding="utf-8") as handle:
            cls.doc = handle.read()

    def chart_variables(self, component):
        names = set(self.configmaps[deploylib.name("shared")]["data"])
        names |= set(self.configmaps[deploylib.name(component)]["data"])
        container = self.deployments[deploylib.name(component)]["spec"]["template"]["spec"][
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
                    known = candidates & set(flags)
                    pending = {(component, c) for c in candidates} & PENDING_FLAGS
                    if not known and pending:
                        print(f"NOTE: {variable} is set by the chart, but ailab-{component} "
                              "has no such flag yet")
                        continue
                    self.assertTrue(known, f"{variable} names no flag of ailab-{component}")

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
