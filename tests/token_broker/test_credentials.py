"""token-broker against the sandboxes' identity servers (Entra ID, Xero) over real HTTP, on
PostgreSQL and RabbitMQ: encrypted storage, one refresh under concurrency, re-authorisation on a
dead grant."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet, InvalidToken
from dxc_shared.bus import MessageContext, Subscription
from dxc_shared.bus.rabbitmq import RabbitMQBroker
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.messages import CredentialNeedsReauthorisation
from sqlalchemy import text
from token_broker.app import create_service
from token_broker.crypto import TokenCipher
from token_broker.settings import TokenBrokerSettings

from tests.support.dynamics_sandbox import (
    RunningDynamicsSandbox,
    pkce_pair,
)
from tests.support.polling import eventually
from tests.support.rabbitmq import delete_namespace_exchanges, delete_topology
from tests.support.xero_sandbox import VERIFIER, XeroSandbox

API_KEY = "internal-test-key"
KEY = Fernet.generate_key().decode()


def broker_settings(
    dynamics: RunningDynamicsSandbox,
    database_url: str,
    broker_url: str,
    namespace: str,
    xero: XeroSandbox | None = None,
    **extra: Any,
) -> TokenBrokerSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "broker_url": broker_url,
        "bus_namespace": namespace,
        "encryption_keys": KEY,
        "internal_api_key": API_KEY,
        "xero_client_id": xero.settings.demo_client_id if xero else "unused",
        "xero_client_secret": xero.settings.demo_client_secret if xero else "unused",
        "xero_token_url": f"{xero.base if xero else 'http://unused'}/connect/token",
        "xero_revocation_url": f"{xero.base if xero else 'http://unused'}/connect/revocation",
        "dynamics_client_id": dynamics.settings.demo_client_id,
        "dynamics_client_secret": dynamics.settings.demo_client_secret,
        "dynamics_token_url": dynamics.token_url,
    }
    return TokenBrokerSettings(**(values | extra))


@asynccontextmanager
async def token_broker(settings: TokenBrokerSettings) -> AsyncIterator[httpx.AsyncClient]:
    """One token-broker replica with its own infrastructure (own pool, own bus connection)."""
    service = create_service(Infrastructure.from_settings(settings), settings)
    service.owns_infrastructure = True
    async with (
        LifespanManager(service.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(service.app),
            base_url="http://token-broker",
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as client,
    ):
        yield client


@pytest.fixture
async def settings(
    dynamics: RunningDynamicsSandbox,
    xero: XeroSandbox,
    migrated_postgres: str,
    rabbitmq_url: str,
    bus_namespace: str,
) -> AsyncIterator[TokenBrokerSettings]:
    yield broker_settings(dynamics, migrated_postgres, rabbitmq_url, bus_namespace, xero)
    await delete_namespace_exchanges(rabbitmq_url, bus_namespace)


async def connect(client: httpx.AsyncClient, dynamics: RunningDynamicsSandbox) -> uuid.UUID:
    """Store a Dynamics grant for a new connection, as portal-api does after the callback."""
    connection_id = uuid.uuid4()
    verifier, challenge = pkce_pair()
    scope = f"{dynamics.org_url()}/user_impersonation offline_access"
    code = await asyncio.to_thread(dynamics.authorization_code, scope, challenge)
    response = await client.post(
        f"/v1/connections/{connection_id}/credentials/dynamics",
        json={"code": code, "redirect_uri": dynamics.redirect_uri, "code_verifier": verifier},
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"
    return connection_id


async def connect_xero(client: httpx.AsyncClient, xero: XeroSandbox) -> uuid.UUID:
    """Store a Xero grant for a new connection, as portal-api does after the callback."""
    connection_id = uuid.uuid4()
    code = await asyncio.to_thread(xero.authorize)
    response = await client.post(
        f"/v1/connections/{connection_id}/credentials/xero",
        json={
            "code": code,
            "redirect_uri": xero.settings.demo_redirect_uris[0],
            "code_verifier": VERIFIER,
        },
    )
    assert response.status_code == 201, response.text
    return connection_id


async def expire_access_token(database_url: str, connection_id: uuid.UUID) -> None:
    infrastructure = Infrastructure.create(database_url, "memory://", "unused")
    async with infrastructure.database.unit_of_work() as session:
        await session.execute(
            text(
                "UPDATE oauth_credentials SET access_token_expires_at = :past "
                "WHERE connection_id = :connection_id"
            ),
            {"past": datetime.now(UTC) - timedelta(minutes=1), "connection_id": connection_id},
        )
    await infrastructure.database.dispose()


async def test_tokens_are_stored_encrypted(
    settings: TokenBrokerSettings, dynamics: RunningDynamicsSandbox
) -> None:
    async with token_broker(settings) as client:
        connection_id = await connect(client, dynamics)
        token = (
            await client.post(
                f"/v1/connections/{connection_id}/credentials/dynamics/access-token",
                json={"resource": dynamics.org_url()},
            )
        ).json()["access_token"]

    infrastructure = Infrastructure.create(settings.database_url, "memory://", "unused")
    async with infrastructure.database.unit_of_work() as session:
        row = (
            await session.execute(
                text(
                    "SELECT refresh_token_ciphertext, access_token_ciphertext "
                    "FROM oauth_credentials WHERE connection_id = :id"
                ),
                {"id": connection_id},
            )
        ).one()
    await infrastructure.database.dispose()
    refresh_ciphertext, access_ciphertext = row
    assert token not in access_ciphertext
    assert token[:20] not in refresh_ciphertext
    assert TokenCipher([KEY]).decrypt(access_ciphertext) == token
    with pytest.raises(InvalidToken):
        TokenCipher([Fernet.generate_key().decode()]).decrypt(access_ciphertext)


async def test_two_replicas_refreshing_at_once_spend_the_refresh_token_once(
    settings: TokenBrokerSettings, dynamics: RunningDynamicsSandbox
) -> None:
    async with token_broker(settings) as replica_a, token_broker(settings) as replica_b:
        connection_id = await connect(replica_a, dynamics)
        await expire_access_token(settings.database_url, connection_id)
        before = await asyncio.to_thread(dynamics.token_requests)

        url = f"/v1/connections/{connection_id}/credentials/dynamics/access-token"
        body = {"resource": dynamics.org_url()}
        responses = await asyncio.gather(
            *(replica.post(url, json=body) for replica in (replica_a, replica_b, replica_a))
        )

        assert [response.status_code for response in responses] == [200, 200, 200]
        assert len({response.json()["access_token"] for response in responses}) == 1
        assert await asyncio.to_thread(dynamics.token_requests) == before + 1
        # The rotated refresh token was saved: the grant still works afterwards.
        await expire_access_token(settings.database_url, connection_id)
        assert (await replica_b.post(url, json=body)).status_code == 200


async def test_a_revoked_grant_leads_to_reauthorisation_with_a_clear_message(
    settings: TokenBrokerSettings,
    dynamics: RunningDynamicsSandbox,
    rabbitmq_url: str,
) -> None:
    events: list[CredentialNeedsReauthorisation] = []

    async def on_reauthorisation(
        message: CredentialNeedsReauthorisation, context: MessageContext
    ) -> None:
        events.append(message)

    listener = RabbitMQBroker(rabbitmq_url, settings.bus_namespace)
    await listener.connect()
    subscription = Subscription(
        "reauth-listener", CredentialNeedsReauthorisation, on_reauthorisation
    )
    consumer = await listener.consume(subscription)
    try:
        async with token_broker(settings) as client:
            connection_id = await connect(client, dynamics)
            await expire_access_token(settings.database_url, connection_id)
            await asyncio.to_thread(dynamics.revoke_demo_user_sessions)
            url = f"/v1/connections/{connection_id}/credentials/dynamics/access-token"

            refused = await client.post(url, json={"resource": dynamics.org_url()})
            assert refused.status_code == 409
            message = refused.json()["detail"]["message"]
            assert message == (
                "The Dynamics 365 authorisation was revoked (the password changed or access was "
                "withdrawn). Connect to Dynamics 365 again in the portal."
            )
            calls_after_refusal = await asyncio.to_thread(dynamics.token_requests)
            again = await client.post(url, json={"resource": dynamics.org_url()})
            assert again.status_code == 409
            assert await asyncio.to_thread(dynamics.token_requests) == calls_after_refusal

            statuses = (await client.get(f"/v1/connections/{connection_id}/credentials")).json()
            assert [(s["provider"], s["status"], s["message"]) for s in statuses] == [
                ("dynamics", "reauthorisation_needed", message)
            ]
        await eventually(lambda: len(events) == 1)
        assert events[0].connection_id == connection_id
        assert events[0].message == message
    finally:
        await consumer.stop(drain_seconds=1)
        await listener.close()
        await delete_topology(rabbitmq_url, listener, [subscription])


async def test_api_requires_the_internal_key_and_explains_refusals(
    settings: TokenBrokerSettings, dynamics: RunningDynamicsSandbox
) -> None:
    async with token_broker(settings) as client:
        unknown = uuid.uuid4()
        no_key = await client.get(
            f"/v1/connections/{unknown}/credentials", headers={"Authorization": "Bearer wrong"}
        )
        assert no_key.status_code == 401
        missing = await client.post(
            f"/v1/connections/{unknown}/credentials/xero/access-token", json={}
        )
        assert missing.status_code == 404
        bad_code = await client.post(
            f"/v1/connections/{unknown}/credentials/dynamics",
            json={
                "code": "forged",
                "redirect_uri": dynamics.redirect_uri,
                "code_verifier": "v" * 43,
            },
        )
        assert bad_code.status_code == 400
        assert bad_code.json()["detail"].startswith("Dynamics 365 did not accept the authorisation")
        bad_provider = await client.get(f"/v1/connections/{unknown}/credentials/sage")
        assert bad_provider.status_code in (404, 405, 422)


async def test_key_rotation_re_encrypts_with_the_new_key(
    dynamics: RunningDynamicsSandbox, migrated_sqlite: str
) -> None:
    old = broker_settings(dynamics, migrated_sqlite, "memory://", "rotation")
    async with token_broker(old) as client:
        connection_id = await connect(client, dynamics)

    new_key = Fernet.generate_key().decode()
    both = broker_settings(
        dynamics, migrated_sqlite, "memory://", "rotation", encryption_keys=f"{new_key},{KEY}"
    )
    service = create_service(Infrastructure.from_settings(both), both)
    assert await service.app.state.credentials.rotate_encryption() == 1
    await service.infrastructure.database.dispose()

    only_new = broker_settings(
        dynamics, migrated_sqlite, "memory://", "rotation", encryption_keys=new_key
    )
    async with token_broker(only_new) as client:
        response = await client.post(
            f"/v1/connections/{connection_id}/credentials/dynamics/access-token",
            json={"resource": dynamics.org_url()},
        )
    assert response.status_code == 200, response.text


async def test_xero_refresh_rotates_and_a_second_replica_never_spends_the_old_token(
    settings: TokenBrokerSettings, xero: XeroSandbox
) -> None:
    async with token_broker(settings) as replica_a, token_broker(settings) as replica_b:
        connection_id = await connect_xero(replica_a, xero)
        url = f"/v1/connections/{connection_id}/credentials/xero/access-token"
        first = (await replica_a.post(url, json={})).json()["access_token"]
        connections = await asyncio.to_thread(
            xero.http.get, f"{xero.base}/connections", headers={"Authorization": f"Bearer {first}"}
        )
        assert [c["tenantId"] for c in connections.json()] == [xero.tenant]

        for _ in range(2):  # each refresh spends the previous refresh token
            await expire_access_token(settings.database_url, connection_id)
            responses = await asyncio.gather(
                *(replica.post(url, json={}) for replica in (replica_a, replica_b))
            )
            assert [response.status_code for response in responses] == [200, 200]
            tokens = {response.json()["access_token"] for response in responses}
            assert len(tokens) == 1
            assert first not in tokens
            first = tokens.pop()
        organisation = await asyncio.to_thread(
            xero.http.get,
            xero.api("Organisation"),
            headers={"Authorization": f"Bearer {first}", "xero-tenant-id": xero.tenant},
        )
        assert organisation.status_code == 200, organisation.text


async def test_a_xero_disconnect_leads_to_reauthorisation(
    settings: TokenBrokerSettings, xero: XeroSandbox
) -> None:
    async with token_broker(settings) as client:
        connection_id = await connect_xero(client, xero)
        await expire_access_token(settings.database_url, connection_id)
        revoked = await asyncio.to_thread(
            xero.admin, "POST", f"organisations/{xero.tenant}/revoke-grants"
        )
        assert revoked.json()["revoked_grants"] >= 1

        refused = await client.post(
            f"/v1/connections/{connection_id}/credentials/xero/access-token", json={}
        )
        assert refused.status_code == 409
        assert refused.json()["detail"]["message"] == (
            "The Xero authorisation has expired or was revoked. Connect to Xero again in the "
            "portal."
        )


async def test_forgetting_a_xero_grant_revokes_it_at_xero(
    settings: TokenBrokerSettings, xero: XeroSandbox
) -> None:
    async with token_broker(settings) as client:
        connection_id = await connect_xero(client, xero)
        token = (
            await client.post(
                f"/v1/connections/{connection_id}/credentials/xero/access-token", json={}
            )
        ).json()["access_token"]
        assert (
            await client.delete(f"/v1/connections/{connection_id}/credentials/xero")
        ).status_code == 204
    after = await asyncio.to_thread(
        xero.http.get, f"{xero.base}/connections", headers={"Authorization": f"Bearer {token}"}
    )
    assert after.status_code == 401


async def test_a_token_the_provider_refused_is_refreshed_or_shows_the_grant_is_gone(
    settings: TokenBrokerSettings, xero: XeroSandbox
) -> None:
    async with token_broker(settings) as client:
        connection_id = await connect_xero(client, xero)
        url = f"/v1/connections/{connection_id}/credentials/xero/access-token"
        held = (await client.post(url, json={})).json()["access_token"]

        renewed = (await client.post(url, json={"rejected_token": held})).json()["access_token"]
        assert renewed != held
        # A worker still reporting the old token gets the new one, without another refresh.
        assert (await client.post(url, json={"rejected_token": held})).json()[
            "access_token"
        ] == renewed

        await asyncio.to_thread(xero.admin, "POST", f"organisations/{xero.tenant}/revoke-grants")
        assert (await client.post(url, json={})).json()["access_token"] == renewed  # not expired
        refused = await client.post(url, json={"rejected_token": renewed})
        assert refused.status_code == 409
        assert "Connect to Xero again" in refused.json()["detail"]["message"]
