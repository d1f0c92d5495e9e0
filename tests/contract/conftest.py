"""The contract suite: assertions that define "faithful" for each vendor API the connector
uses, run against the sandboxes by default and against the real service when its credentials
are in the environment (see README "Contract suite"). One sub-package per vendor
(``dataverse/``, ``xero/``): each provides a ``Target`` fixture that
knows how to reach either the sandbox or the real service, and tests speak only to it."""

from __future__ import annotations

import os

import pytest


def real_service_settings(prefix: str, names: tuple[str, ...]) -> dict[str, str] | None:
    """``{name: value}`` from ``{prefix}_{NAME}`` variables when all are set; None when none
    is; a partial set is an operator mistake, reported as a failure rather than a skip."""
    values = {name: os.environ.get(f"{prefix}_{name.upper()}", "") for name in names}
    given = [name for name, value in values.items() if value]
    if not given:
        return None
    missing = [f"{prefix}_{name.upper()}" for name, value in values.items() if not value]
    if missing:
        pytest.fail(f"contract suite: set {', '.join(missing)} too, or none of them")
    return values
