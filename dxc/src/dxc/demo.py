"""The demo's stand-in for a Dynamics 365 user, since the Dynamics sandbox has no user
interface: `dxc review-settings` saves the connector's settings row, `dxc hand-over` sets
invoices' Connector field (the "ready to sync" signal).

Both sign in to the embedded mode's Dynamics sandbox as its demo user (pre-approved, so no page
is shown) and work on the connector record the portal's install created.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlparse

import httpx
from dxc_shared.clients.dataverse import (
    DataverseClient,
    DataverseError,
    DataverseThrottled,
    DataverseUnavailable,
    odata_literal,
)
from dxc_shared.dynamics.schema import (
    CONNECTOR,
    INVOICE,
    INVOICE_CONNECTOR,
    SETTINGS,
    SETTINGS_CONNECTOR,
    DefaultInvoiceStatus,
)
from dynamics_sandbox.settings import DynamicsSandboxSettings


class HandOverError(Exception):
    """Something a person running the demo can fix; the message says what."""


# Dynamics invoices' statecode: only an active invoice can still go to Xero.
ACTIVE = 0
INACTIVE_STATES = {1: "closed", 2: "paid", 3: "cancelled"}


async def _sign_in(http: httpx.AsyncClient, public_url: str, org_url: str) -> str:
    """The demo user's access token for `org_url`, through the authorization code flow."""
    sandbox = DynamicsSandboxSettings()
    identity = f"{public_url}/sandbox/dynamics/common/oauth2/v2.0"
    redirect_uri = f"{public_url}/portal-api/v1/oauth/dynamics/callback"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    authorized = await http.get(
        f"{identity}/authorize",
        params={
            "client_id": sandbox.demo_client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": f"{org_url}/user_impersonation",
            "state": "hand-over",
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            "login_hint": sandbox.demo_user,
        },
    )
    if authorized.status_code != 302:
        raise HandOverError(f"the Dynamics sandbox refused the demo sign-in: {authorized.text}")
    code = parse_qs(urlparse(authorized.headers["location"]).query)["code"][0]
    tokens = await http.post(
        f"{identity}/token",
        data={
            "grant_type": "authorization_code",
            "client_id": sandbox.demo_client_id,
            "client_secret": sandbox.demo_client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
    )
    tokens.raise_for_status()
    token: str = tokens.json()["access_token"]
    return token


@asynccontextmanager
async def _demo_user(public_url: str, org: str) -> AsyncIterator[tuple[DataverseClient, str]]:
    """A Dataverse client signed in as the demo user, and the organisation's newest connector
    record (the one the portal's install created)."""
    public_url = public_url.rstrip("/")
    org_url = f"{public_url}/sandbox/dynamics/orgs/{org}"
    async with httpx.AsyncClient(timeout=30) as http:
        try:
            token = await _sign_in(http, public_url, org_url)
        except httpx.TransportError as error:
            raise HandOverError(
                f"{public_url} does not answer ({error}): is dxc dev running?"
            ) from error

        async def access_token() -> str:
            return token

        dataverse = DataverseClient(http, org_url=org_url, access_token=access_token)
        try:
            connectors = await dataverse.query(
                CONNECTOR.entity_set,
                select=[CONNECTOR.primary_id],
                orderby="createdon desc",
                top=1,
            )
            if not connectors:
                raise HandOverError(
                    f"no connector in the Dynamics organisation '{org}' yet: create a connection "
                    "in the portal, connect both sides and install the tables first"
                )
            yield dataverse, str(connectors[0][CONNECTOR.primary_id])
        except (DataverseError, DataverseUnavailable, DataverseThrottled) as error:
            raise HandOverError(f"the Dynamics sandbox refused: {error}") from error


async def hand_over(
    public_url: str, invoice_numbers: Sequence[str], *, org: str = "demo"
) -> list[str]:
    """Hand the invoices with these numbers to the organisation's connector; returns their
    ids."""
    async with _demo_user(public_url, org) as (dataverse, connector_id):
        return await hand_over_in(dataverse, connector_id, invoice_numbers, org=org)


async def hand_over_in(
    dataverse: DataverseClient, connector_id: str, invoice_numbers: Sequence[str], *, org: str
) -> list[str]:
    """`hand_over` once signed in: every invoice is checked (it exists and is active) before
    any is handed over, so a refusal changes nothing."""
    numbers = " or ".join(f"invoicenumber eq {odata_literal(n)}" for n in invoice_numbers)
    invoices = await dataverse.query(
        INVOICE.entity_set, select=["invoiceid", "invoicenumber", "statecode"], filter=numbers
    )
    missing = set(invoice_numbers) - {row["invoicenumber"] for row in invoices}
    if missing:
        raise HandOverError(f"no invoice numbered {', '.join(sorted(missing))} in '{org}'")
    for row in invoices:
        if row["statecode"] != ACTIVE:
            state = INACTIVE_STATES.get(row["statecode"], "not active")
            raise HandOverError(
                f"{row['invoicenumber']} cannot be handed over: it is {state} in Dynamics, and "
                "only an active invoice still has something to send to Xero"
            )
    for row in invoices:
        await dataverse.update(
            INVOICE.entity_set,
            str(row["invoiceid"]),
            INVOICE_CONNECTOR.bind(CONNECTOR.entity_set, connector_id),
        )
    return [str(row["invoiceid"]) for row in invoices]


async def review_settings(
    public_url: str,
    *,
    org: str = "demo",
    default_status: DefaultInvoiceStatus = DefaultInvoiceStatus.AUTHORISED,
    create_credit_notes: bool = True,
) -> None:
    """Save the connector's settings row, as a Dynamics user does in its form (the portal's
    checklist waits for it). The rest keeps the documented defaults."""
    body = {
        "dxc_defaultinvoicestatus": default_status.value,
        "dxc_createcreditnotes": create_credit_notes,
    }
    async with _demo_user(public_url, org) as (dataverse, connector_id):
        rows = await dataverse.query(
            SETTINGS.entity_set,
            select=[SETTINGS.primary_id],
            filter=f"{SETTINGS_CONNECTOR.value_property} eq {connector_id}",
        )
        if rows:
            await dataverse.update(SETTINGS.entity_set, str(rows[0][SETTINGS.primary_id]), body)
        else:
            await dataverse.create(
                SETTINGS.entity_set,
                {
                    "dxc_name": "Settings",
                    **body,
                    **SETTINGS_CONNECTOR.bind(CONNECTOR.entity_set, connector_id),
                },
            )
