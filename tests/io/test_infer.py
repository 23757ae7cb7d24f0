from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import personas
from personas import Schema

N = 400
rng = np.random.default_rng(0)


def _role(values, name="col"):
    df = pd.DataFrame({name: values})
    return Schema.infer(df)[name]


def _cycle(options, n=N):
    return [options[i % len(options)] for i in range(n)]


@pytest.mark.parametrize(
    ("name", "values", "role"),
    [
        ("user_id", [f"u{i}" for i in range(N)], "id"),
        ("customerID", [f"{i:04d}-ABCD" for i in range(N)], "id"),
        ("ref", [f"K{i * 7919 % 100000:05d}X" for i in range(N)], "id"),
        ("row", list(range(1, N + 1)), "id"),
        ("contact", [f"name{i}@example.com" for i in range(N)], "pii"),
        ("reach", [f"+44 7700 {100000 + i}" for i in range(N)], "pii"),
        (
            "who",
            _cycle(["Ann Smith", "Bob Jones", "Carl Lee", "Dee Moss"], N)[:4]
            + [f"Name{chr(97 + i % 26)} Surname{chr(97 + i // 26 % 26)}" for i in range(N - 4)],
            "pii",
        ),
        ("email", _cycle(["x", "y", "z"]), "pii"),
        ("full_name", _cycle(["a", "b"]), "pii"),
        ("phone", list(range(N)), "pii"),
        ("plan", _cycle(["free", "basic", "premium"]), "categorical"),
        ("city", [f"Town{i % 300}" for i in range(N)], "high_cardinality"),
        ("age", rng.integers(18, 80, N), "numeric"),
        ("spend", rng.gamma(2, 30, N), "numeric"),
        ("churn", _cycle(["Yes", "No"]), "outcome"),  # (issue 17: an outcome, not a feature)
        ("flag", _cycle(["Y", "N"]), "boolean"),
        ("active", _cycle(["true", "false"]), "boolean"),
        ("senior", _cycle([0, 1]), "boolean"),
        ("opted", _cycle(["1", "0"]), "boolean"),
        ("native", _cycle([True, False]), "boolean"),
        ("total", _cycle(["12.5", " 7", "1,234.50", " "]), "numeric"),
        ("signup", _cycle(["2024-01-31", "2023-12-01"]), "datetime"),
        ("joined", _cycle(["31-01-2024", "15-12-2023"]), "datetime"),
        ("seen", _cycle(["31/01/2024 10:15", "15/12/2023 08:00"]), "datetime"),
        ("signup_date", _cycle([20240131, 20231201, 20220615]), "datetime"),
        ("stamp", pd.date_range("2024-01-01", periods=N, freq="h"), "datetime"),
        (
            "interests",
            _cycle(["sports;music", "music", "travel;food;music", "food"]),
            "multi_label",
        ),
        ("comment", [f"the delivery was slow on day {i} but fine" for i in range(N)], "text"),
        ("region", _cycle(list(range(1, 10))), "categorical"),
        ("constant", _cycle(["same"]), "ignore"),
        ("empty", [None] * N, "ignore"),
        ("blank", _cycle(["", " ", "N/A", "unknown"]), "ignore"),
    ],
)
def test_roles(name, values, role):
    spec = _role(values, name)
    assert spec.role == role, spec.reason
    assert spec.reason


def test_boolean_spellings_are_recorded():
    spec = _role(_cycle(["Yes", "No"]), "churn")
    assert spec.params["true_values"] == ["Yes"]
    assert spec.params["false_values"] == ["No"]


def test_date_format_is_recorded():
    assert _role(_cycle(["31-01-2024", "15-12-2023"]), "d").params["format"] == "%d-%m-%Y"
    assert _role(_cycle(["01/31/2024", "12/15/2023"]), "d").params["format"] == "%m/%d/%Y"


def test_decimal_comma():
    spec = _role(_cycle(["12,5", "7,25", "3,0"]), "amount")
    assert spec.role == "numeric"
    assert spec.params["decimal"] == ","


def test_missing_tokens_are_counted():
    spec = _role(_cycle(["a", "b", "unknown", "N/A"]), "job")
    assert spec.role == "categorical"
    assert spec.params["missing_tokens"] == {"unknown": 100, "N/A": 100}


def test_mostly_numbers_with_a_few_words_is_numeric_with_count():
    values = [str(i) for i in range(N - 5)] + ["abc"] * 5
    spec = _role(values, "visits")
    assert spec.role == "numeric"
    assert spec.params["non_numeric"] == 5


def test_half_numbers_half_words_is_not_numeric():
    spec = _role(_cycle(["1", "2", "high", "low"]), "score")
    assert spec.role == "categorical"


def test_id_named_column_with_repeats_is_still_the_user_id():
    df = pd.DataFrame({"user_id": _cycle(["a", "b", "c"]), "x": rng.normal(size=N)})
    schema = Schema.infer(df)
    assert schema.id_column == "user_id"
    assert "repeat" in schema["user_id"].reason


def test_foreign_key_named_id_with_many_repeats_is_not_an_id():
    df = pd.DataFrame({"product_id": _cycle(["p1", "p2", "p3"]), "x": rng.normal(size=N)})
    assert Schema.infer(df)["product_id"].role == "categorical"


def test_no_id_column():
    df = pd.DataFrame({"a": rng.normal(size=N), "b": _cycle(["x", "y"])})
    assert Schema.infer(df).id_column is None


def test_name_like_id_preferred_over_other_unique_column():
    df = pd.DataFrame(
        {"code_x": [f"K{i}Z" for i in range(N)], "member_id": [f"m{i}" for i in range(N)]}
    )
    assert Schema.infer(df).id_column == "member_id"


def test_numeric_pii_name_wins_over_content():
    df = pd.DataFrame({"phone_number": rng.integers(10**9, 10**10, N)})
    assert Schema.infer(df)["phone_number"].role == "pii"


@pytest.mark.parametrize("n", [60, 3_000])
@pytest.mark.parametrize(
    "name", ["CustomerNumber", "client_no", "AccountNr", "KundenNummer", "numero_cliente"]
)
def test_a_number_named_for_whom_it_numbers_is_an_id(name, n):
    """Unique whole numbers named for the customer, client, account or member they number
    are ids (never clustered on), in any of the languages personas reads."""
    values = np.random.default_rng(n).permutation(10 * n)[:n] + 10_000
    assert _role(values.tolist(), name).role == "id"
    assert _role([str(v) for v in values], name).role == "id"


@pytest.mark.parametrize(
    ("name", "values", "role"),
    [
        ("email_open_rate", rng.random(N).round(3).tolist(), "numeric"),
        ("phone_minutes", rng.integers(0, 600, N).tolist(), "numeric"),
        ("tel_calls", rng.integers(0, 9, N).tolist(), "numeric"),
        ("email_domain", _cycle(["gmail.com", "yahoo.fr", "web.de", "outlook.com"]), "categorical"),
        ("phone", [f"+44 7700 {100000 + i}" for i in range(N)], "pii"),
        ("phone_number", (447700000000 + np.arange(N)).tolist(), "pii"),
        ("email", [f"p{i}@example.org" for i in range(N)], "pii"),
        ("last_name", [f"Name{chr(65 + i % 26)}x{'abc'[i % 3]}" for i in range(N)], "pii"),
    ],
)
def test_a_name_is_personal_data_when_its_values_can_be(name, values, role):
    """A name holding a personal-data word makes a column personal data only when its
    values can be that data: an e-mail open rate or minutes on the phone are behaviour."""
    assert _role(values, name).role == role


def test_an_outcome_of_two_named_levels_and_a_glued_client_number():
    """Kaggle's bank churners: ``Attrition_Flag`` holds "Attrited Customer" and "Existing
    Customer" — an outcome, yes for the level that names it; ``CLIENTNUM`` is an id. Two
    levels that do not say which is yes, as often as each other, stay a category."""
    n = 300
    values = np.random.default_rng(1).permutation(10**8)[:n] + 7 * 10**8
    flags = _cycle(["Existing Customer"] * 5 + ["Attrited Customer"], n)
    users = pd.DataFrame({"CLIENTNUM": values, "Attrition_Flag": flags})
    schema = Schema.infer(users)
    assert schema["CLIENTNUM"].role == "id"
    spec = schema["Attrition_Flag"]
    assert spec.role == "outcome" and spec.params["true_values"] == ["Attrited Customer"]
    report = personas.validate(users)
    assert report.data["Attrition_Flag"].sum() == n // 6
    assert _role(_cycle(["Gold", "Blue"]), "Churn").role == "categorical"


@pytest.mark.parametrize(
    ("name", "levels", "yes"),
    [("Churn", ["Stayed", "Left"], "Left"), ("Exited", ["Retained", "Exited"], "Exited"),
     ("converted", ["Not converted", "Converted"], "Converted"),
     ("response", ["No response", "Responded"], "Responded"),
     ("subscribed", ["failure", "success"], "success"),
     ("churn", ["Active", "Not active"], "Not active"),
     ("default", ["Payer", "Non-payer"], "Non-payer"), ("target", ["B", "A"], "A")],
)  # fmt: skip
def test_outcome_levels_that_are_not_yes_and_no(name, levels, yes):
    """The two levels of an outcome say which is yes: a result or the outcome's word, or
    the other's negation or staying word; when nothing says it, the rarer (and the reason
    says so)."""
    values = _cycle([levels[0]] * 3 + [levels[1]])
    values[1:4] = [None, "n/a", None]  # (missing values are no third level)
    spec = _role(values, name)
    assert spec.role == "outcome" and spec.params["true_values"] == [yes], spec.reason
    assert ("the rarer is taken" in spec.reason) == (name in ("target", "default"))


@pytest.mark.parametrize(
    ("name", "values"),
    [("Kündigung", ["ja", "nein"]), ("Résiliation", ["oui", "non"]), ("disdetta", [1, 0]),
     ("opzegging", [True, False]), ("baja_cliente", ["si", "no"])],
)  # fmt: skip
def test_outcomes_are_named_in_seven_languages(name, values):
    assert _role(_cycle(values), name).role == "outcome"
