"""A running Xero sandbox per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.xero_sandbox import XeroSandbox, running_xero_sandbox


@pytest.fixture
def sandbox() -> Iterator[XeroSandbox]:
    with running_xero_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def xero(sandbox: XeroSandbox) -> tuple[XeroSandbox, dict[str, str]]:
    """The sandbox and API headers with every accounting scope for the demo organisation."""
    return sandbox, sandbox.headers()
