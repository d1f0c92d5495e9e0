from dxc_shared.service import run_service

from portal_api.app import create_service
from portal_api.settings import PortalApiSettings


def main() -> None:
    run_service(PortalApiSettings, create_service)
