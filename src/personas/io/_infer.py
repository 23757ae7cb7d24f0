"""Infer the role of each column from its name and content, with the reason for the choice.

Checks run on a column's *distinct* values weighted by their counts (``value_counts``), so
a 10M-row column with 40 levels costs one hash pass, and pattern checks on columns with
many distinct values look at a fixed-size sample of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from personas._words import load
from personas.io import _dates, _names
from personas.io._numbers import decimal_mark, is_number_text, read_numbers

__all__ = ["DEFAULT_MISSING", "ColumnFacts", "infer_column"]

_VALUES = load("values")["table"]  # (personas/words/values.toml)
#: Values read as missing in text columns (compared case-insensitively, after stripping).
DEFAULT_MISSING = list(_VALUES["missing"])
BOOLEAN_PAIRS = [(set(pair["true"]), set(pair["false"])) for pair in _VALUES["booleans"]]
_LEVELS = load("values")["outcome"]  # (the two levels of an outcome that are not yes/no)
YES_LEVEL, NO_LEVEL, NEGATIONS = set(_LEVELS["yes"]), set(_LEVELS["no"]), set(_LEVELS["negations"])
_EMAIL = re.compile(r"^[\w.+'-]+@[\w-]+(\.[\w-]+)+$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,22}$")
_PERSON = re.compile(r"^[A-Z][a-zà-ÿ'’-]+(?:[ -][A-Z][a-zà-ÿ'’.-]*){1,3}$")
_LEADING_ZERO = re.compile(r"^0\d")
_DATE_START = re.compile(r"^\d{1,4}[-/.]\d|^\d{8}\b")
_DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b")

SAMPLE_DISTINCT = 20_000
MAX_CATEGORIES = 50
PATTERN_SHARE = 0.95
PII_SHARE = 0.9


@dataclass
class ColumnFacts:
    """What inference decided for one column (the schema stores it as a ColumnSpec)."""

    role: str
    reason: str
    params: dict[str, Any]


def _share(mask: np.ndarray, weights: np.ndarray) -> float:
    total = weights.sum()
    return float(weights[mask].sum() / total) if total else 0.0


def read_dates(values: pd.Series, fmt: str) -> pd.Series:
    """``values`` read with the form ``fmt`` (NaT where they do not fit it, or give a
    year before 1900: "2/8/16" with %Y is no date of ours)."""
    parsed = pd.to_datetime(values, format=fmt, errors="coerce", utc=True).dt.tz_localize(None)
    return parsed.where(parsed.dt.year >= 1900)


def _try_dates(
    values: pd.Series, weights: np.ndarray, name: str, order: str | None, every: pd.Series
) -> tuple[str | None, str | None]:
    """The date form of most of ``values`` (weighted) and the note on the order of day
    and month (see :mod:`personas.io._dates`); when they read both ways, ``every``
    distinct value of the column decides."""
    head = values.iloc[:50]  # the forms that read the first values, then the sample
    if head.str.match(_DATE_START).mean() < 0.9:
        return None, None  # (dates start with digits and a separator, or yyyymmdd)
    total = max(float(weights.sum()), 1.0)
    iso = read_dates(head, "ISO8601").notna().mean() >= 0.9  # (2024-10-18T00:00:00.000Z too)
    if (
        iso
        and weights[read_dates(values, "ISO8601").notna().to_numpy()].sum() >= PATTERN_SHARE * total
    ):
        return "ISO8601", None
    forms = [f for f in _dates.TABLE_FORMATS if read_dates(head, f).notna().mean() >= 0.9]
    read = {f: float(weights[read_dates(values, f).notna().to_numpy()].sum()) for f in forms}
    fmt, note = _dates.decide(read, total, name, order, least=PATTERN_SHARE)
    if note and len(every) > len(values):  # (a value such as 04/25/2024 past the sample)
        both = (fmt, _dates.other_order(fmt))
        counts = {f: float(read_dates(every, f).notna().sum()) for f in both}
        if counts[both[0]] != counts[both[1]]:
            return max(both, key=counts.__getitem__), None
    return fmt, note


def _multi_label(values: pd.Series, weights: np.ndarray) -> tuple[str | None, int]:
    for sep in (";", "|", ","):
        has = values.str.contains(sep, regex=False).to_numpy()
        if _share(has, weights) < 0.1:
            continue
        parts = values.str.split(sep, regex=False)
        lengths = parts.str.len().to_numpy()
        toks = pd.Series([t.strip() for p in parts for t in p if t.strip()], dtype=object)
        n_tok = toks.nunique()
        if n_tok == 0 or n_tok > 200 or np.average(lengths, weights=weights) > 8:
            continue
        if toks.str.split().str.len().mean() > 3:  # tokens are phrases: free text
            continue
        if n_tok < max(2, 0.5 * len(values)) or n_tok <= 60:
            return sep, int(n_tok)
    return None, 0


def infer_column(name: str, series: pd.Series, **options: Any) -> ColumnFacts:
    """Decide the role of one column.

    ``options``: ``n_rows``, ``missing_values``, ``max_categories``, ``random_state``,
    ``date_order``. A yes/no column named for an outcome (``Churn``, ``Exited``) is an
    ``outcome``: the segments are to explain it, not be found on it.

    Returns
    -------
    ColumnFacts
        The role, a sentence saying why, and the parameters needed to read it (date
        format, boolean spellings, decimal mark, the missing-value tokens it holds).
    """
    facts = _infer_column(name, series, **options)
    if facts.role == "categorical" and _names.is_outcome_name(name):
        facts = _outcome_levels(series, facts)  # ("Attrited Customer" / "Existing Customer")
    if facts.role == "boolean" and _names.is_outcome_name(name):
        facts.role = "outcome"
        facts.reason = (
            f"{facts.reason}; the name says an outcome: described per segment, not used to "
            "find them (name it in --basis to use it)"
        )
    return facts


def _outcome_levels(series: pd.Series, facts: ColumnFacts) -> ColumnFacts:
    """A column of two levels named for an outcome, read as yes or no when the levels
    say which: a level naming the outcome or a result ("Attrited Customer", "Left",
    "success") or negating a staying word ("Not active") is yes; one with a staying word
    ("Existing Customer", "Stayed") or negating the outcome ("No response", "Not
    converted") is no. When they say nothing ("A"/"B", "Payer"/"Non-payer"), the rarer
    is yes, as churners, responders and buyers mostly are (the reason says so); two
    levels as frequent as each other stay as they are."""
    missing = set(facts.params.get("missing_tokens", {}))
    text = series.dropna().astype(str).str.strip()
    counts = text[~text.isin(missing)].value_counts()
    levels = list(counts.index)
    if len(levels) != 2:
        return facts
    yes_like, no_like = [], []
    for level in levels:
        words = set(_names.tokens(level))
        negated = bool(words & NEGATIONS)
        result, staying = bool(words & (_names.OUTCOME_WORDS | YES_LEVEL)), bool(words & NO_LEVEL)
        yes_like.append((result and not negated) or (staying and negated))
        no_like.append((staying and not negated) or (result and negated))
    how = ""
    if yes_like.count(True) == 1 and not no_like[yes_like.index(True)]:
        yes = levels[yes_like.index(True)]
    elif no_like.count(True) == 1:  # ("Not converted" / "Converted")
        yes = levels[1 - no_like.index(True)]
    elif counts.iloc[0] != counts.iloc[1]:
        yes = levels[1]  # (value_counts: the rarer last)
        how = (
            "; they do not say which is yes: the rarer is taken (set true_values in the "
            "schema file if the other is)"
        )
    else:
        return facts
    no = levels[1 - levels.index(yes)]
    params = facts.params | {"true_values": [yes], "false_values": [no]}
    return ColumnFacts("boolean", f"two levels: {yes!r} (yes) and {no!r}{how}", params)


def _infer_column(
    name: str,
    series: pd.Series,
    *,
    n_rows: int,
    missing_values: list[str],
    max_categories: int = MAX_CATEGORIES,
    random_state: int = 0,
    date_order: str | None = None,
) -> ColumnFacts:
    rng = np.random.default_rng(random_state)
    params: dict[str, Any] = {}
    pii_name = _names.pii_kind(name, whole=True) or _pii_by_name(_names.pii_kind(name), series)

    if pd.api.types.is_bool_dtype(series):
        if series.isna().all():
            return ColumnFacts("ignore", f"all {n_rows} values are missing", params)
        return ColumnFacts("boolean", "stored as true/false", params)
    if pd.api.types.is_datetime64_any_dtype(series):
        nn = series.dropna()
        if nn.empty:
            return ColumnFacts("ignore", f"all {n_rows} values are missing", params)
        if pii_name:
            return ColumnFacts("pii", f"name says {pii_name}; never used, never shown", params)
        return ColumnFacts("datetime", "stored as dates/times", params)
    if pd.api.types.is_numeric_dtype(series):
        return _infer_numeric(name, series, n_rows=n_rows, pii_name=pii_name, params=params)

    # Text (or mixed objects): everything below looks at distinct values and their counts.
    if pii_name:
        if series.isna().all():
            return ColumnFacts("ignore", f"all {n_rows} values are missing", params)
        return ColumnFacts("pii", f"name says {pii_name}; never used, never shown", params)
    try:
        vc = series.value_counts(dropna=True)
    except TypeError:  # unhashable values (lists, dicts): compare their text
        vc = series.dropna().astype(str).value_counts()
    raw_keys = pd.Series(vc.index, dtype=object).astype(str)
    counts = vc.to_numpy(dtype=np.int64)
    stripped = raw_keys.str.strip()
    missing_set = {m.lower() for m in missing_values}
    is_tok = stripped.str.lower().isin(missing_set).to_numpy()
    if is_tok.any():
        found = pd.Series(counts[is_tok]).groupby(stripped[is_tok].to_numpy(), sort=False).sum()
        params["missing_tokens"] = {str(k): int(v) for k, v in found.items()}
    keep = ~is_tok
    if is_tok.any() or not (stripped == raw_keys).all():
        merged = pd.Series(counts[keep]).groupby(stripped[keep].to_numpy(), sort=False).sum()
        all_values = pd.Series(merged.index.astype(str), dtype=object)
        all_weights = merged.to_numpy(dtype=np.float64)
    else:
        all_values, all_weights = stripped, counts.astype(np.float64)
    n_nonmissing = int(all_weights.sum())
    if n_nonmissing == 0:
        tokens = list(params.get("missing_tokens", {}))
        what = f" (only {', '.join(repr(k) for k in tokens[:3])})" if tokens else ""
        return ColumnFacts("ignore", f"all {n_rows} values are missing{what}", params)
    values, weights = all_values, all_weights
    if len(values) > SAMPLE_DISTINCT:
        pick = rng.choice(len(values), SAMPLE_DISTINCT, replace=False)
        values, weights = values.iloc[pick].reset_index(drop=True), weights[pick]
    n_unique = len(all_values)
    unique_ratio = n_unique / n_nonmissing

    if _share(values.str.match(_EMAIL).to_numpy(), weights) >= PII_SHARE:
        return ColumnFacts("pii", "values look like e-mail addresses; never used, never shown", {})
    digits = values.str.count(r"\d")
    phone_like = (
        values.str.match(_PHONE)
        & digits.between(7, 15)
        & values.str.contains(r"[+\s().-]")
        & ~values.str.match(_DATE_LIKE)
    )
    if _share(phone_like.to_numpy(), weights) >= PII_SHARE and unique_ratio > 0.5:
        return ColumnFacts("pii", "values look like phone numbers; never used, never shown", {})
    if _share(values.str.match(_PERSON).to_numpy(), weights) >= PII_SHARE and (
        unique_ratio >= 0.5 or n_unique >= 1000
    ):
        return ColumnFacts(
            "pii", "values look like people's names (first and last); never used, never shown", {}
        )

    if _names.is_id_name(name) and (unique_ratio >= 0.5 or _names.names_a_user(name)):
        dup = n_nonmissing - n_unique
        why = "name says identifier and every value is unique"
        if dup:
            why = f"name says identifier; {dup} value(s) repeat"
        return ColumnFacts("id", why, params)

    lower_vals = set(values.str.lower())
    if n_unique == 1:
        only = values.iloc[0]
        return ColumnFacts(
            "ignore",
            f"constant: every non-missing value is {only!r}"
            + (
                f" ({n_rows - n_nonmissing} missing: if missing means 'no', declare "
                "role = 'boolean' in the schema file)"
                if n_nonmissing < n_rows
                else ""
            ),
            params,
        )
    for trues, falses in BOOLEAN_PAIRS:
        if lower_vals <= trues | falses and lower_vals & trues and lower_vals & falses:
            params["true_values"] = sorted(v for v in values.unique() if v.lower() in trues)
            params["false_values"] = sorted(v for v in values.unique() if v.lower() in falses)
            shown = "/".join(params["true_values"] + params["false_values"])
            return ColumnFacts("boolean", f"two values spelled {shown}", params)

    # Numbers stored as text (stray blanks, thousands separators, decimal commas).
    leading_zero = _share(values.str.match(_LEADING_ZERO).to_numpy(), weights)
    is_num = is_number_text(values)
    num_share = _share(is_num.to_numpy(), weights)
    if num_share >= PATTERN_SHARE and leading_zero < 0.1 and not _names.keep_as_text(name):
        if decimal_mark(values[is_num.to_numpy()]) == ",":
            params["decimal"] = ","
        decimal = params.get("decimal", ".")
        parsed = read_numbers(all_values, decimal, strict=True).to_numpy()
        bad = int(all_weights[np.isnan(parsed)].sum())
        full = pd.Series(np.repeat(parsed, all_weights.astype(np.int64)))
        facts = _infer_numeric(
            name, full, n_rows=n_rows, pii_name=None, params=params, from_text=True
        )
        if bad:
            facts.params["non_numeric"] = bad
            facts.reason += f"; {bad} value(s) are not numbers"
        return facts

    date_sample = values if len(values) <= 2000 else values.iloc[:2000]
    fmt, note = _try_dates(date_sample, weights[: len(date_sample)], name, date_order, all_values)
    if fmt:
        params["format"] = fmt
        reason = f"dates written as {fmt}"
        if note:
            params["date_note"] = note
            reason += f" ({note.split(': ', 1)[1].split(' (--date-order')[0]})"
        return ColumnFacts("datetime", reason, params)

    if (
        unique_ratio == 1.0
        and n_nonmissing >= 20
        and not values.str.contains(r"\s").any()
        and num_share < 0.5
    ):
        return ColumnFacts("id", "every value is unique (a key)", params)

    words = values.str.split().str.len().to_numpy()
    avg_words = float(np.average(words, weights=weights))
    avg_len = float(np.average(values.str.len().to_numpy(), weights=weights))
    if n_unique > max_categories and (avg_words >= 4 or avg_len >= 40):
        return ColumnFacts("text", f"free text (about {avg_words:.0f} words a value)", params)
    sep, n_tok = _multi_label(values, weights)
    if sep:
        params["separator"] = sep
        return ColumnFacts("multi_label", f"lists of {n_tok} labels separated by {sep!r}", params)
    if n_unique <= max_categories and (unique_ratio <= 0.5 or n_nonmissing < 2 * max_categories):
        return ColumnFacts("categorical", f"{n_unique} distinct values", params)
    return ColumnFacts(
        "high_cardinality",
        f"{n_unique} distinct values (more than {max_categories}): describes segments, "
        "not used to find them",
        params,
    )


def _pii_by_name(kind: str | None, series: pd.Series) -> str | None:
    """The kind of personal data a column's name holds a word of (``email_open_rate``), when
    its values can be that too: an e-mail open rate, minutes on the phone or a yes/no flag
    about e-mails are not an address or a number to call (a name that is nothing but the
    word, ``email``, is personal data whatever its values). Numbers are personal data only
    as phone, card or national numbers and dates of birth (whole numbers of 7 digits or
    more); text must hold "@" for e-mail addresses, 7 digits for phone numbers, no digit
    for names."""
    sample = series.dropna().head(1000)
    if kind is None or sample.empty:
        return kind
    if pd.api.types.is_bool_dtype(sample):
        return None
    if pd.api.types.is_numeric_dtype(sample):
        values = np.abs(sample.to_numpy(dtype=np.float64))
        big_whole = bool(np.all(np.mod(values, 1) == 0)) and float(np.median(values)) >= 1e6
        numbered = ("phone number", "national id", "payment card or bank account", "date of birth")
        return kind if kind in numbered and big_whole else None
    if pd.api.types.is_datetime64_any_dtype(sample):
        return kind
    text = sample.astype(str).str.strip()
    looks = {
        "e-mail address": text.str.contains("@", regex=False),
        "phone number": text.str.count(r"\d") >= 7,
        "person's name": ~text.str.contains(r"\d"),
    }
    return kind if kind not in looks or looks[kind].mean() >= 0.5 else None


def _infer_numeric(
    name: str,
    series: pd.Series,
    *,
    n_rows: int,
    pii_name: str | None,
    params: dict[str, Any],
    from_text: bool = False,
) -> ColumnFacts:
    is_int_dtype = pd.api.types.is_integer_dtype(series)
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = values[np.isfinite(values)]
    how = "numbers stored as text" if from_text else "numbers"
    if pii_name:
        return ColumnFacts("pii", f"name says {pii_name}; never used, never shown", params)
    if finite.size == 0:
        if np.isinf(values).any():
            return ColumnFacts("ignore", "every value is infinite or missing", params)
        return ColumnFacts("ignore", f"all {n_rows} values are missing", params)
    uniq = np.unique(finite)
    integer = bool(np.all(np.mod(uniq, 1) == 0))
    if uniq.size == 1:
        return ColumnFacts("ignore", f"constant: every non-missing value is {uniq[0]:g}", params)
    if uniq.size == 2 and set(uniq.tolist()) == {0.0, 1.0}:
        return ColumnFacts("boolean", f"{how}: only 0 and 1", params)
    n_nonmissing = int(np.isfinite(values).sum())
    if integer and _names.is_id_name(name) and uniq.size >= 0.5 * n_nonmissing:
        return ColumnFacts("id", "name says identifier (integer key)", params)
    if integer and uniq.size == n_nonmissing and n_nonmissing >= 20 and is_int_dtype:
        lo, hi = uniq[0], uniq[-1]
        if hi - lo + 1 == uniq.size:
            return ColumnFacts("id", "consecutive unique integers (a row number or key)", params)
    if integer and _names.is_date_name(name) and uniq[0] >= 19000101 and uniq[-1] <= 21001231:
        parsed = pd.to_datetime(
            pd.Series(uniq.astype(np.int64).astype(str)), format="%Y%m%d", errors="coerce"
        )
        if parsed.notna().mean() >= PATTERN_SHARE:
            params["format"] = "%Y%m%d"
            return ColumnFacts("datetime", "dates written as yyyymmdd numbers", params)
    if integer and _names.is_code_name(name) and uniq.size <= MAX_CATEGORIES:
        params["codes"] = True
        return ColumnFacts(
            "categorical",
            f"integer codes ({uniq.size} distinct values; the name says it labels a kind)",
            params,
        )
    return ColumnFacts("numeric", how, params)
