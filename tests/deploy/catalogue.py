"""What the deployment files must agree with: the services, their settings and their commands,
read from the code rather than restated, so a setting or subscription added to a service shows
up here on its own."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import invoice_sync.app
import payment_sync.app
import portal_api.app
import scheduler.app
import token_broker.app
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.service import Service
from dxc_shared.settings import ServiceSettings
from invoice_sync.settings import InvoiceSyncSettings
from payment_sync.settings import PaymentSyncSettings
from portal_api.settings import PortalApiSettings
from scheduler.settings import SchedulerSettings
from token_broker.crypto import TokenCipher
from token_broker.settings import TokenBrokerSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


@dataclass(frozen=True)
class ServiceEntry:
    command: str
    settings_type: type[ServiceSettings]
    create_service: Callable[[Infrastructure, Any], Service]

    @property
    def prefix(self) -> str:
        return str(self.settings_type.model_config["env_prefix"])

    def required_env(self) -> set[str]:
        """Environment variables the service refuses to start without."""
        return {
            self.prefix + name.upper()
            for name, field in self.settings_type.model_fields.items()
            if field.is_required()
        }

    def env_names(self) -> set[str]:
        return {self.prefix + name.upper() for name in self.settings_type.model_fields}

    def build(self, bus_namespace: str = "dxc") -> Service:
        """The service as its factory makes it, on SQLite and the in-process bus (nothing is
        started): its subscriptions and metrics are what the deployment is checked against."""
        values: dict[str, object] = {
            name: "unused"
            for name, field in self.settings_type.model_fields.items()
            if field.is_required()
        }
        values.update(database_url="sqlite+aiosqlite:///:memory:", broker_url="memory://")
        if "encryption_keys" in values:
            values["encryption_keys"] = TokenCipher.generate_key()
        settings = self.settings_type.model_validate(values)
        infrastructure = Infrastructure.create(
            settings.database_url, settings.broker_url, bus_namespace
        )
        return self.create_service(infrastructure, settings)


SERVICES = {
    entry.command: entry
    for entry in (
        ServiceEntry("portal-api", PortalApiSettings, portal_api.app.create_service),
        ServiceEntry("scheduler", SchedulerSettings, scheduler.app.create_service),
        ServiceEntry("invoice-sync", InvoiceSyncSettings, invoice_sync.app.create_service),
        ServiceEntry("payment-sync", PaymentSyncSettings, payment_sync.app.create_service),
        ServiceEntry("token-broker", TokenBrokerSettings, token_broker.app.create_service),
    )
}


def workspace_members() -> list[Path]:
    """Every workspace member's directory, from the root pyproject's member globs."""
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members: list[Path] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        members.extend(sorted(path.parent for path in ROOT.glob(f"{pattern}/pyproject.toml")))
    return members


def console_scripts() -> set[str]:
    """Every console script the workspace installs (what an image built from it can run)."""
    scripts: set[str] = set()
    for member in workspace_members():
        project = tomllib.loads((member / "pyproject.toml").read_text())["project"]
        scripts.update(project.get("scripts", {}))
    return scripts
