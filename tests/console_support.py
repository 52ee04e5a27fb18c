"""Browser-test support for the web console: one headless Chromium per test session (Debian's
package at /usr/bin/chromium, driven by Playwright), a fresh page per test, and screenshots."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("QCONNECT_TEST_CHROMIUM", "/usr/bin/chromium")


def browser_or_skip() -> Iterator[Any]:
    """Yields a launched browser; skips when Playwright or Chromium is missing (.ci/run installs both)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


class Shots:
    """Saves full-page screenshots under one folder of the pytest basetemp."""

    def __init__(self, folder: Path, test_name: str) -> None:
        self.folder = folder
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)

    def __call__(self, page: Any, name: str) -> Path:
        path = self.folder / f"{self.prefix}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def open_console(browser: Any, endpoint: str, width: int = 1280, height: int = 800) -> Any:
    """A page in a fresh context (its own localStorage), at the console's knowledge-base list.
    Page errors fail the test: a broken module must not pass unnoticed."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors  # type: ignore[attr-defined]
    page.goto(endpoint + "/")
    page.wait_for_selector("#server-status .ok, #server-status .degraded")
    return page
