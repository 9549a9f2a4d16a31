"""Gradient descent with the notes' semantics, the whole loop generated as one Python function.

The loop body is the program's own forward/backward/gradient lines (numeric.Program), followed by
w ← w − lr·∂E/∂w: no function call per step. Epochs count from 0; each epoch runs forward, loss,
gradients, update, then stops if that epoch's loss (computed before its update) is below
stop_below. float64 on one sample runs on Python floats (the fastest CPython can do); float32 runs
on NumPy float32 scalars, so every operation rounds to float32 as Keras does.
"""

from __future__ import annotations

import ast
import math
import re
import sys
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Callable

import numpy as np

from derive.core.primitives import LOSSES
from derive.core.reading import DTYPES
from derive.errors import Diverged, SpecError, StartsPastDtype
from derive.core.limits import MAX_EPOCHS, MAX_TRAIN_WORK, check_count, check_work
from derive.extras import MissingExtra, require
from derive.numeric.buffers import buffered_lines
from derive.numeric.codegen import NUMPY, PLAIN, RUNTIME, SCALAR, SCALAR_RUNTIME, Dialect, Program, needed_lines
from derive.numeric.cloop import train_network_c
from derive.numeric.numba_loop import train_network_numba

__all__ = ["BACKENDS", "TrainResult", "LoopSpec", "loop_source", "compiled_loop", "train_network", "check_finite", "forward_function"]

# the one set of backend names, for single runs and sweeps: derive's generated Python/NumPy loop, the
# same loop compiled by numba (extra `fast`), or printed as C and built by the platform's compiler
# (extra `compiled`: cffi, and gcc or clang)
BACKENDS = ("python", "numba", "c")
COMPILED = {"numba": train_network_numba, "c": train_network_c}


@dataclass
class TrainResult:
    """What a run of the loop leaves: parameters after the last update, that epoch's loss, the history."""

    params: dict[str, float]
    loss: float
    stopped_at_epoch: int | None
    losses: list[float]
    epochs_run: int
    outputs: list[float]
    dtype: str = "float64"
    seconds: float = field(default=0.0, repr=False)
    diverged: Callable[[str], str] | None = field(default=None, repr=False, compare=False)   # the message, if so

    def as_json(self) -> dict:
        """The `train` JSON object (docs/json.md); a batch's outputs are one list per sample."""
        return {"epochs_run": self.epochs_run, "stopped_at_epoch": self.stopped_at_epoch,
                "loss": float(self.loss), "params": {k: float(v) for k, v in self.params.items()},
                "outputs": [float(o) if np.ndim(o) == 0 else [float(v) for v in o] for o in self.outputs]}


@dataclass(frozen=True)
class LoopSpec:
    """Which variant of the loop to generate."""

    dialect: str = "scalar"      # "scalar" (Python floats) or "numpy" (arrays, any dtype)
    stop: bool = False           # test the loss against stop_below each epoch
    report: bool = False         # call _report(epoch, outputs, params) every _every epochs
    record: bool = True          # keep every epoch's loss in _losses
    batched: bool = False        # data on the last axis, mini-batches inside the epoch (numpy only)
    stop_any: bool = False       # arrays: leave the loop when any copy's loss is below stop_below
    plain: bool = False          # scalar: the registry's plain forms (may raise OverflowError; see falling_back)


def loop_source(program: Program, trained: list[str], spec: LoopSpec) -> str:
    """def _train(_state, _start, _end, _lr, _stop_below, _losses, _report, _every): the whole loop."""
    net = program.net
    dialect: Dialect = (PLAIN if spec.plain else SCALAR) if spec.dialect == "scalar" else NUMPY
    forward, backward, gradient = program.lines(dialect)
    by_canonical = {p.canonical: p for p in net.params}
    params = [by_canonical[c] for c in trained]
    total, outs = net.total.name, [o.name for o in net.outputs]
    if spec.batched:
        gradient = [line.replace(" = ", " = _red(", 1) + ")" for line in gradient]
    grads = {f"_g_{p.canonical}" for p in params}
    body = needed_lines(forward + backward + gradient, {total, *outs, *grads})
    if spec.dialect == "numpy" and not (spec.stop or spec.record or spec.report or spec.batched):
        body = _loss_in_last_epoch_only(body, needed_lines(body, grads))
    data = [n.name for n in net.inputs + net.targets]
    head = [f"{leaf} = _state[{leaf!r}]" for leaf in program.leaves if leaf not in data or not spec.batched]
    if spec.dialect == "scalar":     # math's functions as locals: LOAD_FAST in the loop, as `from math import exp`
        used = set(re.findall(r"\b_\w+(?=\()", "\n".join(body)))
        head += [f"{name} = _rt{name}" for name in SCALAR_RUNTIME if name in used]
    if spec.dialect == "numpy":      # in place: the state's arrays are the loop's own copies
        updates = [f"{p.name} -= _lr*_g_{p.canonical}" for p in params]
    else:
        updates = [f"{p.name} = {p.name} - _lr*_g_{p.canonical}" for p in params]
    step = body + updates
    setup: list[str] = []
    if spec.dialect == "numpy" and not (spec.batched or spec.record):
        step = _updates_early(body, updates, params)
        setup, step = buffered_lines(step, program.expressions())
        setup = ["_shape = np.broadcast_shapes(*[np.shape(_v) for _v in _state.values()])",
                 "_dtype = np.result_type(*_state.values())"] + setup
    if spec.batched:
        head += [f"_D_{d} = _state[{d!r}]" for d in data] + [f"_n = _D_{data[0]}.shape[-1]"]
        slices = [f"{d} = _D_{d}[..., _b0:_b0 + _bs]" for d in data]
        inner = slices + body + [f"_sum = _sum + _red_sum({total})"] + updates
        step = ["_sum = 0", "for _b0 in range(0, _n, _bs):"] + ["    " + s for s in inner]
        step.append(f"{total} = _sum / _n if _mean else _sum")
    lines = head + setup + [f"{total} = _nan", "_epoch = _start - 1", "_stopped = -1",
                    "for _epoch in range(_start, _end):"]
    lines += ["    " + s for s in step]
    if spec.record:
        lines.append(f"    _losses[_epoch] = {total}")
    if spec.stop:
        test = f"({total} < _stop_below).any()" if spec.stop_any else f"{total} < _stop_below"
        lines.append(f"    _stop = {test}")
    if spec.report:
        last = " or _stop" if spec.stop else ""
        lines.append(f"    if _epoch % _every == 0 or _epoch == _end - 1{last}:")
        lines.append(f"        _report(_epoch, ({', '.join(outs)},), ({', '.join(p.name for p in params)},))")
    if spec.stop:
        lines += ["    if _stop:", "        _stopped = _epoch", "        break"]
    lines += [f"_state[{p.name!r}] = {p.name}" for p in params]
    lines.append(f"return {total}, _epoch, _stopped")
    signature = "_state, _start, _end, _lr, _stop_below, _losses, _report, _every, _bs=1, _mean=True"
    return f"def _train({signature}):\n" + "\n".join("    " + s for s in lines) + "\n"


def _updates_early(body: list[str], updates: list[str], params) -> list[str]:
    """Arrays: each update right after the last statement that reads its parameter's old value or defines
    its gradient (the same operations, so the same numbers): its gradient's buffer is free again at once,
    and fewer arrays are live, warm in the cache."""
    statements: list[list[str]] = []
    for line in body:                             # an indented line belongs to the statement above it
        if line.startswith(" ") and statements:
            statements[-1].append(line)
        else:
            statements.append([line])
    names = [{n.id for n in ast.walk(ast.parse("\n".join(st))) if isinstance(n, ast.Name)} for st in statements]
    after: dict[int, list[str]] = {}
    for p, update in zip(params, updates):
        uses = [i for i, used in enumerate(names) if p.name in used or f"_g_{p.canonical}" in used]
        after.setdefault(max(uses, default=len(statements) - 1), []).append(update)
    out = [update for update in after.get(-1, [])]
    for i, st in enumerate(statements):
        out += st + after.get(i, [])
    return out


def _loss_in_last_epoch_only(body: list[str], for_gradients: list[str]) -> list[str]:
    """Arrays: lines only the loss needs (E_o1, E_total, …) run in the last epoch alone (fewer passes)."""
    rest = [line for line in body if line not in for_gradients]
    if not rest:
        return body
    return for_gradients + ["if _epoch == _end - 1:"] + ["    " + line for line in rest]


def _reducers(mean: bool):
    if mean:
        return (lambda a: a.mean(-1, keepdims=True)), (lambda a: a.sum(-1, keepdims=True))
    return (lambda a: a.sum(-1, keepdims=True)), (lambda a: a.sum(-1, keepdims=True))


@lru_cache(maxsize=64)
def _compiled(source: str, dialect: str, mean: bool):
    namespace = dict(RUNTIME) if dialect == "numpy" else dict(SCALAR_RUNTIME)
    namespace.update({f"_rt{name}": f for name, f in SCALAR_RUNTIME.items()})
    red, red_sum = _reducers(mean)
    namespace.update(_nan=math.nan, _red=red, _red_sum=red_sum)
    exec(compile(source, "<derive training loop>", "exec"), namespace)  # our own generated code only
    return namespace["_train"]


def compiled_loop(program: Program, trained: list[str], spec: LoopSpec, mean: bool = True):
    """The generated loop as a function (generated and compiled once per program and variant)."""
    cache = program.__dict__.setdefault("_loops", {})
    key = (tuple(trained), spec, mean)
    if key not in cache:
        cache[key] = _compiled(loop_source(program, trained, spec), spec.dialect, mean)
    return cache[key]


def train_network(net, *, epochs: int, lr: float, stop_below: float | None = None, dtype: str = "float64",
                  print_every: int | None = None, progress: bool | None = None, out=None,
                  backend: str = "python", lr_key: str = "lr") -> TrainResult:
    """Train one network on its spec's sample; `print_every` prints the notes' transcript to `out`.
    backend "python" (generated Python/NumPy loop), "numba" (the same loop compiled; extra `fast`) or "c"
    (printed as C, built by gcc; extra `compiled`).
    `lr_key` names where the learning rate came from (values.learning_rate, --lr) in a divergence's line."""
    if dtype not in DTYPES:
        raise SpecError("dtype", f"one of {', '.join(DTYPES)}", got=dtype)
    check_settings(epochs, lr, stop_below, print_every)
    check_work(epochs, len(net.trained), "epochs", MAX_TRAIN_WORK, "fewer epochs, or stop_below", net.spec.source)
    if backend in COMPILED:
        if dtype != "float64" or print_every is not None:
            raise SpecError("backend", f"python for float32 or a transcript ({backend} runs float64, silently)",
                            got=backend)
        return _train_compiled(net, epochs, lr, stop_below, COMPILED[backend], lr_key)
    if backend not in BACKENDS:
        raise SpecError("backend", f"one of {', '.join(BACKENDS)}", got=backend)
    program, trained = net.program, net.trained
    spec = LoopSpec(dialect="scalar" if dtype == "float64" else "numpy", stop=stop_below is not None,
                    report=print_every is not None)
    loop = compiled_loop(program, trained, spec)
    if spec.dialect == "scalar" and not spec.report:     # a transcript cannot take back lines it printed
        loop = falling_back(compiled_loop(program, trained, replace(spec, plain=True)), loop)
    cast = (lambda v: float(v)) if dtype == "float64" else np.float32
    with np.errstate(over="ignore"):   # a value float32 cannot hold is reported below, not warned about
        state = {k: cast(v) for k, v in net.graph.leaf_values().items()}
    big = next((k for k, v in state.items() if not math.isfinite(float(v))), None)
    if big is not None:
        raise SpecError("values", f"numbers that {dtype} can hold (its largest is {float(np.finfo(dtype).max):.3g})",
                        got=f"{big} = {net.graph.leaf_values()[big]}", source=net.spec.source)
    _check_start(net, state, dtype)
    losses: list = [0.0] * epochs
    names = net.graph.names_by_canonical
    report = _transcript(net, out or sys.stdout) if print_every is not None else None
    with np.errstate(over="ignore"):
        threshold = cast(stop_below) if stop_below is not None else None
    started = time.perf_counter()
    try:
        with np.errstate(all="ignore"):   # a number past the dtype is reported once (Diverged), not warned
            loss, last, stopped = _run_chunks(loop, state, epochs, cast(lr), threshold, losses, report,
                                              print_every or 1, progress)
    except (OverflowError, ZeroDivisionError, ValueError) as exc:   # math.exp overflow, log(x ≤ 0)
        raise Diverged(diverged(net, f"({exc})", lr, lr_key, dtype)) from None
    run = last + 1
    params = {c: state[names[c]] for c in net.params}
    with np.errstate(all="ignore"):   # the outputs after a diverged run are nan/inf: check_finite says so
        outputs = _outputs(program, state)
    return TrainResult(params={k: _plain(v) for k, v in params.items()}, loss=_plain(loss),
                       stopped_at_epoch=None if stopped < 0 else stopped,
                       losses=losses[:run] if dtype == "float64" else [float(x) for x in losses[:run]],  # floats already
                       epochs_run=run, outputs=[_plain(o) for o in outputs], dtype=dtype,
                       seconds=time.perf_counter() - started,
                       diverged=lambda what: diverged(net, what, lr, lr_key, dtype))


def _off_domain(net) -> str:
    """Where the loss is not defined on the output activation (the registry's Loss.outputs): the words
    saying so, for a message; "" where it is."""
    entry, act = LOSSES[net.spec.loss], net.spec.activations[-1]
    if entry.outputs is None or act in entry.outputs:
        return ""
    return (f"loss {net.spec.loss!r} ({entry.description}) is defined on {' or '.join(entry.outputs)} outputs, "
            f"and a {act} output can leave the domain of its logs")


def diverged(net, what: str, lr: float, lr_key: str, dtype: str) -> str:
    """The one line for a run that left the numbers: the file, the key to change and the dtype; the
    learning rate is blamed only where the loss is defined on the output activation."""
    where = f"{net.spec.source or 'train'}: training diverged {what} in {dtype}"
    domain = _off_domain(net)
    if domain:
        return f"{where}: {domain} (network.loss, network.activations); {lr_key} = {lr:g} may not be the cause"
    return (f"{where} with {lr_key} = {lr:g}: a value left the range of the loss or of {dtype}; "
            f"try a smaller {lr_key}")


def _check_start(net, state: dict, dtype: str) -> None:
    """The loss and gradients at the spec's values, in the dtype, before the first update: a value the
    dtype cannot hold there is the values' doing (or the loss's domain), never the learning rate's."""
    with np.errstate(all="ignore"):
        values, grads = net.program.function({k: np.asarray(v, dtype=dtype) for k, v in state.items()})
    deltas = {d.symbol.name for d in net.backprop.ordered()}
    numbers = {**{k: v for k, v in values.items() if k not in deltas}, **{f"∂E/∂{k}": v for k, v in grads.items()}}
    bad = next((k for k, v in numbers.items() if not np.all(np.isfinite(v))), None)
    if bad is None:
        return
    got = f"{bad} = {float(numbers[bad])} before any update"
    domain = _off_domain(net)
    if domain:
        raise StartsPastDtype("network.loss", f"a loss defined at the spec's values ({domain})", got=got,
                              source=net.spec.source)
    instead = "float64, or smaller values" if dtype != "float64" else "smaller values"
    raise StartsPastDtype("values", f"values whose loss and gradients {dtype} can hold at the start (the values, not "
                                    f"the learning rate: use {instead})", got=got, source=net.spec.source)


def _train_compiled(net, epochs, lr, stop_below, run, lr_key) -> TrainResult:
    """A compiled backend's run (numba or c), float64 on the spec's one sample, as a TrainResult."""
    _check_start(net, dict(net.graph.leaf_values()), "float64")
    started = time.perf_counter()
    state, loss, stopped, losses = run(net, epochs=epochs, lr=lr, stop_below=stop_below)
    names = net.graph.names_by_canonical
    return TrainResult(params={c: float(state[names[c]]) for c in net.params}, loss=loss,
                       stopped_at_epoch=None if stopped < 0 else stopped, losses=losses, epochs_run=len(losses),
                       outputs=[float(o) for o in _outputs(net.program, state)], seconds=time.perf_counter() - started,
                       diverged=lambda what: diverged(net, what, lr, lr_key, "float64"))


def falling_back(plain, stable):
    """The loop on the plain forms, and where they raise OverflowError (an extreme pre-activation) the
    same epochs again on the stable ones: the loop writes the state back only when it returns, and the
    rerun overwrites the losses it recorded, so the result is the stable loop's, at the plain one's speed."""
    def loop(*args):
        try:
            return plain(*args)
        except OverflowError:
            return stable(*args)
    return loop


def check_settings(epochs, lr, stop_below, print_every) -> None:
    """The loop's settings checked before it starts (one SpecError line each); shared with batch_train."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise SpecError("epochs", "a whole number >= 1", got=epochs)
    check_count(epochs, "epochs", MAX_EPOCHS, "fewer epochs, or stop_below")
    if not math.isfinite(lr):
        raise SpecError("lr", "a finite learning rate", got=lr)
    if stop_below is not None and not math.isfinite(stop_below):
        raise SpecError("stop_below", "a finite number", got=stop_below)
    if print_every is not None and (not isinstance(print_every, int) or print_every < 1):
        raise SpecError("print_every", "a whole number >= 1", got=print_every)


def check_finite(result: TrainResult) -> TrainResult:
    """The result, or Diverged when its loss or a parameter is not a finite number (naming the file, the
    learning rate's key and the dtype, where the run knows them)."""
    numbers = [result.loss, *result.params.values()]
    if not all(math.isfinite(float(v)) for v in numbers):
        what = f"(the loss is {float(result.loss)!r} after {result.epochs_run} epochs)"
        if result.diverged is not None:
            raise Diverged(result.diverged(what))
        raise Diverged(f"training diverged {what} in {result.dtype}; try a smaller --lr (or float64)")
    return result


def _run_chunks(loop, state, epochs, lr, stop_below, losses, report, every, progress):
    """Run the loop in one call, or in chunks that advance a progress bar (stderr, runs over ~1 s)."""
    bar = progress_bar(epochs) if progress or (progress is None and sys.stderr.isatty()) else None
    if bar is None:
        return loop(state, 0, epochs, lr, stop_below, losses, report, every)
    start, chunk, result = 0, 256, (math.nan, -1, -1)
    with bar:
        while start < epochs:
            end = min(epochs, start + chunk)
            tick = time.perf_counter()
            result = loop(state, start, end, lr, stop_below, losses, report, every)
            bar.update(result[1] + 1 - start)
            if result[2] >= 0:
                break
            start = end
            chunk = chunk * 2 if time.perf_counter() - tick < 0.05 else chunk
    return result


def progress_bar(total: int):
    """A tqdm bar on stderr that shows itself only after a second; None when tqdm is missing."""
    try:
        tqdm = require("tqdm", "tqdm", "progress").tqdm
    except MissingExtra:
        return None
    return tqdm(total=total, unit="epoch", file=sys.stderr, delay=1.0, leave=False)


def _outputs(program: Program, state: dict) -> list:
    """The forward outputs at the state's values (after the last update)."""
    return list(forward_function(program)(state))


def forward_function(program: Program):
    """state -> outputs: the forward lines only (NumPy dialect, broadcasting, dtype kept)."""
    if "_forward" not in program.__dict__:
        program.__dict__["_forward"] = _forward_function(program)
    return program.__dict__["_forward"]


def _forward_function(program: Program):
    outs = [o.name for o in program.net.outputs]
    forward, _, _ = program.lines(NUMPY)
    body = [f"{leaf} = _state[{leaf!r}]" for leaf in program.leaves] + needed_lines(forward, set(outs))
    body.append(f"return ({', '.join(outs)},)")
    return _compiled("def _train(_state):\n" + "\n".join("    " + s for s in body) + "\n", "numpy", True)


def _plain(x):
    return float(x) if np.ndim(x) == 0 else np.asarray(x)


def _transcript(net, out):
    """The notes' lines (file 004): `epoch = 0`, then ` y : 7.000` per output, then ` w : 3.060` per
    trained parameter, neuron by neuron (its weights, then its bias) as 242_6.py prints them."""
    graph = net.graph
    outs = [o.name for o in graph.outputs]
    trained = [p.name for p in graph.trained_params]
    order = [trained.index(name) for name in by_neuron(graph) if name in trained]

    def report(epoch, ys, ps):
        lines = [f"epoch = {epoch}"] + [f" {n} : {float(v):.3f}" for n, v in zip(outs, ys)]
        lines += [f" {trained[i]} : {float(ps[i]):.3f}" for i in order]
        out.write("\n".join(lines) + "\n")

    return report


def by_neuron(graph) -> list[str]:
    """Parameter names layer by layer, neuron by neuron: the weights into a neuron, then its bias."""
    params = {p.name for p in graph.params}
    seen: list[str] = []
    for layer in graph.layers:
        for node in layer.nets:
            seen += [name for name in node.local if name in params and name not in seen]
    return seen

