"""One classification of the errors a run meets (see the package's docstring)."""

from __future__ import annotations

from collections.abc import Sequence

from dxc_shared.clients.dataverse import (
    BatchResult,
    DataverseError,
    DataverseThrottled,
    DataverseUnavailable,
)
from dxc_shared.clients.xero_accounting import XeroRateLimited, XeroUnauthorised, XeroUnavailable
from dxc_shared.credentials import CredentialMissing, ReauthorisationNeeded
from dxc_shared.messages import Provider

TRANSIENT_ERRORS = (XeroUnavailable, XeroRateLimited, DataverseUnavailable, DataverseThrottled)


class RunBlocked(Exception):
    """The run cannot go on until a person acts; `message` says what to do, in words.

    `reauthorise` names the provider whose grant must be renewed, when that is the reason
    (invoice-sync writes it on the connector record in Dynamics too)."""

    def __init__(self, message: str, *, reauthorise: Provider | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reauthorise = reauthorise


def reauthorisation_text(provider: Provider, message: str) -> str:
    """What a person is told when a grant must be renewed."""
    system = "Xero" if provider == "xero" else "Dynamics 365"
    return f"The connection to {system} needs to be authorised again: {message}"


def blocked_by(error: BaseException) -> RunBlocked | None:
    """The `RunBlocked` an error means, or None when it is not one a person must act on
    (transient errors and bugs are None: they go to the bus's retries)."""
    if isinstance(error, RunBlocked):
        return error
    if isinstance(error, ReauthorisationNeeded):
        return RunBlocked(
            reauthorisation_text(error.provider, error.message), reauthorise=error.provider
        )
    if isinstance(error, CredentialMissing):
        return RunBlocked(
            "The connection is not authorised with both Xero and Dynamics 365: connect them "
            "in the portal."
        )
    if isinstance(error, XeroUnauthorised):
        return RunBlocked(
            reauthorisation_text(
                "xero",
                f"Xero refused the connector's access to the organisation ({error.message}). "
                "Reconnect Xero in the portal.",
            ),
            reauthorise="xero",
        )
    if isinstance(error, DataverseError):
        if error.status in (401, 403):
            return RunBlocked(
                f"Dynamics 365 refused the connector's access ({error.message}): check the "
                "roles of the connector's user in Dynamics 365."
            )
        # Retrying the same request cannot help (e.g. the mapping template names a column the
        # table does not have): say so instead of retrying.
        return RunBlocked(f"Dynamics 365 refused a request of the connector: {error.message}")
    return None


def raise_if_transient(results: Sequence[Sequence[BatchResult]]) -> None:
    """A `$batch` change set refused for service protection or a server fault is not the
    record's fault: raise, so the bus retries the whole (idempotent) run later."""
    for change_set in results:
        for result in change_set:
            if result.status == 429:
                raise DataverseThrottled(5.0)
            if result.status >= 500:
                raise DataverseUnavailable(
                    f"a $batch change set answered {result.status}: {result.error_message}"
                )
