"""What every step of one connection's run works with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from dxc_shared.clients.dataverse import DataverseClient
from dxc_shared.clients.xero_accounting import XeroAccountingClient
from dxc_shared.db import Database
from dxc_shared.messages import ConnectionSyncProfile
from dxc_shared.sync import Vendors

from invoice_sync.ledger.exports import Ledger
from invoice_sync.ledger.lease import Lease


@dataclass(frozen=True)
class RunContext:
    profile: ConnectionSyncProfile
    vendors: Vendors
    database: Database
    ledger: Ledger
    lease: Lease
    xero_web_url: str

    @property
    def connection_id(self) -> uuid.UUID:
        return self.profile.connection_id

    @property
    def xero(self) -> XeroAccountingClient:
        return self.vendors.xero

    @property
    def dataverse(self) -> DataverseClient:
        return self.vendors.dataverse
