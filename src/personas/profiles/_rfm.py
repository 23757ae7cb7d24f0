"""Classic RFM scoring: quintile scores 1–5 and the named RFM segments.

R is scored so that recent buyers get 5; F and M so that the most frequent / highest
spenders get 5. Scores are quintiles of the ranks; equal values share their average rank
and so their score (many buyers with one order all get the same F score). Users without
an order get no score and the segment "No purchase". The named segments follow the widely
used R × F grid:

| R \\ F | 1 | 2 | 3 | 4 | 5 |
|---|---|---|---|---|---|
| 5 | New customers | Potential loyalists | Potential loyalists | Champions | Champions |
| 4 | Promising | Potential loyalists | Potential loyalists | Loyal customers | Loyal customers |
| 3 | About to sleep | About to sleep | Need attention | Loyal customers | Loyal customers |
| 2 | Hibernating | Hibernating | At risk | At risk | Can't lose them |
| 1 | Hibernating | Hibernating | At risk | At risk | Can't lose them |
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["RFM_SEGMENTS", "rfm_scores", "rfm_thresholds"]

RFM_SEGMENTS: dict[tuple[int, int], str] = {}
for _r in range(1, 6):
    for _f in range(1, 6):
        if _r <= 2:
            name = "Hibernating" if _f <= 2 else ("At risk" if _f <= 4 else "Can't lose them")
        elif _r == 3:
            name = (
                "About to sleep"
                if _f <= 2
                else ("Need attention" if _f == 3 else "Loyal customers")
            )
        elif _r == 4:
            name = (
                "Promising"
                if _f == 1
                else ("Potential loyalists" if _f <= 3 else "Loyal customers")
            )
        else:
            name = (
                "New customers" if _f == 1 else ("Potential loyalists" if _f <= 3 else "Champions")
            )
        RFM_SEGMENTS[(_r, _f)] = name


def _quintile(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """1–5 by quintile of the (average) rank: equal values always share a score.

    ``values`` without NaN. The average rank of each distinct value comes from one sort
    (``np.unique``): 0.42 s for 3.2M values, where pandas' ``rank`` took 0.97 s.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)  # the rank of the last copy of each distinct value
    ranks = (last - (counts - 1) / 2.0)[inverse]  # ties: the average of their ranks
    if not higher_is_better:
        ranks = n + 1 - ranks
    return np.clip(np.ceil(5 * ranks / n), 1, 5).astype(np.int64)


# (column scored, profile column it scores, whether higher values score higher)
SCORED = (("r_score", "recency_days", False), ("f_score", "frequency", True),
          ("m_score", "monetary", True))  # fmt: skip


def _scored_values(profiles: pd.DataFrame, src: str) -> tuple[np.ndarray, np.ndarray]:
    """A column's values, rounded to 6 decimals (sums of money differ in their last bits
    with the order they are added in: a user at a quintile's edge must not change score
    with it), and whether each is scored: buyers with a value."""
    buyers = profiles["frequency"].fillna(0).to_numpy() > 0
    values = np.round(profiles[src].to_numpy(dtype=float, na_value=np.nan), 6)
    return values, buyers & ~np.isnan(values)


def rfm_thresholds(profiles: pd.DataFrame) -> dict[str, list[float | None]]:
    """The population's quintile edges: per score column, for the scores 2 to 5, the
    value from which a buyer gets that score or a better one (the smallest such value;
    for recency, where fewer days score higher, the largest). ``None`` where no buyer
    reached the score (ties: the many buyers of one order share a middle score).

    Applied by :func:`rfm_scores`, they give every user of ``profiles`` the score of its
    rank among them, and any other user the score its values would have had among them.
    """
    out: dict[str, list[float | None]] = {}
    for col, src, better in SCORED:
        values, scored = _scored_values(profiles, src)
        v = values[scored]
        score = _quintile(v, better)
        edge = np.min if better else np.max
        out[col] = [
            float(edge(v[score >= s])) if (score >= s).any() else None for s in (2, 3, 4, 5)
        ]
    return out


def _apply(values: np.ndarray, edges: list[float | None], better: bool) -> np.ndarray:
    score = np.ones(len(values), dtype=np.int64)
    for edge in edges:
        if edge is not None:
            score += (values >= edge) if better else (values <= edge)
    return score


def rfm_scores(
    profiles: pd.DataFrame, thresholds: dict[str, list[float | None]] | None = None
) -> pd.DataFrame:
    """Add ``r_score``, ``f_score``, ``m_score``, ``rfm`` ("545") and ``rfm_segment``.

    ``thresholds`` (from :func:`rfm_thresholds`) say where the quintiles of a population
    lie; by default those of ``profiles`` itself.
    """
    thresholds = thresholds if thresholds is not None else rfm_thresholds(profiles)
    out = profiles.copy(deep=False)  # new columns only: the features are not copied
    scores = {}
    for col, src, better in SCORED:
        values, scored = _scored_values(out, src)
        score = np.zeros(len(out), dtype=np.int64)  # 0: no score
        score[scored] = _apply(values[scored], thresholds[col], better)
        scores[col] = score
        out[col] = pd.arrays.IntegerArray(score, mask=~scored)
    r, f, m = scores["r_score"], scores["f_score"], scores["m_score"]
    codes = np.array([f"{i:03d}" for i in range(1000)], dtype=object)
    complete = (r > 0) & (f > 0) & (m > 0)
    out["rfm"] = pd.array(np.where(complete, codes[r * 100 + f * 10 + m], None), dtype="string")
    names = np.array(["No purchase"] * 36, dtype=object).reshape(6, 6)
    for (i, j), name in RFM_SEGMENTS.items():
        names[i, j] = name
    out["rfm_segment"] = names[r, f]
    return out
