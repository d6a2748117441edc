"""Fixtures shared by the whole suite."""

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(os.environ.get("RINGUP_TEST_ARTIFACTS", Path(__file__).parent / "artifacts"))
CHROMIUM = os.environ.get("RINGUP_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def catalog(db):
    """The demo operator's catalog: three segment plans with options, numbers, bundles."""
    from ringup.demo.catalog import load_catalog

    return load_catalog()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser():
    """A real headless Chromium (Debian's), driven by Playwright.

    Under CI a missing browser fails the run; on a developer's machine it skips with the
    reason, since `.ci/run` is what installs it.
    """
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
    # the test itself are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, artifacts):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def mobile_page(browser, artifacts):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
