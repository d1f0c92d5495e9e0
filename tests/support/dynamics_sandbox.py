"""Drive the Dynamics sandbox as a signed-in user would, for tests outside the sandbox's own."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from dxc_shared.clients.dataverse import DataverseClient, Sleep
from dynamics_sandbox.app import create_app
from dynamics_sandbox.settings import DynamicsSandboxSettings

from tests.support.http_server import serve_in_thread


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


@dataclass
class RunningDynamicsSandbox:
    base_url: str
    settings: DynamicsSandboxSettings

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/common/oauth2/v2.0/token"

    def org_url(self, org: str = "demo") -> str:
        return f"{self.base_url}/orgs/{org}"

    @property
    def redirect_uri(self) -> str:
        return self.settings.demo_redirect_uris[0]

    def authorization_code(self, scope: str, code_challenge: str) -> str:
        """Sign in as the demo user through the pre-approved shortcut and return the code."""
        response = httpx.get(
            f"{self.base_url}/common/oauth2/v2.0/authorize",
            params={
                "client_id": self.settings.demo_client_id,
                "response_type": "code",
                "redirect_uri": self.redirect_uri,
                "scope": scope,
                "state": "test",
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
                "login_hint": self.settings.demo_user,
            },
        )
        assert response.status_code == 302, response.text
        return parse_qs(urlparse(response.headers["location"]).query)["code"][0]

    def user_access_token(self, org: str = "demo") -> str:
        """An access token of the demo user for `org`, through the code flow."""
        verifier, challenge = pkce_pair()
        code = self.authorization_code(f"{self.org_url(org)}/user_impersonation", challenge)
        response = httpx.post(
            self.token_url,
            data={
                "grant_type": "authorization_code",
                "client_id": self.settings.demo_client_id,
                "client_secret": self.settings.demo_client_secret,
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            },
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = httpx.request(method, f"{self.base_url}/sandbox-admin/{path}", **kwargs)
        response.raise_for_status()
        return response

    def revoke_demo_user_sessions(self) -> None:
        response = httpx.post(
            f"{self.base_url}/sandbox-admin/users/{self.settings.demo_user}/revoke-sessions"
        )
        response.raise_for_status()

    def token_requests(self) -> int:
        """How many requests the token endpoint has answered."""
        response = httpx.get(
            f"{self.base_url}/sandbox-admin/calls",
            params={"method": "POST", "path_contains": "/oauth2/v2.0/token"},
        )
        response.raise_for_status()
        return len(response.json())


@contextmanager
def running_dynamics_sandbox() -> Iterator[RunningDynamicsSandbox]:
    settings = DynamicsSandboxSettings(token_signing_key="test-signing-key-of-32-bytes-at-least")
    with serve_in_thread(create_app(settings)) as base_url:
        yield RunningDynamicsSandbox(base_url, settings)


@asynccontextmanager
async def demo_user_dataverse(
    sandbox: RunningDynamicsSandbox, *, http_timeout: float = 20.0, sleep: Sleep = asyncio.sleep
) -> AsyncIterator[DataverseClient]:
    """The connector's Dataverse client, signed in as the demo user to the demo organisation."""
    token = await asyncio.to_thread(sandbox.user_access_token)

    async def access_token() -> str:
        return token

    async with httpx.AsyncClient(timeout=http_timeout) as http:
        yield DataverseClient(
            http, org_url=sandbox.org_url(), access_token=access_token, sleep=sleep
        )
