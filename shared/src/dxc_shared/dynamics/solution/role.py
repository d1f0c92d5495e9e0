"""The "Xero Connector User" security role: exactly the privileges the connector needs
(`schema.REQUIRED_PRIVILEGES`), organisation-wide ("Security roles and privileges", and the
Role component of "Solution component file reference", Microsoft Learn)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dxc_shared.dynamics.schema import REQUIRED_PRIVILEGES
from dxc_shared.dynamics.solution.xml import element, stable_id

ROLE_NAME = "Xero Connector User"
ROLE_ID = stable_id("role:xero-connector-user")
# Global: the connector works on every invoice and customer of the organisation.
DEPTH = "Global"


def role_element() -> ET.Element:
    privileges = [
        element("RolePrivilege", {"name": name, "level": DEPTH}) for name in REQUIRED_PRIVILEGES
    ]
    return element(
        "Role", {"id": ROLE_ID, "name": ROLE_NAME}, element("RolePrivileges", {}, *privileges)
    )
