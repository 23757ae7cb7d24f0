"""``personas predict``: score users with a saved model, from their events or their rows."""

from __future__ import annotations

from pathlib import Path

import typer

from personas.cli._common import (
    console,
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


@handle_errors
def predict_command(
    model: Path = typer.Argument(..., help="A model.personas file from `personas segment`."),
    data: str | None = typer.Argument(
        None,
        help="What the model scores: an event log for a model trained on one (profiled "
        "first), else a user table (any format `validate` reads). Leave out with --query.",
    ),
    out: Path = typer.Option(
        Path("scored.parquet"), "--out", "-o", help="Output file (.parquet or .csv)."
    ),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Profile the events as of this date (default: midnight after the last event); "
        "for a model trained on an event log.",
    ),
    table: str | None = table_option(),
    query: str | None = query_option(),
    sheet: str | None = sheet_option(),
    delimiter: str | None = delimiter_option(),
    encoding: str | None = encoding_option(),
    skip_bad_lines: bool = skip_bad_lines_option(),
) -> None:
    """Score users: id, segment, segment_name, distance, confidence."""
    import personas
    from personas.io import load_table

    if out.suffix not in (".parquet", ".csv"):
        raise InputFileError(f"--out must end in .parquet or .csv, not {out.name!r}.")
    if out.exists() and out.is_dir():
        raise InputFileError(f"--out {str(out)!r} is a folder; give a file name in it.")
    extra: list[str] = []
    read = read_options(
        sheet=sheet,
        delimiter=delimiter,
        encoding=encoding,
        skip_bad_lines=skip_bad_lines,
        table=table,
        query=query,
    )
    with err_console.status("Loading the model…") as status:
        try:
            fitted = personas.load(model)
        except InputFileError as exc:
            if data is not None and _is_model(Path(str(data))) and not _is_model(model):
                raise InputFileError(
                    f"{exc} The arguments look swapped: {Path(str(data)).name} is a model. "
                    f"Write the model first: personas predict {data} {model}"
                ) from None
            raise
        if fitted.input == "events":
            status.update(f"Profiling the users of {data or 'the query'} and scoring them…")
            scored = fitted.predict(data, as_of=as_of, **read)
        else:
            if as_of is not None:
                raise InputFileError(
                    f"--as-of is for a model trained on an event log; {model.name} scores "
                    "user tables as they are. Leave it out."
                )
            status.update(f"Scoring {data or 'the query'}…")
            df, source = load_table(data, **read)
            kept = set(fitted.basis) | {fitted.schema.id_column}
            extra = [c for c in df.columns if c not in kept]
            scored = fitted.predict(df, source_name=source.name)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".parquet":
            scored.to_parquet(out, index=False)
        else:
            scored.to_csv(out, index=False)
    counts = scored["segment"].value_counts().sort_index()
    users = f"{len(scored):,} user{'' if len(scored) == 1 else 's'}"
    if fitted.input == "events":
        clean = scored.attrs["cleaning"]
        console.print(
            f"Profiled {users} from their events as of {scored.attrs['as_of']} "
            f"({clean['rows_used']:,} of {clean['rows_read']:,} lines used; "
            f"{clean['at_or_after_as_of']:,} at or after it)."
        )
    for note in scored.attrs.get("notes", []):
        console.print(f"[dim]Note: {escape(note)}[/dim]")
    console.print(f"Scored {users} into {fitted.n_segments} segments:")
    for seg, n in counts.items():
        console.print(f"  {seg}: {escape(fitted.segment_names[seg])} — {n:,}")
    if extra:
        shown = ", ".join(extra[:8]) + (f" … ({len(extra) - 8} more)" if len(extra) > 8 else "")
        console.print(
            f"[dim]Ignored {len(extra)} column(s) the model does not use: {escape(shown)}[/dim]"
        )
    console.print(f"Written to [bold]{escape(str(out))}[/bold]")


def _is_model(path: Path) -> bool:
    """Whether ``path`` is a zip holding a model's manifest (``model.personas``)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return "manifest.json" in zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
