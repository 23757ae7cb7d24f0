"""Per-segment profiles, distinguishing features, names and rules."""

from personas.interpret._compare import SegmentComparison, compare_segments
from personas.interpret._profiles import profile_segments
from personas.interpret._rules import Condition, Rule, SurrogateRules, surrogate_rules

__all__ = [
    "Condition",
    "Rule",
    "SegmentComparison",
    "SurrogateRules",
    "compare_segments",
    "profile_segments",
    "surrogate_rules",
]
