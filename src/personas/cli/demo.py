"""``personas demo``: generate demo data and run the main job on it, in one command."""

from __future__ import annotations

from pathlib import Path

import typer

from personas.cli._common import console, err_console, escape, handle_errors
from personas.cli.generate import generate_data
from personas.cli.validate import print_report
from personas.io import validate


@handle_errors
def demo_command(
    out: Path = typer.Option(Path("demo-output"), "--out", "-o", help="Folder for everything."),
    users: int = typer.Option(20_000, "--users", "-n", min=100, help="Number of demo users."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Generate demo users and events, check them and write the report.

    Writes OUT/data/ (users, events, true segments), OUT/validation.json and
    OUT/report.html.
    """
    written = generate_data(
        out / "data",
        n_users=users,
        n_segments=6,
        seed=seed,
        days=365,
        as_of="2025-06-30",
        events=True,
        fmt="parquet",
    )
    with err_console.status("Checking the users table…"):
        report = validate(written["users"])
    print_report(report)
    report.to_json(out / "validation.json")
    report.write_html(out / "report.html")
    console.print()
    console.print("[bold]Demo output[/bold]")
    for kind, path in written.items():
        console.print(f"  {kind:<11} {escape(str(path))}")
    console.print(f"  {'validation':<11} {escape(str(out / 'validation.json'))}")
    console.print(f"  {'report':<11} {escape(str(out / 'report.html'))}")
    if not report.ok:
        raise typer.Exit(2)
