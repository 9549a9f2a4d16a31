"""The derivative rules, one entry per primitive: each forward rule sits beside its local derivative.

Activations and losses are data (the ACTIVATIONS and LOSSES tables); the machinery that applies
them lives in `network` and `derivation`. Local derivatives are written in closed form in the
graph's own symbols (∂out/∂net = out·(1 − out)), as the lecture notes write them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import sympy as sp

__all__ = ["Activation", "Loss", "ACTIVATIONS", "LOSSES", "BIAS_SCHEMES"]

Expr = sp.Expr


@dataclass(frozen=True)
class Activation:
    """A layer's activation: forward rule and local derivative ∂out_j/∂net_i (closed form)."""

    name: str
    forward: Callable[[Sequence[Expr]], list[Expr]]          # nets -> outs (whole layer)
    local: Callable[[Sequence[Expr], Sequence[Expr], int, int], Expr]  # (outs, nets, j, i)
    coupled: bool = False   # True when out_j depends on every net_i of its layer (softmax)
    analytic: bool = True   # False where the complex step does not apply (relu)


def _elementwise(name: str, f: Callable[[Expr], Expr], d: Callable[[Expr, Expr], Expr], **kw) -> Activation:
    """An activation applied neuron by neuron: ∂out_j/∂net_i is zero unless i == j."""

    def forward(nets):
        return [f(z) for z in nets]

    def local(outs, nets, j, i):
        return d(outs[j], nets[j]) if i == j else sp.S.Zero

    return Activation(name, forward, local, **kw)


def _softmax_forward(nets):
    total = sp.Add(*[sp.exp(z) for z in nets])
    return [sp.exp(z) / total for z in nets]


def _softmax_local(outs, nets, j, i):
    # ∂a_j/∂z_i = a_j(δ_ij − a_i): a_j(1 − a_j) on the diagonal, −a_j·a_i off it (file 001)
    return outs[j] * (1 - outs[j]) if i == j else -outs[j] * outs[i]


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        _elementwise("identity", lambda z: z, lambda out, net: sp.S.One),
        _elementwise("sigmoid", lambda z: 1 / (1 + sp.exp(-z)), lambda out, net: out * (1 - out)),
        _elementwise("tanh", sp.tanh, lambda out, net: 1 - out**2),
        _elementwise("relu", lambda z: sp.Max(0, z), lambda out, net: sp.Heaviside(net, 0), analytic=False),
        Activation("softmax", _softmax_forward, _softmax_local, coupled=True),
    )
}


@dataclass(frozen=True)
class Loss:
    """A loss as a sum of per-output terms E_j(t_j, o_j) over n outputs, with ∂E_j/∂o_j in closed form.

    `output_first` is the notation's choice of writing the residual: o − t (files 003, 004) or
    t − o (file 000); the function is the same, only the written form differs.
    """

    name: str
    per_output: Callable[[Expr, Expr, int, bool], Expr]   # (t, o, n, output_first) -> E_j
    local: Callable[[Expr, Expr, int, bool], Expr]        # (t, o, n, output_first) -> ∂E_j/∂o_j
    description: str


def _residual(t: Expr, o: Expr, output_first: bool) -> Expr:
    """o − t or t − o, kept in that order and unevaluated so it prints as the notes write it."""
    return sp.Add(o, -t, evaluate=False) if output_first else sp.Add(t, -o, evaluate=False)


def _scaled_residual(scale, t, o, output_first) -> Expr:
    """∂E/∂o of a squared loss: scale·(o − t), or −scale·(t − o) as file 000 writes −(target − out)."""
    factor = scale if output_first else -scale
    residual = _residual(t, o, output_first)
    return residual if factor == 1 else sp.Mul(factor, residual, evaluate=False)


LOSSES: dict[str, Loss] = {
    l.name: l
    for l in (
        Loss("half_sse", lambda t, o, n, of: sp.Rational(1, 2) * _residual(t, o, of) ** 2,
             lambda t, o, n, of: _scaled_residual(1, t, o, of), "E = Σ ½(t − o)²"),
        Loss("mse", lambda t, o, n, of: _residual(t, o, of) ** 2 / n,
             lambda t, o, n, of: _scaled_residual(sp.Rational(2, n), t, o, of),
             "E = mean over outputs of (t − o)² (Keras 'mse')"),
        Loss("bce", lambda t, o, n, of: -(t * sp.log(o) + (1 - t) * sp.log(1 - o)),
             lambda t, o, n, of: -(t / o - (1 - t) / (1 - o)),
             "E = Σ −(t log o + (1 − t) log(1 − o)), summed over outputs"),
        Loss("cross_entropy", lambda t, o, n, of: -t * sp.log(o), lambda t, o, n, of: -t / o,
             "E = −Σ t log o"),
    )
}

BIAS_SCHEMES = ("per_neuron", "shared", "none")
