"""The documentation stays true to the code: every option of every command is in the CLI
page, and the README is a front page whose links stay inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from personas.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _commands():
    return typer.main.get_command(app).commands.items()


@pytest.mark.parametrize(("name", "command"), list(_commands()))
def test_every_option_of_every_command_is_documented(name, command):
    page = (ROOT / "docs" / "guide" / "cli.md").read_text()
    assert f"## `personas {name}`" in page
    for param in command.params:
        for opt in [*param.opts, *getattr(param, "secondary_opts", [])]:
            if opt.startswith("--") and opt != "--help":  # (`--k` is not `--k-max`)
                named = re.search(rf"`{re.escape(opt)}(?![\w-])|{re.escape(opt)}`", page)
                assert named, f"{name} {opt} not in cli.md"


def test_readme_is_a_front_page_pointing_inside_the_repository():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    assert "make demo" in text and "make test" in text
    for target in re.findall(r"\]\(([^)]+)\)", text):
        assert not re.match(r"[a-z]+://", target), f"README links outside: {target}"
        path = (ROOT / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"README link to nothing: {target}"


def test_every_docs_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    assert [p for p in pages if p not in nav] == []


def test_the_readme_python_example_runs(tmp_path, monkeypatch):
    from personas.datasets import make_users

    users, _ = make_users(3_000, n_segments=4, random_state=0)
    users.to_csv(tmp_path / "customers.csv", index=False)
    users.head(200).to_csv(tmp_path / "new_customers.csv", index=False)
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "report.html").exists() and (tmp_path / "model.personas").exists()
    assert namespace["run"].k >= 2
