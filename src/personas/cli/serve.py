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
    store: str | None = typer.Option(
        None,
        "--store",
        show_default="sqlite:///personas.db",
        help="Where profiles are kept: sqlite:///path.db (created on first start), or "
        "postgresql://user:password@host:port/database. [env var: PERSONAS_STORE]",
    ),
    host: str | None = typer.Option(
        None,
        "--host",
        show_default="127.0.0.1",
        help="Address to listen on. [env var: PERSONAS_HOST]",
    ),
    port: int | None = typer.Option(
        None, "--port", show_default="8000", help="Port to listen on. [env var: PERSONAS_PORT]"
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        show_default="1",
        help="Worker processes sharing the port and the store (PostgreSQL is the store for "
        "several; SQLite orders their writes one at a time). [env var: PERSONAS_WORKERS]",
    ),
    rescore_every: float | None = typer.Option(
        None,
        "--rescore-every",
        show_default="3600",
        help="Seconds between re-scores of every user as of the clock (time alone moves "
        "recency and the windows); 0: never. [env var: PERSONAS_RESCORE_EVERY]",
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
        help="A file of API keys, one per line (or set PERSONAS_API_KEYS, comma-separated). "
        "[env var: PERSONAS_API_KEYS_FILE]",
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        envvar="PERSONAS_CONFIG",
        help="A TOML file whose \\[serve] table holds these settings (store, host, port, "
        "workers, rescore_every, api_keys_file, load); flags and PERSONAS_* variables win.",
    ),
) -> None:
    """Serve profiles and segments in real time: POST events, GET a user's segment."""
    import os

    from personas._optional import import_optional

    uvicorn = import_optional("uvicorn", purpose="to serve segments over HTTP")
    import_optional("fastapi", purpose="to serve segments over HTTP")
    import_optional("pydantic_settings", purpose="to read the service's settings")
    from personas.model import load as load_model
    from personas.serve import Engine, create_app
    from personas.serve._settings import read_keys, read_settings
    from personas.store import open_store

    settings = read_settings(
        {"store": store, "host": host, "port": port, "workers": workers,
         "rescore_every": rescore_every, "load": load, "api_keys_file": api_keys_file},
        config,
    )  # fmt: skip
    store, host, port, workers = settings.store, settings.host, settings.port, settings.workers
    rescore_every, load, keys_file = settings.rescore_every, settings.load, settings.api_keys_file
    keys = read_keys(os.environ.get("PERSONAS_API_KEYS"), keys_file)
    _check_address(host, port)
    engine = Engine(load_model(model), open_store(store))
    if engine.rescored_at_start:
        err_console.print(
            f"{escape(engine.store.name)} held profiles of another model: every user was "
            "profiled and scored again by this one (the changes are in /v1/changes)."
        )
    if load is not None:
        done = engine.load(load)
        err_console.print(
            f"Loaded {escape(load)}: {done['added']:,} new events of {done['events']:,}; "
            f"{done['users']:,} users in the store."
        )
    app = create_app(engine, api_keys=keys, rescore_every=rescore_every)  # (checks the keys)
    where = f"http://{host}:{port}"
    err_console.print(
        f"personas serves {escape(str(model))} at {escape(where)} (dashboard at {escape(where)}/, "
        f"API at {escape(where)}/docs), "
        f"store {escape(engine.store.name)}" + (f", {workers} workers" if workers > 1 else "")
    )
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return
    engine.store.close()
    os.environ.update({"PERSONAS_SERVE_MODEL": str(model.resolve()), "PERSONAS_STORE": store,
                       "PERSONAS_RESCORE_EVERY": str(rescore_every)})  # fmt: skip
    if keys_file:  # (the workers read the keys where the command did)
        os.environ["PERSONAS_API_KEYS_FILE"] = str(Path(keys_file).resolve())
    uvicorn.run("personas.serve._settings:app_from_environment", factory=True, host=host,
                port=port, workers=workers, log_level="warning", access_log=False)  # fmt: skip


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
