"""`make_users`: a realistic synthetic user table with planted segments.

Every column is drawn for all users at once (numpy and Arrow compute, no Python loop
over users), so a million users take a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from personas.datasets import _vocab

__all__ = ["ARCHETYPES", "Archetype", "make_users"]

MEMBERSHIPS = ["free", "basic", "premium", "family"]
DEVICES = ["mobile", "desktop", "tablet"]
CHANNELS = ["email", "sms", "push", "none"]
GENDERS = ["female", "male", "non-binary"]


@dataclass(frozen=True)
class Archetype:
    """The behaviour that defines one planted segment (rates are per year of activity)."""

    name: str
    weight: float
    age: tuple[float, float]  # mean, sd
    income: float  # median yearly income
    membership: tuple[float, float, float, float]  # free, basic, premium, family
    cancel: float  # share of paying members who cancelled renewal
    tenure: float  # median days since signup
    purchases: float  # purchases per year of activity
    order_value: float  # median order value
    sessions: float  # sessions per year of activity
    session_minutes: float  # median minutes per session
    web_share: float  # share of sessions on the website (the rest in the app)
    recency: float  # mean days since last activity
    device: tuple[float, float, float]  # mobile, desktop, tablet
    interests: tuple[str, ...]  # interests over-represented in the segment
    channel: tuple[float, float, float, float]  # email, sms, push, none
    opt_in: float


ARCHETYPES: list[Archetype] = [
    Archetype(
        name="Loyal premium",
        weight=0.13,
        age=(46, 9),
        income=78_000,
        membership=(0.03, 0.12, 0.8, 0.05),
        cancel=0.04,
        tenure=1_300,
        purchases=20,
        order_value=95,
        sessions=28,
        session_minutes=9,
        web_share=0.55,
        recency=6,
        device=(0.35, 0.55, 0.1),
        interests=("travel", "home", "food"),
        channel=(0.6, 0.1, 0.2, 0.1),
        opt_in=0.85,
    ),
    Archetype(
        name="Bargain hunters",
        weight=0.21,
        age=(38, 11),
        income=36_000,
        membership=(0.25, 0.68, 0.05, 0.02),
        cancel=0.15,
        tenure=700,
        purchases=16,
        order_value=21,
        sessions=17,
        session_minutes=5,
        web_share=0.65,
        recency=14,
        device=(0.6, 0.35, 0.05),
        interests=("deals", "fashion", "home"),
        channel=(0.45, 0.3, 0.15, 0.1),
        opt_in=0.75,
    ),
    Archetype(
        name="Engaged free browsers",
        weight=0.18,
        age=(27, 6),
        income=27_000,
        membership=(0.92, 0.06, 0.02, 0.0),
        cancel=0.3,
        tenure=420,
        purchases=1.5,
        order_value=30,
        sessions=60,
        session_minutes=15,
        web_share=0.2,
        recency=3,
        device=(0.88, 0.08, 0.04),
        interests=("gaming", "music", "tech"),
        channel=(0.1, 0.1, 0.65, 0.15),
        opt_in=0.4,
    ),
    Archetype(
        name="New users",
        weight=0.15,
        age=(33, 10),
        income=42_000,
        membership=(0.82, 0.14, 0.04, 0.0),
        cancel=0.05,
        tenure=22,
        purchases=10,
        order_value=45,
        sessions=70,
        session_minutes=6,
        web_share=0.5,
        recency=4,
        device=(0.55, 0.35, 0.1),
        interests=("fitness", "books"),
        channel=(0.5, 0.1, 0.25, 0.15),
        opt_in=0.6,
    ),
    Archetype(
        name="Lapsing high spenders",
        weight=0.11,
        age=(52, 8),
        income=66_000,
        membership=(0.05, 0.25, 0.65, 0.05),
        cancel=0.65,
        tenure=2_000,
        purchases=10,
        order_value=160,
        sessions=8,
        session_minutes=5,
        web_share=0.75,
        recency=150,
        device=(0.2, 0.7, 0.1),
        interests=("travel", "home"),
        channel=(0.75, 0.05, 0.05, 0.15),
        opt_in=0.55,
    ),
    Archetype(
        name="Dormant casuals",
        weight=0.22,
        age=(44, 14),
        income=39_000,
        membership=(0.8, 0.18, 0.02, 0.0),
        cancel=0.4,
        tenure=950,
        purchases=0.8,
        order_value=25,
        sessions=3,
        session_minutes=3,
        web_share=0.85,
        recency=240,
        device=(0.4, 0.5, 0.1),
        interests=("books", "food"),
        channel=(0.3, 0.1, 0.05, 0.55),
        opt_in=0.25,
    ),
    Archetype(
        name="Family planners",
        weight=0.12,
        age=(39, 6),
        income=61_000,
        membership=(0.08, 0.17, 0.2, 0.55),
        cancel=0.08,
        tenure=1_000,
        purchases=12,
        order_value=72,
        sessions=15,
        session_minutes=8,
        web_share=0.45,
        recency=18,
        device=(0.45, 0.3, 0.25),
        interests=("kids", "home", "food"),
        channel=(0.55, 0.25, 0.1, 0.1),
        opt_in=0.7,
    ),
    Archetype(
        name="Young mobile shoppers",
        weight=0.14,
        age=(22, 3),
        income=23_000,
        membership=(0.45, 0.5, 0.05, 0.0),
        cancel=0.25,
        tenure=300,
        purchases=11,
        order_value=27,
        sessions=40,
        session_minutes=7,
        web_share=0.08,
        recency=5,
        device=(0.95, 0.03, 0.02),
        interests=("fashion", "music", "gaming"),
        channel=(0.05, 0.15, 0.7, 0.1),
        opt_in=0.65,
    ),
]


def _archetypes(n_segments: int, rng: np.random.Generator) -> list[Archetype]:
    if n_segments <= len(ARCHETYPES):
        return ARCHETYPES[:n_segments]
    extra = []
    for i in range(n_segments - len(ARCHETYPES)):
        # Further segments: a known archetype with clearly shifted behaviour.
        base = ARCHETYPES[i % len(ARCHETYPES)]
        f = float(rng.choice([0.35, 2.8]))
        extra.append(
            Archetype(
                f"{base.name} (variant {i + 1})",
                base.weight * 0.8,
                base.age,
                base.income,
                base.membership,
                base.cancel,
                base.tenure * f,
                base.purchases / f,
                base.order_value * f,
                base.sessions * f,
                base.session_minutes / f,
                1 - base.web_share,
                min(base.recency * f, 300),
                base.device[::-1],
                base.interests,
                base.channel,
                base.opt_in,
            )
        )
    return ARCHETYPES + extra


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _strings(values: np.ndarray, table: list[str]) -> pa.Array:
    return pa.array(np.asarray(table, dtype=object)).take(pa.array(values))


def _with_missing(
    arr: np.ndarray | pa.Array, rng: np.random.Generator, rate: float
) -> pd.Series | np.ndarray:
    mask = rng.random(len(arr)) < rate
    if isinstance(arr, pa.Array):
        return pd.Series(pc.if_else(pa.array(mask), pa.nulls(len(arr), arr.type), arr), dtype="str")
    out = arr.astype(np.float64)
    out[mask] = np.nan
    return out


def make_users(
    n_users: int = 10_000,
    *,
    n_segments: int = 6,
    random_state: int | np.random.Generator | None = None,
    as_of: str | pd.Timestamp = "2025-06-30",
    days: int = 365,
    missing_rate: float = 0.03,
    weights: list[float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate a user table whose behaviour is driven by planted segments.

    Columns: ``user_id``; PII (``full_name``, ``email``, ``phone``: the tool must never use
    them); demographics (``age``, ``gender``, ``country``, ``city`` with a long tail,
    ``income``, skewed); behaviour over the last ``days`` before ``as_of``
    (``purchases``, ``total_spend``, ``avg_order_value``, ``website_visits``,
    ``sessions``, ``engagement_minutes``, ``last_active_date``); subscription
    (``membership_type``, ``renewal_status``, ``usage_frequency``, ``signup_date``);
    context (``device_type``, ``interests`` as "sports;music", ``preferred_channel``,
    ``marketing_opt_in`` spelled yes/no, ``feedback`` free text).

    Segments overlap (noise on every column), values go missing (``missing_rate`` for
    most attributes, four times as often for income; "unknown" stands for a missing
    gender now and then), money and counts are skewed, and a few ages are typos.

    Parameters
    ----------
    n_users : int
    n_segments : int, default 6
        Number of planted segments (the first ``n_segments`` of :data:`ARCHETYPES`;
        beyond 8, shifted variants of them).
    random_state : int, Generator or None
        Same value, same table.
    as_of : date-like, default "2025-06-30"
        The snapshot date; behaviour columns cover the ``days`` before it.
    days : int, default 365
    missing_rate : float, default 0.03
    weights : list of float, optional
        Relative segment sizes (default: each archetype's own weight).

    Returns
    -------
    users : pandas.DataFrame
        One row per user. ``users.attrs["personas_synthetic"]`` records ``as_of`` and
        ``days`` for :func:`make_events`.
    truth : pandas.DataFrame
        ``user_id``, ``segment`` (0..n_segments-1) and ``segment_name``: the planted
        segments, kept apart from ``users`` so no tool can use them by accident.

    Examples
    --------
    >>> from personas.datasets import make_users
    >>> users, truth = make_users(1000, random_state=0)
    >>> users.shape, truth["segment"].nunique()
    ((1000, 25), 6)
    """
    if not isinstance(n_users, (int, np.integer)) or n_users < 1:
        raise ValueError(f"n_users must be a positive integer, got {n_users!r}.")
    if not isinstance(n_segments, (int, np.integer)) or not 1 <= n_segments <= 24:
        raise ValueError(f"n_segments must be an integer from 1 to 24, got {n_segments!r}.")
    if not 0 <= missing_rate <= 0.2:
        raise ValueError(f"missing_rate must be between 0 and 0.2, got {missing_rate!r}.")
    rng = np.random.default_rng(random_state)
    arch = _archetypes(int(n_segments), rng)
    w = np.asarray(weights if weights is not None else [a.weight for a in arch], dtype=float)
    if w.shape != (len(arch),) or (w <= 0).any():
        raise ValueError(f"weights must be {len(arch)} positive numbers, got {weights!r}.")
    n = int(n_users)
    as_of = pd.Timestamp(as_of).normalize()
    seg = rng.choice(len(arch), size=n, p=w / w.sum())

    def p(attr: str) -> np.ndarray:
        return np.asarray([getattr(a, attr) for a in arch], dtype=float)[seg]

    # --- demographics
    age_mu, age_sd = np.asarray([a.age for a in arch], dtype=float)[seg].T
    age = np.clip(np.rint(rng.normal(age_mu, age_sd)), 16, 90)
    typo = rng.random(n) < 0.001
    age[typo] = np.where(rng.random(typo.sum()) < 0.5, 0, age[typo] + 100)
    gender = _pick(rng, np.tile([0.50, 0.47, 0.03], (n, 1)))
    gender_s = _strings(gender, GENDERS)
    country_w = np.asarray([c[1] for c in _vocab.COUNTRIES])
    country = rng.choice(len(country_w), size=n, p=country_w / country_w.sum())
    city = _cities(rng, country)
    income = np.round(np.exp(rng.normal(np.log(p("income")) + 0.006 * (age - 40), 0.42)), -2)

    # --- subscription and activity window
    tenure = np.clip(np.rint(np.exp(rng.normal(np.log(p("tenure")), 0.35))), 1, 3650)
    signup = as_of - pd.to_timedelta(tenure, unit="D")
    active_days = np.minimum(tenure, days)  # days in the window since signup
    recency = np.minimum(np.floor(rng.exponential(p("recency"))), active_days - 1)
    span = active_days - recency  # days from window start (or signup) to last activity
    year_share = span / 365.0
    membership = _pick(rng, np.asarray([a.membership for a in arch])[seg])
    paid = membership > 0
    cancelled = paid & (rng.random(n) < p("cancel"))
    renewal = np.where(~paid, 2, np.where(cancelled, 1, 0))

    # --- behaviour (over-dispersed counts, log-normal money and time)
    heterogeneity = rng.gamma(8.0, 0.125, n)
    purchases = rng.poisson(p("purchases") * year_share * heterogeneity)
    aov = np.exp(rng.normal(np.log(p("order_value")), 0.25))
    spend = np.round(purchases * aov * np.exp(rng.normal(0, 0.1, n)), 2)
    whale = rng.random(n) < 0.002
    spend[whale & (purchases > 0)] *= 8
    sessions = 1 + rng.poisson(p("sessions") * year_share * rng.gamma(10.0, 0.1, n))
    minutes = np.round(sessions * np.exp(rng.normal(np.log(p("session_minutes")), 0.25)), 1)
    visits = rng.binomial(sessions, p("web_share"))
    with np.errstate(divide="ignore", invalid="ignore"):
        avg_order = np.where(purchases > 0, np.round(spend / purchases, 2), np.nan)
    per_week = sessions / np.maximum(span / 7.0, 1.0)
    usage = np.select([per_week >= 4, per_week >= 1, per_week >= 0.25], [0, 1, 2], 3)
    last_active = as_of - pd.to_timedelta(recency + 1, unit="D")

    # --- context
    device = _pick(rng, np.asarray([a.device for a in arch])[seg])
    interests = _interests(rng, arch, seg)
    channel = _pick(rng, np.asarray([a.channel for a in arch])[seg])
    opt_in = rng.random(n) < p("opt_in")
    feedback = _feedback(rng, n, seg, arch)

    first = rng.integers(len(_vocab.FIRST_NAMES), size=n)
    last = rng.integers(len(_vocab.LAST_NAMES), size=n)
    full_name, email, phone = _pii(rng, first, last, country)
    user_id = pc.binary_join_element_wise(
        "U", pc.utf8_lpad(pa.array(np.arange(1, n + 1)).cast(pa.string()), 7, "0"), ""
    )

    r = missing_rate
    gender_out = pd.Series(gender_s, dtype="str")
    gender_out[rng.random(n) < r] = None
    gender_out[rng.random(n) < r / 2] = "unknown"
    users = pd.DataFrame(
        {
            "user_id": pd.Series(user_id, dtype="str"),
            "full_name": pd.Series(full_name, dtype="str"),
            "email": pd.Series(email, dtype="str"),
            "phone": _with_missing(phone, rng, r * 1.5),
            "age": _with_missing(age, rng, r * 0.7),
            "gender": gender_out,
            "country": _with_missing(
                _strings(country, [c[0] for c in _vocab.COUNTRIES]), rng, r / 6
            ),
            "city": _with_missing(city, rng, r * 0.7),
            "income": _with_missing(income, rng, r * 4),
            "signup_date": signup,
            "membership_type": pd.Series(_strings(membership, MEMBERSHIPS), dtype="str"),
            "renewal_status": pd.Series(
                _strings(renewal, ["active", "cancelled", "none"]), dtype="str"
            ),
            "usage_frequency": pd.Series(
                _strings(usage, ["daily", "weekly", "monthly", "rarely"]), dtype="str"
            ),
            "purchases": purchases.astype(np.int64),
            "total_spend": spend,
            "avg_order_value": avg_order,
            "website_visits": visits.astype(np.int64),
            "sessions": sessions.astype(np.int64),
            "engagement_minutes": minutes,
            "last_active_date": last_active,
            "device_type": _with_missing(_strings(device, DEVICES), rng, r / 3),
            "interests": _with_missing(interests, rng, r / 2),
            "preferred_channel": _with_missing(_strings(channel, CHANNELS), rng, r * 1.3),
            "marketing_opt_in": _with_missing(
                _strings(opt_in.astype(np.int64), ["no", "yes"]), rng, r / 3
            ),
            "feedback": pd.Series(feedback, dtype="str"),
        }
    )
    users.attrs["personas_synthetic"] = {"as_of": str(as_of.date()), "days": int(days)}
    truth = pd.DataFrame(
        {
            "user_id": users["user_id"],
            "segment": seg.astype(np.int64),
            "segment_name": pd.Series(_strings(seg, [a.name for a in arch]), dtype="str"),
        }
    )
    return users, truth


def _cities(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """City names: each country's big cities first, then a long Zipf tail of small towns."""
    names: list[str] = []
    cum_parts = []
    for i, (_, _, _, _, big) in enumerate(_vocab.COUNTRIES):
        towns = [h + t for h in _vocab.TOWN_HEADS for t in _vocab.TOWN_TAILS]
        order = np.random.default_rng(i).permutation(len(towns))[:30]
        local = big + [towns[j] for j in order]
        wts = 1.0 / np.arange(1, len(local) + 1) ** 1.1
        cum_parts.append(i + np.cumsum(wts) / wts.sum())
        names += local
    cum = np.concatenate(cum_parts)
    idx = np.searchsorted(cum, country + rng.random(len(country)) * 0.999999)
    return _strings(idx, names)


def _interests(rng: np.random.Generator, arch: list[Archetype], seg: np.ndarray) -> pa.Array:
    k = len(_vocab.INTERESTS)
    probs = np.full((len(arch), k), 0.08)
    for s, a in enumerate(arch):
        for name in a.interests:
            probs[s, _vocab.INTERESTS.index(name)] = 0.65
    has = rng.random((len(seg), k)) < probs[seg]
    mask = has @ (1 << np.arange(k))
    table = [
        ";".join(_vocab.INTERESTS[j] for j in range(k) if m >> j & 1) or None for m in range(1 << k)
    ]
    return _strings(mask, table)


def _feedback(rng: np.random.Generator, n: int, seg: np.ndarray, arch) -> np.ndarray:
    """Free-text feedback for about one user in ten; its tone follows the segment."""
    gives = rng.random(n) < 0.1
    o = rng.integers(len(_vocab.FEEDBACK_OPENERS), size=n)
    a = rng.integers(len(_vocab.FEEDBACK_ASPECTS), size=n)
    c = rng.integers(len(_vocab.FEEDBACK_CLOSERS), size=n)
    combos = np.asarray(
        [
            f"{x} {y} {z}"
            for x in _vocab.FEEDBACK_OPENERS
            for y in _vocab.FEEDBACK_ASPECTS
            for z in _vocab.FEEDBACK_CLOSERS
        ],
        dtype=object,
    )
    idx = (o * len(_vocab.FEEDBACK_ASPECTS) + a) * len(_vocab.FEEDBACK_CLOSERS) + c
    out = combos[idx]
    out[~gives] = None
    return out


def _pii(rng, first, last, country) -> tuple[pa.Array, pa.Array, pa.Array]:
    firsts = pa.array(_vocab.FIRST_NAMES).take(pa.array(first))
    lasts = pa.array(_vocab.LAST_NAMES).take(pa.array(last))
    full = pc.binary_join_element_wise(firsts, lasts, " ")
    number = pa.array(rng.integers(1, 9999, size=len(first))).cast(pa.string())
    local = pc.binary_join_element_wise(pc.utf8_lower(firsts), pc.utf8_lower(lasts), number, ".")
    dom_idx = rng.integers(len(_vocab.EMAIL_DOMAINS), size=len(first))
    suffix = np.asarray([c[3] for c in _vocab.COUNTRIES], dtype=object)[country]
    domains = np.asarray(_vocab.EMAIL_DOMAINS, dtype=object)[dom_idx]
    domains = np.where(domains == "mail", "mail." + suffix, domains)
    email = pc.binary_join_element_wise(local, pa.array(domains), "@")
    prefix = pa.array(np.asarray([c[2] for c in _vocab.COUNTRIES], dtype=object)[country])
    a = pc.utf8_lpad(pa.array(rng.integers(100, 999, size=len(first))).cast(pa.string()), 3, "0")
    b = pc.utf8_lpad(pa.array(rng.integers(0, 999_999, size=len(first))).cast(pa.string()), 6, "0")
    phone = pc.binary_join_element_wise(prefix, a, b, " ")
    return full, email, phone
