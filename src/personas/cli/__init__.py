"""The ``personas`` command line (Typer + rich). One module per command."""

from __future__ import annotations

import typer

from personas._version import __version__
from personas.cli import (
    compare,
    demo,
    eda,
    generate,
    predict,
    profile,
    segment,
    serve,
    validate,
)

app = typer.Typer(
    name="personas",
    help="User profiling and segmentation: validate and explore user tables, find and explain "
    "segments, score new users.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"personas {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        help="Print the version and exit.",
        callback=_version,
        is_eager=True,
    ),
) -> None:
    """personas: from user tables to explained segments."""


app.command("validate")(validate.validate_command)
app.command("eda")(eda.eda_command)
app.command("profile")(profile.profile_command)
app.command("segment")(segment.segment_command)
app.command("compare-methods")(compare.compare_methods_command)
app.command("predict")(predict.predict_command)
app.command("serve")(serve.serve_command)
app.command("generate")(generate.generate_command)
app.command("demo")(demo.demo_command)


def main() -> None:
    app()


__all__ = ["app", "main"]
