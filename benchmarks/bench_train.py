"""Training speed, side by side in one process: derive against the notes' pure-Python loop,
hand-written NumPy, PyTorch CPU autograd and JAX (peers in benchmarks/train_peers.py).

    .venv/bin/python benchmarks/bench_train.py                      # all three cases
    .venv/bin/python benchmarks/bench_train.py --copies 20000       # (b) scaled down
    pip install 'derive[fast,bench]'                                 # numba, torch==2.13.0, jax

Cases (issue 3): (a) file 000's net, 10,000 iterations on its one sample; (b) K copies of that net
from random initial weights × N iterations, lock-step (default 100,000 × 1,000), with peak memory;
(c) the one-time cost to derive and get ready to train. Medians of several repeats; ratios are
against the notes' loop in (a) and against hand-written NumPy in (b). A peer that is not installed
is skipped with a note. Every peer's final outputs are checked against derive's before timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import train_peers as peers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "worked_examples" / "mazur_2_2_2.toml"


def round_robin(runs: list[tuple], repeats: int) -> dict[str, float]:
    """Median seconds per peer; the peers take turns, repeat by repeat, so that the load of this shared
    machine falls on all of them alike. runs: (name, fn, how many repeats at most)."""
    times: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    for r in range(repeats):
        for name, fn, most in runs:
            if r < most:
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def available(module: str) -> bool:
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def derive_net():
    import derive
    return derive.load(SPEC)


# --- (a) ------------------------------------------------------------------------------------------

def case_a(iterations: int, repeats: int) -> list[tuple]:
    net = derive_net()
    expected = net.train(epochs=iterations, lr=0.5).outputs
    runs = [("notes' loop, as a script (413.py style)", lambda: peers.notes_script(iterations), repeats),
            ("notes' loop, inside a function", lambda: peers.notes_function(iterations), repeats),
            ("notes' loop, hand-fused, in a function", lambda: peers.notes_fused(iterations), repeats),
            ("derive, default (generated Python loop)", lambda: net.train(epochs=iterations, lr=0.5).outputs, repeats),
            ("NumPy by hand (notes' class style)", lambda: peers.numpy_single(iterations), max(3, repeats // 2))]
    notes = []
    if available("numba"):
        runs.append(("derive --backend numba", lambda: net.train(epochs=iterations, lr=0.5, backend="numba").outputs, repeats))
    else:
        notes.append("numba not installed: pip install 'derive[fast]'")
    if available("torch"):
        import torch
        torch.set_num_threads(1)
        runs.append(("PyTorch CPU autograd", lambda: peers.torch_single(iterations), 3))
    else:
        notes.append("torch not installed: pip install torch==2.13.0")
    if available("jax"):
        fns = peers.jax_functions()
        runs.append(("JAX jit, a step per iteration", lambda: peers.jax_step_single(iterations, fns), 3))
        runs.append(("JAX jit, whole loop in lax.fori_loop", lambda: peers.jax_loop_single(iterations, fns), repeats))
    else:
        notes.append("jax not installed: pip install jax jaxlib")
    for name, fn, _ in runs:
        got = fn()                                   # warm-up (compiles jit/numba) and correctness
        assert np.allclose(got, expected, rtol=0, atol=1e-9), (name, got, expected)
    medians = round_robin(runs, repeats)
    return [(name, medians[name]) for name, _, _ in runs], notes


# --- (b) ------------------------------------------------------------------------------------------

def b_runs(copies: int, iterations: int, with_numba=True):
    from derive.numeric.sweep import train_copies
    net = derive_net()
    W = peers.random_start(copies)
    init = {f"w{i + 1}": W[:, i] for i in range(8)}
    lrs = np.full(copies, 0.5)
    runs = {"NumPy by hand, (K,2,2) matrices": lambda: peers.numpy_matrix(W, iterations),
            "NumPy by hand, unrolled (K,) arrays": lambda: peers.numpy_unrolled(W, iterations),
            "derive, default (generated NumPy loop)": lambda: train_copies(net, init, lrs, epochs=iterations).outputs}
    if with_numba and available("numba"):
        runs["derive --backend numba"] = lambda: train_copies(net, init, lrs, epochs=iterations, backend="numba").outputs
    if available("torch"):
        import torch
        torch.set_num_threads(1)
        runs["PyTorch CPU autograd"] = lambda: peers.torch_copies(W, iterations)
    if available("jax"):
        fns = peers.jax_functions()
        runs["JAX jit, lax.fori_loop"] = lambda: peers.jax_loop_copies(W, iterations, fns)
    return runs


def case_b(copies: int, iterations: int, repeats: int):
    runs = b_runs(copies, iterations)
    small = b_runs(50, 20)
    reference = small["NumPy by hand, unrolled (K,) arrays"]()
    for name, fn in small.items():                  # the peers agree (and jit/numba compile) on a small run
        assert np.allclose(fn(), reference, rtol=0, atol=1e-12), name
    for fn in runs.values():
        fn()                                         # warm-up at full size
    medians = round_robin([(name, fn, repeats) for name, fn in runs.items()], repeats)
    return [(name, medians[name], peak_memory(name, copies, iterations)) for name in runs]


def rss_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def peak_memory(name: str, copies: int, iterations: int) -> float:
    """MB of resident memory one run of the peer adds at its peak (fresh process, 20 iterations)."""
    done = subprocess.run([sys.executable, __file__, "--memory-of", name, "--copies", str(copies),
                           "--iterations", str(min(iterations, 20))], capture_output=True, text=True)
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return float("nan")


def memory_of(name: str, copies: int, iterations: int) -> None:
    fn = b_runs(copies, iterations)[name]
    fn() if name.startswith(("JAX", "derive --backend")) else None    # compile outside the measured run
    with open("/proc/self/clear_refs", "w") as f:     # reset the peak (VmHWM) to the current RSS
        f.write("5")
    base = rss_kb("VmRSS")
    fn()
    print(f"{max(rss_kb('VmHWM') - base, 0) / 1024:.1f}")


# --- (c) ------------------------------------------------------------------------------------------

def ready_to_train():
    """Spec → graph → δ terms → program → the compiled training loop."""
    import derive
    from derive.numeric.train import LoopSpec, compiled_loop
    net = derive.load(SPEC)
    return compiled_loop(net.program, net.trained, LoopSpec())


def case_c(repeats: int):
    from derive.numeric.train import _compiled
    def fresh(*flags):
        done = subprocess.run([sys.executable, __file__, "--cold", *flags], capture_output=True, text=True)
        return float(done.stdout.strip())
    cold = statistics.median(fresh() for _ in range(5))
    warm_sympy = statistics.median(fresh("--warm-sympy") for _ in range(5))
    times = []
    for _ in range(repeats):
        _compiled.cache_clear()
        start = time.perf_counter()
        ready_to_train()
        times.append(time.perf_counter() - start)
    rows = [("derive: load, derive, generate, compile (first in a fresh process)", cold),
            ("  the same after sympy's own first-use imports (one small expression)", warm_sympy),
            ("derive: the same, median of later runs in one process", statistics.median(times))]
    net = derive_net()
    if available("numba"):
        from derive.numeric.numba_loop import _compiled as numba_cache
        numba_cache.cache_clear()
        start = time.perf_counter()
        net.train(epochs=1, lr=0.5, backend="numba")
        rows.append(("+ numba compile of the loop (first call)", time.perf_counter() - start))
    if available("jax"):
        fns = peers.jax_functions()
        start = time.perf_counter()
        peers.jax_loop_single(10, fns)
        rows.append(("JAX: jit compile of the fori_loop (first call)", time.perf_counter() - start))
    return rows


def cold_start() -> None:
    import derive  # noqa: F401  (import time is not counted: sympy and numpy load once per process)
    if "--warm-sympy" in sys.argv:     # sympy imports more modules on its first sums and products
        import sympy
        a, b, c = sympy.symbols("a b c", real=True)
        sympy.Add(a * b, sympy.exp(-c), evaluate=True).diff(a)
    start = time.perf_counter()
    ready_to_train()
    print(time.perf_counter() - start)


# --- report ---------------------------------------------------------------------------------------

def report_a(rows, notes) -> None:
    t = dict(rows)
    bases = [t["notes' loop, as a script (413.py style)"], t["notes' loop, inside a function"],
             t["notes' loop, hand-fused, in a function"]]
    print("(a) file 000's net, one sample, 10,000 iterations (median; ratios: time ÷ each notes' loop)")
    print(f"    {'peer':<42} {'time':>10} {'÷ script':>9} {'÷ function':>11} {'÷ fused':>8}")
    for name, x in rows:
        print(f"    {name:<42} {x * 1e3:>8.2f}ms" + "".join(f" {x / b:>{w}.2f}×" for b, w in zip(bases, (8, 10, 7))))
    for note in notes:
        print(f"    skipped: {note}")


def report_b(rows, copies, iterations) -> None:
    base = dict((n, t) for n, t, _ in rows)["NumPy by hand, (K,2,2) matrices"]
    unrolled = dict((n, t) for n, t, _ in rows)["NumPy by hand, unrolled (K,) arrays"]
    print(f"(b) {copies:,} copies × {iterations:,} iterations, lock-step (median)")
    print(f"    {'peer':<42} {'time':>9} {'÷ matrices':>11} {'÷ unrolled':>11} {'peak MB':>8}")
    for name, t, mb in rows:
        print(f"    {name:<42} {t:>8.3f}s {t / base:>10.2f}× {t / unrolled:>10.2f}× {mb:>8.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="abc")
    parser.add_argument("--iterations-a", type=int, default=10_000)
    parser.add_argument("--copies", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-of", help=argparse.SUPPRESS)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--warm-sympy", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold:
        cold_start()
        return 0
    if args.memory_of:
        memory_of(args.memory_of, args.copies, args.iterations)
        return 0
    print(f"numpy {np.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; torch and XLA limited to 1 thread")
    if "a" in args.cases:
        report_a(*case_a(args.iterations_a, args.repeats))
    if "b" in args.cases:
        report_b(case_b(args.copies, args.iterations, max(3, args.repeats // 2)), args.copies, args.iterations)
    if "c" in args.cases:
        print("(c) one-time cost for the 2-2-2 net (goal: under 100 ms on the default path)")
        for name, t in case_c(args.repeats):
            print(f"    {name:<66} {t * 1e3:>8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
