"""The derivation against numbers that know nothing of it: central differences and the complex step.

The loss is evaluated by the network's own generated forward code (`program.forward_lines`), once
per method, with every perturbed point a column of one broadcast call. Central differences use a
step per parameter, h = ε^(1/3)·max(|p|, 1) (ε of the dtype), optionally Richardson-extrapolated
from h and h/2 with h = ε^(1/5)·max(|p|, 1). The complex step Im E(p + ih)/h with h = ε²·max(|p|, 1)
is exact to rounding for analytic activations; it runs on a runtime table of complex-safe
functions of its own (the training runtime's sigmoid uses |x|, which is not analytic). Networks
with a non-analytic activation (relu) fall back to finite differences, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping

import numpy as np

from derive.core.reading import DTYPES
from derive.errors import DeriveError, SpecError
from derive.numeric.codegen import RUNTIME, numpy_runtime
from derive.core.primitives import ACTIVATIONS

__all__ = ["NumericRow", "NumericReport", "check_numeric", "tolerances"]

METHODS = ("complex step", "Richardson", "central difference")


@dataclass
class NumericRow:
    """One parameter: the checked gradient beside each numerical reference, the errors and the verdict."""

    param: str
    derived: float
    central: float
    complex_step: float | None
    richardson: float | None
    reference: str            # which column the verdict compares against
    abs_error: float
    rel_error: float          # |a − b| / max(|a|, |b|)
    rtol: float
    atol: float
    ok: bool

    @property
    def expected(self) -> float:
        return {"complex step": self.complex_step, "Richardson": self.richardson}.get(self.reference, self.central)

    def as_json(self) -> dict:
        """The row for --json; a non-finite number (a user's inf or nan) becomes null."""
        numbers = {"derived": self.derived, "central": self.central, "complex_step": self.complex_step,
                   "richardson": self.richardson, "abs_error": self.abs_error, "rel_error": self.rel_error,
                   "rtol": self.rtol, "atol": self.atol}
        out = {k: v if v is None or np.isfinite(v) else None for k, v in numbers.items()}
        return {**out, "reference": self.reference, "ok": self.ok}


@dataclass
class NumericReport:
    """Every parameter checked; `ok` when all agree within the tolerance of their reference."""

    rows: list[NumericRow]
    dtype: str
    loss: float
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def failures(self) -> list[str]:
        return [r.param for r in self.rows if not r.ok]

    def as_json(self) -> dict:
        return {"agree": self.ok, "dtype": self.dtype, "loss": self.loss, "notes": self.notes,
                "params": {r.param: r.as_json() for r in self.rows}}


def tolerances(method: str, dtype: str, loss: float, size: float = 1.0, scale: float = 1.0) -> tuple[float, float]:
    """(rtol, atol) for comparing a gradient with `method`'s estimate in `dtype`.

    Rounding in E(p ± h) costs about ε·|E|/h, with h ∝ ε^k·max(|p|, 1): central differences
    (k = 1/3) are good to ~ε^(2/3)·|E|/max(|p|, 1), Richardson (k = 1/5) to ~ε^(4/5)·|E|/max(|p|, 1),
    the complex step to ~ε (no difference is taken). `size` is max(|p|, 1), `scale` the largest
    reference gradient; the factors 100 and 1000 cover the constants (and the truncation error
    of the differences, which grows with the curvature of E).
    """
    eps = float(np.finfo(dtype).eps)
    if method == "complex step":
        return 1e3 * eps, 1e2 * eps * max(1.0, abs(loss), scale)
    power = {"central difference": 2 / 3, "Richardson": 4 / 5}[method]
    tol = 100 * eps ** power
    return tol, tol * max(1.0, abs(loss)) / size


def check_numeric(net, gradients: Mapping[str, float] | None = None, *, dtype: str = "float64",
                  richardson: bool = False, rtol: float | None = None, atol: float | None = None,
                  values: Mapping[str, float] | None = None) -> NumericReport:
    """Compare ∂E/∂p (the derivation's, or `gradients` given by canonical name) with numerical estimates.

    `values` overrides parameter values (by canonical name); `rtol`/`atol` override the tolerances.
    """
    if dtype not in DTYPES:
        raise SpecError("--dtype", f"one of {', '.join(DTYPES)}", got=dtype)
    try:
        with np.errstate(all="ignore"):   # a value the dtype cannot hold is reported below, not warned about
            return _check_numeric(net, gradients, dtype, richardson, rtol, atol, values)
    except DeriveError:
        raise
    except (OverflowError, ZeroDivisionError, ValueError) as exc:
        raise SpecError("values", f"numbers whose loss and gradients stay finite in {dtype}",
                        got=f"{exc.__class__.__name__}: {exc}", source=net.spec.source) from None


def _check_numeric(net, gradients, dtype, richardson, rtol, atol, values) -> NumericReport:
    real, cplx = np.dtype(dtype).type, np.result_type(dtype, np.complex64).type
    point = _point(net, values)
    names = _checked(net, gradients)
    grads = dict(gradients) if gradients is not None else _derived(net, point, real)
    loss = float(_loss(net, "real")(_cast(point, real)))
    derived = {} if gradients is not None else {f"∂E/∂{k}": v for k, v in grads.items()}
    _finite(net, dtype, {"the loss": loss, **derived})
    kinked = sorted({a for a in net.spec.activations if not ACTIVATIONS[a].analytic})
    analytic = not kinked
    central = _central(net, point, names, real, 1 / 3, 1.0)
    rich = None
    if richardson:
        d_h = _central(net, point, names, real, 1 / 5, 1.0)
        d_half = _central(net, point, names, real, 1 / 5, 0.5)
        rich = {p: (4 * d_half[p] - d_h[p]) / 3 for p in names}
    cs = _complex_step(net, point, names, cplx) if analytic else None
    notes = [] if analytic else [
        f"{' and '.join(kinked)} {'is' if len(kinked) == 1 else 'are'} not complex-analytic: no complex step; "
        "finite differences are the reference "
        "(unreliable where a pre-activation lies within one step of 0)"]
    if cs and (odd := _disagreeing(cs, central, point, net, dtype, loss)):
        notes.append(f"the complex step disagrees with central differences for {odd} beyond their tolerance: "
                     "the forward code is not complex-analytic here, so finite differences are the reference")
        cs = None
    if net.spec.samples:
        notes.insert(0, f"a batch: the loss differentiated is the {net.spec.reduction} of the "
                        f"{len(net.spec.samples)} samples' losses")
    method = "complex step" if cs else ("Richardson" if rich else "central difference")
    reference = cs or rich or central
    scale = max(abs(v) for v in reference.values()) if reference else 0.0
    node = _nodes(net)
    rows = []
    for p in names:
        tol = tolerances(method, dtype, loss, max(abs(point[node[p]]), 1.0), scale)
        tol = (rtol if rtol is not None else tol[0], atol if atol is not None else tol[1])
        rows.append(_row(p, float(grads[p]), central[p], cs and cs[p], rich and rich[p], method, reference[p], *tol))
    return NumericReport(rows, dtype, loss, notes)


def _finite(net, dtype, numbers: dict) -> None:
    """SpecError naming the first number (the loss, a derived gradient) that `dtype` cannot hold."""
    bad = next((k for k, v in numbers.items() if not np.isfinite(v)), None)
    if bad is not None:
        raise SpecError("values", f"numbers whose loss and gradients stay finite in {dtype}",
                        got=f"{bad} = {numbers[bad]}", source=net.spec.source)


def _disagreeing(cs, central, point, net, dtype, loss) -> str | None:
    """The first parameter whose complex step and central difference disagree by 10× the latter's tolerance."""
    node = _nodes(net)
    for p, value in cs.items():
        rtol, atol = tolerances("central difference", dtype, loss, max(abs(point[node[p]]), 1.0))
        if not abs(value - central[p]) <= 10 * (atol + rtol * max(abs(value), abs(central[p]))):
            return p
    return None


def _row(p, derived, central, cs, rich, method, ref, rtol, atol) -> NumericRow:
    diff = abs(derived - ref)
    top = max(abs(derived), abs(ref))
    rel = diff / top if top else 0.0
    ok = bool(np.isfinite(derived) and diff <= atol + rtol * top)   # a Python bool (JSON), not a NumPy one
    return NumericRow(p, derived, central, cs, rich, method, diff, rel, rtol, atol, ok)


def _point(net, values) -> dict[str, float]:
    """Every leaf by node name at the spec's values, parameters overridden by `values` (canonical names)."""
    point = net.graph.leaf_values()
    if values:
        by_canonical = net.graph.names_by_canonical
        for name, v in values.items():
            if name not in by_canonical:
                raise SpecError("values", f"parameter names of this network ({', '.join(by_canonical)})", got=name)
            point[by_canonical[name]] = float(v)
    return point


def _checked(net, gradients) -> list[str]:
    if gradients is None:
        return list(net.params)
    unknown = [k for k in gradients if k not in net.params]
    if unknown:
        raise SpecError("gradients", f"parameter names of this network ({', '.join(net.params)})", got=unknown[0])
    return [p for p in net.params if p in gradients]


def _derived(net, point, real) -> dict[str, float]:
    """The derivation's gradients at `point` (a batch: reduced over its samples), in dtype `real`."""
    grads = [net.program.function(_cast(sample, real))[1] for sample in _samples(net, point)]
    return net.reduce([{k: float(v) for k, v in g.items()} for g in grads])


def _samples(net, point) -> list[dict]:
    """`point` once per sample, the sample's inputs and targets in place (a one-sample spec: `point`)."""
    g = net.graph
    return [{**point, **{n.name: v for n, v in zip(g.inputs, x)}, **{n.name: v for n, v in zip(g.targets, t)}}
            for x, t in net.spec.samples] or [point]


def _cast(point, dtype, n: int | None = None) -> dict:
    return {k: np.full(n, v, dtype=dtype) if n else dtype(v) for k, v in point.items()}


def _central(net, point, names, real, power, fraction) -> dict[str, float]:
    """(E(p + h) − E(p − h)) / (2h) for every parameter, all 2·n points in one call."""
    eps = float(np.finfo(real).eps)
    node = _nodes(net)
    n = len(names)
    leaves = _cast(point, real, 2 * n)
    widths = []
    for i, p in enumerate(names):
        x = point[node[p]]
        h = fraction * eps ** power * max(abs(x), 1.0)
        up, down = real(x + h), real(x - h)
        leaves[node[p]][i], leaves[node[p]][n + i] = up, down
        widths.append(float(up) - float(down))   # the step the dtype really took
    e = np.asarray(_loss(net, "real")(leaves), dtype=np.float64)
    return {p: (e[i] - e[n + i]) / widths[i] for i, p in enumerate(names)}


def _complex_step(net, point, names, cplx) -> dict[str, float]:
    """Im E(p + ih) / h for every parameter, all n points in one call."""
    real = np.finfo(cplx).dtype.type
    eps = float(np.finfo(real).eps)
    node = _nodes(net)
    leaves = _cast(point, cplx, len(names))
    steps = []
    for i, p in enumerate(names):
        h = real(eps ** 2 * max(abs(point[node[p]]), 1.0))
        leaves[node[p]][i] += 1j * h
        steps.append(float(h))
    e = _loss(net, "complex")(leaves)
    return {p: float(np.imag(e[i])) / steps[i] for i, p in enumerate(names)}


def _nodes(net) -> dict[str, str]:
    return net.graph.names_by_canonical


# --- the loss as a function of the leaves, from the network's own forward code ----------------------

class _ComplexNumpy:
    """numpy, except that maximum and abs look at real parts only, so that the stable forms of the
    training runtime (softmax shifted by its maximum, softplus of −|z|) stay analytic."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def maximum(a, b):
        return np.where(np.real(a) >= np.real(b), a, b)

    @staticmethod
    def abs(x):
        """|x| continued analytically off the real axis: x or −x by the sign of Re x."""
        return np.where(np.real(x) >= 0, x, -x)


COMPLEX_RUNTIME = numpy_runtime(_ComplexNumpy())   # the registry's kernels on the complex-safe namespace


def _loss(net, kind: str):
    """The loss as a function of the leaves; a batch: the mean (or sum) of every sample's loss, each
    sample's inputs and targets put in place of the point's."""
    single = _compiled(net.program, kind)
    if not net.spec.samples:
        return single
    g, scale = net.graph, net.batch_scale
    rows = [{**{n.name: v for n, v in zip(g.inputs, x)}, **{n.name: v for n, v in zip(g.targets, t)}}
            for x, t in net.spec.samples]

    def loss(v):
        return scale * sum(single({**v, **{k: _like(v, k, x) for k, x in row.items()}}) for row in rows)
    return loss


def _like(v, key, x):
    """x in the dtype (and shape) of the point's entry for `key`: a batch of perturbed points shares it."""
    ref = v[key]
    return np.full(np.shape(ref), x, dtype=np.asarray(ref).dtype) if np.ndim(ref) else type(ref)(x)


@lru_cache(maxsize=64)
def _compiled(program, kind: str):
    """def loss(v): the program's forward lines returning the total error, on the real or complex runtime."""
    total = program.net.total.name
    body = [f"{leaf} = v[{leaf!r}]" for leaf in program.leaves] + program.forward_lines + [f"return {total}"]
    source = "def loss(v):\n" + "\n".join("    " + line for line in body) + "\n"
    namespace = dict(RUNTIME if kind == "real" else COMPLEX_RUNTIME)
    exec(compile(source, "<derive check>", "exec"), namespace)  # our own generated code only
    return namespace["loss"]
