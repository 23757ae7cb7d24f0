"""The web dashboard of ``personas serve``: the same process, store and keys as the API.

A browser logs in once with an API key (``/login``) and then carries a session cookie
(HttpOnly, SameSite=Strict, signed with a secret the store keeps, so that every worker
reads it); an ``Authorization: Bearer KEY`` header works too. Every form carries a CSRF
token. A page without either redirects to ``/login`` (a request that is not a page's
answers 401). Pages are rendered by :mod:`personas.report` from the plain data of
:mod:`personas.serve._pages`: live sizes and values from the store, and what training
found from the model's explanation. Every asset is served from the package, under a
strict Content-Security-Policy: no request leaves the service.
"""

import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, quote

from personas import report
from personas.errors import PersonasError
from personas.serve._engine import Engine, ServiceError, change_id
from personas.serve._metrics import Metrics
from personas.serve._pages import Views, safe_name

__all__ = ["add_dashboard"]

SESSION = "personas_session"
LOGIN = "personas_login"  # the login form's own CSRF token, until a session exists
SESSION_SECONDS = 12 * 3600
MAX_FORM = 8192  # bytes of the login and logout forms
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class _Login(Exception):
    """No valid session or key: a page redirects to /login, anything else is a 401."""


def _same(a: str, b: str) -> bool:
    """Whether two strings are equal, compared in constant time (any characters)."""
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


class Sessions:
    """Signed session cookies: ``key id . expiry . nonce . signature``. The key id is an
    HMAC of the key's digest, so a cookie names no key, and a key taken out of the
    service ends its sessions; a session logged out of is recorded in ``store`` as ended
    (for every worker) until it would have expired."""

    def __init__(self, secret: str, hashed: list[bytes], store: Any) -> None:
        self._secret = secret.encode()
        self._ids = {self._key_id(h) for h in hashed}
        self._store = store

    def _mac(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def _key_id(self, digest: bytes) -> str:
        return self._mac("key:" + digest.hex())[:32]

    def issue(self, key: str) -> str:
        digest = hashlib.sha256(key.encode()).digest()
        payload = f"{self._key_id(digest)}.{int(time.time()) + SESSION_SECONDS}."
        payload += secrets.token_urlsafe(12)
        return f"{payload}.{self._mac(payload)}"

    def check(self, cookie: str | None) -> bool:
        if not cookie or cookie.count(".") != 3 or not cookie.isascii():
            return False
        payload, _, signature = cookie.rpartition(".")
        if not _same(self._mac(payload), signature):
            return False
        key_id, expires, nonce = payload.split(".")
        if not (expires.isdigit() and int(expires) > time.time() and key_id in self._ids):
            return False
        return not self._store.session_ended(nonce)

    def end(self, cookie: str) -> None:
        """End the (valid) session ``cookie``: a copy of it no longer logs in."""
        _, expires, nonce = cookie.rpartition(".")[0].split(".")
        self._store.end_session(nonce, float(expires), time.time())

    def csrf(self, cookie: str) -> str:
        """The CSRF token of the session ``cookie`` (its forms carry it)."""
        return self._mac("csrf:" + cookie)[:32]


def add_dashboard(
    app: Any,
    engine: Engine,
    hashed: list[bytes],
    known: Any,
    *,
    metrics: Metrics,
    stream: Any,
    max_body: int,
) -> None:
    """Add the dashboard's pages to ``app``: ``known(key)`` says whether a key is valid,
    ``metrics`` are the app's, ``stream(request, engine, cursor)`` the server-sent
    segment changes of ``/v1/stream``, ``max_body`` the largest upload to ``/score``."""
    from fastapi import Request
    from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

    sessions = Sessions(engine.store.secret("session_secret"), hashed, engine.store)
    views = Views(engine)

    def viewer(request: Request) -> str | None:
        """The session's CSRF token (None for a Bearer key), or :class:`_Login`."""
        auth = request.headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        if scheme.lower() == "bearer" and key and known(key.strip()):
            return None
        cookie = request.cookies.get(SESSION)
        if sessions.check(cookie):
            return sessions.csrf(cookie)
        raise _Login()

    def page(request: Request, template: str, status: int = 200, **context: Any) -> Any:
        context.setdefault("charts", False)
        context.setdefault("nav", "")
        html = report.render_page(
            template,
            version=views.version,
            model_id=engine.model_id,
            computed_at=views.computed_at(),
            **context,
        )
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def not_found(request: Request, csrf: str | None, message: str) -> Any:
        return page(request, "error", 404, title="Not found", message=message, csrf=csrf)

    def text(message: str, status: int, **headers: str) -> Any:
        return Response(message, status_code=status, media_type="text/plain; charset=utf-8",
                        headers=HEADERS | headers)  # fmt: skip

    def redirect(target: str) -> Any:
        return RedirectResponse(target, status_code=303, headers=HEADERS)

    def navigating(request: Request) -> bool:
        """Whether a browser is opening a page (not a page's script, not a client)."""
        accept = request.headers.get("accept", "")
        return (
            request.method == "GET"
            and "hx-request" not in request.headers
            and ("text/html" in accept)
        )

    @app.exception_handler(_Refused)
    async def _refused(request: Request, exc: _Refused) -> Any:
        if navigating(request):
            try:
                csrf = viewer(request)
            except _Login:
                return await _login_needed(request, _Login())
            return page(request, "error", exc.status, title="Not understood", message=str(exc),
                        csrf=csrf)  # fmt: skip
        return text(str(exc), exc.status)

    @app.exception_handler(_Login)
    async def _login_needed(request: Request, exc: _Login) -> Any:
        if navigating(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return redirect(f"/login?next={quote(target)}")
        return text("Log in at /login, or send Authorization: Bearer KEY.", 401,
                    **{"HX-Redirect": "/login"})  # fmt: skip

    from fastapi.exception_handlers import http_exception_handler
    from starlette.exceptions import HTTPException

    @app.exception_handler(HTTPException)
    async def _no_such_page(request: Request, exc: HTTPException) -> Any:
        """An unknown address (or a method it does not take) opened in a browser: a page
        saying so; the API's JSON answer otherwise."""
        api = request.url.path.startswith(("/v1/", "/docs", "/openapi.json"))
        if exc.status_code not in (404, 405) or api or not navigating(request):
            return await http_exception_handler(request, exc)
        try:
            csrf = viewer(request)
        except _Login:
            return await _login_needed(request, _Login())
        if exc.status_code == 405:
            message = ("This address takes a form sent by a button (Log out, Score), not a "
                       "link: use the page's button.")  # fmt: skip
        else:
            message = f"No page at {request.url.path[:200]}."
        title = "Not found" if exc.status_code == 404 else "Use the page's button"
        answer = page(request, "error", exc.status_code, title=title, message=message, csrf=csrf)
        answer.headers.update(exc.headers or {})  # (a 405's Allow)
        return answer

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Any:
        if name not in report.ASSETS:
            return Response("No such file.", status_code=404, media_type="text/plain")
        return Response(
            report.asset(name),
            media_type=report.ASSETS[name],
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, next: str = "/") -> Any:
        return _login_form(request, next)

    def _login_form(request: Request, target: str, error: str = "", status: int = 200) -> Any:
        token = secrets.token_urlsafe(24)
        response = page(request, "login", status, error=error, csrf=token, next=_local(target))
        response.set_cookie(
            LOGIN,
            token,
            httponly=True,
            samesite="strict",
            path="/login",
            secure=request.url.scheme == "https",
        )
        return response

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Any:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            return text(
                "Content-Type: expected the login form (application/x-www-form-urlencoded, "
                f"with api_key and csrf from GET /login); got {kind[:60] or 'none'!r}. "
                "A script can send Authorization: Bearer KEY instead of logging in.",
                415,
            )
        form = await _form(request)
        target = _local(form.get("next", "/"))
        token = request.cookies.get(LOGIN, "")
        if not token or not _same(token, form.get("csrf", "")):
            return _login_form(request, target, "The form had expired: log in again.", status=400)
        if not form.get("api_key", "").strip():
            return _login_form(request, target, "api_key: enter one of the service's API keys.",
                               status=400)  # fmt: skip
        if not known(form.get("api_key", "")):
            return _login_form(
                request, target, "That is not one of this service's API keys.", status=401
            )
        response = redirect(target)
        secure = request.url.scheme == "https"
        response.set_cookie(
            SESSION,
            sessions.issue(form["api_key"]),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=secure,
        )
        response.delete_cookie(LOGIN, path="/login")
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Any:
        csrf = viewer(request)
        form = await _form(request)
        if csrf is not None and not _same(csrf, form.get("csrf", "")):
            return text("The form had expired: reload the page and log out again.", 400)
        cookie = request.cookies.get(SESSION)
        if csrf is not None and cookie:
            sessions.end(cookie)
        response = redirect("/login")
        response.delete_cookie(SESSION)
        return response

    @app.get("/", include_in_schema=False)
    def overview(request: Request) -> Any:
        csrf = viewer(request)
        return page(
            request,
            "overview",
            csrf=csrf,
            nav="overview",
            charts=True,
            title="Segments",
            **views.overview(),
        )

    @app.get("/segments/{segment_id}", include_in_schema=False)
    def segment_page(request: Request, segment_id: str, q: str = "", after: str = "") -> Any:
        csrf = viewer(request)
        _plain(q=q, after=after)
        seg = views.segment_id(segment_id)
        if seg is None:
            return not_found(request, csrf, views.no_segment(segment_id))
        context = views.segment(seg) | views.members(seg, q, after)
        return page(request, "segment", csrf=csrf, charts=True, title=f"Segment {seg}", **context)

    @app.get("/segments/{segment_id}/members", include_in_schema=False)
    def members(request: Request, segment_id: str, q: str = "", after: str = "") -> Any:
        viewer(request)
        _plain(q=q, after=after)
        seg = views.segment_id(segment_id)
        if seg is None:
            return text(views.no_segment(segment_id), 404)
        html = report.render_page("members", **views.members(seg, q, after))
        return HTMLResponse(html, headers=HEADERS)

    @app.get("/segments/{segment_id}/export", include_in_schema=False)
    def export(request: Request, segment_id: str, format: str = "csv") -> Any:
        viewer(request)
        seg = views.segment_id(segment_id)
        if seg is None:
            return text(views.no_segment(segment_id), 404)
        if format not in ("csv", "parquet"):
            return text(f"format: expected csv or parquet; got {format[:40]!r}.", 400)
        name = f"segment-{seg}-members.{format}"
        disposition = HEADERS | {"Content-Disposition": f'attachment; filename="{name}"'}
        if format == "csv":
            return StreamingResponse(
                views.csv_rows(seg), media_type="text/csv; charset=utf-8", headers=disposition
            )
        return Response(
            views.parquet(seg), media_type="application/vnd.apache.parquet", headers=disposition
        )

    @app.get("/users", include_in_schema=False)
    def find_user(request: Request, user_id: str = "") -> Any:
        """A user's page by the id in the query (any id: one holding / or . segments,
        which a path would lose, too); the header's search box opens it."""
        return user_page(request, user_id.strip())

    @app.get("/users/{user_id:path}", include_in_schema=False)
    def user_page(request: Request, user_id: str) -> Any:
        csrf = viewer(request)
        _plain(user_id=user_id)
        context = views.user(user_id)
        if context is None:
            return not_found(request, csrf, f"No user {user_id!r} in the store.")
        return page(request, "user", csrf=csrf, title=f"User {user_id}", **context)

    @app.get("/compare", include_in_schema=False)
    def compare(request: Request, a: str = "0", b: str | None = None) -> Any:
        csrf = viewer(request)
        if b is None:  # (the other segment: 1 against 0, any other against 0)
            b = "1" if a == "0" else "0"
        ids = [views.segment_id(x) for x in (a, b)]
        for text, seg in zip((a, b), ids, strict=True):
            if seg is None:
                return not_found(request, csrf, views.no_segment(text))
        if ids[0] == ids[1]:
            message = f"a and b are both segment {ids[0]}: choose two different segments."
            return page(request, "error", 400, title="Compare two segments", message=message,
                        csrf=csrf)  # fmt: skip
        return page(
            request,
            "compare",
            csrf=csrf,
            nav="compare",
            charts=True,
            title="Compare segments",
            **views.compare(*ids),
        )

    @app.get("/live", include_in_schema=False)
    def live(request: Request) -> Any:
        csrf = viewer(request)
        return page(
            request,
            "live",
            csrf=csrf,
            nav="live",
            title="Live",
            **views.live_changes(),
            **views.stats(metrics),
        )

    @app.get("/live/stats", include_in_schema=False)
    def live_stats(request: Request) -> Any:
        viewer(request)
        html = report.render_page("stats", **views.stats(metrics))
        return HTMLResponse(html, headers=HEADERS)

    @app.get("/live/stream", include_in_schema=False)
    async def live_stream(request: Request, after: str = "0") -> Any:
        viewer(request)
        header = request.headers.get("last-event-id")
        cursor = _change_id(header, "Last-Event-ID") if header is not None else None
        cursor = cursor if cursor is not None else _change_id(after, "after")
        return StreamingResponse(
            stream(request, engine, cursor),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get("/score", include_in_schema=False)
    def score_page(request: Request) -> Any:
        csrf = viewer(request)
        return page(
            request,
            "score",
            csrf=csrf,
            nav="score",
            title="Score a file",
            **views.score_form(max_body),
        )

    @app.post("/score", include_in_schema=False)
    async def score_file(request: Request) -> Any:
        csrf = viewer(request)
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")

        def refused(message: str, status: int = 400) -> Any:
            context = views.score_form(max_body) | {"error": message}
            return page(request, "score", status, csrf=csrf, nav="score",
                        title="Score a file", **context)  # fmt: skip

        if csrf is not None and not _same(csrf, str(form.get("csrf", ""))):
            return refused("The form had expired: reload the page and upload again.")
        if upload is None or isinstance(upload, str) or not upload.filename:
            return refused("file: expected a CSV or Parquet file; none came.")
        data = await upload.read()
        from starlette.concurrency import run_in_threadpool

        try:
            scored = await run_in_threadpool(
                views.score,
                upload.filename,
                data,
                str(form.get("kind", "auto")),
                str(form.get("as_of", "")).strip() or None,
            )
        except (PersonasError, ValueError) as exc:
            said = str(exc)
            return refused(said if upload.filename in said else f"{upload.filename}: {said}")
        stem = upload.filename.rsplit("/", 1)[-1].split(".")[0] or "scored"
        name = f"{stem}-scored.csv"  # (an ASCII name, and the name as sent: RFC 6266)
        disposition = (
            f'attachment; filename="{safe_name(stem)}-scored.csv"; '
            f"filename*=UTF-8''{quote(name, safe='')}"
        )
        return Response(scored, media_type="text/csv; charset=utf-8",
                        headers=HEADERS | {"Content-Disposition": disposition})  # fmt: skip

    @app.get("/model", include_in_schema=False)
    def model_page(request: Request) -> Any:
        csrf = viewer(request)
        return page(
            request, "model", csrf=csrf, nav="model", charts=True, title="Model", **views.model()
        )


class _Refused(Exception):
    """A request's parameter the dashboard cannot take: a 400 naming it."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _plain(**fields: str) -> None:
    """A 400 naming the field that holds a NUL character (no store keeps one in text)."""
    for name, value in fields.items():
        if "\x00" in value:
            raise _Refused(f"{name}: expected text without NUL characters (\\x00); got one.")


def _change_id(text: str, field: str) -> int:
    """A change id (a whole number a store keeps), or a 400 naming ``field``."""
    found = change_id(text)
    if found is None:
        raise _Refused(f"{field}: expected a change_id (a whole number); got {text[:40]!r}.")
    return found


async def _form(request: Any) -> dict[str, str]:
    """A small urlencoded form (login, logout): its fields, the last of each name."""
    body = await request.body()
    if len(body) > MAX_FORM:
        raise ServiceError(f"form: at most {MAX_FORM:,} bytes; got {len(body):,}.", status=413)
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in fields.items()}


def _local(target: str) -> str:
    """``target`` if it is a path of this site, else ``/`` (no redirect elsewhere)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
