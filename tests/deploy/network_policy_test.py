"""Reads the NetworkPolicies that the chart renders and checks who may reach whom.

The test evaluates the policies as Kubernetes does: a connection needs an egress
rule of the client's policies and an ingress rule of the server's, whenever a policy
of that direction selects the pod. It does so for every pod of the release, and for
actors outside it: a PACS, the ingress controller, the KEDA operator, a foreign pod in
the same namespace, a pod of another namespace, the cluster DNS and outside servers.
It then compares the result with the architecture. Each service reaches only its
peers, and PostgreSQL and Redis as it needs them. Only the gateway and the DICOM SCP
(and Redis for KEDA) accept connections from outside the release.
"""
import ipaddress
import unittest

import deploylib

# Who calls whom over gRPC (docs/architecture.md). Evaluation also calls the catalog,
# which its binary does (services/evaluation/main.cc).
PEERS = {
    "catalog": [],
    "ingest": ["evaluation"],
    "annotation": ["catalog", "ingest"],
    "training": ["annotation", "ingest", "evaluation"],
    "inference": ["training", "ingest", "catalog"],
    "evaluation": ["inference", "annotation", "training", "ingest", "catalog"],
    "worker": ["training"],
    "gateway": list(deploylib.SERVICE_PORTS),
    # `helm test` checks the health of every service.
    "smoke-test": list(deploylib.SERVICE_PORTS),
    "db-check": [],
}
# The gateway owns the schema "identity" (accounts, sessions, the audit log).
DATABASE_USERS = {"catalog", "ingest", "annotation", "training", "inference", "evaluation",
                  "gateway", "db-check"}
REDIS_USERS = {"training", "worker"}


class Endpoint:
    """A pod (namespace and labels) or an address outside the cluster."""

    def __init__(self, label, namespace=None, labels=None, ip=None, ports=()):
        self.label = label
        self.namespace = namespace
        self.labels = labels or {}
        self.ip = ip
        self.ports = set(ports)

    @property
    def is_pod(self):
        return self.namespace is not None

    def __repr__(self):
        return self.label


def selector_matches(selector, labels):
    """Kubernetes label selector semantics; an empty selector matches everything."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def peer_matches(peer, endpoint, policy_namespace):
    """Whether one entry of a rule's from/to list matches `endpoint`."""
    if "ipBlock" in peer:
        if endpoint.is_pod:
            return False
        address = ipaddress.ip_address(endpoint.ip)
        block = peer["ipBlock"]
        if address not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(address in ipaddress.ip_network(c) for c in block.get("except", []))
    if not endpoint.is_pod:
        return False
    if "namespaceSelector" in peer:
        namespace_labels = {"kubernetes.io/metadata.name": endpoint.namespace}
        if not selector_matches(peer["namespaceSelector"], namespace_labels):
            return False
    elif endpoint.namespace != policy_namespace:
        return False
    return selector_matches(peer.get("podSelector") or {}, endpoint.labels)


def rule_matches(rule, direction_key, endpoint, port, protocol, policy_namespace):
    peers = rule.get(direction_key)
    if peers and not any(peer_matches(p, endpoint, policy_namespace) for p in peers):
        return False
    ports = rule.get("ports")
    if not ports:
        return True
    return any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port)
               for p in ports)


class PolicySet:
    def __init__(self, policies):
        self.policies = policies

    def _selecting(self, endpoint, policy_type):
        if not endpoint.is_pod:
            return []
        return [p for p in self.policies
                if endpoint.namespace == deploylib.NAMESPACE
                and policy_type in p["spec"].get("policyTypes", ["Ingress"])
                and selector_matches(p["spec"].get("podSelector") or {}, endpoint.labels)]

    def allows(self, source, destination, port, protocol="TCP"):
        egress = self._selecting(source, "Egress")
        if egress and not any(
                rule_matches(rule, "to", destination, port, protocol, deploylib.NAMESPACE)
                for policy in egress for rule in policy["spec"].get("egress") or []):
            return False
        ingress = self._selecting(destination, "Ingress")
        if ingress and not any(
                rule_matches(rule, "from", source, port, protocol, deploylib.NAMESPACE)
                for policy in ingress for rule in policy["spec"].get("ingress") or []):
            return False
        return True


def release_pods(objects):
    """Endpoints of every pod template of the release, keyed by component."""
    pods = {}
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
            template = obj["spec"]["template"]
            labels, spec = template["metadata"]["labels"], template["spec"]
        elif obj["kind"] == "Pod":
            labels, spec = obj["metadata"]["labels"], obj["spec"]
        else:
            continue
        containers = spec.get("containers", []) + spec.get("initContainers", [])
        ports = {p["containerPort"] for c in containers for p in c.get("ports", [])}
        component = labels["app.kubernetes.io/component"]
        pods[component] = Endpoint(component, deploylib.NAMESPACE, labels, ports=ports)
    return pods


def outside_actors():
    return {
        "pacs": Endpoint("pacs", ip="10.20.50.5"),
        "unknown-host": Endpoint("unknown-host", ip="203.0.113.9"),
        "ingress-controller": Endpoint(
            "ingress-controller", "ingress-nginx",
            {"app.kubernetes.io/name": "ingress-nginx"}),
        "keda-operator": Endpoint("keda-operator", "keda", {"app": "keda-operator"}),
        "foreign-pod": Endpoint("foreign-pod", deploylib.NAMESPACE, {"app": "other"}),
        "other-namespace-pod": Endpoint(
            "other-namespace-pod", "radiology",
            {"app.kubernetes.io/name": "ailab", "app.kubernetes.io/component": "catalog",
             "app.kubernetes.io/instance": deploylib.RELEASE}),
    }


class NetworkPolicyCase:
    """Checks of one rendering; `external` marks the external database and Redis."""

    def __init__(self, test, objects, external):
        self.test = test
        self.objects = objects
        self.external = external
        self.policies = PolicySet(
            [o for o in objects if o["kind"] == "NetworkPolicy"])
        self.pods = release_pods(objects)
        self.actors = outside_actors()

    def expected(self, source, destination, port):
        """Whether `source` should reach `port` of `destination` (release components)."""
        if destination in PEERS.get(source, []):
            return port == deploylib.SERVICE_PORTS.get(destination, deploylib.GATEWAY_PORT)
        if destination == "postgresql":
            return source in DATABASE_USERS and port == 5432
        if destination == "redis":
            return source in REDIS_USERS and port == 6379
        return False

    def check_release_pairs(self):
        for source, source_pod in self.pods.items():
            for destination, destination_pod in self.pods.items():
                for port in destination_pod.ports:
                    if source == destination:
                        continue
                    with self.test.subTest(source=source, destination=destination, port=port):
                        self.test.assertEqual(
                            self.policies.allows(source_pod, destination_pod, port),
                            self.expected(source, destination, port),
                            f"{source} -> {destination}:{port}")

    def check_outside_actors(self, pacs_allowed, keda_to_redis):
        for actor_name, actor in self.actors.items():
            for destination, destination_pod in self.pods.items():
                for port in destination_pod.ports:
                    expected = (
                        (destination == "ingest" and port == 11112 and actor_name == "pacs"
                         and pacs_allowed)
                        or (destination == "ingest" and port == 11112
                            and not self.cidr_restricted)
                        or (destination == "gateway" and port == deploylib.GATEWAY_PORT
                            and actor_name == "ingress-controller")
                        or (destination == "redis" and actor_name == "keda-operator"
                            and keda_to_redis))
                    with self.test.subTest(actor=actor_name, destination=destination, port=port):
                        self.test.assertEqual(
                            self.policies.allows(actor, destination_pod, port), expected,
                            f"{actor_name} -> {destination}:{port}")

    @property
    def cidr_restricted(self):
        values_ingest = [o for o in self.objects
                         if o["kind"] == "NetworkPolicy"
                         and o["metadata"]["name"] == deploylib.name("ingest")][0]
        return any("from" in rule for rule in values_ingest["spec"]["ingress"]
                   if any(p.get("port") == 11112 for p in rule.get("ports", [])))

    def check_dns(self):
        dns = Endpoint("kube-dns", "kube-system", {"k8s-app": "kube-dns"})
        for component, pod in self.pods.items():
            with self.test.subTest(component=component):
                self.test.assertTrue(self.policies.allows(pod, dns, 53, "UDP"))
                self.test.assertTrue(self.policies.allows(pod, dns, 53, "TCP"))
                self.test.assertFalse(self.policies.allows(pod, dns, 80))

    def check_egress_outside(self, allowed):
        """`allowed`: {(ip, port): set of components allowed}; all else is denied."""
        probes = set(allowed) | {("203.0.113.9", 443), ("203.0.113.9", 5432),
                                 ("10.99.0.1", 5432), ("10.99.0.1", 6379)}
        for ip, port in sorted(probes):
            outside = Endpoint(f"{ip}:{port}", ip=ip)
            for component, pod in self.pods.items():
                expected = component in allowed.get((ip, port), set())
                with self.test.subTest(component=component, address=ip, port=port):
                    self.test.assertEqual(self.policies.allows(pod, outside, port), expected,
                                          f"{component} -> {ip}:{port}")


class NetworkPolicyTest(unittest.TestCase):
    def test_default_values(self):
        objects = deploylib.render([deploylib.DEFAULT_VALUES])
        case = NetworkPolicyCase(self, objects, external=False)
        self.assertEqual(
            set(case.pods),
            set(deploylib.SERVICE_PORTS) | {"gateway", "postgresql", "redis", "smoke-test",
                                            "db-check"},
            "pods of the default rendering")
        case.check_release_pairs()
        case.check_outside_actors(pacs_allowed=True, keda_to_redis=False)
        case.check_dns()
        case.check_egress_outside({})

    def test_keda_may_read_bundled_redis(self):
        objects = deploylib.render(
            [deploylib.DEFAULT_VALUES], ["worker.autoscaling.keda.enabled=true"])
        case = NetworkPolicyCase(self, objects, external=False)
        case.check_release_pairs()
        case.check_outside_actors(pacs_allowed=True, keda_to_redis=True)

    def test_external_database_sso_gpu_values(self):
        objects = deploylib.render([deploylib.PRODUCTION_VALUES])
        case = NetworkPolicyCase(self, objects, external=True)
        self.assertEqual(
            set(case.pods),
            set(deploylib.SERVICE_PORTS) | {"gateway", "smoke-test", "db-check"},
            "pods of the production rendering")
        case.check_release_pairs()
        # The values allow the PACS range 10.20.50.0/24 only.
        case.check_outside_actors(pacs_allowed=True, keda_to_redis=False)
        case.check_dns()
        database_users = DATABASE_USERS & set(case.pods)
        case.check_egress_outside({
            ("10.20.30.5", 5432): database_users,
            ("10.20.31.5", 6379): REDIS_USERS,
            # The gateway reads the identity provider's keys from a file and never
            # connects to the provider.
            ("10.20.60.10", 443): set(),
        })
        # A sender outside the allowed ranges cannot reach the SCP.
        outsider = Endpoint("modality", ip="10.20.52.9")
        self.assertFalse(case.policies.allows(outsider, case.pods["ingest"], 11112))

    def test_scp_closed_when_off(self):
        objects = deploylib.render([deploylib.DEFAULT_VALUES], ["ingest.dicom.dataset="])
        case = NetworkPolicyCase(self, objects, external=False)
        case.check_release_pairs()
        for actor in case.actors.values():
            with self.subTest(actor=actor.label):
                self.assertFalse(case.policies.allows(actor, case.pods["ingest"], 11112))

    def test_every_pod_is_under_default_deny(self):
        objects = deploylib.render([deploylib.PRODUCTION_VALUES])
        deny = [o for o in objects if o["kind"] == "NetworkPolicy"
                and o["metadata"]["name"] == deploylib.name("default-deny")]
        self.assertEqual(len(deny), 1)
        spec = deny[0]["spec"]
        self.assertEqual(sorted(spec["policyTypes"]), ["Egress", "Ingress"])
        self.assertNotIn("ingress", spec)
        self.assertNotIn("egress", spec)
        for component, pod in release_pods(objects).items():
            with self.subTest(component=component):
                self.assertTrue(selector_matches(spec["podSelector"], pod.labels))


if __name__ == "__main__":
    deploylib.run_tests("__main__")
