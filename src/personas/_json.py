"""JSON as every parser reads it: NaN and infinities become null (Python's ``json`` would
write the bare words ``NaN`` and ``Infinity``, which JavaScript's ``JSON.parse`` and most
other parsers refuse); NumPy numbers become plain numbers, other objects their text."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["default", "dumps", "plain"]


def plain(obj: Any) -> Any:
    """``obj`` with every non-finite float (Python's or NumPy's) as None, through dicts,
    lists and tuples."""
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    return obj


def default(obj: Any) -> Any:
    """JSON for what ``json`` does not know (its ``default=``): NumPy numbers as numbers,
    non-finite ones as null, arrays as lists, the rest as text."""
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return plain(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    return str(obj)


def dumps(obj: Any, **options: Any) -> str:
    """``json.dumps`` of ``obj`` that never writes NaN or Infinity (see the module)."""
    options.setdefault("ensure_ascii", False)
    return json.dumps(plain(obj), default=default, allow_nan=False, **options)
