"""A small builder for the solution's XML documents (ElementTree underneath), and the labels
Dataverse puts on every component (one per language; the connector ships English, 1033)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

LANGUAGE = "1033"
# Every id in the package is derived from a stable name, so each version of the package names
# the same form, view and role by the same id and an import updates them in place.
_NAMESPACE = uuid.UUID("6f1d2c1e-9a55-4c55-9a3f-6d8c0e0b7a11")


def element(
    tag: str, attributes: dict[str, str] | None = None, *children: ET.Element
) -> ET.Element:
    node = ET.Element(tag, attributes or {})
    node.extend(children)
    return node


def text(tag: str, value: str | int) -> ET.Element:
    node = ET.Element(tag)
    node.text = str(value)
    return node


def labels(container: str, item: str, value: str, *, key: str = "description") -> ET.Element:
    """``<LocalizedNames><LocalizedName description="..." languagecode="1033"/></...>``."""
    return element(container, {}, element(item, {key: value, "languagecode": LANGUAGE}))


def label(value: str) -> ET.Element:
    """FormXml's ``<labels><label description="..." languagecode="1033"/></labels>``."""
    return labels("labels", "label", value)


def stable_id(name: str) -> str:
    """``{guid}``, the same for the same name in every build."""
    return "{" + str(uuid.uuid5(_NAMESPACE, name)) + "}"


def render(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data
