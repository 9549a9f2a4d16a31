"""Assertions for users' own tests: their gradient code against the derivation, in one line.

    from derive.testing import assert_gradients_match

    def test_my_backprop():
        assert_gradients_match(my_gradients, derive.load("net.toml"), points=20)

A failure raises AssertionError whose message names each disagreeing parameter, shows the
derived and the user's number, the tolerance, and the known mistake that gives the user's numbers.
"""

from __future__ import annotations

from typing import Mapping

from derive.check.user_code.compare import GradientReport, check_gradients
from derive.check.user_code.load import GradientFn

__all__ = ["assert_gradients_match", "failure_message"]


def assert_gradients_match(fn: GradientFn, net, *, rtol: float = 1e-6, atol: float = 1e-9, points: int = 0,
                           seed: int = 0, at: Mapping[str, float] | None = None, form: str = "dict",
                           orientation: str = "out_in") -> GradientReport:
    """Assert fn's gradients equal the derived ∂E/∂param at the spec's values (or at `at`: a value for
    every parameter) and at `points` random points. `net` is a derive.Network (or a spec path);
    `form="matrices"` takes fn(weights, biases, x, t) -> (dweights, dbiases) in `orientation`'s layout.
    Returns the report when they agree."""
    __tracebackhide__ = True
    report = check_gradients(net, fn, rtol=rtol, atol=atol, points=points, seed=seed, at=at, form=form,
                             orientation=orientation)
    if not report.agree:
        raise AssertionError(failure_message(report))
    return report


def failure_message(report: GradientReport) -> str:
    """One line per disagreeing parameter: where, both numbers, the difference and the tolerance."""
    bad = [report.params[name] for name in report.disagreeing]
    lines = [f"gradients disagree with the derivation for {len(bad)} of {len(report.params)} parameters "
             f"({', '.join(c.name for c in bad)}):"]
    for c in bad:
        at = f"at {report.origin}" if c.point == 0 else f"at random point {c.point}"
        where = f" ({report.position(c.name)})" if report.positions else ""
        lines.append(f"  {c.name}{where} {at}: derived {c.expected!r}, got {c.got!r}; "
                     f"|got − derived| = {c.abs_error:.3g} > tolerance {report.tolerance(c.expected):.3g} "
                     f"(atol {report.atol:g} + rtol {report.rtol:g}·|derived|)")
    for point in sorted({c.point for c in bad} - {0}):
        values = ", ".join(f"{k}={v:.6g}" for k, v in report.points[point].items())
        lines.append(f"  random point {point}: {values}")
    if report.diagnosis:
        lines.append(f"  diagnosis: {report.diagnosis}")
    if report.located:
        lines.append(f"  where: {report.located}")
    lines += [f"  {note}" for note in report.notes]
    return "\n".join(lines)
