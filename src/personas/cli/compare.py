"""``personas compare-methods``: every segmentation method on the same data, side by side."""

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
from personas.cli.segment import parse_k
from personas.errors import InputFileError


@handle_errors
def compare_methods_command(
    data: str | None = typer.Argument(
        None,
        help="The user table (any format `validate` reads), or an event log to profile. "
        "Leave out with --query.",
    ),
    out: Path = typer.Option(Path("methods-output"), "--out", "-o", help="Output folder."),
    methods: str | None = typer.Option(
        None, "--methods", help="Comma-separated methods to compare (default: all)."
    ),
    k: str = typer.Option("auto", "--k", "-k", help="'auto' (each method chooses) or N."),
    basis: str | None = typer.Option(
        None, "--basis", help="Comma-separated columns to find segments on."
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
    date_order: str | None = date_order_option(),
) -> None:
    """Compare the segmentation methods: OUT/methods.html, methods.json and methods.csv."""
    import personas

    names = None if methods is None else [m.strip() for m in methods.split(",") if m.strip()]
    columns = [c.strip() for c in basis.split(",") if c.strip()] if basis else None
    if out.exists() and not out.is_dir():
        raise InputFileError(f"{str(out)!r} exists and is not a folder; choose another --out.")
    with err_console.status("Starting…") as status:
        found = personas.compare_methods(
            data,
            methods=names,
            k=parse_k(k),
            basis=columns,
            schema=schema,
            id_column=id_column,
            random_state=random_state,
            k_max=k_max,
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
        out.mkdir(parents=True, exist_ok=True)
        found.write_html(out / "methods.html")
        found.to_json(out / "methods.json")
        found.to_pandas().to_csv(out / "methods.csv", index=False)
    t = Table(title=f"Methods on {escape(found.source)} ({found.n_rows:,} users)")
    t.add_column("method")
    t.add_column("k", justify="right")
    t.add_column("silhouette", justify="right")
    t.add_column("stability", justify="right")
    t.add_column("seconds", justify="right")
    outcomes = found.outcome_columns()
    for o in outcomes:
        t.add_column(f"separation of {escape(o)}", justify="right")
    for row in found.to_pandas().to_dict("records"):
        t.add_row(
            row["method"],
            str(row["k"]),
            "—" if row["silhouette"] != row["silhouette"] else f"{row['silhouette']:.3f}",
            "—" if row["stability"] is None else f"{row['stability']:.2f}",
            f"{row['seconds']:.1f}",
            *[str(row.get(f"separation_{o}", "—")) for o in outcomes],
        )
    console.print(t)
    if len(found.agreement) > 1:  # how far any two methods agree (adjusted Rand index)
        a = Table(title="Agreement (adjusted Rand index: 1 = the same segments)")
        a.add_column("")
        for name in found.agreement.columns:
            a.add_column(str(name), justify="right")
        for name, row in found.agreement.iterrows():
            a.add_row(str(name), *[f"{v:.2f}" for v in row])
        console.print(a)
    for name in ("methods.html", "methods.json", "methods.csv"):
        console.print(f"  {name:<13} {escape(str(out / name))}")
