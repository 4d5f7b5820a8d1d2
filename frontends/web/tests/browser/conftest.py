"""Browser fixtures: Debian's chromium driven by Playwright, a real oned, the dashboard.

Chromium is the system package (``apt-get install chromium``, scripts/install-test-deps.sh),
never a browser downloaded by ``playwright install``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from one_core.testing.oned import DRIVER_SECTIONS_SCHED, ONEADMIN_PASSWORD, OnedProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[4] / "docs" / "web"
"""Screenshots land in the repository's docs/web/ (shown in docs/web.md)."""
DESKTOP = {"width": 1280, "height": 900}
expect.set_options(timeout=15_000)  # the machine running the tests may be busy
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert os.path.exists(CHROMIUM), (
        f"{CHROMIUM} is not installed (scripts/install-test-deps.sh installs it)"
    )
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Tab:
    """A page plus the JavaScript dialogs it opened (none should ever open)."""

    def __init__(self, page: Page, base: str):
        self.page = page
        self.base = base
        self.dialogs: list[str] = []
        page.on("dialog", self._dialog)
        page.set_default_timeout(30_000)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def login(self, user: str = "oneadmin", password: str = ONEADMIN_PASSWORD) -> None:
        self.goto("/login")
        self.page.get_by_label("User").fill(user)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(self.base + "/")

    def shot(self, name: str) -> None:
        """Screenshot of the whole page to docs/web/<name>.png."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def tabs(browser: Browser) -> Iterator[Callable[..., Tab]]:
    """``tabs(web, phone=False)``: a new browser context (its own cookies) on ``web``."""
    contexts = []

    def make(web: Any, phone: bool = False) -> Tab:
        # bypass_csp: the escaping must hold on its own, not because the CSP blocks
        # inline scripts (the CSP header is checked in test_security.py)
        context = browser.new_context(viewport=PHONE if phone else DESKTOP, bypass_csp=True)
        contexts.append(context)
        return Tab(context.new_page(), web.url)

    yield make
    for c in contexts:
        c.close()


@pytest.fixture
def cloud(oned_factory: Callable[..., OnedProcess]) -> OnedProcess:
    """oned with the dummy drivers, the in-daemon scheduler and 1 s host monitoring."""
    return oned_factory(sections=DRIVER_SECTIONS_SCHED, HOST_MONITORING_INTERVAL=1)


@pytest.fixture
def web(cloud: OnedProcess, start_web: Callable[..., Any]) -> Any:
    return start_web(cloud.url)
