"""Synthetic users and events with planted segments, for tests, demos and benchmarks.

Nothing here touches the network: every table is generated from a seed.
"""

from personas.datasets._events import make_events
from personas.datasets._mixed import make_planted
from personas.datasets._users import ARCHETYPES, Archetype, make_users

__all__ = ["ARCHETYPES", "Archetype", "make_events", "make_planted", "make_users"]
