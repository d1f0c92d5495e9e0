"""Where the Dataverse contract runs: the Dynamics sandbox (default) or a real Dataverse
organisation named by ``DXC_CONTRACT_DATAVERSE_URL`` (e.g. ``https://org.crm.dynamics.com``)
with an app registration (``_TENANT_ID``, ``_CLIENT_ID``, ``_CLIENT_SECRET``) that is an
application user of that organisation (security role with read/write on accounts and
contacts). Tests create their own rows, named ``dxc-contract-<random>``, and delete them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
import pytest

from tests.contract.conftest import real_service_settings
from tests.sandboxes.dynamics.conftest import Sandbox, make_sandbox

PREFIX = "DXC_CONTRACT_DATAVERSE"
ENTRA = "https://login.microsoftonline.com"


@dataclass
class Target:
    """One Dataverse Web API (v9.2) and an authenticated client for it."""

    api: str
    http: httpx.Client
    headers: dict[str, str]
    # Present for the sandbox only: lets a test move time (e.g. to expire a delta token).
    sandbox: Sandbox | None = None
    created: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        """`path` below the Web API root, or an absolute URL the service gave."""
        return path if path.startswith(("http://", "https://")) else f"{self.api}/{path}"

    def get(self, path: str, **headers: str) -> httpx.Response:
        return self.http.get(self.url(path), headers={**self.headers, **headers})

    def create(self, entity_set: str, body: dict[str, Any]) -> str:
        """A new row's URL; deleted when the test ends."""
        response = self.http.post(self.url(entity_set), json=body, headers=self.headers)
        assert response.status_code == 204, response.text
        location: str = response.headers["OData-EntityId"]
        self.created.append(location)
        return location

    def cleanup(self) -> None:
        for location in reversed(self.created):
            self.http.delete(location, headers=self.headers)


def unique_name() -> str:
    return f"dxc-contract-{uuid.uuid4().hex[:10]}"


def _real_target(settings: dict[str, str]) -> Iterator[Target]:
    org = settings["url"].rstrip("/")
    with httpx.Client(timeout=60) as http:
        token = http.post(
            f"{ENTRA}/{settings['tenant_id']}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": settings["client_id"],
                "client_secret": settings["client_secret"],
                "scope": f"{org}/.default",
            },
        )
        assert token.status_code == 200, token.text
        headers = {
            "Authorization": f"Bearer {token.json()['access_token']}",
            "Accept": "application/json",
            "OData-Version": "4.0",
            "OData-MaxVersion": "4.0",
        }
        yield Target(f"{org}/api/data/v9.2", http, headers)


def _sandbox_target() -> Iterator[Target]:
    for sandbox in make_sandbox():
        yield Target(sandbox.api(), sandbox.http, sandbox.headers(), sandbox)


@pytest.fixture(params=["sandbox", "real-org"])
def dataverse(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Each contract test runs twice: on the sandbox, and on the real organisation when its
    variables are set (skipped, saying which, otherwise)."""
    targets: Callable[[], Iterator[Target]] = _sandbox_target
    if request.param == "real-org":
        names = ("url", "tenant_id", "client_id", "client_secret")
        settings = real_service_settings(PREFIX, names)
        if settings is None:
            variables = ", ".join(f"{PREFIX}_{n.upper()}" for n in names)
            pytest.skip(f"no real Dataverse organisation: set {variables}")
        targets = partial(_real_target, settings)
    for target in targets():
        try:
            yield target
        finally:
            target.cleanup()


@pytest.fixture
def sandbox_only(dataverse: Target) -> Sandbox:
    """For assertions that need to move time: skipped against a real organisation."""
    if dataverse.sandbox is None:
        pytest.skip("needs the sandbox's clock (a real organisation cannot be fast-forwarded)")
    return dataverse.sandbox
