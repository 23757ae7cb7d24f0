"""Reading and validating a large user table, against pandas measured in the same run.

Usage::

    python benchmarks/bench_io.py [--users 1000000] [--repeat 1]

Data generation and each measurement run in fresh subprocesses started from this small
parent process, so that each peak memory (max RSS) is its own.
Printed: generation time, then for CSV and Parquet the wall time and peak memory of
``pandas.read_csv``/``pandas.read_parquet`` (baseline), ``personas.read_table`` and
``personas.validate`` (read + infer roles + type columns + quality checks), with ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

STEPS = {
    "pandas.read_csv": "import pandas as pd; df = pd.read_csv(PATH)",
    "pandas.read_parquet": "import pandas as pd; df = pd.read_parquet(PATH)",
    "personas.read_table": "import personas; df = personas.read_table(PATH)",
    "personas.validate": "import personas; r = personas.validate(PATH)",
}


def measure(code: str, path: Path, after: str = "") -> dict[str, float]:
    script = textwrap.dedent(
        f"""
        import json, resource, time
        PATH = {str(path)!r}
        t = time.perf_counter()
        {code}
        wall = time.perf_counter() - t
        {after}
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({{"seconds": wall, "peak_mb": rss}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="take the best of N runs")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        csv, parquet = Path(tmp) / "users.csv", Path(tmp) / "users.parquet"
        gen = measure(
            f"from personas.datasets import make_users; "
            f"users, _ = make_users({args.users}, random_state=0)",
            csv,
            after=f"users.to_csv(PATH, index=False); users.to_parquet({str(parquet)!r})",
        )
        print(f"make_users({args.users:,}): {gen['seconds']:.2f} s, peak {gen['peak_mb']:.0f} MB")
        print(
            f"files: CSV {csv.stat().st_size / 1e6:.0f} MB, "
            f"Parquet {parquet.stat().st_size / 1e6:.0f} MB"
        )
        for fmt, path, baseline in (
            ("CSV", csv, "pandas.read_csv"),
            ("Parquet", parquet, "pandas.read_parquet"),
        ):
            results = {}
            for name in (baseline, "personas.read_table", "personas.validate"):
                runs = [measure(STEPS[name], path) for _ in range(args.repeat)]
                results[name] = min(runs, key=lambda r: r["seconds"])
            base = results[baseline]
            print(f"\n{fmt} ({args.users:,} users)")
            print(f"  {'step':<22}{'seconds':>9}{'peak MB':>9}{'× time':>8}{'× memory':>10}")
            for name, r in results.items():
                print(
                    f"  {name:<22}{r['seconds']:>9.2f}{r['peak_mb']:>9.0f}"
                    f"{r['seconds'] / base['seconds']:>8.2f}{r['peak_mb'] / base['peak_mb']:>10.2f}"
                )


if __name__ == "__main__":
    main()
