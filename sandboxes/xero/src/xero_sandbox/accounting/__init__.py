"""The Accounting API (``/api.xro/2.0``), one router per resource."""

from __future__ import annotations

from fastapi import APIRouter

from . import contacts, credit_notes, invoices, items, payments, reference, tracking
from .common import API_PREFIX

router = APIRouter(prefix=API_PREFIX)
for module in (invoices, contacts, items, credit_notes, payments, reference, tracking):
    router.include_router(module.router)
