"""``personas generate``: write synthetic users (and events) with planted segments."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from personas.cli._common import console, err_console, escape, handle_errors
from personas.errors import InputFileError


def write_table(df: Any, path: Path) -> Path:
    """Write a DataFrame as Parquet or CSV according to the file's suffix."""
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        df.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    else:
        raise InputFileError(f"Cannot write {path.name}: use a .parquet or .csv file name.")
    return path


def generate_data(
    out: Path,
    *,
    n_users: int,
    n_segments: int,
    seed: int,
    days: int,
    as_of: str,
    events: bool,
    fmt: str,
) -> dict[str, Path]:
    """Generate users (+ events) and the planted truth; write them under ``out``."""
    from personas.datasets import make_events, make_users

    if fmt not in ("parquet", "csv"):
        raise InputFileError(f"--format must be parquet or csv, not {fmt!r}.")
    if out.exists() and not out.is_dir():
        raise InputFileError(f"{str(out)!r} exists and is not a folder; choose another --out.")
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    with err_console.status(f"Generating {n_users:,} users…"):
        start = time.perf_counter()
        users, truth = make_users(
            n_users, n_segments=n_segments, random_state=seed, as_of=as_of, days=days
        )
        written["users"] = write_table(users, out / f"users.{fmt}")
        written["truth"] = write_table(truth, out / f"truth.{fmt}")
        err_console.print(f"Users: {len(users):,} rows in {time.perf_counter() - start:.1f} s")
    if events:
        with err_console.status("Generating their events…"):
            start = time.perf_counter()
            log = make_events(users, random_state=seed + 1)
            written["events"] = write_table(log, out / f"events.{fmt}")
            err_console.print(f"Events: {len(log):,} rows in {time.perf_counter() - start:.1f} s")
    return written


@handle_errors
def generate_command(
    out: Path = typer.Option(Path("data"), "--out", "-o", help="Folder to write into."),
    users: int = typer.Option(10_000, "--users", "-n", min=1, help="Number of users."),
    segments: int = typer.Option(
        6, "--segments", "-k", min=1, max=24, help="Number of planted segments."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same data)."),
    days: int = typer.Option(365, "--days", min=7, help="Days of activity the data cover."),
    as_of: str = typer.Option("2025-06-30", "--as-of", help="Snapshot date (YYYY-MM-DD)."),
    events: bool = typer.Option(True, "--events/--no-events", help="Also write the event log."),
    fmt: str = typer.Option("parquet", "--format", "-f", help="parquet or csv."),
) -> None:
    """Write synthetic users with planted segments, their event log and the true segments.

    Files: OUT/users.FORMAT, OUT/events.FORMAT, OUT/truth.FORMAT (user_id, segment,
    segment_name: kept apart so no tool uses them by accident).
    """
    import pandas as pd

    try:
        pd.Timestamp(as_of)
    except ValueError:
        raise InputFileError(f"--as-of must be a date such as 2025-06-30, not {as_of!r}.") from None
    written = generate_data(
        out,
        n_users=users,
        n_segments=segments,
        seed=seed,
        days=days,
        as_of=as_of,
        events=events,
        fmt=fmt,
    )
    for kind, path in written.items():
        console.print(f"{kind:>7}: {escape(str(path))}")
