"""check-code on a data-set-sized net from the command line: file 001's 64-100-10 digits spec (7,510
parameters), all 1,437 training samples, a matrix-form function (benchmarks/digits_backprop.py).

    .venv/bin/python benchmarks/bench_check_code.py [--repeats 5]

Times the whole command (a new process each time: imports, loading digits, the user's function, the
derivation's gradients, the comparison) for the right function (exit 0) and a wrong one (exit 1,
diagnosed on a small net of the same shape). Medians over repeats, interleaved.
Goal (issue 10): under 10 s each.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "worked_examples" / "file001_digits_multiclass.toml"
CASES = {"right (exit 0)": ("gradients", 0), "wrong (exit 1, diagnosed)": ("gradients_bug", 1)}


def once(func: str, expect: int) -> float:
    command = [sys.executable, "-m", "derive", "check-code", str(SPEC), f"{HERE / 'digits_backprop.py'}:{func}",
               "--form", "matrices", "--orientation", "in_out"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
    took = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(f"{func}: exit {done.returncode}, expected {expect}\n{done.stdout}{done.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    times = {name: [] for name in CASES}
    for _ in range(args.repeats):
        for name, (func, expect) in CASES.items():
            times[name].append(once(func, expect))
    print(f"check-code, 64-100-10 digits, 1,437 samples, median of {args.repeats} (goal < 10 s):")
    for name, ts in times.items():
        print(f"  {name:<28} {statistics.median(ts):6.2f} s   (min {min(ts):.2f}, max {max(ts):.2f})")


if __name__ == "__main__":
    main()
