from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from portal_api.connections.schemas import ConnectionOut

ChecklistKey = Literal[
    "xero_connected",
    "xero_organisation",
    "dynamics_connected",
    "dynamics_organisation",
    "tables_installed",
    "permissions",
    "settings_reviewed",
    "subscription_active",
]


class InstallOut(BaseModel):
    action: Literal["installed", "upgraded", "current"] = Field(
        description="installed: imported now; upgraded: a newer version imported over an older "
        "one (rows kept); current: this version (or a newer one) was already there"
    )
    version: str = Field(description="The version of the connector's solution now in Dynamics")
    previous_version: str | None = Field(description="The version that was there before")
    missing_privileges: list[str] = Field(
        description="What the signed-in Dynamics user may not do that the connector needs (the "
        "Xero Connector User security role grants all of it)"
    )
    push_registered: bool = Field(
        default=False,
        description="Dynamics tells the connector of invoice changes at once (its webhook is "
        "registered); without it invoices wait for the next poll",
    )
    push_problem: str | None = Field(
        default=None, description="Why the webhook could not be registered, in words"
    )


class UninstallOut(BaseModel):
    removed: bool = Field(
        description="Whether the solution was there and is now deleted (with its rows)"
    )


class ChecklistStep(BaseModel):
    key: ChecklistKey
    title: str
    done: bool
    tip: str = Field(description="What to do (or, when done, what it means)")


class ChecklistOut(BaseModel):
    complete: bool
    steps: list[ChecklistStep]


class DynamicsSettings(BaseModel):
    """The connector's settings row in Dynamics, where users review and change them."""

    use_xero_invoice_number: bool | None
    create_contacts: bool | None
    create_products: bool | None
    default_invoice_status: str | None
    default_sales_account_code: str | None
    default_purchase_account_code: str | None
    create_credit_notes: bool | None


class ConnectionWithSettings(ConnectionOut):
    settings: DynamicsSettings | None = Field(
        description="Null until a settings row exists in Dynamics"
    )
