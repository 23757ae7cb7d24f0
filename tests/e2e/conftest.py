"""A real headless Chromium for the browser tests: Debian's ``chromium`` package (``make
test`` installs it) driven by Playwright through ``executable_path``, as ``playwright
install`` cannot download browsers here. A test module marks itself with
``needs_chromium`` to skip, saying why, where Chromium is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Chromium not found (make test installs Debian's chromium package with apt)",
)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a test extra")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()
