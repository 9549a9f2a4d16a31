"""prove_equal's exact routes: a polynomial difference (identity and linear nets) decided in a
polynomial ring, anything else by simplify; a false identity is never called proved."""

import sympy as sp

import derive
from derive.core import proof

x, y, z = sp.symbols("x y z")


def _forbid_simplify(monkeypatch):
    def refuse(expr, *args, **kwargs):
        raise AssertionError(f"simplify called on {expr}")
    monkeypatch.setattr(proof.sp, "simplify", refuse)


def test_polynomial_identity_is_proved_without_simplify(monkeypatch):
    _forbid_simplify(monkeypatch)
    a = (x + y) ** 3 * (z + sp.Rational(1, 2))
    b = x**3 * z + 3 * x**2 * y * z + 3 * x * y**2 * z + y**3 * z + (x + y) ** 3 / 2
    result = derive.prove_equal(a, b)
    assert result.holds and result.method == "cancel" and result.exact


def test_unevaluated_numbers_and_sums_as_derivations_build_them(monkeypatch):
    _forbid_simplify(monkeypatch)
    half = sp.Pow(2, -1, evaluate=False)                      # 1/2 as half_sse's derivation writes it
    square = sp.Pow(x - y, 2, evaluate=False)
    a = sp.Add(sp.Mul(-half, square, evaluate=False), sp.Mul(half, square, evaluate=False), evaluate=False)
    assert derive.prove_equal(a, sp.Integer(0)).method == "cancel"


def test_a_false_polynomial_identity_is_not_proved(monkeypatch):
    _forbid_simplify(monkeypatch)
    result = derive.prove_equal((x + y) ** 2, x**2 + y**2 + x * y)
    assert not result.holds and not result.exact          # the numeric check says by how much


def test_non_polynomials_still_go_to_simplify():
    sigma = 1 / (1 + sp.exp(-x))
    result = derive.prove_equal(sp.diff(sigma, x), sigma * (1 - sigma))
    assert result.holds and result.method == "simplify"


def test_floats_are_not_rounded_into_fractions(monkeypatch):
    calls = []
    simplify = sp.simplify
    monkeypatch.setattr(proof.sp, "simplify", lambda e: calls.append(e) or simplify(e))
    result = derive.prove_equal(sp.Float(0.1) * x * (y + 1), x * y / 10 + x / 10)   # 0.1 is not 1/10 in binary
    assert calls and result.method != "cancel"
