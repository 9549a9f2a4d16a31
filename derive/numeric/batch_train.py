"""Full-batch gradient descent for a batch spec: every epoch, the loss the mean (or sum) of the
samples' losses and one update w ← w − lr·∂E/∂w with the batch gradient.

It is the generated training loop (numeric.train) in its batched NumPy variant, the samples on the
last axis and one mini-batch the size of the batch: the same lines as `derive gradients`, reduced
over the samples by the spec's values.reduction.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from derive.core.limits import MAX_TRAIN_WORK, check_work
from derive.core.reading import DTYPES
from derive.errors import SpecError
from derive.numeric.train import LoopSpec, TrainResult, by_neuron, check_settings, compiled_loop, forward_function

__all__ = ["train_batch"]


def train_batch(net, *, epochs: int, lr: float, stop_below: float | None = None, dtype: str = "float64",
                print_every: int | None = None, out=None, backend: str = "python") -> TrainResult:
    """Train a batch spec's network on all its samples at once; `outputs` holds one row per sample."""
    if dtype not in DTYPES:
        raise SpecError("dtype", f"one of {', '.join(DTYPES)}", got=dtype)
    if backend != "python":
        raise SpecError("backend", "python for a batch spec (numba trains one sample)", got=backend)
    check_settings(epochs, lr, stop_below, print_every)
    check_work(epochs, len(net.trained) * len(net.spec.samples), "epochs", MAX_TRAIN_WORK,
               "fewer epochs, or stop_below", net.spec.source)
    ftype = np.dtype(dtype).type
    state = _state(net, ftype)
    mean = net.spec.reduction == "mean"
    spec = LoopSpec(dialect="numpy", stop=stop_below is not None, report=print_every is not None, record=True,
                    batched=True, stop_any=True)
    loop = compiled_loop(net.program, net.trained, spec, mean=mean)
    losses = np.zeros((epochs, 1, 1), dtype=ftype)
    report = _transcript(net, out or sys.stdout) if print_every is not None else None
    threshold = None if stop_below is None else ftype(stop_below)
    m = len(net.spec.samples)
    started = time.perf_counter()
    with np.errstate(all="ignore"):   # a diverged run is reported once by check_finite, not warned about
        loss, last, stopped = loop(state, 0, epochs, np.full((1, 1), lr, dtype=ftype), threshold, losses, report,
                                   print_every or 1, m, mean)
        outputs = _outputs(net, state, ftype)
    names = net.graph.names_by_canonical
    params = {c: float(np.asarray(state[names[c]]).reshape(-1)[0]) for c in net.params}
    run = last + 1
    return TrainResult(params=params, loss=float(np.asarray(loss).reshape(-1)[0]),
                       stopped_at_epoch=None if stopped < 0 else stopped,
                       losses=[float(x) for x in losses[:run].reshape(-1)], epochs_run=run, outputs=outputs,
                       dtype=dtype, seconds=time.perf_counter() - started)


def _state(net, ftype) -> dict:
    """The loop's state: trained parameters as (1, 1) arrays, the samples' inputs and targets as (m,) rows."""
    g = net.graph
    with np.errstate(over="ignore"):
        state = {k: ftype(v) for k, v in g.leaf_values().items()}
        for c in net.trained:
            state[g.names_by_canonical[c]] = np.full((1, 1), net.param_values()[c], dtype=ftype)
        xs = np.array([x for x, _ in net.spec.samples], dtype=ftype)
        ts = np.array([t for _, t in net.spec.samples], dtype=ftype)
    for j, node in enumerate(g.inputs):
        state[node.name] = np.ascontiguousarray(xs[:, j])
    for j, node in enumerate(g.targets):
        state[node.name] = np.ascontiguousarray(ts[:, j])
    big = next((k for k, v in state.items() if not np.all(np.isfinite(v))), None)
    if big is not None:
        raise SpecError("values", f"numbers that {np.dtype(ftype).name} can hold", got=big, source=net.spec.source)
    return state


def _outputs(net, state, ftype) -> list[list[float]]:
    """Every sample's outputs with the trained parameters: one row per sample."""
    outs = forward_function(net.program)(state)
    m = len(net.spec.samples)
    columns = [np.broadcast_to(np.asarray(o, dtype=np.float64).reshape(-1), (m,)) for o in outs]
    return [[float(c[s]) for c in columns] for s in range(m)]


def _transcript(net, out):
    """The notes' transcript for a batch: `epoch = 0`, each output at every sample, each trained parameter."""
    graph = net.graph
    outs = [o.name for o in graph.outputs]
    trained = [p.name for p in graph.trained_params]
    order = [trained.index(name) for name in by_neuron(graph) if name in trained]

    def report(epoch, ys, ps):
        lines = [f"epoch = {epoch}"]
        lines += [f" {n} : " + " ".join(f"{v:.3f}" for v in np.asarray(y, dtype=float).reshape(-1))
                  for n, y in zip(outs, ys)]
        lines += [f" {trained[i]} : {float(np.asarray(ps[i]).reshape(-1)[0]):.3f}" for i in order]
        out.write("\n".join(lines) + "\n")

    return report
