"""The sandbox's in-memory world (``app.state.sandbox``): organisations with their tables,
the directory, limits, faults and the call log. Embedding processes may seed it directly."""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox_kit.clock import Clock
from sandbox_kit.faults import Fault, FaultBook

from .identity import Identity
from .limits import LimitConfig, ServiceProtection
from .plugin_tables import add_plugin_tables, seed_messages
from .settings import DynamicsSandboxSettings
from .signing import SigningKey
from .standard_tables import build_standard_schema
from .store.engine import TableEngine
from .store.values import EntityRef
from .webhooks import WebhookDispatcher

API_VERSION = "v9.2"


@dataclass
class SolutionComponents:
    """What one solution added to an organisation."""

    tables: set[str] = field(default_factory=set)  # custom tables it created
    columns: set[tuple[str, str]] = field(default_factory=set)  # (table, column) on others
    relationships: set[str] = field(default_factory=set)
    forms: set[uuid.UUID] = field(default_factory=set)
    views: set[uuid.UUID] = field(default_factory=set)
    roles: set[uuid.UUID] = field(default_factory=set)


@dataclass
class Organization:
    unique_name: str
    friendly_name: str
    tenant_id: str
    engine: TableEngine
    created: datetime
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    environment_id: uuid.UUID = field(default_factory=uuid.uuid4)
    business_unit_id: uuid.UUID = field(default_factory=uuid.uuid4)
    region: str = "OCE"
    version: str = "9.2.25031.00177"
    # Entra object id of a user or service principal → its systemuser row.
    members: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    # Entra object id → privilege names withheld from that principal (e.g. prvWriteInvoice).
    denied: dict[uuid.UUID, set[str]] = field(default_factory=dict)
    # The Organization table's ExpireChangeTrackingInDays: how long delta tokens stay valid.
    expire_change_tracking_in_days: int = 7
    # Security roles (role id → privilege names) and the roles assigned to a principal. A
    # principal with no role assigned holds every privilege (the sandbox's System
    # Administrator); one with roles holds only theirs ("Security roles and privileges").
    roles: dict[uuid.UUID, set[str]] = field(default_factory=dict)
    user_roles: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    # Imported solutions (solution id → what each added), so deleting one removes them.
    solution_components: dict[uuid.UUID, SolutionComponents] = field(default_factory=dict)

    def lacks(self, object_id: uuid.UUID, privilege: str) -> bool:
        """Whether the principal may not use `privilege`: denied it, or holding roles of
        which none grants it."""
        if privilege in self.denied.get(object_id, set()):
            return True
        assigned = self.user_roles.get(object_id)
        return assigned is not None and not any(
            privilege in self.roles.get(role, set()) for role in assigned
        )

    def url(self, base: str) -> str:
        return f"{base}/orgs/{self.unique_name}"

    def api_url(self, base: str) -> str:
        return f"{self.url(base)}/api/data/{API_VERSION}"

    def add_member(
        self,
        object_id: uuid.UUID,
        full_name: str,
        domain_name: str,
        *,
        application_id: str | None = None,
    ) -> uuid.UUID:
        """Create the principal's systemuser row (an application user when `application_id`)."""
        if object_id in self.members:
            return self.members[object_id]
        entity = self.engine.schema.entity("systemuser")
        payload: dict[str, Any] = {
            "fullname": full_name,
            "domainname": domain_name,
            "internalemailaddress": None if application_id else domain_name,
            "azureactivedirectoryobjectid": str(object_id),
            "applicationid": application_id,
            "isdisabled": False,
            "businessunitid": str(self.business_unit_id),
        }
        record = self.engine.create(entity, payload, trusted=True)
        user_id: uuid.UUID = record["systemuserid"]
        self.members[object_id] = user_id
        return user_id

    def systemuser_ref(self, object_id: uuid.UUID) -> EntityRef | None:
        user_id = self.members.get(object_id)
        return EntityRef("systemuser", user_id) if user_id else None


@dataclass
class CallRecord:
    time: datetime
    method: str
    path: str
    org: str | None
    user: str | None
    status: int
    duration_ms: float

    def to_json(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "method": self.method,
            "path": self.path,
            "org": self.org,
            "user": self.user,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 2),
        }


class SandboxState:
    def __init__(self, settings: DynamicsSandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        # One signing key for the life of the process, so a reset does not void published keys.
        self.signing_key = SigningKey()
        self.identity = self._new_identity()
        self.limits = ServiceProtection(LimitConfig.from_settings(settings), clock)
        self.faults: FaultBook[Fault] = FaultBook()
        self.orgs: dict[str, Organization] = {}
        self.calls: deque[CallRecord] = deque(maxlen=100_000)
        self.webhooks = WebhookDispatcher(
            clock,
            retry_delays=settings.webhook_retry_delays_seconds,
            timeout_seconds=settings.webhook_timeout_seconds,
            concurrency=settings.webhook_concurrency,
        )

    def _new_identity(self) -> Identity:
        return Identity(
            self.settings, self.clock, self.signing_key, lambda name: self.org(name) is not None
        )

    def reset(self) -> None:
        self.identity = self._new_identity()
        self.limits = ServiceProtection(LimitConfig.from_settings(self.settings), self.clock)
        self.faults.clear()
        self.orgs.clear()
        self.calls.clear()
        self.webhooks.clear()

    def create_org(self, unique_name: str, friendly_name: str, tenant_id: str) -> Organization:
        key = unique_name.lower()
        if key in self.orgs:
            raise ValueError(f"organisation '{unique_name}' already exists")
        schema = build_standard_schema()
        add_plugin_tables(schema)
        engine = TableEngine(schema, self.clock)
        seed_messages(engine)
        org = Organization(
            unique_name=key,
            friendly_name=friendly_name,
            tenant_id=tenant_id,
            engine=engine,
            created=self.clock.now(),
            expire_change_tracking_in_days=self.settings.change_tracking_retention_days,
        )
        engine.listener = lambda event: self.webhooks.on_change(org, event)
        self.orgs[key] = org
        return org

    def org(self, unique_name: str) -> Organization | None:
        return self.orgs.get(unique_name.lower())
