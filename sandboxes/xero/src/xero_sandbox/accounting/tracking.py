"""Tracking categories and their options, and the tracking of invoice and credit note lines.

Sources: the endpoints, fields and statuses follow Xero's published OpenAPI definition
(xero_accounting.yaml: ``/TrackingCategories``, ``/TrackingCategories/{TrackingCategoryID}``,
``.../Options``, ``.../Options/{TrackingOptionID}``; schemas ``TrackingCategory`` and
``TrackingOption``, names at most 100 characters); the limits (two active categories, a line
tracked by at most two) follow Xero's tracking categories page
(https://developer.xero.com/documentation/api/accounting/trackingcategories) and the line item
``Tracking`` element of the invoices page
(https://developer.xero.com/documentation/api/accounting/invoices)."""

from __future__ import annotations

import copy
from typing import Annotated, Any

from dxc_shared.xero import documents as xero
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..errors import ValidationFailure, not_found, validation_exception
from ..formats import new_id, parse_guid
from ..models import Organisation, TrackingCategory, TrackingOption
from .common import ApiContext, Json, list_response, one, read_elements, run_batch, scoped

router = APIRouter(tags=["settings"])
Read = Annotated[ApiContext, Depends(scoped("settings", write=False))]
Write = Annotated[ApiContext, Depends(scoped("settings", write=True))]

MAX_NAME_LENGTH = 100
MAX_ACTIVE_CATEGORIES = 2
MAX_LINE_TRACKING = 2
_SETTABLE_STATUSES = {"ACTIVE", "ARCHIVED"}


def option_json(category: TrackingCategory, option: TrackingOption) -> Json:
    return xero.TrackingOption(
        tracking_option_id=option.tracking_option_id,
        name=option.name,
        status=option.status,
        tracking_category_id=category.tracking_category_id,
        has_validation_errors=False,
        is_deleted=option.status == "DELETED",
        is_archived=option.status == "ARCHIVED",
        is_active=option.status == "ACTIVE",
    ).to_xero()


def category_json(category: TrackingCategory, statuses: set[str]) -> Json:
    """The category with its options of the given statuses (archived ones on request)."""
    return xero.TrackingCategory(
        tracking_category_id=category.tracking_category_id,
        name=category.name,
        status=category.status,
        options=[
            xero.TrackingOption.from_xero(option_json(category, option))
            for option in category.options.values()
            if option.status in statuses
        ],
    ).to_xero()


def _checked_name(raw: Json, what: str) -> str:
    name = str(raw.get("Name") or "").strip()
    if not name:
        raise ValidationFailure(f"The {what} name must be specified")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailure(f"The {what} name must not exceed {MAX_NAME_LENGTH} characters")
    return name


def _checked_status(raw: Json, current: str) -> str:
    status = str(raw.get("Status") or current).upper()
    if status not in _SETTABLE_STATUSES:
        raise ValidationFailure(f"The status {status} cannot be set; DELETE removes a category")
    return status


def _active_categories(org: Organisation, except_id: str | None) -> int:
    return sum(
        1
        for c in org.tracking_categories.values()
        if c.status == "ACTIVE" and c.tracking_category_id != except_id
    )


def save_category(
    org: Organisation, raw: Json, existing: TrackingCategory | None
) -> TrackingCategory:
    if raw.get("Options"):
        raise ValidationFailure(
            "Tracking options are added with PUT TrackingCategories/{TrackingCategoryID}/Options"
        )
    category = (
        copy.deepcopy(existing) if existing else TrackingCategory(new_id(), name="", options={})
    )
    if "Name" in raw or existing is None:
        category.name = _checked_name(raw, "tracking category")
    category.status = _checked_status(raw, category.status)
    if any(
        c.status != "DELETED"
        and c.name.lower() == category.name.lower()
        and c.tracking_category_id != category.tracking_category_id
        for c in org.tracking_categories.values()
    ):
        raise ValidationFailure(f"The tracking category name {category.name} is already in use")
    if (
        category.status == "ACTIVE"
        and _active_categories(org, category.tracking_category_id) >= MAX_ACTIVE_CATEGORIES
    ):
        raise ValidationFailure(
            f"An organisation can have at most {MAX_ACTIVE_CATEGORIES} active tracking categories"
        )
    org.tracking_categories[category.tracking_category_id] = category
    return category


def save_option(
    category: TrackingCategory, raw: Json, existing: TrackingOption | None
) -> TrackingOption:
    option = copy.deepcopy(existing) if existing else TrackingOption(new_id(), name="")
    if "Name" in raw or existing is None:
        option.name = _checked_name(raw, "tracking option")
    option.status = _checked_status(raw, option.status)
    if any(
        o.status != "DELETED"
        and o.name.lower() == option.name.lower()
        and o.tracking_option_id != option.tracking_option_id
        for o in category.options.values()
    ):
        raise ValidationFailure(f"The tracking option name {option.name} is already in use")
    category.options[option.tracking_option_id] = option
    return option


def _used(org: Organisation, category_id: str, option_id: str | None = None) -> bool:
    """Whether a line of any invoice or credit note is tracked by the category (option)."""
    documents = [*org.invoices.values(), *org.credit_notes.values()]
    return any(
        tracking.get("TrackingCategoryID") == category_id
        and (option_id is None or tracking.get("TrackingOptionID") == option_id)
        for document in documents
        for line in document.line_items
        for tracking in line.tracking
    )


def line_tracking(org: Organisation, raw: object, errors: list[str]) -> list[dict[str, Any]]:
    """A line's ``Tracking``: each element names an active category (by TrackingCategoryID or
    Name) and one of its active options (by TrackingOptionID or Option); stored complete."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        errors.append("Tracking must be a list of tracking categories")
        return []
    if len(raw) > MAX_LINE_TRACKING:
        errors.append(f"A line item can be tracked by at most {MAX_LINE_TRACKING} categories")
    resolved: list[dict[str, Any]] = []
    for element in raw:
        category = _find_category(org, element.get("TrackingCategoryID"), element.get("Name"))
        if category is None or category.status != "ACTIVE":
            named = element.get("Name") or element.get("TrackingCategoryID")
            errors.append(f"The tracking category {named} does not exist or is not active")
            continue
        option = _find_option(category, element.get("TrackingOptionID"), element.get("Option"))
        if option is None or option.status != "ACTIVE":
            named = element.get("Option") or element.get("TrackingOptionID")
            errors.append(
                f"The tracking option {named} does not exist or is not active in the tracking "
                f"category {category.name}"
            )
            continue
        resolved.append(
            {
                "Name": category.name,
                "Option": option.name,
                "TrackingCategoryID": category.tracking_category_id,
                "TrackingOptionID": option.tracking_option_id,
            }
        )
    return resolved


def _find_category(org: Organisation, key: object, name: object) -> TrackingCategory | None:
    category_id = parse_guid(key)
    if category_id is not None:
        return org.tracking_categories.get(category_id)
    if isinstance(name, str):
        return next(
            (
                c
                for c in org.tracking_categories.values()
                if c.status != "DELETED" and c.name.lower() == name.strip().lower()
            ),
            None,
        )
    return None


def _find_option(category: TrackingCategory, key: object, name: object) -> TrackingOption | None:
    option_id = parse_guid(key)
    if option_id is not None:
        return category.options.get(option_id)
    if isinstance(name, str):
        return next(
            (
                o
                for o in category.options.values()
                if o.status != "DELETED" and o.name.lower() == name.strip().lower()
            ),
            None,
        )
    return None


def _category(context: ApiContext, key: str) -> TrackingCategory | None:
    return context.org.tracking_categories.get(parse_guid(key) or "")


@router.get("/TrackingCategories")
async def list_categories(request: Request, context: Read) -> Response:
    archived = request.query_params.get("includeArchived", "").lower() == "true"
    statuses = {"ACTIVE", "ARCHIVED"} if archived else {"ACTIVE"}
    categories = [c for c in context.org.tracking_categories.values() if c.status in statuses]
    return list_response(
        context,
        "TrackingCategories",
        (category_json(c, statuses) for c in categories),
        paged=False,
    )


@router.get("/TrackingCategories/{key}")
async def get_category(key: str, context: Read) -> Response:
    category = _category(context, key)
    if category is None:
        return not_found()
    return one(context, "TrackingCategories", category_json(category, {"ACTIVE", "ARCHIVED"}))


@router.put("/TrackingCategories")
async def create_category(request: Request, context: Write) -> Response:
    return run_batch(
        context,
        "TrackingCategories",
        await read_elements(request, "TrackingCategories"),
        lambda raw: save_category(context.org, raw, None),
        lambda category: category_json(category, {"ACTIVE"}),
    )


@router.post("/TrackingCategories/{key}")
async def update_category(key: str, request: Request, context: Write) -> Response:
    category = _category(context, key)
    if category is None or category.status == "DELETED":
        return not_found()
    return run_batch(
        context,
        "TrackingCategories",
        (await read_elements(request, "TrackingCategories"))[:1],
        lambda raw: save_category(context.org, raw, category),
        lambda saved: category_json(saved, {"ACTIVE", "ARCHIVED"}),
    )


@router.delete("/TrackingCategories/{key}")
async def delete_category(key: str, context: Write) -> Response:
    category = _category(context, key)
    if category is None or category.status == "DELETED":
        return not_found()
    if _used(context.org, category.tracking_category_id):
        message = (
            f"The tracking category {category.name} has been used on transactions and cannot "
            "be deleted; archive it instead"
        )
        return validation_exception(
            [{**category_json(category, set()), "ValidationErrors": [{"Message": message}]}]
        )
    category.status = "DELETED"
    for option in category.options.values():
        option.status = "DELETED"
    return one(context, "TrackingCategories", category_json(category, set()))


@router.put("/TrackingCategories/{key}/Options")
async def create_options(key: str, request: Request, context: Write) -> Response:
    category = _category(context, key)
    if category is None or category.status == "DELETED":
        return not_found()
    return run_batch(
        context,
        "Options",
        await read_elements(request, "Options"),
        lambda raw: save_option(category, raw, None),
        lambda option: option_json(category, option),
    )


@router.post("/TrackingCategories/{key}/Options/{option_key}")
async def update_option(key: str, option_key: str, request: Request, context: Write) -> Response:
    category = _category(context, key)
    option = category.options.get(parse_guid(option_key) or "") if category else None
    if category is None or option is None or option.status == "DELETED":
        return not_found()
    return run_batch(
        context,
        "Options",
        (await read_elements(request, "Options"))[:1],
        lambda raw: save_option(category, raw, option),
        lambda saved: option_json(category, saved),
    )


@router.delete("/TrackingCategories/{key}/Options/{option_key}")
async def delete_option(key: str, option_key: str, context: Write) -> Response:
    category = _category(context, key)
    option = category.options.get(parse_guid(option_key) or "") if category else None
    if category is None or option is None or option.status == "DELETED":
        return not_found()
    if _used(context.org, category.tracking_category_id, option.tracking_option_id):
        message = (
            f"The tracking option {option.name} has been used on transactions and cannot be "
            "deleted; archive it instead"
        )
        return validation_exception(
            [{**option_json(category, option), "ValidationErrors": [{"Message": message}]}]
        )
    option.status = "DELETED"
    return one(context, "Options", option_json(category, option))
