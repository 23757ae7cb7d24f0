"""Actionable insights: a playbook of rules mapping segment evidence to suggested actions.

Evidence is a small set of *signals* per segment (value share, churn rate, recency, tenure,
activity, free-plan share, discount affinity), computed from the columns whose meaning is
known — from their names, or from the playbook's ``[columns]`` table. A rule fires when
all its conditions hold; a rule needing a signal the data cannot give never fires and is
reported as not assessed, so no insight claims what the data cannot show.

The default playbook is ``playbook.toml`` next to this module; a user playbook adds rules,
replaces those with the same id, or replaces the whole list (``replace = true``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from personas._words import load
from personas.errors import SchemaError
from personas.interpret._profiles import outcome_rate
from personas.interpret._segments import NumberProfile, Segment
from personas.io._names import tokens
from personas.io._schema import Schema

__all__ = ["Insight", "Playbook", "derive_insights", "segment_signals"]

SIGNALS = (
    "size_share",
    "value_share",
    "value_index",
    "churn_rate",
    "churn_index",
    "recency_effect",
    "tenure_effect",
    "activity_effect",
    "free_share",
    "free_index",
    "discount_effect",
    "trend_effect",
    "outcome_rate",
    "outcome_overall",
    "outcome_index",
    "outcome_separation",
    "outcome_risk",
)
NAMES = ("outcome",)  # columns a rule's title, action and because may name
PRIORITIES = {"high": 3, "medium": 2, "low": 1}
_CONDITION = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")

# What a column's name says about its meaning (documented in docs/guide/playbook.md):
# personas/words/signals.toml, and the churn levels of personas/words/values.toml.
_SIGNALS = load("signals")
VALUE_TOKENS = [set(tier) for tier in _SIGNALS["value"]]  # realised value first, then estimates
CHURN_TOKENS = set(_SIGNALS["churn"])
CHURN_STATUS_TOKENS = set(_SIGNALS["churn_status"])
CHURN_LEVELS = set(load("values")["churn"]["levels"])
STATUS_CHURN_LEVELS = set(load("values")["churn"]["status_levels"])
RECENCY_FIRST = set(_SIGNALS["recency_first"])
ACTIVITY_TOKENS = set(_SIGNALS["activity"])
TREND_TOKENS = set(_SIGNALS["trend"])
TENURE_TOKENS = set(_SIGNALS["tenure"])
# Composition shares, model helpers and forecasts are never read as value, tenure or activity.
NOT_A_MEANING = set(_SIGNALS["not_a_meaning"])
PLAN_TOKENS = set(_SIGNALS["plan"])
FREE_LEVELS = re.compile(rf"\b({'|'.join(_SIGNALS['free_levels'])})\b", re.I)
DISCOUNT_TOKENS = set(_SIGNALS["discount"])
# An outcome to contain rather than to seek (default, fraud; churn has its own signals)
RISK_OUTCOME_TOKENS = set(_SIGNALS["risk_outcome"]) | CHURN_TOKENS


def _discounty(text: str) -> bool:
    return bool(set(tokens(text)) & DISCOUNT_TOKENS)


@dataclass
class Insight:
    segment: int
    segment_name: str
    rule: str
    title: str
    action: str
    priority: str
    because: str
    evidence: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "segment_name": self.segment_name,
            "rule": self.rule,
            "title": self.title,
            "action": self.action,
            "priority": self.priority,
            "because": self.because,
            "evidence": {k: round(v, 4) for k, v in self.evidence.items()},
        }


@dataclass
class _Rule:
    id: str
    title: str
    action: str
    priority: str
    when: list[tuple[str, str, float]]
    because: str


class Playbook:
    """Rules (and optional column meanings) read from TOML; see ``playbook.toml``."""

    def __init__(self, rules: list[_Rule], columns: dict[str, str] | None = None):
        self.rules = rules
        self.columns = columns or {}

    @classmethod
    def default(cls) -> Playbook:
        text = resources.files("personas.interpret").joinpath("playbook.toml").read_text("utf-8")
        return cls.from_toml(text, source="the default playbook")

    @classmethod
    def from_toml(cls, text: str, *, source: str) -> Playbook:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise SchemaError(f"{source} is not valid TOML: {e}. Fix the line it names.") from e
        unknown = set(doc) - {"rule", "columns", "replace"}
        if unknown:
            raise SchemaError(
                f"{source} has unknown top-level key(s) {sorted(unknown)}; expected "
                "[[rule]] entries, a [columns] table and `replace`."
            )
        rules = [_parse_rule(r, source, i) for i, r in enumerate(doc.get("rule", []))]
        columns = doc.get("columns", {})
        known = {"value", "churn", "recency", "tenure", "plan", "activity", "trend", "outcome"}
        bad = set(columns) - known
        if bad:
            raise SchemaError(
                f"{source}: unknown [columns] key(s) {sorted(bad)}; use value, churn, recency, "
                "tenure, plan, activity, trend or outcome (activity and trend take lists)."
            )
        book = cls(rules, columns)
        book.replace = bool(doc.get("replace", False))
        return book

    @classmethod
    def load(cls, path: str | Path | None) -> Playbook:
        """The default playbook, merged with a user's TOML file when one is given."""
        book = cls.default()
        if path is None:
            return book
        path = Path(path)
        if not path.is_file():
            raise SchemaError(f"Playbook file {path} does not exist. Give the path of a TOML file.")
        user = cls.from_toml(path.read_text("utf-8"), source=path.name)
        if user.replace:
            return cls(user.rules, user.columns)
        ids = {r.id for r in user.rules}
        return cls([r for r in book.rules if r.id not in ids] + user.rules, user.columns)


def _parse_rule(doc: dict[str, Any], source: str, i: int) -> _Rule:
    where = f"{source}, rule {doc.get('id', i + 1)!r}"
    missing = [k for k in ("id", "title", "action", "when") if k not in doc]
    if missing:
        raise SchemaError(f"{where} lacks {missing}; every rule needs id, title, action, when.")
    priority = doc.get("priority", "medium")
    if priority not in PRIORITIES:
        raise SchemaError(f"{where}: priority {priority!r} is not one of high, medium, low.")
    when = []
    for cond in doc["when"]:
        m = _CONDITION.match(str(cond))
        if not m or m.group(1) not in SIGNALS:
            raise SchemaError(
                f"{where}: cannot read the condition {cond!r}. Write '<signal> <op> <number>' "
                f"with op one of >=, <=, >, <, == and a signal among {list(SIGNALS)}."
            )
        when.append((m.group(1), m.group(2), float(m.group(3))))
    because = doc.get("because", "")
    for name in re.findall(r"{(\w+)", because):
        if name not in SIGNALS + NAMES:
            raise SchemaError(
                f"{where}: `because` refers to {name!r}, which is not a signal or one of "
                f"{list(NAMES)}."
            )
    return _Rule(doc["id"], doc["title"], doc["action"], priority, when, because)


# ----------------------------------------------------------------------------- signals


def find_meanings(
    data: pd.DataFrame, schema: Schema, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Which columns stand for value, churn, recency, tenure, plan and activity.

    A column named in the playbook's ``[columns]`` table wins; otherwise names decide
    (see the module's token lists), and a churn column must hold a "churned" value.
    """
    overrides = overrides or {}
    for key, col in overrides.items():
        for c in col if isinstance(col, list) else [col]:
            if c not in schema.columns:
                raise SchemaError(
                    f"The playbook names {c!r} as the {key} column, but the table has no such "
                    "column. Fix the name in its [columns] table."
                )
    roles = {
        name: spec.role
        for name, spec in schema.columns.items()
        if name in data.columns and not set(tokens(name)) & NOT_A_MEANING
    }
    numeric = [c for c, r in roles.items() if r == "numeric"]

    def named(allowed: tuple[str, ...], words: set[str]) -> list[str]:
        return [c for c, r in roles.items() if r in allowed and set(tokens(c)) & words]

    found: dict[str, Any] = {"value": overrides.get("value")}
    if found["value"] is None:
        found["value"] = _first_by_tokens(numeric, VALUE_TOKENS)
    churn = overrides.get("churn")
    if churn is None:
        candidates = named(("outcome", "boolean", "categorical"), CHURN_TOKENS) + named(
            ("categorical",), CHURN_STATUS_TOKENS
        )
        churn = next((c for c in candidates if _churn_flag(data[c]) is not None), None)
    found["churn"] = churn
    outcomes = [c for c, r in roles.items() if r == "outcome" and c != churn]
    found["outcome"] = overrides.get("outcome") or outcomes
    found["recency"] = overrides.get("recency") or next(
        iter(named(("datetime", "numeric"), RECENCY_FIRST)), None
    )
    found["tenure"] = overrides.get("tenure") or next(
        iter(
            named(("datetime", "numeric"), {"tenure"})
            + named(("datetime", "numeric"), TENURE_TOKENS)
        ),
        None,
    )
    found["plan"] = overrides.get("plan") or next(iter(named(("categorical",), PLAN_TOKENS)), None)
    trend = overrides.get("trend")
    if trend is None:
        trend = named(("numeric",), TREND_TOKENS)
    found["trend"] = list(trend if isinstance(trend, list) else [trend])
    activity = overrides.get("activity")
    if activity is None:
        activity = [
            c
            for c in named(("numeric",), ACTIVITY_TOKENS)
            if c != found["value"] and c not in found["trend"]
        ]
    found["activity"] = list(activity if isinstance(activity, list) else [activity])
    return found


def _first_by_tokens(columns: list[str], tiers: list[set[str]]) -> str | None:
    """The first column matching the most specific tier; a total beats a rate."""
    for tier in tiers:
        hits = [
            c
            for c in columns
            if set(tokens(c)) & tier and not set(tokens(c)) & {"count", "number", "n"}
        ]
        totals = [c for c in hits if set(tokens(c)) & {"total", "lifetime", "sum", "cumulative"}]
        if totals or hits:
            return (totals or hits)[0]
    return None


def segment_signals(
    data: pd.DataFrame,
    schema: Schema,
    labels: np.ndarray,
    segments: list[Segment],
    meanings: dict[str, Any],
) -> tuple[list[dict[str, float]], dict[str, str]]:
    """Per segment, the signals the data can give; and, for each missing one, why not.
    ``meanings["outcome"]`` becomes the one outcome column the signals speak of."""
    labels = np.asarray(labels)
    k = len(segments)
    sizes = np.bincount(labels, minlength=k).astype(float)
    n = max(float(sizes.sum()), 1.0)
    out: list[dict[str, float]] = [{"size_share": float(sizes[s] / n)} for s in range(k)]
    why_not: dict[str, str] = {}

    def effect(seg: Segment, col: str) -> float | None:
        entry = seg.entry(col)
        return float(entry.effect) if isinstance(entry, NumberProfile) else None

    value = meanings.get("value")
    if value:
        v = pd.to_numeric(data[value], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        v = np.where(np.isfinite(v), v, 0.0)
        total, mean_all = v.sum(), v.mean() if len(v) else 0.0
        sums = np.bincount(labels, weights=v, minlength=k)
        for s in range(k):
            if total > 0:
                out[s]["value_share"] = float(sums[s] / total)
            if mean_all > 0 and sizes[s]:
                out[s]["value_index"] = float((sums[s] / sizes[s]) / mean_all)
    else:
        why_not["value"] = (
            "no value column was found (a numeric column named like revenue, spend, sales, "
            "charges, amount or CLV); name one in the playbook's [columns] table"
        )
    churn = meanings.get("churn")
    if churn:
        flag = _churn_flag(data[churn])
        if flag is None:
            why_not["churn"] = (
                f"column {churn!r} has no value meaning 'churned' (e.g. yes, cancelled)"
            )
        else:
            ok = ~np.isnan(flag)
            rate_all = float(np.nanmean(flag)) if ok.any() else 0.0
            for s in range(k):
                m = (labels == s) & ok
                if m.any():
                    out[s]["churn_rate"] = float(flag[m].mean())
                    if rate_all > 0:
                        out[s]["churn_index"] = out[s]["churn_rate"] / rate_all
    else:
        why_not["churn"] = (
            "no churn or cancellation column was found (e.g. churned, cancelled, "
            "renewal_status); name one in the playbook's [columns] table"
        )
    for key, col in (("recency", meanings.get("recency")), ("tenure", meanings.get("tenure"))):
        if not col:
            why_not[key] = f"no {key} column was found"
            continue
        for s, seg in enumerate(segments):
            e = effect(seg, col)
            if e is not None:
                # Dates are profiled as days before as_of; numbers as themselves.
                out[s][f"{key}_effect"] = e
    acts = [c for c in meanings.get("activity", []) if c]
    if acts:
        for s, seg in enumerate(segments):
            values = [e for c in acts if (e := effect(seg, c)) is not None]
            if values:
                out[s]["activity_effect"] = float(np.mean(values))
    else:
        why_not["activity"] = "no activity column (visits, sessions, minutes, orders…) was found"
    trends = [c for c in meanings.get("trend", []) if c]
    if trends:
        for s, seg in enumerate(segments):
            values = [e for c in trends if (e := effect(seg, c)) is not None]
            if values:
                out[s]["trend_effect"] = float(np.mean(values))
    else:
        why_not["trend"] = "no trend column (named like trend, change or growth) was found"
    plan = meanings.get("plan")
    free = None
    if plan:
        text = data[plan].astype("string")
        free_levels = [v for v in text.dropna().unique() if FREE_LEVELS.search(str(v))]
        if free_levels:
            free = text.isin(free_levels).fillna(False).to_numpy(dtype=bool)
    if free is not None:
        share_all = free.mean()
        for s in range(k):
            m = labels == s
            if m.any():
                out[s]["free_share"] = float(free[m].mean())
                if share_all > 0:
                    out[s]["free_index"] = float(out[s]["free_share"] / share_all)
    else:
        why_not["free"] = "no plan column with a free or trial level was found"
    # (the outcome the signals speak of, by name, for the insights' text)
    meanings["outcome"] = _outcome_signals(
        data, labels, k, meanings.get("outcome"), meanings.get("churn"), out, why_not
    )
    found_discount = False
    for s, seg in enumerate(segments):
        best = None
        for p in seg.profile:
            if isinstance(p, NumberProfile):
                if _discounty(p.column):
                    best = max(best or -np.inf, float(p.effect))
                continue
            for level in p.over + p.under:
                if _discounty(str(level.value)):
                    best = max(best or -np.inf, float(level.effect))
            for level in p.top:
                if _discounty(str(level.value)) and level.share_all:
                    found_discount = True
        if best is not None:
            out[s]["discount_effect"] = best
            found_discount = True
    if found_discount:
        for s in range(k):
            out[s].setdefault("discount_effect", 0.0)
    else:
        why_not["discount"] = "no discount, coupon or deal column or level was found"
    return out, why_not


def _outcome_signals(data, labels, k, outcome, churn, out, why_not) -> str | None:
    """The outcome's signals in ``out``: its rate in each segment and overall, the lift,
    the separation (η²) and whether it is a risk to contain (default, fraud) rather than a
    result to seek (a response, a conversion). Of several outcome columns, the one the
    segments separate best; the playbook's ``[columns]`` ``outcome`` names one."""
    columns = outcome if isinstance(outcome, list) else [outcome] if outcome else []
    columns = [c for c in columns if c in data and _yes_no(data[c])]
    if isinstance(outcome, str) and not columns:  # (the one the playbook names)
        raise SchemaError(
            f"The playbook names {outcome!r} as the outcome column, but it does not hold "
            "yes/no values (true/false, 1/0). Name a yes/no column in its [columns] table."
        )
    found = [r for c in columns if (r := outcome_rate(data[c], labels, k))]
    if not found and not churn:  # (with churn: its own rules speak of the outcome)
        why_not["outcome"] = (
            "no outcome column besides churn was found (a yes/no column named like response, "
            "converted, subscribed or y; role = 'outcome' in the schema file makes one)"
        )
    if not found:
        return None
    best = max(found, key=lambda r: r["separation"])
    risk = float(bool(set(tokens(best["column"])) & RISK_OUTCOME_TOKENS))
    for s, entry in enumerate(best["segments"]):
        if entry["rate"] is None or entry["lift"] is None:
            continue
        out[s].update(
            outcome_rate=entry["rate"],
            outcome_overall=best["rate"],
            outcome_index=entry["lift"],
            outcome_separation=best["separation"],
            outcome_risk=risk,
        )
    return best["column"]


def _yes_no(values: pd.Series) -> bool:
    """Whether ``values`` are yes/no (booleans, or 1 and 0), some known."""
    numbers = pd.to_numeric(values, errors="coerce")
    return bool(numbers.notna().any() and numbers.dropna().isin([0, 1]).all())


def _churn_flag(s: pd.Series) -> np.ndarray | None:
    """1.0 where the user churned, 0.0 where not, NaN where unknown; None if unreadable.

    Yes/no and true/false columns count only when their name says churn; a status column
    (e.g. renewal_status) counts through levels such as "cancelled" or "churned".
    """
    churn_name = bool(set(tokens(str(s.name))) & CHURN_TOKENS)
    if pd.api.types.is_bool_dtype(s.dtype) or str(s.dtype) == "boolean":
        if not churn_name:
            return None
        return s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    text = s.astype("string").str.strip().str.lower()
    levels = set(text.dropna().unique())
    yes = levels & (CHURN_LEVELS if churn_name else STATUS_CHURN_LEVELS)
    if not yes or yes == levels:
        return None
    flag = text.isin(yes).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    flag[text.isna().to_numpy()] = np.nan
    return flag


# ----------------------------------------------------------------------------- rules


def derive_insights(
    signals: list[dict[str, float]],
    segments: list[Segment],
    playbook: Playbook,
    why_not: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Apply every rule to every segment; return insights, rules not assessed and limits.
    ``names``: the columns a rule's text may name (``{outcome}``)."""
    names = names or {}
    why_not = why_not or {}
    insights: list[Insight] = []
    not_assessed: list[dict[str, Any]] = []
    said: set[tuple[int, str]] = set()
    for rule in playbook.rules:
        needed = [name for name, _, _ in rule.when]
        absent = sorted({n for n in needed if all(n not in sig for sig in signals)})
        if absent:
            reasons = sorted({why_not.get(_family(n), f"{n} is not available") for n in absent})
            not_assessed.append(
                {"rule": rule.id, "title": rule.title, "needs": absent, "why": "; ".join(reasons)}
            )
            continue
        for seg, sig in zip(segments, signals, strict=True):
            if (seg.id, rule.title) in said:  # an alternative rule already said it
                continue
            if all(n in sig and _holds(sig[n], op, x) for n, op, x in rule.when):
                said.add((seg.id, rule.title))
                used = {n: sig[n] for n in needed}
                used.update({n: sig[n] for n in re.findall(r"{(\w+)", rule.because) if n in sig})
                insights.append(
                    Insight(
                        seg.id,
                        seg.name,
                        rule.id,
                        _format(rule.title, names),
                        _format(rule.action, names),
                        rule.priority,
                        _format(rule.because, sig | names),
                        used,
                    )
                )
    by_id = {seg.id: sig for seg, sig in zip(segments, signals, strict=True)}
    insights.sort(  # priority, then the value (or users) at stake
        key=lambda i: (
            -PRIORITIES[i.priority],
            -by_id[i.segment].get("value_share", by_id[i.segment]["size_share"]),
            i.segment,
        )
    )
    limits = [f"Not assessed: {why}." for why in sorted(set(why_not.values()))]
    return {
        "insights": [i.to_dict() for i in insights],
        "not_assessed": not_assessed,
        "limits": limits,
        "missing_signals": sorted(why_not),
        "signals": [{k: round(v, 4) for k, v in sig.items()} for sig in signals],
    }


def _family(signal: str) -> str:
    return signal.split("_")[0]


def _holds(value: float, op: str, x: float) -> bool:
    return {
        ">=": value >= x,
        "<=": value <= x,
        ">": value > x,
        "<": value < x,
        "==": value == x,
    }[op]


def _format(template: str, signals: dict[str, Any]) -> str:
    try:
        return template.format(**signals)
    except (KeyError, ValueError):
        return template


def segment_value(
    data: pd.DataFrame, labels: np.ndarray, k: int, meanings: dict[str, Any]
) -> list[dict[str, float]]:
    """Per segment, what it is worth and how it is slipping: share of revenue (the value
    column), mean CLV and probability of being alive (from ``personas profile --clv``),
    and the share that churned — each only when the table has the column."""
    labels = np.asarray(labels)
    out: list[dict[str, float]] = [{} for _ in range(k)]

    def numeric(col: str) -> np.ndarray:
        return pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    value = meanings.get("value")
    if value and value in data.columns:
        v = np.nan_to_num(numeric(value))
        total = v.sum()
        sums = np.bincount(labels, weights=v, minlength=k)
        for s in range(k):
            if total > 0:
                out[s]["revenue_share"] = float(sums[s] / total)
            out[s]["mean_value"] = float(sums[s] / max((labels == s).sum(), 1))
    for col, key in (("clv", "mean_clv"), ("p_alive", "mean_p_alive")):
        if col in data.columns:
            v = numeric(col)
            for s in range(k):
                sel = (labels == s) & np.isfinite(v)
                if sel.any():
                    out[s][key] = float(v[sel].mean())
    churn = meanings.get("churn")
    if churn and churn in data.columns:
        flag = _churn_flag(data[churn])
        if flag is not None:
            for s in range(k):
                sel = (labels == s) & ~np.isnan(flag)
                if sel.any():
                    out[s]["churn_share"] = float(flag[sel].mean())
    return out
