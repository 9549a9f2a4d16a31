"""The training loop in C (backend `c`, extra `compiled`): the program's own lines printed by SymPy's C99
printer, built by the platform's C compiler, loaded with cffi.

`-O3 -ffast-math -march=native` lets gcc vectorise the loop over copies, `exp` included (glibc's
libmvec: AVX-512 where the CPU has it). Copies go in blocks small enough to stay in the L1 cache, the
epochs inside, the copies of a block innermost: a block's copies are independent, so they fill the
vector lanes, and each stops on its own (a stopped copy keeps its values). float64, one sample per
network, as the numba backend. A built library is cached on disk under a hash of its source, flags and
compiler (DERIVE_CACHE_DIR, else $XDG_CACHE_HOME/derive/c or ~/.cache/derive/c), so a second run of the
same program does not compile again.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import tempfile
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import sympy as sp
from sympy.printing.c import C99CodePrinter

from derive.core.primitives import Activation
from derive.errors import NotSupported
from derive.extras import MissingExtra, require
from derive.numeric.codegen import NUMPY, _positive_first

__all__ = ["C", "FLAGS", "loop_source_c", "build", "train_copies_c", "train_network_c", "cache_dir"]

FLAGS = ("-O3", "-ffast-math", "-march=native", "-mprefer-vector-width=512", "-fPIC")
# linked without -ffast-math: gcc would add crtfastmath.o, which turns on flush-to-zero for the whole
# process when the library loads (NumPy's subnormals would read as 0 from then on)
LINK = ("-shared",)
BLOCK = 256                    # copies per block: 256 × a few dozen doubles stay in L1
SIGNATURE = ("void derive_loop(int64_t K, int64_t epochs, double *P, const double *F, const double *LR, "
             "double stop_below, double *LOSS, double *STOP, double *LOSSES);")
NO_STOP = -1.7976931348623157e308   # below every loss, without an infinity (-ffast-math assumes none)


class _CPrinter(C99CodePrinter):
    """SymPy's C99 printer, positive terms first (t - o, as the other dialects write it)."""

    def _as_ordered_terms(self, expr, order=None):
        return _positive_first(list(super()._as_ordered_terms(expr, order=order)))


def _c_template(entry: Activation) -> str:
    """An activation in C: its registry entry's template, else SymPy's C printing of its rule."""
    if entry.c is not None:
        return entry.c
    x = sp.Symbol("_x_", real=True)
    return " ".join(_CPrinter().doprint(entry.rule(x)).split()).replace("_x_", "({x})")


C = replace(NUMPY, name="c", printer=_CPrinter, template=_c_template, exp="exp({x})", log="log({x})",
            maximum="fmax({a}, {b})", positive="fmax({x}, 0.0)", softplus_tail="log1p(exp(-fabs({x})))")

_NAME = re.compile(r"[A-Za-z_]\w*")


def needed_c(lines: list[str], wanted: set[str]) -> list[str]:
    """The C lines `wanted` depends on, in order (the dialect's `needed_lines`, for C expressions)."""
    keep, need = [], set(wanted)
    for line in reversed(lines):
        target, expr = line.split(" = ", 1)
        if target in need:
            keep.append(line)
            need |= set(_NAME.findall(expr))
    return keep[::-1]


def loop_source_c(program, trained: list[str]) -> str:
    """The C source of derive_loop: P holds the trained values, one row per parameter, one column per copy;
    F the fixed leaves (inputs, targets, untrained biases); LOSSES (or NULL) copy 0's loss per epoch."""
    net = program.net
    forward, backward, gradient = program.lines(C)
    by_canonical = {p.canonical: p for p in net.params}
    params = [by_canonical[c] for c in trained]
    fixed = [leaf for leaf in program.leaves if leaf not in {p.name for p in params}]
    total = net.total.name
    body = needed_c(forward + backward + gradient, {total, *(f"_g_{p.canonical}" for p in params)})
    head = [f"const double {leaf} = F[{i}];" for i, leaf in enumerate(fixed)]
    block = ["const int64_t _n = K - _k0 < BLOCK ? K - _k0 : BLOCK;"]
    block += [f"double *restrict _p_{p.name} = P + {i}*K + _k0;" for i, p in enumerate(params)]
    block += ["const double *restrict _lr = LR + _k0;", "double *restrict _loss = LOSS + _k0;",
              "double *restrict _stop = STOP + _k0;"]
    step = [f"const double {p.name} = _p_{p.name}[_j];" for p in params]
    step.append("const int _on = _stop[_j] < 0.0;")
    step += [f"const double {line};" for line in body]
    step += [f"_p_{p.name}[_j] = _on ? {p.name} - _lr[_j]*_g_{p.canonical} : {p.name};" for p in params]
    step += [f"_loss[_j] = _on ? {total} : _loss[_j];",
             f"const int _hit = _on & ({total} < stop_below);",
             "_stop[_j] = _hit ? (double)_e : _stop[_j];", "_going |= _on & !_hit;"]
    epoch = ["int _going = 0;", "#pragma GCC ivdep", "for (int64_t _j = 0; _j < _n; _j++) {"]
    epoch += ["    " + s for s in step] + ["}", "if (LOSSES) LOSSES[_e] = _loss[0];", "if (!_going) break;"]
    block += ["for (int64_t _e = 0; _e < epochs; _e++) {"] + ["    " + s for s in epoch] + ["}"]
    lines = head + ["for (int64_t _k0 = 0; _k0 < K; _k0 += BLOCK) {"] + ["    " + s for s in block] + ["}"]
    return ("/* generated by derive from the SymPy derivation */\n#include <math.h>\n#include <stdint.h>\n"
            f"#define BLOCK {BLOCK}\n" + SIGNATURE.replace("double *P", "double *restrict P")[:-1]
            + " {\n" + "\n".join("    " + s for s in lines) + "\n}\n")


def cache_dir() -> Path:
    """Where built libraries are kept: DERIVE_CACHE_DIR, else $XDG_CACHE_HOME/derive/c or ~/.cache/derive/c."""
    if os.environ.get("DERIVE_CACHE_DIR"):
        return Path(os.environ["DERIVE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "derive" / "c"


def compiler() -> str:
    """The C compiler: $CC, else cc or gcc on the PATH; MissingExtra naming the install when there is none."""
    for name in (os.environ.get("CC"), "cc", "gcc"):
        found = name and shutil.which(name)
        if found:
            return found
    raise MissingExtra("a C compiler is needed for --backend c: apt-get install gcc (or set CC), "
                       "and pip install -e '.[compiled]'")


def _ffi():
    ffi = require("cffi", "cffi", "compiled").FFI()
    ffi.cdef(SIGNATURE)
    return ffi


def build(source: str) -> Path:
    """The shared library of `source`, compiled once per source, flags, compiler and machine (cached)."""
    cc = compiler()
    key = hashlib.sha256("\0".join([source, *FLAGS, *LINK, cc, platform.machine(), platform.node()]).encode()).hexdigest()
    path = cache_dir() / f"derive_{key[:24]}.so"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        c_file, obj, so = Path(tmp) / "loop.c", Path(tmp) / "loop.o", Path(tmp) / "loop.so"
        c_file.write_text(source)
        for command in ([cc, *FLAGS, "-c", "-o", str(obj), str(c_file)], [cc, *LINK, "-o", str(so), str(obj), "-lm"]):
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                first = (done.stderr.strip().splitlines() or ["(no message)"])[0]
                raise NotSupported(f"the C compiler {cc} could not build the training loop: {first}")
        os.replace(so, path)                     # atomic: a concurrent run sees the old state or the whole file
    return path


@lru_cache(maxsize=32)
def _loaded(source: str):
    ffi = _ffi()
    return ffi, ffi.dlopen(str(build(source)))


def compiled_c(program, trained: list[str]):
    """(ffi, library) of the program's loop: built on first use, cached per process and on disk."""
    return _loaded(loop_source_c(program, trained))


def _run(net, init, lrs, epochs: int, stop_below, record: bool):
    """P, F and the loop's outputs for copies from `init` (trained values by canonical name)."""
    ffi, lib = compiled_c(net.program, net.trained)   # the extra is checked before any array is made
    names = net.graph.names_by_canonical
    leaves = net.graph.leaf_values()
    trained = [names[c] for c in net.trained]
    lrs = np.ascontiguousarray(lrs, dtype=np.float64).reshape(-1)
    copies = lrs.size
    F = np.array([leaves[k] for k in net.program.leaves if k not in trained] or [0.0], dtype=np.float64)
    P = np.empty((len(trained), copies), dtype=np.float64)
    for i, c in enumerate(net.trained):
        P[i] = np.broadcast_to(np.asarray(init.get(c, leaves[names[c]]), dtype=np.float64), (copies,))
    loss = np.full(copies, np.nan)
    stopped = np.full(copies, -1.0)
    losses = np.empty(epochs if record else 0)
    threshold = NO_STOP if stop_below is None else float(stop_below)
    buf = lambda kind, a: ffi.from_buffer(kind, a)
    lib.derive_loop(copies, epochs, buf("double[]", P), buf("double[]", F), buf("double[]", lrs), threshold,
                    buf("double[]", loss), buf("double[]", stopped), buf("double[]", losses) if record else ffi.NULL)
    return {name: P[i] for i, name in enumerate(trained)}, loss, stopped.astype(np.int64), losses


def train_copies_c(net, init, lrs, *, epochs: int, stop_below: float | None):
    """Copies on the compiled C loop: (final trained values by notation name, last loss per copy, stopped
    epoch per copy, −1 for never), as numba_loop.train_copies_numba."""
    final, loss, stopped, _ = _run(net, init, lrs, epochs, stop_below, record=False)
    return final, loss, stopped


def train_network_c(net, *, epochs: int, lr: float, stop_below: float | None):
    """One network on the C loop: (state after the last update, its loss, stopped epoch or −1, losses per
    epoch run), as numba_loop.train_network_numba."""
    final, loss, stopped, losses = _run(net, {}, [lr], epochs, stop_below, record=True)
    s = int(stopped[0])
    state = dict(net.graph.leaf_values())
    state.update({name: float(v[0]) for name, v in final.items()})
    return state, float(loss[0]), s, losses[: epochs if s < 0 else s + 1].tolist()
