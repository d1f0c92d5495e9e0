"""The connector's solution package as other releases of it: another version, edited content."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from dxc_shared.dynamics import solution
from dxc_shared.dynamics.solution import Package


def edited_package(version: str, customizations: Callable[[str], str]) -> Package:
    """The package with another version and its customizations.xml changed."""
    files = zipfile.ZipFile(io.BytesIO(solution.build().content))
    contents = {name: files.read(name) for name in files.namelist()}
    contents["solution.xml"] = contents["solution.xml"].replace(
        f"<Version>{solution.VERSION}</Version>".encode(), f"<Version>{version}</Version>".encode()
    )
    contents["customizations.xml"] = customizations(
        contents["customizations.xml"].decode()
    ).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return Package(version, buffer.getvalue())


def older_package(without_column: str) -> Package:
    """The package as an earlier release: version 0.9, without one of the columns."""

    def drop(text: str) -> str:
        start = text.index(f'<attribute PhysicalName="{without_column}">')
        end = text.index("</attribute>", start) + len("</attribute>")
        return text[:start] + text[end:]

    return edited_package("0.9.0.0", drop)
