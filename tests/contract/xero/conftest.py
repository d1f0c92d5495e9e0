"""Where the Xero contract runs: the Xero sandbox (default) or a real Xero organisation (a demo
company is enough) reached through an app whose ``DXC_CONTRACT_XERO_CLIENT_ID`` and
``_CLIENT_SECRET`` are given with a ``_REFRESH_TOKEN`` of a user who connected it to the
organisation ``_TENANT_ID`` (scopes: offline_access accounting.transactions or
accounting.invoices/payments, accounting.contacts, accounting.settings). Tests create their own
contacts and documents, named ``dxc-contract-<random>``; Xero deletes nothing, so a demo
company (reset by Xero every 28 days) is the place for them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest

from tests.contract.conftest import real_service_settings
from tests.support.xero_sandbox import XeroSandbox, running_xero_sandbox

PREFIX = "DXC_CONTRACT_XERO"
NAMES = ("client_id", "client_secret", "refresh_token", "tenant_id")
IDENTITY = "https://identity.xero.com"
API = "https://api.xero.com"


@dataclass
class Target:
    """One Xero organisation: the Accounting API, the identity endpoints and a signed-in app."""

    api_root: str  # .../api.xro/2.0
    connections_url: str
    token_url: str
    http: httpx.Client
    client_id: str
    client_secret: str
    tenant_id: str
    # The refresh grant's answer that signed this target in (what the connector stores).
    grant: dict[str, Any]
    sandbox: XeroSandbox | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.grant['access_token']}",
            "xero-tenant-id": self.tenant_id,
            "Accept": "application/json",
        }

    def url(self, path: str) -> str:
        return f"{self.api_root}/{path.lstrip('/')}"

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.get(self.url(path), headers=headers, **kwargs)

    def put(self, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.put(self.url(path), json=body, headers=headers, **kwargs)

    def post(self, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.post(self.url(path), json=body, headers=headers, **kwargs)

    def refresh(self, refresh_token: str) -> httpx.Response:
        return self.http.post(
            self.token_url,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(self.client_id, self.client_secret),
        )


def unique_name() -> str:
    return f"dxc-contract-{uuid.uuid4().hex[:10]}"


def _signed_in(target: Target, refresh_token: str) -> Target:
    response = target.refresh(refresh_token)
    assert response.status_code == 200, response.text
    target.grant = response.json()
    return target


def _real_target(settings: dict[str, str]) -> Iterator[Target]:
    with httpx.Client(timeout=60) as http:
        target = Target(
            f"{API}/api.xro/2.0",
            f"{API}/connections",
            f"{IDENTITY}/connect/token",
            http,
            settings["client_id"],
            settings["client_secret"],
            settings["tenant_id"],
            {},
        )
        yield _signed_in(target, settings["refresh_token"])


def _sandbox_target() -> Iterator[Target]:
    with running_xero_sandbox() as sandbox:
        target = Target(
            sandbox.api("").rstrip("/"),
            f"{sandbox.base}/connections",
            f"{sandbox.base}/connect/token",
            sandbox.http,
            sandbox.settings.demo_client_id,
            sandbox.settings.demo_client_secret,
            sandbox.tenant,
            {},
            sandbox,
        )
        yield _signed_in(target, sandbox.tokens()["refresh_token"])


@pytest.fixture(params=["sandbox", "real-organisation"])
def xero(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Each contract test runs twice: on the sandbox, and on the real organisation when its
    variables are set (skipped, saying which, otherwise)."""
    targets: Callable[[], Iterator[Target]] = _sandbox_target
    if request.param == "real-organisation":
        settings = real_service_settings(PREFIX, NAMES)
        if settings is None:
            variables = ", ".join(f"{PREFIX}_{n.upper()}" for n in NAMES)
            pytest.skip(f"no real Xero organisation: set {variables}")
        targets = partial(_real_target, settings)
    yield from targets()
