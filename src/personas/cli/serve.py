"""``personas serve``: the real-time API over a saved model and a profile store."""

from __future__ import annotations

from pathlib import Path

import typer

from personas.cli._common import err_console, escape, handle_errors
from personas.errors import InputFileError


@handle_errors
def serve_command(
    model: Path = typer.Argument(
        ..., help="A model.personas trained on an event log (`personas segment LOG`)."
    ),
    store: str = typer.Option(
        "sqlite:///personas.db",
        "--store",
        envvar="PERSONAS_STORE",
        help="Where profiles are kept: sqlite:///path.db (created on first start).",
    ),
    host: str = typer.Option(
        "127.0.0.1", "--host", envvar="PERSONAS_HOST", help="Address to listen on."
    ),
    port: int = typer.Option(8000, "--port", envvar="PERSONAS_PORT", help="Port to listen on."),
    rescore_every: float = typer.Option(
        3600.0,
        "--rescore-every",
        envvar="PERSONAS_RESCORE_EVERY",
        help="Seconds between re-scores of every user as of the clock (time alone moves "
        "recency and the windows); 0: never.",
    ),
    load: str | None = typer.Option(
        None,
        "--load",
        help="An event log (any format `personas profile` reads) to store before serving, "
        "at batch speed: the service starts with its users. Loading it again adds nothing.",
    ),
    api_keys_file: Path | None = typer.Option(
        None,
        "--api-keys-file",
        envvar="PERSONAS_API_KEYS_FILE",
        help="A file of API keys, one per line (or set PERSONAS_API_KEYS, comma-separated).",
    ),
) -> None:
    """Serve profiles and segments in real time: POST events, GET a user's segment."""
    import os

    from personas._optional import import_optional
    from personas.model import load as load_model
    from personas.serve import Engine, create_app
    from personas.store import open_store

    uvicorn = import_optional("uvicorn", purpose="to serve segments over HTTP")
    import_optional("fastapi", purpose="to serve segments over HTTP")
    if rescore_every < 0:
        raise InputFileError(
            f"--rescore-every must be 0 (never) or more seconds, not {rescore_every}."
        )
    if not 0 < port < 65536:
        raise InputFileError(f"--port must be between 1 and 65535, not {port}.")
    keys = [k.strip() for k in os.environ.get("PERSONAS_API_KEYS", "").split(",") if k.strip()]
    if api_keys_file is not None:
        if not api_keys_file.is_file():
            raise InputFileError(f"--api-keys-file {api_keys_file}: no such file.")
        lines = api_keys_file.read_text(encoding="utf-8").splitlines()
        keys += [k.strip() for k in lines if k.strip() and not k.startswith("#")]
    _check_address(host, port)
    engine = Engine(load_model(model), open_store(store))
    if engine.rescored_at_start:
        err_console.print(
            f"{escape(store)} held profiles of another model: every user was profiled and "
            "scored again by this one (the changes are in /v1/changes)."
        )
    if load is not None:
        done = engine.load(load)
        err_console.print(
            f"Loaded {escape(load)}: {done['added']:,} new events of {done['events']:,}; "
            f"{done['users']:,} users in the store."
        )
    app = create_app(engine, api_keys=keys, rescore_every=rescore_every)
    where = f"http://{host}:{port}"
    err_console.print(
        f"personas serves {escape(str(model))} at {escape(where)} (API at {escape(where)}/docs), "
        f"store {escape(store)}"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def _check_address(host: str, port: int) -> None:
    """A clear error when ``host``:``port`` cannot be listened on (in use, or no such
    address here), before anything is opened."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InputFileError(f"--host {host!r} is not an address here ({exc}).") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise InputFileError(
                f"Cannot listen on {host}:{port} ({exc.strerror or exc}): another program "
                "may hold the port (choose another with --port), or the address is not this "
                "machine's (--host)."
            ) from None
