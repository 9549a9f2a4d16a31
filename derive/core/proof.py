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


class _NotPolynomial(ValueError):
    """A term a polynomial ring over the rationals cannot hold (a function, a negative power, a Float)."""


def _polynomial_is_zero(expr: sp.Expr) -> bool | None:
    """A polynomial's expansion (identity and linear nets), made in SymPy's sparse polynomial ring over the
    rationals (dictionaries of monomials, where `sp.expand` rebuilds every product as an expression: 40 s
    against 1 s on a 34-weight identity net's leaves), compared with 0; None where expr is not such a
    polynomial."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    ring, *gens = sp.polys.rings.ring(symbols or [sp.Dummy()], sp.QQ)
    try:
        return not _in_ring(expr, ring, dict(zip(symbols, gens)))
    except (_NotPolynomial, RecursionError):
        return None


def _in_ring(expr: sp.Expr, ring, gens: dict):
    """expr rebuilt term by term in `ring` (sums, products, whole powers, rational numbers, even
    unevaluated ones, as the derivations build them); any other term raises _NotPolynomial."""
    if expr in gens:
        return gens[expr]
    if expr.is_Add:
        return sum((_in_ring(a, ring, gens) for a in expr.args), ring.zero)
    if expr.is_Mul:
        product = ring.one
        for a in expr.args:
            product *= _in_ring(a, ring, gens)
        return product
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0 and not expr.base.is_number:
        return _in_ring(expr.base, ring, gens) ** int(expr.exp)
    if expr.is_number and (value := expr.doit()).is_Rational:   # a Float would be rounded to a fraction
        return ring.ground_new(ring.domain.convert(value))
    raise _NotPolynomial(expr)


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


def _exact(difference: sp.Expr) -> Proof:
    """difference ≡ 0 exactly: a polynomial (identity and linear nets) by its expansion in a polynomial
    ring, in a second where simplify may take a minute; anything else by simplify."""
    zero = _polynomial_is_zero(difference)
    if zero is not None:
        return Proof(zero, "cancel")
    return Proof(sp.simplify(difference) == 0, "simplify")


@lru_cache(maxsize=4096)
def _proved(a: sp.Expr, b: sp.Expr, symbolic: bool, points: int, seed: int) -> Proof:
    difference = a - b
    if symbolic:
        proof = _exact(difference)
        if proof:
            return proof
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
