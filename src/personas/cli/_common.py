"""What every command shares: consoles, error handling, option types."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from personas.errors import PersonasError

F = TypeVar("F", bound=Callable[..., Any])

console = Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False)


def fail(message: str, *, code: int = 2, as_json: bool = False, kind: str = "Error") -> None:
    """Print an error without a traceback and exit with ``code``."""
    if as_json:
        print(json.dumps({"ok": False, "error": {"type": kind, "message": message}}, indent=2))
    err_console.print(  # (the message as written: "[columns.x]" is no markup)
        f"[bold red]Error:[/bold red] {escape(message)}",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Turn personas errors into clear messages and exit codes, never tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json", False))
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except PersonasError as exc:
            fail(str(exc), code=exc.exit_code, as_json=as_json, kind=type(exc).__name__)
        except KeyboardInterrupt:
            err_console.print("Interrupted.")
            raise typer.Exit(130) from None
        except MemoryError:
            fail(
                "Out of memory. Try a smaller input, or a machine with more memory.",
                code=1,
                as_json=as_json,
                kind="MemoryError",
            )
        except Exception as exc:
            if os.environ.get("PERSONAS_DEBUG"):
                raise
            fail(
                f"Internal error ({type(exc).__name__}: {exc}). This is a bug in personas; "
                "please report it with the command you ran. Set PERSONAS_DEBUG=1 to see the "
                "traceback.",
                code=1,
                as_json=as_json,
                kind="InternalError",
            )

    return wrapper  # type: ignore[return-value]


def output_file(path: Any, option: str) -> None:
    """Refuse an output file that is an existing folder, before any work is done."""
    from pathlib import Path

    from personas.errors import InputFileError

    if path is not None and Path(path).is_dir():
        raise InputFileError(f"{option} {str(path)!r} is a folder; give a file name in it.")


def escape(text: str) -> str:
    from rich.markup import escape as _escape

    return _escape(text)


def is_tty() -> bool:
    return sys.stdout.isatty()


def date_order_option() -> Any:
    """``--date-order``: which comes first in dates that read both ways."""
    return typer.Option(
        None,
        "--date-order",
        help="day or month: which comes first in dates that read both ways (03/04/2024) "
        "when every value fits both (default: day, said in a note).",
    )


# How a source is read: the same options on every command that reads one.
def table_option() -> Any:
    return typer.Option(None, "--table", help="Table to read from a DuckDB file.")


def query_option() -> Any:
    return typer.Option(
        None, "--query", "-q", help="SQL to run (on the DuckDB file, or on files it names)."
    )


def sheet_option() -> Any:
    return typer.Option(None, "--sheet", help="Excel sheet (name or position).")


def delimiter_option() -> Any:
    return typer.Option(None, "--delimiter", "-d", help="CSV delimiter (default: sniffed).")


def encoding_option() -> Any:
    return typer.Option(None, "--encoding", help="Text encoding (default: detected).")


def skip_bad_lines_option() -> Any:
    return typer.Option(
        False, "--skip-bad-lines", help="Leave out malformed CSV rows (counted) instead of failing."
    )


def read_options(**given: Any) -> dict[str, Any]:
    """The reader's options given on the command line (a sheet's position as a number)."""
    sheet = given.get("sheet")
    if isinstance(sheet, str) and sheet.isdigit():
        given["sheet"] = int(sheet)
    return {k: v for k, v in given.items() if v is not None and v is not False}
