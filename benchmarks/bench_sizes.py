"""Every CLI command on nets of many shapes, each run as a child process with a time and memory limit.

The size goal (issue 14): every command on any net of up to 100,000 weights answers, with a result or
a clear one-line refusal, in under 30 s and 2 GB; up to 1,000 weights, everything completes (exit 0).
For each shape this writes a values spec (sigmoid layers, half_sse, per-neuron biases, seeded weights
and a [hand] table of the output and the loss computed here with NumPy), a correct dict-form gradient
function for check-code (backprop written here, sharing no code with derive), and for the data-set
shapes a data-set spec; then runs gradients, chain, check, check --numeric, check-code, train, sweep,
latex, notes and fit (data-set specs) and the extreme options, recording wall time, peak RSS
(os.wait4's rusage of that child), the exit status and what the answer was:

    result   exit 0 (or 1, a mismatch reported), a complete answer
    refusal  exit 2 with one line `derive: …` on stderr and no traceback
    TIMEOUT / KILLED / CRASH   the goal missed (past the time limit, killed, or a traceback)

    PYTHONPATH=. python benchmarks/bench_sizes.py [--only NAME,…] [--timeout 30] [--memory-gb 2] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

# name -> layers (values specs: sigmoid layers, half_sse)
SHAPES = {
    "2x26": [2] * 26,                 # 100 weights, 25 deep: 2^24 paths to w1
    "1-1000": [1, 1000],              # 1,000 weights, wide
    "1000-1": [1000, 1],              # 1,000 weights, one output fed by 1,000 inputs
    "10x11": [10] * 11,               # 1,000 weights, 10 deep, 10^9 paths to w1
    "20-25-20": [20, 25, 20],         # 1,000 weights
    "30-30-30": [30, 30, 30],         # 1,800 weights
    "100-100": [100, 100],            # 10,000 weights
    "30x12": [30] * 12,               # 9,900 weights, deep
    "50x40": [50] * 40,               # 97,500 weights, 39 deep
    "316-316": [316, 316],            # 99,856 weights
    "1-100000": [1, 100000],          # 100,000 weights
    "1000-1000": [1000, 1000],        # 1,000,000 weights: past the limit
}

# name -> (layers, dataset) for data-set specs (matrix form)
FIT_SHAPES = {
    "fit-30-10-1": ([30, 10, 1], "breast_cancer"),          # 310 weights
    "fit-64-1000-10": ([64, 1000, 10], "digits"),           # 74,000 weights
    "fit-30-3000-1": ([30, 3000, 1], "breast_cancer"),      # 93,000 weights
}


def weights_count(layers) -> int:
    return sum(a * b for a, b in zip(layers, layers[1:]))


# --- the specs and the user's correct gradient function ----------------------------------------------

def compact(layers) -> bool:
    """A net whose numbers would not fit the 2 MB spec-file limit at six decimals ([1, 100000]: 300,000 numbers):
    two decimals and no biases."""
    return weights_count(layers) + 2 * layers[-1] > 150_000


def draw(layers, seed=0):
    """Inputs, targets, weight matrices (n_out, n_in) and bias vectors, small enough not to saturate."""
    rng = np.random.default_rng(seed)
    digits = 2 if compact(layers) else 6
    x = rng.uniform(0.1, 0.9, layers[0])
    t = rng.uniform(0.1, 0.9, layers[-1])
    ws = [rng.normal(0, 1 / np.sqrt(a), (b, a)) for a, b in zip(layers, layers[1:])]
    bs = [rng.normal(0, 0.1, b) for b in layers[1:]]
    cut = lambda a: np.round(a, digits)      # 100,000 weights fit the 2 MB spec-file limit
    bs = [b * 0 for b in bs] if compact(layers) else bs
    return cut(x), cut(t), [cut(w) for w in ws], [cut(b) for b in bs]


def forward(x, ws, bs):
    acts = [x]
    for w, b in zip(ws, bs):
        acts.append(1 / (1 + np.exp(-(w @ acts[-1] + b))))
    return acts


def numbers(a) -> str:
    return "[" + ", ".join(f"{float(v):g}" if abs(v) >= 1e-4 or v == 0 else repr(float(v)) for v in np.ravel(a)) + "]"


def values_spec(layers) -> str:
    x, t, ws, bs = draw(layers)
    acts = forward(x, ws, bs)
    loss = 0.5 * float(np.sum((t - acts[-1]) ** 2))
    hand = f'[hand]\nout_o1 = "{acts[-1][0]:.6f}"\nE_total = "{loss:.6g}"\n' if len(layers) > 2 else \
        f'[hand]\nE_total = "{loss:.6g}"\n'
    return (f'title = "bench {"-".join(map(str, layers[:4]))}{"…" if len(layers) > 4 else ""}"\n'
            f'[network]\nlayers = {layers}\nactivations = {json.dumps(["sigmoid"] * (len(layers) - 1))}\n'
            f'loss = "half_sse"\n' + ('bias = "none"\n' if compact(layers) else "")
            + f'\n[values]\ninputs = {numbers(x)}\ntargets = {numbers(t)}\n'
            f'weights = {numbers(np.concatenate([w.ravel() for w in ws]))}\n'
            + ("" if compact(layers) else f'biases = {numbers(np.concatenate(bs))}\n')
            + f'learning_rate = 0.5\n\n{hand}')


USER_CODE = '''"""A correct dict-form gradient function for check-code (backprop by matrices, written for the bench)."""
import numpy as np

LAYERS = {layers}
X = np.array({x})
T = np.array({t})


def gradients(params):
    ws, bs, k, j = [], [], 1, 1
    for a, b in zip(LAYERS, LAYERS[1:]):
        ws.append(np.array([params[f"w{{k + i}}"] for i in range(a * b)]).reshape(b, a))
        bs.append(np.array([params.get(f"b{{j + i}}", 0.0) for i in range(b)]))
        k, j = k + a * b, j + b
    acts = [X]
    for w, b in zip(ws, bs):
        acts.append(1 / (1 + np.exp(-(w @ acts[-1] + b))))
    delta = (acts[-1] - T) * acts[-1] * (1 - acts[-1])
    gw, gb = [], []
    for layer in range(len(ws) - 1, -1, -1):
        gw.insert(0, np.outer(delta, acts[layer]))
        gb.insert(0, delta)
        if layer:
            delta = (ws[layer].T @ delta) * acts[layer] * (1 - acts[layer])
    out = {{f"w{{i + 1}}": float(v) for i, v in enumerate(np.concatenate([g.ravel() for g in gw]))}}
    out.update({{f"b{{i + 1}}": float(v) for i, v in enumerate(np.concatenate(gb)) if f"b{{i + 1}}" in params}})
    return out
'''


def user_code(layers) -> str:
    x, t, _, _ = draw(layers)
    return USER_CODE.format(layers=layers, x=numbers(x), t=numbers(t))


def fit_spec(layers, dataset) -> str:
    return (f'title = "bench fit {"-".join(map(str, layers))}"\n[network]\nlayers = {layers}\n'
            f'activations = {json.dumps(["sigmoid"] * (len(layers) - 1))}\nloss = "bce"\n\n'
            f'[data]\ndataset = "{dataset}"\ntest_size = 0.2\nrandom_state = 0\nscale = "standard"\n\n'
            f'[init]\nweights = "normal"\nbiases = "zeros"\nseed = 0\n\n'
            f'[fit]\nepochs = 20\nlearning_rate = 0.1\nupdates = "full_batch"\naverage = true\n')


def commands(spec: str, code: str | None, out: Path) -> list[tuple[str, list[str]]]:
    """(label, argv after `derive`) for every command on one values spec."""
    rows = [("gradients", ["gradients", spec]), ("gradients --json", ["gradients", spec, "--json"]),
            ("chain w1", ["chain", spec, "w1"]), ("check", ["check", spec]),
            ("check --numeric", ["check", spec, "--numeric"]),
            ("train --epochs 100", ["train", spec, "--epochs", "100"]),
            ("sweep --lr 0.1,0.5", ["sweep", spec, "--lr", "0.1,0.5", "--epochs", "20"]),
            ("latex w1", ["latex", spec, "w1"]), ("notes", ["notes", spec, "-o", str(out / "notes.md"), "--force"])]
    if code:
        rows.insert(5, ("check-code", ["check-code", spec, f"{code}:gradients"]))
    return rows


NOT_FOR_FIT = "(refused: not for a data-set spec)"


def fit_commands(spec: str, out: Path) -> list[tuple[str, list[str]]]:
    """fit and notes take a data-set spec; gradients is there to show the one-line refusal the others give."""
    return [("fit", ["fit", spec]), ("fit --json", ["fit", spec, "--json"]),
            ("notes", ["notes", spec, "-o", str(out / "notes.md"), "--force"]),
            (f"gradients {NOT_FOR_FIT}", ["gradients", spec])]


def extreme_commands(spec: str, epochs_spec: str) -> list[tuple[str, list[str]]]:
    return [("train --epochs 1000000000", ["train", spec, "--epochs", "1000000000"]),
            ("train [train] epochs = 1e12", ["train", epochs_spec]),
            ("sweep --copies 100000000", ["sweep", spec, "--copies", "100000000"]),
            ("check-code --points 10000000", ["check-code", spec, "x.py:f", "--points", "10000000"])]


# --- running one command in a limited child ------------------------------------------------------------

def limits(memory_bytes: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    return apply


def run(argv: list[str], timeout: float, memory_bytes: int, workdir: Path) -> dict:
    """One `python -m derive …` under RLIMIT_AS, killed at `timeout`; time, peak RSS, status, answer."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    with open(workdir / "stdout", "w+b") as out, open(workdir / "stderr", "w+b") as err:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "derive", *argv], stdout=out, stderr=err, env=env,
                                 cwd=workdir, preexec_fn=limits(memory_bytes))
        timer = threading.Timer(timeout, child.kill)
        timer.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        timed_out = not timer.is_alive()
        timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    code = child.returncode
    lines = [line for line in stderr.splitlines() if not line.startswith("derive: warning:")]
    if timed_out:
        answer = "TIMEOUT"
    elif code < 0:
        answer = "KILLED"
    elif "Traceback" in stderr or code not in (0, 1, 2):
        answer = "CRASH"
    elif code == 2:
        answer = "refusal" if len(lines) == 1 and lines[0].startswith("derive: ") else "CRASH"
    else:
        answer = "result"
    shown = lines if answer != "result" else stdout.strip().splitlines()
    return {"status": code, "seconds": round(wall, 2), "peak_mb": round(usage.ru_maxrss / 1024),
            "answer": answer, "line": (shown[-1] if shown else "")[:160]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated shape names (default: all)")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--memory-gb", type=float, default=2.0)
    parser.add_argument("--json", help="write the rows to this file")
    parser.add_argument("--no-extreme", action="store_true", help="skip the extreme-option runs")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    memory = int(args.memory_gb * 2**30)
    rows = []
    with tempfile.TemporaryDirectory(prefix="derive-bench-sizes-") as tmp:
        tmp = Path(tmp)
        jobs = []
        for name, layers in SHAPES.items():
            if only and name not in only:
                continue
            folder = tmp / name
            folder.mkdir()
            spec, code = folder / "net.toml", folder / "user.py"
            spec.write_text(values_spec(layers))
            code.write_text(user_code(layers))
            jobs += [(name, weights_count(layers), label, cmd, folder)
                     for label, cmd in commands(str(spec), str(code), folder)]
        for name, (layers, dataset) in FIT_SHAPES.items():
            if only and name not in only:
                continue
            folder = tmp / name
            folder.mkdir()
            spec = folder / "fit.toml"
            spec.write_text(fit_spec(layers, dataset))
            jobs += [(name, weights_count(layers), label, cmd, folder) for label, cmd in fit_commands(str(spec), folder)]
        if not args.no_extreme and not only:
            folder = tmp / "extreme"
            folder.mkdir()
            small = folder / "net.toml"
            small.write_text(values_spec([2, 2, 2]))
            big = folder / "epochs.toml"
            big.write_text(values_spec([2, 2, 2]) + "\n[train]\nepochs = 1e12\n")
            (folder / "x.py").write_text(user_code([2, 2, 2]).replace("def gradients", "def f"))
            jobs += [("extreme 2-2-2", 8, label, cmd, folder) for label, cmd in extreme_commands(str(small), str(big))]
        for name, n, label, cmd, folder in jobs:
            row = {"shape": name, "weights": n, "command": label,
                   **run(cmd, args.timeout, memory, folder)}
            rows.append(row)
            print(f"{name:<16} {n:>9,} {label:<30} {row['answer']:<8} {row['status']:>3} {row['seconds']:>7.2f}s "
                  f"{row['peak_mb']:>6} MB  {row['line']}", flush=True)
    missed = [r for r in rows if r["answer"] not in ("result", "refusal") or r["seconds"] > args.timeout
              or (r["weights"] <= 1000 and r["answer"] != "result" and not r["shape"].startswith("extreme")
                  and NOT_FOR_FIT not in r["command"])]
    print(f"\n{len(rows)} runs; goal missed by {len(missed)}: " + ", ".join(f"{r['shape']} {r['command']}" for r in missed))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
