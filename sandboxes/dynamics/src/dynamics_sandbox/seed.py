"""Organisations with a base currency, and the ``demo`` seed: a Dynamics 365 Sales org with
currencies, units, price lists, products, customers and invoices in every state."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from .identity import AppRegistration, User
from .state import Organization, SandboxState

CURRENCIES: dict[str, tuple[str, str, float]] = {
    "NZD": ("New Zealand Dollar", "NZ$", 1.0),
    "USD": ("US Dollar", "$", 0.61),
    "AUD": ("Australian Dollar", "A$", 0.92),
    "GBP": ("Pound Sterling", "£", 0.48),
}
GST = Decimal("0.15")


def create_organization(
    sandbox: SandboxState,
    unique_name: str,
    friendly_name: str,
    tenant_id: str,
    base_currency: str = "NZD",
) -> Organization:
    """A new organisation has its base currency, as every Dataverse environment does."""
    org = sandbox.create_org(unique_name, friendly_name, tenant_id)
    name, symbol, _ = CURRENCIES.get(base_currency, (base_currency, base_currency, 1.0))
    currency = _add(
        org,
        "transactioncurrency",
        {
            "currencyname": name,
            "isocurrencycode": base_currency,
            "currencysymbol": symbol,
            "exchangerate": 1.0,
            "currencyprecision": 2,
        },
    )
    org.engine.base_currency = currency
    return org


def _add(org: Organization, table: str, payload: dict[str, Any]) -> uuid.UUID:
    entity = org.engine.schema.entity(table)
    record = org.engine.create(entity, payload, trusted=True)
    value: uuid.UUID = record[entity.primary_id]
    return value


def _bind(entity_set: str, record_id: uuid.UUID) -> str:
    return f"/{entity_set}({record_id})"


def seed_demo(org: Organization) -> None:
    engine = org.engine
    today = engine.clock.now().date()
    currencies = {
        c["isocurrencycode"]: c["transactioncurrencyid"]
        for c in engine.rows(engine.schema.entity("transactioncurrency"))
    }
    for code, (name, symbol, rate) in CURRENCIES.items():
        if code not in currencies:
            currencies[code] = _add(
                org,
                "transactioncurrency",
                {
                    "currencyname": name,
                    "isocurrencycode": code,
                    "currencysymbol": symbol,
                    "exchangerate": rate,
                    "currencyprecision": 2,
                },
            )
    schedule = _add(org, "uomschedule", {"name": "Default Unit", "baseuomname": "Primary Unit"})
    units = {
        name: _add(
            org,
            "uom",
            {
                "name": name,
                "quantity": 1,
                "uomscheduleid@odata.bind": _bind("uomschedules", schedule),
            },
        )
        for name in ("Primary Unit", "Hour", "Box")
    }
    price_lists = {
        name: _add(
            org,
            "pricelevel",
            {
                "name": name,
                "begindate": f"{today.year}-01-01",
                "transactioncurrencyid@odata.bind": _bind(
                    "transactioncurrencies", currencies[code]
                ),
            },
        )
        for name, code in (("Retail NZD", "NZD"), ("Wholesale NZD", "NZD"), ("Retail USD", "USD"))
    }
    products = {
        number: _add(
            org,
            "product",
            {
                "productnumber": number,
                "name": name,
                "price": price,
                "producttypecode": kind,
                "quantitydecimal": 2,
                "defaultuomid@odata.bind": _bind("uoms", units[unit]),
                "defaultuomscheduleid@odata.bind": _bind("uomschedules", schedule),
                "pricelevelid@odata.bind": _bind("pricelevels", price_lists["Retail NZD"]),
            },
        )
        for number, name, price, unit, kind in (
            ("CONS-100", "Consulting hour", 180.0, "Hour", 3),
            ("WIDGET-A", "Widget A", 25.5, "Primary Unit", 1),
            ("WIDGET-B", "Widget B (box of 10)", 42.0, "Box", 1),
            ("SUPPORT-Y", "Annual support plan", 1200.0, "Primary Unit", 4),
            ("INSTALL", "On-site installation", 350.0, "Primary Unit", 3),
        )
    }
    accounts = {
        name: _add(
            org,
            "account",
            {
                "name": name,
                "accountnumber": number,
                "emailaddress1": email,
                "telephone1": phone,
                "address1_line1": line,
                "address1_city": city,
                "address1_postalcode": postcode,
                "address1_country": country,
                "websiteurl": f"https://{email.split('@')[1]}",
            },
        )
        for name, number, email, phone, line, city, postcode, country in (
            (
                "Contoso Pharmaceuticals (NZ)",
                "ACC-001",
                "accounts@contoso.example",
                "+64 9 555 0101",
                "12 Queen Street",
                "Auckland",
                "1010",
                "New Zealand",
            ),
            (
                "Fabrikam Ltd",
                "ACC-002",
                "ap@fabrikam.example",
                "+64 4 555 0102",
                "88 Lambton Quay",
                "Wellington",
                "6011",
                "New Zealand",
            ),
            (
                "Adventure Works Cycles",
                "ACC-003",
                "billing@adventure-works.example",
                "+61 2 5550 0103",
                "1 George Street",
                "Sydney",
                "2000",
                "Australia",
            ),
            (
                "Northwind Traders",
                "ACC-004",
                "finance@northwind.example",
                "+64 3 555 0104",
                "5 Cashel Street",
                "Christchurch",
                "8011",
                "New Zealand",
            ),
            (
                "Alpine Ski House",
                "ACC-005",
                "office@alpineskihouse.example",
                "+1 303 555 0105",
                "200 Main Street",
                "Denver",
                "80202",
                "United States",
            ),
        )
    }
    contacts = {
        f"{first} {last}": _add(
            org,
            "contact",
            {
                "firstname": first,
                "lastname": last,
                "emailaddress1": email,
                "jobtitle": title,
                **(
                    {"parentcustomerid_account@odata.bind": _bind("accounts", accounts[parent])}
                    if parent
                    else {}
                ),
            },
        )
        for first, last, email, title, parent in (
            (
                "Maria",
                "Campbell",
                "maria.campbell@contoso.example",
                "Purchasing Manager",
                "Contoso Pharmaceuticals (NZ)",
            ),
            ("Nancy", "Anderson", "nancy@fabrikam.example", "Accounts Payable", "Fabrikam Ltd"),
            (
                "Paul",
                "Cannon",
                "paul.cannon@adventure-works.example",
                "Operations Lead",
                "Adventure Works Cycles",
            ),
            ("Yvonne", "McKay", "yvonne.mckay@example.com", "Sole trader", None),
        )
    }
    for account, contact in (
        ("Contoso Pharmaceuticals (NZ)", "Maria Campbell"),
        ("Fabrikam Ltd", "Nancy Anderson"),
    ):
        engine.update(
            engine.schema.entity("account"),
            accounts[account],
            {"primarycontactid@odata.bind": _bind("contacts", contacts[contact])},
            trusted=True,
        )

    def invoice(
        number: str,
        name: str,
        customer: tuple[str, uuid.UUID],
        price_list: str | None,
        delivered_days: int,
        lines: list[tuple[str | None, str | None, float, float]],
        state: tuple[int, int] | None = None,
        currency: str = "NZD",
    ) -> None:
        payload: dict[str, Any] = {
            "invoicenumber": number,
            "name": name,
            f"customerid_{customer[0]}@odata.bind": _bind(f"{customer[0]}s", customer[1]),
            "datedelivered": (today + timedelta(days=delivered_days)).isoformat(),
            "duedate": (today + timedelta(days=delivered_days + 20)).isoformat(),
            "transactioncurrencyid@odata.bind": _bind(
                "transactioncurrencies", currencies[currency]
            ),
            "paymenttermscode": 1,
        }
        if price_list:
            payload["pricelevelid@odata.bind"] = _bind("pricelevels", price_lists[price_list])
        invoice_id = _add(org, "invoice", payload)
        for product, description, quantity, price in lines:
            line: dict[str, Any] = {
                "invoiceid@odata.bind": _bind("invoices", invoice_id),
                "quantity": quantity,
                "transactioncurrencyid@odata.bind": _bind(
                    "transactioncurrencies", currencies[currency]
                ),
            }
            if product:
                line["productid@odata.bind"] = _bind("products", products[product])
                line["isproductoverridden"] = False
            else:
                line.update(
                    isproductoverridden=True, productdescription=description, priceperunit=price
                )
            base = Decimal(str(quantity)) * Decimal(str(price))
            line["tax"] = (
                float((base * GST).quantize(Decimal("0.01"))) if currency == "NZD" else 0.0
            )
            _add(org, "invoicedetail", line)
        if state:
            engine.update(
                engine.schema.entity("invoice"),
                invoice_id,
                {"statecode": state[0], "statuscode": state[1]},
                trusted=True,
            )

    contoso = ("account", accounts["Contoso Pharmaceuticals (NZ)"])
    fabrikam = ("account", accounts["Fabrikam Ltd"])
    invoice(
        "INV-1001",
        "Widgets and consulting - March",
        contoso,
        "Retail NZD",
        -3,
        [
            ("WIDGET-A", None, 10, 25.5),
            ("CONS-100", None, 4, 180.0),
            (None, "Travel to site (write-in)", 1, 120.0),
            (None, "Delivered to loading dock B", 0, 0.0),
        ],
    )
    invoice(
        "INV-1002",
        "Support plan renewal",
        ("contact", contacts["Yvonne McKay"]),
        "Retail NZD",
        -1,
        [("SUPPORT-Y", None, 1, 1200.0)],
    )
    invoice(
        "INV-1003",
        "Installation (not yet delivered)",
        fabrikam,
        "Wholesale NZD",
        10,
        [("INSTALL", None, 2, 350.0)],
    )
    invoice(
        "INV-1004",
        "Draft without price list",
        ("account", accounts["Northwind Traders"]),
        None,
        -2,
        [(None, "Custom fabrication", 3, 95.0)],
    )
    invoice(
        "INV-1005",
        "Bikes - paid",
        ("account", accounts["Adventure Works Cycles"]),
        "Retail NZD",
        -40,
        [("WIDGET-B", None, 5, 42.0)],
        state=(2, 100001),
    )
    invoice(
        "INV-1006",
        "Consulting - part paid",
        contoso,
        "Retail NZD",
        -25,
        [("CONS-100", None, 10, 180.0)],
        state=(2, 100002),
    )
    invoice(
        "INV-1007",
        "Cancelled order",
        fabrikam,
        "Retail NZD",
        -15,
        [("WIDGET-A", None, 3, 25.5)],
        state=(3, 100003),
    )
    invoice(
        "INV-1008",
        "Ski lodge fit-out (USD)",
        ("account", accounts["Alpine Ski House"]),
        "Retail USD",
        -5,
        [(None, "Lodge fit-out services", 1, 4800.0), ("WIDGET-A", None, 20, 25.5)],
        currency="USD",
    )


def bootstrap_demo(sandbox: SandboxState) -> Organization:
    """The demo world of the embedded run: org, a pre-approved user and the connector's app."""
    settings = sandbox.settings
    org = create_organization(
        sandbox, settings.demo_org, "Contoso Demo (NZ)", settings.demo_tenant_id
    )
    seed_demo(org)
    user = sandbox.identity.add_user(
        User(
            settings.demo_user,
            settings.demo_password,
            "Alex Demo",
            settings.demo_tenant_id,
            auto_approve=True,
        )
    )
    org.add_member(user.object_id, user.display_name, user.upn)
    sandbox.identity.add_app(
        AppRegistration(
            client_id=settings.demo_client_id,
            display_name="Dynamics Xero Connector (demo)",
            tenant_id=settings.demo_tenant_id,
            redirect_uris=list(settings.demo_redirect_uris),
            secrets=[settings.demo_client_secret],
        )
    )
    return org
