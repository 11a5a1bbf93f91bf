"""Extracts from a rendering of the chart what each service container gets: its
binary, its port, its environment (ConfigMaps, Secrets and literal values resolved),
its writable mounts, and the peers its NetworkPolicy lets it call. The loopback
tests (chart_platform.cc) start the real binaries from this description.

    chart_env.py OUT.json [-f VALUES]... [--set KEY=VALUE]...

Writes JSON:
    {"order": ["catalog", ...],              # Deployments in rendering order
     "addresses": {"ailab-catalog:7101": "catalog", ...},
     "database_url": "...", "redis_address": "host:port",
     "services": {"catalog": {"binary": "ailab-catalog", "port": 7101,
                              "env": {"NAME": "value", ...},
                              "mounts": ["/tmp", ...],   # emptyDir and claim volumes
                              "files": {"/etc/ailab/deid/key": "..."},
                              # files of Secret and ConfigMap volumes
                              "peers": ["..."]}}}
Exits 77 (skipped) when Helm is not installed.
"""
import argparse
import base64
import json
import sys

import deploylib


def resolve_env(container, configmaps, secrets):
    """Returns the environment of `container` as Kubernetes would set it."""
    env = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(configmaps[source["configMapRef"]["name"]]["data"])
        elif "secretRef" in source:
            secret = secrets[source["secretRef"]["name"]]
            env.update({k: base64.b64decode(v).decode() for k, v in secret["data"].items()})
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
            continue
        reference = variable.get("valueFrom", {})
        if "configMapKeyRef" in reference:
            ref = reference["configMapKeyRef"]
            env[variable["name"]] = configmaps[ref["name"]]["data"][ref["key"]]
        elif "secretKeyRef" in reference:
            ref = reference["secretKeyRef"]
            if ref["name"] not in secrets:
                raise SystemExit(f"chart_env: Secret {ref['name']} is not rendered; render "
                                 "with secrets.create=true for the loopback tests")
            env[variable["name"]] = base64.b64decode(secrets[ref["name"]]["data"][ref["key"]]).decode()
    return env


def volume_files(pod_spec, container, configmaps, secrets):
    """Contents of the files that Secret and ConfigMap volumes put into `container`,
    by path. A Secret that the rendering does not contain (an existing one named in
    the values) ends the run with a message."""
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    files = {}
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "secret" in volume:
            source = volume["secret"]
            if source["secretName"] not in secrets:
                raise SystemExit(f"chart_env: Secret {source['secretName']} is not rendered; "
                                 "render with values whose Secrets the chart creates")
            data = {k: base64.b64decode(v).decode()
                    for k, v in secrets[source["secretName"]]["data"].items()}
        elif "configMap" in volume:
            source = volume["configMap"]
            data = configmaps[source["name"]]["data"]
        else:
            continue
        items = source.get("items") or [{"key": k, "path": k} for k in data]
        for item in items:
            files[f"{mount['mountPath']}/{item['path']}"] = data[item["key"]]
    return files


def data_mounts(pod_spec, container):
    """Mount paths of the container's emptyDir and claim volumes, read-only or not."""
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    return [m["mountPath"] for m in container.get("volumeMounts", [])
            if "secret" not in volumes[m["name"]] and "configMap" not in volumes[m["name"]]]


def egress_peers(component, policies):
    """Components that the NetworkPolicies let `component` call."""
    peers = []
    for policy in policies:
        selector = policy["spec"]["podSelector"].get("matchLabels", {})
        if selector.get("app.kubernetes.io/component") != component:
            continue
        for rule in policy["spec"].get("egress", []):
            for peer in rule.get("to", []):
                labels = peer.get("podSelector", {}).get("matchLabels", {})
                target = labels.get("app.kubernetes.io/component")
                if target and target not in ("postgresql", "redis"):
                    peers.append(target)
    return peers


def describe(objects):
    configmaps = deploylib.by_kind(objects, "ConfigMap")
    secrets = deploylib.by_kind(objects, "Secret")
    services = deploylib.by_kind(objects, "Service")
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    shared = configmaps[deploylib.name("shared")]["data"]

    addresses = {}
    for service_name, service in services.items():
        component = deploylib.component_of(service)
        for port in service["spec"]["ports"]:
            if port["name"] in ("grpc", "http"):
                addresses[f"{service_name}:{port['port']}"] = component

    description = {"order": [], "addresses": addresses,
                   "database_url": shared["AILAB_DATABASE_URL"],
                   "redis_address": shared["AILAB_REDIS_ADDRESS"], "services": {}}
    for deployment in objects:
        if deployment["kind"] != "Deployment":
            continue
        component = deploylib.component_of(deployment)
        pod_spec = deployment["spec"]["template"]["spec"]
        container = pod_spec["containers"][0]
        binary = container["command"][0].rsplit("/", 1)[-1]
        description["order"].append(component)
        description["services"][component] = {
            "binary": binary,
            "port": container["ports"][0]["containerPort"],
            "env": resolve_env(container, configmaps, secrets),
            "mounts": data_mounts(pod_spec, container),
            "files": volume_files(pod_spec, container, configmaps, secrets),
            "peers": egress_peers(component, policies),
        }
    return description


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("-f", "--values", action="append", default=[])
    parser.add_argument("--set", dest="set_values", action="append", default=[])
    arguments = parser.parse_args()
    deploylib.helm_path()
    objects = deploylib.render(arguments.values, arguments.set_values)
    with open(arguments.out, "w", encoding="utf-8") as handle:
        json.dump(describe(objects), handle, indent=2, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main())
