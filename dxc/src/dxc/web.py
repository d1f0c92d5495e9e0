"""The portal's web frontend (web/, built into web/dist by Vite) served at `/` in the embedded
mode: files as they are, every other path answered with index.html so the browser's router
shows the page (a single-page app)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

WEB_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
ASSETS = "assets/"
NOT_BUILT = (
    "<!doctype html><title>dx-connector</title><h1>The portal is not built</h1>"
    "<p>Build it with <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> "
    "(<code>./scripts/dev</code> does this), then reload.</p>"
    '<p>The services and sandboxes are listed at <a href="/_services">/_services</a>.</p>'
)


def serve_portal_web(app: FastAPI, dist: Path = WEB_DIST) -> None:
    """Add the catch-all route that serves the built frontend. Add it last: it answers every
    GET no earlier route or mount took."""
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False, response_model=None)
    async def portal_web(path: str) -> Response:
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        candidate = (root / path).resolve()
        if path and candidate.is_relative_to(root) and candidate.is_file():
            # Vite names assets by content hash, so they never change under one name.
            immutable = path.startswith(ASSETS)
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(candidate, headers={"Cache-Control": cache})
        if path.startswith(ASSETS):
            return Response("Not found", status_code=404, media_type="text/plain")
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
