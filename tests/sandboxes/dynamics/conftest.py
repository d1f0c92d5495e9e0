"""A running Dynamics sandbox per test, with a manual clock and token helpers."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from dynamics_sandbox.app import create_app
from dynamics_sandbox.settings import DynamicsSandboxSettings
from dynamics_sandbox.state import SandboxState
from fastapi import FastAPI
from sandbox_kit.clock import ManualClock

from tests.support.http_server import serve_in_thread

VERIFIER = "sandbox-test-verifier-" + "x" * 30
CHALLENGE = (
    base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
)


@dataclass
class Sandbox:
    base: str
    app: FastAPI
    clock: ManualClock
    http: httpx.Client

    @property
    def state(self) -> SandboxState:
        state: SandboxState = self.app.state.sandbox
        return state

    @property
    def settings(self) -> DynamicsSandboxSettings:
        return self.state.settings

    def org_url(self, org: str = "demo") -> str:
        return f"{self.base}/orgs/{org}"

    def api(self, org: str = "demo") -> str:
        return f"{self.org_url(org)}/api/data/v9.2"

    def authorize(self, scope: str, *, user: str | None = None) -> str:
        """The pre-approved shortcut: login_hint of an auto-approve user redirects with a code."""
        response = self.http.get(
            f"{self.base}/common/oauth2/v2.0/authorize",
            params={
                "client_id": self.settings.demo_client_id,
                "response_type": "code",
                "redirect_uri": self.settings.demo_redirect_uris[0],
                "scope": scope,
                "state": "s1",
                "code_challenge": CHALLENGE,
                "code_challenge_method": "S256",
                "login_hint": user or self.settings.demo_user,
            },
        )
        assert response.status_code == 302, response.text
        return parse_qs(urlparse(response.headers["location"]).query)["code"][0]

    def token_request(self, **form: str) -> httpx.Response:
        form.setdefault("client_id", self.settings.demo_client_id)
        form.setdefault("client_secret", self.settings.demo_client_secret)
        return self.http.post(f"{self.base}/common/oauth2/v2.0/token", data=form)

    def redeem(self, code: str, verifier: str = VERIFIER) -> httpx.Response:
        return self.token_request(
            grant_type="authorization_code",
            code=code,
            redirect_uri=self.settings.demo_redirect_uris[0],
            code_verifier=verifier,
        )

    def tokens(
        self, org: str = "demo", *, user: str | None = None, offline: bool = True
    ) -> dict[str, Any]:
        scope = f"{self.org_url(org)}/user_impersonation" + (" offline_access" if offline else "")
        response = self.redeem(self.authorize(scope, user=user))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def headers(
        self, org: str = "demo", *, user: str | None = None, **extra: str
    ) -> dict[str, str]:
        token = self.tokens(org, user=user, offline=False)["access_token"]
        return {"Authorization": f"Bearer {token}", "Accept": "application/json", **extra}

    def add_user(self, upn: str, orgs: list[str], **extra: Any) -> dict[str, Any]:
        response = self.http.post(
            f"{self.base}/sandbox-admin/users",
            json={"upn": upn, "orgs": orgs, "auto_approve": True, **extra},
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


def make_sandbox(**settings: Any) -> Iterator[Sandbox]:
    clock = ManualClock()
    app = create_app(
        DynamicsSandboxSettings(token_signing_key="test-signing-key-0123456789abcdef", **settings),
        clock=clock,
    )
    with serve_in_thread(app) as base, httpx.Client(timeout=30) as http:
        yield Sandbox(base, app, clock, http)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from make_sandbox()


@pytest.fixture
def dv(sandbox: Sandbox) -> tuple[Sandbox, dict[str, str]]:
    """The sandbox and Web API headers of the demo user."""
    return sandbox, sandbox.headers()
