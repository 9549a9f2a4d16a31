"""File 001's DualLayer (30-10-1, ones init, full batch, lr 1) for 1,000 epochs on standardised
breast_cancer, side by side in one process: derive's loop (code generated from the matrix derivation)
against the notes' hand-written NumPy class (worked_examples/notes_001.py) and PyTorch CPU autograd.

    .venv/bin/python benchmarks/bench_fit.py [--epochs 1000] [--repeats 7]
    pip install 'derive[data]' torch==2.13.0          # torch is optional (the 'bench' extra)

Each peer trains from the same data and weights; its final mean loss is printed beside derive's
before the timings. Medians over repeats, interleaved; ratios are against the notes' class.
Goal (issue 6): derive within 1.2× of the notes' class and faster than PyTorch.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "worked_examples"))
import notes_001 as notes001  # noqa: E402

SPEC = HERE.parent / "worked_examples" / "file001_dual_layer.toml"


def derive_peer(spec, data, epochs):
    from derive.numeric.fit import run_fit

    def run():
        return run_fit(spec, data=data, epochs=epochs).loss
    return run


def notes_peer(data, epochs):
    y = data.Y_train.ravel()

    def run():
        net = notes001.DualLayer()
        net.fit(data.X_train, y, epochs=epochs)
        return net.losses[-1]
    return run


def torch_peer(data, epochs, threads):
    import torch
    X = torch.from_numpy(data.X_train)
    Y = torch.from_numpy(data.Y_train)

    def run():
        torch.set_num_threads(threads)
        W1 = torch.ones((30, 10), dtype=torch.float64, requires_grad=True)
        b1 = torch.zeros(10, dtype=torch.float64, requires_grad=True)
        W2 = torch.ones((10, 1), dtype=torch.float64, requires_grad=True)
        b2 = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        params = (W1, b1, W2, b2)
        for _ in range(epochs):
            Z2 = torch.sigmoid(X @ W1 + b1) @ W2 + b2
            loss = torch.nn.functional.binary_cross_entropy_with_logits(Z2, Y)   # mean over samples
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= p.grad
        return float(loss.detach())
    return run


def one_time_cost():
    """Derive the matrix form and generate + compile its NumPy step (what derive does once per network)."""
    from derive.numeric.fit import compiled
    compiled.cache_clear()
    start = time.perf_counter()
    compiled((30, 10, 1), ("sigmoid", "sigmoid"), "bce", True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    from derive.numeric.data import prepare
    from derive.core.fitspec import load_fit_spec
    spec = load_fit_spec(SPEC)
    data = prepare(spec.data)
    setup = one_time_cost()
    peers = {"derive fit (generated matrix-form step)": derive_peer(spec, data, args.epochs),
             "notes' DualLayer (hand-written NumPy)": notes_peer(data, args.epochs)}
    try:
        import torch
        for threads in sorted({1, torch.get_num_threads()}):
            peers[f"PyTorch {torch.__version__} CPU autograd, {threads} thread(s)"] = \
                torch_peer(data, args.epochs, threads)
    except ImportError:
        print("PyTorch not installed: skipped (pip install torch==2.13.0)")

    print(f"DualLayer 30-10-1, {args.epochs} epochs, {len(data.X_train)} samples, float64; "
          f"medians of {args.repeats}\n")
    losses = {name: run() for name, run in peers.items()}           # warm-up, and the check
    for name, loss in losses.items():
        print(f"  final mean loss  {loss:.15f}  {name}")
    times = {name: [] for name in peers}
    for _ in range(args.repeats):                                      # interleaved repeats
        for name, run in peers.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["notes' DualLayer (hand-written NumPy)"])
    print(f"\n  {'peer':<58} {'median s':>9} {'ratio':>7}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<58} {median:9.4f} {median / base:6.2f}×")
    print(f"\n  one-time: derive the matrix form and compile its step: {setup * 1000:.1f} ms")
    per_sample(args.repeats)
    return 0


def per_sample(repeats: int) -> None:
    """Not a goal of the issue, shown for honesty: the per-sample loops (one update per sample) against
    the notes' Neuron (NumPy scalars) and LogisticNeuron (30-vectors), 100 epochs each."""
    from derive.numeric.data import prepare
    from derive.numeric.fit import run_fit
    from derive.core.fitspec import load_fit_spec
    print("\nper-sample updates, 100 epochs (derive runs its matrix step on 1-row batches)\n")
    print(f"  {'case':<34} {'derive s':>9} {'notes s':>9} {'ratio':>7}")
    for name, cls in (("file001_neuron", notes001.Neuron), ("file001_logistic_neuron", notes001.LogisticNeuron)):
        spec = load_fit_spec(SPEC.with_name(f"{name}.toml"))
        data = prepare(spec.data)
        x = data.X_train[:, 0] if data.X_train.shape[1] == 1 else data.X_train
        y = data.Y_train.ravel()
        peers = {"derive": lambda: run_fit(spec, data=data), "notes": lambda: cls().fit(x, y)}
        times = {k: [] for k in peers}
        for _ in range(max(3, repeats // 3)):
            for k, run in peers.items():
                start = time.perf_counter()
                run()
                times[k].append(time.perf_counter() - start)
        ours, theirs = statistics.median(times["derive"]), statistics.median(times["notes"])
        print(f"  {name:<34} {ours:9.3f} {theirs:9.3f} {ours / theirs:6.2f}×")


if __name__ == "__main__":
    sys.exit(main())
