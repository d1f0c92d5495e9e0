"""The connector's Dataverse solution package: the zip an administrator imports in Dynamics
(Settings > Solutions > Import) and portal-api imports through the Web API (`ImportSolution`).

It holds ``solution.xml`` (the manifest: unique name, version, publisher, root components),
``customizations.xml`` (tables, columns, lookups, forms, views, the security role) and
``[Content_Types].xml``, the three files Dataverse requires at the root of the zip
("Solution file" / ImportCustomizationsBadZipFileError, Microsoft Learn). Managed, so deleting
the solution removes what it added ("Uninstall or delete a solution", Microsoft Learn).

The version: `RELEASES` records each released version with the fingerprint of its content.
`tests/unit/shared/test_solution.py` fails when the content no longer matches the last
release's fingerprint, so a change cannot ship under an old version number: it needs a new,
higher version appended (the test says which fingerprint to record). An import of a higher
version over the installed one is an update that keeps every row.
"""

from __future__ import annotations

import hashlib
import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass

from dxc_shared.dynamics.schema import TABLES, Table
from dxc_shared.dynamics.solution.entities import entity_element, relationships_element
from dxc_shared.dynamics.solution.forms import FORMS
from dxc_shared.dynamics.solution.role import ROLE_ID, role_element
from dxc_shared.dynamics.solution.views import VIEWS
from dxc_shared.dynamics.solution.xml import LANGUAGE, element, labels, render, text

UNIQUE_NAME = "dxcXeroConnector"
FRIENDLY_NAME = "Xero connector"
DESCRIPTION = (
    "Sends Dynamics 365 invoices to Xero and brings Xero's status, payments and balances "
    "back: the connector's tables, its Xero forms and views, and the Xero Connector User role."
)
PUBLISHER = "dxc"
PREFIX = "dxc"
OPTION_VALUE_PREFIX = 10000
# (version, fingerprint of the content), oldest first. Append one for every change.
RELEASES: tuple[tuple[str, str], ...] = (
    ("1.0.0.0", "a416fbad466bdd3dc7247a44fe3ef13d145762233d97c4f5dd2b522dc702f2bb"),
)
VERSION = RELEASES[-1][0]
FILE_NAME = f"{UNIQUE_NAME}_{VERSION.replace('.', '_')}_managed.zip"

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="xml" ContentType="application/'
    b'octet-stream" /></Types>'
)
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
# Root component types ("solutioncomponent" componenttype choices, Microsoft Learn).
ENTITY, ROLE, SAVED_QUERY, SYSTEM_FORM = 1, 20, 26, 60
# RootComponent behavior: 0 include the table with all its parts, 2 the table as a shell
# (a standard table: only the parts listed are the solution's).
_WHOLE, _SHELL = "0", "2"


@dataclass(frozen=True)
class Package:
    version: str
    content: bytes  # the zip

    @property
    def file_name(self) -> str:
        return FILE_NAME


def _table_entity(table: Table) -> ET.Element:
    forms = [f.systemform() for f in FORMS if f.table is table]
    views = [v.savedquery() for v in VIEWS if v.table is table]
    return entity_element(
        table,
        element("FormXml", {}, element("forms", {"type": "main"}, *forms)),
        element("SavedQueries", {}, element("savedqueries", {}, *views)),
    )


def customizations_xml() -> bytes:
    root = element(
        "ImportExportXml",
        {},
        element("Entities", {}, *(_table_entity(t) for t in TABLES)),
        element("Roles", {}, role_element()),
        relationships_element(),
        element("Languages", {}, text("Language", LANGUAGE)),
    )
    root.set("xmlns:xsi", _XSI)
    return render(root)


def _root_components() -> ET.Element:
    components = [
        element(
            "RootComponent",
            {
                "type": str(ENTITY),
                "schemaName": t.logical_name,
                "behavior": _SHELL if t.standard else _WHOLE,
            },
        )
        for t in TABLES
    ]
    standard = {t.logical_name for t in TABLES if t.standard}
    components += [
        element("RootComponent", {"type": str(SYSTEM_FORM), "id": f.id, "behavior": "0"})
        for f in FORMS
        if f.table.logical_name in standard
    ]
    components += [
        element("RootComponent", {"type": str(SAVED_QUERY), "id": v.id, "behavior": "0"})
        for v in VIEWS
        if v.table.logical_name in standard
    ]
    components.append(element("RootComponent", {"type": str(ROLE), "id": ROLE_ID}))
    return element("RootComponents", {}, *components)


def solution_xml(version: str) -> bytes:
    publisher = element(
        "Publisher",
        {},
        text("UniqueName", PUBLISHER),
        labels("LocalizedNames", "LocalizedName", "dx-connector"),
        labels("Descriptions", "Description", "The makers of the Xero connector."),
        text("CustomizationPrefix", PREFIX),
        text("CustomizationOptionValuePrefix", OPTION_VALUE_PREFIX),
    )
    manifest = element(
        "SolutionManifest",
        {},
        text("UniqueName", UNIQUE_NAME),
        labels("LocalizedNames", "LocalizedName", FRIENDLY_NAME),
        labels("Descriptions", "Description", DESCRIPTION),
        text("Version", version),
        text("Managed", 1),
        publisher,
        _root_components(),
        element("MissingDependencies", {}),
    )
    root = element(
        "ImportExportXml",
        {"version": "9.2.0.0", "SolutionPackageVersion": "9.2", "languagecode": LANGUAGE},
        manifest,
    )
    root.set("xmlns:xsi", _XSI)
    return render(root)


def fingerprint() -> str:
    """What the content is, whatever version it carries."""
    digest = hashlib.sha256(customizations_xml())
    digest.update(solution_xml("0.0.0.0"))
    return digest.hexdigest()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            # A fixed date: the same content makes the same bytes.
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def build() -> Package:
    files = {
        "solution.xml": solution_xml(VERSION),
        "customizations.xml": customizations_xml(),
        "[Content_Types].xml": _CONTENT_TYPES,
    }
    return Package(VERSION, _zip(files))
