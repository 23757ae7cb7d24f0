from __future__ import annotations

import pandas as pd
import pytest

from personas import Schema
from personas.errors import SchemaError
from personas.io import ROLES
from tests.conftest import write


@pytest.fixture
def df():
    n = 60
    return pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(n)],
            "plan": ["free", "paid", "free"] * (n // 3),
            "spend": [float(i) for i in range(n)],
            "joined": ["31-01-2024", "15-12-2023"] * (n // 2),
            "score": [1, 2, 3, 4, 5, 6] * (n // 6),
        }
    )


def test_toml_round_trip(tmp_path, df):
    schema = Schema.infer(df)
    path = schema.write(tmp_path / "schema.toml")
    text = path.read_text()
    assert text.startswith("# personas schema")
    for role in ROLES:
        assert role in text  # the roles are explained in the file
    loaded = Schema.read(path)
    assert loaded.roles == schema.roles
    assert loaded.id_column == "user_id"
    assert loaded["joined"].params["format"] == "%d-%m-%Y"


def test_loaded_schema_wins_over_inference(tmp_path, df):
    path = write(
        tmp_path / "s.toml",
        '[columns.score]\nrole = "categorical"\n[columns.spend]\nrole = "ignore"\n',
    )
    schema = Schema.infer(df, schema=Schema.read(path))
    assert schema["score"].role == "categorical"
    assert schema["score"].source == "schema file"
    assert schema["spend"].role == "ignore"
    assert schema["plan"].role == "categorical"  # not named: inferred
    assert schema["plan"].source == "inferred"


def test_declared_datetime_gets_its_format_inferred(tmp_path, df):
    path = write(tmp_path / "s.toml", '[columns.joined]\nrole = "datetime"\n')
    schema = Schema.infer(df, schema=Schema.read(path))
    assert schema["joined"].params["format"] == "%d-%m-%Y"


def test_short_form_role(tmp_path, df):
    path = write(tmp_path / "s.toml", '[columns]\nscore = "categorical"\n')
    assert Schema.infer(df, schema=Schema.read(path))["score"].role == "categorical"


def test_schema_naming_a_missing_column(tmp_path, df):
    path = write(tmp_path / "s.toml", '[columns.income]\nrole = "numeric"\n')
    with pytest.raises(
        SchemaError, match=r"Schema file s\.toml names column\(s\) \['income'\].*'user_id'"
    ):
        Schema.infer(df, schema=Schema.read(path), source_name="users.csv")


def test_schema_id_column_missing(tmp_path, df):
    path = write(tmp_path / "s.toml", 'id_column = "customer"\n')
    with pytest.raises(SchemaError, match="'customer'"):
        Schema.infer(df, schema=Schema.read(path))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("colums = 1\n", r"unknown key\(s\) \['colums'\]"),
        ('[columns.plan]\nrole = "category"\n', "role 'category' is not one of"),
        ('[columns.plan]\nrole = "categorical"\nformt = "x"\n', r"\['formt'\]"),
        ('[columns.plan]\nrole = "boolean"\ntrue_values = "yes"\n', "true_values should be a list"),
        ("version = 99\n", "schema version 99"),
        ("version = \n", "not valid TOML"),
        ('missing_values = "NA"\n', "missing_values should be a list"),
    ],
)
def test_bad_schema_files(tmp_path, text, match):
    with pytest.raises(SchemaError, match=match):
        Schema.read(write(tmp_path / "bad.toml", text))


def test_schema_file_missing(tmp_path):
    with pytest.raises(SchemaError, match="does not exist.*--write-schema"):
        Schema.read(tmp_path / "nope.toml")


def test_forced_id_column(df):
    schema = Schema.infer(df, id_column="spend")
    assert schema.id_column == "spend"
    assert schema["spend"].role == "id"
    with pytest.raises(SchemaError, match="'nope' is not in"):
        Schema.infer(df, id_column="nope")


def test_views(df):
    schema = Schema.infer(df)
    assert repr(schema).startswith("<Schema: 5 columns")
    assert "<table" in schema._repr_html_()
    assert list(schema.to_pandas().columns) == ["column", "role", "source", "reason"]
    assert set(schema.feature_columns) == {"plan", "spend", "joined", "score"}
    assert schema == Schema.infer(df)


def test_basis_entry(tmp_path, df):
    path = write(tmp_path / "s.toml", 'basis = ["spend", "plan"]\n')
    schema = Schema.infer(df, schema=Schema.read(path))
    assert schema.basis == ["spend", "plan"]
    assert Schema.read(schema.write(tmp_path / "again.toml")).basis == ["spend", "plan"]
    with pytest.raises(SchemaError, match="basis should be a non-empty list"):
        Schema.read(write(tmp_path / "b.toml", 'basis = "spend"\n'))
    bad = write(tmp_path / "c.toml", 'basis = ["spend", "income"]\n')
    with pytest.raises(SchemaError, match=r"\['income'\]"):
        Schema.infer(df, schema=Schema.read(bad))
