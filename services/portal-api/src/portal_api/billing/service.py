"""Billing details, subscribing a connection to a plan, changing its plan (prorated) and
cancelling it; the receipts. Every charge goes intent first, then provider, then outcome."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.auth.models import User
from portal_api.billing.models import BillingDetails, Charge, Subscription
from portal_api.billing.payments import PaymentDeclined, PaymentProvider, PaymentRequest
from portal_api.billing.plans import PLANS, add_month, prorated_difference
from portal_api.billing.schemas import BillingIn, BillingOut, PaymentMethodOut, ReceiptOut
from portal_api.billing.usage import refresh_invoice_limit
from portal_api.connections import service as connections
from portal_api.connections.models import Connection
from portal_api.connections.service import ConnectionState
from portal_api.context import PortalContext
from portal_api.kit.errors import PortalError
from portal_api.kit.time import aware, utcnow

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
        await _retry_overdue(session, user)
    details.updated_at = utcnow()
    await session.flush()
    return billing_out(details)


async def subscribe(
    session: AsyncSession, context: PortalContext, user: User, state: ConnectionState, plan: str
) -> ConnectionState:
    """During the trial nothing is charged: the first month is charged when the trial ends.
    After it, the first month is charged now."""
    if state.subscription_active:
        raise PortalError(
            409, "This connection is already subscribed. Change its plan instead.", field="plan"
        )
    details = await details_of(session, user)
    if details is None or details.payment_customer_ref is None or details.card_last4 is None:
        raise PortalError(402, "Add a card in your billing details first.", field="card_token")
    now = utcnow()
    if state.trial_active:
        subscription = subscription_of(session, state)
        _start(subscription, plan, period_start=None, renews_at=aware(state.trial_ends_at))
        state.connection.plan = plan
        await refresh_invoice_limit(session, state, context.settings.web_url)
        return await connections.touch(session, state)
    chosen = PLANS[plan]
    charge = Charge(
        user_id=user.id,
        connection_id=state.connection.id,
        idempotency_key=f"subscription:{state.connection.id}:{uuid.uuid4().hex}",
        kind="subscription",
        plan=plan,
        amount=chosen.monthly_price,
        currency=chosen.currency,
        period_start=now,
        period_end=add_month(now),
        description=f"{chosen.name} plan: {state.connection.name}",
    )
    state = await _pay(session, context, details.payment_customer_ref, charge)
    await refresh_invoice_limit(session, state, context.settings.web_url)
    return await connections.touch(session, state)


async def change_plan(
    session: AsyncSession, context: PortalContext, user: User, state: ConnectionState, plan: str
) -> ConnectionState:
    """A plan change during a paid period is prorated and charged (or credited) at once; in
    the trial, or before a trial subscription's first charge, it is just a choice. The caller
    announces the change."""
    connection, subscription = state.connection, state.subscription
    if plan == connection.plan:
        return state
    if subscription is None or not state.subscription_active or not subscription.paid:
        connection.plan = plan
        if subscription is not None and subscription.status != "cancelled":
            subscription.plan = plan
        await refresh_invoice_limit(session, state, context.settings.web_url)
        return state
    if subscription.status != "active":
        raise PortalError(
            409,
            "This month's payment has not gone through. Update your card first, then change "
            "the plan.",
            field="plan",
        )
    assert subscription.current_period_start is not None
    assert subscription.renews_at is not None
    now = utcnow()
    old, new = PLANS[subscription.plan], PLANS[plan]
    amount = prorated_difference(
        old.monthly_price,
        new.monthly_price,
        now=now,
        period_start=aware(subscription.current_period_start),
        period_end=aware(subscription.renews_at),
    )
    if amount == 0:
        subscription.plan = connection.plan = plan
        await refresh_invoice_limit(session, state, context.settings.web_url)
        return state
    details = await details_of(session, user)
    if details is None or details.payment_customer_ref is None:
        raise PortalError(402, "Add a card in your billing details first.", field="card_token")
    change = "Upgrade" if amount > 0 else "Downgrade"
    charge = Charge(
        user_id=user.id,
        connection_id=connection.id,
        idempotency_key=f"plan-change:{subscription.id}:{uuid.uuid4().hex}",
        kind="plan_change",
        plan=plan,
        amount=amount,
        currency=new.currency,
        period_start=now,
        period_end=aware(subscription.renews_at),
        description=f"{change} from {old.name} to {new.name} for the rest of the month: "
        f"{connection.name}",
    )
    state = await _pay(session, context, details.payment_customer_ref, charge)
    await refresh_invoice_limit(session, state, context.settings.web_url)
    return state


async def _pay(
    session: AsyncSession, context: PortalContext, customer_ref: str, charge: Charge
) -> ConnectionState:
    """Record the intent (committed on its own), ask the provider with its key, then record
    the outcome and its effect in the request's transaction. A crash after the provider
    answered leaves the intent pending for `recover_pending`, which asks again with the same
    key: the provider gives the same answer and charges nothing more."""
    charge.status = "pending"
    charge_id = charge.id = uuid.uuid4()
    async with context.database.unit_of_work() as intent_session:
        intent_session.add(charge)
    outcome = await ask_provider(context.payments, customer_ref, charge)
    settled, state = await settle(session, charge_id, outcome)
    if settled.status == "failed":
        # Keep the failed attempt on record (a receipt marked failed), answer the refusal.
        raise PortalError(402, settled.failure_message or "", field="card_token", keep_changes=True)
    assert state is not None
    return state


Outcome = str | PaymentDeclined


async def ask_provider(payments: PaymentProvider, customer_ref: str, charge: Charge) -> Outcome:
    ask = payments.charge if charge.amount >= 0 else payments.credit
    try:
        return await ask(
            customer_ref,
            PaymentRequest(
                amount=abs(charge.amount),
                currency=charge.currency,
                description=f"dx-connector {charge.description}",
                idempotency_key=charge.idempotency_key,
            ),
        )
    except PaymentDeclined as declined:
        return declined


async def settle(
    session: AsyncSession, charge_id: uuid.UUID, outcome: Outcome
) -> tuple[Charge, ConnectionState | None]:
    """Record the provider's answer and, if it paid, its effect on the subscription, in one
    transaction. A charge already settled (by a concurrent recovery) is left as it is."""
    charge = await session.get(Charge, charge_id, with_for_update=True, populate_existing=True)
    assert charge is not None
    if charge.status != "pending":
        return charge, None
    now = utcnow()
    charge.completed_at = now
    if isinstance(outcome, PaymentDeclined):
        charge.status, charge.failure_message = "failed", outcome.message
        return charge, None
    charge.status, charge.provider_reference = "succeeded", outcome
    state = await _locked_state(session, charge.connection_id)
    subscription = subscription_of(session, state)
    if charge.kind in ("subscription", "renewal"):
        _start(
            subscription,
            charge.plan,
            period_start=aware(charge.period_start),
            renews_at=aware(charge.period_end),
        )
    subscription.plan = state.connection.plan = charge.plan
    subscription.payment_reference = outcome
    return charge, state


async def _locked_state(session: AsyncSession, connection_id: uuid.UUID) -> ConnectionState:
    connection = await session.get(Connection, connection_id, with_for_update=True)
    assert connection is not None  # charges are never taken for deleted connections
    user = await session.get(User, connection.user_id)
    assert user is not None
    return await connections.state_of(session, user, connection)


def subscription_of(session: AsyncSession, state: ConnectionState) -> Subscription:
    if state.subscription is None:
        state.subscription = Subscription(connection_id=state.connection.id, status="active")
        session.add(state.subscription)
    return state.subscription


def _start(
    subscription: Subscription,
    plan: str,
    *,
    period_start: datetime | None,
    renews_at: datetime,
) -> None:
    """Active, paid up to `renews_at` (or, with no `period_start`, waiting for the trial to
    end), with any dunning cleared."""
    if subscription.status not in ("active", "past_due", "paused"):
        subscription.started_at = utcnow()
    subscription.plan = plan
    subscription.status = "active"
    subscription.cancelled_at = None
    subscription.current_period_start = period_start
    subscription.renews_at = renews_at
    subscription.past_due_since = None
    subscription.retry_at = None
    subscription.failed_attempts = 0


async def cancel(
    session: AsyncSession, context: PortalContext, state: ConnectionState
) -> ConnectionState:
    """Deactivate and archive: syncing stops for good."""
    return await connections.archive(session, state, context.token_broker)


async def _retry_overdue(session: AsyncSession, user: User) -> None:
    """A new card: the renewal job tries overdue payments again at its next pass."""
    overdue = await session.scalars(
        select(Subscription)
        .join(Connection, Connection.id == Subscription.connection_id)
        .where(
            Connection.user_id == user.id,
            Connection.archived_at.is_(None),
            Subscription.status.in_(("past_due", "paused")),
        )
    )
    for subscription in overdue.all():
        subscription.retry_at = utcnow()


async def receipts(session: AsyncSession, user: User) -> list[ReceiptOut]:
    rows = await session.execute(
        select(Charge, Connection.name)
        .join(Connection, Connection.id == Charge.connection_id)
        .where(Charge.user_id == user.id)
        .order_by(Charge.created_at.desc(), Charge.id)
    )
    return [
        ReceiptOut(
            id=charge.id,
            date=aware(charge.completed_at or charge.created_at),
            connection_id=charge.connection_id,
            connection_name=name,
            kind="credit" if charge.amount < 0 else "charge",
            description=charge.description,
            plan=PLANS[charge.plan].name,
            period_start=aware(charge.period_start),
            period_end=aware(charge.period_end),
            amount=charge.amount,
            currency=charge.currency,
            status=charge.status,
            failure_message=charge.failure_message,
        )
        for charge, name in rows.all()
    ]
