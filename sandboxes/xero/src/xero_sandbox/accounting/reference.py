"""Read-only organisation settings: organisation, currencies, tax rates, accounts, themes."""

from __future__ import annotations

from typing import Annotated

from dxc_shared.xero import documents as xero
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..errors import not_found
from ..formats import parse_guid
from ..models import Account, TaxRate
from ..terms import terms_document
from .common import ApiContext, Json, list_response, number, one, scoped

router = APIRouter(tags=["settings"])
Read = Annotated[ApiContext, Depends(scoped("settings", write=False))]

_CURRENCY_NAMES = {
    "NZD": "New Zealand Dollar",
    "AUD": "Australian Dollar",
    "USD": "United States Dollar",
    "GBP": "British Pound",
    "EUR": "Euro",
    "CAD": "Canadian Dollar",
    "SGD": "Singapore Dollar",
    "ZAR": "South African Rand",
}


def tax_rate_json(rate: TaxRate) -> Json:
    return xero.TaxRate(
        name=rate.name,
        tax_type=rate.tax_type,
        report_tax_type=rate.report_tax_type,
        can_apply_to_assets=True,
        can_apply_to_equity=True,
        can_apply_to_expenses=rate.can_apply_to_expenses,
        can_apply_to_liabilities=True,
        can_apply_to_revenue=rate.can_apply_to_revenue,
        display_tax_rate=number(rate.rate, 4),
        effective_rate=number(rate.rate, 4),
        status=xero.TaxRateStatus(rate.status),
        tax_components=[
            xero.TaxComponent(
                name="GST", rate=number(rate.rate, 4), is_compound=False, is_non_recoverable=False
            )
        ],
    ).to_xero()


def account_json(account: Account) -> Json:
    return xero.Account(
        account_id=account.account_id,
        code=account.code,
        name=account.name,
        status=xero.AccountStatus(account.status),
        type=xero.AccountType(account.type),
        tax_type=account.tax_type,
        account_class=xero.AccountClass(account.account_class),
        enable_payments_to_account=account.enable_payments,
        show_in_expense_claims=False,
        bank_account_number=account.bank_account_number,
        bank_account_type="BANK" if account.type == "BANK" else None,
        currency_code=account.currency_code,
        reporting_code=account.account_class[:3],
        has_attachments=False,
        updated_date_utc=account.updated,
        add_to_watchlist=False,
    ).to_xero()


@router.get("/Organisation")
async def organisation(context: Read) -> Response:
    org = context.org
    body = xero.Organisation(
        organisation_id=org.tenant_id,
        api_key="",
        name=org.name,
        legal_name=org.name,
        pays_tax=True,
        version=org.country_code,
        organisation_type="COMPANY",
        base_currency=org.base_currency,
        country_code=org.country_code,
        is_demo_company=False,
        organisation_status="ACTIVE",
        financial_year_end_day=31,
        financial_year_end_month=3,
        sales_tax_basis="INVOICE",
        sales_tax_period="TWOMONTHS",
        default_sales_tax="Tax Exclusive",
        default_purchases_tax="Tax Exclusive",
        created_date_utc=org.created,
        organisation_entity_type="COMPANY",
        timezone="NEWZEALANDSTANDARDTIME",
        short_code=org.short_code,
        payment_terms=terms_document(org.payment_terms),
        organisation_class="STANDARD",
        edition="BUSINESS",
    ).to_xero()
    return one(context, "Organisations", body)


@router.get("/Currencies")
async def currencies(context: Read) -> Response:
    rows = (
        xero.Currency(code=c, description=_CURRENCY_NAMES.get(c, c)).to_xero()
        for c in context.org.currencies
    )
    return list_response(context, "Currencies", rows, paged=False)


@router.get("/TaxRates")
async def tax_rates(context: Read) -> Response:
    rows = (tax_rate_json(r) for r in context.org.tax_rates.values())
    return list_response(context, "TaxRates", rows, paged=False)


@router.get("/Accounts")
async def accounts(context: Read) -> Response:
    rows = (account_json(a) for a in context.org.accounts.values())
    return list_response(context, "Accounts", rows, paged=False)


@router.get("/Accounts/{account_id}")
async def account(account_id: str, context: Read) -> Response:
    found = context.org.accounts.get(parse_guid(account_id) or "")
    if found is None:
        return not_found()
    return one(context, "Accounts", account_json(found))


@router.get("/BrandingThemes")
async def branding_themes(context: Read) -> Response:
    rows = (
        xero.BrandingTheme(
            branding_theme_id=t.branding_theme_id,
            name=t.name,
            sort_order=t.sort_order,
            type="INVOICE",
            created_date_utc=t.created,
        ).to_xero()
        for t in context.org.branding_themes.values()
    )
    return list_response(context, "BrandingThemes", rows, paged=False)
