"""Wall time of ``deskterm --help`` (median of several runs, in a fresh process each).

Start-up is a feature: the CLI imports typer and nothing heavy until a command runs.
With ``--limit`` the script exits non-zero when the median is over the limit (CI).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--limit", type=float, default=0.0, help="fail above this median (s)")
    args = parser.parse_args()
    exe = shutil.which("deskterm", path=str(Path(sys.executable).parent)) or "deskterm"
    subprocess.run([exe, "--help"], check=True, capture_output=True)  # warm the page cache
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run([exe, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"deskterm --help: median {median * 1000:.0f} ms, min {min(times) * 1000:.0f} ms "
          f"over {args.runs} runs")  # fmt: skip
    if args.limit and median > args.limit:
        print(f"over the {args.limit * 1000:.0f} ms limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
