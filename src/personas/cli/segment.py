"""``personas segment``: find, profile and name segments; write labels, summary, model, report."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from personas.cli._common import (
    console,
    date_order_option,
    delimiter_option,
    encoding_option,
    err_console,
    escape,
    handle_errors,
    query_option,
    read_options,
    sheet_option,
    skip_bad_lines_option,
    table_option,
)
from personas.errors import InputFileError


def parse_k(k: str) -> str | int:
    if k == "auto":
        return k
    try:
        value = int(k)
    except ValueError:
        raise InputFileError(f"--k must be 'auto' or a whole number ≥ 1, not {k!r}.") from None
    if value < 1:
        raise InputFileError(f"--k must be 'auto' or a whole number ≥ 1, not {k!r}.")
    return value


@handle_errors
def segment_command(
    data: str | None = typer.Argument(
        None,
        help="The user table (any format `validate` reads), or an event log to profile. "
        "Leave out with --query.",
    ),
    out: Path = typer.Option(Path("segments-output"), "--out", "-o", help="Output folder."),
    k: str = typer.Option("auto", "--k", "-k", help="'auto' or the number of segments."),
    method: str = typer.Option(
        "kmeans",
        "--method",
        "-m",
        help="How segments are found: kmeans (default), gmm (Gaussian mixture, k by BIC, "
        "membership probabilities), hdbscan (dense segments and an Unassigned one, their "
        "number its own), ward (hierarchical, on a sample), auto (kmeans or gmm, the one whose "
        "segments the other methods support more), kprototypes "
        "(categories kept as categories) or deep (autoencoder + IDEC; the deep extra).",
    ),
    basis: str | None = typer.Option(
        None,
        "--basis",
        help="Comma-separated columns to find segments on (default: all usable feature columns).",
    ),
    schema: Path | None = typer.Option(None, "--schema", "-s", help="Schema TOML file."),
    id_column: str | None = typer.Option(None, "--id-column", help="The user-id column."),
    random_state: int = typer.Option(
        0, "--random-state", min=0, help="Seed: same seed, same result."
    ),
    k_max: int = typer.Option(12, "--k-max", min=2, help="Largest k tried by --k auto."),
    table: str | None = table_option(),
    query: str | None = query_option(),
    sheet: str | None = sheet_option(),
    delimiter: str | None = delimiter_option(),
    encoding: str | None = encoding_option(),
    skip_bad_lines: bool = skip_bad_lines_option(),
    report: bool = typer.Option(
        True, "--report/--no-report", help="Write report.html and report.md."
    ),
    playbook: Path | None = typer.Option(
        None, "--playbook", help="TOML playbook adding to or replacing the insight rules."
    ),
    date_order: str | None = date_order_option(),
) -> None:
    """Find segments: OUT/segments.parquet, summary.json, model.personas and report.html."""
    import personas

    k_value = parse_k(k)
    columns = [c.strip() for c in basis.split(",") if c.strip()] if basis else None
    if out.exists() and not out.is_dir():
        raise InputFileError(f"{str(out)!r} exists and is not a folder; choose another --out.")
    with err_console.status("Starting…") as status:
        run = personas.segment(
            data,
            k=k_value,
            method=method,
            basis=columns,
            schema=schema,
            id_column=id_column,
            random_state=random_state,
            k_max=k_max,
            playbook=playbook,
            **read_options(
                sheet=sheet,
                delimiter=delimiter,
                encoding=encoding,
                skip_bad_lines=skip_bad_lines,
                table=table,
                query=query,
            ),
            date_order=date_order,
            progress=lambda message: status.update(f"{message}…"),
        )
        names = write_outputs(run, out, report=report, say=lambda m: status.update(f"{m}…"))
    print_segmentation(run)
    console.print()
    for name in names:
        console.print(f"  {name:<17} {escape(str(out / name))}")


def write_outputs(run, out: Path, *, report: bool = True, say=lambda message: None) -> list[str]:
    """segments.parquet, report.html + report.md, summary.json (with the report's EDA facts)
    and model.personas; return the names written."""
    out.mkdir(parents=True, exist_ok=True)
    say("Writing the segments")
    run.labels.to_parquet(out / "segments.parquet", index=False)
    names = ["segments.parquet"]
    if report:
        say("Exploring the data and drawing the report")
        run.write_html(out / "report.html")
        run.to_markdown(out / "report.md")
        names += ["report.html", "report.md"]
    run.to_json(out / "summary.json")
    run.model.save(out / "model.personas")
    names += ["summary.json", "model.personas"]
    if run.events is not None:  # segments of an event log's users
        run.events.to_parquet(out / "profiles.parquet")
        names.append("profiles.parquet")
    return names


def print_segmentation(run) -> None:
    # how the table was read (for a log: how it was profiled, and what profiling decided)
    for note in run.validation.source.notes:
        console.print(f"[dim]Note: {escape(note)}[/dim]")
    # what reading changed or set aside: warnings, and values read as missing
    said = [
        f for f in run.validation.to_dict()["findings"]
        if f["level"] in ("error", "warning") or f.get("code") == "missing_token"
    ]  # fmt: skip
    for f in said[:6]:
        console.print(f"[yellow]Data:[/yellow] {escape(f['message'])}")
    if len(said) > 6:
        console.print(
            f"[dim]… and {len(said) - 6} more findings: `personas validate` or the report "
            "lists them all.[/dim]"
        )
    from personas.cluster import METHODS

    console.print(
        f"[bold]{run.k} segment{'s' if run.k != 1 else ''}[/bold] "
        f"({METHODS[run.model.method].label}) of "
        f"{len(run.labels):,} users. {escape(run.k_reason)}"
    )
    t = Table(show_lines=False)
    t.add_column("id", justify="right")
    t.add_column("name", overflow="fold")
    t.add_column("users", justify="right")
    t.add_column("share", justify="right")
    t.add_column("stability", justify="right")
    for s in run.segments:
        t.add_row(
            str(s.id),
            escape(s.name),
            f"{s.size:,}",
            f"{s.share:.1%}",
            "—" if s.stability is None else f"{s.stability:.2f}",
        )
    console.print(t)
    insights = (run.insights or {}).get("insights", [])
    if insights:
        console.print("[bold]Insights[/bold] (highest priority first)")
        for i in insights[:8]:
            console.print(
                f"  {escape('[' + i['priority'] + ']')} segment {i['segment']}: "
                f"{escape(i['title'])} — {escape(i['because'])}"
            )
    missing = (run.insights or {}).get("missing_signals", [])
    if missing:
        keys = "value, churn, recency, tenure, plan, activity, trend or outcome"
        console.print(
            f"  [dim]Not assessed, no such column found: {escape(', '.join(missing))} "
            f"(a --playbook file's {escape('[columns]')} table names them: {keys}; the "
            "report says more).[/dim]"
        )
