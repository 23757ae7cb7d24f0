"""Per-segment profiles, distinguishing features and names."""

from personas.interpret._profiles import profile_segments

__all__ = ["profile_segments"]
