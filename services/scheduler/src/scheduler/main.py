from dxc_shared.service import run_service

from scheduler.app import create_service
from scheduler.settings import SchedulerSettings


def main() -> None:
    run_service(SchedulerSettings, create_service)
