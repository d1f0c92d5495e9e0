"""The connector's Dataverse solution package, read back as Dynamics reads it: the three files
at the root of the zip, well-formed XML, every form and view naming only columns that exist,
every column described, the role holding exactly the connector's privileges, and a version
that changes whenever the content does.

Microsoft publishes the solution's XML schemas (customizationssolution.xsd, FormXml.xsd,
Fetch.xsd) only with its SDK tools on NuGet, not on PyPI or npm, so the package is not
validated against them here (sandboxes/dynamics/README.md)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

import pytest
from dxc_shared.dynamics import schema, solution
from dxc_shared.dynamics.installer import version_key
from dxc_shared.dynamics.solution import package
from dxc_shared.dynamics.solution.forms import CONTROL_CLASSES, FORMS, INVOICE_FORM
from dxc_shared.dynamics.solution.role import ROLE_ID
from dxc_shared.dynamics.solution.views import INVOICE_HISTORY, STANDARD_COLUMNS, VIEWS

pytestmark = pytest.mark.unit


def _files() -> dict[str, ET.Element]:
    archive = zipfile.ZipFile(io.BytesIO(solution.build().content))
    return {name: ET.fromstring(archive.read(name)) for name in archive.namelist()}


def _columns_by_table() -> dict[str, set[str]]:
    """Every column a form or view may name: the package's own, and the standard ones."""
    columns: dict[str, set[str]] = {}
    for table in schema.TABLES:
        own = {c.logical_name for c in table.columns} | {lk.logical_name for lk in table.lookups}
        if not table.standard:
            own |= {table.primary_id, table.primary_name.logical_name}
        else:
            own.add(table.primary_id)
        columns[table.logical_name] = own | STANDARD_COLUMNS.get(table.logical_name, set())
    return columns


def test_the_zip_holds_the_three_files_dataverse_requires_and_they_parse() -> None:
    files = _files()

    assert set(files) == {"solution.xml", "customizations.xml", "[Content_Types].xml"}
    manifest = files["solution.xml"].find("SolutionManifest")
    assert manifest is not None
    assert manifest.findtext("UniqueName") == solution.UNIQUE_NAME
    assert manifest.findtext("Version") == solution.VERSION
    assert manifest.findtext("Managed") == "1"
    assert manifest.findtext("Publisher/CustomizationPrefix") == "dxc"
    roots = {
        (c.get("type"), c.get("schemaName") or c.get("id")) for c in manifest.iter("RootComponent")
    }
    customizations = files["customizations.xml"]
    for entity in customizations.iter("Entity"):
        assert ("1", (entity.findtext("Name") or "").lower()) in roots
    assert {("60", f.id) for f in FORMS if f.table.standard} <= roots
    assert ("20", ROLE_ID) in roots


def test_the_same_content_makes_the_same_bytes() -> None:
    assert solution.build().content == solution.build().content


def test_every_table_column_and_lookup_is_described_for_a_finance_user() -> None:
    undescribed = [
        f"{table.schema_name}.{column.schema_name}"
        for table in schema.TABLES
        for column in table.columns
        if not column.description
    ]
    undescribed += [
        f"{table.schema_name}.{lookup.schema_name}"
        for table in schema.TABLES
        for lookup in table.lookups
        if not lookup.description
    ]
    undescribed += [t.schema_name for t in schema.TABLES if not t.standard and not t.description]
    assert undescribed == []


def test_forms_name_only_columns_that_exist_with_a_known_control() -> None:
    columns = _columns_by_table()
    customizations = _files()["customizations.xml"]
    for entity in customizations.iter("Entity"):
        table = (entity.findtext("Name") or "").lower()
        for control in entity.iter("control"):
            assert control.get("classid") in CONTROL_CLASSES.values()
            field = control.get("datafieldname")
            if field is not None:
                assert field in columns[table], f"{table} form shows unknown column {field}"
    shown = {c.get("datafieldname") for c in INVOICE_FORM.systemform().iter("control")}
    wanted = {
        "dxc_exportstatus",
        "dxc_xeroinvoicenumber",
        "dxc_xerostatus",
        "dxc_xerourl",
        "dxc_amountdue",
        "dxc_amountpaid",
        "dxc_amountcredited",
    }
    assert wanted <= shown


def test_the_invoice_form_shows_its_sync_history_newest_first() -> None:
    form = INVOICE_FORM.systemform()
    [subgrid] = [c for c in form.iter("control") if c.get("indicationOfSubgrid") == "true"]
    assert subgrid.findtext("parameters/ViewId") == INVOICE_HISTORY.id
    assert subgrid.findtext("parameters/RelationshipName") == schema.HISTORY_INVOICE.relationship
    [order] = INVOICE_HISTORY.fetch_xml().iter("order")
    assert (order.get("attribute"), order.get("descending")) == ("dxc_occurredon", "true")


def test_views_name_only_columns_that_exist() -> None:
    columns = _columns_by_table()
    for view in VIEWS:
        fetch = view.fetch_xml()
        entity = fetch.find("entity")
        assert entity is not None
        table = entity.get("name") or ""
        for node in entity:
            if node.tag in ("attribute", "order"):
                assert (node.get("name") or node.get("attribute")) in columns[table], view.name
        for condition in entity.findall("filter//condition") + entity.findall("filter/condition"):
            assert condition.get("attribute") in columns[table], view.name
        for link in entity.findall("link-entity"):
            linked = link.get("name") or ""
            assert link.get("to") in columns[table]
            assert link.get("from") in columns[linked]
            names = [a.get("name") for a in link.iter("attribute")]
            names += [c.get("attribute") for c in link.iter("condition")]
            assert set(names) <= columns[linked], view.name
        cells = {c.get("name") for c in view.layout_xml().iter("cell")}
        aliases = {
            f"{lk.get('alias')}.{a.get('name')}"
            for lk in entity.findall("link-entity")
            for a in lk.iter("attribute")
        }
        assert cells <= columns[table] | aliases, view.name


def test_the_role_holds_exactly_the_privileges_the_connector_needs() -> None:
    customizations = _files()["customizations.xml"]
    [role] = customizations.iter("Role")
    assert role.get("name") == solution.ROLE_NAME
    held = {p.get("name") for p in role.iter("RolePrivilege")}
    assert held == set(schema.REQUIRED_PRIVILEGES)
    assert not any("Delete" in str(name) for name in held)


def test_a_change_of_content_needs_a_new_higher_version() -> None:
    versions = [version for version, _ in package.RELEASES]
    assert versions == sorted(versions, key=version_key)
    assert len(set(versions)) == len(versions)
    assert len({fingerprint for _, fingerprint in package.RELEASES}) == len(package.RELEASES)
    current = package.fingerprint()
    assert package.RELEASES[-1][1] == current, (
        "The solution's content changed: append a release with a higher version to "
        f"RELEASES in dxc_shared/dynamics/solution/package.py, fingerprint {current!r}."
    )
