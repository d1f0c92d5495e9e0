"""Tracking categories and options (Xero's OpenAPI definition and tracking categories page):
names, the two-active-categories limit, archiving, deleting, and lines tracked by them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.xero_sandbox import XeroSandbox

Xero = tuple[XeroSandbox, dict[str, str]]


def _call(xero: Xero, method: str, path: str, body: Any = None, **params: str) -> httpx.Response:
    sandbox, headers = xero
    return sandbox.http.request(
        method, sandbox.api(path), headers=headers, json=body, params=params
    )


def _category(xero: Xero, name: str, *options: str) -> dict[str, Any]:
    created = _call(xero, "PUT", "TrackingCategories", {"Name": name})
    assert created.status_code == 200, created.text
    category: dict[str, Any] = created.json()["TrackingCategories"][0]
    for option in options:
        added = _call(
            xero,
            "PUT",
            f"TrackingCategories/{category['TrackingCategoryID']}/Options",
            {"Name": option},
        )
        assert added.status_code == 200, added.text
    return category


def _errors(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    return [
        error["Message"]
        for element in response.json()["Elements"]
        for error in element["ValidationErrors"]
    ]


def test_categories_names_and_the_two_active_limit(xero: Xero) -> None:
    region = _category(xero, "Region", "North", "South")
    assert region["Status"] == "ACTIVE"
    assert _errors(_call(xero, "PUT", "TrackingCategories", {"Name": "region"})) == [
        "The tracking category name region is already in use"
    ]
    assert _errors(_call(xero, "PUT", "TrackingCategories", {"Name": "x" * 101})) == [
        "The tracking category name must not exceed 100 characters"
    ]
    _category(xero, "Department")
    assert _errors(_call(xero, "PUT", "TrackingCategories", {"Name": "Third"})) == [
        "An organisation can have at most 2 active tracking categories"
    ]
    category_path = f"TrackingCategories/{region['TrackingCategoryID']}"
    archived = _call(xero, "POST", category_path, {"Status": "ARCHIVED"})
    assert archived.json()["TrackingCategories"][0]["Status"] == "ARCHIVED"
    assert _call(xero, "PUT", "TrackingCategories", {"Name": "Third"}).status_code == 200
    listed = _call(xero, "GET", "TrackingCategories").json()["TrackingCategories"]
    assert sorted(c["Name"] for c in listed) == ["Department", "Third"]
    everything = _call(xero, "GET", "TrackingCategories", includeArchived="true")
    assert sorted(c["Name"] for c in everything.json()["TrackingCategories"]) == [
        "Department",
        "Region",
        "Third",
    ]
    options = _call(xero, "PUT", f"{category_path}/Options", {"Options": [{"Name": "north"}]})
    assert _errors(options) == ["The tracking option name north is already in use"]
    refused = _call(xero, "PUT", "TrackingCategories", {"Name": "Y", "Options": [{"Name": "A"}]})
    assert len(_errors(refused)) == 1


def test_lines_are_tracked_by_active_options_and_used_ones_cannot_be_deleted(
    xero: Xero,
) -> None:
    region = _category(xero, "Region", "North")
    sandbox, _ = xero
    contact = _call(xero, "PUT", "Contacts", {"Name": "Tracked"}).json()["Contacts"][0]

    def invoice(tracking: list[dict[str, str]]) -> httpx.Response:
        line = {
            "Description": "x",
            "Quantity": 1,
            "UnitAmount": 10,
            "AccountCode": "200",
            "Tracking": tracking,
        }
        body = {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact["ContactID"]},
            "LineItems": [line],
        }
        return _call(xero, "PUT", "Invoices", body)

    unknown = invoice([{"Name": "Region", "Option": "West"}])
    assert _errors(unknown) == [
        "The tracking option West does not exist or is not active in the tracking category Region"
    ]
    assert _errors(invoice([{"Name": "Colour", "Option": "Red"}])) == [
        "The tracking category Colour does not exist or is not active"
    ]
    saved = invoice([{"Name": "region", "Option": "north"}])
    assert saved.status_code == 200, saved.text
    [tracking] = saved.json()["Invoices"][0]["LineItems"][0]["Tracking"]
    assert tracking["Name"] == "Region"
    assert tracking["Option"] == "North"
    assert tracking["TrackingCategoryID"] == region["TrackingCategoryID"]

    category_path = f"TrackingCategories/{region['TrackingCategoryID']}"
    assert _call(xero, "DELETE", category_path).status_code == 400
    unused = _category(xero, "Unused", "Only")
    deleted = _call(xero, "DELETE", f"TrackingCategories/{unused['TrackingCategoryID']}")
    assert deleted.json()["TrackingCategories"][0]["Status"] == "DELETED"
    fetched = _call(xero, "GET", f"TrackingCategories/{unused['TrackingCategoryID']}")
    assert fetched.json()["TrackingCategories"][0]["Status"] == "DELETED"
    assert (
        sandbox.http.get(sandbox.api("TrackingCategories/not-an-id"), headers=xero[1]).status_code
        == 404
    )
