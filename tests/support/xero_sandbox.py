"""A Xero sandbox served over real HTTP on loopback, with a manual clock and OAuth helpers,
for the sandbox's own tests and for every test that needs Xero."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from fastapi import FastAPI
from sandbox_kit.clock import ManualClock
from xero_sandbox.app import create_app
from xero_sandbox.settings import XeroSandboxSettings
from xero_sandbox.state import SandboxState

from tests.support.http_server import serve_in_thread

VERIFIER = "xero-sandbox-test-verifier-" + "v" * 30
CHALLENGE = (
    base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
)
ALL_SCOPES = (
    "openid profile email offline_access accounting.invoices accounting.payments "
    "accounting.contacts accounting.settings"
)


@dataclass
class XeroSandbox:
    base: str
    app: FastAPI
    clock: ManualClock
    http: httpx.Client

    @property
    def state(self) -> SandboxState:
        state: SandboxState = self.app.state.sandbox
        return state

    @property
    def settings(self) -> XeroSandboxSettings:
        return self.state.settings

    @property
    def tenant(self) -> str:
        return self.settings.demo_tenant_id

    def api(self, path: str) -> str:
        return f"{self.base}/api.xro/2.0/{path.lstrip('/')}"

    def authorize_params(self, scope: str = ALL_SCOPES, **extra: str) -> dict[str, str]:
        return {
            "client_id": self.settings.demo_client_id,
            "redirect_uri": self.settings.demo_redirect_uris[0],
            "response_type": "code",
            "scope": scope,
            "state": "st-123",
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
            **extra,
        }

    def authorize(self, scope: str = ALL_SCOPES) -> str:
        """The pre-approved shortcut: the demo user is auto-approved, so a code comes back."""
        response = self.http.get(
            f"{self.base}/identity/connect/authorize", params=self.authorize_params(scope)
        )
        assert response.status_code == 302, response.text
        query = parse_qs(urlparse(response.headers["location"]).query)
        assert query["state"] == ["st-123"]
        return query["code"][0]

    def token_request(self, **form: str) -> httpx.Response:
        form.setdefault("client_id", self.settings.demo_client_id)
        form.setdefault("client_secret", self.settings.demo_client_secret)
        return self.http.post(f"{self.base}/connect/token", data=form)

    def redeem(self, code: str, verifier: str = VERIFIER) -> httpx.Response:
        return self.token_request(
            grant_type="authorization_code",
            code=code,
            redirect_uri=self.settings.demo_redirect_uris[0],
            code_verifier=verifier,
        )

    def tokens(self, scope: str = ALL_SCOPES) -> dict[str, Any]:
        response = self.redeem(self.authorize(scope))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def headers(self, scope: str = ALL_SCOPES, tenant: str | None = None) -> dict[str, str]:
        token = self.tokens(scope)["access_token"]
        return {
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": tenant or self.tenant,
            "Accept": "application/json",
        }

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"{self.base}/sandbox-admin/{path.lstrip('/')}", **kwargs)


@contextmanager
def running_xero_sandbox(**settings: Any) -> Iterator[XeroSandbox]:
    """Settings override XeroSandboxSettings (limits, lifetimes, ...)."""
    clock = ManualClock()
    settings.setdefault("token_signing_key", "test-signing-key-0123456789abcdef-xyz")
    settings.setdefault("webhook_batch_delay_seconds", 0.05)
    settings.setdefault("webhook_retry_base_seconds", 0.05)
    app = create_app(XeroSandboxSettings(**settings), clock=clock)
    with serve_in_thread(app) as base, httpx.Client(timeout=30) as http:
        yield XeroSandbox(base, app, clock, http)
