from dxc_shared.service import run_service

from invoice_sync.app import create_service
from invoice_sync.settings import InvoiceSyncSettings


def main() -> None:
    run_service(InvoiceSyncSettings, create_service)
