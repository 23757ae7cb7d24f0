"""Run a timed snippet in a fresh Python process (its own peak memory) and read its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap


def measure(
    code: str, env: dict[str, str], after: str, source: str | None = None
) -> dict[str, float]:
    """Time ``code`` (after assigning ``env``); then run ``after``, which sets ``extra``.
    ``source``: a folder whose ``personas`` package is imported instead of the installed one.

    Returns ``extra`` with ``seconds`` (wall time of ``code``) and ``peak_mb`` (max RSS).
    """
    script = textwrap.dedent(
        """
        import json, resource, time
        {assign}
        t = time.perf_counter()
        {code}
        wall = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        {after}
        print(json.dumps({{"seconds": wall, "peak_mb": rss, **extra}}))
        """
    ).format(
        assign="\n".join(f"{k} = {v!r}" for k, v in env.items()),
        code=textwrap.dedent(code),
        after=textwrap.dedent(after),
    )
    process_env = None
    if source is not None:
        process_env = os.environ | {"PYTHONPATH": source}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=process_env
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])
