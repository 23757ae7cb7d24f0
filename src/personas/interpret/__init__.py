"""Per-segment profiles, distinguishing features, names and rules."""

from personas.interpret._compare import SegmentComparison, compare_segments
from personas.interpret._insights import (
    Insight,
    Playbook,
    derive_insights,
    find_meanings,
    segment_signals,
    segment_value,
)
from personas.interpret._profiles import profile_segments
from personas.interpret._rules import Condition, Rule, SurrogateRules, surrogate_rules
from personas.interpret._views import KSelection, SegmentProfiles

__all__ = [
    "Condition",
    "Insight",
    "KSelection",
    "Playbook",
    "Rule",
    "SegmentComparison",
    "SegmentProfiles",
    "SurrogateRules",
    "compare_segments",
    "derive_insights",
    "find_meanings",
    "profile_segments",
    "segment_signals",
    "segment_value",
    "surrogate_rules",
]
