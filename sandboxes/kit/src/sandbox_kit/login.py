"""Helpers of the sandboxes' sign-in: the HTML shell of the sign-in and consent pages, hidden
form fields that carry the authorize request through the pages, the redirect back to the app,
and the client credentials a token request carries."""

from __future__ import annotations

import base64
import binascii
import html
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse


def html_page(title: str, body: str, *, style: str, status: int = 200) -> HTMLResponse:
    """A page in the vendor's look (`style` is its CSS); `title` is escaped, `body` is HTML."""
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{style}</style></head>"
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status)


def hidden_inputs(params: dict[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
    )


def redirect_back(redirect_uri: str, params: dict[str, str]) -> RedirectResponse:
    """The 302 to the app's redirect URI with `params` added to its query (empty ones left out)."""
    separator = "&" if "?" in redirect_uri else "?"
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{redirect_uri}{separator}{query}", status_code=302)


def client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """The client id and secret of a token request: HTTP Basic, else the form's
    client_id/client_secret. A Basic header that does not decode names no client."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")
