"""``personas predict``: score new users with a saved model."""

from __future__ import annotations

from pathlib import Path

import typer

from personas.cli._common import console, err_console, escape, handle_errors
from personas.errors import InputFileError


@handle_errors
def predict_command(
    model: Path = typer.Argument(..., help="A model.personas file from `personas segment`."),
    data: str = typer.Argument(..., help="The users to score (any format `validate` reads)."),
    out: Path = typer.Option(
        Path("scored.parquet"), "--out", "-o", help="Output file (.parquet or .csv)."
    ),
    table: str | None = typer.Option(None, "--table", help="Table to read from a DuckDB file."),
) -> None:
    """Score users: id, segment, segment_name, distance, confidence."""
    import personas
    from personas.io import load_table

    if out.suffix not in (".parquet", ".csv"):
        raise InputFileError(f"--out must end in .parquet or .csv, not {out.name!r}.")
    with err_console.status("Loading the model…") as status:
        fitted = personas.load(model)
        status.update(f"Scoring {data}…")
        df, source = load_table(data, table=table)
        extra = [c for c in df.columns if c not in fitted.basis and c != fitted.schema.id_column]
        scored = fitted.predict(df, source_name=source.name)
        if out.suffix == ".parquet":
            scored.to_parquet(out, index=False)
        else:
            scored.to_csv(out, index=False)
    counts = scored["segment"].value_counts().sort_index()
    console.print(f"Scored {len(scored):,} users into {fitted.n_segments} segments:")
    for seg, n in counts.items():
        console.print(f"  {seg}: {escape(fitted.segment_names[seg])} — {n:,}")
    if extra:
        shown = ", ".join(extra[:8]) + (f" … ({len(extra) - 8} more)" if len(extra) > 8 else "")
        console.print(
            f"[dim]Ignored {len(extra)} column(s) the model does not use: {escape(shown)}[/dim]"
        )
    console.print(f"Written to [bold]{escape(str(out))}[/bold]")
