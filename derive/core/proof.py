"""Proofs that two expressions are the same function: SymPy simplification, or random points."""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

__all__ = ["Proof", "prove_equal"]

RANDOM_POINT_RTOL = 1e-12
ZERO_FLOOR = 1e-15   # below this, compare absolutely (to 1e-27): 30-digit noise of an identically zero expression is ~1e-30


@dataclass(frozen=True)
class Proof:
    """Whether a == b, and how that was established ('simplify' or 'random points')."""

    holds: bool
    method: str
    detail: str = ""

    def __bool__(self) -> bool:
        return self.holds


def prove_equal(a: sp.Expr, b: sp.Expr, *, symbolic: bool = True, points: int = 5, seed: int = 0) -> Proof:
    """Prove a − b ≡ 0: by simplify when `symbolic`, otherwise (or if that fails) at random points.

    Random points are drawn in [−1, 1] (nonzero: relu's kink and log(0) stay away) and compared
    to RANDOM_POINT_RTOL relative, at 30 significant digits; values below ZERO_FLOOR are compared
    absolutely (an identically zero gradient evaluates to rounding noise, not to 0).
    """
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
    return Proof(holds, "random points", f"{points} points, worst relative difference {worst:.3g}")
