"""``personas demo``: generate demo data and run the main job on it, in one command."""

from __future__ import annotations

from pathlib import Path

import typer

from personas.cli._common import console, err_console, escape, handle_errors
from personas.cli.generate import generate_data
from personas.cli.segment import print_segmentation, write_outputs


@handle_errors
def demo_command(
    out: Path = typer.Option(Path("demo-output"), "--out", "-o", help="Folder for everything."),
    users: int = typer.Option(20_000, "--users", "-n", min=100, help="Number of demo users."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed."),
) -> None:
    """Generate demo users and events, check them, find their segments, write the report.

    Writes OUT/data/ (users, events, true segments), OUT/validation.json,
    OUT/validation.html, OUT/segments.parquet, OUT/report.html, OUT/report.md,
    OUT/summary.json and OUT/model.personas.
    """
    import personas

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
    with err_console.status("Checking the users table…") as status:
        report = personas.validate(written["users"])
        report.to_json(out / "validation.json")
        report.write_html(out / "validation.html")
        if not report.ok:
            report.raise_for_errors()
        run = personas.segment(
            report,
            random_state=seed,
            progress=lambda message: status.update(f"{message}…"),
        )
        names = write_outputs(run, out, say=lambda m: status.update(f"{m}…"))
    console.print(
        f"Data check: {len(report.errors)} errors, {len(report.warnings)} warnings "
        f"on {report.n_rows:,} users × {report.n_columns} columns."
    )
    print_segmentation(run)
    console.print()
    console.print("[bold]Demo output[/bold]")
    for kind, path in written.items():
        console.print(f"  {kind:<17} {escape(str(path))}")
    for name in ["validation.json", "validation.html", *names]:
        console.print(f"  {name:<17} {escape(str(out / name))}")
