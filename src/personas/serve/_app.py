"""The HTTP API of ``personas serve`` (FastAPI): events in, profiles and segments out.

Every endpoint but ``/healthz`` needs ``Authorization: Bearer KEY``. Every refusal is a
4xx whose ``detail`` names the field, what was expected and what came — never a 500 for
bad input. OpenAPI at ``/openapi.json``, its pages at ``/docs``.
"""

import hashlib
import hmac
import json
from typing import Any

from personas._optional import import_optional
from personas.serve._engine import MAX_BATCH, Engine, ServiceError

__all__ = ["DEFAULT_MAX_BODY", "create_app", "hash_keys"]

DEFAULT_MAX_BODY = 16 * 2**20  # bytes of a request body (10,000 events fit)


def hash_keys(keys: list[str]) -> list[bytes]:
    """The keys as kept in memory: their SHA-256 digests."""
    return [hashlib.sha256(k.encode()).digest() for k in keys if k]


def _known(key: str, hashed: list[bytes]) -> bool:
    digest = hashlib.sha256(key.encode()).digest()
    found = False
    for h in hashed:  # (every key compared, in constant time: no early exit)
        found |= hmac.compare_digest(digest, h)
    return found


def create_app(engine: Engine, *, api_keys: list[str], max_body: int = DEFAULT_MAX_BODY) -> Any:
    """The FastAPI application serving ``engine`` to holders of ``api_keys``."""
    fastapi = import_optional("fastapi", purpose="to serve segments over HTTP")
    from fastapi import Depends, FastAPI, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
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

    app = FastAPI(
        title="personas",
        summary="Real-time user profiles and ML segments from events.",
        version=_version(),
    )
    app.add_middleware(_BodyLimit, limit=max_body)
    app.state.engine = engine

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Any:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        return JSONResponse({"detail": _explain(exc.errors())}, status_code=422)

    guarded = [Depends(key_required)]

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Whether the process answers (no key needed)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["service"], dependencies=guarded)
    def readyz() -> dict[str, Any]:
        """Whether the model and the store are ready, with the store's counts."""
        return {"status": "ready", "segments": len(engine.names), **engine.store.counts()}

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
        body = await _json_body(request)
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

        return await run_in_threadpool(engine.ingest, events)

    @app.get("/v1/users/{user_id}", tags=["users"], dependencies=guarded)
    def get_user(
        user_id: str,
        as_of: str | None = Query(None, description="ISO 8601 instant: profile as of then"),
    ) -> dict[str, Any]:
        """The user's profile, segment, confidence and segment history (404 when the store
        holds no event of the user)."""
        found = engine.user(user_id, as_of=as_of)
        if found is None:
            raise ServiceError(f"user_id {user_id!r}: no such user in the store.", status=404)
        return found

    @app.get("/v1/segments", tags=["segments"], dependencies=guarded)
    def get_segments() -> dict[str, Any]:
        """Every segment with its live size, share of users and value (summed spend)."""
        return {"segments": engine.segments()}

    @app.get("/v1/changes", tags=["segments"], dependencies=guarded)
    def get_changes(
        after: int = Query(0, ge=0, description="the last change_id already seen"),
        limit: int = Query(100, ge=1, le=10_000),
    ) -> dict[str, Any]:
        """Segment changes after ``after``, in commit order; ``next`` is the cursor to
        pass next time."""
        changes = engine.store.changes_after(after, limit)
        return {"changes": changes, "next": changes[-1]["change_id"] if changes else after}

    _document_event(app)
    return app


async def _json_body(request: Any) -> Any:
    raw = await request.body()
    if not raw:
        raise ServiceError('body: expected JSON (an event object or {"events": [...]}); got none')
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServiceError(f"body: expected JSON; it does not parse ({exc}).") from None


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
        doc.setdefault("components", {}).setdefault("schemas", {})["Event"] = schema
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
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _too_large(send, self.limit)
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
            await _too_large(send, self.limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps(
        {"detail": f"body: at most {limit:,} bytes a request; send fewer events at a time."}
    ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
