from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from portal_api.auth.schemas import Email
from portal_api.connections.schemas import PlanCode
from portal_api.kit.text import Text20, Text32, Text100, Text200, Token

Country = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern="^[A-Za-z]{2}$")
]


class PaymentMethodOut(BaseModel):
    brand: str
    last4: str


class BillingIn(BaseModel):
    name: Text200 | None = None
    email: Email | None = None
    address_line1: Text200 | None = None
    address_line2: Text200 | None = None
    city: Text100 | None = None
    postcode: Text20 | None = None
    country: Country | None = None
    vat_number: Text32 | None = None
    card_token: Token | None = None


class BillingOut(BaseModel):
    name: str | None
    email: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    postcode: str | None
    country: str | None
    vat_number: str | None
    payment_method: PaymentMethodOut | None


class SubscribeIn(BaseModel):
    plan: PlanCode


class ReceiptOut(BaseModel):
    id: uuid.UUID
    date: datetime
    connection_id: uuid.UUID
    connection_name: str
    kind: Literal["charge", "credit"]
    description: str
    plan: str
    period_start: datetime
    period_end: datetime
    amount: Decimal = Field(description="Negative for a credit")
    currency: str
    status: Literal["pending", "succeeded", "failed"]
    failure_message: str | None


class UsageOut(BaseModel):
    month: datetime = Field(description="The calendar month counted (UTC), by its first instant")
    invoices_exported: int
    invoice_limit: int
    invoices_paused_until: datetime | None = Field(
        description="At the limit: new invoices wait until then (or a bigger plan)"
    )
