"""Many copies of one network trained in lock-step: NumPy broadcasting over a leading axis of copies.

Every trained parameter becomes an array with one entry per copy (different learning rates, or
random initial weights from a seed); the generated loop (derive.numeric.train) runs unchanged on those
arrays. Samples, when given, lie on the last axis: full-batch, mini-batch or per-sample updates,
with the batch's gradients averaged or summed. Each copy stops on its own: when any copy's loss
falls below stop_below, the loop returns, the stopped copies are taken out, the rest go on.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from derive.core.reading import DTYPES
from derive.errors import NotSupported, SpecError
from derive.core.limits import (MAX_COPIES, MAX_EPOCHS, MAX_SCALE, MAX_SWEEP_WORK, check_count, check_sweep_memory,
                                check_work)
from derive.numeric.cloop import train_copies_c
from derive.numeric.numba_loop import train_copies_numba
from derive.numeric.train import BACKENDS, LoopSpec, compiled_loop, forward_function, progress_bar

__all__ = ["SweepResult", "train_copies", "sweep", "parse_lrs"]

COMPILED = {"numba": train_copies_numba, "c": train_copies_c}    # the compiled backends, by name
# Copies are trained in runs whose arrays hold at most this many bytes each (25,000 float64s): the arrays
# an epoch touches then stay near the core's L2 cache, where at 100,000 copies they did not (measured at
# 100,000 copies: 0.77× the unrolled hand-written loop in runs of 25,000, 0.81× in runs of 12,288,
# 1.19× in one run)
CHUNK_BYTES = 200_000


@dataclass
class SweepResult:
    """Per copy: parameters after its last update, its last loss, the epoch it stopped at (−1: never)."""

    lrs: np.ndarray
    params: dict[str, np.ndarray]
    loss: np.ndarray
    stopped_at_epoch: np.ndarray
    outputs: np.ndarray              # (copies, outputs) — or (copies, outputs, samples) with data
    epochs: int
    varied: str = "lr"               # what differs between copies: "lr" or "init"
    seconds: float = field(default=0.0, repr=False)

    @property
    def copies(self) -> int:
        return len(self.loss)

    @property
    def epochs_run(self) -> np.ndarray:
        return np.where(self.stopped_at_epoch >= 0, self.stopped_at_epoch + 1, self.epochs)

    def as_json(self) -> dict:
        """One object per copy, as the `train` JSON plus its "lr"; a number that diverged is null."""
        return {"copies": [{"lr": float(self.lrs[k]), "epochs_run": int(self.epochs_run[k]),
                            "stopped_at_epoch": None if self.stopped_at_epoch[k] < 0 else int(self.stopped_at_epoch[k]),
                            "loss": _finite(self.loss[k]), "params": {p: _finite(v[k]) for p, v in self.params.items()},
                            "outputs": [_finite(o) for o in np.asarray(self.outputs[k], dtype=float).reshape(-1)]}
                           for k in range(self.copies)]}


def _finite(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def parse_lrs(text: str) -> np.ndarray:
    """'0.001:0.1:50' (50 rates from 0.001 to 0.1) or '0.05,0.01,0.005'."""
    try:
        if ":" in text:
            lo, hi, n = text.split(":")
            lo, hi, count = float(lo), float(hi), int(n)
            if count > MAX_COPIES:   # before linspace allocates them
                raise OverflowError
            values = np.linspace(lo, hi, count)
        else:
            values = np.array([float(v) for v in text.split(",")])
    except OverflowError:
        raise SpecError("--lr", f"at most {MAX_COPIES} rates (fewer rates)", got=text) from None
    except ValueError:
        raise SpecError("--lr", "rates as START:STOP:COUNT or a comma-separated list", got=text) from None
    check_count(values.size, "--lr", MAX_COPIES, "fewer rates")
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise SpecError("--lr", "at least one finite learning rate", got=text)
    return values


def sweep(net, *, lrs=None, copies: int | None = None, seed: int | None = None, scale: float = 1.0,
          epochs: int, stop_below: float | None = None, dtype: str = "float64", backend: str = "python",
          progress: bool | None = False) -> SweepResult:
    """A sweep over learning rates (`lrs`), or over `copies` random initial weights (uniform in ±scale)."""
    trained = net.trained
    check_count(epochs, "--epochs", MAX_EPOCHS, "fewer epochs, or --stop-below")
    now = net.param_values()
    if lrs is not None:
        lrs = np.asarray(lrs, dtype=float)
        init = {p: np.full(lrs.size, now[p]) for p in trained}
        varied = "lr"
    else:
        if not copies or copies < 1:
            raise SpecError("--copies", "a whole number >= 1", got=copies)
        check_count(copies, "--copies", MAX_COPIES, "fewer copies")
        if not (math.isfinite(scale) and 0 <= scale <= MAX_SCALE):
            raise SpecError("--scale", f"a number from 0 to {MAX_SCALE:g} (the range of the initial weights)", got=scale)
        rng = np.random.default_rng(seed)
        init = {p: rng.uniform(-scale, scale, copies) for p in trained}
        lrs = np.full(copies, net.spec.learning_rate)
        varied = "init"
    per_epoch = len(trained) * max(1, len(net.spec.samples)) * len(lrs)
    check_work(epochs, per_epoch, "--epochs", MAX_SWEEP_WORK, "fewer epochs or copies, or --stop-below", net.spec.source)
    check_sweep_memory(len(lrs), len(net.spec.samples), sum(net.spec.layers[1:]) + len(net.params), net.spec.source)
    batch = {}
    if net.spec.samples:   # a batch spec: every copy trains on all its samples, full-batch
        batch = dict(data=(np.array([x for x, _ in net.spec.samples]), np.array([t for _, t in net.spec.samples])),
                     reduction=net.spec.reduction)
    result = train_copies(net, init, lrs, epochs=epochs, stop_below=stop_below, dtype=dtype, backend=backend,
                          progress=progress, **batch)
    result.varied = varied
    return result


@np.errstate(all="ignore")      # a copy that diverges ends as nan/inf in its row (null in JSON), never a warning
def train_copies(net, init: dict[str, np.ndarray], lrs, *, epochs: int, stop_below: float | None = None,
                 dtype: str = "float64", data: tuple | None = None, batch_size: int | None = None,
                 reduction: str = "mean", backend: str = "python", progress: bool | None = False) -> SweepResult:
    """Train len(lrs) copies from the initial values `init` (trained params by canonical name, one entry
    per copy). `data` = (inputs (N, n_in), targets (N, n_out)) replaces the spec's one sample."""
    if dtype not in DTYPES:
        raise SpecError("dtype", f"one of {', '.join(DTYPES)}", got=dtype)
    if reduction not in ("mean", "sum"):
        raise SpecError("reduction", "mean or sum", got=reduction)
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    if backend in COMPILED:
        if data is not None or dtype != "float64":
            raise NotSupported(f"the {backend} backend trains float64 networks on their one sample only")
        started = time.perf_counter()
        final, loss, stopped = COMPILED[backend](net, init, lrs, epochs=epochs, stop_below=stop_below)
        return _result(net, final, lrs, loss, stopped, epochs, np.float64, None, False, time.perf_counter() - started)
    if backend not in BACKENDS:
        raise SpecError("backend", f"one of {', '.join(BACKENDS)}", got=backend)
    ftype = np.dtype(dtype).type
    bar_wanted = progress or (progress is None and sys.stderr.isatty())
    if data is not None or bar_wanted or lrs.size <= CHUNK_BYTES // np.dtype(ftype).itemsize:
        return _train_numpy(net, init, lrs, epochs, stop_below, ftype, data, batch_size, reduction, progress)
    return _merged([_train_numpy(net, part, lrs[cut], epochs, stop_below, ftype, None, batch_size, reduction, False)
                    for cut, part in _chunks(init, lrs.size, CHUNK_BYTES // np.dtype(ftype).itemsize)])


def _chunks(init: dict, copies: int, most: int):
    """(slice, its initial values) for equal runs of at most `most` copies."""
    count = -(-copies // most)
    for k in range(count):
        cut = slice(k * copies // count, (k + 1) * copies // count)
        part = {}
        for name, values in init.items():
            values = np.asarray(values).reshape(-1)
            part[name] = values[cut] if values.size == copies else values
        yield cut, part


def _merged(parts: list[SweepResult]) -> SweepResult:
    """One result from the results of consecutive runs of copies."""
    first = parts[0]
    return SweepResult(lrs=np.concatenate([p.lrs for p in parts]),
                       params={k: np.concatenate([p.params[k] for p in parts]) for k in first.params},
                       loss=np.concatenate([p.loss for p in parts]),
                       stopped_at_epoch=np.concatenate([p.stopped_at_epoch for p in parts]),
                       outputs=np.concatenate([p.outputs for p in parts]), epochs=first.epochs,
                       seconds=sum(p.seconds for p in parts))


def _initial_state(net, init, copies, ftype, data, batched):
    graph = net.graph
    names = graph.names_by_canonical
    state = {k: ftype(v) for k, v in graph.leaf_values().items()}
    shape = (copies, 1) if batched else (copies,)
    for canonical, values in init.items():
        state[names[canonical]] = np.array(np.broadcast_to(np.asarray(values, dtype=ftype).reshape(-1), (copies,))).reshape(shape)
    if data is not None:
        inputs, targets = (np.asarray(a, dtype=ftype) for a in data)
        if inputs.ndim != 2 or targets.ndim != 2 or inputs.shape[0] != targets.shape[0] \
                or inputs.shape[1] != len(graph.inputs) or targets.shape[1] != len(graph.targets):
            raise SpecError("data", f"inputs (N, {len(graph.inputs)}) and targets (N, {len(graph.targets)})",
                            got=f"{inputs.shape} and {targets.shape}")
        for j, node in enumerate(graph.inputs):
            state[node.name] = np.ascontiguousarray(inputs[:, j])
        for j, node in enumerate(graph.targets):
            state[node.name] = np.ascontiguousarray(targets[:, j])
    return state


def _train_numpy(net, init, lrs, epochs, stop_below, ftype, data, batch_size, reduction, progress):
    started = time.perf_counter()
    copies, batched = lrs.size, data is not None
    state = _initial_state(net, init, copies, ftype, data, batched)
    n = len(state[net.graph.inputs[0].name]) if batched else 1
    bs = n if batch_size is None else int(batch_size)
    if bs < 1:
        raise SpecError("batch_size", "a whole number >= 1", got=batch_size)
    spec = LoopSpec(dialect="numpy", stop=stop_below is not None, record=False, batched=batched, stop_any=True)
    loop = compiled_loop(net.program, net.trained, spec, mean=reduction == "mean")
    names = net.graph.names_by_canonical
    trained = [names[c] for c in net.trained]
    lr = lrs.astype(ftype).reshape((copies, 1) if batched else (copies,))
    threshold = None if stop_below is None else ftype(stop_below)
    uniform = bool(np.all(lr == lr.flat[0]))
    active = np.arange(copies)
    final = {p: np.empty(copies, dtype=ftype) for p in trained}
    loss = np.full(copies, np.nan, dtype=ftype)
    stopped = np.full(copies, -1, dtype=np.int64)
    start, chunk = 0, max(1, int(2e6 // max(copies * max(bs, 1), 1)))
    bar = progress_bar(epochs) if progress or (progress is None and sys.stderr.isatty()) else None
    while start < epochs and active.size:
        end = min(epochs, start + chunk) if bar is not None else epochs
        rate = lr.flat[0] if uniform else lr       # one rate for all: a scalar, one array fewer to read
        last_loss, last, hit = loop(state, start, end, rate, threshold, None, None, 1, bs, reduction == "mean")
        last_loss = np.broadcast_to(np.asarray(last_loss).reshape(-1), (active.size,))
        if bar is not None:
            bar.update(last + 1 - start)
        start = last + 1
        done = (last_loss < threshold) if hit >= 0 else np.zeros(active.size, bool)
        if start >= epochs:
            done = np.ones(active.size, bool)
        if done.any():
            idx = active[done]
            if hit >= 0:
                stopped[idx] = np.where(last_loss[done] < threshold, last, -1)
            loss[idx] = last_loss[done]
            for p in trained:
                final[p][idx] = np.asarray(state[p]).reshape(-1)[done]
            keep = ~done
            active = active[keep]
            lr = lr[keep]
            for p in trained:
                state[p] = state[p][keep]
    if bar is not None:
        bar.close()
    return _result(net, final, lrs, loss, stopped, epochs, ftype, data, batched, time.perf_counter() - started)


def _result(net, final, lrs, loss, stopped, epochs, ftype, data, batched, seconds) -> SweepResult:
    graph = net.graph
    names = graph.names_by_canonical
    state = _initial_state(net, {}, lrs.size, ftype, data, batched)
    params = {}
    for canonical in net.params:
        name = names[canonical]
        value = final[name] if name in final else np.full(lrs.size, state[name], dtype=ftype)
        params[canonical] = value
        state[name] = value.reshape((-1, 1)) if batched else value
    outputs = np.stack([np.broadcast_to(o, (lrs.size,) + np.shape(o)[1:]) for o in forward_function(net.program)(state)], axis=1)
    return SweepResult(lrs=lrs, params=params, loss=loss, stopped_at_epoch=stopped, outputs=outputs, epochs=epochs,
                       seconds=seconds)

