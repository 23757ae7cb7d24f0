"""The dashboard of ``personas serve`` in a real headless Chromium: the login required,
every page without a console error or a request leaving 127.0.0.1, charts drawn, members
searched and exported, no personal data shown, accessibility checked with axe-core, and
a screenshot of every page at 1280 and 390 px saved under ``test-output/dashboard/``.

Chromium is Debian's package and axe-core the npm package (``make test`` installs both);
the tests skip, saying why, where either is missing.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import httpx
import pytest

import personas
from tests.e2e.conftest import needs_chromium
from tests.serve._server import environment, running, trained_model

pytest.importorskip("fastapi", reason="the serve extra (pip install 'personas[serve]')")
pytest.importorskip("playwright.sync_api", reason="playwright is a test extra")

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".venv" / "axe-core" / "package" / "axe.min.js"
SHOTS = ROOT / "test-output" / "dashboard"
KEY = "dashboard-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
EMAIL = "jane.doe@example.com"
pytestmark = needs_chromium


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """A server with a model trained on generated events and those events loaded, and a
    user who gave an e-mail address (an identify trait and an event property)."""
    folder = tmp_path_factory.mktemp("dashboard")
    _, _, events, _ = trained_model(folder, 400, seed=5)
    events.to_csv(folder / "events.csv", index=False)
    args = [str(folder / "model.personas"), "--store", f"sqlite:///{folder / 'store.db'}",
            "--load", str(folder / "events.csv"), "--rescore-every", "0"]  # fmt: skip
    with running(args, env=environment(PERSONAS_API_KEYS=KEY), timeout=180) as url:
        user = str(events["user_id"].iloc[0])
        traits = {"email": EMAIL, "name": "Jane Doe"}
        httpx.post(f"{url}/v1/identify", headers=AUTH, timeout=60,
                   json={"userId": user, "traits": traits})  # fmt: skip
        last = events[events["user_id"] == user]["timestamp"].max()
        event = {"event_id": "with-email", "user_id": user, "event_type": "session",
                 "timestamp": f"{last}Z", "properties": {"email": EMAIL}}  # fmt: skip
        answer = httpx.post(f"{url}/v1/events", headers=AUTH, json=event, timeout=60)
        assert answer.status_code == 200, answer.text
        yield url, user


def _until(page, script: str, arg=None, timeout: float = 20.0) -> None:
    """Wait until the function ``script`` holds in the page. (Playwright's own
    ``wait_for_function`` evaluates a string, which the pages' CSP forbids.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {script}"
        page.wait_for_timeout(100)


class Watched:
    """A browser context logged in or not, recording console errors, failed requests and
    every URL requested."""

    def __init__(self, browser, url: str, width: int = 1280, **options):
        self.url = url
        self.context = browser.new_context(viewport={"width": width, "height": 900}, **options)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []
        page = self.page
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)  # fmt: skip
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", self._failed)
        page.on("request", lambda r: self.requests.append(r.url))

    def _failed(self, request) -> None:
        # (leaving /live ends its stream of changes: aborted, as it should be)
        if "/live/stream" in request.url and "ERR_ABORTED" in (request.failure or ""):
            return
        self.problems.append(f"failed: {request.url} {request.failure}")

    def login(self, key: str = KEY, path: str = "/") -> None:
        self.page.goto(f"{self.url}{path}")
        self.page.fill("#api_key", key)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("load")

    def open(self, path: str) -> str:
        self.page.goto(f"{self.url}{path}", wait_until="load")
        charts = self.page.locator("[data-figure]").count()
        if charts:  # (every chart drawn by plotly.js)
            _until(self.page, "n => document.querySelectorAll('[data-drawn] .main-svg')"
                   ".length >= n", charts)  # fmt: skip
        return self.page.content()

    def close(self) -> None:
        self.context.close()


def _pages(user: str) -> dict[str, str]:
    return {"overview": "/", "segment": "/segments/0", "user": f"/users/{user}",
            "compare": "/compare?a=0&b=1", "live": "/live", "score": "/score",
            "model": "/model"}  # fmt: skip


def test_the_login_is_required_and_a_wrong_key_is_refused(browser, service):
    url, user = service
    page = {"Accept": "text/html"}  # (as a browser opens a page)
    assert httpx.get(f"{url}/model", headers=page, follow_redirects=False).status_code == 303
    assert httpx.get(f"{url}/segments/0/export", headers=page).status_code == 303
    assert httpx.get(f"{url}/segments/0/export").status_code == 401  # (a script)
    assert httpx.get(f"{url}/segments/0/export", headers=AUTH).status_code == 200
    w = Watched(browser, url)
    w.page.goto(f"{url}/model")
    assert w.page.url.startswith(f"{url}/login")
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.page.screenshot(path=SHOTS / "login.png", full_page=True)
    w.login(key="not-a-key", path="/model")
    assert "not one of this service's API keys" in w.page.content()
    assert w.problems == [
        "console error: Failed to load resource: the server responded "
        "with a status of 401 (Unauthorized)"
    ]  # (that answer: a 401)
    w.problems.clear()
    w.page.fill("#api_key", KEY)
    w.page.click("button[type=submit]")
    w.page.wait_for_load_state("load")
    assert w.page.url == f"{url}/model"  # (back where the login was asked for)
    cookie = next(c for c in w.context.cookies() if c["name"] == "personas_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert KEY not in cookie["value"]
    w.page.click("text=Log out")
    w.page.wait_for_load_state("load")
    assert w.page.url.startswith(f"{url}/login")
    w.page.goto(f"{url}/")
    assert w.page.url.startswith(f"{url}/login")  # (the session ended)
    assert w.problems == []
    w.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_renders_cleanly_offline_without_personal_data(browser, service, width):
    url, user = service
    w = Watched(browser, url, width=width)
    w.login()
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in _pages(user).items():
        html = w.open(path)
        assert EMAIL not in html and "Jane Doe" not in html, name
        assert "<h1" in html, name
        w.page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
        if width == 390:  # (nothing wider than the screen but tables, which scroll)
            wide = w.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert wide <= 1, f"{name} is {wide} px wider than a 390 px screen"
    assert w.problems == []
    outside = [r for r in w.requests if not r.startswith(url)]
    assert outside == [], outside[:5]
    w.close()


def test_members_are_searched_paged_and_exported_whole(browser, service):
    url, _ = service
    sizes = httpx.get(f"{url}/v1/segments", headers=AUTH, timeout=60).json()["segments"]
    seg = max(sizes, key=lambda s: s["size"])
    w = Watched(browser, url)
    w.login()
    w.open(f"/segments/{seg['id']}")
    rows = w.page.locator("#members tbody tr")
    assert rows.count() == min(seg["size"], 50)
    first = rows.first.locator("td").first.inner_text()
    prefix = first[:-1]
    w.page.fill("#q", prefix)  # (HTMX swaps the table as one types)
    _until(w.page, "q => [...document.querySelectorAll('#members tbody tr td:first-child')]"
           ".every(td => td.innerText.startsWith(q))", prefix)  # fmt: skip
    found = w.page.locator("#members tbody tr td:first-child").all_inner_texts()
    assert found and all(t.startswith(prefix) for t in found) and first in found
    if seg["size"] > 50:
        w.page.fill("#q", "")
        _until(w.page, "() => document.querySelectorAll('#members tbody tr').length == 50")
        w.page.click("text=Next 50")
        _until(w.page, "() => document.querySelector('#members caption').innerText"
               ".includes('after')")  # fmt: skip
        assert w.page.locator("#members tbody tr").first.inner_text() != first
        assert "after=" in w.page.url  # (the page's address follows: Back and links work)
        w.page.reload()
        assert "after" in w.page.locator("#members caption").inner_text()
    answer = w.page.request.get(f"{url}/segments/{seg['id']}/export?format=csv")
    assert answer.status == 200
    table = list(csv.DictReader(io.StringIO(answer.text())))
    assert len(table) == seg["size"]
    assert len({r["user_id"] for r in table}) == seg["size"]
    assert {r["segment"] for r in table} == {str(seg["id"])}
    assert "email" not in table[0] and EMAIL not in answer.text()
    parquet = w.page.request.get(f"{url}/segments/{seg['id']}/export?format=parquet")
    import pyarrow.parquet as pq

    assert pq.read_table(io.BytesIO(parquet.body())).num_rows == seg["size"]
    assert w.problems == []
    w.close()


@pytest.mark.skipif(not AXE.exists(), reason=f"axe-core not found at {AXE} (make test gets it)")
def test_no_serious_accessibility_violation(browser, service):
    url, user = service
    source = AXE.read_text(encoding="utf-8")
    w = Watched(browser, url, bypass_csp=True)  # (axe is injected as a script of its own)
    w.login()
    found = {}
    for name, path in {"login": "/login", **_pages(user)}.items():
        w.open(path)
        w.page.add_script_tag(content=source)
        result = w.page.evaluate("async () => await axe.run(document)")
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if serious:
            found[name] = serious
    (SHOTS / "axe.json").write_text(json.dumps(found, indent=2))
    assert found == {}
    w.close()


def test_a_change_posted_now_appears_on_live(browser, service):
    url, user = service
    w = Watched(browser, url)
    w.login()
    w.open("/live")
    before = w.page.locator("#changes tbody tr").count()
    # A new user: a change from nothing to a segment, sent while the page is open
    event = {"event_id": "live-new-user", "user_id": "U-live-test", "event_type": "purchase",
             "amount": 42.5, "timestamp": "2026-12-01T10:00:00Z"}  # fmt: skip
    answer = httpx.post(f"{url}/v1/events", headers=AUTH, json=event, timeout=60)
    assert answer.status_code == 200 and answer.json()["changes"], answer.text
    change = answer.json()["changes"][0]
    _until(w.page, "id => [...document.querySelectorAll('#changes tbody tr td:first-child')]"
           ".some(td => td.innerText == String(id))", change["change_id"])  # fmt: skip
    assert w.page.locator("#changes tbody tr").count() == min(before + 1, 200)
    row = w.page.locator("#changes tbody tr").first.inner_text()
    assert "U-live-test" in row and "(new user)" in row and "live-new-user" in row
    _until(w.page, "() => document.querySelector('#stats').innerText.includes('events/s')")
    assert w.problems == []
    w.close()


def test_a_file_uploaded_comes_back_scored(browser, service, tmp_path):
    url, _ = service
    users, _ = personas.datasets.make_users(30, random_state=9)
    events = personas.datasets.make_events(users, random_state=9)
    upload = tmp_path / "new-users.csv"
    events.to_csv(upload, index=False)
    w = Watched(browser, url)
    w.login()
    w.open("/score")
    w.page.set_input_files("#file", str(upload))
    with w.page.expect_download() as download:
        w.page.click("text=Score and download")
    path = download.value.path()
    # (a navigation that turns into a download is reported aborted: it is the download)
    assert w.problems == [f"failed: {url}/score net::ERR_ABORTED"]
    w.problems.clear()
    scored = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    assert len(scored) == events["user_id"].nunique()
    assert download.value.suggested_filename == "new-users-scored.csv"
    w.page.set_input_files("#file", {"name": "bad.csv", "mimeType": "text/csv",
                                     "buffer": b"x,y\n1,2\n"})  # fmt: skip
    w.page.click("text=Score and download")
    w.page.wait_for_load_state("load")
    assert "bad.csv" in w.page.locator("[role=alert]").inner_text()
    w.problems = [p for p in w.problems if "status of 400" not in p]  # (that answer: a 400)
    assert w.problems == []
    w.close()


def test_the_dashboard_works_by_keyboard(browser, service):
    url, _ = service
    w = Watched(browser, url)
    w.page.goto(f"{url}/")
    for _ in range(10):  # (to the key's field by Tab, however the page took its autofocus)
        if w.page.evaluate("document.activeElement.id") == "api_key":
            break
        w.page.keyboard.press("Tab")
    assert w.page.evaluate("document.activeElement.id") == "api_key"
    w.page.keyboard.type(KEY)
    with w.page.expect_navigation():
        w.page.keyboard.press("Enter")
    assert w.page.url == f"{url}/"
    w.page.keyboard.press("Tab")
    assert w.page.evaluate("document.activeElement.textContent") == "Skip to the content"
    for _ in range(40):  # (to the first segment's link, then open it)
        w.page.keyboard.press("Tab")
        if w.page.evaluate("document.activeElement.getAttribute('href')") == "/segments/0":
            break
    else:
        pytest.fail("the first segment's link is not reached by Tab")
    with w.page.expect_navigation():
        w.page.keyboard.press("Enter")
    assert w.page.url == f"{url}/segments/0"
    assert w.problems == []
    w.close()


def test_pages_answer_401_to_a_script_and_404_for_unknown_things(service):
    url, _ = service
    hx = {"HX-Request": "true"}
    assert httpx.get(f"{url}/segments/0/members", headers=hx).status_code == 401
    assert httpx.post(f"{url}/logout").status_code == 401
    page = httpx.get(f"{url}/segments/99", headers=AUTH)
    assert page.status_code == 404 and "numbered 0 to" in page.text
    assert httpx.get(f"{url}/users/nobody-at-all", headers=AUTH).status_code == 404
    bad = httpx.get(f"{url}/segments/0/export?format=xlsx", headers=AUTH)
    assert bad.status_code == 400 and "csv or parquet" in bad.text
    assert re.search(r"script-src 'self'", page.headers["content-security-policy"])
