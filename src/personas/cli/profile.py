"""``personas profile``: an event log (and a users table) → one row per user."""

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


@handle_errors
def profile_command(
    events: str | None = typer.Argument(
        None,
        help="Event log: CSV (optionally .gz) or Parquet file, a folder of such files, "
        "a glob like 'events/*.parquet', JSON lines, a text file of columns separated by "
        "spaces, an Excel workbook, a zip holding one of those, or a DuckDB database (with "
        "--table or --query). "
        "Leave out with --query.",
    ),
    out: Path = typer.Option(Path("profiles-output"), "--out", "-o", help="Output folder."),
    users: str | None = typer.Option(
        None, "--users", help="Users table: everyone in it appears (zero activity if no event)."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Only events before this instant count (default: after the last)."
    ),
    query: str | None = query_option(),
    table: str | None = table_option(),
    sheet: str | None = sheet_option(),
    delimiter: str | None = delimiter_option(),
    encoding: str | None = encoding_option(),
    skip_bad_lines: bool = skip_bad_lines_option(),
    top_levels: int = typer.Option(5, "--top-levels", min=1, help="Levels with a share column."),
    keep_duplicates: bool = typer.Option(
        False, "--keep-duplicates", help="Keep exact duplicate lines (dropped and counted)."
    ),
    cancelled_invoices: bool | None = typer.Option(
        None,
        "--cancelled-invoices/--no-cancelled-invoices",
        help="Order ids of C and digits (C489449) are cancelled invoices, or never "
        "(default: unless most ids look like that).",
    ),
    zero_value_orders: bool = typer.Option(
        False, "--zero-value-orders", help="Count purchases of value 0 as orders too."
    ),
    negative_quantities: str = typer.Option(
        "returns",
        "--negative-quantities",
        help="Lines with a negative quantity or amount: returns, or drop (left out, counted).",
    ),
    clv: bool = typer.Option(
        False, "--clv", help="Fit BG/NBD, Pareto/NBD and Gamma-Gamma; add p_alive and clv."
    ),
    calibration_end: str | None = typer.Option(
        None, "--calibration-end", help="Last day of purchases the CLV models learn from."
    ),
    time_unit: str = typer.Option("week", "--time-unit", help="day, week or month (CLV)."),
    horizon_days: float = typer.Option(365.0, "--horizon-days", help="CLV horizon in days."),
    date_order: str | None = date_order_option(),
    annual_discount: float = typer.Option(
        0.10, "--discount-rate", help="Annual discount rate of the CLV."
    ),
    user_id: str | None = typer.Option(None, "--user-id", help="The user-id column."),
    timestamp: str | None = typer.Option(None, "--timestamp", help="The time column."),
    amount: str | None = typer.Option(None, "--amount", help="The amount column."),
    price: str | None = typer.Option(None, "--price", help="Unit price (× --quantity)."),
    quantity: str | None = typer.Option(None, "--quantity", help="Quantity column."),
    event_type: str | None = typer.Option(None, "--event-type", help="Event type column."),
    order_id: str | None = typer.Option(None, "--order-id", help="Order / invoice id column."),
    session_id: str | None = typer.Option(None, "--session-id", help="Session id column."),
    category: str | None = typer.Option(None, "--category", help="Product category column."),
    channel: str | None = typer.Option(None, "--channel", help="Channel column."),
    device: str | None = typer.Option(None, "--device", help="Device column."),
    product: str | None = typer.Option(None, "--product", help="Product / item column."),
    duration: str | None = typer.Option(None, "--duration", help="Session duration column."),
    plan: str | None = typer.Option(None, "--plan", help="Subscription plan column."),
    status: str | None = typer.Option(
        None, "--status", help="Order status column (canceled, refunded… undo an order)."
    ),
    schema: Path | None = typer.Option(
        None,
        "--schema",
        help="TOML file with an [events] table naming the columns (as OUT/events.toml).",
    ),
) -> None:
    """Profile users from events: OUT/profiles.parquet, OUT/summary.json, OUT/events.toml."""
    import personas

    if out.exists() and not out.is_dir():
        raise InputFileError(f"{str(out)!r} exists and is not a folder; choose another --out.")
    with err_console.status("Reading and aggregating the events (DuckDB)…"):
        result = personas.profile(
            events,
            users,
            as_of=as_of,
            **read_options(
                sheet=sheet,
                delimiter=delimiter,
                encoding=encoding,
                skip_bad_lines=skip_bad_lines,
                query=query,
                table=table,
            ),
            top_levels=top_levels,
            drop_duplicates=not keep_duplicates,
            cancelled_invoices=cancelled_invoices,
            zero_value_orders=zero_value_orders,
            negative_quantities=negative_quantities,
            clv=clv,
            calibration_end=calibration_end,
            time_unit=time_unit,
            horizon_days=horizon_days,
            annual_discount=annual_discount,
            date_order=date_order,
            user_id=user_id,
            timestamp=timestamp,
            amount=amount,
            price=price,
            quantity=quantity,
            event_type=event_type,
            order_id=order_id,
            session_id=session_id,
            category=category,
            channel=channel,
            device=device,
            product=product,
            duration=duration,
            plan=plan,
            status=status,
            mapping=schema,
        )
        out.mkdir(parents=True, exist_ok=True)
        result.to_parquet(out / "profiles.parquet")
        result.to_json(out / "summary.json")
        result.write_mapping(out / "events.toml")
    console.print(
        f"[bold]{len(result.data):,} users[/bold] profiled from {escape(result.source)} as of "
        f"{result.as_of} ({result.cleaning['rows_used']:,} of "
        f"{result.cleaning['rows_read']:,} rows used)."
    )
    console.print("Columns: " + escape(", ".join(f"{k}={v}" for k, v in result.mapping.items())))
    t = Table(title="Cleaning", show_lines=False)
    t.add_column("rule")
    t.add_column("rows", justify="right")
    for k, v in result.cleaning.items():
        if k not in ("rows_read", "rows_used"):
            t.add_row(k.replace("_", " "), f"{v:,}")
    console.print(t)
    for note in result.notes:
        console.print(f"[yellow]Note:[/yellow] {escape(note)}")
    r = Table(title="RFM segments", show_lines=False)
    r.add_column("segment")
    r.add_column("users", justify="right")
    for name, n in result.data["rfm_segment"].value_counts().items():
        r.add_row(escape(str(name)), f"{n:,}")
    console.print(r)
    if result.clv is not None:
        c = result.clv
        t = Table(
            title=f"Lifetime-value models (per {c['time_unit']}, "
            f"calibration to {c['calibration_end']})"
        )
        t.add_column("model")
        t.add_column("parameters (standard error)", overflow="fold")
        t.add_column("log-likelihood", justify="right")
        for name in ("bgnbd", "pareto_nbd", "gamma_gamma"):
            fit = c[name]
            if fit is None:  # (not fitted: the notes say why)
                continue
            params = ", ".join(
                f"{k}={v:.4g} ({fit['std_errors'][k]:.2g})" for k, v in fit["params"].items()
            )
            t.add_row(name, params, f"{fit['log_likelihood']:,.1f}")
        console.print(t)
    console.print(f"  profiles.parquet  {escape(str(out / 'profiles.parquet'))}")
    console.print(f"  summary.json      {escape(str(out / 'summary.json'))}")
    console.print(f"  events.toml       {escape(str(out / 'events.toml'))}")
