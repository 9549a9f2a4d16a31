"""Hand values of a saturated net (issue 14): sigmoid + bce with a weight of 1e4 rounds out_o1 to 1 even at
the hand check's 50 digits, so ∂E/∂out_o1 is 0/0 there; ∂E/∂w5 is still (out_o1 − target)·out_h1 (the closed
form a − t), computed here with mpmath, and a printed 0.668 is that value rounded."""

from __future__ import annotations

import mpmath
import pytest

import derive


def saturated(hand):
    return derive.network([2, 2, 1], ["sigmoid", "sigmoid"], loss="bce", inputs=[1.0, 1.0], targets=[0.0],
                          weights=[0.15, 0.2, 0.25, 0.3, 1e4, 0.45], biases=[0.35, 0.35, 0.6], hand=hand)


def expected_w5() -> float:
    """(σ(z_o) − 0)·σ(z_h1) at 60 digits, from the forward pass written out here."""
    with mpmath.workdps(60):
        sig = lambda z: 1 / (1 + mpmath.exp(-z))
        h1 = sig(mpmath.mpf(0.15) + mpmath.mpf(0.2) + mpmath.mpf(0.35))
        h2 = sig(mpmath.mpf(0.25) + mpmath.mpf(0.3) + mpmath.mpf(0.35))
        out = sig(mpmath.mpf(1e4) * h1 + mpmath.mpf(0.45) * h2 + mpmath.mpf(0.6))
        return float((out - 0) * h1)


def test_a_printed_gradient_of_a_saturated_net_is_checked():
    # was: "its exact value is zoo, not a finite real number" (the path product went through 0/0), exit 2
    report = saturated({"dE_total/dw5": "0.668", "out_o1": "1.000"}).check_hand()
    assert report.verdicts() == {"dE_total/dw5": "rounded", "out_o1": "rounded"}
    check = next(c for c in report.checks if c.name == "dE_total/dw5")
    assert check.exact == pytest.approx(expected_w5(), rel=1e-15)


def test_a_wrong_printed_gradient_of_a_saturated_net_is_a_mismatch():
    report = saturated({"dE_total/dw5": "0.5"}).check_hand()
    assert report.verdicts() == {"dE_total/dw5": "mismatch"}
