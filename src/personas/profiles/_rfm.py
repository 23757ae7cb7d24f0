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

__all__ = ["RFM_SEGMENTS", "rfm_scores"]

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


def _quintile(values: pd.Series, higher_is_better: bool) -> pd.Series:
    """1–5 by quintile of the (average) rank: equal values always share a score."""
    ranks = values.rank(method="average", ascending=higher_is_better)
    n = ranks.notna().sum()
    if n == 0:
        return pd.Series(pd.NA, index=values.index, dtype="Int64")
    score = np.ceil(5 * ranks / n).clip(1, 5)
    return score.astype("Int64")


def rfm_scores(profiles: pd.DataFrame) -> pd.DataFrame:
    """Add ``r_score``, ``f_score``, ``m_score``, ``rfm`` ("545") and ``rfm_segment``."""
    out = profiles.copy(deep=False)  # new columns only: the features are not copied
    buyers = out["frequency"].fillna(0) > 0
    for col, src, better in (
        ("r_score", "recency_days", False),
        ("f_score", "frequency", True),
        ("m_score", "monetary", True),
    ):
        s = pd.Series(pd.NA, index=out.index, dtype="Int64")
        s[buyers] = _quintile(out.loc[buyers, src].astype(float), better)
        out[col] = s
    code = (
        out["r_score"].astype("string")
        + out["f_score"].astype("string")
        + out["m_score"].astype("string")
    )
    out["rfm"] = code
    names = np.array(["No purchase"] * 36, dtype=object).reshape(6, 6)
    for (r, f), name in RFM_SEGMENTS.items():
        names[r, f] = name
    r = out["r_score"].fillna(0).to_numpy(dtype=np.int64)
    f = out["f_score"].fillna(0).to_numpy(dtype=np.int64)
    out["rfm_segment"] = names[r, f]
    return out
