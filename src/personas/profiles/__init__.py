"""Event logs → one row per user: RFM, engagement, tenure, windows, trends (DuckDB + Ibis)."""

from personas.profiles._builder import ProfileBuilder
from personas.profiles._features import FEATURES, definitions, read_id
from personas.profiles._mapping import EventMapping, infer_mapping, read_mapping
from personas.profiles._profiling import Profiling
from personas.profiles._rfm import RFM_SEGMENTS, rfm_scores, rfm_thresholds

__all__ = [
    "FEATURES",
    "RFM_SEGMENTS",
    "EventMapping",
    "ProfileBuilder",
    "Profiling",
    "definitions",
    "infer_mapping",
    "read_id",
    "read_mapping",
    "rfm_scores",
    "rfm_thresholds",
]
