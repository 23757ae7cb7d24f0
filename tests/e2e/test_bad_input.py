"""Hostile tables, generated from a seed, through the CLI: no run shows a traceback or an
internal error, every refusal exits 2, and a usable table is read whole (issue 17)."""

from __future__ import annotations

import random

import pytest
from typer.testing import CliRunner

from personas.cli import app

ODD_NAMES = ["naïve", "عمود", "a/b", "..\\x", "<b>x</b>", "=cmd|' /C calc'!A0", " ", "Ω" * 40]


def _table(rng: random.Random, case: int) -> tuple[bytes, bool]:
    """A hostile table of the family ``case % 16``, and whether it is usable as it is."""
    n = rng.choice([1, 2, 3, 25, 120])
    family = case % 16
    header = ["user_id", "age", "spend", "plan"]
    rows = [[f"u{i}", str(rng.randint(18, 80)), f"{rng.random() * 100:.2f}",
             rng.choice(["free", "pro"])] for i in range(n)]  # fmt: skip
    usable = n >= 20
    if family == 0:
        return b"", False
    if family == 1:
        return (",".join(header) + "\n").encode(), False
    if family == 2:  # one column
        return ("spend\n" + "".join(f"{rng.random()}\n" for _ in range(n))).encode(), False
    if family == 3:  # all missing and constant columns
        rows = [[r[0], "", "7", r[3]] for r in rows]
    if family == 4:  # duplicate ids
        rows = [["u1", *r[1:]] for r in rows]
        usable = False
    if family == 5:  # ragged rows
        rows[len(rows) // 2].append("extra")
        usable = False
    if family == 6:  # another delimiter
        return ("\n".join(";".join(r) for r in [header, *rows]) + "\n").encode(), usable
    if family == 7:  # an unterminated quote
        rows[-1][1] = '"31'
        usable = False
    if family == 8:  # binary garbage
        return bytes(rng.getrandbits(8) for _ in range(rng.choice([10, 500, 5000]))), False
    if family == 9:  # NUL bytes and BOMs
        text = "\ufeff" + "\n".join(",".join(r) for r in [header, *rows]) + "\n"
        data = text.encode("utf-8")
        return (data.replace(b"u1", b"u\x001", 1) if rng.random() < 0.5 else data), False
    if family == 10:  # mixed encodings
        rows = [[r[0], r[1], r[2], rng.choice(["Zürich", "Besançon"])] for r in rows]
        text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
        half = len(text) // 2
        return text[:half].encode("utf-8") + text[half:].encode("cp1252"), usable
    if family == 11:  # inf, nan, huge numbers
        rows = [[r[0], r[1], rng.choice(["inf", "-inf", "nan", "1e308", "9" * 40]), r[3]]
                for r in rows]  # fmt: skip
        usable = False
    if family == 12:  # long cells
        rows = [[r[0], r[1], r[2], "x" * 10_000] for r in rows]
    if family == 13:  # odd column names
        header = ["user_id", rng.choice(ODD_NAMES), rng.choice(ODD_NAMES), "plan"]
        usable = False
    if family == 14:  # a truncated gzip
        import gzip

        data = gzip.compress(("\n".join(",".join(r) for r in [header, *rows])).encode())
        return data[: len(data) // 2], False
    if family == 15:  # only a byte-order mark, or only blank lines
        return rng.choice([b"\xef\xbb\xbf", b"\n\n\n", b"\xff\xfe"]), False
    return ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode(), usable


@pytest.mark.parametrize("case", range(160))
def test_hostile_tables_are_refused_clearly_or_read(tmp_path, case):
    rng = random.Random(case)
    data, usable = _table(rng, case)
    path = tmp_path / rng.choice(["t.csv", "t.txt", "t.parquet", "t"])
    path.write_bytes(data)
    commands = [["validate", str(path)]]
    if case % 4 == 0:
        commands.append(["segment", str(path), "-o", str(tmp_path / "out"), "--no-report"])
    for command in commands:
        result = CliRunner().invoke(app, command)
        out = result.output
        assert "Traceback" not in out and "Internal error" not in out, (case, command, out)
        assert result.exit_code in (0, 1, 2), (case, command, result.exit_code, out)
        if result.exit_code == 2:
            assert "Error:" in out, (case, command, out)
        if usable and command[0] == "validate" and path.suffix in (".csv", ".txt", ""):
            assert result.exit_code in (0, 1), (case, command, out)
    assert not any(p.name not in ("out", path.name) for p in tmp_path.iterdir())
