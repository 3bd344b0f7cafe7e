"""Offline checks of the Kubernetes manifests in deploy/k8s.

Each overlay is rendered with `kubectl kustomize`. Every rendered object is then
validated: built-in kinds with kubernetes-validate (strict, so unknown fields fail),
custom resources (KEDA, CloudNativePG, RabbitMQ) with the hand-written JSON Schemas in
deploy/k8s/schemas/. On top of that the tests assert what the platform relies on:
one API Deployment, Service, worker Deployment and ScaledObject per service, the
Ingress routes, probes, resources, secret wiring, and that prod is bigger than dev.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SCHEMAS = K8S / "schemas"

SERVICES = ("filing", "importer", "verification", "reporting", "detection")
NAMESPACES = {"dev": "icp-dev", "prod": "icp-prod"}
OVERLAYS = tuple(NAMESPACES)
# Kubernetes version whose built-in schemas (bundled with kubernetes-validate) are used.
K8S_VERSION = "1.30"
CLUSTER_SCOPED = {"Namespace"}
QUANTITY = re.compile(r"(\d+(\.\d*)?|\.\d+)([numkMGTPE]|[KMGTPE]i|[eE][+-]?\d+)?")


# --------------------------------------------------------------------------- helpers


@functools.cache
def _render(overlay: str) -> tuple[dict, ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail(
            "kubectl is not on PATH. It is required to render deploy/k8s "
            "(`kubectl kustomize`); install kubectl >= 1.27 (bundles kustomize v5).",
            pytrace=False,
        )
    proc = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"`kubectl kustomize` of overlay {overlay!r} failed:\n{proc.stderr}", pytrace=False)
    return tuple(doc for doc in yaml.safe_load_all(proc.stdout) if doc)


def render(overlay: str) -> list[dict]:
    """Rendered objects of an overlay (a deep copy: tests may mutate it)."""
    return copy.deepcopy(list(_render(overlay)))


@functools.cache
def crd_validators() -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    validators = {}
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text())
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        for gvk in schema["x-kubernetes-group-version-kind"]:
            key = (f"{gvk['group']}/{gvk['version']}", gvk["kind"])
            validators[key] = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validators


def validate(obj: dict) -> None:
    """Raise if `obj` does not match its schema (or no schema is known for its kind)."""
    validator = crd_validators().get((obj.get("apiVersion"), obj.get("kind")))
    if validator is not None:
        validator.validate(obj)
    else:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def ident(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def by_kind(objs: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == kind}


def container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{ident(deployment)}: expected exactly one container"
    return containers[0]


def env_map(c: dict) -> dict[str, dict]:
    return {e["name"]: e for e in c.get("env", [])}


def secret_data(secret: dict) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
    return data | secret.get("stringData", {})


def _millicores(cpu: str | int) -> float:
    cpu = str(cpu)
    return float(cpu[:-1]) if cpu.endswith("m") else float(cpu) * 1000


def resolve_port(c: dict, port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in c.get("ports", []) if "name" in p}
    assert port in named, f"named port {port!r} not declared by container {c['name']}"
    return named[port]


# --------------------------------------------------------------------------- schemas & validation


def test_vendored_schemas_are_valid_json_schemas():
    kinds = {kind for _, kind in crd_validators()}
    assert kinds == {"ScaledObject", "TriggerAuthentication", "Cluster", "Pooler", "RabbitmqCluster"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_validates(overlay):
    errors = []
    for obj in render(overlay):
        try:
            validate(obj)
        except jsonschema.ValidationError as e:
            where = "/".join(str(p) for p in e.absolute_path)
            errors.append(f"{ident(obj)}: {where}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            errors.append(f"{ident(obj)}: no schema: {e.message}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lands_in_the_overlay_namespace(overlay):
    objs = render(overlay)
    ns = NAMESPACES[overlay]
    assert ns in by_kind(objs, "Namespace")
    wrong = [
        ident(o) for o in objs if o["kind"] not in CLUSTER_SCOPED and o["metadata"].get("namespace") != ns
    ]
    assert not wrong, f"not in namespace {ns}: {wrong}"


# --------------------------------------------------------------------------- negative tests


def _first(objs: list[dict], kind: str) -> dict:
    return next(o for o in objs if o["kind"] == kind)


def test_validation_rejects_an_unknown_deployment_field():
    deployment = _first(render("dev"), "Deployment")
    validate(deployment)  # sanity: the untouched object passes
    container(deployment)["livenessProbes"] = container(deployment)["livenessProbe"]  # typo
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)


def test_validation_rejects_a_wrongly_typed_deployment_field():
    deployment = _first(render("prod"), "Deployment")
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)


def test_validation_rejects_broken_custom_resources():
    objs = render("dev")
    scaled = _first(objs, "ScaledObject")
    validate(scaled)
    bad_value = copy.deepcopy(scaled)
    bad_value["spec"]["triggers"][0]["metadata"]["value"] = 100  # KEDA metadata is string-only
    with pytest.raises(jsonschema.ValidationError):
        validate(bad_value)
    typo = copy.deepcopy(scaled)
    typo["spec"]["maxReplicas"] = typo["spec"].pop("maxReplicaCount")
    with pytest.raises(jsonschema.ValidationError):
        validate(typo)
    cluster = _first(objs, "Cluster")
    cluster["spec"]["managed"]["roles"][0]["passwordSecrets"] = {"name": "x"}
    with pytest.raises(jsonschema.ValidationError):
        validate(cluster)
    pooler = _first(objs, "Pooler")
    validate(pooler)
    for broken in ({"poolMode": "statements"}, {"parameters": {"default_pool_size": 10}}, {"poolmode": "session"}):
        bad = copy.deepcopy(pooler)
        bad["spec"]["pgbouncer"] = {**{k: v for k, v in bad["spec"]["pgbouncer"].items() if k != "poolMode"}, **broken}
        with pytest.raises(jsonschema.ValidationError):
            validate(bad)


def test_validation_rejects_kinds_without_a_schema():
    obj = {"apiVersion": "example.com/v1", "kind": "Unknown", "metadata": {"name": "x"}}
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        validate(obj)


# --------------------------------------------------------------------------- workloads


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_api_worker_service_and_scaler_per_service(overlay):
    objs = render(overlay)
    deployments = by_kind(objs, "Deployment")
    assert set(deployments) == {f"icp-{s}-{role}" for s in SERVICES for role in ("api", "worker")} | {"icp-console"}
    assert set(by_kind(objs, "Service")) == {f"icp-{s}" for s in SERVICES} | {"icp-console"}
    assert set(by_kind(objs, "ScaledObject")) == {f"icp-{s}-worker" for s in SERVICES}


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("role", ["api", "worker"])
@pytest.mark.parametrize("svc", SERVICES)
def test_deployment_shape(overlay, svc, role):
    d = by_kind(render(overlay), "Deployment")[f"icp-{svc}-{role}"]
    labels = {"app.kubernetes.io/name": "icp", "app.kubernetes.io/component": f"{svc}-{role}"}
    assert labels.items() <= d["metadata"]["labels"].items()
    assert d["spec"]["selector"]["matchLabels"] == labels
    assert labels.items() <= d["spec"]["template"]["metadata"]["labels"].items()

    c = container(d)
    assert c["args"] == ["serve", svc, f"--{role}"]
    assert {"name": "http", "containerPort": 8080, "protocol": "TCP"} in c["ports"]

    for probe, path in (("livenessProbe", f"/api/{svc}/healthz"), ("readinessProbe", f"/api/{svc}/readyz")):
        assert probe in c, f"{ident(d)} has no {probe}"
        get = c[probe]["httpGet"]
        assert get["path"] == path
        assert resolve_port(c, get["port"]) == 8080

    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"].get(kind, {})), f"{ident(d)}: {kind} incomplete"
        # kubernetes-validate does not check the Quantity syntax
        for value in c["resources"][kind].values():
            assert QUANTITY.fullmatch(str(value)), f"{ident(d)}: bad quantity {value!r}"
    assert _millicores(c["resources"]["requests"]["cpu"]) <= _millicores(c["resources"]["limits"]["cpu"])

    env = env_map(c)
    assert env["ICP_SERVICE"]["value"] == svc
    refs = {name: e["valueFrom"]["secretKeyRef"] for name, e in env.items() if "valueFrom" in e}
    assert refs["ICP_DATABASE_URL"] == {"name": "icp-secrets", "key": f"{svc}-database-url"}
    assert refs["ICP_DATABASE_DIRECT_URL"] == {"name": "icp-secrets", "key": f"{svc}-database-direct-url"}
    assert refs["ICP_SECRET_KEY"] == {"name": "icp-secrets", "key": "ICP_SECRET_KEY"}
    assert refs["ICP_AMQP_URL"] == {"name": "icp-secrets", "key": "ICP_AMQP_URL"}
    assert {"configMapRef": {"name": "icp-config"}} in c["envFrom"]
    # envFrom must not pull in icp-secrets: it would hand every service every database password
    assert not any("secretRef" in e for e in c["envFrom"])

    pod = d["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    tmp = {m["name"] for m in c["volumeMounts"] if m["mountPath"] == "/tmp"}
    assert any(v["name"] in tmp and "emptyDir" in v for v in pod["volumes"])

    if role == "worker":
        assert "replicas" not in d["spec"], "KEDA owns worker replicas; do not pin them"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("svc", SERVICES)
def test_service_targets_the_api_pods(overlay, svc):
    objs = render(overlay)
    service = by_kind(objs, "Service")[f"icp-{svc}"]
    api = by_kind(objs, "Deployment")[f"icp-{svc}-api"]
    pod_labels = api["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    assert resolve_port(container(api), port["targetPort"]) == 8080


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("svc", SERVICES)
def test_worker_scales_on_its_inbox_queue(overlay, svc):
    objs = render(overlay)
    so = by_kind(objs, "ScaledObject")[f"icp-{svc}-worker"]["spec"]
    assert so["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": f"icp-{svc}-worker",
    }
    assert 1 <= so["minReplicaCount"] <= so["maxReplicaCount"]
    (trigger,) = so["triggers"]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"] == {
        "protocol": "http",
        "mode": "QueueLength",
        "value": "100",
        "queueName": f"{svc}.inbox",
        "vhostName": "/",
    }
    auth_name = trigger["authenticationRef"]["name"]
    auth = by_kind(objs, "TriggerAuthentication")[auth_name]
    host_refs = [r for r in auth["spec"]["secretTargetRef"] if r["parameter"] == "host"]
    assert host_refs == [{"parameter": "host", "name": "icp-secrets", "key": "rabbitmq-management-url"}]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_routes_each_api_prefix_to_its_service(overlay):
    objs = render(overlay)
    ingress = by_kind(objs, "Ingress")["icp-gateway"]
    services = by_kind(objs, "Service")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    routes = {}
    for rule in ingress["spec"]["rules"]:
        for p in rule["http"]["paths"]:
            assert p["pathType"] == "Prefix"
            backend = p["backend"]["service"]
            assert backend["name"] in services, f"{p['path']}: no Service {backend['name']}"
            ports = services[backend["name"]]["spec"]["ports"]
            offered = [{"name": pt["name"]} for pt in ports if "name" in pt] + [
                {"number": pt["port"]} for pt in ports
            ]
            assert backend["port"] in offered, f"{p['path']}: port {backend['port']} not on {backend['name']}"
            routes[p["path"]] = backend["name"]
    expected = {f"/api/{s}/": f"icp-{s}" for s in SERVICES} | {"/": "icp-console"}
    assert routes == expected


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_console_serves_static_files_without_secrets(overlay):
    objs = render(overlay)
    d = by_kind(objs, "Deployment")["icp-console"]
    labels = {"app.kubernetes.io/name": "icp", "app.kubernetes.io/component": "console"}
    assert d["spec"]["selector"]["matchLabels"] == labels
    c = container(d)
    assert c["args"] == ["serve", "console"]
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        assert c[probe]["httpGet"]["path"] == path
        assert resolve_port(c, c[probe]["httpGet"]["port"]) == 8080
    # no database, broker or session key: the console only serves files
    assert not any("valueFrom" in e for e in c.get("env", []))
    assert not any("secretRef" in e for e in c.get("envFrom", []))
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind])
    pod = d["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    service = by_kind(objs, "Service")["icp-console"]
    assert service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
    (port,) = service["spec"]["ports"]
    assert resolve_port(c, port["targetPort"]) == 8080
    assert d["spec"]["replicas"] == (2 if overlay == "prod" else 1)


# --------------------------------------------------------------------------- config, secrets, data stores


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_map(overlay):
    config = by_kind(render(overlay), "ConfigMap")["icp-config"]["data"]
    assert {
        "ICP_ENV": "prod",
        "ICP_LOG_LEVEL": "info",
        "ICP_PREFETCH": "200",
        "ICP_DELIVERY_LIMIT": "20",
        "ICP_RETRY_DELAYS": "1,5,30,120,600",
        "ICP_OUTBOX_BATCH": "500",
        "ICP_TOKEN_TTL": "28800",
        "ICP_TRUSTED_PROXIES": "10.0.0.0/8",  # the ingress pods: per-client limits count the real client
    }.items() <= config.items()
    # every key is a setting some process reads, with a value it accepts
    from services.importer.settings import ImportSettings
    from services.reporting.settings import ReportingSettings
    from shared.config import Settings

    known = {f"ICP_{n.upper()}" for n in Settings.model_fields} | {
        f"ICP_IMPORT_{n.upper()}" for n in ImportSettings.model_fields
    } | {f"ICP_REPORTING_{n.upper()}" for n in ReportingSettings.model_fields}
    assert set(config) <= known, set(config) - known
    Settings(**{k[4:].lower(): v for k, v in config.items() if k[4:].lower() in Settings.model_fields})
    ReportingSettings(**{k[14:].lower(): v for k, v in config.items() if k.startswith("ICP_REPORTING_")})
    assert not any("PASSWORD" in k or "URL" in k or "SECRET" in k for k in config)


def test_dev_secrets_cover_every_reference_and_agree_with_each_other():
    objs = render("dev")
    secrets = by_kind(objs, "Secret")
    # every secretKeyRef used by a Deployment or by KEDA resolves
    refs = set()
    for d in by_kind(objs, "Deployment").values():
        for e in container(d).get("env", []):
            if "secretKeyRef" in e.get("valueFrom", {}):
                refs.add((e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"]))
    for auth in by_kind(objs, "TriggerAuthentication").values():
        refs |= {(r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]}
    missing = sorted(r for r in refs if r[1] not in secret_data(secrets.get(r[0], {})))
    assert not missing, f"secret keys referenced but not defined: {missing}"

    app = secret_data(secrets["icp-secrets"])
    # KEDA runs in its own namespace: the management URL must be the FQDN in this namespace
    mgmt = urlsplit(app["rabbitmq-management-url"])
    assert mgmt.scheme == "http" and mgmt.hostname == "icp-mq.icp-dev.svc" and mgmt.port == 15672
    assert mgmt.path == "/"
    amqp = urlsplit(app["ICP_AMQP_URL"])
    assert (amqp.username, amqp.password) == (mgmt.username, mgmt.password)
    # the database URL of each service carries exactly the role password CNPG sets
    for svc in SERVICES:
        db = secrets[f"icp-db-{svc}"]
        assert db["type"] == "kubernetes.io/basic-auth"
        url = urlsplit(app[f"{svc}-database-url"])
        assert (url.username, url.password) == (svc, secret_data(db)["password"])
        assert secret_data(db)["username"] == svc
        # pool traffic through the PgBouncer Pooler, LISTEN and migrations straight to the primary
        assert (url.hostname, url.port, url.path) == ("icp-db-pooler-rw", 5432, "/icp")
        direct = urlsplit(app[f"{svc}-database-direct-url"])
        assert (direct.username, direct.password) == (url.username, url.password)
        assert (direct.hostname, direct.port, direct.path) == ("icp-db-rw", 5432, "/icp")
    # every placeholder is recognisable as one
    placeholders = [app] + [secret_data(secrets[f"icp-db-{svc}"]) for svc in SERVICES]
    assert all("CHANGE_ME" in v for data in placeholders for k, v in data.items() if k != "username")


def test_prod_renders_no_placeholder_secrets():
    objs = render("prod")
    assert by_kind(objs, "Secret") == {}
    assert "CHANGE_ME" not in yaml.safe_dump_all(objs)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_database_has_a_role_and_schema_per_service(overlay):
    cluster = by_kind(render(overlay), "Cluster")["icp-db"]["spec"]
    assert re.fullmatch(r"ghcr\.io/cloudnative-pg/postgresql:15(\.\d+)?", cluster["imageName"])
    initdb = cluster["bootstrap"]["initdb"]
    assert initdb["database"] == "icp"
    roles = {r["name"]: r for r in cluster["managed"]["roles"]}
    assert set(roles) == set(SERVICES)
    sql = initdb["postInitApplicationSQL"]
    for svc in SERVICES:
        assert roles[svc]["login"] is True
        assert roles[svc]["passwordSecret"] == {"name": f"icp-db-{svc}"}
        create_schema = f"CREATE SCHEMA IF NOT EXISTS {svc} AUTHORIZATION {svc};"
        assert create_schema in sql
        # shared/db.migrate runs CREATE SCHEMA IF NOT EXISTS as the service role, which
        # needs CREATE on the database even when the schema exists
        assert f"GRANT CREATE ON DATABASE icp TO {svc};" in sql
        # the role must exist before the schema can be owned by it (managed roles come later)
        create_role = next(i for i, s in enumerate(sql) if f"CREATE ROLE {svc} NOLOGIN" in s)
        assert create_role < sql.index(create_schema)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pool_traffic_goes_through_a_transaction_mode_pgbouncer(overlay):
    """README "Connection budget": PgBouncer in transaction mode in front of the primary, the services told
    so (no session settings at connect), asyncpg's prepared statements kept working (PgBouncer >= 1.21
    tracks them), and the server connections within max_connections next to one LISTEN per pod."""
    objs = render(overlay)
    pooler = by_kind(objs, "Pooler")["icp-db-pooler-rw"]["spec"]
    assert pooler["cluster"] == {"name": "icp-db"} and pooler["type"] == "rw"
    bouncer = pooler["pgbouncer"]
    assert bouncer["poolMode"] == "transaction"
    assert int(bouncer["parameters"]["max_prepared_statements"]) > 0
    config = by_kind(objs, "ConfigMap")["icp-config"]["data"]
    assert config["ICP_DATABASE_PGBOUNCER"] == "true"
    assert config.get("ICP_DB_STATEMENT_CACHE_SIZE", "100") != "0"  # prepared statements stay on
    cluster = by_kind(objs, "Cluster")["icp-db"]["spec"]
    max_connections = int(cluster["postgresql"]["parameters"].get("max_connections", 100))
    server = pooler["instances"] * len(SERVICES) * int(bouncer["parameters"]["default_pool_size"])
    pods = sum(d["spec"].get("replicas", 0) for n, d in by_kind(objs, "Deployment").items() if n.endswith("-api"))
    pods += sum(s["spec"]["maxReplicaCount"] for s in by_kind(objs, "ScaledObject").values())
    assert server + pods + 20 <= max_connections, (server, pods, max_connections)  # 20: operator, migrations


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rabbitmq_cluster(overlay):
    rmq = by_kind(render(overlay), "RabbitmqCluster")["icp-mq"]["spec"]
    assert rmq["image"] == "rabbitmq:3.10-management"
    assert {"cpu", "memory"} <= set(rmq["resources"]["requests"]) & set(rmq["resources"]["limits"])


# --------------------------------------------------------------------------- dev vs prod


def test_prod_is_bigger_than_dev():
    dev, prod = render("dev"), render("prod")
    for svc in SERVICES:
        name = f"icp-{svc}-api"
        dev_api, prod_api = by_kind(dev, "Deployment")[name], by_kind(prod, "Deployment")[name]
        assert dev_api["spec"]["replicas"] == 1
        assert prod_api["spec"]["replicas"] >= 2
        so = f"icp-{svc}-worker"
        dev_max = by_kind(dev, "ScaledObject")[so]["spec"]["maxReplicaCount"]
        prod_max = by_kind(prod, "ScaledObject")[so]["spec"]["maxReplicaCount"]
        assert prod_max > dev_max
    assert by_kind(dev, "Cluster")["icp-db"]["spec"]["instances"] == 1
    assert by_kind(prod, "Cluster")["icp-db"]["spec"]["instances"] == 3
    assert by_kind(dev, "RabbitmqCluster")["icp-mq"]["spec"]["replicas"] == 1
    assert by_kind(prod, "RabbitmqCluster")["icp-mq"]["spec"]["replicas"] == 3


def test_prod_has_a_pod_disruption_budget_per_api():
    objs = render("prod")
    pdbs = by_kind(objs, "PodDisruptionBudget")
    deployments = by_kind(objs, "Deployment")
    assert set(pdbs) == {f"icp-{s}-api" for s in SERVICES} | {"icp-console"}
    for name, pdb in pdbs.items():
        api = deployments[name]
        assert pdb["spec"]["selector"]["matchLabels"] == api["spec"]["selector"]["matchLabels"]
        # minAvailable below the replica count, or the PDB blocks every drain
        assert pdb["spec"]["minAvailable"] < api["spec"]["replicas"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_set_by_the_overlay(overlay):
    for d in by_kind(render(overlay), "Deployment").values():
        image = container(d)["image"]
        name, _, tag = image.rpartition(":")
        assert name and tag, f"{ident(d)}: image {image!r} has no tag"
        if overlay == "prod":
            assert tag not in ("latest", "dev") and re.fullmatch(r"\d+\.\d+\.\d+", tag), image


def test_the_dev_overlay_passes_the_production_start_check():
    """icp-config says ICP_ENV=prod in every overlay, so the dev overlay's placeholder key must be one a
    prod process accepts (shared.config.startup_problem), or nothing would start on a dev cluster."""
    from shared.config import Settings, startup_problem

    objs = render("dev")
    config = by_kind(objs, "ConfigMap")["icp-config"]["data"]
    key = secret_data(by_kind(objs, "Secret")["icp-secrets"])["ICP_SECRET_KEY"]
    assert config["ICP_ENV"] == "prod"
    assert startup_problem(Settings(env=config["ICP_ENV"], secret_key=key)) is None
