"""Derivation cost, measured: derive a net and make it evaluable, beside plain sympy.diff + lambdify.

    .venv/bin/python benchmarks/bench_derive.py [--repeats 3] [--peer-budget 60]

For each net (2-2-2, 4-4-4-4, 8-8-8-8-8, depth 10 at width 8), sigmoid layers, half_sse, one bias per
neuron: the median over repeats (SymPy's cache cleared before each) of
  derive: derive.network(...) -> net.program.function compiled (graph, δ terms, code, compile);
  peer:   the loss written as one SymPy expression, sympy.diff for each weight, one sympy.lambdify
          of all the gradients.
The peer's cost grows exponentially with depth (diff and the code printer walk the expression as a
tree): each peer run is stopped after --peer-budget seconds (SIGALRM; default 120), reported as "> budget", and
larger nets are then skipped.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import time

import sympy as sp
from sympy.core.cache import clear_cache

import derive

NETS = [[2, 2, 2], [4, 4, 4, 4], [8, 8, 8, 8, 8], [8] * 11]


def weight_count(layers) -> int:
    return sum(a * b for a, b in zip(layers, layers[1:]))


def build_derive(layers, rng):
    """derive.network(...) until its program's function is compiled: what 'ready to evaluate' means."""
    net = derive.network(layers, ["sigmoid"] * (len(layers) - 1), loss="half_sse", bias="per_neuron",
                         inputs=[rng.uniform(-1, 1) for _ in range(layers[0])],
                         targets=[rng.uniform(0, 1) for _ in range(layers[-1])],
                         weights=[rng.uniform(-1, 1) for _ in range(weight_count(layers))],
                         biases=[rng.uniform(-1, 1) for _ in range(sum(layers[1:]))])
    return net.program.function


def phases(layers, rng) -> dict[str, float]:
    """Where derive's time goes for one net: graph, δ terms, code generation, compile."""
    clear_cache()
    marks = [time.perf_counter()]
    net = derive.network(layers, ["sigmoid"] * (len(layers) - 1), loss="half_sse", bias="per_neuron",
                         inputs=[rng.uniform(-1, 1) for _ in range(layers[0])],
                         targets=[rng.uniform(0, 1) for _ in range(layers[-1])],
                         weights=[rng.uniform(-1, 1) for _ in range(weight_count(layers))],
                         biases=[rng.uniform(-1, 1) for _ in range(sum(layers[1:]))])
    marks.append(time.perf_counter())
    for step in (lambda: net.backprop, lambda: net.program, lambda: net.program.function):
        step()
        marks.append(time.perf_counter())
    names = ["spec + graph", "δ terms", "code generation", "compile"]
    return {name: end - start for name, start, end in zip(names, marks, marks[1:])}


def build_peer(layers):
    """The textbook way: the loss as one expression, sympy.diff per weight, one lambdify of them all."""
    xs = sp.symbols(f"x1:{layers[0] + 1}", real=True)
    ts = sp.symbols(f"t1:{layers[-1] + 1}", real=True)
    weights, biases, outs = [], [], list(xs)
    for a, b in zip(layers, layers[1:]):
        ws = [[sp.Symbol(f"w{len(weights) + j * a + k + 1}", real=True) for k in range(a)] for j in range(b)]
        weights += [w for row in ws for w in row]
        bs = [sp.Symbol(f"b{len(biases) + j + 1}", real=True) for j in range(b)]
        biases += bs
        outs = [1 / (1 + sp.exp(-(sum(w * o for w, o in zip(row, outs)) + bias))) for row, bias in zip(ws, bs)]
    loss = sum(sp.Rational(1, 2) * (t - o) ** 2 for t, o in zip(ts, outs))
    grads = [sp.diff(loss, w) for w in weights]
    return sp.lambdify([*xs, *ts, *weights, *biases], grads, "numpy")


class OverBudget(Exception):
    pass


def _alarm(signum, frame):
    raise OverBudget


def timed(fn, *args) -> float:
    clear_cache()
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def median_time(fn, args, repeats: int) -> float:
    """Median of `repeats` timings, each with SymPy's cache cleared."""
    return statistics.median(timed(fn, *args) for _ in range(repeats))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-budget", type=float, default=120.0,
                        help="stop a peer run after this many seconds; skip larger nets then")
    args = parser.parse_args(argv)
    rng = random.Random(0)
    cold = timed(build_derive, [2, 2, 2], rng)   # first use pays import-time work (printers, numpy)
    print(f"derive: derive.network(...) -> net.program.function compiled; peer: sympy.diff per weight + "
          f"lambdify; median of {args.repeats} (peer: one run when it takes over 5 s), SymPy cache cleared "
          f"before each\nfirst 2-2-2 in this process (cold, with import-time work): {cold:.3f} s")
    header = f"{'net':>22} {'weights':>7} {'derive s':>9} {'weights/s':>10} {'peer s':>9} {'weights/s':>10} " \
             f"{'peer/derive':>11}"
    print(header)
    peer_too_slow = False
    for layers in NETS:
        n = weight_count(layers)
        ours = median_time(build_derive, (layers, rng), args.repeats)
        name = "-".join(map(str, layers)) if len(layers) < 6 else f"depth {len(layers) - 1}, width {layers[0]}"
        if peer_too_slow:
            print(f"{name:>22} {n:>7} {ours:>9.3f} {n / ours:>10.0f} {'skipped':>9} "
                  f"{'':>10} {'':>11}  (peer skipped: a smaller net exceeded --peer-budget)")
            continue
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(int(args.peer_budget))
        try:
            first = timed(build_peer, layers)
            more = [timed(build_peer, layers) for _ in range(args.repeats - 1)] if first < 5 else []
            theirs = statistics.median([first, *more])
        except OverBudget:
            peer_too_slow = True
            print(f"{name:>22} {n:>7} {ours:>9.3f} {n / ours:>10.0f} {'>' + str(int(args.peer_budget)):>9} "
                  f"{'<' + format(n / args.peer_budget, '.1f'):>10} {'>' + format(args.peer_budget / ours, '.0f'):>10}x"
                  f"  (peer stopped at --peer-budget)")
            continue
        finally:
            signal.alarm(0)
        print(f"{name:>22} {n:>7} {ours:>9.3f} {n / ours:>10.0f} {theirs:>9.3f} {n / theirs:>10.0f} "
              f"{theirs / ours:>10.1f}x")

    split = phases(NETS[-1], rng)
    print(f"depth 10, width 8, one run by phase: "
          + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in split.items()))


if __name__ == "__main__":
    main()
