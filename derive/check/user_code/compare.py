"""A user's gradient function against the derivation: per parameter, the verdict, and a diagnosis.

`check_gradients(net, fn)` compares fn(params) -> {name: ∂E/∂name} with the derived gradients at
the spec's values (or any point) and, optionally, at seeded random points; where they disagree,
the library of common backprop mistakes (`derive.check.user_code.mistakes`) says which mistake gives the user's
numbers, or that a constant factor or the user's float32 rounding does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from derive.check.user_code.mistakes import diagnose_pairs, diagnose_within
from derive.core.limits import MAX_POINT_VALUES, MAX_POINTS, check_count
from derive.errors import SpecError
from derive.numeric.network import Network, load
from derive.check.user_code.load import GradientFn, call_user
from derive.check.user_code.matrix_form import FORMS, matrix_caller, spec_sample
from derive.numeric.layout import ORIENTATIONS, positions, shape_of

__all__ = ["check_gradients", "GradientReport", "ParamCheck", "random_points", "derived_at"]


@dataclass
class ParamCheck:
    """One parameter: the derived gradient, the user's, and whether they agree within tolerance."""

    name: str
    expected: float
    got: float
    ok: bool
    point: int = 0   # 0: the spec's values; i > 0: the i-th random point (where it first failed)

    @property
    def abs_error(self) -> float:
        return abs(self.got - self.expected)

    @property
    def rel_error(self) -> float:
        """|got − expected| / max(|got|, |expected|), the usual gradient-check measure (0 when both are 0)."""
        scale = max(abs(self.got), abs(self.expected))
        return self.abs_error / scale if scale else 0.0


@dataclass
class GradientReport:
    """The user's gradients against the derivation: per parameter, the verdict, and a diagnosis."""

    params: dict[str, ParamCheck]
    points: list[dict[str, float]]          # parameter values checked; points[0] are the spec's
    rtol: float
    atol: float
    mistakes: list = field(default_factory=list)   # derive.check.user_code.mistakes.Match, when they disagree
    scale: float | None = None                     # a common factor user/derived, if there is one
    origin: str = "the spec's values"              # what points[0] is ("the given values" with at=)
    low_precision: str | None = None               # "float32" when that explains every difference
    positions: dict = field(default_factory=dict)  # matrix form: name -> (layer, row, column) / (layer, row)
    orientation: str | None = None                 # matrix form: "out_in" or "in_out"
    notes: list = field(default_factory=list)      # lines said beside the diagnosis (where it was made, …)
    located: str | None = None                     # no mistake matches: which layers agree, which do not

    @property
    def agree(self) -> bool:
        return all(c.ok for c in self.params.values())

    @property
    def disagreeing(self) -> list[str]:
        return [name for name, c in self.params.items() if not c.ok]

    @property
    def diagnosis(self) -> str | None:
        """Which known mistakes give exactly the user's numbers (None when they agree or none does)."""
        if self.agree:
            return None
        if self.mistakes:
            return "; ".join(m.describe() for m in self.mistakes)
        if self.low_precision:
            return (f"your code returns {self.low_precision} numbers: differences this size are its rounding; "
                    "check it with a tolerance for its dtype (e.g. rtol 1e-4 for float32)")
        if self.scale is not None:
            return (f"every gradient is {self.scale:.6g} times the derivation's "
                    "(a constant factor; no mistake in the library gives exactly this)")
        return None

    def tolerance(self, expected: float) -> float:
        return self.atol + self.rtol * abs(expected)

    def position(self, name: str) -> str:
        """Where a parameter sits in the matrix form: "W[1][0, 1]" (layer 1, row 0, column 1), "b[2][0]"."""
        where = self.positions.get(name)
        if where is None:
            return ""
        letter = "W" if name.startswith("w") else "b"
        return f"{letter}[{where[0]}][{', '.join(map(str, where[1:]))}]"

    def as_json(self) -> dict:
        params = {}
        for n, c in self.params.items():
            params[n] = {"expected": c.expected, "got": c.got, "ok": c.ok}
            if n in self.positions:
                params[n]["position"] = list(self.positions[n])
        out = {"agree": self.agree, "params": params, "diagnosis": self.diagnosis,
               "mistakes": [m.as_json() for m in self.mistakes],
               "points": len(self.points) - 1, "rtol": self.rtol, "atol": self.atol}
        if self.orientation:
            out["form"], out["orientation"] = "matrices", self.orientation
        if self.notes:
            out["notes"] = list(self.notes)
        if self.located:
            out["located"] = self.located
        return out


def random_points(start: Mapping[str, float], n: int, seed: int) -> list[dict[str, float]]:
    """n parameter points near the spec's: each value moved by normal(0, ½·max(1, |value|)), seeded."""
    rng = np.random.default_rng(seed)
    return [{k: v + float(rng.normal(0.0, 0.5 * max(1.0, abs(v)))) for k, v in start.items()}
            for _ in range(n)]


def check_gradients(net, fn: GradientFn, *, rtol: float = 1e-6, atol: float = 1e-9, points: int = 0,
                    seed: int = 0, at: Mapping[str, float] | None = None, form: str = "dict",
                    orientation: str = "out_in") -> GradientReport:
    """Compare fn's gradients with the derived ∂E/∂param at the spec's values (or at `at`, a value for
    every parameter by canonical name) and at `points` random points near them.

    `net` is a derive.Network (or a spec path). form "dict": fn takes {canonical name: value} for
    every parameter and returns {name: gradient} for every trained parameter (others optional).
    form "matrices": fn(weights, biases, x, t) -> (dweights, dbiases), one array per layer in the
    `orientation`'s layout (derive.check.user_code.matrix_form)."""
    if not isinstance(net, Network):
        net = load(net)
    if points < 0 or not (rtol >= 0 and atol >= 0):
        raise SpecError("check_gradients", "points, rtol and atol not negative", got=(points, rtol, atol))
    check_count(points, "--points", MAX_POINTS, "fewer points: a few catch code that is right by accident")
    check_count((points + 1) * len(net.params), "--points", MAX_POINT_VALUES,
                f"(points + 1) × {len(net.params)} parameters at most {MAX_POINT_VALUES:,} values; fewer points")
    if form not in FORMS:
        raise SpecError("form", f"one of {', '.join(FORMS)}", got=form)
    if orientation not in ORIENTATIONS:
        raise SpecError("orientation", f"one of {', '.join(ORIENTATIONS)}", got=orientation)
    start = net.param_values() if at is None else _point(net, at)
    at = [start] + random_points(start, points, seed)
    expected = [derived_at(net, point) for point in at]
    got = [call(point) for call in [_caller(net, fn, form, orientation)] for point in at]
    report = GradientReport(compare_points(got, expected, rtol, atol), at, rtol, atol,
                            origin="the spec's values" if start == net.param_values() else "the given values")
    if form == "matrices":
        report.positions, report.orientation = positions(net, orientation), orientation
    if not report.agree:
        diagnose_report(report, net, got, expected, {p.canonical: p.layer for p in net.graph.params},
                        len(net.graph.layers))
    return report


def diagnose_report(report: GradientReport, net, got: list, expected: list, layer_of: dict, depth: int) -> None:
    """Single mistakes, a common factor, float32 rounding; failing those, pairs of mistakes; failing
    those too, where it goes wrong (which layers agree and which do not)."""
    loose = max(report.rtol, 100 * max(float(np.finfo(g.dtype).eps) for g in got))  # float32 code: its digits
    atol = report.atol
    report.mistakes, tried, total = diagnose_within(net, report.points, got, rtol=loose, atol=atol)
    if tried < total:
        report.notes.append(f"(single mistakes: {tried} of {total} tried within the time bound)")
    report.scale = common_scale(got, expected, loose, atol)
    report.low_precision = _low_precision(report, got)
    if report.mistakes or report.scale is not None or report.low_precision:
        return
    pairs, tried, total = diagnose_pairs(net, report.points, got, rtol=loose, atol=atol)
    report.mistakes = pairs
    if tried < total:
        report.notes.append(f"(pairs of mistakes: {tried} of {total} tried within the time bound)")
    if not pairs:
        report.located = locate(report, got, expected, layer_of, depth, loose)


def locate(report: GradientReport, got: list, expected: list, layer_of: dict, depth: int, rtol: float) -> str:
    """Per layer: all its gradients agree, or how many do not, and a factor they share if they do."""
    parts = []
    for layer in range(1, depth + 1):
        names = [n for n in report.params if layer_of.get(n) == layer]
        if not names:
            continue
        label = f"{'output' if layer == depth else 'hidden'} layer {layer}"
        bad = [n for n in names if not report.params[n].ok]
        if not bad:
            parts.append(f"{label}: all {len(names)} agree")
            continue
        k = common_scale([{n: g[n] for n in bad} for g in got], [{n: e[n] for n in bad} for e in expected],
                          rtol, report.atol)
        factor = f", each {k:.6g} × the derivation's" if k is not None else ""
        parts.append(f"{label}: {len(bad)} of {len(names)} disagree{factor}")
    return "; ".join(parts)


def _caller(net, fn, form: str, orientation: str):
    """point -> the user's gradients by canonical name, for either form of function."""
    if form == "matrices":
        return matrix_caller(shape_of(net), fn, *spec_sample(net), orientation)
    names = {p.canonical: p.canonical for p in net.graph.params} | {p.name: p.canonical for p in net.graph.params}
    return lambda point: call_user(fn, point, names, net.trained)


def _point(net, at: Mapping[str, float]) -> dict[str, float]:
    """`at` checked: a finite number for every parameter, by canonical name."""
    names = net.params
    if set(at) != set(names):
        raise SpecError("at", f"a value for every parameter ({', '.join(names)})", got=sorted(at))
    point = {name: float(at[name]) for name in names}
    bad = [name for name, v in point.items() if not math.isfinite(v)]
    if bad:
        raise SpecError(f"at[{bad[0]!r}]", "a finite number", got=point[bad[0]])
    return point


def derived_at(net, params: Mapping[str, float]) -> dict[str, float]:
    """The derivation's gradients (all parameters, canonical names) with the parameters set to `params`
    (a batch spec: reduced over its samples)."""
    if net.spec.samples:
        return net.batch_gradients(params)
    leaves = net.graph.leaf_values()
    leaves.update({p.name: params[p.canonical] for p in net.graph.params})
    _, grads = net.program.run(leaves)
    out = {k: float(v) for k, v in grads.items()}
    bad = [k for k, v in out.items() if not math.isfinite(v)]
    if bad:   # inf would compare "close" to any huge number: never a pass against it
        raise SpecError("values", "a point where the derived gradients are finite in float64 (smaller values)",
                        got=f"∂E/∂{bad[0]} = {out[bad[0]]} at {_few(params)}", source=net.spec.source)
    return out


def _few(params: Mapping[str, float]) -> str:
    return ", ".join(f"{k} = {v:.3g}" for k, v in list(params.items())[:3]) + (", …" if len(params) > 3 else "")


def _close(got: float, expected: float, rtol: float, atol: float) -> bool:
    return abs(got - expected) <= atol + rtol * abs(expected)


def compare_points(got: list[dict], expected: list[dict], rtol: float, atol: float) -> dict[str, ParamCheck]:
    """Per parameter: the first point where it fails, else the spec's values."""
    checks = {}
    for name in got[0]:
        failing = [i for i, (g, e) in enumerate(zip(got, expected)) if not _close(g[name], e[name], rtol, atol)]
        i = failing[0] if failing else 0
        checks[name] = ParamCheck(name, expected[i][name], got[i][name], not failing, i)
    return checks


def _low_precision(report: GradientReport, got: list) -> str | None:
    """The user's dtype (float32, …) when its rounding explains every difference and no mistake does."""
    dtype = max((g.dtype for g in got), key=lambda d: np.finfo(d).eps)
    eps = float(np.finfo(dtype).eps)
    if eps <= np.finfo(np.float64).eps or report.mistakes:
        return None
    largest = max(abs(c.expected) for c in report.params.values())
    if all(c.abs_error <= report.atol + 100 * eps * largest for c in report.params.values()):
        return dtype.name
    return None


def common_scale(got: list[dict], expected: list[dict], rtol: float, atol: float) -> float | None:
    """k when every user gradient is k × the derived one at every point (k ≠ 1, k ≠ 0: gradients that
    are all zero are no constant factor of anything), else None."""
    pairs = [(g[n], e[n]) for g, e in zip(got, expected) for n in g if abs(e[n]) > atol]
    if not pairs:
        return None
    k = pairs[0][0] / pairs[0][1]
    if k == 0 or abs(k - 1) <= rtol or not all(_close(g, k * e, rtol, atol) for g, e in pairs):
        return None
    return k
