from dxc_shared.service import run_service

from token_broker.app import create_service
from token_broker.settings import TokenBrokerSettings


def main() -> None:
    run_service(TokenBrokerSettings(), create_service)
