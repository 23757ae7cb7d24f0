"""The dashboard's pages through the app (the browser tests are in tests/e2e): the login,
sessions and CSRF, live numbers equal to the store's, members paged and exported whole,
segment sizes per day kept as users move and leave, and the model's explanation saved."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import time
import zipfile

import pandas as pd
import pytest

import personas

pytest.importorskip("fastapi", reason="the serve extra (pip install 'personas[serve]')")
from fastapi.testclient import TestClient

from personas.serve import Engine, create_app
from personas.serve import _dashboard as dashboard
from personas.store import open_store
from personas.store._base import MIGRATIONS
from tests.serve._server import trained_model

KEY = "dash-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # (as a browser opens pages)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return trained_model(tmp_path_factory.mktemp("model"), 300, seed=8)


@pytest.fixture(scope="module")
def loaded(trained, tmp_path_factory):
    """A store with the training events loaded (built once; tests copy the file)."""
    model, _, events, _ = trained
    folder = tmp_path_factory.mktemp("store")
    engine = Engine(model, open_store(f"sqlite:///{folder / 'store.db'}"))
    engine.load(events)
    engine.store.close()
    return folder / "store.db"


def _client(model, store_file, tmp_path, keys=(KEY,)) -> TestClient:
    copy = tmp_path / "store.db"
    if not copy.exists():
        copy.write_bytes(store_file.read_bytes())
    engine = Engine(model, open_store(f"sqlite:///{copy}"))
    return TestClient(create_app(engine, api_keys=list(keys)), headers=BROWSER)


def _login(client, key=KEY, target="/"):
    form = client.get("/login", params={"next": target})
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return client.post("/login", data={"api_key": key, "csrf": token, "next": target},
                       follow_redirects=False)  # fmt: skip


def test_the_model_keeps_its_explanation(trained):
    model, path, _, run = trained
    with zipfile.ZipFile(path) as zf:
        kept = json.loads(zf.read("explanation.json"))
    assert model.explanation == kept
    assert [s["name"] for s in kept["segments"]] == model.segment_names
    assert kept["k"] == model.n_segments and kept["k_selection"] and kept["insights"]
    assert kept["quality"]["n_rows"] == len(run.labels) and "columns" not in kept["quality"]
    assert kept["events"]["cleaning"]["rows_read"] > 0


def test_pages_need_a_login_or_a_key_and_the_login_sets_a_strict_cookie(trained, loaded, tmp_path):
    model = trained[0]
    client = _client(model, loaded, tmp_path)
    first = client.get("/segments/1?q=U0", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/segments/1%3Fq%3DU0"
    assert client.get("/model", headers=AUTH).status_code == 200  # (a Bearer key works too)
    assert client.get("/model", headers={"Authorization": "Bearer nope"},
                      follow_redirects=False).status_code == 303  # fmt: skip
    assert _login(client, key="wrong").status_code == 401
    # A form without its CSRF cookie (posted from elsewhere) is refused
    fresh = TestClient(client.app, headers=BROWSER)
    refused = fresh.post("/login", data={"api_key": KEY, "csrf": "x", "next": "/"},
                         follow_redirects=False)  # fmt: skip
    assert refused.status_code == 400 and "expired" in refused.text
    answer = _login(client, target="/segments/1?q=U0")
    assert answer.status_code == 303 and answer.headers["location"] == "/segments/1?q=U0"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and KEY not in cookie
    page = client.get("/")
    assert page.status_code == 200 and "Log out" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert _login(client, target="//evil.example/x").headers["location"] == "/"


def test_a_session_ends_when_tampered_with_expired_or_its_key_removed(
    trained, loaded, tmp_path, monkeypatch
):
    model = trained[0]
    client = _client(model, loaded, tmp_path, keys=(KEY, "other-key"))
    _login(client)
    cookie = client.cookies["personas_session"]
    assert client.get("/", follow_redirects=False).status_code == 200
    key_id, expires, nonce, signature = cookie.split(".")
    forged = f"{key_id}.{int(expires) + 10**6}.{nonce}.{signature}"
    client.cookies.set("personas_session", forged)
    assert client.get("/", follow_redirects=False).status_code == 303
    client.cookies.set("personas_session", cookie)
    later = time.time() + dashboard.SESSION_SECONDS + 5
    monkeypatch.setattr(dashboard.time, "time", lambda: later)
    assert client.get("/", follow_redirects=False).status_code == 303
    monkeypatch.undo()
    # The same store (the same secret), the key taken out of the service
    client.app.state.engine.store.close()
    other = _client(model, loaded, tmp_path, keys=("other-key",))
    other.cookies.set("personas_session", cookie)
    assert other.get("/", follow_redirects=False).status_code == 303


def test_logout_needs_the_forms_csrf_token(trained, loaded, tmp_path):
    client = _client(trained[0], loaded, tmp_path)
    _login(client)
    page = client.get("/")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 400
    assert client.get("/", follow_redirects=False).status_code == 200
    out = client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert out.status_code == 303 and 'personas_session=""' in out.headers["set-cookie"]


def test_live_numbers_are_the_stores_and_training_facts_the_models(trained, loaded, tmp_path):
    model = trained[0]
    client = _client(model, loaded, tmp_path)
    segments = client.get("/v1/segments", headers=AUTH).json()["segments"]
    sizes = {s["id"]: s["size"] for s in segments}
    page = client.get("/", headers=AUTH).text
    for seg, name in enumerate(model.segment_names):
        assert f"{seg} · {name}" in page
        assert re.search(rf'seg-{seg}">.*?<dd>{sizes[seg]:,}</dd>', page, re.S)
    assert model.explanation["insights"]["insights"][0]["title"] in page
    seg = max(sizes, key=sizes.get)
    detail = client.get(f"/segments/{seg}", headers=AUTH).text
    trained_seg = model.explanation["segments"][seg]
    assert trained_seg["distinguishing"][0]["column"] in detail
    assert "precision" in detail and 'data-figure="fig-effects"' in detail
    shown = client.get("/model", headers=AUTH).text
    assert model.explanation["k_reason"].split(":")[0] in shown
    assert 'data-figure="k-silhouette"' in shown


def test_the_model_page_names_the_method(tmp_path):
    (tmp_path / "gmm").mkdir()
    model, path, events, _ = trained_model(tmp_path / "gmm", 200, seed=3, method="gmm")
    engine = Engine(model, open_store(f"sqlite:///{tmp_path / 'gmm.db'}"))
    engine.load(events)
    engine.store.close()
    client = _client(model, tmp_path / "gmm.db", tmp_path)
    shown = client.get("/model", headers=AUTH).text
    assert "<dd>Gaussian mixture</dd>" in shown
    assert 'data-figure="k-bic"' in shown and "BIC" in model.explanation["k_reason"]


def test_a_model_without_an_explanation_still_shows_live_numbers(trained, loaded, tmp_path):
    model, path, _, _ = trained
    bare = personas.load(path)
    bare.explanation = None
    client = _client(bare, loaded, tmp_path)
    for page in ("/", "/segments/0", "/model"):
        answer = client.get(page, headers=AUTH)
        assert answer.status_code == 200, page
    assert "holds no explanation" in client.get("/", headers=AUTH).text


def test_members_pages_cover_the_segment_once_and_the_export_is_whole(trained, loaded, tmp_path):
    model = trained[0]
    client = _client(model, loaded, tmp_path)
    sizes = client.get("/v1/segments", headers=AUTH).json()["segments"]
    seg = max(sizes, key=lambda s: s["size"])
    seen, after = [], ""
    while True:
        part = client.get(f"/segments/{seg['id']}/members", params={"after": after},
                          headers=AUTH).text  # fmt: skip
        ids = re.findall(r'<tr><td><a href="/users\?user_id=[^"]+">([^<]+)</a>', part)
        seen += ids
        found = re.search(r'after=([^"&]+)"', part.split('class="pager"')[1])
        if not found:
            break
        after = found.group(1)
    assert len(seen) == seg["size"] == len(set(seen)) and seen == sorted(seen)
    prefix = seen[0][:-1]
    part = client.get(f"/segments/{seg['id']}/members", params={"q": prefix}, headers=AUTH)
    ids = re.findall(r'<tr><td><a href="/users\?user_id=[^"]+">([^<]+)</a>', part.text)
    assert ids and all(i.startswith(prefix) for i in ids)
    text = client.get(f"/segments/{seg['id']}/export", headers=AUTH).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["user_id"] for r in rows] == seen
    features = [c for c in model.profile_builder.columns_ if c != "user_id"]
    assert list(rows[0])[6:] == features
    parquet = client.get(f"/segments/{seg['id']}/export?format=parquet", headers=AUTH)
    frame = pd.read_parquet(io.BytesIO(parquet.content))
    assert frame["user_id"].tolist() == seen
    stored = client.get(f"/v1/users/{seen[0]}", headers=AUTH).json()["profile"]
    assert frame.iloc[0]["monetary"] == pytest.approx(stored["monetary"])


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_segment_totals_and_sizes_per_day_follow_moves_and_deletions(
    trained, loaded, tmp_path, kind, request
):
    model, _, events, _ = trained
    if kind == "sqlite":
        client = _client(model, loaded, tmp_path)
    else:
        engine = Engine(model, open_store(request.getfixturevalue("postgres_url")))
        engine.load(events)
        client = TestClient(create_app(engine, api_keys=[KEY]), headers=BROWSER)
    store = client.app.state.engine.store

    def per_day_totals():
        totals: dict[int, int] = {}
        for _, seg, delta in store.segment_days():
            totals[seg] = totals.get(seg, 0) + delta
        return {s: n for s, n in totals.items() if n}

    def counted():
        """The users of each segment, counted in the users table."""
        rows = store.con.execute("SELECT segment, count(*), sum(value) FROM users GROUP BY 1")
        return {s: (n, v) for s, n, v in rows.fetchall()}

    def check():  # (the totals kept and the sizes per day against a count of the users)
        recount = counted()
        kept = store.segment_counts()
        assert {s: n for s, (n, _) in kept.items()} == {s: n for s, (n, _) in recount.items()}
        for seg, (_, value) in recount.items():
            assert kept[seg][1] == pytest.approx(value or 0.0, rel=1e-9)
        assert per_day_totals() == {s: n for s, (n, _) in recount.items()}
        rows = {t: store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("events", "users")}  # fmt: skip
        assert store.counts() == rows
        return recount

    before = check()
    client.app.state.engine.rescore(time.time() + 400 * 86_400)  # (a year on: users move)
    assert check() != before
    user = store.user_ids()[0]
    assert client.delete(f"/v1/users/{user}", headers=AUTH).status_code == 200
    check()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
@pytest.mark.parametrize("old", [1, 2])
def test_an_older_store_is_migrated_with_its_sizes_per_day(tmp_path, kind, old, request):
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        con = sqlite3.connect(tmp_path / "old.db")
        dialect, mark = (lambda statement: statement), "?"
    else:
        import psycopg

        from personas.store._postgres import PostgresStore

        url = request.getfixturevalue("postgres_url")
        con = psycopg.connect(url, autocommit=True)
        dialect, mark = (lambda statement: PostgresStore._schema(None, statement)), "%s"
    for v in range(1, old + 1):
        for statement in MIGRATIONS[v]:
            con.execute(dialect(statement))
    con.execute(f"INSERT INTO meta VALUES ('schema_version', '{old}')")
    changes = [("a", None, 0, "2026-01-01T10:00:00+00:00"), ("b", None, 0, "2026-01-01T11:00"),
               ("a", 0, 1, "2026-01-03T09:00:00+00:00")]  # fmt: skip
    rows = ", ".join([mark] * 4)
    con.cursor().executemany(
        f"INSERT INTO changes (user_id, from_segment, to_segment, at) VALUES ({rows})", changes
    )
    con.cursor().executemany(
        f"INSERT INTO users VALUES ({mark}, '{{}}', {mark}, 'x', 1.0, {mark}, 'x', 'x')",
        [("a", 1, 10.0), ("b", 0, 2.5), ("c", 1, None)],
    )
    con.execute("INSERT INTO events (event_id, user_id, ts, body, received_at) "
                "VALUES ('e1', 'a', 1.0, '{}', 1.0)")  # fmt: skip
    con.commit()
    con.close()
    store = open_store(url)
    assert store.meta("schema_version") == "3"
    assert store.latest_event() == 1.0
    store.end_session("n1", 2e9, 1e9)
    assert store.session_ended("n1") and not store.session_ended("n2")
    if old == 2:  # (tables of version 2 filled as of then: the users and changes came later)
        return
    assert store.segment_counts() == {0: (1, 2.5), 1: (2, 10.0)}
    assert store.counts() == {"events": 1, "users": 3}
    assert store.segment_days() == [("2026-01-01", 0, 2), ("2026-01-03", 0, -1),
                                    ("2026-01-03", 1, 1)]  # fmt: skip
    if kind == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE tablename = 'users'"
    indexes = {r[0] for r in store.con.execute(query).fetchall()}
    assert "users_segment_id" in indexes and "users_segment" not in indexes
    store.close()


def test_compare_puts_two_segments_side_by_side(trained, loaded, tmp_path):
    model = trained[0]
    client = _client(model, loaded, tmp_path)
    page = client.get("/compare", params={"a": 0, "b": 2}, headers=AUTH)
    assert page.status_code == 200
    a, b = (model.explanation["segments"][i] for i in (0, 2))
    assert f"0 · {a['name']}" in page.text and f"2 · {b['name']}" in page.text
    effects = {p["column"]: p["effect"] for p in b["profile"] if p.get("effect") is not None}
    rows = [p for p in a["profile"] if p.get("effect") is not None and p["column"] in effects]
    largest = max(rows, key=lambda p: abs(p["effect"] - effects[p["column"]]))
    first = re.search(r"<tbody>\s*<tr><td>([^<]+)</td>(?:<td[^>]*>[^<]*</td>){5}<td[^>]*>([^<]+)"
                      r"</td>", page.text.split("Where they differ most")[1])  # fmt: skip
    assert first.group(1) == largest["column"]
    diff = largest["effect"] - effects[largest["column"]]
    assert float(first.group(2)) == pytest.approx(diff, abs=0.01)
    assert client.get("/compare?a=0&b=77", headers=AUTH).status_code == 404


def test_live_shows_the_latest_changes_and_what_came_in(trained, loaded, tmp_path):
    model, _, events, _ = trained
    client = _client(model, loaded, tmp_path)
    last = client.app.state.engine.store.changes_after(0, 10**6)[-1]
    page = client.get("/live", headers=AUTH)
    assert page.status_code == 200 and f'<td class="n">{last["change_id"]}</td>' in page.text
    assert f'data-stream="/live/stream?after={last["change_id"]}"' in page.text
    user = str(events["user_id"].iloc[0])
    event = {"event_id": "live-1", "user_id": user, "event_type": "session",
             "timestamp": "2026-01-01T00:00:00Z"}  # fmt: skip
    assert client.post("/v1/events", json=event, headers=AUTH).json()["accepted"] == 1
    stats = client.get("/live/stats", headers=AUTH).text
    assert re.search(r"events accepted</dt><dd>1</dd>", stats)
    assert re.search(r"p50 answer to events</dt>|latest answer to events</dt>", stats)


def test_a_file_is_scored_like_predict_and_bad_files_are_named(trained, loaded, tmp_path):
    model, _, events, _ = trained
    client = _client(model, loaded, tmp_path)
    form = client.get("/score", headers=AUTH)
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    some = events[events["user_id"].isin(events["user_id"].unique()[:20])]
    upload = some.to_csv(index=False).encode()
    answer = client.post("/score", headers=AUTH, data={"as_of": "2025-07-01"},
                         files={"file": ("june.csv", upload, "text/csv")})  # fmt: skip
    assert answer.status_code == 200, answer.text[:500]
    assert 'filename="june-scored.csv"' in answer.headers["content-disposition"]
    scored = pd.read_csv(io.StringIO(answer.text))
    expected = model.predict(some, as_of="2025-07-01")
    assert scored["user_id"].tolist() == expected["user_id"].tolist()
    assert scored["segment"].tolist() == expected["segment"].tolist()
    # Profiles (rows with the basis columns) are scored as rows
    rows = model.score_events(some, as_of="2025-07-01")[0].data
    as_rows = client.post("/score", headers=AUTH, files={
        "file": ("p.csv", rows.to_csv(index=False).encode(), "text/csv")})  # fmt: skip
    assert (
        pd.read_csv(io.StringIO(as_rows.text))["segment"].tolist() == expected["segment"].tolist()
    )
    bad = client.post("/score", headers=AUTH,
                      files={"file": ("notes.csv", b"a,b\n1,2\n", "text/csv")})  # fmt: skip
    assert bad.status_code == 400 and "notes.csv" in bad.text and 'role="alert"' in bad.text
    # With a session, the form's CSRF token is needed
    _login(client)
    plain = TestClient(client.app, cookies=client.cookies, headers=BROWSER)
    refused = plain.post("/score", files={"file": ("june.csv", upload, "text/csv")})
    assert refused.status_code == 400 and "expired" in refused.text


def test_odd_input_gets_a_clear_4xx_never_a_500(trained, loaded, tmp_path):
    model = trained[0]
    client = _client(model, loaded, tmp_path)
    form = client.get("/login")
    answer = client.post("/login", data={"api_key": KEY, "csrf": "é", "next": "/"})
    assert answer.status_code == 400 and form.status_code == 200
    odd = {"Cookie": "personas_session=a.b.c.\xe9".encode("latin-1")}  # (as a browser may)
    assert client.get("/", headers=odd, follow_redirects=False).status_code == 303
    for path in ("/segments/²", "/segments/²/members", "/compare?a=²", "/segments/" + "1" * 5000):
        assert client.get(path, headers=AUTH).status_code == 404, path
    odd_inputs = [("/live/stream?after=" + "9" * 30, "after"), ("/segments/0?q=%00", "q"),
                  ("/segments/0/members?after=%00", "after"), ("/users/a%00b", "user_id"),
                  ("/users?user_id=a%00b", "user_id")]  # fmt: skip
    for path, field in odd_inputs:
        answer = client.get(path, headers=AUTH)
        assert answer.status_code == 400 and field in answer.text, path
    stream = client.get("/live/stream", headers=AUTH | {"Last-Event-ID": "x"})
    assert stream.status_code == 400 and "Last-Event-ID" in stream.text
    for odd in ("\xb2".encode("latin-1"), b"9" * 5000):  # ("²" is a digit to Python)
        api = client.get("/v1/stream", headers=AUTH | {"Last-Event-ID": odd})
        assert api.status_code == 422 and "Last-Event-ID" in api.text
    assert client.get("/v1/users/a%00b", headers=AUTH).status_code == 422
    event = {"event_id": "nul", "user_id": "a\x00b", "timestamp": "2026-01-01T00:00:00Z"}
    sent = client.post("/v1/events", json=event, headers=AUTH).json()
    assert sent["accepted"] == 0 and "NUL" in sent["rejected"][0]["error"]


def test_every_dashboard_answer_carries_the_security_headers(trained, loaded, tmp_path):
    client = _client(trained[0], loaded, tmp_path)
    answers = [
        client.get("/", follow_redirects=False),  # (a redirect to the login)
        client.get("/segments/0/members", headers={"HX-Request": "true"}),  # (a 401)
        client.get("/segments/<img src=x>/members", headers=AUTH),
        client.get("/segments/0/export", headers=AUTH),
        client.get("/segments/0/export?format=xlsx", headers=AUTH),
        client.get("/users/nobody", headers=AUTH),
    ]
    for answer in answers:
        assert "script-src 'self'" in answer.headers["content-security-policy"], answer.url
        assert answer.headers["x-content-type-options"] == "nosniff", answer.url
        assert answer.status_code == 303 or answer.headers["content-type"], answer.url
    assert answers[2].headers["content-type"].startswith("text/plain")


def test_a_session_logged_out_of_cannot_be_replayed(trained, loaded, tmp_path):
    client = _client(trained[0], loaded, tmp_path)
    _login(client)
    cookie = client.cookies["personas_session"]
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    client.post("/logout", data={"csrf": token})
    thief = TestClient(client.app, headers=BROWSER)
    thief.cookies.set("personas_session", cookie)
    assert thief.get("/", follow_redirects=False).status_code == 303


def test_uploads_with_any_name_and_empty_segments_export_every_column(trained, loaded, tmp_path):
    model, _, events, _ = trained
    client = _client(model, loaded, tmp_path)
    some = events[events["user_id"].isin(events["user_id"].unique()[:5])]
    upload = {"file": ("数据 (1).csv", some.to_csv(index=False).encode())}
    answer = client.post("/score", headers=AUTH, files=upload)
    assert answer.status_code == 200
    disposition = answer.headers["content-disposition"]
    assert 'filename="____1_-scored.csv"' in disposition
    assert "filename*=UTF-8''%E6%95%B0%E6%8D%AE%20%281%29-scored.csv" in disposition
    sizes = client.get("/v1/segments", headers=AUTH).json()["segments"]
    small = min(sizes, key=lambda s: s["size"])
    for user in client.app.state.engine.store.members(small["id"], limit=10**6):
        assert client.delete(f"/v1/users/{user['user_id']}", headers=AUTH).status_code == 200
    big = max(sizes, key=lambda s: s["size"])["id"]
    full = client.get(f"/segments/{big}/export", headers=AUTH).text.splitlines()[0]
    empty = client.get(f"/segments/{small['id']}/export", headers=AUTH).text.splitlines()
    assert empty == [full]
    frames = [pd.read_parquet(io.BytesIO(client.get(f"/segments/{s}/export?format=parquet",
                                                    headers=AUTH).content))
              for s in (big, small["id"])]  # fmt: skip
    assert len(frames[1]) == 0 and list(frames[1].columns) == list(frames[0].columns)


def test_a_user_whose_id_has_dot_segments_opens_by_its_link(trained, loaded, tmp_path):
    client = _client(trained[0], loaded, tmp_path)
    for user in ("a/../b", ".."):
        event = {"event_id": f"dots-{user}", "user_id": user, "event_type": "purchase",
                 "amount": 5.0, "timestamp": "2026-01-01T00:00:00Z"}  # fmt: skip
        assert client.post("/v1/events", json=event, headers=AUTH).json()["accepted"] == 1
        seg = client.get("/v1/users/" + user.replace(".", "%2E"), headers=AUTH)
        members = client.get(f"/segments/{seg.json()['segment']}/members",
                             params={"q": user[:2]}, headers=AUTH).text  # fmt: skip
        link = re.search(r'href="(/users\?user_id=[^"]+)"', members).group(1)
        page = client.get(link.replace("&amp;", "&"), headers=AUTH)
        assert page.status_code == 200 and f"User {user}" in page.text


def test_a_second_process_migrating_the_same_store_changes_nothing(trained, loaded, tmp_path):
    client = _client(trained[0], loaded, tmp_path)
    store = client.app.state.engine.store
    before = (store.counts(), store.segment_counts(), store.segment_days())
    real = store._run

    class Stale:  # (the version as read before the other process migrated)
        def fetchone(self):
            return ("1",)

    store._run = lambda con, sql, params=(): (
        Stale() if "schema_version" in sql else real(con, sql, params)
    )
    store._migrate()
    store._run = real
    assert (store.counts(), store.segment_counts(), store.segment_days()) == before


def test_answers_a_new_user_would_otherwise_stumble_on(trained, loaded, tmp_path):
    model = trained[0]
    client = _client(model, loaded, tmp_path)
    # A script without a key gets a 401; a browser is taken to the login
    script = TestClient(client.app)
    assert script.get("/segments/0/export", follow_redirects=False).status_code == 401
    assert client.get("/segments/0/export", follow_redirects=False).status_code == 303
    # Two segments or a message; one given: against another
    same = client.get("/compare?a=1&b=1", headers=AUTH)
    assert same.status_code == 400 and "two different segments" in same.text
    one = client.get("/compare?a=1", headers=AUTH)
    assert one.status_code == 200 and 'value="0" selected' in one.text
    # Unknown pages and methods are pages in a browser, JSON for the API
    assert "No page at /nope" in client.get("/nope", headers=AUTH).text
    assert client.get("/v1/nope", headers=AUTH).json() == {"detail": "Not Found"}
    wrong = client.get("/logout", headers=AUTH)
    assert wrong.status_code == 405 and "button" in wrong.text and wrong.headers["allow"] == "POST"
    # The login form only, and a key in it
    form = client.post("/login", json={"api_key": KEY})
    assert form.status_code == 415 and "x-www-form-urlencoded" in form.text
    empty = _login(client, key="  ")
    assert empty.status_code == 400 and "api_key: enter" in empty.text
    # Old data: the overview says profiles count from today
    page = client.get("/", headers=AUTH).text
    assert "The latest event in the store is from" in page
    # A category's levels are named in the chart of what sets a segment apart
    levels = [d for s in model.explanation["segments"] for d in s["distinguishing"]
              if d.get("value") is not None]  # fmt: skip
    assert levels  # (rfm_segment's, in these data)
    seg = next(s["id"] for s in model.explanation["segments"] if levels[0] in s["distinguishing"])
    detail = client.get(f"/segments/{seg}", headers=AUTH).text
    assert f"{levels[0]['column']} = {levels[0]['value']}" in detail


def test_an_upload_too_large_gets_a_page_and_errors_name_the_file_as_sent(trained, tmp_path):
    model = trained[0]
    engine = Engine(model, open_store(f"sqlite:///{tmp_path / 's.db'}"))
    client = TestClient(create_app(engine, api_keys=[KEY], max_body=50_000), headers=BROWSER)
    big = {"file": ("big.csv", b"x" * 60_000)}
    answer = client.post("/score", headers=AUTH, files=big)
    assert answer.status_code == 413 and "text/html" in answer.headers["content-type"]
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert "Back to scoring a file" in answer.text
    json_body = AUTH | {"Content-Type": "application/json"}
    api = TestClient(client.app).post("/v1/events", headers=json_body, content=b" " * 60_000)
    assert api.status_code == 413 and "detail" in api.json()
    damaged = client.post("/score", headers=AUTH, files={"file": ("a.parquet", b"PAR1 nope")})
    assert damaged.status_code == 400 and "a.parquet" in damaged.text
    assert "personas-score" not in damaged.text


def test_a_busy_users_page_shows_the_latest_events_and_live_the_latest_changes(
    trained, loaded, tmp_path
):
    client = _client(trained[0], loaded, tmp_path)
    events = [{"event_id": f"busy-{i}", "user_id": "busy", "event_type": "session",
               "timestamp": f"2026-01-01T00:{i:02d}:00Z"} for i in range(60)]  # fmt: skip
    assert client.post("/v1/events", json={"events": events}, headers=AUTH).status_code == 200
    page = client.get("/users?user_id=busy", headers=AUTH).text
    assert "latest 50 of 60 events" in page
    shown = re.findall(r"<tr><td>2026-01-01 00:(\d\d):00</td>", page)
    assert shown == [f"{i:02d}" for i in range(59, 9, -1)]  # (newest first)
    store = client.app.state.engine.store
    newest = store.changes_after(0, 10**6)[-50:][::-1]
    for change in newest[1:4]:  # (deleted users' changes leave gaps in the ids)
        client.delete(f"/v1/users/{change['user_id']}", headers=AUTH)
    live = client.get("/live", headers=AUTH).text
    ids = [int(i) for i in re.findall(r'<tr><td class="n">(\d+)</td>', live)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    assert ids == [c["change_id"] for c in store.changes_after(0, 10**6)[-50:][::-1]]
