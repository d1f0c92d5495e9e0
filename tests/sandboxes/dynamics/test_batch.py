"""$batch: change sets, Content-ID references, stop/continue on error, the 1,000 limit."""

from __future__ import annotations

import json
import uuid

from .conftest import Sandbox

Dv = tuple[Sandbox, dict[str, str]]


def _part(
    method: str, url: str, body: dict[str, object] | None = None, content_id: int | None = None
) -> str:
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id is not None:
        head += f"Content-ID: {content_id}\r\n"
    request = f"{method} {url} HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
    return head + "\r\n" + request + (json.dumps(body) if body is not None else "") + "\r\n"


def _batch(
    sandbox: Sandbox,
    headers: dict[str, str],
    items: list[list[str] | str],
    prefer: str | None = None,
) -> tuple[int, str]:
    boundary = f"batch_{uuid.uuid4()}"
    chunks = []
    for item in items:
        if isinstance(item, list):
            changeset = f"changeset_{uuid.uuid4()}"
            inner = "".join(f"--{changeset}\r\n{p}" for p in item) + f"--{changeset}--\r\n"
            chunks.append(
                f"--{boundary}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n"
                + inner
            )
        else:
            chunks.append(f"--{boundary}\r\n{item}")
    body = "".join(chunks) + f"--{boundary}--\r\n"
    extra = {"Content-Type": f"multipart/mixed; boundary={boundary}"}
    if prefer:
        extra["Prefer"] = prefer
    response = sandbox.http.post(
        f"{sandbox.api()}/$batch", content=body, headers={**headers, **extra}
    )
    return response.status_code, response.text


def _count(sandbox: Sandbox, headers: dict[str, str], name: str) -> int:
    rows = sandbox.http.get(
        f"{sandbox.api()}/accounts?$filter=name eq '{name}'", headers=headers
    ).json()["value"]
    return len(rows)


def test_changeset_with_content_id_reference_commits(dv: Dv) -> None:
    sandbox, headers = dv
    api = sandbox.api()
    changeset = [
        _part("POST", f"{api}/accounts", {"name": "Batch Co"}, 1),
        _part(
            "POST",
            f"{api}/contacts",
            {"lastname": "Batchson", "parentcustomerid_account@odata.bind": "$1"},
            2,
        ),
        _part("PATCH", "$1", {"telephone1": "555"}, 3),
    ]
    status, text = _batch(
        sandbox, headers, [changeset, _part("GET", "/api/data/v9.2/accounts?$select=name&$top=1")]
    )
    assert status == 200
    assert text.count("HTTP/1.1 204 No Content") == 3
    assert "HTTP/1.1 200 OK" in text
    assert "changesetresponse_" in text
    account = sandbox.http.get(
        f"{api}/accounts?$filter=name eq 'Batch Co'"
        "&$expand=contact_customer_accounts($select=lastname)",
        headers=headers,
    ).json()["value"][0]
    assert account["telephone1"] == "555"
    assert account["contact_customer_accounts"][0]["lastname"] == "Batchson"


def test_failed_changeset_rolls_back(dv: Dv) -> None:
    sandbox, headers = dv
    api = sandbox.api()
    changeset = [
        _part("POST", f"{api}/accounts", {"name": "Rollback Co"}, 1),
        _part("POST", f"{api}/accounts", {"nosuchcolumn": 1}, 2),
    ]
    status, text = _batch(sandbox, headers, [changeset])
    # Without odata.continue-on-error the batch answers with the failing request's status.
    assert status == 400
    assert "HTTP/1.1 400 Bad Request" in text
    assert "0x80060888" in text
    assert _count(sandbox, headers, "Rollback Co") == 0


def test_stops_at_first_error_unless_continue_on_error(dv: Dv) -> None:
    sandbox, headers = dv
    api = sandbox.api()
    items = [
        _part("POST", f"{api}/accounts", {"bad": 1}),
        _part("POST", f"{api}/accounts", {"name": "After Error"}),
    ]
    status, text = _batch(sandbox, headers, list(items))
    assert status == 400
    assert _count(sandbox, headers, "After Error") == 0
    assert "204 No Content" not in text
    status, text = _batch(sandbox, headers, list(items), prefer="odata.continue-on-error")
    assert status == 200
    assert _count(sandbox, headers, "After Error") == 1
    assert "204 No Content" in text


def test_undeclared_content_id_reference_is_refused(dv: Dv) -> None:
    sandbox, headers = dv
    api = sandbox.api()
    changeset = [
        _part(
            "POST",
            f"{api}/contacts",
            {"lastname": "Early", "parentcustomerid_account@odata.bind": "$1"},
            2,
        ),
        _part("POST", f"{api}/accounts", {"name": "Declared Late"}, 1),
    ]
    status, text = _batch(sandbox, headers, [changeset])
    assert status == 400
    assert "Content-ID Reference: '$1' does not exist in the batch context." in text
    assert _count(sandbox, headers, "Declared Late") == 0


def test_more_than_1000_requests_is_rejected(dv: Dv) -> None:
    sandbox, headers = dv
    parts = [_part("GET", "accounts?$top=1")] * 1001
    status, text = _batch(sandbox, headers, list(parts))
    assert status == 400
    assert "1000" in text
