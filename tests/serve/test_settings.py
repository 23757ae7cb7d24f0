"""The service's settings (pydantic-settings): flag over PERSONAS_* variable over the
``[serve]`` table of a TOML file over the default, and every bad value named."""

from __future__ import annotations

import pytest

pytest.importorskip("pydantic_settings", reason="the serve extra is not installed")

from personas.errors import InputFileError
from personas.serve._settings import read_settings


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "serve.toml"
    path.write_text('[serve]\nport = 9001\nworkers = 3\nstore = "sqlite:///file.db"\n')
    return path


def test_defaults_without_flags_variables_or_file(monkeypatch):
    for name in ("STORE", "HOST", "PORT", "WORKERS", "RESCORE_EVERY", "API_KEYS_FILE", "LOAD"):
        monkeypatch.delenv(f"PERSONAS_{name}", raising=False)
    s = read_settings({"port": None, "store": None})
    assert (s.store, s.host, s.port, s.workers, s.rescore_every) == (
        "sqlite:///personas.db", "127.0.0.1", 8000, 1, 3600.0
    )  # fmt: skip
    assert s.api_keys_file is None and s.load is None


def test_a_flag_wins_over_a_variable_which_wins_over_the_file(monkeypatch, config):
    monkeypatch.setenv("PERSONAS_WORKERS", "2")
    monkeypatch.setenv("PERSONAS_RESCORE_EVERY", "60")
    s = read_settings({"workers": None, "port": 9002, "rescore_every": None}, config)
    assert s.port == 9002  # the flag, over the file's 9001
    assert s.workers == 2  # the variable, over the file's 3
    assert s.rescore_every == 60.0  # the variable (a string read as a number)
    assert s.store == "sqlite:///file.db"  # the file, over the default


@pytest.mark.parametrize(
    ("flags", "env", "text", "words"),
    [
        ({}, {"PERSONAS_PORT": "eighty"}, None, "PERSONAS_PORT: input should be a valid integer"),
        ({"port": 70000}, {}, None, "--port: input should be less than or equal to 65535"),
        ({"workers": 0}, {}, None, "--workers: input should be greater than or equal to 1"),
        ({"rescore_every": -1.0}, {}, None, "--rescore-every: input should be greater than"),
        ({}, {}, "[serve]\nrescore_every = true\n", "[serve] rescore_every: expected a number"),
        ({}, {}, "[serve]\nthreads = 4\n", "unknown setting 'threads'; use one of"),
        ({"rescore_every": float("inf")}, {}, None, "--rescore-every: input should be"),
        ({}, {"PERSONAS_RESCORE_EVERY": "1e300"}, None, "PERSONAS_RESCORE_EVERY: input should"),
        ({}, {}, "[serve]\nport = 'x'\nworkers = 0\n", "[serve] workers: input should be"),
    ],
)
def test_a_bad_value_names_where_it_came_from(monkeypatch, tmp_path, flags, env, text, words):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = None
    if text is not None:
        path = tmp_path / "serve.toml"
        path.write_text(text)
    with pytest.raises(InputFileError) as caught:
        read_settings(flags, path)
    assert words in str(caught.value)
    if "got" in str(caught.value):
        assert str(caught.value).rstrip(".").rsplit("got ", 1)[1]  # what came is shown


def test_a_missing_or_broken_file_is_named(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        read_settings({}, tmp_path / "absent.toml")
    (tmp_path / "bad.toml").write_text("[serve\n")
    with pytest.raises(InputFileError, match="not valid TOML"):
        read_settings({}, tmp_path / "bad.toml")


def test_a_hyphenated_key_of_the_file_is_read(tmp_path):
    path = tmp_path / "serve.toml"
    path.write_text("[serve]\nrescore-every = 60\n")
    assert read_settings({}, path).rescore_every == 60.0
