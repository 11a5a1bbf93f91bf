"""Static checks of the container recipes in deploy/docker. No container engine runs
where the tests run, so the Dockerfiles are parsed rather than built. The checks:
base images pinned by version, a non-root user in the runtime stage, health checked
by the chart's gRPC probes, and the build steps that the recipes promise."""
import os
import re
import unittest

import deploylib

DOCKER_DIR = os.path.join(deploylib.SOURCE_DIR, "deploy", "docker")
SERVICE_IMAGE = os.path.join(DOCKER_DIR, "Dockerfile")
GPU_IMAGE = os.path.join(DOCKER_DIR, "Dockerfile.worker-gpu")


class Instruction:
    def __init__(self, keyword, arguments, line):
        self.keyword = keyword
        self.arguments = arguments
        self.line = line

    def __repr__(self):
        return f"line {self.line}: {self.keyword} {self.arguments}"


def parse_dockerfile(path):
    """Returns the instructions of `path`, continuation lines joined, comments dropped."""
    instructions = []
    pending, start = "", 0
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\n")
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if pending and line.lstrip().startswith("#"):
                continue
            if not pending:
                start = number
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            text = (pending + line).strip()
            pending = ""
            keyword, _, arguments = text.partition(" ")
            instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
    return instructions


def stages(instructions):
    """Splits the instructions into stages: [(from_instruction, [instructions])]."""
    result = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            result.append((instruction, []))
        elif result:
            result[-1][1].append(instruction)
    return result


def global_args(instructions):
    """Default values of the ARGs declared before the first FROM."""
    values = {}
    for instruction in instructions:
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG" and "=" in instruction.arguments:
            key, _, value = instruction.arguments.partition("=")
            values[key] = value.strip('"')
    return values


def expand(text, values):
    return re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def base_image(from_instruction, values):
    """Returns (image, stage alias) of a FROM, with ARG defaults substituted."""
    words = [w for w in from_instruction.arguments.split() if not w.startswith("--")]
    image = expand(words[0], values)
    alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
    return image, alias


def assert_pinned(test, image):
    """Image references must carry a version tag (with a digit) or a digest."""
    test.assertNotIn("${", image, f"unresolved build argument in {image}")
    if "@sha256:" in image:
        return
    name, _, tag = image.rpartition(":")
    test.assertTrue(name and "/" not in tag, f"{image} has no tag")
    test.assertNotEqual(tag, "latest", f"{image} uses the tag latest")
    test.assertRegex(tag, r"\d", f"{image} is not pinned to a version")
    test.assertIn(".", name.split("/")[0], f"{image} does not name its registry")


class DockerfileChecks:
    """Checks shared by both recipes."""

    def check_recipe(self, path):
        instructions = parse_dockerfile(path)
        values = global_args(instructions)
        all_stages = stages(instructions)
        aliases = set()
        for from_instruction, _ in all_stages:
            image, alias = base_image(from_instruction, values)
            if image not in aliases:
                with self.subTest(image=image):
                    assert_pinned(self, image)
            if alias:
                aliases.add(alias)

        runtime_from, runtime = all_stages[-1]
        self.assertEqual(base_image(runtime_from, values)[1], "runtime",
                         "the last stage is the runtime image")
        users = [i for i in runtime if i.keyword == "USER"]
        self.assertTrue(users, "the runtime stage sets no USER")
        user = users[-1].arguments.split(":")[0]
        self.assertNotIn(user, ("0", "root"), "the runtime stage runs as root")
        self.assertTrue(user.isdigit(), "USER should be numeric so runAsNonRoot can verify it")
        self.assertEqual(int(user), 10001, "the chart's podSecurity.runAsUser is 10001")

        healthchecks = [i for i in runtime if i.keyword == "HEALTHCHECK"]
        self.assertEqual(len(healthchecks), 1, "the runtime stage states its HEALTHCHECK")

        entrypoints = [i for i in runtime if i.keyword == "ENTRYPOINT"]
        self.assertTrue(entrypoints, "the runtime stage has no ENTRYPOINT")
        self.assertTrue(entrypoints[-1].arguments.startswith("["),
                        "ENTRYPOINT in exec form, so the service gets SIGTERM itself")

        runtime_runs = " ".join(i.arguments for i in runtime if i.keyword == "RUN")
        for tool in ("build-essential", "cmake", "ninja-build", "install-deps.sh"):
            self.assertNotIn(tool, runtime_runs, f"the runtime stage installs {tool}")
        self.assertIn("--no-install-recommends", runtime_runs)
        self.assertIn("rm -rf /var/lib/apt/lists", runtime_runs)

        build_runs = " ".join(i.arguments for _, stage in all_stages[:-1]
                              for i in stage if i.keyword == "RUN")
        self.assertIn("deploy/install-deps.sh", build_runs)
        self.assertIn("deploy/build.sh", build_runs)

        ignore = path + ".dockerignore"
        self.assertTrue(os.path.isfile(ignore), f"{ignore} is missing")
        with open(ignore, encoding="utf-8") as handle:
            patterns = {line.strip() for line in handle if line.strip()
                        and not line.startswith("#")}
        for pattern in (".git", "build", "build-*", "var"):
            self.assertIn(pattern, patterns, f"{ignore} does not exclude {pattern}")
        return instructions, values, all_stages


class DockerfileTest(DockerfileChecks, unittest.TestCase):
    def test_service_image_recipe(self):
        instructions, values, all_stages = self.check_recipe(SERVICE_IMAGE)
        text = " ".join(i.arguments for i in instructions)
        for service in deploylib.SERVICE_PORTS:
            self.assertIn(service, text, f"SERVICE={service} is not accepted")
        runtime = all_stages[-1][1]
        copies = [i.arguments for i in runtime if i.keyword == "COPY"]
        self.assertTrue(any("ailab-${SERVICE}" in c for c in copies),
                        "the runtime stage copies the chosen service binary")
        self.assertTrue(any("/bin/ailab " in c + " " for c in copies),
                        "the runtime stage copies the ailab client (helm test uses it)")
        self.assertTrue(any(i.keyword == "ARG" and i.arguments == "SERVICE" for i in runtime))
        # The build stage must not depend on SERVICE, so the seven images share it.
        build_stage = [s for s in all_stages if base_image(s[0], values)[1] == "build"][0]
        self.assertFalse(any("SERVICE" in i.arguments for i in build_stage[1]))

    def test_web_application_stage(self):
        instructions = parse_dockerfile(SERVICE_IMAGE)
        values = global_args(instructions)
        all_stages = stages(instructions)
        by_alias = {base_image(f, values)[1]: body for f, body in all_stages}
        self.assertIn("web", by_alias, "a stage named web builds the web application")
        web_from = [f for f, _ in all_stages if base_image(f, values)[1] == "web"][0]
        image = base_image(web_from, values)[0]
        node = re.search(r"/node:(\d+)\.", image)
        self.assertIsNotNone(node, f"the web stage runs on {image}, not an official node image")
        self.assertGreaterEqual(int(node.group(1)), 20, "the web build tools need Node.js 20")
        web_runs = " ".join(i.arguments for i in by_alias["web"] if i.keyword == "RUN")
        self.assertIn("deploy/build-web.sh", web_runs)
        self.assertFalse(any("SERVICE" in i.arguments for i in by_alias["web"]))
        # The Debian build stage has no suitable Node.js, so it skips the web build.
        build_runs = " ".join(i.arguments for i in by_alias["build"] if i.keyword == "RUN")
        self.assertIn("AILAB_SKIP_WEB=1", build_runs)

        copies = [i.arguments for i in by_alias["runtime"] if i.keyword == "COPY"]
        web_copies = [c for c in copies if c.startswith("--from=web ")]
        self.assertEqual(len(web_copies), 1, "the runtime stage copies the web application")
        source, target = web_copies[0].split()[1:3]
        self.assertTrue(source.endswith("services/web/dist"), source)
        web_root = deploylib.render([deploylib.DEFAULT_VALUES])
        gateway_config = deploylib.by_kind(web_root, "ConfigMap")[deploylib.name("gateway")]
        self.assertEqual(target, gateway_config["data"]["AILAB_GATEWAY_WEB_ROOT"],
                         "the image puts the web application where the chart points")
        with open(SERVICE_IMAGE + ".dockerignore", encoding="utf-8") as handle:
            self.assertIn("services/web/dist", handle.read().split())

    def test_gateway_image(self):
        instructions = parse_dockerfile(SERVICE_IMAGE)
        checks = [i.arguments for i in instructions
                  if i.keyword == "RUN" and "SERVICE must be one of" in i.arguments]
        self.assertTrue(checks)
        self.assertIn("|gateway)", checks[0], "SERVICE=gateway is not accepted")

    def test_gpu_worker_recipe(self):
        instructions, values, all_stages = self.check_recipe(GPU_IMAGE)
        libtorch_url = values.get("LIBTORCH_URL", "")
        cuda_image = values.get("CUDA_IMAGE", "")
        self.assertIn("cxx11-abi", libtorch_url, "Debian's compilers use the C++11 ABI")
        self.assertIn("with-deps", libtorch_url)
        cuda = re.search(r"nvidia/cuda:(\d+)\.(\d+)\.\d+", cuda_image)
        self.assertIsNotNone(cuda, f"CUDA image {cuda_image} is not an nvidia/cuda tag")
        wheel_cuda = re.search(r"cu(\d+)", libtorch_url)
        self.assertEqual(wheel_cuda.group(1), cuda.group(1) + cuda.group(2),
                         "the LibTorch build matches the CUDA toolkit version")
        self.assertRegex(libtorch_url, r"libtorch-cxx11-abi-shared-with-deps-\d+\.\d+\.\d+")
        text = " ".join(i.arguments for i in instructions)
        self.assertIn("-DTorch_DIR=/opt/libtorch", text)
        self.assertIn("--skip=/opt/libtorch/", text)
        self.assertIn("NVIDIA_DRIVER_CAPABILITIES", text)

    def test_chart_probes_replace_docker_healthcheck(self):
        objects = deploylib.render([deploylib.PRODUCTION_VALUES])
        deployments = deploylib.by_kind(objects, "Deployment")
        for service, port in deploylib.SERVICE_PORTS.items():
            with self.subTest(service=service):
                container = deployments[deploylib.name(service)]["spec"]["template"][
                    "spec"]["containers"][0]
                self.assertIn(port, [p["containerPort"] for p in container["ports"]])
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    self.assertEqual(container[probe].get("grpc"), {"port": port},
                                     f"{probe} of {service}")
        gateway = deployments[deploylib.name("gateway")]["spec"]["template"]["spec"][
            "containers"][0]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            self.assertIn(gateway[probe]["httpGet"]["path"], ("/healthz", "/readyz"), probe)

    def test_parser_joins_continuations(self):
        instructions = parse_dockerfile(SERVICE_IMAGE)
        runs = [i for i in instructions if i.keyword == "RUN"]
        self.assertTrue(any("runtime-packages.sh" in i.arguments and "case" in i.arguments
                            for i in runs))
        for instruction in instructions:
            self.assertRegex(instruction.keyword, r"^[A-Z]+$", repr(instruction))


if __name__ == "__main__":
    deploylib.run_tests("__main__")
