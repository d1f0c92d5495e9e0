"""The portal in a real browser: Debian's chromium driven by Playwright, against the embedded
stack (`dxc dev`) started as a subprocess with the built frontend (web/dist) at `/`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, expect, sync_playwright

from tests.support.http_server import free_port

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("DXC_E2E_CHROMIUM", "/usr/bin/chromium"))
# Screenshots go to a scratch folder, so a test run leaves the committed ones alone; refresh
# those with DXC_E2E_SCREENSHOTS=docs/screenshots ./scripts/test tests/e2e.
SCREENSHOTS = Path(
    os.environ.get("DXC_E2E_SCREENSHOTS", Path(tempfile.gettempdir()) / "dxc-e2e-screenshots")
)
# Generous waits: installing the connector or a sync run can take seconds on a busy CI machine.
expect.set_options(timeout=20_000)
# The flags a headless chromium needs on a machine without a display or outside network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Stack:
    url: str
    data_dir: Path
    log: Path

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`dxc dev` on a free port with its own data directory, until the module's tests end."""
    if not (REPO / "web" / "dist" / "index.html").is_file():
        pytest.fail("web/dist is not built: source scripts/_bootstrap.sh (it runs npm ci + build)")
    root = tmp_path_factory.mktemp("dxc-e2e")
    port = free_port()
    log = root / "dxc.log"
    dxc = Path(sys.executable).parent / "dxc"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(dxc), "dev", "--port", str(port), "--data-dir", str(root / "data")],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    stack = Stack(f"http://127.0.0.1:{port}", root / "data", log)
    try:
        _wait_until_ready(stack, process)
        yield stack
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(stack: Stack, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    with stack.api() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"dxc dev exited with {process.returncode}:\n{stack.log.read_text()}")
            try:
                if client.get("/portal-api/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
    pytest.fail(f"dxc dev was not ready within 90 s:\n{stack.log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"Debian's chromium is not installed at {CHROMIUM} (scripts/test installs it with "
            "apt-get when it runs as root or in CI)"
        )
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(FAILED, False)
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(
    browser: Browser, stack: Stack, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Page]:
    context = browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    if request.node.stash.get(FAILED, False):
        # What the browser showed when the test failed, and what the server logged.
        shot = tmp_path / "failure.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"page at failure: {page.url}, screenshot {shot}, server log {stack.log}")
    context.close()


AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"


def assert_accessible(page: Page) -> None:
    """axe-core (the npm package web/ installs) finds nothing serious or critical on the page."""
    assert AXE.is_file(), "web/node_modules lacks axe-core: source scripts/_bootstrap.sh"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, f"{page.url}:\n" + "\n".join(serious)


PHONE: ViewportSize = {"width": 375, "height": 740}


def assert_fits_a_phone(page: Page) -> None:
    """At 375 px wide the page needs no sideways scrolling, and axe finds nothing serious in
    the phone layout either."""
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{page.url} is {width[0]} px wide at {width[1]} px"
        assert_accessible(page)
    finally:
        if size is not None:
            page.set_viewport_size(size)


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot in SCREENSHOTS."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
