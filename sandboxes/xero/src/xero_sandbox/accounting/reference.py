"""Read-only organisation settings: organisation, currencies, tax rates, accounts, themes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..errors import not_found
from ..formats import ms_date, parse_guid
from ..models import Account, TaxRate
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
    return {
        "Name": rate.name,
        "TaxType": rate.tax_type,
        "ReportTaxType": rate.report_tax_type,
        "CanApplyToAssets": True,
        "CanApplyToEquity": True,
        "CanApplyToExpenses": rate.can_apply_to_expenses,
        "CanApplyToLiabilities": True,
        "CanApplyToRevenue": rate.can_apply_to_revenue,
        "DisplayTaxRate": number(rate.rate, 4),
        "EffectiveRate": number(rate.rate, 4),
        "Status": rate.status,
        "TaxComponents": [
            {
                "Name": "GST",
                "Rate": number(rate.rate, 4),
                "IsCompound": False,
                "IsNonRecoverable": False,
            }
        ],
    }


def account_json(account: Account) -> Json:
    body: Json = {
        "AccountID": account.account_id,
        "Code": account.code,
        "Name": account.name,
        "Status": account.status,
        "Type": account.type,
        "TaxType": account.tax_type,
        "Class": account.account_class,
        "EnablePaymentsToAccount": account.enable_payments,
        "ShowInExpenseClaims": False,
        "BankAccountNumber": account.bank_account_number,
        "BankAccountType": "BANK" if account.type == "BANK" else None,
        "CurrencyCode": account.currency_code,
        "ReportingCode": account.account_class[:3],
        "HasAttachments": False,
        "UpdatedDateUTC": ms_date(account.updated),
        "AddToWatchlist": False,
    }
    return {k: v for k, v in body.items() if v is not None}


@router.get("/Organisation")
async def organisation(context: Read) -> Response:
    org = context.org
    body = {
        "OrganisationID": org.tenant_id,
        "APIKey": "",
        "Name": org.name,
        "LegalName": org.name,
        "PaysTax": True,
        "Version": org.country_code,
        "OrganisationType": "COMPANY",
        "BaseCurrency": org.base_currency,
        "CountryCode": org.country_code,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 3,
        "SalesTaxBasis": "INVOICE",
        "SalesTaxPeriod": "TWOMONTHS",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": ms_date(org.created),
        "OrganisationEntityType": "COMPANY",
        "Timezone": "NEWZEALANDSTANDARDTIME",
        "ShortCode": org.short_code,
        "Class": "STANDARD",
        "Edition": "BUSINESS",
    }
    return one(context, "Organisations", body)


@router.get("/Currencies")
async def currencies(context: Read) -> Response:
    rows = ({"Code": c, "Description": _CURRENCY_NAMES.get(c, c)} for c in context.org.currencies)
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
        {
            "BrandingThemeID": t.branding_theme_id,
            "Name": t.name,
            "SortOrder": t.sort_order,
            "Type": "INVOICE",
            "CreatedDateUTC": ms_date(t.created),
        }
        for t in context.org.branding_themes.values()
    )
    return list_response(context, "BrandingThemes", rows, paged=False)
