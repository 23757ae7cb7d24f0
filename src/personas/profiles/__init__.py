"""Event logs → one row per user: RFM, engagement, tenure, windows, trends (DuckDB + Ibis)."""

from personas.profiles._features import FEATURES
from personas.profiles._mapping import EventMapping, infer_mapping
from personas.profiles._profile import Profiles, profile
from personas.profiles._rfm import RFM_SEGMENTS, rfm_scores

__all__ = [
    "FEATURES",
    "RFM_SEGMENTS",
    "EventMapping",
    "Profiles",
    "infer_mapping",
    "profile",
    "rfm_scores",
]
