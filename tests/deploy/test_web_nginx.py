"""deploy/web/nginx.conf, run by a real nginx on loopback (Debian's, where installed) in front of
the built portal (web/dist) and a stand-in for portal-api: metrics stay private, and every answer
carries the security headers."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request

from tests.deploy.catalogue import DEPLOY, ROOT
from tests.support.http_server import free_port, serve_in_thread

NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
)
WEB_DIST = ROOT / "web" / "dist"
pytestmark = [
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed here"),
    pytest.mark.skipif(not (WEB_DIST / "index.html").is_file(), reason="web/ is not built"),
]


def portal_api_stand_in(requested: list[str]) -> FastAPI:
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def anything(path: str, request: Request) -> dict[str, str]:
        requested.append(request.url.path)
        return {"path": path}

    return app


@pytest.fixture(scope="module")
def upstream_paths() -> list[str]:
    return []


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory, upstream_paths: list[str]) -> Iterator[str]:
    """The image's server block, pointed at loopback: its listen address, document root and
    portal-api's address are the only things changed."""
    assert NGINX is not None
    directory = tmp_path_factory.mktemp("nginx")
    with serve_in_thread(portal_api_stand_in(upstream_paths)) as api_url:
        port = free_port()
        server = (
            (DEPLOY / "web" / "nginx.conf")
            .read_text()
            .replace("listen 8080;", f"listen 127.0.0.1:{port};")
            .replace("root /usr/share/nginx/html;", f"root {WEB_DIST};")
            .replace("http://portal-api:8000/", f"{api_url}/")
        )
        (directory / "default.conf").write_text(server)
        temp_paths = "\n".join(
            f"{kind}_temp_path {directory / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (directory / "nginx.conf").write_text(
            f"""
            {"user root;" if os.geteuid() == 0 else ""}
            daemon off;
            worker_processes 1;
            pid {directory / "nginx.pid"};
            error_log {directory / "error.log"} warn;
            events {{ worker_connections 64; }}
            http {{
                include /etc/nginx/mime.types;
                access_log off;
                {temp_paths}
                include {directory / "default.conf"};
            }}
            """
        )
        command = [NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 10
            while True:
                try:
                    httpx.get(url)
                    break
                except httpx.TransportError:
                    assert process.poll() is None, process.stderr and process.stderr.read()
                    assert time.monotonic() < deadline, "nginx did not start"
                    time.sleep(0.05)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.mark.parametrize(
    "path",
    [
        "/portal-api/metrics",
        "/portal-api/metrics/",
        "/portal-api/metrics?format=text",
        "/portal-api//metrics",
        "/portal-api/%6detrics",
        "/portal-api/../portal-api/metrics",
        "/metrics",
    ],
)
def test_metrics_are_never_served(portal: str, upstream_paths: list[str], path: str) -> None:
    upstream_paths.clear()
    response = httpx.get(portal + path)
    assert response.status_code == 404
    assert upstream_paths == []


def test_portal_api_is_still_forwarded(portal: str, upstream_paths: list[str]) -> None:
    upstream_paths.clear()
    response = httpx.get(portal + "/portal-api/v1/session")
    assert response.status_code == 200
    assert upstream_paths == ["/v1/session"]
    assert "cache-control" not in response.headers


def script_and_style_sources(index_html: str) -> list[str]:
    sources = []
    for marker in ('src="', 'href="'):
        start = 0
        while (start := index_html.find(marker, start)) != -1:
            start += len(marker)
            sources.append(index_html[start : index_html.index('"', start)])
    return sources


@pytest.mark.parametrize("path", ["/", "/connections", "/assets/", "/portal-api/v1/x", "/metrics"])
def test_every_answer_carries_the_security_headers(portal: str, path: str) -> None:
    headers = httpx.get(portal + path).headers
    policy = dict(
        [*directive.split(" ", 1), ""][:2]
        for directive in (part.strip() for part in headers["content-security-policy"].split(";"))
    )
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert "unsafe-eval" not in headers["content-security-policy"]
    assert headers["strict-transport-security"].startswith("max-age=")
    assert int(headers["strict-transport-security"].split(";")[0].split("=")[1]) >= 31536000
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "server" not in headers or "/" not in headers["server"]


def test_the_built_portal_loads_only_from_its_own_origin(portal: str) -> None:
    """What the policy allows is what the build needs: its index names only same-origin files,
    and each of them is served (with the long cache an immutable, hashed asset deserves)."""
    index = httpx.get(portal + "/")
    assert index.headers["cache-control"] == "no-cache"
    sources = script_and_style_sources(index.text)
    assert sources, "the built index.html loads no script or stylesheet"
    for source in sources:
        assert source.startswith("/"), source
        assert not source.startswith("//"), source
        asset = httpx.get(portal + source)
        assert asset.status_code == 200, source
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "<script>" not in index.text
    assert "style=" not in index.text


def test_the_image_installs_this_configuration() -> None:
    dockerfile = (DEPLOY / "web" / "Dockerfile").read_text()
    assert "deploy/web/nginx.conf /etc/nginx/conf.d/default.conf" in dockerfile


def test_unknown_assets_are_not_the_index(portal: str) -> None:
    assert httpx.get(portal + "/assets/missing.js").status_code == 404
