"""Human-facing pages the API links to: the online invoice (OnlineInvoiceUrl) and Xero's
organisation deep link (``/organisationlogin/default.aspx?shortcode=...&redirecturl=...``)."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlparse

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from .models import Invoice, Organisation
from .state import SandboxState

router = APIRouter(tags=["web"], include_in_schema=False)


def _state(request: Request) -> SandboxState:
    sandbox: SandboxState = request.app.state.sandbox
    return sandbox


def _invoice_page(org: Organisation, invoice: Invoice) -> HTMLResponse:
    contact = org.contacts.get(invoice.contact_id)
    rows = "".join(
        f"<tr><td>{html.escape(line.description or '')}</td><td>{line.quantity or ''}</td>"
        f"<td>{line.unit_amount or ''}</td><td>{line.line_amount}</td></tr>"
        for line in invoice.line_items
    )
    return HTMLResponse(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Invoice {html.escape(invoice.number or "")} | {html.escape(org.name)}</title></head><body>
<h1>{html.escape(org.name)}: invoice {html.escape(invoice.number or "")}</h1>
<p>To: {html.escape(contact.name if contact else "")} | Status: {invoice.status}</p>
<table><tr><th>Description</th><th>Qty</th><th>Price</th><th>Amount</th></tr>{rows}</table>
<p>Subtotal {invoice.sub_total} | Tax {invoice.total_tax} | Total {invoice.total}
{invoice.currency_code} | Amount due {invoice.amount_due}</p></body></html>"""
    )


@router.get("/in/{tenant_id}/{invoice_id}")
async def online_invoice(request: Request, tenant_id: str, invoice_id: str) -> Response:
    org = _state(request).organisations.get(tenant_id)
    invoice = org.invoices.get(invoice_id) if org else None
    if org is None or invoice is None:
        return PlainTextResponse("Not found", status_code=404)
    return _invoice_page(org, invoice)


@router.get("/organisationlogin/default.aspx")
async def deep_link(request: Request, shortcode: str = "", redirecturl: str = "") -> Response:
    """Opens a document in the organisation named by its short code, like go.xero.com does."""
    org = next(
        (o for o in _state(request).organisations.values() if o.short_code == shortcode), None
    )
    target = parse_qs(urlparse(redirecturl).query)
    invoice_id = (target.get("InvoiceID") or [""])[0].lower()
    invoice = org.invoices.get(invoice_id) if org else None
    if org is None or invoice is None:
        return PlainTextResponse("Not found", status_code=404)
    return _invoice_page(org, invoice)
