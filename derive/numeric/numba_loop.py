"""The training loop compiled by numba (extra `fast`): the same generated Python-float loop, one
machine-code loop over copies and epochs. float64, one sample per network."""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

import numpy as np

from derive.extras import require
from derive.numeric.codegen import SCALAR, SCALAR_RUNTIME, needed_lines

__all__ = ["train_copies_numba", "train_network_numba", "loop_source_numba", "compiled_numba"]

class _NumbaPrinter(SCALAR.printer):
    walrus = False    # numba cannot type the walrus of the Python-float printer's x² form


# each activation's numba template where its entry has one (sigmoid: no walrus), else its Python-float one
NUMBA = replace(SCALAR, name="numba", printer=_NumbaPrinter, template=lambda entry: entry.numba or entry.scalar)


def _njit():
    return require("numba", "numba", "fast").njit


def loop_source_numba(program, trained: list[str], record: bool) -> str:
    """def _train_many(_P, _F, _lr, _epochs, _stop_below, _loss, _stopped, _losses): copies on _P's rows.

    Epochs outside, copies inside: the copies of one epoch are independent, so the CPU overlaps them
    (a copy's own epochs form one long dependency chain). A stopped copy is skipped from then on."""
    net = program.net
    forward, backward, gradient = program.lines(NUMBA)
    by_canonical = {p.canonical: p for p in net.params}
    params = [by_canonical[c] for c in trained]
    fixed = [leaf for leaf in program.leaves if leaf not in {p.name for p in params}]
    total = net.total.name
    body = needed_lines(forward + backward + gradient, {total, *(f"_g_{p.canonical}" for p in params)})
    lines = [f"{leaf} = _F[{i}]" for i, leaf in enumerate(fixed)]
    lines += ["for _k in range(_P.shape[0]):", "    _stopped[_k] = -1", "    _loss[_k] = _nan",
              "for _epoch in range(_epochs):", "    _going = False", "    for _k in range(_P.shape[0]):"]
    step = ["if _stopped[_k] >= 0:", "    continue"]
    step += [f"{p.name} = _P[_k, {i}]" for i, p in enumerate(params)]
    step += body + [f"{p.name} = {p.name} - _lr[_k]*_g_{p.canonical}" for p in params]
    step += [f"_P[_k, {i}] = {p.name}" for i, p in enumerate(params)]
    step.append(f"_loss[_k] = {total}")
    if record:
        step.append(f"_losses[_epoch] = {total}")
    step += [f"if {total} < _stop_below:", "    _stopped[_k] = _epoch", "else:", "    _going = True"]
    lines += ["        " + s for s in step]
    lines += ["    if not _going:", "        break"]
    return ("def _train_many(_P, _F, _lr, _epochs, _stop_below, _loss, _stopped, _losses):\n"
            + "\n".join("    " + s for s in lines) + "\n")


@lru_cache(maxsize=32)
def _compiled(source: str):
    namespace = dict(SCALAR_RUNTIME, _nan=math.nan)
    exec(compile(source, "<derive numba loop>", "exec"), namespace)  # our own generated code only
    return _njit()(namespace["_train_many"])


def compiled_numba(program, trained: list[str], record: bool = False):
    """The numba-compiled loop (compiled on its first call; cached per program and variant)."""
    return _compiled(loop_source_numba(program, trained, record))


def _arrays(net, init, copies):
    names = net.graph.names_by_canonical
    leaves = net.graph.leaf_values()
    trained = [names[c] for c in net.trained]
    fixed = np.array([leaves[k] for k in net.program.leaves if k not in trained], dtype=np.float64)
    P = np.empty((copies, len(trained)), dtype=np.float64)
    for i, c in enumerate(net.trained):
        P[:, i] = np.broadcast_to(np.asarray(init.get(c, leaves[names[c]]), dtype=np.float64), (copies,))
    return P, fixed


def train_copies_numba(net, init, lrs, *, epochs: int, stop_below: float | None):
    """Copies on one compiled loop, each stopping on its own: (final trained values by notation name,
    last loss per copy, stopped epoch per copy, −1 for never). sweep.train_copies builds the result."""
    lrs = np.asarray(lrs, dtype=np.float64).reshape(-1)
    P, F = _arrays(net, init, lrs.size)
    loss = np.empty(lrs.size)
    stopped = np.empty(lrs.size, dtype=np.int64)
    loop = compiled_numba(net.program, net.trained)
    threshold = -math.inf if stop_below is None else float(stop_below)
    loop(P, F, lrs, epochs, threshold, loss, stopped, np.empty(0))
    final = {name: P[:, i] for i, name in enumerate(_trained_names(net))}
    return final, loss, stopped


def train_network_numba(net, *, epochs: int, lr: float, stop_below: float | None):
    """One network, compiled: (state after the last update, its loss, stopped epoch or −1, losses per
    epoch run), the same numbers as train.train_network on Python floats."""
    P, F = _arrays(net, {}, 1)
    loss, stopped, losses = np.empty(1), np.empty(1, dtype=np.int64), np.empty(epochs)
    loop = compiled_numba(net.program, net.trained, record=True)
    loop(P, F, np.array([float(lr)]), epochs, -math.inf if stop_below is None else float(stop_below), loss, stopped, losses)
    s = int(stopped[0])
    run = epochs if s < 0 else s + 1
    state = dict(net.graph.leaf_values())
    state.update({name: float(P[0, i]) for i, name in enumerate(_trained_names(net))})
    return state, float(loss[0]), s, losses[:run].tolist()


def _trained_names(net):
    names = net.graph.names_by_canonical
    return [names[c] for c in net.trained]
