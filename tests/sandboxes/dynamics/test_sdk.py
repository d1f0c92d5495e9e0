"""Microsoft's powerplatform-dataverse-client works against the sandbox unmodified (over TLS)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from azure.core.credentials import AccessToken
from dynamics_sandbox.app import create_app
from dynamics_sandbox.settings import DynamicsSandboxSettings
from PowerPlatform.Dataverse.client import DataverseClient
from PowerPlatform.Dataverse.models import Record

from tests.support.http_server import serve_in_thread


class SandboxCredential:
    """An azure-identity style TokenCredential using the sandbox's client-credentials flow."""

    def __init__(self, token_url: str, client_id: str, client_secret: str, ca: str) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.ca = ca

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        response = httpx.post(
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "scope": " ".join(scopes),
            },
            verify=ssl.create_default_context(cafile=self.ca),
        )
        response.raise_for_status()
        body = response.json()
        return AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"]))


@pytest.fixture
def tls_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path, cert_path = tmp_path / "ca.pem", tmp_path / "cert.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_path))
    app = create_app(DynamicsSandboxSettings(token_signing_key="sdk-signing-key-0123456789abcdef0"))
    with serve_in_thread(app, ssl_certfile=str(cert_path), ssl_keyfile=str(cert_path)) as base:
        yield base, str(ca_path)


def test_sdk_crud_on_accounts_and_invoices(tls_sandbox: tuple[str, str]) -> None:
    base, ca = tls_sandbox
    registration = httpx.post(
        f"{base}/sandbox-admin/apps",
        json={"display_name": "SDK test", "application_user_orgs": ["demo"]},
        verify=ssl.create_default_context(cafile=ca),
    ).json()
    credential = SandboxCredential(
        f"{base}/common/oauth2/v2.0/token",
        registration["client_id"],
        registration["client_secret"],
        ca,
    )
    with DataverseClient(f"{base}/orgs/demo", credential) as client:
        account_id = client.records.create(
            "account", {"name": "SDK Account", "telephone1": "555-0100"}
        )
        account = client.records.retrieve("account", account_id, select=["name", "telephone1"])
        assert account is not None
        assert account["name"] == "SDK Account"
        client.records.update("account", account_id, {"telephone1": "555-0199"})
        found = client.records.list(
            "account", filter="name eq 'SDK Account'", select=["name", "telephone1"]
        )
        assert [r["telephone1"] for r in found] == ["555-0199"]

        invoice_id = client.records.create(
            "invoice",
            {"name": "SDK invoice", "customerid_account@odata.bind": f"/accounts({account_id})"},
        )
        client.records.create(
            "invoicedetail",
            {
                "invoiceid@odata.bind": f"/invoices({invoice_id})",
                "isproductoverridden": True,
                "productdescription": "SDK line",
                "quantity": 3,
                "priceperunit": 10,
            },
        )
        invoices = client.records.list(
            "invoice",
            filter=f"_customerid_value eq {account_id}",
            select=["name", "totalamount"],
            expand=["invoice_details($select=productdescription)"],
        )
        assert [r["totalamount"] for r in invoices] == [30]
        first_invoice = invoices[0]
        assert isinstance(first_invoice, Record)
        assert first_invoice["invoice_details"][0]["productdescription"] == "SDK line"
        paged = list(client.records.list("invoice", select=["name"], page_size=3))
        assert len(paged) == 9
        client.records.update("invoice", invoice_id, {"statecode": 2, "statuscode": 100001})
        closed = client.records.retrieve("invoice", invoice_id, select=["statecode"])
        assert closed is not None
        assert closed["statecode"] == 2
        client.records.delete("invoice", invoice_id)
        client.records.delete("account", account_id)
        assert list(client.records.list("account", filter="name eq 'SDK Account'")) == []


def _client(base: str, ca: str) -> DataverseClient:
    registration = httpx.post(
        f"{base}/sandbox-admin/apps",
        json={"display_name": "SDK test", "application_user_orgs": ["demo"]},
        verify=ssl.create_default_context(cafile=ca),
    ).json()
    credential = SandboxCredential(
        f"{base}/common/oauth2/v2.0/token",
        registration["client_id"],
        registration["client_secret"],
        ca,
    )
    return DataverseClient(f"{base}/orgs/demo", credential)


def test_sdk_table_and_column_operations(tls_sandbox: tuple[str, str]) -> None:
    base, ca = tls_sandbox
    with _client(base, ca) as client:
        table = client.tables.create(
            "new_Gadget", {"new_Colour": "string", "new_Size": "int"}, display_name="Gadget"
        )
        assert table["entity_set_name"] == "new_gadgets"
        info = client.tables.get("new_Gadget")
        assert info is not None
        assert client.tables.add_columns("new_Gadget", {"new_Note": "memo"}) == ["new_Note"]
        client.tables.update_column("new_Gadget", "new_Colour", {"max_length": 30})
        colour = client.tables.get_column("new_Gadget", "new_colour")
        assert colour is not None
        assert colour["MaxLength"] == 30
        client.tables.remove_columns("new_Gadget", ["new_Note"])
        names = [c["LogicalName"] for c in client.tables.list_columns("new_Gadget")]
        assert "new_note" not in names
        assert "new_colour" in names
        client.records.create("new_gadget", {"new_name": "G1", "new_colour": "red", "new_size": 3})
        key = client.tables.create_alternate_key("new_Gadget", "new_ColourKey", ["new_colour"])
        assert [k.schema_name for k in client.tables.get_alternate_keys("new_Gadget")] == [
            key.schema_name
        ]
        client.records.upsert(
            "new_gadget",
            [{"alternate_key": {"new_colour": "red"}, "record": {"new_size": 4}}],
        )
        client.records.upsert(
            "new_gadget",
            [
                {"alternate_key": {"new_colour": "red"}, "record": {"new_size": 5}},
                {"alternate_key": {"new_colour": "blue"}, "record": {"new_name": "G2"}},
            ],
        )
        gadgets = client.records.list("new_gadget", select=["new_colour", "new_size"])
        sizes = {g["new_colour"]: g["new_size"] for g in gadgets}
        assert sizes == {"red": 5, "blue": None}
        client.tables.delete("new_Gadget")
        assert client.tables.get("new_Gadget") is None


def test_sdk_queries_filter_like_a_real_org(tls_sandbox: tuple[str, str]) -> None:
    base, ca = tls_sandbox
    with _client(base, ca) as client:
        rows = client.query.sql(
            "SELECT TOP 3 invoicenumber, totalamount FROM invoice "
            "WHERE statecode = 0 ORDER BY invoicenumber"
        )
        numbers = [r["invoicenumber"] for r in rows]
        assert numbers == sorted(numbers)
        assert len(numbers) == 3
        assert set(rows[0]) >= {"invoicenumber", "totalamount"}
        assert "name" not in rows[0]
        fetched = client.query.fetchxml(
            "<fetch><entity name='invoice'><attribute name='invoicenumber'/>"
            "<filter><condition attribute='invoicenumber' operator='in'>"
            "<value>INV-1001</value><value>INV-1004</value></condition></filter>"
            "<order attribute='invoicenumber' descending='true'/></entity></fetch>"
        ).execute()
        assert [r["invoicenumber"] for r in fetched] == ["INV-1004", "INV-1001"]
        paged = client.query.fetchxml(
            "<fetch count='3'><entity name='invoice'><attribute name='invoicenumber'/>"
            "<order attribute='invoicenumber'/></entity></fetch>"
        )
        pages = list(paged.execute_pages())
        assert [len(p.records) for p in pages] == [3, 3, 2]
        everything = [r["invoicenumber"] for p in pages for r in p.records]
        assert everything == sorted(everything)
        assert len(set(everything)) == 8
