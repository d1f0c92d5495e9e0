"""Helpers of the sandboxes' sign-in and consent pages: the HTML shell, hidden form fields that
carry the authorize request through the pages, and the redirect back to the app."""

from __future__ import annotations

import html
from urllib.parse import urlencode

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
