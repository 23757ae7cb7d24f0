"""The reports open in a real headless Chromium without console errors or network access.

Chromium is Debian's ``chromium`` package (``make test`` installs it); Playwright drives it
through ``executable_path``, as ``playwright install`` cannot download browsers here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import personas
from tests.e2e.conftest import needs_chromium

pytestmark = [needs_chromium]
pytest.importorskip("playwright.sync_api", reason="playwright is a test extra")


def open_page(browser, path: Path):
    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(500)
    return page, problems, requests


@pytest.fixture(scope="module")
def run():
    users, _ = personas.datasets.make_users(3000, random_state=4)
    return personas.segment(users, random_state=0)


def test_segmentation_report_renders_cleanly(browser, run, tmp_path):
    path = run.write_html(tmp_path / "report.html")
    page, problems, requests = open_page(browser, path)
    assert problems == []
    external = [u for u in requests if not u.startswith(("file:", "data:", "blob:"))]
    assert external == [], f"the report reached out to the network: {external[:5]}"
    for section in [
        "insights",
        "overview",
        "segments",
        "k",
        "data",
        "eda",
        "preprocessing",
        "method",
    ]:
        assert page.locator(f"#{section}").count() == 1, section
    assert page.locator(".seg").count() == run.k
    # every chart was drawn by plotly (an SVG inside each chart container)
    n_charts = page.locator(".chart").count()
    assert n_charts >= 8
    assert page.locator(".chart .js-plotly-plot .main-svg").count() >= n_charts
    page.close()


def test_validation_report_renders_cleanly(browser, run, tmp_path):
    path = run.validation.write_html(tmp_path / "validation.html")
    page, problems, requests = open_page(browser, path)
    assert problems == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    page.close()


def test_eda_report_renders_cleanly(browser, tmp_path):
    users, _ = personas.datasets.make_users(3000, random_state=5)
    path = personas.eda(users, sample_rows=2000).write_html(tmp_path / "eda.html")
    page, problems, requests = open_page(browser, path)
    assert problems == []
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []
    assert page.locator(".js-plotly-plot .main-svg").count() >= 2
    assert "random sample of 2,000 rows" in page.content()
    page.close()
