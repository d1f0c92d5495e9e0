"""Billing details, subscribing a connection to a plan and cancelling it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.auth.models import User
from portal_api.billing.models import BillingDetails, Subscription
from portal_api.billing.payments import PaymentDeclined, PaymentProvider
from portal_api.billing.plans import PLANS
from portal_api.billing.schemas import BillingIn, BillingOut, PaymentMethodOut
from portal_api.connections import service as connections
from portal_api.connections.service import ConnectionState
from portal_api.context import PortalContext
from portal_api.kit.errors import PortalError
from portal_api.kit.time import utcnow

_ADDRESS_FIELDS = (
    "name",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "country",
    "vat_number",
)


def billing_out(details: BillingDetails | None) -> BillingOut:
    if details is None:
        return BillingOut(**dict.fromkeys(_ADDRESS_FIELDS), payment_method=None)
    method = (
        PaymentMethodOut(brand=details.card_brand, last4=details.card_last4)
        if details.card_brand and details.card_last4
        else None
    )
    return BillingOut(
        **{field: getattr(details, field) for field in _ADDRESS_FIELDS}, payment_method=method
    )


async def details_of(session: AsyncSession, user: User) -> BillingDetails | None:
    return await session.get(BillingDetails, user.id)


async def update(
    session: AsyncSession, payments: PaymentProvider, user: User, data: BillingIn
) -> BillingOut:
    details = await session.get(BillingDetails, user.id, with_for_update=True)
    if details is None:
        details = BillingDetails(user_id=user.id)
        session.add(details)
    for field in _ADDRESS_FIELDS:
        setattr(details, field, getattr(data, field))
    if data.card_token is not None:
        if details.payment_customer_ref is None:
            details.payment_customer_ref = await payments.create_customer(
                email=data.email or user.email, name=data.name or user.company_name
            )
        try:
            method = await payments.attach_card(details.payment_customer_ref, data.card_token)
        except PaymentDeclined as declined:
            raise PortalError(402, declined.message, field="card_token") from declined
        details.card_brand, details.card_last4 = method.brand, method.last4
    details.updated_at = utcnow()
    await session.flush()
    return billing_out(details)


async def subscribe(
    session: AsyncSession, context: PortalContext, user: User, state: ConnectionState, plan: str
) -> ConnectionState:
    if state.subscription_active:
        raise PortalError(
            409, "This connection is already subscribed. Change its plan instead.", field="plan"
        )
    details = await details_of(session, user)
    if details is None or details.payment_customer_ref is None or details.card_last4 is None:
        raise PortalError(402, "Add a card in your billing details first.", field="card_token")
    chosen = PLANS[plan]
    try:
        reference = await context.payments.charge(
            details.payment_customer_ref,
            amount=chosen.monthly_price,
            currency=chosen.currency,
            description=f"dx-connector {chosen.name} plan: {state.connection.name}",
        )
    except PaymentDeclined as declined:
        raise PortalError(402, declined.message, field="card_token") from declined
    now = utcnow()
    subscription = state.subscription
    if subscription is None:
        subscription = Subscription(connection_id=state.connection.id, status="active")
        session.add(subscription)
        state.subscription = subscription
    subscription.plan = plan
    subscription.status = "active"
    subscription.started_at = now
    subscription.cancelled_at = None
    subscription.payment_reference = reference
    state.connection.plan = plan
    return await connections.touch(session, state)


async def cancel(
    session: AsyncSession, context: PortalContext, state: ConnectionState
) -> ConnectionState:
    """Deactivate and archive: syncing stops for good."""
    return await connections.archive(session, state, context.token_broker)
