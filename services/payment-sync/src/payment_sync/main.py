from dxc_shared.service import run_service

from payment_sync.app import create_service
from payment_sync.settings import PaymentSyncSettings


def main() -> None:
    run_service(PaymentSyncSettings, create_service)
