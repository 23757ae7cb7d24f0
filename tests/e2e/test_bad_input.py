"""Hostile tables, generated from a seed, through the CLI: no run shows a traceback or an
internal error, every refusal exits 2, and a usable table is read whole (issue 17)."""

from __future__ import annotations

import json
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


def _log(rng: random.Random, case: int) -> tuple[str, bytes]:
    """A hostile event log of the family ``case % 8``: (its file name, its bytes)."""
    n = rng.choice([1, 2, 40, 300])
    users = rng.choice([1, 3, 30])
    lines = [
        [f"c{rng.randrange(users)}", f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 10:00:00",
         f"{rng.random() * 90 + 1:.2f}", rng.choice(["purchase", "refund", "view"])]
        for _ in range(n)
    ]  # fmt: skip
    family = case % 8
    if family == 0:  # unreadable times
        for line in lines[: max(1, n // 2)]:
            line[1] = rng.choice(["soon", "31/31/2024", "", "0000-00-00", "2024-13-45 99:99"])
    if family == 1:  # times in the future
        lines = [[u, t.replace("2024", "2999"), a, e] for u, t, a, e in lines]
    if family == 2:  # amounts as text
        for line in lines:
            line[2] = rng.choice(["$1,234.50", "12,50 €", "high", "(3.00)", "n/a", "∞"])
    if family == 3:  # broken JSON lines
        rows = [json.dumps(dict(zip(["user", "time", "amount", "event"], r, strict=True)))
                for r in lines]  # fmt: skip
        rows.insert(len(rows) // 2, '{"user": "c1", "time": ')
        return "log.jsonl", ("\n".join(rows) + "\n").encode()
    if family == 4:  # no amounts at all, one event type
        lines = [[u, t, "", "view"] for u, t, _, _ in lines]
    if family == 5:  # every value missing but the user
        lines = [[u, "", "", ""] for u, _, _, _ in lines]
    text = "customer_id,order_time,amount,event_type\n"
    text += "".join(",".join(line) + "\n" for line in lines)
    return "log.csv", text.encode()


@pytest.mark.parametrize("case", range(48))
def test_hostile_event_logs_are_refused_clearly_or_profiled(tmp_path, case):
    rng = random.Random(1000 + case)
    name, data = _log(rng, case)
    path = tmp_path / name
    path.write_bytes(data)
    as_of = ["--as-of", "2024-06-01"] if case % 3 == 0 else []
    for command in (["profile", str(path), "-o", str(tmp_path / "p"), *as_of],
                    ["segment", str(path), "-o", str(tmp_path / "s"), "--no-report"]):  # fmt: skip
        result = CliRunner().invoke(app, command)
        out = result.output
        assert "Traceback" not in out and "Internal error" not in out, (case, command, out)
        assert result.exit_code in (0, 2), (case, command, result.exit_code, out)
        if result.exit_code == 2:
            assert "Error:" in out, (case, command, out)


def _model_file(rng: random.Random, case: int, good: bytes) -> bytes:
    """A damaged, foreign or malicious model file of the family ``case % 6``."""
    import io
    import pickle
    import zipfile

    family = case % 6
    if family == 0:  # random bytes
        return bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 16, 4096])))
    if family == 1:  # truncated
        return good[: rng.randrange(1, len(good))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if family == 2:  # a pickle where the manifest goes
            archive.writestr("manifest.json", pickle.dumps({"format_version": 2}))
        if family == 3:  # a member escaping the folder
            archive.writestr("../escaped.txt", "boom")
            archive.writestr("manifest.json", '{"format_version": 2, "input": "users"}')
        if family == 4:  # an oversized member (50 MB of zeros)
            archive.writestr("manifest.json", b"\x00" * 50_000_000)
        if family == 5:  # the real manifest, a foreign payload
            with zipfile.ZipFile(io.BytesIO(good)) as real:
                archive.writestr("manifest.json", real.read("manifest.json"))
            archive.writestr("pipeline.skops", bytes(rng.getrandbits(8) for _ in range(512)))
    return buffer.getvalue()


def test_hostile_model_files_are_refused(tmp_path):
    import personas

    users, _ = personas.datasets.make_users(200, random_state=0)
    run = personas.segment(users, random_state=0)
    run.model.save(tmp_path / "good.personas")
    good = (tmp_path / "good.personas").read_bytes()
    users.to_csv(tmp_path / "users.csv", index=False)
    for case in range(12):
        rng = random.Random(2000 + case)
        folder = tmp_path / f"case{case}"
        folder.mkdir()
        (folder / "m.personas").write_bytes(_model_file(rng, case, good))
        out = folder / "out" / "scored.parquet"
        args = ["predict", str(folder / "m.personas"), str(tmp_path / "users.csv"), "-o", str(out)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, (case, result.output)
        said = ("not a personas model file", "is damaged")  # (foreign, or tampered with)
        assert any(words in result.output for words in said), (case, result.output)
        assert not out.exists() and not (tmp_path / "escaped.txt").exists()
