"""The HTTP API of ``personas serve`` (FastAPI): events in, profiles and segments out;
the dashboard's pages beside it (:mod:`personas.serve._dashboard`).

Every endpoint but ``/healthz`` needs ``Authorization: Bearer KEY``. Every refusal is a
4xx whose ``detail`` names the field, what was expected and what came — never a 500 for
bad input. OpenAPI at ``/openapi.json``, its pages at ``/docs``.
"""

import base64
import hashlib
import hmac
import json
import time
import zlib
from typing import Any

from personas._optional import import_optional
from personas.serve._dashboard import HEADERS as PAGE_HEADERS
from personas.serve._dashboard import add_dashboard
from personas.serve._engine import MAX_BATCH, Engine, ServiceError, change_id
from personas.serve._engine import MAX_CHANGE_ID as MAX_ID
from personas.serve._events import MAX_DEPTH
from personas.serve._metrics import Metrics

__all__ = ["DEFAULT_MAX_BODY", "create_app", "hash_keys"]

DEFAULT_MAX_BODY = 16 * 2**20  # bytes of a request body (10,000 events fit)
POLL_SECONDS = 0.2  # how often /v1/stream looks for new changes


def hash_keys(keys: list[str]) -> list[bytes]:
    """The keys as kept in memory: their SHA-256 digests."""
    return [hashlib.sha256(k.encode()).digest() for k in keys if k]


def _known(key: str, hashed: list[bytes]) -> bool:
    digest = hashlib.sha256(key.encode()).digest()
    found = False
    for h in hashed:  # (every key compared, in constant time: no early exit)
        found |= hmac.compare_digest(digest, h)
    return found


def create_app(
    engine: Engine,
    *,
    api_keys: list[str],
    max_body: int = DEFAULT_MAX_BODY,
    rescore_every: float = 3600.0,
) -> Any:
    """The FastAPI application serving ``engine`` to holders of ``api_keys``; every
    ``rescore_every`` seconds (0: never) every user is profiled and scored again as of
    the clock, as time alone moves recency and the windows."""
    fastapi = import_optional("fastapi", purpose="to serve segments over HTTP")
    from fastapi import Depends, FastAPI, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

    if not api_keys:
        raise ServiceError(
            "No API key: set PERSONAS_API_KEYS (comma-separated) or give --api-keys-file "
            '(one key per line). Make one with: python -c "import secrets; '
            'print(secrets.token_urlsafe(32))"',
            status=400,
        )
    hashed = hash_keys(api_keys)
    bearer = HTTPBearer(auto_error=False)

    def key_required(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if creds is None or not _known(creds.credentials, hashed):
            raise fastapi.HTTPException(
                status_code=401,
                detail="A valid API key is needed: send Authorization: Bearer KEY.",
                headers={"WWW-Authenticate": "Bearer"},
            )

    error = {
        "description": "Refused: detail says what to fix",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["detail"],
                    "properties": {"detail": {"type": "string"}},
                }
            }
        },
    }
    app = FastAPI(
        docs_url=None,
        openapi_url=None,
        redoc_url=None,
        title="personas",
        summary="Real-time user profiles and ML segments from events.",
        version=_version(),
        responses={code: error for code in (401, 404, 413, 422)},
        lifespan=_rescoring(engine, rescore_every),
    )
    metrics = Metrics()
    app.add_middleware(_BodyLimit, limit=max_body)
    app.add_middleware(_Timed, metrics=metrics)
    app.state.engine = engine

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Any:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        return JSONResponse({"detail": _explain(exc.errors())}, status_code=422)

    guarded = [Depends(key_required)]

    def page_key(request: Request) -> None:
        """The key of a page a browser opens: a Bearer key, or Basic auth with the key as
        the user name (the browser asks for it)."""
        if not _known(_tracking_key(request, None) or "", hashed):
            raise fastapi.HTTPException(
                status_code=401,
                detail="A valid API key is needed: Authorization: Bearer KEY, or the key as "
                "the user name the browser asks for.",
                headers={"WWW-Authenticate": 'Basic realm="personas"'},
            )

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(page_key)])
    def openapi_document() -> Any:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(page_key)])
    def docs_page() -> Any:
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(openapi_url="/openapi.json", title="personas API")

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Whether the process answers (no key needed)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["service"], dependencies=guarded)
    def readyz() -> dict[str, Any]:
        """Whether the model and the store are ready, with the store's counts."""
        return {"status": "ready", "segments": len(engine.names), **engine.store.counts()}

    @app.get("/metrics", tags=["service"], dependencies=guarded, response_class=PlainTextResponse)
    def get_metrics() -> str:
        """Prometheus text: requests and latency per route, events accepted, duplicate and
        rejected, users, stored events and the store's bytes."""
        return metrics.text(engine.store.counts(), engine.store.size_bytes())

    @app.post(
        "/v1/events",
        tags=["events"],
        dependencies=guarded,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/Event"},
                                {
                                    "type": "object",
                                    "required": ["events"],
                                    "properties": {
                                        "events": {
                                            "type": "array",
                                            "maxItems": MAX_BATCH,
                                            "items": {"$ref": "#/components/schemas/Event"},
                                        }
                                    },
                                },
                            ]
                        }
                    }
                },
            }
        },
    )
    async def post_events(request: Request) -> dict[str, Any]:
        """One event, or ``{"events": [...]}`` (up to 10,000). The answer comes after the
        events, the profiles and segments they change are committed. A bad event rejects
        only itself; an ``event_id`` seen before counts as a duplicate and changes
        nothing."""
        body = await _json_body(request, max_body)
        if isinstance(body, dict) and "events" in body:
            events = body["events"]
            if not isinstance(events, list):
                raise ServiceError(
                    f"events: expected a list of event objects; got {type(events).__name__}"
                )
        elif isinstance(body, dict):
            events = [body]
        else:
            raise ServiceError(
                f'body: expected an event object or {{"events": [...]}}; got {type(body).__name__}'
            )
        from starlette.concurrency import run_in_threadpool

        answer = await run_in_threadpool(engine.ingest, events)
        metrics.ingested(answer)
        return answer

    async def tracking(request: Request, call: str | None) -> dict[str, Any]:
        unknown = fastapi.HTTPException(
            status_code=401,
            detail="A valid write key is needed: the API key as Basic auth's user name, "
            "as a Bearer key, or as the body's writeKey.",
            headers={"WWW-Authenticate": "Basic"},
        )
        header = _tracking_key(request, None)  # (a key in the header: checked before the body)
        if header is not None and not _known(header, hashed):
            raise unknown
        body = await _json_body(request, max_body)
        key = header or _tracking_key(request, body)
        if not key or not _known(key, hashed):
            raise unknown
        if call is None:
            messages = body.get("batch") if isinstance(body, dict) else None
            if not isinstance(messages, list):
                got = (
                    f"batch = {_describe(messages)}"
                    if isinstance(body, dict) and "batch" in body
                    else _describe(body)
                )
                raise ServiceError(f'batch: expected {{"batch": [message, ...]}}; got {got}')
        else:
            messages = [body]
        from starlette.concurrency import run_in_threadpool

        answer = await run_in_threadpool(engine.track, messages, call)
        metrics.ingested(answer)
        return answer

    def body(schema: dict[str, Any]) -> dict[str, Any]:
        content = {"application/json": {"schema": schema}}
        return {"requestBody": {"required": True, "content": content}}

    message = {"$ref": "#/components/schemas/TrackingMessage"}
    batch = {"type": "object", "required": ["batch"],
             "properties": {"batch": {"type": "array", "items": message},
                            "writeKey": {"type": "string"}}}  # fmt: skip

    @app.post("/v1/batch", tags=["tracking API"], openapi_extra=body(batch))
    async def post_batch(request: Request) -> dict[str, Any]:
        """Segment's (and RudderStack's) batch call: ``{"batch": [message, ...]}``."""
        return await tracking(request, None)

    def endpoint(call: str) -> Any:
        async def post_call(request: Request) -> dict[str, Any]:
            return await tracking(request, call)

        return post_call

    for call in ("track", "identify", "page", "screen"):
        app.post(
            f"/v1/{call}",
            tags=["tracking API"],
            summary=f"Segment's {call} call (one message)",
            name=f"post_{call}",
            openapi_extra=body(message),
        )(endpoint(call))

    @app.post("/v1/score", tags=["scoring"], dependencies=guarded)
    async def post_score(request: Request) -> dict[str, Any]:
        """Score without storing: ``{"events": [...], "as_of": ISO}`` (events of one or more
        users, profiled and scored; as_of defaults to now) or ``{"users": [...]}`` (rows
        with the model's basis columns)."""
        body = await _json_body(request, max_body)
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(engine.score, body)

    # (export first: a user id may hold "/", which the path converter takes whole)
    @app.get("/v1/users/{user_id:path}/export", tags=["users"], dependencies=guarded)
    def export_user(user_id: str) -> dict[str, Any]:
        """Everything the store holds about the user: events, profile, segment, history."""
        found = engine.export(_user_id(user_id))
        if found is None:
            raise ServiceError(f"user_id {user_id!r}: no such user in the store.", status=404)
        return found

    @app.get("/v1/users/{user_id:path}", tags=["users"], dependencies=guarded)
    def get_user(
        user_id: str,
        as_of: str | None = Query(None, description="ISO 8601 instant: profile as of then"),
    ) -> dict[str, Any]:
        """The user's profile, segment, confidence and segment history (404 when the store
        holds no event of the user)."""
        found = engine.user(_user_id(user_id), as_of=as_of)
        if found is None:
            raise ServiceError(f"user_id {user_id!r}: no such user in the store.", status=404)
        return found

    @app.delete("/v1/users/{user_id:path}", tags=["users"], dependencies=guarded)
    def delete_user(user_id: str) -> dict[str, Any]:
        """Delete the user's events, profile and segment history in one transaction,
        leaving no copy in the store's files; an audit record keeps only a salted hash of
        the id. 404 for an unknown user."""
        done = engine.forget(_user_id(user_id))
        if done is None:
            raise ServiceError(f"user_id {user_id!r}: no such user in the store.", status=404)
        return done

    @app.get("/v1/segments", tags=["segments"], dependencies=guarded)
    def get_segments() -> dict[str, Any]:
        """Every segment with its live size, share of users, value (summed spend) and share
        of the value."""
        return {"segments": engine.segments()}

    @app.get("/v1/changes", tags=["segments"], dependencies=guarded)
    def get_changes(
        after: int = Query(0, ge=0, le=MAX_ID, description="the last change_id already seen"),
        limit: int = Query(100, ge=1, le=10_000),
    ) -> dict[str, Any]:
        """Segment changes after ``after``, in commit order; ``next`` is the cursor to
        pass next time."""
        changes = engine.store.changes_after(after, limit)
        return {"changes": changes, "next": changes[-1]["change_id"] if changes else after}

    @app.get("/v1/stream", tags=["segments"], dependencies=guarded)
    async def stream(
        request: Request,
        after: int | None = Query(
            None, ge=0, le=MAX_ID, description="the last change_id already seen"
        ),
    ) -> Any:
        """Segment changes as server-sent events (``id`` is the change_id, ``data`` the
        change), in commit order. Resumes after the ``Last-Event-ID`` header (or
        ``after``); without either, starts with the changes to come."""
        header = request.headers.get("last-event-id")
        found = change_id(header) if header is not None else None
        if header is not None and found is None:
            raise ServiceError(
                f"Last-Event-ID: expected a change_id (a whole number); got {header[:40]!r}"
            )
        cursor = found if header is not None else after
        if cursor is None:
            cursor = engine.store.last_change_id()
        return StreamingResponse(
            _changes(request, engine, cursor),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    add_dashboard(
        app,
        engine,
        hashed,
        lambda key: _known(key, hashed),
        metrics=metrics,
        stream=_changes,
        max_body=max_body,
    )
    _document_event(app)
    return app


def _rescoring(engine: Engine, every: float) -> Any:
    """The app's lifespan: a thread re-scoring every user each ``every`` seconds."""
    import contextlib
    import sys
    import threading

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every):
                try:
                    changes = engine.rescore()
                except Exception as exc:  # (logged without data; tried again next time)
                    print(f"personas: the periodic re-score failed: {type(exc).__name__}",
                          file=sys.stderr)  # fmt: skip
                    continue
                app.state.rescored = {"at": time.time(), "changes": len(changes)}

        thread = threading.Thread(target=loop, name="personas-rescore", daemon=True)
        if every > 0:
            thread.start()
        try:
            yield
        finally:
            stop.set()

    return lifespan


async def _changes(request: Any, engine: Engine, cursor: int) -> Any:
    """Server-sent events of the changes after ``cursor``, polled from the store, with a
    comment line every 15 s to keep proxies from closing the stream."""
    import asyncio

    from starlette.concurrency import run_in_threadpool

    quiet = 0.0
    yield ": personas segment changes\n\n"
    while not await request.is_disconnected():
        changes = await run_in_threadpool(engine.store.changes_after, cursor, 500)
        for change in changes:
            cursor = change["change_id"]
            yield f"id: {cursor}\nevent: change\ndata: {json.dumps(change)}\n\n"
        if changes:
            quiet = 0.0
            continue
        await asyncio.sleep(POLL_SECONDS)
        quiet += POLL_SECONDS
        if quiet >= 15:
            quiet = 0.0
            yield ": keep-alive\n\n"


async def _json_body(request: Any, limit: int = DEFAULT_MAX_BODY) -> Any:
    """The request's JSON (gzip-compressed bodies too, as tracking clients send them; at
    most ``limit`` bytes once decompressed)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":  # (a form a page posts cross-site is not JSON)
        raise ServiceError(
            f"Content-Type: expected application/json; got {kind or 'none'!r}.", status=415
        )
    raw = await request.body()
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip"):
        raise ServiceError(
            f"Content-Encoding: expected gzip or none; got {encoding!r}, which is not read.",
            status=415,
        )
    if encoding == "gzip":
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflate.decompress(raw, limit + 1)
        except zlib.error as exc:
            raise ServiceError(
                f"body: Content-Encoding says gzip, but it is not ({exc})."
            ) from None
        if len(raw) > limit:
            raise ServiceError(f"body: at most {limit:,} bytes once decompressed.", status=413)
    if not raw:
        raise ServiceError('body: expected JSON (an event object or {"events": [...]}); got none')
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServiceError(f"body: expected JSON; it does not parse ({exc}).") from None
    except RecursionError:
        raise ServiceError(
            f"body: expected JSON nested at most {MAX_DEPTH} levels deep; got far deeper."
        ) from None


def _user_id(user_id: str) -> str:
    """``user_id`` of a path, or a 400 when it holds a NUL (no store keeps one)."""
    if "\x00" in user_id:
        raise ServiceError("user_id: expected text without NUL characters (\\x00); got one.")
    return user_id


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return f"an object with the keys {sorted(map(str, value))[:5]}"
    return f"{type(value).__name__} {json.dumps(value, default=str)[:40]}"


def _tracking_key(request: Any, body: Any) -> str | None:
    """The key of a tracking call: the write key as Basic auth's user name (Segment's and
    RudderStack's clients), a Bearer key, or the body's ``writeKey``."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value, validate=True).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            return None
    if scheme.lower() == "bearer":
        return value.strip()
    return body.get("writeKey") if isinstance(body, dict) else None


def _explain(errors: Any) -> str:
    """Pydantic's errors as one sentence per field: where, what was expected, what came."""
    out = []
    for e in errors:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        got = e.get("input")
        shown = "" if got is None else f"; got {json.dumps(got, default=str)[:60]}"
        out.append(f"{where}: {e.get('msg', 'invalid')}{shown}")
    return "; ".join(out)


def _version() -> str:
    from personas._version import __version__

    return __version__


def _document_event(app: Any) -> None:
    """The Event schema in OpenAPI (events are read one by one, not by pydantic, so that a
    bad event rejects only itself)."""
    from personas.serve._events import CANONICAL, NUMERIC

    properties: dict[str, Any] = {
        "event_id": {"type": "string", "description": "unique, made by the client"},
        "user_id": {"type": "string"},
        "timestamp": {
            "oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
            "description": "ISO 8601 with an offset, or Unix time in seconds",
        },
    }
    for name in CANONICAL:
        properties[name] = {"type": "number"} if name in NUMERIC else {"type": "string"}
    schema = {
        "type": "object",
        "required": ["event_id", "user_id", "timestamp"],
        "properties": properties,
        "additionalProperties": True,
    }
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = original()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["Event"] = schema
        schemas["TrackingMessage"] = _MESSAGE
        app.openapi_schema = doc
        return doc

    app.openapi = openapi


class _BodyLimit:
    """413 for a request body above ``limit`` bytes (by its Content-Length, or as it
    streams in)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        # (a form a page sends gets a page back)
        page = b"text/html" in headers.get(b"accept", b"") and not scope["path"].startswith("/v1/")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _too_large(send, self.limit, page)
            return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, self.limit, page)


_MESSAGE = {  # (Segment's spec; other fields are kept with the event)
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["track", "page", "screen", "identify"]},
        "messageId": {"type": "string"},
        "userId": {"type": "string"},
        "anonymousId": {"type": "string"},
        "event": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "properties": {"type": "object"},
        "context": {"type": "object"},
        "traits": {"type": "object"},
        "writeKey": {"type": "string"},
    },
    "additionalProperties": True,
}


class _Timed:
    """Each request counted and timed in ``metrics``, under its route's template."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def sent(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.request(scope["method"], route, status[0], time.perf_counter() - start)


class _TooLarge(Exception):
    pass


async def _too_large(send: Any, limit: int, page: bool = False) -> None:
    if page:  # (the dashboard's upload or login form)
        from personas import report

        said = (f"The request is larger than this service takes: at most {limit / 2**20:,.0f} "
                "MiB. Split the file, or score it with personas predict.")  # fmt: skip
        body = report.render_page("toolarge", message=said).encode()
        kind = b"text/html; charset=utf-8"
        more = [(k.lower().encode(), v.encode()) for k, v in PAGE_HEADERS.items()]
    else:
        body = json.dumps(
            {"detail": f"body: at most {limit:,} bytes a request; send fewer events at a time."}
        ).encode()
        kind = b"application/json"
        more = []
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", kind),
                            (b"content-length", str(len(body)).encode()), *more]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
