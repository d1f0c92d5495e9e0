"""Seeded defaults: a New Zealand chart of accounts, GST tax rates, a branding theme, and the
demo organisation, user and app."""

from __future__ import annotations

import uuid
from decimal import Decimal

from .formats import new_id
from .models import Account, BrandingTheme, OAuthClient, Organisation, TaxRate, User
from .state import AutoApprove, SandboxState

_TAX_RATES = [
    # name, tax type, rate, report type, revenue, expenses
    ("15% GST on Income", "OUTPUT2", "15", "OUTPUT", True, False),
    ("15% GST on Expenses", "INPUT2", "15", "INPUT", False, True),
    ("No GST", "NONE", "0", "NONE", True, True),
    ("Zero Rated", "ZERORATED", "0", "OUTPUT", True, False),
    ("GST Exempt Income", "EXEMPTOUTPUT", "0", "EXEMPTOUTPUT", True, False),
    ("GST Exempt Expenses", "EXEMPTINPUT", "0", "EXEMPTINPUT", False, True),
]

_ACCOUNTS = [
    # code, name, type, tax type, payments enabled
    ("090", "Business Bank Account", "BANK", "NONE", True),
    ("091", "Business Savings Account", "BANK", "NONE", True),
    ("200", "Sales", "REVENUE", "OUTPUT2", False),
    ("260", "Other Revenue", "REVENUE", "OUTPUT2", False),
    ("270", "Interest Income", "REVENUE", "NONE", False),
    ("300", "Purchases", "DIRECTCOSTS", "INPUT2", False),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT2", False),
    ("400", "Advertising", "OVERHEADS", "INPUT2", False),
    ("429", "General Expenses", "OVERHEADS", "INPUT2", False),
    ("610", "Accounts Receivable", "CURRENT", "NONE", False),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", False),
    ("820", "GST", "CURRLIAB", "NONE", False),
    ("970", "Owner A Funds Introduced", "EQUITY", "NONE", True),
]


def new_organisation(
    state: SandboxState,
    *,
    name: str,
    tenant_id: str | None = None,
    base_currency: str = "NZD",
    currencies: list[str] | None = None,
    country_code: str = "NZ",
) -> Organisation:
    """An organisation with the default chart of accounts, tax rates and branding theme."""
    now = state.clock.now()
    tenant_id = str(uuid.UUID(tenant_id)) if tenant_id else new_id()
    enabled = [base_currency, *(c for c in currencies or [] if c != base_currency)]
    org = Organisation(
        tenant_id=tenant_id,
        name=name,
        short_code="!" + tenant_id[:5],
        base_currency=base_currency,
        currencies=enabled,
        country_code=country_code,
        created=now,
    )
    for tax_name, tax_type, rate, report, revenue, expenses in _TAX_RATES:
        org.tax_rates[tax_type] = TaxRate(
            tax_name, tax_type, Decimal(rate), "ACTIVE", report, revenue, expenses
        )
    for code, account_name, kind, tax_type, payments in _ACCOUNTS:
        account = Account(
            new_id(), code, account_name, kind, tax_type, now, enable_payments=payments
        )
        if kind == "BANK":
            account.bank_account_number = f"0102030{code}000001"
            account.currency_code = base_currency
        org.accounts[account.account_id] = account
    theme = BrandingTheme(new_id(), "Standard", 0, now)
    org.branding_themes[theme.branding_theme_id] = theme
    state.organisations[tenant_id] = org
    return org


def add_user(
    state: SandboxState,
    *,
    email: str,
    password: str,
    tenant_ids: list[str],
    first_name: str = "Sandbox",
    last_name: str = "User",
) -> User:
    existing = state.user_by_email(email)
    if existing is not None:
        existing.password, existing.tenant_ids = password, list(tenant_ids)
        existing.first_name, existing.last_name = first_name, last_name
        return existing
    user = User(new_id(), email, password, first_name, last_name, list(tenant_ids))
    state.users[user.user_id] = user
    return user


def add_client(
    state: SandboxState,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    redirect_uris: list[str],
    name: str = "Sandbox app",
) -> OAuthClient:
    client = OAuthClient(
        client_id or uuid.uuid4().hex.upper(), client_secret, list(redirect_uris), name
    )
    state.clients[client.client_id] = client
    return client


def bootstrap_demo(state: SandboxState) -> None:
    s = state.settings
    org = new_organisation(
        state,
        name=s.demo_org_name,
        tenant_id=s.demo_tenant_id,
        currencies=["NZD", "AUD", "USD", "GBP", "EUR"],
    )
    add_user(
        state,
        email=s.demo_user_email,
        password=s.demo_user_password,
        tenant_ids=[org.tenant_id],
        first_name="Demo",
        last_name="User",
    )
    add_client(
        state,
        client_id=s.demo_client_id,
        client_secret=s.demo_client_secret,
        redirect_uris=s.demo_redirect_uris,
        name="dx-connector (demo)",
    )
    state.auto_approve = AutoApprove(s.demo_user_email)
