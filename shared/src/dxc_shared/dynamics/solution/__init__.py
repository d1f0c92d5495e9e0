"""The connector's Dataverse solution, generated from `dxc_shared.dynamics.schema`."""

from dxc_shared.dynamics.solution.package import (
    FILE_NAME,
    UNIQUE_NAME,
    VERSION,
    Package,
    build,
)
from dxc_shared.dynamics.solution.role import ROLE_NAME

__all__ = ["FILE_NAME", "ROLE_NAME", "UNIQUE_NAME", "VERSION", "Package", "build"]
