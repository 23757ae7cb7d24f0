"""Per-segment profiles, distinguishing features, names and rules."""

from personas.interpret._compare import Comparison, compare_segments
from personas.interpret._insights import (
    Insight,
    Playbook,
    derive_insights,
    find_meanings,
    segment_signals,
    segment_value,
)
from personas.interpret._profiles import numeric_view, outcome_rates, profile_segments
from personas.interpret._rules import Condition, Rule, SurrogateRules, surrogate_rules
from personas.interpret._segments import LevelProfile, LevelShare, NumberProfile, Segment, Term

__all__ = [
    "Comparison",
    "Condition",
    "Insight",
    "LevelProfile",
    "LevelShare",
    "NumberProfile",
    "Playbook",
    "Rule",
    "Segment",
    "SurrogateRules",
    "Term",
    "compare_segments",
    "derive_insights",
    "find_meanings",
    "numeric_view",
    "outcome_rates",
    "profile_segments",
    "segment_signals",
    "segment_value",
    "surrogate_rules",
]
