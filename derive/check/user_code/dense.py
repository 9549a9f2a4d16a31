"""check-code's dict form for a values spec past the weight-by-weight limit: the user's gradients against the
matrix form's (derive.numeric.dense), at the spec's values and at seeded random points near them. The named
mistakes are looked for weight by weight, so past the limit the report says only which parameters disagree
(and a constant factor, if every one is off by the same)."""

from __future__ import annotations

import numpy as np

from derive.check.user_code.compare import GradientReport, common_scale, compare_points, random_points
from derive.check.user_code.load import GradientFn, call_user
from derive.core.limits import MAX_POINT_VALUES, MAX_POINTS, MAX_SCALAR_WEIGHTS, check_count
from derive.errors import SpecError
from derive.numeric.dense import DenseNetwork

__all__ = ["check_gradients_dense", "NOT_LOOKED_FOR"]

NOT_LOOKED_FOR = (f"(past {MAX_SCALAR_WEIGHTS} weights the known mistakes are not looked for: they are recomputed "
                  "weight by weight)")


def _derived(net: DenseNetwork, point: dict[str, float]) -> dict[str, float]:
    grads = net.evaluate(np.array([point[p] for p in net.params], dtype=np.float64)).gradients
    if not np.all(np.isfinite(grads)):
        raise SpecError("values", "a point where the derived gradients are finite in float64 (smaller values)",
                        got="not finite (matrix form)", source=net.spec.source)
    return dict(zip(net.params, grads.tolist()))


def check_gradients_dense(net: DenseNetwork, fn: GradientFn, *, rtol: float = 1e-6, atol: float = 1e-9,
                          points: int = 0, seed: int = 0) -> GradientReport:
    """fn(params) -> {name: gradient} against the matrix form's gradients (canonical names only)."""
    check_count(points, "--points", MAX_POINTS, "fewer points: a few catch code that is right by accident")
    check_count((points + 1) * len(net.params), "--points", MAX_POINT_VALUES,
                f"(points + 1) × {len(net.params)} parameters at most {MAX_POINT_VALUES:,} values; fewer points")
    start = net.param_values()
    at = [start] + random_points(start, points, seed)
    names = {p: p for p in net.params}
    expected = [_derived(net, point) for point in at]
    got = [call_user(fn, point, names, net.trained) for point in at]
    report = GradientReport(compare_points(got, expected, rtol, atol), at, rtol, atol)
    if not report.agree:
        report.scale = common_scale(got, expected, rtol, atol)
        report.notes.append(NOT_LOOKED_FOR)
    return report
