"""What `helm template` renders for the default values and for the external
database + SSO + GPU values: the components, their security settings, probes,
resources, configuration, storage, autoscaling and hooks."""
import base64
import json
import tempfile
import unittest

import deploylib

SERVICES = list(deploylib.SERVICE_PORTS)


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def env_names(container):
    return {e["name"] for e in container.get("env", [])}


class RenderedChart:
    """The objects of one rendering, indexed for the checks."""

    def __init__(self, values_files, set_values=()):
        self.objects = deploylib.render(values_files, set_values)
        self.deployments = deploylib.by_kind(self.objects, "Deployment")
        self.statefulsets = deploylib.by_kind(self.objects, "StatefulSet")
        self.services = deploylib.by_kind(self.objects, "Service")
        self.configmaps = deploylib.by_kind(self.objects, "ConfigMap")
        self.secrets = deploylib.by_kind(self.objects, "Secret")
        self.jobs = deploylib.by_kind(self.objects, "Job")
        self.pods = deploylib.by_kind(self.objects, "Pod")

    def workloads(self):
        """Every pod template, with the name of the object that contains it."""
        for collection in (self.deployments, self.statefulsets, self.jobs):
            for workload_name, workload in collection.items():
                yield workload_name, pod_spec(workload)
        for pod_name, pod in self.pods.items():
            yield pod_name, pod["spec"]

    def config(self, component):
        """The environment a component's container gets from its two ConfigMaps."""
        merged = dict(self.configmaps[deploylib.name("shared")]["data"])
        merged.update(self.configmaps[deploylib.name(component)]["data"])
        return merged


class ChartRenderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.default = RenderedChart([deploylib.DEFAULT_VALUES])
        cls.production = RenderedChart([deploylib.PRODUCTION_VALUES])

    def test_one_deployment_service_and_budget_per_component(self):
        for label, chart, components in (
                ("default", self.default, SERVICES + ["gateway"]),
                ("production", self.production, SERVICES + ["gateway"])):
            budgets = deploylib.by_kind(chart.objects, "PodDisruptionBudget")
            self.assertEqual(set(chart.deployments), {deploylib.name(c) for c in components},
                             label)
            for component in components:
                with self.subTest(rendering=label, component=component):
                    service = chart.services[deploylib.name(component)]
                    self.assertEqual(service["spec"]["type"], "ClusterIP")
                    port = deploylib.SERVICE_PORTS.get(component, deploylib.GATEWAY_PORT)
                    self.assertEqual(service["spec"]["ports"][0]["port"], port)
                    self.assertIn(deploylib.name(component), budgets)
                    self.assertEqual(
                        budgets[deploylib.name(component)]["spec"]["selector"]["matchLabels"],
                        chart.deployments[deploylib.name(component)]["spec"]["selector"][
                            "matchLabels"])

    def test_security_settings_of_every_pod(self):
        for label, chart in (("default", self.default), ("production", self.production)):
            for workload_name, spec in chart.workloads():
                with self.subTest(rendering=label, workload=workload_name):
                    pod_context = spec["securityContext"]
                    self.assertTrue(pod_context["runAsNonRoot"])
                    self.assertGreater(pod_context["runAsUser"], 0)
                    self.assertEqual(pod_context["seccompProfile"], {"type": "RuntimeDefault"})
                    self.assertFalse(spec["automountServiceAccountToken"])
                    for container in spec["containers"] + spec.get("initContainers", []):
                        context = container["securityContext"]
                        self.assertTrue(context["readOnlyRootFilesystem"], container["name"])
                        self.assertFalse(context["allowPrivilegeEscalation"])
                        self.assertEqual(context["capabilities"], {"drop": ["ALL"]})
                        self.assertIn("requests", container["resources"])
                        self.assertIn("limits", container["resources"])
                        self.assertNotIn(":latest", container["image"])
                        self.assertRegex(container["image"], r":[0-9][A-Za-z0-9_.-]*$")

    def test_services_have_grpc_probes_and_writable_tmp(self):
        for component, port in deploylib.SERVICE_PORTS.items():
            with self.subTest(component=component):
                spec = pod_spec(self.default.deployments[deploylib.name(component)])
                container = spec["containers"][0]
                self.assertEqual(container["command"], [f"/usr/local/bin/ailab-{component}"])
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    self.assertEqual(container[probe]["grpc"], {"port": port}, probe)
                mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                self.assertEqual(mounts.get("/tmp"), "tmp")
                volumes = {v["name"]: v for v in spec["volumes"]}
                self.assertIn("emptyDir", volumes["tmp"])

    def test_blob_store_only_where_needed(self):
        users = {"ingest", "training", "inference", "evaluation", "worker", "gateway"}
        claim = deploylib.by_kind(self.default.objects, "PersistentVolumeClaim")[
            deploylib.name("blobs")]
        self.assertEqual(claim["spec"]["accessModes"], ["ReadWriteMany"])
        self.assertEqual(claim["metadata"]["annotations"]["helm.sh/resource-policy"], "keep")
        for component in SERVICES + ["gateway"]:
            with self.subTest(component=component):
                spec = pod_spec(self.default.deployments[deploylib.name(component)])
                claims = [v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"]
                          if "persistentVolumeClaim" in v]
                self.assertEqual(claims, [deploylib.name("blobs")] if component in users else [])
                config = self.default.config(component)
                self.assertEqual(config["AILAB_BLOB_ROOT"], "/var/lib/ailab/blobs")
                mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
                if component in users:
                    # Only the gateway, which serves blobs and never stores any, reads
                    # the store without write access.
                    self.assertEqual(mounts["blobs"].get("readOnly", False),
                                     component == "gateway")
        production = pod_spec(self.production.deployments[deploylib.name("ingest")])
        self.assertIn("ailab-blobs-nfs", [v.get("persistentVolumeClaim", {}).get("claimName")
                                          for v in production["volumes"]])
        self.assertNotIn("PersistentVolumeClaim",
                         {o["kind"] for o in self.production.objects})

    def test_every_service_flag_is_in_its_config_map(self):
        expected = {
            "catalog": {"AILAB_CATALOG_SEED": "true"},
            "annotation": {"AILAB_ANNOTATION_MIN_REFERENCE_OVERLAP": "10",
                           "AILAB_ANNOTATION_DIRECTORY_CACHE_SECONDS": "10"},
            "training": {"AILAB_TRAINING_QUEUE_STREAM": "ailab:training",
                         "AILAB_TRAINING_MAX_ATTEMPTS": "3",
                         "AILAB_TRAINING_RECLAIM_MIN_IDLE": "30s",
                         "AILAB_TRAINING_MAINTENANCE_INTERVAL": "5s",
                         "AILAB_TRAINING_WATCH_POLL": "500ms",
                         "AILAB_TRAINING_REPLICA_ID": ""},
            "inference": {"AILAB_INFERENCE_MODEL_CACHE_SIZE": "4",
                          "AILAB_INFERENCE_MAX_BATCH_SIZE": "8",
                          "AILAB_INFERENCE_BATCH_DELAY_MS": "2",
                          "AILAB_INFERENCE_DIRECTORY_CACHE_SECONDS": "30",
                          "AILAB_INFERENCE_TORCH_THREADS": "2"},
            "evaluation": {"AILAB_EVALUATION_EVALUATION_RUNNERS": "2",
                           "AILAB_EVALUATION_PREDICTION_PARALLELISM": "4"},
            "ingest": {"AILAB_INGEST_MAX_UPLOAD_FILE_BYTES": "1073741824",
                       "AILAB_INGEST_PREPARATION_THREADS": "2",
                       "AILAB_INGEST_MAX_DATE_SHIFT_DAYS": "365",
                       "AILAB_INGEST_RETAIN_PATIENT_CHARACTERISTICS": "false",
                       "AILAB_INGEST_DICOM_DATASET": "datasets/pacs",
                       "AILAB_INGEST_DICOM_PORT": "11112",
                       "AILAB_INGEST_DICOM_BIND_ADDRESS": "0.0.0.0",
                       "AILAB_INGEST_DICOM_AE_TITLE": "AILAB",
                       "AILAB_INGEST_DEID_KEY_FILE": "/etc/ailab/deid/key"},
            "worker": {"AILAB_WORKER_WORK_DIR": "/var/lib/ailab/work",
                       "AILAB_WORKER_QUEUE_STREAM": "ailab:training",
                       "AILAB_WORKER_GPU_COUNT": "0",
                       "AILAB_WORKER_WORKER_ID": "",
                       "AILAB_WORKER_MEMORY_MB": "0",
                       "AILAB_WORKER_THREADS": "8",
                       "AILAB_WORKER_DEVICE": "auto",
                       "AILAB_WORKER_PRETRAINED_WEIGHTS_DIR": "",
                       "AILAB_WORKER_LEASE_TTL": "15s",
                       "AILAB_WORKER_HEARTBEAT_INTERVAL": "2s"},
        }
        for component, variables in expected.items():
            config = self.default.config(component)
            with self.subTest(component=component):
                port = deploylib.SERVICE_PORTS[component]
                self.assertEqual(config[f"AILAB_{component.upper()}_LISTEN"], f"0.0.0.0:{port}")
                for variable, value in variables.items():
                    self.assertEqual(config.get(variable), value, variable)
        shared = self.default.configmaps[deploylib.name("shared")]["data"]
        for component, port in deploylib.SERVICE_PORTS.items():
            self.assertEqual(shared[f"AILAB_{component.upper()}_ADDRESS"],
                             f"{deploylib.name(component)}:{port}")
        self.assertEqual(shared["AILAB_REDIS_ADDRESS"], "ailab-redis:6379")
        self.assertEqual(shared["AILAB_DATABASE_URL"],
                         "postgresql://ailab@ailab-postgresql:5432/ailab?sslmode=disable")
        self.assertEqual(shared["AILAB_LOG_LEVEL"], "info")
        self.assertEqual(shared["AILAB_DATABASE_POOL_SIZE"], "4")

    def test_environment_references_resolve(self):
        external_secrets = {"ailab-postgres", "ailab-secrets", "ailab-gateway-tls",
                            "ailab-postgres-ca", "ailab-tls"}
        for label, chart, allowed in (("default", self.default, set()),
                                      ("production", self.production, external_secrets)):
            secrets = set(chart.secrets) | allowed
            for workload_name, spec in chart.workloads():
                for container in spec["containers"] + spec.get("initContainers", []):
                    with self.subTest(rendering=label, container=container["name"]):
                        for source in container.get("envFrom", []):
                            if "configMapRef" in source:
                                self.assertIn(source["configMapRef"]["name"], chart.configmaps)
                        for variable in container.get("env", []):
                            reference = variable.get("valueFrom", {}).get("secretKeyRef")
                            if reference:
                                self.assertIn(reference["name"], secrets, variable["name"])
                for volume in spec.get("volumes", []):
                    if "secret" in volume:
                        self.assertIn(volume["secret"]["secretName"], secrets)

    def test_deidentification_key_from_secret(self):
        for label, chart, secret in (("default", self.default, deploylib.name("secrets")),
                                     ("production", self.production, "ailab-secrets")):
            with self.subTest(rendering=label):
                spec = pod_spec(chart.deployments[deploylib.name("ingest")])
                container = spec["containers"][0]
                self.assertNotIn("AILAB_INGEST_DEID_KEY", env_names(container),
                                 "the key travels as a file, not in the environment")
                mounts = {m["name"]: m for m in container["volumeMounts"]}
                self.assertEqual(mounts["deid-key"]["mountPath"], "/etc/ailab/deid")
                self.assertTrue(mounts["deid-key"]["readOnly"])
                volume = [v for v in spec["volumes"] if v["name"] == "deid-key"][0]
                self.assertEqual(volume["secret"]["secretName"], secret)
                self.assertEqual(volume["secret"]["items"], [{"key": "deid-key", "path": "key"}])
                self.assertEqual(chart.config("ingest")["AILAB_INGEST_DEID_KEY_FILE"],
                                 "/etc/ailab/deid/key")
        production_worker = self.production.config("worker")
        self.assertEqual(production_worker["AILAB_WORKER_GPU_COUNT"], "1")

    def test_generated_secret_is_kept(self):
        secret = self.default.secrets[deploylib.name("secrets")]
        self.assertEqual(secret["metadata"]["annotations"]["helm.sh/resource-policy"], "keep")
        self.assertEqual(set(secret["data"]),
                         {"deid-key", "internal-token", "postgres-password", "admin-password"})
        for key, length in (("internal-token", 48), ("admin-password", 24)):
            value = base64.b64decode(secret["data"][key]).decode()
            self.assertEqual(len(value), length, key)
        fixed = RenderedChart([deploylib.DEFAULT_VALUES],
                              ["secrets.adminPassword=first-admin-password"])
        self.assertEqual(
            base64.b64decode(fixed.secrets[deploylib.name("secrets")]["data"]["admin-password"]),
            b"first-admin-password")
        self.assertFalse(self.production.secrets, "production values bring their own Secret")

    def test_bundled_database_and_redis(self):
        postgres = self.default.statefulsets[deploylib.name("postgresql")]
        redis = self.default.statefulsets[deploylib.name("redis")]
        self.assertTrue(postgres["spec"]["volumeClaimTemplates"])
        self.assertIn("postgres:15", pod_spec(postgres)["containers"][0]["image"])
        redis_container = pod_spec(redis)["containers"][0]
        self.assertIn("redis:7", redis_container["image"])
        command = redis_container["command"]
        self.assertEqual(command[command.index("--appendonly") + 1], "yes")
        self.assertFalse(self.production.statefulsets)

    def test_external_database_with_tls(self):
        config = self.production.config("training")
        self.assertEqual(
            config["AILAB_DATABASE_URL"],
            "postgresql://ailab_app@postgres.db.hospital.example:5432/ailab"
            "?sslmode=verify-full&sslrootcert=/etc/ailab/postgres-ca/ca.crt")
        self.assertEqual(config["AILAB_REDIS_ADDRESS"], "redis.db.hospital.example:6379")
        self.assertEqual(config["AILAB_DATABASE_POOL_SIZE"], "8")
        for component in ("catalog", "ingest", "annotation", "training", "inference",
                          "evaluation", "gateway"):
            with self.subTest(component=component):
                spec = pod_spec(self.production.deployments[deploylib.name(component)])
                container = spec["containers"][0]
                password = [e for e in container["env"] if e["name"] == "PGPASSWORD"][0]
                self.assertEqual(password["valueFrom"]["secretKeyRef"],
                                 {"name": "ailab-postgres", "key": "password"})
                self.assertIn("/etc/ailab/postgres-ca",
                              [m["mountPath"] for m in container["volumeMounts"]])
        worker = pod_spec(self.production.deployments[deploylib.name("worker")])
        self.assertNotIn("PGPASSWORD", env_names(worker["containers"][0]))

    def test_gpu_worker_with_keda(self):
        worker = self.production.deployments[deploylib.name("worker")]
        self.assertNotIn("replicas", worker["spec"], "KEDA owns the replica count")
        spec = pod_spec(worker)
        container = spec["containers"][0]
        self.assertEqual(container["resources"]["limits"]["nvidia.com/gpu"], 1)
        self.assertTrue(container["image"].endswith("/ailab-worker-gpu:0.1.0"))
        self.assertEqual(spec["runtimeClassName"], "nvidia")
        self.assertEqual(spec["nodeSelector"], {"nvidia.com/gpu.present": "true"})
        self.assertIn({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                      spec["tolerations"])
        scaled = deploylib.by_kind(self.production.objects, "ScaledObject")[
            deploylib.name("worker")]
        self.assertEqual(scaled["spec"]["scaleTargetRef"]["name"], deploylib.name("worker"))
        self.assertEqual(scaled["spec"]["minReplicaCount"], 0)
        self.assertEqual(scaled["spec"]["maxReplicaCount"], 3)
        for trigger in scaled["spec"]["triggers"]:
            self.assertEqual(trigger["type"], "redis-streams")
            self.assertEqual(trigger["metadata"]["stream"], "ailab:training:jobs")
            self.assertEqual(trigger["metadata"]["consumerGroup"], "workers")
            self.assertEqual(trigger["metadata"]["address"], "redis.db.hospital.example:6379")
        keys = {key for trigger in scaled["spec"]["triggers"] for key in trigger["metadata"]}
        self.assertIn("lagCount", keys)
        self.assertIn("pendingEntriesCount", keys)

    def test_cpu_worker_with_fixed_replicas(self):
        worker = self.default.deployments[deploylib.name("worker")]
        self.assertEqual(worker["spec"]["replicas"], 1)
        container = pod_spec(worker)["containers"][0]
        self.assertNotIn("nvidia.com/gpu", container["resources"]["limits"])
        self.assertEqual(container["image"], "ailab-worker:0.1.0")
        self.assertNotIn("ScaledObject", {o["kind"] for o in self.default.objects})

    def test_keda_on_stream_length(self):
        chart = RenderedChart([deploylib.DEFAULT_VALUES],
                              ["worker.autoscaling.keda.enabled=true",
                               "training.config.queue_stream=hospital:queue"])
        scaled = deploylib.by_kind(chart.objects, "ScaledObject")[deploylib.name("worker")]
        (trigger,) = scaled["spec"]["triggers"]
        self.assertEqual(trigger["metadata"], {"address": "ailab-redis:6379",
                                               "stream": "hospital:queue:jobs",
                                               "streamLength": "1"})

    def test_dicom_scp_service(self):
        default = self.default.services[deploylib.name("dicom")]["spec"]
        self.assertEqual(default["type"], "NodePort")
        self.assertEqual(default["ports"][0]["port"], 11112)
        self.assertEqual(default["ports"][0]["targetPort"], "dicom")
        self.assertEqual(default["selector"]["app.kubernetes.io/component"], "ingest")
        production = self.production.services[deploylib.name("dicom")]["spec"]
        self.assertEqual(production["type"], "LoadBalancer")
        self.assertEqual(production["loadBalancerIP"], "10.20.40.15")
        self.assertEqual(production["loadBalancerSourceRanges"],
                         ["10.20.50.0/24", "10.20.51.7/32"])
        self.assertEqual(production["externalTrafficPolicy"], "Local")
        self.assertEqual(self.production.config("ingest")["AILAB_INGEST_DICOM_AE_TITLE"],
                         "AILAB_MAMMO")
        fixed = RenderedChart([deploylib.DEFAULT_VALUES],
                              ["ingest.dicom.service.nodePort=31112"])
        self.assertEqual(fixed.services[deploylib.name("dicom")]["spec"]["ports"][0]["nodePort"],
                         31112)

    def test_dicom_scp_off_without_dataset(self):
        chart = RenderedChart([deploylib.DEFAULT_VALUES], ["ingest.dicom.dataset="])
        self.assertNotIn(deploylib.name("dicom"), chart.services)
        container = pod_spec(chart.deployments[deploylib.name("ingest")])["containers"][0]
        self.assertEqual([p["name"] for p in container["ports"]], ["grpc"])
        self.assertEqual(chart.config("ingest")["AILAB_INGEST_DICOM_DATASET"], "")
        policy = deploylib.by_kind(chart.objects, "NetworkPolicy")[deploylib.name("ingest")]
        ports = [p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]]
        self.assertEqual(ports, [deploylib.SERVICE_PORTS["ingest"]])

    def test_gateway_container(self):
        spec = pod_spec(self.default.deployments[deploylib.name("gateway")])
        container = spec["containers"][0]
        self.assertEqual(container["command"], ["/usr/local/bin/ailab-gateway"])
        self.assertEqual(container["ports"],
                         [{"name": "http", "containerPort": 8080, "protocol": "TCP"}])
        references = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]
                      if "valueFrom" in e}
        secret = deploylib.name("secrets")
        self.assertEqual(references["AILAB_INTERNAL_TOKEN"],
                         {"name": secret, "key": "internal-token"})
        self.assertEqual(references["AILAB_GATEWAY_ADMIN_PASSWORD"],
                         {"name": secret, "key": "admin-password"})
        self.assertEqual(references["PGPASSWORD"], {"name": secret, "key": "postgres-password"})
        config = self.default.config("gateway")
        self.assertEqual(config["AILAB_GATEWAY_GATEWAY_LISTEN"], "0.0.0.0:8080")
        self.assertNotIn("AILAB_GATEWAY_LISTEN", config,
                         "--listen would start the gateway's gRPC health server")
        self.assertEqual(config["AILAB_GATEWAY_RATE_LIMIT_PER_SECOND"], "0")
        self.assertEqual(config["AILAB_GATEWAY_WEB_ROOT"], "/usr/local/share/ailab/web")
        self.assertEqual(config["AILAB_GATEWAY_ADMIN_USERNAME"], "admin")
        self.assertEqual(config["AILAB_DATABASE_URL"],
                         self.default.config("catalog")["AILAB_DATABASE_URL"])
        for variable in config:
            self.assertFalse(variable.startswith("AILAB_GATEWAY_OIDC_"), variable)
            self.assertFalse(variable.startswith("AILAB_GATEWAY_TLS_"), variable)
        for probe, path in (("startupProbe", "/healthz"), ("readinessProbe", "/readyz"),
                            ("livenessProbe", "/healthz")):
            with self.subTest(probe=probe):
                self.assertEqual(container[probe]["httpGet"],
                                 {"path": path, "port": "http", "scheme": "HTTP"})
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        self.assertEqual(mounts, {"/tmp", "/var/lib/ailab/blobs"})

    def test_gateway_ingress_rate_limit(self):
        ingress = deploylib.by_kind(self.default.objects, "Ingress")[deploylib.name("gateway")]
        annotations = ingress["metadata"]["annotations"]
        self.assertEqual(annotations["nginx.ingress.kubernetes.io/limit-rps"], "50")
        self.assertEqual(annotations["nginx.ingress.kubernetes.io/limit-burst-multiplier"], "5")
        self.assertEqual(annotations["nginx.ingress.kubernetes.io/proxy-body-size"], "2g")
        self.assertEqual(annotations["nginx.ingress.kubernetes.io/proxy-buffering"], "off")
        self.assertNotIn("nginx.ingress.kubernetes.io/backend-protocol", annotations)
        self.assertNotIn("tls", ingress["spec"])
        unlimited = RenderedChart([deploylib.DEFAULT_VALUES],
                                  ["gateway.ingress.rateLimitPerSecond=0"])
        annotations = deploylib.by_kind(unlimited.objects, "Ingress")[
            deploylib.name("gateway")]["metadata"]["annotations"]
        self.assertNotIn("nginx.ingress.kubernetes.io/limit-rps", annotations)
        disabled = RenderedChart([deploylib.DEFAULT_VALUES], ["gateway.enabled=false"])
        self.assertNotIn("Ingress", {o["kind"] for o in disabled.objects})
        self.assertNotIn(deploylib.name("gateway"), disabled.deployments)
        self.assertNotIn(deploylib.name("gateway"), disabled.configmaps)

    def test_gateway_ingress_tls_and_sso(self):
        ingress = deploylib.by_kind(self.production.objects, "Ingress")[deploylib.name("gateway")]
        rule = ingress["spec"]["rules"][0]
        self.assertEqual(rule["host"], "ailab.hospital.example")
        backend = rule["http"]["paths"][0]["backend"]["service"]
        self.assertEqual(backend, {"name": deploylib.name("gateway"), "port": {"name": "http"}})
        self.assertEqual(ingress["spec"]["tls"][0]["secretName"], "ailab-tls")
        annotations = ingress["metadata"]["annotations"]
        self.assertEqual(annotations["nginx.ingress.kubernetes.io/limit-rps"], "20")
        self.assertEqual(annotations["nginx.ingress.kubernetes.io/proxy-body-size"], "4g",
                         "an annotation of the values beats the chart's")
        self.assertEqual(annotations["nginx.ingress.kubernetes.io/backend-protocol"], "HTTPS")

        config = self.production.config("gateway")
        self.assertEqual(config["AILAB_GATEWAY_OIDC_ISSUER"],
                         "https://login.hospital.example/realms/staff")
        self.assertEqual(config["AILAB_GATEWAY_OIDC_AUDIENCE"], "ailab")
        self.assertEqual(config["AILAB_GATEWAY_OIDC_ROLES_CLAIM"], "ailab_roles")
        self.assertEqual(config["AILAB_GATEWAY_OIDC_JWKS_FILE"], "/etc/ailab/oidc/jwks.json")
        self.assertEqual(config["AILAB_GATEWAY_TLS_CERT_FILE"], "/etc/ailab/gateway-tls/tls.crt")
        self.assertEqual(config["AILAB_GATEWAY_TLS_KEY_FILE"], "/etc/ailab/gateway-tls/tls.key")

        spec = pod_spec(self.production.deployments[deploylib.name("gateway")])
        container = spec["containers"][0]
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        self.assertEqual(mounts["oidc"]["mountPath"], "/etc/ailab/oidc")
        self.assertTrue(mounts["oidc"]["readOnly"])
        key_set = self.production.configmaps[
            volumes["oidc"]["configMap"]["name"]]["data"]["jwks.json"]
        self.assertEqual(json.loads(key_set)["keys"][0]["kid"], "staff-2026")
        self.assertEqual(mounts["gateway-tls"]["mountPath"], "/etc/ailab/gateway-tls")
        self.assertTrue(mounts["gateway-tls"]["readOnly"])
        self.assertEqual(volumes["gateway-tls"]["secret"]["secretName"], "ailab-gateway-tls")
        self.assertEqual({i["path"] for i in volumes["gateway-tls"]["secret"]["items"]},
                         {"tls.crt", "tls.key"})
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            self.assertEqual(container[probe]["httpGet"]["scheme"], "HTTPS", probe)
        self.assertFalse([e for e in container["env"] if "CLIENT_SECRET" in e["name"]])

    def test_gateway_restarts_when_keys_change(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
            values.write('sso:\n  jwks: \'{"keys": []}\'\n')
            values.flush()
            rotated = RenderedChart([deploylib.PRODUCTION_VALUES, values.name])
        key_set = rotated.configmaps[deploylib.name("gateway-oidc")]["data"]["jwks.json"]
        self.assertEqual(json.loads(key_set), {"keys": []})
        before = self.production.deployments[deploylib.name("gateway")]
        after = rotated.deployments[deploylib.name("gateway")]
        self.assertNotEqual(
            before["spec"]["template"]["metadata"]["annotations"]["checksum/config"],
            after["spec"]["template"]["metadata"]["annotations"]["checksum/config"])

    def test_database_check_hook(self):
        default_job = self.default.jobs[deploylib.name("db-check")]
        production_job = self.production.jobs[deploylib.name("db-check")]
        # A bundled database does not exist before the install, so the check runs
        # before upgrades only.
        self.assertEqual(default_job["metadata"]["annotations"]["helm.sh/hook"], "pre-upgrade")
        self.assertEqual(production_job["metadata"]["annotations"]["helm.sh/hook"],
                         "pre-install,pre-upgrade")
        # migrations.migrateOnlyFlag is on by default: the wait runs first, as an init
        # container, then one container per service runs its migrations.
        container = pod_spec(production_job)["initContainers"][0]
        variables = {e["name"]: e.get("value") for e in container["env"]}
        self.assertEqual(variables["PGHOST"], "postgres.db.hospital.example")
        self.assertEqual(variables["PGSSLMODE"], "verify-full")
        self.assertEqual(variables["PGSSLROOTCERT"], "/etc/ailab/postgres-ca/ca.crt")
        self.assertIn("server_version_num", container["command"][-1])
        waiting_only = RenderedChart([deploylib.PRODUCTION_VALUES],
                                     ["migrations.migrateOnlyFlag=false"])
        spec = pod_spec(waiting_only.jobs[deploylib.name("db-check")])
        self.assertEqual([c["name"] for c in spec["containers"]], ["wait-for-database"])
        spec = pod_spec(production_job)
        self.assertEqual([c["name"] for c in spec["initContainers"]], ["wait-for-database"])
        self.assertEqual(sorted(c["name"] for c in spec["containers"]),
                         sorted(f"migrate-{c}" for c in ("catalog", "ingest", "annotation",
                                                         "training", "inference",
                                                         "evaluation", "gateway")))
        for container in spec["containers"]:
            self.assertEqual(container["command"][-1], "--migrate_only")

    def test_smoke_test_pod(self):
        pod = self.default.pods[deploylib.name("smoke-test")]
        self.assertEqual(pod["metadata"]["annotations"]["helm.sh/hook"], "test")
        container = pod["spec"]["containers"][0]
        self.assertEqual(container["command"][:3], ["/usr/local/bin/ailab", "platform", "status"])
        self.assertEqual(container["envFrom"][0]["configMapRef"]["name"], deploylib.name("shared"))


if __name__ == "__main__":
    deploylib.run_tests("__main__")
