import argparse
import asyncio

import httpx
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.service import run_service
from dxc_shared.settings import SettingsError, load_settings

from token_broker.app import create_credential_service, create_service
from token_broker.settings import TokenBrokerSettings


def main() -> None:
    run_service(TokenBrokerSettings, create_service)


def rotate_keys() -> None:
    """Re-encrypt every stored token with the newest of TOKEN_BROKER_ENCRYPTION_KEYS."""
    argparse.ArgumentParser(description=rotate_keys.__doc__).parse_args()
    try:
        settings = load_settings(TokenBrokerSettings)
    except SettingsError as error:
        raise SystemExit(f"token-broker-rotate-keys: {error}") from None

    async def run() -> int:
        infrastructure = Infrastructure.from_settings(settings)
        async with httpx.AsyncClient() as http:
            service = create_credential_service(infrastructure, settings, http)
            rotated = await service.rotate_encryption()
        await infrastructure.database.dispose()
        return rotated

    print(f"re-encrypted {asyncio.run(run())} credential(s) with the newest key")
