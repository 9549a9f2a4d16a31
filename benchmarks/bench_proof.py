"""Median time of Derivation.prove() (the structural proof) for every parameter of a net, per net size.

    PYTHONPATH=. python benchmarks/bench_proof.py [--repeat N]

Each repeat builds the network afresh (no proof cached; SymPy's own cache warms after the first run,
so the first run is printed too) and proves path sum = δ form = sympy.diff for
every parameter. Targets (issue 11): under 1 s for Mazur's 2-2-2, under 30 s for a 3-4-4-4-2 net.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import derive

ROOT = Path(__file__).resolve().parents[1]


def deep(layers, activations):
    """A net of the given sizes with seeded weights (the proof does not depend on the values)."""
    rng = random.Random(0)
    n_w = sum(a * b for a, b in zip(layers, layers[1:]))
    return lambda: derive.network(layers, activations, inputs=[rng.uniform(-1, 1) for _ in range(layers[0])],
                                  targets=[0.3] * layers[-1], weights=[rng.uniform(-1, 1) for _ in range(n_w)],
                                  biases=[0.1] * sum(layers[1:]), learning_rate=0.1)


NETS = {
    "mazur 2-2-2 sigmoid": lambda: derive.load(ROOT / "worked_examples" / "mazur_2_2_2.toml"),
    "3-4-2 tanh/softmax": lambda: derive.load(ROOT / "worked_examples" / "tanh_softmax_3_4_2.toml"),
    "3-4-4-4-2 tanh/sigmoid/relu/sigmoid": deep([3, 4, 4, 4, 2], ["tanh", "sigmoid", "relu", "sigmoid"]),
}


def prove_all(make) -> tuple[float, bool]:
    net = make()
    start = time.perf_counter()
    holds = all(p.holds for name in net.params for p in net.derivation(name).prove().values())
    return time.perf_counter() - start, holds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name, make in NETS.items():
        runs = [prove_all(make) for _ in range(args.repeat)]
        print(f"{name:<40} median {statistics.median(t for t, _ in runs):7.3f} s, first {runs[0][0]:7.3f} s  "
              f"({args.repeat} runs, every parameter, {'all hold' if all(h for _, h in runs) else 'NOT ALL HOLD'})")


if __name__ == "__main__":
    main()
