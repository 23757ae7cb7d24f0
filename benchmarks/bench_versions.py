"""This code against an earlier revision, side by side: `personas.profile` on an event
log and `personas.segment` on a user table, the same generated files, each call in a
fresh process.

Usage::

    python benchmarks/bench_versions.py --before REV (--events N | --users N)... [--repeat 2]

The earlier revision is checked out with ``git worktree`` into a temporary folder and
imported from its ``src`` (the installed dependencies serve both). The runs alternate
(before, after, before, after…) so that the machine's drift falls on both. Printed per
size: each run's seconds and peak memory, the median ratio after/before, and for
segmentation the k and the adjusted Rand index against the planted segments (the same
work, not only the same time).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_profile
import bench_segment
from _measure import measure

ROOT = Path(__file__).resolve().parent.parent


def check(sources: dict[str, str]) -> None:
    """Each source's ``personas`` is the one imported with it (not the installed one)."""
    import os

    for name, src in sources.items():
        found = subprocess.run(
            [sys.executable, "-c", "import personas; print(personas.__file__)"],
            capture_output=True, text=True, env=os.environ | {"PYTHONPATH": src}, check=True,
        ).stdout.strip()  # fmt: skip
        if not found.startswith(src):
            raise SystemExit(f"{name}: personas was imported from {found}, not from {src}")
        print(f"{name}: {found}")


def alternate(code: str, env: dict, after: str, sources: dict[str, str], repeat: int) -> dict:
    runs: dict[str, list[dict]] = {name: [] for name in sources}
    for _ in range(repeat):
        for name, src in sources.items():
            runs[name].append(measure(code, env, after, source=src))
    return runs


def show(title: str, runs: dict[str, list[dict]], extra: str = "") -> None:
    print(f"\n{title}")
    for name, rs in runs.items():
        secs = ", ".join(f"{r['seconds']:.1f}" for r in rs)
        peak = f"{min(r['peak_mb'] for r in rs):,.0f}–{max(r['peak_mb'] for r in rs):,.0f}"
        more = "".join(f"  {k} {rs[0][k]:.3f}" if isinstance(rs[0][k], float) else
                       f"  {k} {rs[0][k]}" for k in extra.split() if k in rs[0])  # fmt: skip
        print(f"  {name:<8} seconds {secs:<24} peak MB {peak:<14}{more}")
    before, after = (statistics.median(r["seconds"] for r in rs) for rs in runs.values())
    print(f"  after/before (medians): {after / before:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="a git revision (commit, tag)")
    parser.add_argument("--events", type=int, action="append")
    parser.add_argument("--users", type=int, action="append")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not (args.events or args.users):
        parser.error("give at least one size: --events N (profile) or --users N (segment)")
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "before"
        added = subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), args.before],
            capture_output=True, text=True,
        )  # fmt: skip
        if added.returncode != 0:
            parser.error(f"--before {args.before!r}: git cannot check it out: {added.stderr}")
        try:
            sources = {"before": str(tree / "src"), "after": str(ROOT / "src")}
            check(sources)
            for n in args.events or []:
                folder = Path(tmp) / f"events-{n}"
                folder.mkdir()
                written = bench_profile.generate(n, folder)
                env = {"FOLDER": str(folder), "AS_OF": bench_profile.AS_OF}
                runs = alternate(
                    bench_profile.PERSONAS, env, bench_profile.USERS, sources, args.repeat
                )
                show(f"personas.profile, {written:,} events", runs, "users")
            for n in args.users or []:
                folder = Path(tmp) / f"users-{n}"
                folder.mkdir()
                bench_segment.generate(n, folder)
                env = {
                    "PARQUET": str(folder / "users.parquet"),
                    "TRUTH": str(folder / "truth.parquet"),
                    "OUT": str(folder),
                }
                runs = alternate(
                    bench_segment.PERSONAS, env, bench_segment.ARI, sources, args.repeat
                )
                show(f"personas.segment, {n:,} users", runs, "k ari")
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False
            )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
