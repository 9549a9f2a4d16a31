"""Proofs that two expressions are the same function: exact (cancellation, SymPy simplification) or, where
neither is attempted, a numeric comparison that is called what it is: "checked at N points", not proved."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

__all__ = ["Proof", "prove_equal", "exactly_equal", "EXACT_METHODS"]

EXACT_METHODS = ("structural", "simplify", "cancel")   # methods that prove; "checked at N points" only checks

RANDOM_POINT_RTOL = 1e-12
ZERO_FLOOR = 1e-15   # below this, compare absolutely (to 1e-27): 30-digit noise of an identically zero expression is ~1e-30


@dataclass(frozen=True)
class Proof:
    """Whether a == b, and how that was established: 'structural', 'simplify' or 'cancel' (exact), or
    'checked at N points' (numeric: evidence, not a proof)."""

    holds: bool
    method: str
    detail: str = ""

    def __bool__(self) -> bool:
        return self.holds

    @property
    def exact(self) -> bool:
        """True when the method is a proof, False for a numeric check."""
        return self.method in EXACT_METHODS


def _steps_as_piecewise(expr: sp.Expr) -> sp.Expr:
    """Heaviside(x, v) (ReLU's step, any value at 0) as 1 for x > 0, else 0: both sides' kinks in one form."""
    return expr.replace(lambda e: isinstance(e, sp.Heaviside),
                        lambda e: sp.Piecewise((1, e.args[0] > 0), (0, True)))


def _cancels(expr: sp.Expr) -> bool:
    return sp.cancel(sp.expand(expr)) == 0


def exactly_equal(a: sp.Expr, b: sp.Expr) -> bool:
    """a − b ≡ 0 exactly, by cancellation as rational functions of their exp/log/tanh terms; steps
    (Heaviside, Piecewise) compared branch by branch, so equal except at a kink, where the rules pick a side."""
    difference = sp.piecewise_fold(_steps_as_piecewise(a - b))
    if isinstance(difference, sp.Piecewise):
        return all(_cancels(e) for e, _ in difference.args)
    return _cancels(difference)


def prove_equal(a: sp.Expr, b: sp.Expr, *, symbolic: bool = True, points: int = 5, seed: int = 0) -> Proof:
    """Prove a − b ≡ 0: by simplify when `symbolic`, otherwise (or if that fails) at random points.

    Random points are drawn in [−1, 1] (nonzero: relu's kink and log(0) stay away) and compared
    to RANDOM_POINT_RTOL relative, at 30 significant digits; values below ZERO_FLOOR are compared
    absolutely (an identically zero gradient evaluates to rounding noise, not to 0). The answer depends
    on the expressions alone, so it is remembered: a document, the demo or the tests proving the same
    identity again get it without a second simplify.
    """
    return _proved(a, b, symbolic, points, seed)


@lru_cache(maxsize=4096)
def _proved(a: sp.Expr, b: sp.Expr, symbolic: bool, points: int, seed: int) -> Proof:
    difference = a - b
    if symbolic:
        if sp.simplify(difference) == 0:
            return Proof(True, "simplify")
    rng = random.Random(seed)
    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    worst = 0.0
    for _ in range(points):
        point = {s: sp.Float(rng.uniform(0.05, 0.95) * rng.choice((-1, 1)), 30) for s in symbols}
        va, vb = (sp.N(e.xreplace(point), 30) for e in (a, b))
        scale = max(abs(va), abs(vb), sp.Float(ZERO_FLOOR))
        worst = max(worst, float(abs(va - vb) / scale))
    holds = worst <= RANDOM_POINT_RTOL
    return Proof(holds, f"checked at {points} points", f"worst relative difference {worst:.3g}")
