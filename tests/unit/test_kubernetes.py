"""The Kubernetes manifests in deploy/k8s: the base and each overlay rendered offline with
`kubectl kustomize` (skipped without kubectl; the base files are also read directly, so those
checks always run), every document validated against the Kubernetes API schemas
(kubernetes-validate, strict), then what a cluster deployment needs checked. No cluster, no
network.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from agent.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
TARGETS = ("base", "overlays/staging", "overlays/production")
K8S_VERSION = kubernetes_validate.latest_version()
Doc = dict[str, Any]
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
FIELDS = {name.upper() for name in Settings.model_fields}
SECRET_SETTINGS = {
    name.upper() for name, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation)
}
WORKER_CHECK = ["healthcheck", "process", "crypto-assistant", "worker"]


def documented_variables() -> set[str]:
    """The variables `.env.example` documents (`NAME=` lines)."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def base_files() -> list[Doc]:
    """The base's manifests read straight from disk (no kubectl needed)."""
    docs: list[Doc] = []
    for path in sorted(BASE.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def render(target: str, workdir: Path) -> list[Doc]:
    """`kubectl kustomize` of a copy of deploy/k8s in which each overlay's secrets.env is its
    secrets.env.example (the real file is never committed)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not on PATH: only the base files (read directly) are checked")
    tree = workdir / "k8s"
    if not tree.exists():
        shutil.copytree(K8S, tree, ignore=shutil.ignore_patterns("secrets.env"))
        for example in tree.glob("overlays/*/secrets.env.example"):
            shutil.copy(example, example.with_name("secrets.env"))
    command = [kubectl, "kustomize", str(tree / target)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=["base-files", *TARGETS])
def manifests(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Every document of one target: the base files as they are, or a kustomize render."""
    if request.param == "base-files":
        return base_files()
    return render(request.param, tmp_path_factory.mktemp("k8s"))


def named(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def pod_specs(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def containers(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    for owner, spec in pod_specs(docs):
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            yield f"{owner}/{container['name']}", container


def container(docs: list[Doc], part: str) -> Doc:
    """The container of the api, worker or bot Deployment, or of the migrate Job."""
    owner = named(docs, "Job" if part == "migrate" else "Deployment")[f"crypto-assistant-{part}"]
    return owner["spec"]["template"]["spec"]["containers"][0]


def secret_values(secret: Doc) -> dict[str, str]:
    values = dict(secret.get("stringData") or {})
    for key, value in (secret.get("data") or {}).items():
        values[key] = base64.b64decode(value or "").decode()
    return values


# checkers: each returns what is wrong (empty = fine), so a test can also break them


def schema_problems(docs: list[Doc]) -> list[str]:
    """Schema errors (typos, wrong types, unknown fields) here rather than at apply time."""
    problems = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{doc['kind']} {doc['metadata']['name']}: {exc}")
    return problems


def resource_problems(docs: list[Doc]) -> list[str]:
    return [
        f"{owner}: no {section}.{resource}"
        for owner, c in containers(docs)
        for section in ("requests", "limits")
        for resource in ("cpu", "memory")
        if resource not in ((c.get("resources") or {}).get(section) or {})
    ]


def probe_problems(docs: list[Doc]) -> list[str]:
    problems = [
        f"{name}: no livenessProbe"
        for name, doc in named(docs, "Deployment").items()
        for c in doc["spec"]["template"]["spec"]["containers"]
        if "livenessProbe" not in c
    ]
    api = container(docs, "api")
    if (api.get("readinessProbe") or {}).get("httpGet", {}).get("path") != "/health":
        problems.append("api: no readinessProbe on GET /health")
    if "httpGet" not in (api.get("livenessProbe") or {}):
        problems.append("api: no HTTP livenessProbe")
    startup = api.get("startupProbe") or {}
    if startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3) < 300:
        problems.append("api: the startupProbe allows less than 5 minutes to load")
    worker = container(docs, "worker")
    if (worker.get("livenessProbe") or {}).get("exec", {}).get("command") != WORKER_CHECK:
        problems.append("worker: the livenessProbe is not the process check")
    return problems


def reference_problems(docs: list[Doc]) -> list[str]:
    problems = []
    config, secrets = set(named(docs, "ConfigMap")), set(named(docs, "Secret"))
    for owner, c in containers(docs):
        refs = {(k, v["name"]) for e in c.get("envFrom", []) for k, v in e.items()}
        for kind, existing in (("configMapRef", config), ("secretRef", secrets)):
            found = {name for k, name in refs if k == kind}
            if not found or not found <= existing:
                problems.append(f"{owner}: {kind} {sorted(found)} not in {sorted(existing)}")
    claims = set(named(docs, "PersistentVolumeClaim"))
    for owner, spec in pod_specs(docs):
        for volume in spec.get("volumes", []):
            claim = volume.get("persistentVolumeClaim", {}).get("claimName")
            if claim is not None and claim not in claims:
                problems.append(f"{owner}: claim {claim} does not exist")
    deployments = named(docs, "Deployment")
    targets = set()
    for name, hpa in named(docs, "HorizontalPodAutoscaler").items():
        ref = hpa["spec"]["scaleTargetRef"]
        targets.add(ref["name"])
        if ref["kind"] != "Deployment" or ref["name"] not in deployments:
            problems.append(f"HPA {name}: targets missing {ref['kind']} {ref['name']}")
    if not {"crypto-assistant-api", "crypto-assistant-worker"} <= targets:
        problems.append(f"no HPA for the api and the worker: {sorted(targets)}")
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in deployments.values()]
    for name, service in named(docs, "Service").items():
        selector = service["spec"]["selector"].items()
        if not any(selector <= labels.items() for labels in pod_labels):
            problems.append(f"Service {name} selects no Deployment's pods")
    return problems


def security_problems(docs: list[Doc]) -> list[str]:
    problems = []
    for owner, spec in pod_specs(docs):
        pod = spec.get("securityContext") or {}
        if pod.get("runAsNonRoot") is not True or pod.get("runAsUser") != 10001:
            problems.append(f"{owner}: not runAsNonRoot as the image's user 10001")
        for c in spec["containers"]:
            context = c.get("securityContext") or {}
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{owner}/{c['name']}: writable root filesystem")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{owner}/{c['name']}: allows privilege escalation")
            mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
            if not {"/data", "/tmp", "/home/app"} <= mounts:
                problems.append(f"{owner}/{c['name']}: DATA_HOME, /tmp or HOME not writable")
    return problems


def config_problems(docs: list[Doc]) -> list[str]:
    documented = documented_variables()
    problems = []
    for name, config in named(docs, "ConfigMap").items():
        for key in config.get("data") or {}:
            if key not in documented:
                problems.append(f"{name}: {key} is not a variable of .env.example")
            if key in SECRET_SETTINGS:
                problems.append(f"{name}: {key} is a secret")
    # a misspelt variable would be ignored silently by the app: each must be a setting
    for owner, c in containers(docs):
        problems += [
            f"{owner}: {e['name']} is no setting"
            for e in c.get("env", [])
            if e["name"] not in FIELDS
        ]
    return problems


def secret_problems(docs: list[Doc]) -> list[str]:
    return [
        f"{name}: {key} holds a value, not a placeholder"
        for name, secret in named(docs, "Secret").items()
        for key, value in secret_values(secret).items()
        if value.strip() and "REPLACE_ME" not in value
    ]


@pytest.mark.parametrize(
    "checker",
    [
        *(schema_problems, resource_problems, probe_problems),
        *(reference_problems, security_problems, config_problems),
    ],
)
def test_manifests_pass_the_checker(
    manifests: list[Doc], checker: Callable[[list[Doc]], list[str]]
) -> None:
    """Schemas, requests and limits, probes, references, security, settings, per target."""
    assert checker(manifests) == []


def test_the_secret_is_a_template_with_every_secret_setting(manifests: list[Doc]) -> None:
    """No real secret in the repository, and a slot for each secret the app reads."""
    assert secret_problems(manifests) == []
    keys = set(secret_values(named(manifests, "Secret")["crypto-assistant-secrets"]))
    # DATABASE_URL, REDIS_URL, ADMIN_API_KEY, TELEGRAM_BOT_TOKEN, OPENAI_API_KEY, ... and nothing
    # that is not a secret (that belongs in the ConfigMap)
    assert keys == SECRET_SETTINGS


def test_workloads_run_the_right_commands(manifests: list[Doc]) -> None:
    """The API serves without a worker of its own, workers and the bot run, migrations apply."""
    api = container(manifests, "api")
    assert api["args"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    assert {"name": "START_WORKER", "value": "false"} in api["env"]
    assert container(manifests, "worker")["args"] == ["worker"]
    assert container(manifests, "migrate")["args"] == ["db", "upgrade"]
    for part, image in {"api": "api", "worker": "job", "bot": "bot", "migrate": "job"}.items():
        found = container(manifests, part)["image"]
        assert re.search(rf"(^|/)crypto-assistant-{image}:", found), f"{part}: {found}"
    deployments = named(manifests, "Deployment")
    bot = deployments["crypto-assistant-bot"]["spec"]
    assert bot["replicas"] == 1 and bot["strategy"]["type"] == "Recreate", "one Telegram poller"
    for name in ("crypto-assistant-api", "crypto-assistant-worker"):
        assert "replicas" not in deployments[name]["spec"], f"{name}: the HPA owns the count"
    worker_pod = deployments["crypto-assistant-worker"]["spec"]["template"]["spec"]
    assert worker_pod["terminationGracePeriodSeconds"] >= 60, "time to release a job"
    assert named(manifests, "Job")["crypto-assistant-migrate"]["spec"]["backoffLimit"] >= 1


def test_base_kustomization_lists_every_manifest() -> None:
    """The direct read of base/ and the kustomize render see the same files."""
    listed = yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"]
    on_disk = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(listed) == on_disk


@pytest.mark.parametrize("overlay", ["staging", "production"])
def test_overlays_set_namespace_images_and_bounds(overlay: str, tmp_path: Path) -> None:
    """An overlay puts everything in its namespace, pulls from a registry, bounds the HPAs."""
    assert "secrets.env" in (K8S / ".gitignore").read_text().split(), "real secrets stay local"
    docs = render(f"overlays/{overlay}", tmp_path)
    (namespace,) = named(docs, "Namespace")
    assert namespace == f"crypto-assistant-{overlay}"
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == namespace, doc["metadata"]["name"]
    for owner, c in containers(docs):
        assert "/" in c["image"].split(":")[0], f"{owner}: {c['image']} names no registry"
    hpas = named(docs, "HorizontalPodAutoscaler")
    for name, hpa in hpas.items():
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"], name
    if overlay == "production":
        assert hpas["crypto-assistant-api"]["spec"]["minReplicas"] >= 2, "no single API pod"
        (ingress,) = named(docs, "Ingress").values()
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        assert backend["name"] in named(docs, "Service")
        assert ingress["spec"]["tls"], "TLS at the Ingress"


C0 = "Deployment/crypto-assistant-api:spec.template.spec.containers.0"
CONFIG = "ConfigMap/crypto-assistant-config:data"
BROKEN: dict[str, tuple[str, Any, Callable[[list[Doc]], list[str]]]] = {
    "unknown field": ("Deployment/crypto-assistant-worker:spec.replica", 2, schema_problems),
    "no limits": (f"{C0}.resources.limits", None, resource_problems),
    "no readiness": (f"{C0}.readinessProbe", None, probe_problems),
    "lost config": (f"{C0}.envFrom.0.configMapRef.name", "x", reference_problems),
    "lost hpa target": (
        "HorizontalPodAutoscaler/crypto-assistant-worker:spec.scaleTargetRef.name",
        "crypto-assistant-workers",
        reference_problems,
    ),
    "root": (
        "Deployment/crypto-assistant-bot:spec.template.spec.securityContext.runAsUser",
        0,
        security_problems,
    ),
    "writable": (f"{C0}.securityContext.readOnlyRootFilesystem", False, security_problems),
    "undocumented": (f"{CONFIG}.NOT_A_SETTING", "1", config_problems),
    "secret in config": (f"{CONFIG}.OPENAI_API_KEY", "sk-1", config_problems),
    "misspelt env": (f"{C0}.env.0.name", "START_WORKERS", config_problems),
    "real secret": (
        "Secret/crypto-assistant-secrets:stringData.DATABASE_URL",
        "postgresql://u:pw@db/x",
        secret_problems,
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_the_checkers_catch_broken_manifests(case: str) -> None:
    """Each checker passes the real base and fails once one thing in it is broken."""
    path, value, checker = BROKEN[case]
    docs = base_files()
    assert checker(docs) == []
    (kind, name), dotted = path.split(":")[0].split("/"), path.split(":")[1]
    node: Any = named(docs, kind)[name]
    *parents, last = [int(part) if part.isdigit() else part for part in dotted.split(".")]
    for part in parents:
        node = node[part]
    if value is None:
        del node[last]
    else:
        node[last] = value
    assert checker(docs) != []
