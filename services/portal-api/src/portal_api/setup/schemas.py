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
    created: list[str] = Field(description="Tables, columns and lookups created now")
    existing: list[str] = Field(description="The connector's tables that were already there")
    missing_privileges: list[str] = Field(
        description="What the signed-in Dynamics user may not do that the connector needs"
    )
    push_registered: bool = Field(
        default=False,
        description="Dynamics tells the connector of invoice changes at once (its webhook is "
        "registered); without it invoices wait for the next poll",
    )
    push_problem: str | None = Field(
        default=None, description="Why the webhook could not be registered, in words"
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
