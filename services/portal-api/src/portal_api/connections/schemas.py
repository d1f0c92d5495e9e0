from __future__ import annotations

import functools
import re
import uuid
import zoneinfo
from datetime import datetime
from typing import Annotated, Literal

from dxc_shared.messages import MAPPABLE_XERO_INVOICE_FIELDS
from pydantic import AfterValidator, BaseModel, Field

from portal_api.billing.plans import DEFAULT_PLAN, PLANS
from portal_api.health.schemas import HealthOut
from portal_api.kit.text import Name

Status = Literal["draft", "active", "reauthorisation_needed", "cancelled", "paused", "archived"]


@functools.cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@functools.cache
def offered_time_zones() -> list[str]:
    """What a person picks from: the zones of a region (Europe/London...) and UTC; not the
    aliases and oddities (localtime, Factory, Etc/GMT+3, US/Pacific...)."""
    regional = (zone for zone in time_zones() if zone.split("/", 1)[0] in REGIONS and "/" in zone)
    return ["UTC", *sorted(regional)]


def _time_zone(value: str) -> str:
    if value not in time_zones():
        raise ValueError(
            f"'{value}' is not a time zone we know. Use an IANA name such as Europe/London "
            "(GET /v1/time-zones lists them)"
        )
    return value


def _plan(value: str) -> str:
    if value not in PLANS:
        raise ValueError(f"There is no plan '{value}'. Choose one of: {', '.join(PLANS)}")
    return value


def _field_mappings(value: dict[str, str]) -> dict[str, str]:
    for column, target in value.items():
        if not _COLUMN.fullmatch(column):
            raise ValueError(
                f"'{column}' is not a Dynamics invoice column name: use its logical name, "
                "lower case (e.g. description)"
            )
        if target not in MAPPABLE_XERO_INVOICE_FIELDS:
            raise ValueError(
                f"A Dynamics column can fill one of the Xero fields "
                f"{', '.join(sorted(MAPPABLE_XERO_INVOICE_FIELDS))}, not '{target}'"
            )
    return value


_COLUMN = re.compile(r"[a-z_][a-z0-9_]{0,99}")
TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_time_zone)]
FieldMappings = Annotated[
    dict[str, str],
    Field(
        max_length=20,
        description="The mapping template: Dynamics invoice column (logical name) -> Xero "
        'invoice field, e.g. {"description": "Reference"}',
    ),
    AfterValidator(_field_mappings),
]
PlanCode = Annotated[str, Field(max_length=32), AfterValidator(_plan)]
ConnectionName = Name


class ConnectionIn(BaseModel):
    name: ConnectionName
    time_zone: TimeZone = "UTC"
    plan: PlanCode = DEFAULT_PLAN


class ConnectionPatch(BaseModel):
    name: ConnectionName | None = None
    time_zone: TimeZone | None = None
    plan: PlanCode | None = None
    field_mappings: FieldMappings | None = None


class SubscriptionOut(BaseModel):
    status: Literal["active", "past_due", "paused", "cancelled"] = Field(
        description="past_due: a renewal failed and is retried (syncing goes on); paused: "
        "unpaid after the grace period (syncing stops, nothing is deleted)"
    )
    plan: str
    started_at: datetime
    cancelled_at: datetime | None
    billing_starts_at: datetime | None = Field(
        description="Subscribed during the trial: the first charge, when the trial ends"
    )
    renews_at: datetime | None = Field(description="When the next monthly charge falls due")


class XeroSide(BaseModel):
    connected: bool
    tenant_id: str | None
    tenant_name: str | None
    error: str | None = Field(description="Why Xero needs attention (e.g. re-authorise)")


class DynamicsSide(BaseModel):
    connected: bool
    org_url: str | None
    org_name: str | None
    error: str | None = Field(description="Why Dynamics 365 needs attention")


class ConnectionOut(BaseModel):
    id: uuid.UUID
    name: str
    type: Literal["Dynamics Xero Connector"] = "Dynamics Xero Connector"
    status: Status
    time_zone: str
    plan: str
    trial_ends_at: datetime
    subscription: SubscriptionOut | None
    xero: XeroSide
    dynamics: DynamicsSide
    tables_installed: bool
    field_mappings: dict[str, str]
    invoices_paused_until: datetime | None = Field(
        description="The plan's monthly invoice limit is reached: new invoices wait until then "
        "(or a bigger plan)"
    )
    created_at: datetime
    updated_at: datetime
    health: HealthOut | None = Field(
        default=None,
        description="The connection's health (on GET; the same as GET .../health)",
    )
