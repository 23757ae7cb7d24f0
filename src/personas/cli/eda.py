"""``personas eda``: an exploratory report of a user table, on a bounded sample."""

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
    output_file,
    query_option,
    read_options,
    sheet_option,
    skip_bad_lines_option,
    table_option,
)

LEVEL_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


@handle_errors
def eda_command(
    file: str | None = typer.Argument(
        None, help="The user table (any format `validate` reads). Leave out with --query."
    ),
    out: Path = typer.Option(Path("eda.html"), "--out", "-o", help="The HTML report to write."),
    as_json: Path | None = typer.Option(None, "--json", help="Also write the facts as JSON."),
    sample_rows: int = typer.Option(
        50_000, "--sample-rows", min=100, help="Statistics on a random sample of this many rows."
    ),
    schema: Path | None = typer.Option(None, "--schema", "-s", help="Schema TOML file."),
    id_column: str | None = typer.Option(None, "--id-column", help="The user-id column."),
    table: str | None = table_option(),
    query: str | None = query_option(),
    sheet: str | None = sheet_option(),
    delimiter: str | None = delimiter_option(),
    encoding: str | None = encoding_option(),
    skip_bad_lines: bool = skip_bad_lines_option(),
    random_state: int = typer.Option(0, "--random-state", min=0, help="Seed of the row sample."),
    date_order: str | None = date_order_option(),
) -> None:
    """Explore a table: distributions, missingness, associations and alerts (HTML)."""
    from personas.results import eda

    output_file(out, "--out")
    output_file(as_json, "--json")
    with err_console.status("Reading and exploring the table…"):
        report = eda(
            file,
            sample_rows=sample_rows,
            random_state=random_state,
            schema=schema,
            id_column=id_column,
            date_order=date_order,
            **read_options(
                sheet=sheet,
                delimiter=delimiter,
                encoding=encoding,
                skip_bad_lines=skip_bad_lines,
                table=table,
                query=query,
            ),
        )
        report.write_html(out)
        if as_json is not None:
            report.to_json(as_json)
    sampled = (
        f"statistics on a random sample of {report.sample_rows:,} rows"
        if report.sampled
        else "statistics on every row"
    )
    console.print(
        f"[bold]{escape(report.source.name)}[/bold]: {report.n_rows:,} rows × "
        f"{len(report.columns)} columns ({sampled}), {len(report.alerts)} alerts."
    )
    t = Table(show_lines=False)
    t.add_column("level")
    t.add_column("column", overflow="fold")
    t.add_column("alert", overflow="fold")
    for a in report.alerts[:15]:
        style = LEVEL_STYLE.get(a["level"], "")
        t.add_row(
            f"[{style}]{a['level']}[/{style}]", escape(a["column"] or "—"), escape(a["message"])
        )
    if report.alerts:
        console.print(t)
    for note in report.source.notes:  # (how the table was read: dates read day first…)
        console.print(f"[dim]Note: {escape(note)}[/dim]")
    console.print(f"  report  {escape(str(out))}")
    if as_json is not None:
        console.print(f"  json    {escape(str(as_json))}")
