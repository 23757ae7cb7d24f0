"""``personas validate``: roles and a data-quality summary of a user table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from personas.results import ValidationReport


@handle_errors
def validate_command(
    file: str | None = typer.Argument(
        None,
        help="The user table: CSV/TSV (optionally .gz), Parquet (file or folder), JSON lines, "
        "Excel, a DuckDB file, or a duckdb:// URL. Leave out with --query.",
        show_default=False,
    ),
    schema: Path | None = typer.Option(
        None, "--schema", "-s", help="A schema TOML file whose roles win over inference."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the report as JSON (roles under columns.<name>.role)."
    ),
    write_schema: Path | None = typer.Option(
        None, "--write-schema", help="Write the inferred schema to this TOML file, to edit."
    ),
    html: Path | None = typer.Option(None, "--html", help="Also write the report as HTML here."),
    table: str | None = table_option(),
    query: str | None = query_option(),
    sheet: str | None = sheet_option(),
    delimiter: str | None = delimiter_option(),
    encoding: str | None = encoding_option(),
    date_order: str | None = date_order_option(),
    skip_bad_lines: bool = skip_bad_lines_option(),
    id_column: str | None = typer.Option(
        None, "--id-column", help="The column that identifies users (default: inferred)."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Exit with code 1 when there are warnings (errors always exit 2)."
    ),
) -> None:
    """Check a user table: the role of every column, data quality and clear errors.

    Exit codes: 0 usable, 1 warnings with --strict, 2 unusable input (the message says
    where, what was expected and how to fix it).
    """
    from personas.results import validate

    output_file(write_schema, "--write-schema")
    output_file(html, "--html")
    read = read_options(table=table, query=query, sheet=sheet, delimiter=delimiter,
                        encoding=encoding, skip_bad_lines=skip_bad_lines)  # fmt: skip
    if as_json:
        report = validate(
            file,
            schema=schema,
            id_column=id_column,
            date_order=date_order,
            **read,
        )
    else:
        with err_console.status(f"Reading and checking {file or 'the query'}…"):
            report = validate(
                file,
                schema=schema,
                id_column=id_column,
                date_order=date_order,
                **read,
            )
    if write_schema is not None:
        report.schema.write(write_schema)
    if html is not None:
        report.write_html(html)
    if as_json:
        print(report.to_json())
    else:
        print_report(report)
        if write_schema is not None:
            console.print(
                f"Schema written to [bold]{escape(str(write_schema))}[/bold]: edit the "
                "roles and pass it back with --schema."
            )
        if html is not None:
            console.print(f"HTML report written to [bold]{escape(str(html))}[/bold].")
    if not report.ok:
        if not as_json:
            err_console.print(
                f"[bold red]Error:[/bold red] {escape(report.source.name)} cannot be used as it "
                f"is: {len(report.errors)} error(s), listed above."
            )
        raise typer.Exit(2)
    if strict and report.warnings:
        raise typer.Exit(1)


def print_report(report: ValidationReport) -> None:
    src = report.source
    opts = ", ".join(
        f"{k} {v!r}" if k == "delimiter" else f"{k} {v}"
        for k, v in src.options.items()
        if v is not None
    )
    console.print(
        f"[bold]{escape(src.name)}[/bold]: {report.n_rows:,} rows × {report.n_columns} columns"
        f" [dim]({src.format}{', ' + escape(opts) if opts else ''})[/dim]"
    )
    console.print(
        f"User id: [bold]{escape(str(report.schema.id_column or '— (rows are numbered)'))}"
        f"[/bold]; feature columns: {len(report.schema.feature_columns)}; "
        f"duplicate rows: {report.n_duplicate_rows:,}"
    )
    roles = Table(title="Columns", title_justify="left", show_lines=False, expand=False)
    roles.add_column("column", style="bold", overflow="fold")
    roles.add_column("role")
    roles.add_column("missing", justify="right")
    roles.add_column("distinct", justify="right")
    roles.add_column("why", overflow="fold")
    for name, c in report.columns.items():
        role_style = {"pii": "red", "id": "blue", "ignore": "dim"}.get(c["role"], "green")
        distinct = "" if c.get("n_unique") is None else f"{c['n_unique']:,}"
        roles.add_row(
            escape(name),
            f"[{role_style}]{c['role']}[/{role_style}]",
            f"{c['pct_missing']:.1f}%",
            distinct,
            escape(c["reason"]),
        )
    console.print(roles)
    for note in report.source.notes:
        console.print(f"[dim]Note: {escape(note)}[/dim]")
    if report.findings:
        found = Table(title="Findings", title_justify="left", expand=False, show_lines=False)
        found.add_column("level")
        found.add_column("finding", overflow="fold")
        for f in report.findings:
            style = LEVEL_STYLE[f.level]
            found.add_row(f"[{style}]{f.level}[/{style}]", escape(f.message))
        console.print(found)
    status = (
        "[bold green]usable[/bold green]"
        if report.ok
        else "[bold red]not usable as it is[/bold red]"
    )
    console.print(
        f"Result: {status} — {len(report.errors)} error(s), {len(report.warnings)} warning(s). "
        f"[dim]Row numbers count data rows from 1.[/dim]"
    )
