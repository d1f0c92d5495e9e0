"""The portal's frontend served at `/` in the embedded mode, with a single-page-app fallback."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from dxc.embedded import create_embedded_app
from dxc.web import serve_portal_web
from fastapi import FastAPI

INDEX = "<!doctype html><title>portal</title><div id=root></div>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-abc123.js").write_text("console.log('portal')")
    (dist / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the dist folder")
    return dist


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://dxc")


async def test_files_are_served_and_every_page_falls_back_to_index(dist: Path) -> None:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    serve_portal_web(app, dist)
    async with client_for(app) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        for page in ("/", "/login", "/connections/42", "/connections/42/activity?x=1"):
            response = await client.get(page)
            assert response.status_code == 200, page
            assert response.text == INDEX
            assert response.headers["cache-control"] == "no-cache"
        asset = await client.get("/assets/index-abc123.js")
        assert asset.text == "console.log('portal')"
        assert "immutable" in asset.headers["cache-control"]
        assert "javascript" in asset.headers["content-type"]
        assert (await client.get("/favicon.svg")).text == "<svg/>"
        missing_asset = await client.get("/assets/index-gone.js")
        assert missing_asset.status_code == 404
        escaped = await client.get("/..%2Fsecret.txt")
        assert "outside the dist folder" not in escaped.text


async def test_an_unbuilt_portal_says_how_to_build_it(tmp_path: Path) -> None:
    app = FastAPI()
    serve_portal_web(app, tmp_path / "no-dist")
    async with client_for(app) as client:
        response = await client.get("/connections/1")
    assert response.status_code == 503
    assert "npm ci" in response.text


async def test_embedded_mode_serves_the_portal_beside_the_services(
    tmp_path: Path, dist: Path
) -> None:
    app = create_embedded_app(tmp_path / "data", web_dist=dist)
    async with LifespanManager(app), client_for(app) as client:
        assert (await client.get("/")).text == INDEX
        assert (await client.get("/connections/7")).text == INDEX
        health = await client.get("/portal-api/healthz")
        assert health.json() == {"status": "ok", "service": "portal-api"}
        assert "portal-api" in (await client.get("/_services")).text
        unknown_api = await client.get("/portal-api/v1/no-such-thing")
        assert unknown_api.status_code == 404
        assert unknown_api.text != INDEX
