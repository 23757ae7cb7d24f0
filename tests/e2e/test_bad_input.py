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
    """A hostile table of the family ``case % 18``, and whether it is usable as it is."""
    n = rng.choice([1, 2, 3, 25, 120])
    family = case % 18
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
    if family == 16:  # duplicated columns: a repeated name, or a copy under another name
        header = rng.choice(
            [["user_id", "age", "age", "plan"], ["user_id", "age", "spend", "spend_copy"]]
        )
        rows = [[r[0], r[1], r[1] if header[2] == "age" else r[2], r[2]] for r in rows]
        usable = usable and header[2] != "age"  # (a name twice: refused, naming it)
    if family == 17:  # mixed delimiters: some lines with ; instead of ,
        lines = [",".join(header)] + [
            (";" if i % 3 == 1 else ",").join(r) for i, r in enumerate(rows)
        ]
        return ("\n".join(lines) + "\n").encode(), usable and n < 2
    return ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode(), usable


@pytest.mark.parametrize("case", range(180))
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
            rows = len([ln for ln in data.decode("utf-8", "replace").splitlines() if ln]) - 1
            said = CliRunner().invoke(app, [*command, "--json"]).output
            assert json.loads(said[said.index("{") :])["n_rows"] == rows, case  # every row kept
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


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A user table and a model trained on it."""
    import personas

    folder = tmp_path_factory.mktemp("trained")
    users, _ = personas.datasets.make_users(300, random_state=0)
    users.to_csv(folder / "users.csv", index=False)
    personas.segment(users, random_state=0).model.save(folder / "model.personas")
    (folder / "empty").mkdir()
    return folder


def _bad_flags(folder):
    users, model = str(folder / "users.csv"), str(folder / "model.personas")
    seg = ["segment", users, "-o", str(folder / "o"), "--no-report"]
    return [  # (the command, a word its refusal must name)
        ([*seg, "--k", "0"], "--k"), ([*seg, "--k", "abc"], "--k"), ([*seg, "--k", "999"], "k"),
        ([*seg, "--k-max", "1"], "--k-max"), ([*seg, "--random-state", "-1"], "--random-state"),
        ([*seg, "--basis", "nope"], "nope"), ([*seg, "--basis", "user_id"], "user_id"),
        ([*seg, "--id-column", "nope"], "nope"), ([*seg, "--playbook", users], "users.csv"),
        ([*seg, "--schema", str(folder / "none.toml")], "none.toml"),
        (["validate", users, "--date-order", "sideways"], "date"),
        (["validate", users, "--delimiter", "ab"], "delimiter"),
        (["validate", users, "--delimiter", ""], "delimiter"),
        (["validate", users, "--encoding", "klingon"], "klingon"),
        (["validate", users, "--sheet", "2"], "--sheet"),
        (["validate", users, "--table", "t"], "--table"),
        (["validate", "--query", "SELEC 1"], "query"), (["validate"], "--query"),
        (["validate", ""], "empty"), (["validate", str(folder / "nope.csv")], "nope.csv"),
        (["validate", str(folder / "empty")], "empty"),
        (["validate", users, "--html", str(folder / "empty")], "--html"),
        (["eda", users, "-o", str(folder / "empty")], "--out"),
        (["eda", users, "--sample-rows", "0"], "--sample-rows"),
        (["profile", users, "--time-unit", "year", "-o", str(folder / "p")], "year"),
        (["profile", users, "--negative-quantities", "keep", "-o", str(folder / "p")], "keep"),
        (["profile", users, "--as-of", "soon", "-o", str(folder / "p")], "soon"),
        (["predict", model, users, "-o", str(folder / "x.xlsx")], "--out"),
        (["predict", model, users, "--as-of", "2024-01-01"], "--as-of"),
        (["predict", model, users, "-o", str(folder / "empty")], "--out"),
        (["generate", "-o", str(folder / "g"), "-n", "0"], "--users"),
        (["generate", "-o", str(folder / "g"), "--as-of", "31/02/2024"], "--as-of"),
        (["generate", "-o", str(folder / "g"), "--format", "xml"], "--format"),
        (["demo", "-o", str(folder / "d"), "-n", "1"], "--users"),
    ]  # fmt: skip


def test_bad_flag_values_are_refused_naming_the_option(trained):
    for command, named in _bad_flags(trained):
        result = CliRunner().invoke(app, command)
        out = " ".join(result.output.split())
        assert "Traceback" not in out and "Internal error" not in out, (command, out)
        assert result.exit_code == 2, (command, result.exit_code, out)
        assert named in out, (command, named, out)


@pytest.mark.parametrize("case", range(40))
def test_hostile_predict_inputs_are_scored_or_refused(trained, tmp_path, case):
    """Tables a model scores that lack its columns, hold the wrong types or nothing."""
    import numpy as np
    import pandas as pd

    rng = random.Random(3000 + case)
    users = pd.read_csv(trained / "users.csv").sample(rng.choice([1, 2, 50]), random_state=case)
    family = case % 8
    basis = ["age", "income", "purchases", "membership_type", "sessions", "signup_date"]
    if family == 0:  # basis columns missing
        users = users.drop(columns=rng.sample(basis, rng.randint(1, 3)))
    if family == 1:  # text where numbers were
        users[rng.choice(["age", "income", "purchases"])] = rng.choice(["many", "", "1,5", "∞"])
    if family == 2:  # every value of a column missing
        users[rng.choice(basis)] = np.nan
    if family == 3:  # levels never seen, dates that are not dates
        users["membership_type"], users["signup_date"] = "platinum", rng.choice(["x", "0", ""])
    if family == 4:  # no rows
        users = users.head(0)
    if family == 5:  # the id renamed, extra columns
        users = users.rename(columns={"user_id": "id"}).assign(extra=1)
    if family == 6:  # infinite and huge numbers
        users["income"] = rng.choice(["inf", "-1e400", "9" * 40])
    if family == 7:  # an event log's shape
        users = pd.DataFrame({"user_id": ["a", "a", "b"], "time": ["2024-01-01"] * 3})
    path = tmp_path / "new.csv"
    users.to_csv(path, index=False)
    out = tmp_path / "out" / "scored.csv"
    result = CliRunner().invoke(app, ["predict", str(trained / "model.personas"), str(path),
                                      "-o", str(out)])  # fmt: skip
    text = " ".join(result.output.split())
    assert "Traceback" not in text and "Internal error" not in text, (case, text)
    assert result.exit_code in (0, 2), (case, result.exit_code, text)
    if result.exit_code == 0:
        assert len(pd.read_csv(out)) == len(users)  # every row scored
    else:
        assert "Error:" in text and not out.exists(), (case, text)


def test_what_outputs_show_is_escaped(tmp_path):
    """A column named like markup, and values like it, are shown as text in every HTML
    and Markdown output, never run."""
    import personas

    script, image = "<script>alert(1)</script>", "<img src=x onerror=alert(2)>"
    users, _ = personas.datasets.make_users(300, random_state=0)
    users[script] = users["income"].fillna(0) * 1.5  # (a feature: in the profiles, the name)
    users["city"] = [image if i % 3 == 0 else c for i, c in enumerate(users["city"])]
    path = tmp_path / "evil.csv"
    users.to_csv(path, index=False)
    for command in (["validate", str(path), "--html", str(tmp_path / "v.html")],
                    ["eda", str(path), "-o", str(tmp_path / "e.html"), "--json",
                     str(tmp_path / "e.json")],
                    ["segment", str(path), "-o", str(tmp_path / "s")]):  # fmt: skip
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
    for name in ("v.html", "e.html", "s/report.html", "s/report.md"):
        text = (tmp_path / name).read_text()
        assert script not in text and image not in text, name
    for name in ("v.html", "s/report.md"):  # (shown, escaped: the check is not vacuous)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (tmp_path / name).read_text(), name

    def refuse(constant):  # (NaN, Infinity: words most JSON parsers refuse)
        raise AssertionError(f"{constant} in JSON")

    for name in ("e.json", "s/summary.json"):  # JSON every parser reads
        json.loads((tmp_path / name).read_text(), parse_constant=refuse)


def test_a_tab_delimiter_as_the_shell_passes_it(tmp_path):
    path = tmp_path / "users.tsv"
    rows = "".join(f"u{i}\t{20 + i % 50}\t{i * 1.37 % 90:.2f}\n" for i in range(40))
    path.write_text("user_id\tage\tspend\n" + rows)
    for given in ("tab", "\\t", "\t"):
        result = CliRunner().invoke(app, ["validate", str(path), "--delimiter", given, "--json"])
        assert result.exit_code == 0, (given, result.output)
        assert json.loads(result.output)["n_columns"] == 3


@pytest.mark.parametrize(
    ("line", "said"),
    [('u2,"oops,7', "opens a value that never closes"),
     ('u2,"oops,"$1,745.33"', "a quoted value is malformed")],
)  # fmt: skip
def test_a_quote_left_open_is_named_by_its_line(tmp_path, line, said):
    rows = [f"u{i},{20 + i},{i * 1.5}" for i in range(40)]
    rows[2] = line
    path = tmp_path / "quotes.csv"
    path.write_text("user_id,age,spend\n" + "\n".join(rows) + "\n")
    result = CliRunner().invoke(app, ["validate", str(path)])
    out = " ".join(result.output.split())
    assert result.exit_code == 2 and "quotes.csv, line 4" in out and said in out, out


def test_a_quote_left_open_early_in_a_long_log_is_named_by_its_line(tmp_path):
    rows = [f"c{i % 300},2024-01-{1 + i % 28:02d},{i * 0.37:.2f},purchase" for i in range(9000)]
    rows[500] = 'c1,2024-01-02,"12.50,purchase'  # (the rest of the file: one value)
    path = tmp_path / "log.csv"
    path.write_text("customer_id,order_date,amount,event_type\n" + "\n".join(rows) + "\n")
    for command in ("profile", "validate"):
        args = [command, str(path)] + (["-o", str(tmp_path / "p")] if command == "profile" else [])
        result = CliRunner().invoke(app, args)
        out = " ".join(result.output.split())
        assert result.exit_code == 2 and "log.csv, line 502: a quote" in out, out
