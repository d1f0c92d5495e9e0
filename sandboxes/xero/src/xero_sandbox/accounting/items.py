"""Items: unique codes, sales and purchase details that fill invoice lines."""

from __future__ import annotations

import copy
from typing import Annotated, Any

from dxc_shared.xero import documents as xero
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from .. import lengths
from ..errors import ValidationFailure, not_found
from ..formats import new_id, parse_guid, to_decimal
from ..models import Item, ItemDetails, Organisation
from .common import (
    ApiContext,
    Json,
    list_response,
    number,
    one,
    read_elements,
    run_batch,
    scoped,
    unitdp_of,
)

router = APIRouter(tags=["items"])
Read = Annotated[ApiContext, Depends(scoped("settings", write=False))]
Write = Annotated[ApiContext, Depends(scoped("settings", write=True))]


def _details_document(details: ItemDetails, unitdp: int) -> xero.ItemDetails:
    return xero.ItemDetails(
        unit_price=number(details.unit_price, unitdp),
        account_code=details.account_code,
        tax_type=details.tax_type,
    )


def item_json(item: Item, unitdp: int = 2) -> Json:
    return xero.Item(
        item_id=item.item_id,
        code=item.code,
        name=item.name,
        description=item.description,
        purchase_description=item.purchase_description,
        is_sold=item.is_sold,
        is_purchased=item.is_purchased,
        is_tracked_as_inventory=False,
        sales_details=_details_document(item.sales, unitdp),
        purchase_details=_details_document(item.purchase, unitdp),
        updated_date_utc=item.updated,
    ).to_xero()


def _details(org: Organisation, raw: Any, sales: bool, errors: list[str]) -> ItemDetails:
    if not isinstance(raw, dict):
        return ItemDetails()
    code = raw.get("AccountCode")
    if code and org.account_by_code(str(code)) is None:
        errors.append(f"Account code '{code}' is not a valid code for this document.")
    tax_type = raw.get("TaxType")
    rate = org.tax_rates.get(str(tax_type)) if tax_type else None
    if tax_type and (
        rate is None or not (rate.can_apply_to_revenue if sales else rate.can_apply_to_expenses)
    ):
        errors.append(
            f"The TaxType code '{tax_type}' does not exist or cannot be used for this type of "
            "transaction."
        )
    return ItemDetails(to_decimal(raw.get("UnitPrice")), code, tax_type)


def find_item(org: Organisation, key: str) -> Item | None:
    item_id = parse_guid(key)
    if item_id is not None and item_id in org.items:
        return org.items[item_id]
    return next((i for i in org.items.values() if i.code.lower() == key.lower()), None)


def save_item(context: ApiContext, raw: Json, *, allow_update: bool) -> Item:
    org = context.org
    existing: Item | None = None
    if raw.get("ItemID"):
        existing = org.items.get(parse_guid(raw["ItemID"]) or "")
        if existing is None:
            raise ValidationFailure("Item could not be found")
    elif allow_update and raw.get("Code"):
        existing = find_item(org, str(raw["Code"]))
    item = copy.deepcopy(existing) if existing else Item(new_id(), "", context.now)
    errors: list[str] = []
    lengths.check(raw, lengths.ITEM, errors)
    if "Code" in raw or existing is None:
        code = str(raw.get("Code") or "").strip()
        if not code:
            errors.append("Item code must be specified")
        elif any(
            i.code.lower() == code.lower() and i.item_id != item.item_id for i in org.items.values()
        ):
            errors.append(f"Item code '{code}' already exists")
        item.code = code
    for key, attribute in (
        ("Name", "name"),
        ("Description", "description"),
        ("PurchaseDescription", "purchase_description"),
    ):
        if key in raw:
            setattr(item, attribute, raw[key])
    if "SalesDetails" in raw:
        item.sales = _details(org, raw["SalesDetails"], True, errors)
    if "PurchaseDetails" in raw:
        item.purchase = _details(org, raw["PurchaseDetails"], False, errors)
    if errors:
        raise ValidationFailure(*errors)
    item.updated = context.now
    org.items[item.item_id] = item
    return item


async def _write(request: Request, context: ApiContext, *, allow_update: bool) -> Response:
    return run_batch(
        context,
        "Items",
        await read_elements(request, "Items"),
        lambda raw: save_item(context, raw, allow_update=allow_update),
        item_json,
    )


@router.put("/Items")
async def create_items(request: Request, context: Write) -> Response:
    return await _write(request, context, allow_update=False)


@router.post("/Items")
async def update_or_create_items(request: Request, context: Write) -> Response:
    return await _write(request, context, allow_update=True)


@router.post("/Items/{key}")
async def update_item(key: str, request: Request, context: Write) -> Response:
    item = find_item(context.org, key)
    if item is None:
        return not_found()
    elements = (await read_elements(request, "Items"))[:1]
    elements[0]["ItemID"] = item.item_id
    return run_batch(
        context,
        "Items",
        elements,
        lambda raw: save_item(context, raw, allow_update=True),
        item_json,
    )


@router.get("/Items")
async def list_items(context: Read) -> Response:
    unitdp = unitdp_of(context)
    items = (item_json(i, unitdp) for i in context.org.items.values())
    return list_response(context, "Items", items, paged=False)


@router.get("/Items/{key}")
async def get_item(key: str, context: Read) -> Response:
    item = find_item(context.org, key)
    if item is None:
        return not_found()
    return one(context, "Items", item_json(item))
