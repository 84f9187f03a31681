"""Real Chromium for tests, through Playwright: Debian's /usr/bin/chromium
(installed by `make test` when missing), never a browser Playwright downloads.
Fixtures: `browser` (one per test module: while Playwright's sync API runs,
its event loop is the thread's, and asyncio tests of later modules must not
meet it) and `phone` (a fresh 390x844 phone context and page per test).
Used as a pytest plugin (see tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("BUYERBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make test` (it installs Debian's chromium)")
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: tests and CI run as root, where Chromium's sandbox refuses to start
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def phone_context(browser: object, locale: str = "en-US", timezone_id: str = "UTC") -> object:
    """A phone-sized context: touch, mobile viewport, the buyer's language and zone."""
    return browser.new_context(  # type: ignore[attr-defined]
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale=locale, timezone_id=timezone_id
    )


@pytest.fixture
def phone(browser: object) -> Iterator[object]:
    context = phone_context(browser)
    page = context.new_page()  # type: ignore[attr-defined]
    yield page
    context.close()  # type: ignore[attr-defined]
