"""A real headless Chromium for the browser tests: Debian's package, driven by Playwright.

Playwright never downloads a browser here (no `playwright install`): `launch()` starts the
`chromium` found on PATH (Debian: `apt-get install chromium`), and a test that needs it skips,
saying so, where it or the playwright package is missing.

    async def test_page() -> None:
        async with launch() as browser:
            page = await browser.new_page(viewport={"width": 360, "height": 640})
            ...
            await page.screenshot(path=screenshot_dir() / "page.png")

Screenshots go to `screenshot_dir()`: `$SCREENSHOT_DIR/qgw-screenshots` (CI keeps them as
artifacts), else under the system's temporary directory; never into the repository.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from render.charts import find_cjk_font

if TYPE_CHECKING:
    from playwright.async_api import Browser

# `launch()` names the executable, so Playwright looks for no browser of its own; this also makes
# a stray `playwright install` (in this process or a child) download nothing.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM: str | None = shutil.which("chromium") or shutil.which("chromium-browser")

# --no-sandbox: Chromium refuses to start as root (CI containers) with its sandbox on.
# --disable-dev-shm-usage: a container's /dev/shm is often 64 MB, too small for the renderer.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


@asynccontextmanager
async def launch() -> AsyncIterator[Browser]:
    """A headless Chromium, closed (with Playwright's driver) on leaving the block."""
    if CHROMIUM is None:
        pytest.skip(
            "Debian's chromium is not installed (apt-get install chromium); "
            "the browser tests need it"
        )
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip(
            "the playwright package is not installed (pip install -e '.[dev]'); "
            "the browser tests need it"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=_font_env()
        )
        try:
            yield browser
        finally:
            await browser.close()


def _font_env() -> dict[str, str | float | bool]:
    """Chromium's environment, with the CJK font the bot already ships (mplfonts' Noto Sans
    CJK SC) added to fontconfig's: a machine without a system CJK font still draws Chinese
    in the screenshots instead of empty boxes."""
    env: dict[str, str | float | bool] = dict(os.environ)
    font = Path(find_cjk_font())
    config = Path(tempfile.gettempdir()) / f"qgw-fonts-{os.getpid()}.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{font.parent}</dir></fontconfig>"
    )
    env["FONTCONFIG_FILE"] = str(config)
    return env


def screenshot_dir() -> Path:
    """Where the browser tests write screenshots (created): CI artifacts, never committed."""
    path = Path(os.environ.get("SCREENSHOT_DIR") or tempfile.gettempdir()) / "qgw-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
