"""Deployment files: docker-compose.yml, Dockerfile and .env.example agree with Settings."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import yaml

from lrs.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
PROMETHEUS = ROOT / "deploy" / "prometheus.yml"
OPERATIONS = ROOT / "docs" / "operations.md"
SETTINGS_VARIABLES = {f"LRS_{name.upper()}" for name in Settings.model_fields}


# -- reading the files ---------------------------------------------------------------------


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def compose_environment(service: str) -> dict[str, str]:
    """A service's `environment:`, mapping or list form, values as the container sees them."""
    environment = compose()["services"][service].get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: "" if value is None else str(value) for name, value in environment.items()}


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's stages, each a list of (INSTRUCTION, arguments), continuations joined."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):  # comments (and parser directives) are skipped
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[list[tuple[str, str]]] = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def dockerfile_env(stage: list[tuple[str, str]]) -> dict[str, str]:
    """The variables that the ENV instructions of one stage set."""
    variables: dict[str, str] = {}
    for instruction, arguments in stage:
        if instruction != "ENV":
            continue
        words = shlex.split(arguments)
        if "=" not in words[0]:  # the legacy form, `ENV NAME value`
            variables[words[0]] = " ".join(words[1:])
        else:
            for word in words:
                name, _, value = word.partition("=")
                variables[name] = value
    return variables


def exec_form(stage: list[tuple[str, str]], instruction: str) -> list[str] | None:
    """The last CMD or ENTRYPOINT of a stage as an argv list (None if absent or shell form)."""
    found = [arguments for name, arguments in stage if name == instruction]
    if not found or not found[-1].startswith("["):
        return None
    argv: list[str] = json.loads(found[-1])
    return argv


def render_default(value: Any) -> str:
    """A Settings value as it is written in an environment variable (lists as JSON)."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value.value if isinstance(value, Enum) else value)


def settings_from_environment(monkeypatch: pytest.MonkeyPatch,
                              variables: dict[str, str]) -> Settings:
    """Settings built the way the container builds them: from these variables only."""
    for name in [n for n in os.environ if n.startswith("LRS_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return Settings()


def env_example_entries() -> dict[str, tuple[str, str]]:
    """.env.example's variables: name → (value shown, the comment lines just above, joined)."""
    entries: dict[str, tuple[str, str]] = {}
    comment: list[str] = []
    for raw in ENV_EXAMPLE.read_text().splitlines():
        line = raw.strip()
        body = line.lstrip("#").strip()
        if body.startswith("LRS_") and "=" in body:
            name, value = body.split("=", 1)
            entries[name] = (value, " ".join(comment))
            comment = []
        elif line.startswith("#"):
            comment.append(body)
        else:
            comment = []
    return entries


DEPLOYED_ENVIRONMENTS = {
    "Dockerfile": lambda: dockerfile_env(dockerfile_stages()[-1]),
    "docker-compose.yml lrs": lambda: compose_environment("lrs"),
    # What the lrs container really sees: the image's ENV with compose's on top.
    "image with compose": lambda: {**dockerfile_env(dockerfile_stages()[-1]),
                                   **compose_environment("lrs")},
}


# -- docker-compose.yml --------------------------------------------------------------------


def test_compose_file_validates_against_compose_spec_schema() -> None:
    check = Path(sys.executable).with_name("check-jsonschema")
    command = str(check) if check.exists() else shutil.which("check-jsonschema")
    assert command, "check-jsonschema is missing: install the dev extras (make test does)"
    done = subprocess.run([command, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_lrs_service_sets_only_lrs_variables_when_configured() -> None:
    environment = compose_environment("lrs")
    assert environment, "the lrs service sets no environment"
    assert sorted(set(environment) - SETTINGS_VARIABLES) == []


def test_compose_services_set_lrs_variables_only_for_settings_fields_in_every_service() -> None:
    for service in compose()["services"]:
        names = {n for n in compose_environment(service) if n.startswith("LRS_")}
        assert sorted(names - SETTINGS_VARIABLES) == [], service


def test_compose_lrs_service_starts_after_mongo_is_healthy() -> None:
    services = compose()["services"]
    assert services["lrs"]["depends_on"]["mongo"]["condition"] == "service_healthy"
    assert "healthcheck" in services["mongo"]
    assert "replicaSet=rs0" in compose_environment("lrs")["LRS_STORE"]


# -- docker-compose.yml's "cluster" profile ------------------------------------------------


def replicas() -> dict[str, dict[str, Any]]:
    """The services that run the LRS image."""
    image = compose()["services"]["lrs"]["image"]
    return {name: service for name, service in compose()["services"].items()
            if service.get("image") == image}


def replica_addresses() -> set[str]:
    """host:port of every replica, the port being the one its settings make it listen on."""
    addresses = set()
    for name in replicas():
        variables = {k: v for k, v in compose_environment(name).items() if k.startswith("LRS_")}
        port = variables.get("LRS_PORT", str(Settings.model_fields["port"].default))
        addresses.add(f"{name}:{port}")
    return addresses


def metrics_addresses() -> set[str]:
    """host:port of every replica's metrics port (LRS_METRICS_PORT): the LRS's own port does
    not serve /metrics without a token."""
    addresses = set()
    for name in replicas():
        port = compose_environment(name).get("LRS_METRICS_PORT")
        assert port, f"{name} sets no LRS_METRICS_PORT: Prometheus could not scrape it"
        addresses.add(f"{name}:{port}")
    return addresses


def mounted(service: str, target: str) -> Path:
    """The repository file a service mounts at `target`."""
    for volume in compose()["services"][service].get("volumes", []):
        source, _, rest = volume.partition(":")
        if rest.split(":")[0] == target:
            return (ROOT / source).resolve()
    raise AssertionError(f"{service} mounts nothing at {target}")


def nginx_directives(block: str) -> list[list[str]]:
    """The `name arg…;` directives directly inside the first `block {…}` of nginx.conf."""
    text = "\n".join(line.split("#")[0] for line in NGINX_CONF.read_text().splitlines())
    start = re.search(rf"\b{block}\b[^{{;]*{{", text)
    assert start, f"no {block} block in nginx.conf"
    depth, body = 1, []
    for char in text[start.end():]:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            break
        body.append(char)
    flat = re.sub(r"{[^{}]*}", ";", "".join(body))  # nested blocks are not ours to read
    return [shlex.split(d) for d in flat.split(";") if d.strip()]


def test_compose_default_profile_runs_mongo_and_one_lrs() -> None:
    default = {name for name, service in compose()["services"].items()
               if not service.get("profiles")}
    assert default == {"mongo", "lrs"}


def test_compose_cluster_profile_runs_three_alike_lrs_replicas() -> None:
    assert len(replicas()) == 3
    environments = [compose_environment(name) for name in replicas()]
    assert all(env == environments[0] for env in environments), "replicas configured apart"
    for name, service in replicas().items():
        assert service["depends_on"]["mongo"]["condition"] == "service_healthy", name
        assert name == "lrs" or service["profiles"] == ["cluster"], name


def test_compose_replicas_have_time_to_shut_down_gracefully(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    for name, service in replicas().items():
        variables = {k: v for k, v in compose_environment(name).items() if k.startswith("LRS_")}
        settings = settings_from_environment(monkeypatch, variables)
        grace = service["stop_grace_period"]
        assert grace.endswith("s") and int(grace[:-1]) > settings.graceful_timeout_seconds, name


def test_compose_load_balancer_points_at_every_replica_once_they_are_healthy() -> None:
    lb = compose()["services"]["lb"]
    assert lb["profiles"] == ["cluster"]
    assert mounted("lb", "/etc/nginx/nginx.conf") == NGINX_CONF
    servers = [d[1] for d in nginx_directives("upstream") if d[0] == "server"]
    assert sorted(servers) == sorted(replica_addresses())
    assert {name: lb["depends_on"][name]["condition"] for name in replicas()} == \
        dict.fromkeys(replicas(), "service_healthy")


def test_nginx_passes_bodies_the_lrs_accepts_and_logs_no_query_or_client() -> None:
    [size] = [d[1] for d in nginx_directives("server") if d[0] == "client_max_body_size"]
    assert size.endswith("m") and int(size[:-1]) * 1024 * 1024 >= \
        Settings.model_fields["max_body_bytes"].default
    formats = [" ".join(d[2:]) for d in nginx_directives("http") if d[0] == "log_format"]
    assert formats
    for variable in ("$request ", "$request_uri", "$args", "$query_string", "$remote_addr",
                     "$http_authorization"):
        assert all(variable not in f + " " for f in formats), variable


def test_prometheus_scrapes_every_replica_and_loads_the_alert_rules() -> None:
    config = yaml.safe_load(PROMETHEUS.read_text())
    assert mounted("prometheus", "/etc/prometheus/prometheus.yml") == PROMETHEUS
    [job] = config["scrape_configs"]
    targets = {t for static in job["static_configs"] for t in static["targets"]}
    assert targets == metrics_addresses()
    assert not targets & replica_addresses()
    assert job.get("metrics_path", "/metrics") == "/metrics"
    for rule_file in config["rule_files"]:
        assert mounted("prometheus", rule_file) == ROOT / "docs" / "alerts.yml"


# -- Dockerfile ----------------------------------------------------------------------------


def test_dockerfile_env_sets_only_settings_fields_when_prefixed_lrs() -> None:
    names = {name for stage in dockerfile_stages() for name in dockerfile_env(stage)
             if name.startswith("LRS_")}
    assert names, "the Dockerfile sets no LRS_ variable"
    assert sorted(names - SETTINGS_VARIABLES) == []


def test_dockerfile_command_runs_lrs_serve_in_exec_form() -> None:
    final = dockerfile_stages()[-1]
    entrypoint = exec_form(final, "ENTRYPOINT") or []
    command = exec_form(final, "CMD")
    assert command is not None, "CMD must be in exec form so `lrs` gets SIGTERM as PID 1"
    assert [*entrypoint, *command][:2] == ["lrs", "serve"]


def test_dockerfile_command_is_the_one_the_operations_guide_documents() -> None:
    final = dockerfile_stages()[-1]
    argv = [*(exec_form(final, "ENTRYPOINT") or []), *(exec_form(final, "CMD") or [])]
    assert f"`{' '.join(argv)}`" in OPERATIONS.read_text()


def test_dockerfile_is_multi_stage_and_builds_nothing_in_the_slim_runtime() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    base = stages[-1][0][1]
    assert "slim" in base or "alpine" in base or "distroless" in base, base
    runs = " ".join(arguments for name, arguments in stages[-1] if name == "RUN")
    for tool in ("gcc", "build-essential", "apt-get install", "apk add", "make "):
        assert tool not in runs, tool
    assert "--no-index" in runs  # only the wheels built in an earlier stage are installed


def test_dockerfile_runtime_stage_runs_as_non_root_with_healthcheck() -> None:
    final = dockerfile_stages()[-1]
    users = [arguments for name, arguments in final if name == "USER"]
    assert users and users[-1] not in ("root", "0")
    healthchecks = [arguments for name, arguments in final if name == "HEALTHCHECK"]
    assert healthchecks and "/health/ready" in healthchecks[-1]
    assert ("EXPOSE", "8000") in final


# -- both, and .env.example ----------------------------------------------------------------


@pytest.mark.parametrize("source", DEPLOYED_ENVIRONMENTS)
def test_deployment_environment_builds_valid_settings_when_applied(
        source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    variables = {name: value for name, value in DEPLOYED_ENVIRONMENTS[source]().items()
                 if name.startswith("LRS_")}
    assert variables, f"{source} sets no LRS_ variable"
    settings = settings_from_environment(monkeypatch, variables)
    for name, value in variables.items():
        field = name.removeprefix("LRS_").lower()
        assert render_default(getattr(settings, field)) == value, name


def test_env_example_lists_exactly_the_settings_fields() -> None:
    listed = set(env_example_entries())
    missing = [
        f"# {Settings.model_fields[name].description}\n"
        f"# LRS_{name.upper()}={render_default(Settings.model_fields[name].default)}"
        for name in Settings.model_fields if f"LRS_{name.upper()}" not in listed]
    assert not missing, "add to .env.example:\n\n" + "\n\n".join(missing)
    assert sorted(listed - SETTINGS_VARIABLES) == [], "not Settings fields"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_env_example_entry_shows_default_and_description_of_field(name: str) -> None:
    value, comment = env_example_entries()[f"LRS_{name.upper()}"]
    field = Settings.model_fields[name]
    assert value == render_default(field.default)
    assert comment == field.description


def test_configuration_reference_matches_the_settings_class() -> None:
    from lrs.config_docs import PATH, render

    reference = Path(__file__).parent.parent / PATH
    assert reference.read_text() == render(), "run: python -m lrs.config_docs"
