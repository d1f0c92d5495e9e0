"""Install, upgrade and remove the connector's Dataverse solution through the Web API, and
check the signed-in user's privileges.

Install imports the solution package (`ImportSolution`, then `PublishAllXml`) when the
organisation has no version of it or an older one; an import over an older version is an
update that keeps every row ("ImportSolutionRequest.OverwriteUnmanagedCustomizations",
Microsoft Learn). An organisation where an
administrator imported the package by hand is recognised by the solution record (unique name
and version), so nothing is imported twice. Uninstall deletes the solution, which removes its
tables, columns, forms, views and role: a managed solution's components go with it.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Literal

from dxc_shared.clients.dataverse import DataverseClient, odata_literal
from dxc_shared.dynamics.schema import REQUIRED_PRIVILEGES
from dxc_shared.dynamics.solution import UNIQUE_NAME, Package, build

SOLUTIONS = "solutions"


@dataclass(frozen=True)
class InstalledSolution:
    id: str
    version: str


@dataclass(frozen=True)
class InstallReport:
    action: Literal["installed", "upgraded", "current"]
    version: str  # the version in the organisation now
    previous_version: str | None


def version_key(version: str) -> tuple[int, ...]:
    """``1.2.0.10`` as numbers, so 1.10 sorts after 1.9."""
    return tuple(int(part) for part in version.split("."))


async def installed(client: DataverseClient) -> InstalledSolution | None:
    """The connector's solution in the organisation, imported by the portal or by hand."""
    rows = await client.query(
        SOLUTIONS,
        select=["solutionid", "version"],
        filter=f"uniquename eq {odata_literal(UNIQUE_NAME)}",
        top=1,
    )
    if not rows:
        return None
    return InstalledSolution(str(rows[0]["solutionid"]), str(rows[0]["version"]))


async def install(client: DataverseClient, package: Package | None = None) -> InstallReport:
    package = package or build()
    current = await installed(client)
    if current is not None and version_key(current.version) >= version_key(package.version):
        return InstallReport("current", current.version, current.version)
    await client.request(
        "POST",
        "ImportSolution",
        operation="import_solution",
        body={
            "CustomizationFile": base64.b64encode(package.content).decode(),
            "OverwriteUnmanagedCustomizations": True,
            "PublishWorkflows": False,
            "ImportJobId": str(uuid.uuid4()),
        },
    )
    await client.request("POST", "PublishAllXml", operation="publish", body={})
    return InstallReport(
        "upgraded" if current else "installed",
        package.version,
        current.version if current else None,
    )


async def uninstall(client: DataverseClient) -> bool:
    """Delete the solution (and with it everything it added). False when it is not there."""
    current = await installed(client)
    if current is None:
        return False
    await client.request("DELETE", f"{SOLUTIONS}({current.id})", operation="delete_solution")
    return True


async def missing_privileges(client: DataverseClient) -> list[str]:
    """What the signed-in user may not do that the connector needs (the privileges of the
    "Xero Connector User" role), in words."""
    user_id = (await client.who_am_i())["UserId"]
    response = await client.request(
        "GET",
        f"systemusers({user_id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()",
        operation="retrieve_user_privileges",
    )
    assert response is not None
    held = {item["PrivilegeName"] for item in response.json().get("RolePrivileges", [])}
    return [words for name, words in REQUIRED_PRIVILEGES.items() if name not in held]
