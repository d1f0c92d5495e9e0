"""The standard Dataverse tables the connector touches, with their real logical names,
navigation properties and state models (from the Dynamics 365 entity reference)."""

from __future__ import annotations

from .metadata import Attribute, AttributeType, Entity, Option, Relationship
from .solution_tables import add_solution_tables
from .store.schema import Schema, active_inactive

T = AttributeType


def _string(name: str, max_length: int = 100, **kw: object) -> Attribute:
    return Attribute(name, T.STRING, max_length=max_length, **kw)  # type: ignore[arg-type]


def _money(name: str, **kw: object) -> Attribute:
    kw.setdefault("precision", 2)
    return Attribute(name, T.MONEY, **kw)  # type: ignore[arg-type]


def _user_local_date(name: str) -> Attribute:
    return Attribute(name, T.DATETIME, date_only=True, datetime_behavior="UserLocal")


def _lookup(
    schema: Schema,
    entity: Entity,
    attribute: str,
    target: str,
    relationship: str,
    referenced_nav: str,
    *,
    cascade_delete: str = "RemoveLink",
    required: str = "None",
) -> None:
    schema.add_relationship(
        Relationship(
            schema_name=relationship,
            referenced_entity=target,
            referencing_entity=entity.logical_name,
            referencing_attribute=attribute,
            referenced_nav=referenced_nav,
            referencing_nav=attribute,
            cascade_delete=cascade_delete,
        ),
        Attribute(attribute, T.LOOKUP, targets=[target], required=required),
    )


def _customer(
    schema: Schema, entity: Entity, attribute: str, relationships: tuple[str, str]
) -> None:
    """A Customer column: one lookup, two relationships (account and contact)."""
    lookup = Attribute(attribute, T.CUSTOMER, targets=["account", "contact"])
    for target, relationship in zip(("account", "contact"), relationships, strict=True):
        schema.add_relationship(
            Relationship(
                schema_name=relationship,
                referenced_entity=target,
                referencing_entity=entity.logical_name,
                referencing_attribute=attribute,
                referenced_nav=relationship,
                referencing_nav=f"{attribute}_{target}",
            ),
            lookup,
        )


def _entity(
    schema: Schema,
    logical: str,
    entity_set: str,
    primary_name: str,
    type_code: int,
    name_length: int = 100,
    schema_name: str = "",
) -> Entity:
    entity = schema.add_entity(
        Entity(
            logical_name=logical,
            schema_name=schema_name,
            entity_set_name=entity_set,
            primary_id=f"{logical}id",
            primary_name=primary_name,
            object_type_code=type_code,
        )
    )
    entity.add(
        Attribute(
            f"{logical}id",
            T.UNIQUEIDENTIFIER,
            is_primary_id=True,
            valid_for_update=False,
            required="SystemRequired",
        )
    )
    entity.add(_string(primary_name, name_length, is_primary_name=True))
    return entity


def add_system_columns(schema: Schema, entity: Entity) -> None:
    """Audit columns every table has."""
    for name in ("createdon", "modifiedon"):
        entity.add(Attribute(name, T.DATETIME, valid_for_create=False, valid_for_update=False))
    entity.add(Attribute("versionnumber", T.BIGINT, valid_for_create=False, valid_for_update=False))
    if "systemuser" in schema.entities:
        for attribute, rel in (
            ("createdby", "createdby"),
            ("modifiedby", "modifiedby"),
            ("ownerid", "owner"),
        ):
            _lookup(
                schema,
                entity,
                attribute,
                "systemuser",
                f"lk_{entity.logical_name}_{rel}",
                f"lk_{entity.logical_name}_{rel}",
            )
            entity.attributes[attribute].valid_for_create = attribute == "ownerid"
            entity.attributes[attribute].valid_for_update = attribute == "ownerid"


def build_standard_schema() -> Schema:
    schema = Schema()

    user = _entity(
        schema, "systemuser", "systemusers", "fullname", 8, 200, schema_name="SystemUser"
    )
    user.ownership = "BusinessOwned"
    user.add(_string("domainname", 1024))
    user.add(_string("internalemailaddress", 100))
    user.add(Attribute("azureactivedirectoryobjectid", T.UNIQUEIDENTIFIER))
    user.add(Attribute("applicationid", T.UNIQUEIDENTIFIER))
    user.add(
        Attribute("isdisabled", T.BOOLEAN, options=[Option(0, "Enabled"), Option(1, "Disabled")])
    )
    user.add(Attribute("businessunitid", T.UNIQUEIDENTIFIER))
    add_system_columns(schema, user)

    currency = _entity(
        schema,
        "transactioncurrency",
        "transactioncurrencies",
        "currencyname",
        9105,
        schema_name="TransactionCurrency",
    )
    currency.ownership = "OrganizationOwned"
    currency.add(_string("isocurrencycode", 5, required="SystemRequired"))
    currency.add(_string("currencysymbol", 10))
    currency.add(Attribute("exchangerate", T.DECIMAL, precision=10))
    currency.add(Attribute("currencyprecision", T.INTEGER))
    active_inactive(currency)
    add_system_columns(schema, currency)

    schedule = _entity(
        schema, "uomschedule", "uomschedules", "name", 1056, 200, schema_name="UoMSchedule"
    )
    schedule.add(_string("baseuomname", 100))
    add_system_columns(schema, schedule)

    uom = _entity(schema, "uom", "uoms", "name", 1055, 100, schema_name="UoM")
    uom.add(Attribute("quantity", T.DECIMAL, precision=5))
    _lookup(
        schema,
        uom,
        "uomscheduleid",
        "uomschedule",
        "UnitOfMeasureSchedule_UnitsOfMeasure",
        "UnitOfMeasureSchedule_UnitsOfMeasure",
        required="SystemRequired",
    )
    add_system_columns(schema, uom)

    price_level = _entity(
        schema, "pricelevel", "pricelevels", "name", 1022, 100, schema_name="PriceLevel"
    )
    price_level.add(_user_local_date("begindate"))
    price_level.add(_user_local_date("enddate"))
    price_level.add(Attribute("description", T.MEMO, max_length=2000))
    _lookup(
        schema,
        price_level,
        "transactioncurrencyid",
        "transactioncurrency",
        "transactioncurrency_pricelevel",
        "transactioncurrency_pricelevel",
    )
    price_level.add(
        Attribute(
            "statecode",
            T.STATE,
            options=[
                Option(0, "Active", default_status=100001),
                Option(1, "Inactive", default_status=100002),
            ],
        )
    )
    price_level.add(
        Attribute(
            "statuscode",
            T.STATUS,
            options=[Option(100001, "Active", state=0), Option(100002, "Inactive", state=1)],
        )
    )
    add_system_columns(schema, price_level)

    product = _entity(schema, "product", "products", "name", 1024, 100)
    product.add(_string("productnumber", 100, required="SystemRequired"))
    product.add(Attribute("description", T.MEMO, max_length=2000))
    product.add(_money("price"))
    product.add(_money("standardcost"))
    product.add(_money("currentcost"))
    product.add(Attribute("quantitydecimal", T.INTEGER, min_value=0, max_value=5))
    product.add(
        Attribute(
            "producttypecode",
            T.PICKLIST,
            options=[
                Option(1, "Sales Inventory"),
                Option(2, "Miscellaneous Charges"),
                Option(3, "Services"),
                Option(4, "Flat Fees"),
            ],
        )
    )
    _lookup(
        schema,
        product,
        "defaultuomscheduleid",
        "uomschedule",
        "unit_of_measure_schedule_product",
        "unit_of_measure_schedule_product",
    )
    _lookup(
        schema,
        product,
        "defaultuomid",
        "uom",
        "unit_of_measurement_products",
        "unit_of_measurement_products",
    )
    _lookup(
        schema,
        product,
        "pricelevelid",
        "pricelevel",
        "price_level_products",
        "price_level_products",
    )
    _lookup(
        schema,
        product,
        "transactioncurrencyid",
        "transactioncurrency",
        "transactioncurrency_product",
        "transactioncurrency_product",
    )
    product.add(
        Attribute(
            "statecode",
            T.STATE,
            options=[
                Option(0, "Active", default_status=1),
                Option(1, "Retired", default_status=2),
                Option(2, "Draft", default_status=0),
                Option(3, "Under Revision", default_status=3),
            ],
        )
    )
    product.add(
        Attribute(
            "statuscode",
            T.STATUS,
            options=[
                Option(0, "Draft", state=2),
                Option(1, "Active", state=0),
                Option(2, "Retired", state=1),
                Option(3, "Under Revision", state=3),
            ],
        )
    )
    add_system_columns(schema, product)

    account = _entity(schema, "account", "accounts", "name", 1, 160)
    contact = _entity(schema, "contact", "contacts", "fullname", 2, 160)
    for party in (account, contact):
        party.add(_string("emailaddress1", 100))
        party.add(_string("telephone1", 50))
        for line in (
            "address1_line1",
            "address1_line2",
            "address1_city",
            "address1_stateorprovince",
            "address1_postalcode",
            "address1_country",
        ):
            party.add(_string(line, 250 if "line" in line else 80))
        _lookup(
            schema,
            party,
            "transactioncurrencyid",
            "transactioncurrency",
            f"transactioncurrency_{party.logical_name}",
            f"transactioncurrency_{party.logical_name}",
        )
        active_inactive(party)
    account.add(_string("accountnumber", 20))
    account.add(_string("websiteurl", 200))
    account.add(_money("creditlimit"))
    account.add(Attribute("description", T.MEMO, max_length=2000))
    contact.add(_string("firstname", 50))
    contact.add(_string("lastname", 50, required="ApplicationRequired"))
    contact.add(_string("jobtitle", 100))
    _lookup(
        schema,
        account,
        "primarycontactid",
        "contact",
        "account_primary_contact",
        "account_primary_contact",
    )
    _customer(
        schema,
        contact,
        "parentcustomerid",
        ("contact_customer_accounts", "contact_customer_contacts"),
    )
    add_system_columns(schema, account)
    add_system_columns(schema, contact)

    invoice = _entity(schema, "invoice", "invoices", "name", 1090, 300)
    invoice.add(_string("invoicenumber", 100, valid_for_update=False))
    invoice.add(Attribute("description", T.MEMO, max_length=2000))
    # The Invoice entity reference: both UserLocal with Format DateOnly (a UTC date-time).
    invoice.add(_user_local_date("datedelivered"))
    invoice.add(_user_local_date("duedate"))
    for money in (
        "totalamount",
        "totaltax",
        "totallineitemamount",
        "totalamountlessfreight",
        "totaldiscountamount",
        "totallineitemdiscountamount",
    ):
        invoice.add(_money(money, valid_for_create=False))
    invoice.add(_money("discountamount"))
    invoice.add(_money("freightamount"))
    invoice.add(Attribute("discountpercentage", T.DECIMAL, precision=2, min_value=0, max_value=100))
    invoice.add(Attribute("ispricelocked", T.BOOLEAN))
    invoice.add(
        Attribute("willcall", T.BOOLEAN, options=[Option(0, "Address"), Option(1, "Will Call")])
    )
    invoice.add(
        Attribute(
            "paymenttermscode",
            T.PICKLIST,
            options=[
                Option(1, "Net 30"),
                Option(2, "2% 10, Net 30"),
                Option(3, "Net 45"),
                Option(4, "Net 60"),
            ],
        )
    )
    for line in (
        "billto_name",
        "billto_line1",
        "billto_city",
        "billto_postalcode",
        "billto_country",
    ):
        invoice.add(_string(line, 250 if "line" in line else 80))
    _customer(
        schema, invoice, "customerid", ("invoice_customer_accounts", "invoice_customer_contacts")
    )
    invoice.attributes["customerid"].required = "ApplicationRequired"
    _lookup(
        schema,
        invoice,
        "pricelevelid",
        "pricelevel",
        "price_level_invoices",
        "price_level_invoices",
    )
    _lookup(
        schema,
        invoice,
        "transactioncurrencyid",
        "transactioncurrency",
        "transactioncurrency_invoice",
        "transactioncurrency_invoice",
    )
    invoice.add(
        Attribute(
            "statecode",
            T.STATE,
            required="SystemRequired",
            valid_for_create=False,
            options=[
                Option(0, "Active", default_status=1),
                Option(1, "Closed (deprecated)", default_status=100003),
                Option(2, "Paid", default_status=100001),
                Option(3, "Canceled", default_status=100003),
            ],
        )
    )
    invoice.add(
        Attribute(
            "statuscode",
            T.STATUS,
            options=[
                Option(1, "New", state=0),
                Option(2, "Partially Shipped", state=0),
                Option(3, "Canceled (deprecated)", state=1),
                Option(4, "Billed", state=0),
                Option(5, "Booked (applies to services)", state=0),
                Option(6, "Installed (applies to services)", state=0),
                Option(7, "Paid in Full (deprecated)", state=1),
                Option(100001, "Complete", state=2),
                Option(100002, "Partial", state=2),
                Option(100003, "Canceled", state=3),
            ],
        )
    )
    add_system_columns(schema, invoice)

    detail = _entity(
        schema,
        "invoicedetail",
        "invoicedetails",
        "invoicedetailname",
        1091,
        500,
        schema_name="InvoiceDetail",
    )
    detail.add(_string("productdescription", 500))
    detail.add(
        Attribute(
            "isproductoverridden", T.BOOLEAN, options=[Option(0, "Existing"), Option(1, "Write-In")]
        )
    )
    detail.add(
        Attribute(
            "ispriceoverridden",
            T.BOOLEAN,
            options=[Option(0, "Use Default"), Option(1, "Override Price")],
        )
    )
    detail.add(Attribute("quantity", T.DECIMAL, precision=5))
    # Unit prices carry the organisation's pricing decimal precision (see store/pricing.py).
    detail.add(_money("priceperunit", precision=4))
    detail.add(_money("manualdiscountamount"))
    # Per unit; Dynamics takes it from the price list's discount list, the sandbox as given.
    detail.add(_money("volumediscountamount"))
    detail.add(_money("tax"))
    detail.add(_money("baseamount", valid_for_create=False, valid_for_update=False))
    detail.add(_money("extendedamount", valid_for_create=False, valid_for_update=False))
    detail.add(Attribute("lineitemnumber", T.INTEGER))
    detail.add(Attribute("sequencenumber", T.INTEGER))
    detail.add(Attribute("description", T.MEMO, max_length=2000))
    _lookup(
        schema,
        detail,
        "invoiceid",
        "invoice",
        "invoice_details",
        "invoice_details",
        cascade_delete="Cascade",
        required="SystemRequired",
    )
    _lookup(
        schema, detail, "productid", "product", "product_invoice_details", "product_invoice_details"
    )
    _lookup(
        schema,
        detail,
        "uomid",
        "uom",
        "unit_of_measurement_invoice_details",
        "unit_of_measurement_invoice_details",
    )
    _lookup(
        schema,
        detail,
        "transactioncurrencyid",
        "transactioncurrency",
        "transactioncurrency_invoicedetail",
        "transactioncurrency_invoicedetail",
    )
    add_system_columns(schema, detail)
    add_solution_tables(schema)
    return schema
