"""`make_planted`: a customer table with planted segments and knobs for how hard they are.

Where :func:`make_users` imitates one realistic customer base, this generator varies what
makes segments hard to find — how much they overlap, their shapes, their sizes, columns
that carry no segment at all, categorical columns, missing values — so that methods and
their rules for choosing k can be measured against a known truth.

The numeric columns of each segment are drawn around the segment's centre in a latent
space (one latent coordinate per numeric column): the centres are spread out and then
scaled so that the two closest ones lie :data:`SEPARATION` latent units apart, and each
segment's spread is ``overlap`` units. A column is the latent coordinate in a customer's
units: an affine map for round and elongated segments, a log-normal value (money, counts,
minutes) for skewed ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["SEPARATION", "make_planted"]

SEPARATION = 4.0  # latent distance of the two closest centres (segment spread: `overlap`)
SHAPES = ("round", "elongated", "skewed")
SIZES = ("uneven", "equal")
SIZE_RATIO = 10.0  # uneven sizes: the largest segment is this many times the smallest
ELONGATION = 4.0  # elongated segments: ratio of their longest to shortest axis (sd)
SKEW_SCALE = 0.5  # skewed columns: log of the value = log(median) + SKEW_SCALE * latent
LEVEL_SPREAD = 1.5  # categorical columns: sd of the segments' level log-odds at overlap 1

# Numeric columns, cycled: (name, unit and location of round/elongated values, median and
# kind of skewed values). Kinds: money (cents), count (whole numbers), duration (1 decimal).
NUMERIC = [
    ("spend", 25.0, 250.0, 60.0, "money"),
    ("visits", 2.0, 24.0, 18.0, "count"),
    ("orders", 0.8, 10.0, 8.0, "count"),
    ("minutes", 6.0, 70.0, 45.0, "duration"),
    ("basket", 8.0, 90.0, 40.0, "money"),
    ("pages", 3.0, 40.0, 30.0, "count"),
    ("items", 1.5, 18.0, 12.0, "count"),
    ("clicks", 4.0, 50.0, 35.0, "count"),
    ("logins", 1.2, 15.0, 10.0, "count"),
    ("reviews", 0.5, 6.0, 4.0, "count"),
    ("downloads", 1.0, 12.0, 8.0, "count"),
    ("messages", 2.5, 30.0, 20.0, "count"),
]
# Categorical columns, cycled (the i-th takes 3 + i % 4 of its levels).
CATEGORICAL = [
    ("plan", ["basic", "plus", "premium", "family", "student", "business"]),
    ("channel", ["email", "sms", "push", "app", "web", "phone"]),
    ("device", ["mobile", "desktop", "tablet", "tv", "console", "watch"]),
    ("region", ["north", "south", "east", "west", "central", "islands"]),
    ("payment", ["card", "paypal", "transfer", "cash", "voucher", "wallet"]),
    ("tier", ["bronze", "silver", "gold", "platinum", "diamond", "elite"]),
]
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def make_planted(
    n_users: int = 5000,
    *,
    n_segments: int = 6,
    sizes: str | Sequence[float] = "uneven",
    overlap: float = 1.0,
    shape: str = "round",
    n_numeric: int = 6,
    n_categorical: int = 0,
    n_noise: int = 2,
    missing_rate: float = 0.0,
    random_state: int | np.random.Generator | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate a customer table with planted segments, as hard to find as asked.

    Columns: ``user_id``; ``n_numeric`` numeric columns that depend on the segment, then
    ``n_noise`` numeric columns that do not (named alike, so that names do not give them
    away: ``spend_1``, ``visits_2``, ``orders_3``, …); then ``n_categorical`` categorical
    columns whose level probabilities depend on the segment (``plan_a``, ``channel_b``,
    ``device_c``, …, with 3 to 6 levels written as words).

    Parameters
    ----------
    n_users : int, default 5000
        Rows (at least ``n_segments``).
    n_segments : int, default 6
        Planted segments, 1 to 50.
    sizes : {"uneven", "equal"} or sequence of float, default "uneven"
        Segment sizes: "uneven" falls geometrically from the largest segment to one
        :data:`SIZE_RATIO` (10) times smaller (6 segments: about 39 % down to 4 %; 12
        segments: 21 % down to 2 %), segment 0 the largest; "equal"; or ``n_segments``
        positive relative sizes, segment i the i-th. Each segment gets exactly its share
        of ``n_users`` (rounded; at least one user).
    overlap : float, default 1.0
        Each segment's spread in latent units, where the two closest centres are 4 units
        apart (larger = more overlap: 0.5 well apart, 1 touching, 2 largely merged). It
        also flattens the categorical columns' level probabilities (their log-odds are
        divided by it).
    shape : {"round", "elongated", "skewed"}, default "round"
        "round": spherical Gaussian segments of equal spread; "elongated": each segment
        its own randomly rotated covariance, axes 4:1 from longest to shortest (same
        volume as round); "skewed": round in the log of the values, which are positive
        and log-normal like spend, counts (whole numbers) and minutes.
    n_numeric : int, default 6
        Numeric columns that carry the segments.
    n_categorical : int, default 0
        Categorical columns that carry the segments (at most 26).
    n_noise : int, default 2
        Numeric columns independent of the segment (same kind of values and spread as
        the others).
    missing_rate : float, default 0.0
        Share of the values, in every column but ``user_id``, removed at random (0 to 0.5).
    random_state : int, Generator or None
        Same value, same table.

    Returns
    -------
    users : pandas.DataFrame
        One row per user, in random order. ``users.attrs["personas_planted"]`` records
        the parameters and which columns carry the segments (``signal_columns``) and which
        do not (``noise_columns``).
    truth : pandas.DataFrame
        ``user_id`` and ``segment`` (0..n_segments-1): the planted
        segments, kept apart from ``users`` so no tool can use them by accident.

    Examples
    --------
    >>> from personas.datasets import make_planted
    >>> users, truth = make_planted(1000, n_segments=4, n_categorical=2, random_state=0)
    >>> users.shape
    (1000, 11)
    >>> list(users.columns[:4]) + list(users.columns[-2:])
    ['user_id', 'spend_1', 'visits_2', 'orders_3', 'plan_a', 'channel_b']
    >>> truth["segment"].value_counts().sort_index().tolist()
    [561, 261, 121, 57]
    """
    _check(n_users, n_segments, sizes, overlap, shape, n_numeric, n_categorical, n_noise)
    if not isinstance(missing_rate, Real) or not 0 <= missing_rate <= 0.5:
        raise ValueError(f"missing_rate must be a number from 0 to 0.5, got {missing_rate!r}.")
    rng = np.random.default_rng(random_state)
    k, n, overlap = int(n_segments), int(n_users), float(overlap)
    weights = _weights(sizes, k)
    counts = _counts(weights, n)
    seg = rng.permutation(np.repeat(np.arange(k), counts))

    # --- numeric columns: latent Gaussian segments, then the customer's units
    d, d_noise = int(n_numeric), int(n_noise)
    centres = _centres(rng, k, d)
    latent = np.empty((n, d))
    for s in range(k):
        rows = seg == s
        if shape == "elongated":
            axes = _elongated_axes(rng, d)
            z = rng.standard_normal((int(rows.sum()), d))
            latent[rows] = centres[s] + overlap * z @ axes
        else:
            latent[rows] = centres[s] + overlap * rng.standard_normal((int(rows.sum()), d))
    noise_sd = float(np.sqrt(latent.var(axis=0).mean())) if d else overlap
    noise = rng.standard_normal((n, d_noise)) * noise_sd
    columns: dict[str, object] = {}
    names = []
    for j in range(d + d_noise):
        base, unit, loc, median, kind = NUMERIC[j % len(NUMERIC)]
        name = f"{base}_{j + 1}"
        x = latent[:, j] if j < d else noise[:, j - d]
        columns[name] = _values(x, shape, unit, loc, median, kind)
        names.append(name)

    # --- categorical columns: each segment its own level probabilities
    cat_names = []
    for j in range(int(n_categorical)):
        base, levels = CATEGORICAL[j % len(CATEGORICAL)]
        levels = levels[: 3 + j % 4]
        logits = rng.normal(0.0, LEVEL_SPREAD, (k, len(levels))) / overlap
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        cum = probs.cumsum(axis=1)[seg]
        level = (rng.random(n)[:, None] > cum).sum(axis=1).clip(max=len(levels) - 1)
        name = f"{base}_{LETTERS[j]}"
        columns[name] = pa.array(np.asarray(levels, dtype=object)).take(pa.array(level))
        cat_names.append(name)

    # --- missing values, completely at random
    if missing_rate > 0:
        for name, values in columns.items():
            mask = rng.random(n) < missing_rate
            if isinstance(values, pa.Array):
                columns[name] = pc.if_else(pa.array(mask), pa.nulls(n, values.type), values)
            else:
                values = values.astype(np.float64)
                values[mask] = np.nan
                columns[name] = values

    user_id = pc.binary_join_element_wise(
        "U", pc.utf8_lpad(pa.array(np.arange(1, n + 1)).cast(pa.string()), 7, "0"), ""
    )
    frame = {"user_id": pd.Series(user_id, dtype="str")}
    for name, values in columns.items():
        frame[name] = pd.Series(values, dtype="str") if isinstance(values, pa.Array) else values
    users = pd.DataFrame(frame)
    users.attrs["personas_planted"] = {
        "n_segments": k,
        "sizes": sizes if isinstance(sizes, str) else [float(w) for w in sizes],
        "overlap": overlap,
        "shape": shape,
        "missing_rate": float(missing_rate),
        "signal_columns": names[:d] + cat_names,
        "noise_columns": names[d:],
    }
    truth = pd.DataFrame({"user_id": users["user_id"], "segment": seg.astype(np.int64)})
    return users, truth


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check(n_users, n_segments, sizes, overlap, shape, n_numeric, n_categorical, n_noise):
    """ValueError, naming the parameter, for any argument out of its range."""
    if not _is_int(n_segments) or not 1 <= n_segments <= 50:
        raise ValueError(f"n_segments must be an integer from 1 to 50, got {n_segments!r}.")
    if not _is_int(n_users) or n_users < n_segments:
        raise ValueError(
            f"n_users must be an integer of at least n_segments ({n_segments}), got {n_users!r}."
        )
    if isinstance(sizes, str):
        if sizes not in SIZES:
            raise ValueError(
                f"sizes must be 'uneven', 'equal' or {n_segments} positive numbers, got {sizes!r}."
            )
    else:
        try:
            w = np.asarray(sizes, dtype=float)
        except (TypeError, ValueError):
            w = np.asarray([np.nan])
        if w.shape != (n_segments,) or not np.isfinite(w).all() or (w <= 0).any():
            raise ValueError(
                f"sizes must be 'uneven', 'equal' or {n_segments} positive numbers, got {sizes!r}."
            )
    if (
        not isinstance(overlap, Real)
        or isinstance(overlap, bool)
        or not np.isfinite(overlap)
        or not 0 < overlap <= 10
    ):
        raise ValueError(f"overlap must be a number above 0 and at most 10, got {overlap!r}.")
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}.")
    for name, value, most in [
        ("n_numeric", n_numeric, 1000),
        ("n_categorical", n_categorical, len(LETTERS)),
        ("n_noise", n_noise, 1000),
    ]:
        if not _is_int(value) or not 0 <= value <= most:
            raise ValueError(f"{name} must be an integer from 0 to {most}, got {value!r}.")
    if n_numeric + n_categorical == 0:
        raise ValueError(
            "n_numeric and n_categorical are both 0: at least one column must carry the segments."
        )


def _weights(sizes: str | Sequence[float], k: int) -> np.ndarray:
    if isinstance(sizes, str):
        if sizes == "equal" or k == 1:
            return np.full(k, 1.0 / k)
        w = SIZE_RATIO ** (-np.arange(k) / (k - 1))
    else:
        w = np.asarray(sizes, dtype=float)
    return w / w.sum()


def _counts(weights: np.ndarray, n: int) -> np.ndarray:
    """Exactly ``n`` rows shared by ``weights`` (largest remainders), at least one each;
    the largest weight gets the most rows."""
    k = len(weights)
    counts = 1 + np.floor(weights * (n - k)).astype(np.int64)
    rest = n - int(counts.sum())
    if rest:
        frac = weights * (n - k) - np.floor(weights * (n - k))
        counts[np.argsort(-frac, kind="stable")[:rest]] += 1
    order = np.argsort(-weights, kind="stable")
    counts[order] = np.sort(counts)[::-1]
    return counts


def _centres(rng: np.random.Generator, k: int, d: int) -> np.ndarray:
    """``k`` well-spread centres in ``d`` dimensions (best-candidate sampling in a cube),
    scaled so that the closest two are :data:`SEPARATION` apart and centred on 0."""
    if d == 0:
        return np.zeros((k, 0))
    centres = [rng.uniform(-1, 1, d)]
    for _ in range(1, k):
        cand = rng.uniform(-1, 1, (10, d))
        dist = np.linalg.norm(cand[:, None, :] - np.asarray(centres)[None], axis=2).min(axis=1)
        centres.append(cand[int(np.argmax(dist))])
    c = np.asarray(centres)
    if k > 1:
        gaps = np.linalg.norm(c[:, None, :] - c[None], axis=2)
        c = c * (SEPARATION / gaps[np.triu_indices(k, 1)].min())
    return c - c.mean(axis=0)


def _elongated_axes(rng: np.random.Generator, d: int) -> np.ndarray:
    """A random rotation times axis lengths from 2 to 1/2 (product 1): ``z @ axes`` is a
    Gaussian of the same volume as ``z``, :data:`ELONGATION` times longer than wide."""
    if d == 1:
        return np.ones((1, 1))
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q *= np.sign(np.diag(r))
    lengths = np.exp(np.linspace(1, -1, d) * np.log(ELONGATION) / 2)
    return lengths[:, None] * q.T


def _values(x: np.ndarray, shape: str, unit: float, loc: float, median: float, kind: str):
    """A latent coordinate in a customer's units (see :data:`NUMERIC`)."""
    if shape != "skewed":
        return np.round(loc + unit * x, 2)
    v = median * np.exp(SKEW_SCALE * x)
    if kind == "count":
        return np.rint(v).astype(np.int64)
    return np.round(v, 2 if kind == "money" else 1)
