"""portal-api facing the public behind its proxy: the client's address is read through the
trusted proxy only, nobody can lock another person's account, a login takes as long for an
unknown e-mail as for a known one, and e-mails are rate limited without saying so."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.portal_api.conftest import PASSWORD, Portal, portal_settings, started_portal
from tests.support.polling import eventually

PROXY = "10.0.0.2"
ACCOUNT_CEILING = 12
PER_RECIPIENT = 3
PER_CLIENT = 4


@pytest.fixture(scope="module")
async def portal(
    migrated_postgres: str,
    rabbitmq_url: str,
    namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Portal]:
    mailbox = tmp_path_factory.mktemp("mailbox")
    settings = portal_settings(
        database_url=migrated_postgres,
        broker_url=rabbitmq_url,
        namespace=namespace,
        mailbox=mailbox,
        token_broker_url="http://127.0.0.1:9",
        xero=None,
        dynamics=None,
        trusted_proxies=f"{PROXY}/32, 2001:db8::/64",
        login_account_max_failures=ACCOUNT_CEILING,
        email_max_per_recipient=PER_RECIPIENT,
        email_max_per_client=PER_CLIENT,
    )
    async with started_portal(settings, rabbitmq_url) as service:
        yield Portal(service, mailbox)


def _via_proxy(portal: Portal, forwarded_for: str) -> httpx.AsyncClient:
    """A browser behind the proxy: the proxy connects, the header names the client."""
    browser = portal.browser(PROXY)
    browser.headers["X-Forwarded-For"] = forwarded_for
    return browser


_addresses = (f"198.51.100.{host}" for host in itertools.count(1))


def _client_ip() -> str:
    """An address no other test uses."""
    return next(_addresses)


async def _sign_up(portal: Portal) -> str:
    """A confirmed account, signed up from an address of its own (so that its confirmation
    e-mail counts against no other test's client limit); its e-mail."""
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    async with _via_proxy(portal, _client_ip()) as browser:
        registered = await browser.post(
            "/v1/auth/register",
            json={"email": email, "name": "Ada Lovelace", "company_name": "Analytical Ltd"},
        )
        assert registered.status_code == 201, registered.text
        token = await portal.link_sent_to(email, "confirm")
        confirmed = await browser.post(
            "/v1/auth/confirm", json={"token": token, "password": PASSWORD}
        )
        assert confirmed.status_code == 200, confirmed.text
    return email


async def _login(browser: httpx.AsyncClient, email: str, password: str) -> int:
    response = await browser.post("/v1/auth/login", json={"email": email, "password": password})
    return response.status_code


async def test_attackers_at_two_addresses_cannot_lock_the_owner_out(portal: Portal) -> None:
    email = await _sign_up(portal)
    first, second = _client_ip(), "2001:db8:1::7"
    for attacker in (first, second):
        async with _via_proxy(portal, attacker) as browser:
            for _ in range(5):
                assert await _login(browser, email, "a wrong guess 1") == 401
            assert await _login(browser, email, PASSWORD) == 429

    # What a client writes before the proxy's entry is its own words and changes nothing.
    async with _via_proxy(portal, f"203.0.113.9, {first}") as spoofing:
        assert await _login(spoofing, email, PASSWORD) == 429

    async with _via_proxy(portal, "203.0.113.9") as owner:
        assert await _login(owner, email, PASSWORD) == 200


async def test_the_account_ceiling_holds_across_addresses(portal: Portal) -> None:
    email = await _sign_up(portal)
    for _ in range(ACCOUNT_CEILING // 4):
        async with _via_proxy(portal, _client_ip()) as attacker:
            for _ in range(4):
                assert await _login(attacker, email, "a wrong guess 1") == 401

    async with _via_proxy(portal, "203.0.113.10") as anyone:
        assert await _login(anyone, email, PASSWORD) == 429


async def test_forwarded_for_is_ignored_unless_the_proxy_sends_it(portal: Portal) -> None:
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    async with portal.browser("192.0.2.200") as direct:
        for attempt in range(5):
            direct.headers["X-Forwarded-For"] = f"203.0.113.{attempt + 20}"
            assert await _login(direct, email, "a wrong guess 1") == 401
        direct.headers["X-Forwarded-For"] = "203.0.113.99"
        assert await _login(direct, email, "a wrong guess 1") == 429


async def test_an_unknown_email_takes_as_long_as_a_known_one(portal: Portal) -> None:
    email = await _sign_up(portal)
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.com"

    async def fastest(address: str) -> float:
        times = []
        async with _via_proxy(portal, _client_ip()) as browser:
            for _ in range(3):
                started = time.perf_counter()
                assert await _login(browser, address, "a wrong guess 1") == 401
                times.append(time.perf_counter() - started)
        return min(times)

    known_time, unknown_time = await fastest(email), await fastest(unknown)
    # Without the dummy hash an unknown e-mail answered some thirty times faster.
    assert unknown_time > 0.4 * known_time, (known_time, unknown_time)


async def test_reset_emails_are_limited_per_address_and_client(portal: Portal) -> None:
    email = await _sign_up(portal)  # the confirmation is its first e-mail
    async with _via_proxy(portal, _client_ip()) as browser:
        answers = [
            await browser.post("/v1/auth/password-reset", json={"email": email})
            for _ in range(PER_RECIPIENT + 2)
        ]
    assert {(answer.status_code, answer.text) for answer in answers} == {
        (answers[0].status_code, answers[0].text)
    }
    assert answers[0].status_code == 202
    await eventually(lambda: len(portal.mails_to(email)) >= PER_RECIPIENT)

    others = [await _sign_up(portal) for _ in range(PER_CLIENT + 1)]
    client = _client_ip()
    for other in others:
        async with _via_proxy(portal, client) as browser:
            answer = await browser.post("/v1/auth/password-reset", json={"email": other})
            assert (answer.status_code, answer.text) == (answers[0].status_code, answers[0].text)
    expected = len(others) + PER_CLIENT  # the confirmations, then the resets let through
    await eventually(lambda: sum(len(portal.mails_to(other)) for other in others) >= expected)

    await _drain(portal)
    assert len(portal.mails_to(email)) == PER_RECIPIENT
    resets = sum(len(portal.mails_to(other)) - 1 for other in others)  # less confirmations
    assert resets == PER_CLIENT


async def _drain(portal: Portal) -> None:
    """Let the relay send whatever is queued."""
    relay = portal.app.state.email_relay
    while await relay.send_pending():
        pass
