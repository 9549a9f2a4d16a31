"""Every case of the speed table (README, Speed), every peer side by side, the goals met or missed.

    .venv/bin/python benchmarks/bench_all.py              # the three cases, medians of 5 (15 for (a))
    .venv/bin/python benchmarks/bench_all.py --repeats 7 --cases ab
    make bench

Cases, all on file 000's 2-2-2 sigmoid net (train_peers.py): (a) one net, 10,000 iterations, against
the notes' loop written inside a function (plain floats); (b) 20,000 copies × 200 iterations and
(c) 100,000 copies × 1,000 iterations from random initial weights, against unrolled hand-written NumPy
over the copies. Peers take turns, repeat by repeat, in one process, so the load of a shared machine
falls on all alike; each peer's outputs are checked against the baseline's first. Goals: derive's
default ≤ 1.0× the baseline in every case; its compiled backend (c) ≤ 0.3× on the sweeps. A peer whose
package is missing is skipped with a note (numba: extra `fast`; cffi: `compiled`; jax, torch: `bench`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import train_peers as peers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "worked_examples" / "mazur_2_2_2.toml"
BASELINE = {"a": "notes' loop in a function", "b": "NumPy by hand, unrolled", "c": "NumPy by hand, unrolled"}
GOALS = {"a": {"derive default": 1.0}, "b": {"derive default": 1.0, "derive c": 0.3},
         "c": {"derive default": 1.0, "derive c": 0.3}}


def available(module: str) -> bool:
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def compiler() -> bool:
    return any(shutil.which(c) for c in (os.environ.get("CC") or "cc", "gcc"))


def round_robin(runs: dict, repeats: int) -> dict[str, float]:
    """Median seconds per peer, the peers taking turns repeat by repeat."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def single_runs(iterations: int, notes: list[str]) -> dict:
    """Case (a)'s peers: each returns the net's outputs after `iterations` updates."""
    import derive
    net = derive.load(SPEC)
    runs = {BASELINE["a"]: lambda: peers.notes_function(iterations),
            "notes' loop as a script": lambda: peers.notes_script(iterations),
            "derive default": lambda: net.train(epochs=iterations, lr=0.5).outputs}
    _compiled_peers(runs, notes, lambda backend: lambda: net.train(epochs=iterations, lr=0.5, backend=backend).outputs)
    if available("jax"):
        fns = peers.jax_functions()
        runs["JAX jit, fori_loop"] = lambda: peers.jax_loop_single(iterations, fns)
    return runs


def copies_runs(copies: int, iterations: int, notes: list[str], slow: bool) -> dict:
    """Cases (b), (c): each peer returns the (copies, 2) outputs after `iterations` lock-step updates."""
    import derive
    from derive.numeric.sweep import train_copies
    net = derive.load(SPEC)
    W = peers.random_start(copies)
    init = {f"w{i + 1}": W[:, i] for i in range(8)}
    lrs = np.full(copies, 0.5)
    runs = {BASELINE["b"]: lambda: peers.numpy_unrolled(W, iterations),
            "derive default": lambda: train_copies(net, init, lrs, epochs=iterations).outputs}
    _compiled_peers(runs, notes, lambda backend: lambda: train_copies(net, init, lrs, epochs=iterations,
                                                                      backend=backend).outputs)
    if available("jax"):
        fns, vfns = peers.jax_functions(), peers.jax_vmap_functions()
        runs["JAX jit, fori_loop"] = lambda: peers.jax_loop_copies(W, iterations, fns)
        runs["JAX jit(vmap(fori_loop))"] = lambda: peers.jax_vmap_copies(W, iterations, vfns)
    if slow:
        runs["NumPy by hand, (K,2,2) matrices"] = lambda: peers.numpy_matrix(W, iterations)
        if available("torch"):
            import torch
            torch.set_num_threads(1)
            runs["PyTorch CPU autograd"] = lambda: peers.torch_copies(W, iterations)
    return runs


def _compiled_peers(runs: dict, notes: list[str], make) -> None:
    if available("numba"):
        runs["derive numba"] = make("numba")
    elif "numba" not in " ".join(notes):
        notes.append("numba not installed (pip install -e '.[fast]')")
    if available("cffi") and compiler():
        runs["derive c"] = make("c")
    elif "cffi" not in " ".join(notes):
        notes.append("backend c needs cffi and a C compiler (pip install -e '.[compiled]'; apt-get install gcc)")


def checked(runs: dict, small: dict, atol: float) -> dict:
    """The peers agree with the baseline on a small run (which also compiles jit/numba/C), then warm up."""
    reference = next(iter(small.values()))()
    for name, fn in small.items():
        assert np.allclose(fn(), reference, rtol=0, atol=atol), name
    for fn in runs.values():
        fn()
    return runs


def measure(case: str, repeats: int, notes: list[str], slow: bool) -> dict[str, float]:
    if case == "a":                  # ~10 ms a run: three times the repeats, for a steadier median
        runs = checked(single_runs(10_000, notes), single_runs(10_000, []), 1e-9)
        return round_robin(runs, 3 * repeats)
    else:
        copies, iterations = (20_000, 200) if case == "b" else (100_000, 1_000)
        runs = checked(copies_runs(copies, iterations, notes, slow and case == "b"),
                       copies_runs(50, 20, [], slow and case == "b"), 1e-9)
    return round_robin(runs, repeats)


TITLES = {"a": "one net, 10,000 iterations", "b": "20,000 copies × 200 iterations",
          "c": "100,000 copies × 1,000 iterations"}


def report(case: str, medians: dict[str, float]) -> list[tuple[str, float, bool]]:
    """Print one case's peers with their ratio to the baseline; return (goal, ratio, met) for its goals."""
    base = medians[BASELINE[case]]
    print(f"({case}) {TITLES[case]}: median time and ratio to {BASELINE[case]}")
    for name, t in medians.items():
        print(f"    {name:<34} {t * 1e3:>10.2f} ms {t / base:>7.2f}×")
    results = []
    for peer, goal in GOALS[case].items():
        if peer in medians:
            ratio = medians[peer] / base
            results.append((f"({case}) {peer} ≤ {goal}×", ratio, ratio <= goal))
    return results


COLUMNS = ["derive default", "derive numba", "derive c", "JAX jit, fori_loop", "JAX jit(vmap(fori_loop))"]


def table(all_medians: dict[str, dict[str, float]]) -> None:
    """The README's table: one row per case, every peer's ratio to the case's baseline, the goals."""
    print("| case | baseline | " + " | ".join(COLUMNS) + " | goals |")
    print("|---" * (len(COLUMNS) + 3) + "|")
    for case, medians in all_medians.items():
        base = medians[BASELINE[case]]
        cells = [f"{medians[c] / base:.2f}×" if c in medians else "—" for c in COLUMNS]
        goals = ", ".join(f"{peer.split()[-1]} ≤ {g}×: {'met' if medians.get(peer, 1e9) / base <= g else 'missed'}"
                          for peer, g in GOALS[case].items())
        print(f"| {TITLES[case]} | {BASELINE[case]} ({base * 1e3:.1f} ms) | " + " | ".join(cells) + f" | {goals} |")


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="abc")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--slow-peers", action="store_true", help="also the (K,2,2) matrix NumPy and PyTorch in (b)")
    args = parser.parse_args()
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, numpy {np.__version__}, Python {sys.version.split()[0]}; "
          f"{load_note()}; JAX and torch on 1 thread")
    notes: list[str] = []
    goals, all_medians = [], {}
    for case in args.cases:
        all_medians[case] = measure(case, args.repeats, notes, args.slow_peers)
        goals += report(case, all_medians[case])
    table(all_medians)
    print(f"goals ({load_note()} at the end):")
    for goal, ratio, met in goals:
        print(f"    {goal:<34} {ratio:>7.2f}×  {'met' if met else 'MISSED'}")
    for note in notes:
        print(f"    skipped: {note}")
    return 0 if all(met for _, _, met in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
