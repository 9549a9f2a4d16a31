"""The primitives, one registry entry each: every activation and every loss, with everything any stage
needs to know about it, in one place (HIPS autograd's layout: rules registered apart from the machinery).

An `Activation` holds its symbolic forward rule and, beside it, its local derivative in closed form in
the graph's own symbols (∂out/∂net = out·(1 − out), as the notes write it); its stable numeric kernels;
its flags; and its LaTeX. A `Loss` holds its per-output rule and local derivative, the output
activations it pairs with, and its stable per-sample form for the matrix path.

Numeric kernels are plain functions of an array namespace `xp` (numpy, or the complex-step checker's
complex-safe namespace), so this module imports no NumPy; scalar kernels are code templates in `{x}`
for the generated Python-float and numba loops, with math bound to local names (_exp, _log1p, _abs).
Adding an activation is one entry here (plus tests): every stage reads these tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import sympy as sp

from derive.errors import DeriveError

__all__ = ["Activation", "Loss", "ACTIVATIONS", "LOSSES", "BIAS_SCHEMES", "PrimitiveError", "activation", "loss"]

Expr = sp.Expr
LEAKY_SLOPE = sp.Rational(1, 100)   # PyTorch's default negative_slope


@dataclass(frozen=True)
class Activation:
    """A layer's activation: forward rule, local derivative, stable kernels, flags and LaTeX."""

    name: str
    rule: Callable[[Expr], Expr] | None                        # net -> out, elementwise (None: coupled)
    derivative: Callable[[Expr, Expr], Expr] | None            # (out, net) -> ∂out/∂net, closed form
    array: Callable                                            # (x, xp) -> f(x), stable, dtype kept
    scalar: str | None                                         # Python-float template in {x}
    latex: str                                                 # the operator as the notes set it
    numba: str | None = None                                   # numba template, where it differs
    plain: str | None = None    # Python-float template that is cheaper than `scalar` but may raise OverflowError
                                # at the extremes (the training loop then reruns those epochs with `scalar`)
    c: str | None = None        # C template in {x}, where SymPy's C printing of the rule is not stable
    into: Callable | None = None                               # (x, out, xp): f(x) written into out
    slope: Callable | None = None                              # (z, xp) -> f′(z), for the matrix path
    matrix_factor: Callable | None = None     # (A, J) -> Hadamard factors of ∂A/∂Z in A (None: slope(Z))
    coupled: bool = False        # out_j depends on every net_i of its layer (softmax)
    output_only: bool = False    # allowed on the output layer only
    analytic: bool = True        # the complex step applies (false for relu's kinks)
    linear: bool = False         # f(z) = z: no nonlinearity, no derivative to forget
    forward_layer: Callable | None = None   # coupled: nets -> outs (symbolic, whole layer)
    local_layer: Callable | None = None     # coupled: (outs, nets, j, i) -> ∂out_j/∂net_i
    layer_lines: Callable | None = None     # coupled: (nets, outs, k, ops) -> code lines (stable)
    log_lines: Callable | None = None       # stable logs of the outputs (nets, outs, k, ops) -> lines
    description: str = ""

    def forward(self, nets: Sequence[Expr]) -> list[Expr]:
        """The layer's activations from its pre-activations."""
        return self.forward_layer(nets) if self.coupled else [self.rule(z) for z in nets]

    def local(self, outs: Sequence[Expr], nets: Sequence[Expr], j: int, i: int) -> Expr:
        """∂out_j/∂net_i in closed form: zero off the diagonal unless the activation is coupled."""
        if self.coupled:
            return self.local_layer(outs, nets, j, i)
        return self.derivative(outs[j], nets[j]) if i == j else sp.S.Zero


class PrimitiveError(DeriveError):
    """An unknown or incomplete registry entry (a contributor's error, named with what is missing)."""


# --- the stable kernels -------------------------------------------------------------------------------

def _sigmoid_array(x, xp):
    """1/(1 + e^(−x)), the hand-written form and its four passes: below about −709 (−88 in float32) e^(−x)
    overflows to inf and σ is 1/inf = 0, its correct rounding; the overflow flag is silenced for that one
    call, so never a warning, an inf or a NaN. Complex x (the complex step): the analytic form that never
    takes exp of a large positive real part."""
    if xp.iscomplexobj(x):
        with xp.errstate(over="ignore", invalid="ignore", divide="ignore"):
            ahead, behind = 1 / (1 + xp.exp(-x)), xp.exp(x) / (1 + xp.exp(x))
        return xp.where(xp.real(x) >= 0, ahead, behind)
    with xp.errstate(over="ignore"):
        return 1 / (1 + xp.exp(-x))


def _sigmoid_into(x, out, xp):
    """_sigmoid_array(x) written into `out`: negate, exp, add, divide, no other pass and no allocation."""
    xp.negative(x, out=out)
    with xp.errstate(over="ignore"):
        xp.exp(out, out=out)
    out += 1
    xp.divide(1, out, out=out)


def _step(z, xp, below=0.0):
    """1 where z > 0, else `below`, in z's own dtype (no float64 constants in float32 arithmetic)."""
    return xp.where(xp.real(z) > 0, 1, below).astype(xp.result_type(z, xp.float32))


def _softplus_array(x, xp):
    """log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)): e only ever sees −|x|, so it never overflows."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _softmax_rows(z, xp):
    """Softmax over the last axis, shifted by its maximum (never overflows): the matrix path's kernel."""
    e = xp.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- symbolic rules -------------------------------------------------------------------------------------

def _softmax_forward(nets):
    total = sp.Add(*[sp.exp(z) for z in nets])
    return [sp.exp(z) / total for z in nets]


def _softmax_local(outs, nets, j, i):
    # ∂a_j/∂z_i = a_j(δ_ij − a_i): a_j(1 − a_j) on the diagonal, −a_j·a_i off it (file 001)
    return outs[j] * (1 - outs[j]) if i == j else -outs[j] * outs[i]


def _softmax_lines(nets, outs, k, ops):
    """Softmax of one layer in generated code: shifted by the layer's maximum (never overflows)."""
    top = nets[0]
    for name in nets[1:]:
        top = ops.maximum.format(a=top, b=name)
    lines = [f"_m{k} = {top}"]
    lines += [f"_e{k}_{j} = {ops.exp.format(x=f'{n} - _m{k}')}" for j, n in enumerate(nets)]
    lines.append(f"_s{k} = " + " + ".join(f"_e{k}_{j}" for j in range(len(nets))))
    lines += [f"{o} = _e{k}_{j} / _s{k}" for j, o in enumerate(outs)]
    return lines


def _softmax_logs(nets, outs, k, ops):
    """log softmax_j = z_j − m − log s: no log of a rounded-to-zero probability."""
    return [f"_ls{k} = {ops.log.format(x=f'_s{k}')}"] + [f"_log_{o} = {n} - _m{k} - _ls{k}"
                                                          for n, o in zip(nets, outs)]


def _sigmoid_logs(nets, outs, k, ops):
    """log σ(z) = −(max(−z, 0) + log1p(e^−|z|)), log(1 − σ(z)) = −(max(z, 0) + …): never log 0."""
    lines = []
    for n, o in zip(nets, outs):
        lines.append(f"_sp_{o} = {ops.softplus_tail.format(x=n)}")
        lines.append(f"_log_{o} = -({ops.positive.format(x='-' + n)} + _sp_{o})")
        lines.append(f"_log1m_{o} = -({ops.positive.format(x=n)} + _sp_{o})")
    return lines


def _leaky(z):
    return sp.Piecewise((z, z > 0), (LEAKY_SLOPE * z, True))


def _one_minus(J, M):
    """J − M as the notes write it (unevaluated): J is the matrix of ones of M's shape."""
    return sp.MatAdd(J, sp.MatMul(sp.S.NegativeOne, M, evaluate=False), evaluate=False)


def _matrix_sigmoid(A, J):
    return [A, _one_minus(J, A)]                                          # A ⊙ (1 − A)


def _matrix_tanh(A, J):
    return [_one_minus(J, sp.HadamardProduct(A, A, evaluate=False))]      # 1 − A ⊙ A


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("identity", rule=lambda z: z, derivative=lambda out, net: sp.S.One,
                   array=lambda x, xp: x, scalar="{x}", latex="", linear=True,
                   slope=lambda z, xp: xp.ones_like(z), matrix_factor=lambda A, J: [],
                   description="f(z) = z"),
        Activation("sigmoid", rule=lambda z: 1 / (1 + sp.exp(-z)), derivative=lambda out, net: out * (1 - out),
                   array=_sigmoid_array, into=_sigmoid_into, latex=r"\sigma",
                   scalar="(1.0/(1.0 + _exp(-{x})) if {x} >= 0.0 else (_t := _exp({x}))/(1.0 + _t))",
                   plain="1.0/(1.0 + _exp(-{x}))",              # the notes' form: math.exp raises below −709
                   # numba cannot type the walrus; this form selects the numerator without a branch
                   numba="((1.0 if {x} >= 0.0 else _exp(-_abs({x}))) / (1.0 + _exp(-_abs({x}))))",
                   c="(1.0/(1.0 + exp(fmin(-{x}, 709.0))))",     # exp never overflows (fmin is one instruction)
                   slope=lambda z, xp: _sigmoid_array(z, xp) * (1 - _sigmoid_array(z, xp)),
                   matrix_factor=_matrix_sigmoid, log_lines=_sigmoid_logs,
                   description="σ(z) = 1 / (1 + e^(−z)); σ′ = σ(1 − σ)"),
        Activation("tanh", rule=sp.tanh, derivative=lambda out, net: 1 - out**2,
                   array=lambda x, xp: xp.tanh(x), into=lambda x, out, xp: xp.tanh(x, out=out),
                   scalar="_tanh({x})", latex=r"\tanh", slope=lambda z, xp: 1 - xp.tanh(z) ** 2,
                   matrix_factor=_matrix_tanh, description="tanh z; tanh′ = 1 − tanh²"),
        Activation("relu", rule=lambda z: sp.Max(0, z), derivative=lambda out, net: sp.Heaviside(net, 0),
                   array=lambda x, xp: xp.maximum(x, 0), into=lambda x, out, xp: xp.maximum(x, 0, out=out),
                   scalar="({x} if {x} > 0.0 else 0.0)", latex=r"\operatorname{relu}", analytic=False,
                   slope=lambda z, xp: _step(z, xp), description="max(z, 0); derivative 1 for z > 0, else 0"),
        Activation("leaky_relu", rule=_leaky,
                   derivative=lambda out, net: LEAKY_SLOPE + (1 - LEAKY_SLOPE) * sp.Heaviside(net, 0),
                   array=lambda x, xp: xp.where(xp.real(x) > 0, x, x * 0.01),
                   scalar="({x} if {x} > 0.0 else 0.01*{x})", latex=r"\operatorname{leaky\,relu}", analytic=False,
                   slope=lambda z, xp: _step(z, xp, 0.01),
                   description="z for z > 0, else 0.01·z (PyTorch's default slope); derivative 1 or 0.01"),
        Activation("softplus", rule=lambda z: sp.log(1 + sp.exp(z)), derivative=lambda out, net: 1 - sp.exp(-out),
                   array=_softplus_array, scalar="(({x} if {x} > 0.0 else 0.0) + _log1p(_exp(-_abs({x}))))",
                   c="(fmax({x}, 0.0) + log1p(exp(-fabs({x}))))",
                   latex=r"\operatorname{softplus}", slope=lambda z, xp: _sigmoid_array(z, xp),
                   description="log(1 + e^z), evaluated as max(z, 0) + log1p(e^(−|z|)); "
                               "derivative σ(z) = 1 − e^(−out)"),
        Activation("softmax", rule=None, derivative=None, array=_softmax_rows, scalar=None,
                   latex=r"\operatorname{softmax}", coupled=True, output_only=True,
                   forward_layer=_softmax_forward, local_layer=_softmax_local, layer_lines=_softmax_lines,
                   log_lines=_softmax_logs, description="e^(z_j) / Σ e^(z_i); ∂a_j/∂z_i = a_j(δ_ij − a_i)"),
    )
}


# --- losses ----------------------------------------------------------------------------------------------

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
    latex: str
    outputs: tuple[str, ...] | None = None   # output activations it is defined on (None: any)
    link: str | None = None                  # the output activation with ∂L/∂Z = A − Y (matrix form)
    takes_logs: bool = False                 # log of the outputs: computed from the pre-activation
    samples: Callable | None = None          # (Z, A, Y, xp) -> each sample's loss (rows), stable
    clipped: Callable | None = None          # (A, Y, xp, c) -> the notes' clipped form of the same
    distribution: bool = False               # targets are a distribution over the outputs (one-hot classes)
    usually: tuple[tuple[str, str], ...] = ()  # (output activation, the loss users usually mean with it)
    words: str = ""                          # the loss named in a sentence of a document
    squared: bool = False                    # a squared error (its ½ can be forgotten)


def _residual(t: Expr, o: Expr, output_first: bool) -> Expr:
    """o − t or t − o, kept in that order and unevaluated so it prints as the notes write it."""
    return sp.Add(o, -t, evaluate=False) if output_first else sp.Add(t, -o, evaluate=False)


def _scaled_residual(scale, t, o, output_first) -> Expr:
    """∂E/∂o of a squared loss: scale·(o − t), or −scale·(t − o) as file 000 writes −(target − out)."""
    factor = scale if output_first else -scale
    residual = _residual(t, o, output_first)
    return residual if factor == 1 else sp.Mul(factor, residual, evaluate=False)


def _log_softmax(Z, xp):
    top = Z.max(axis=1, keepdims=True)
    return Z - top - xp.log(xp.exp(Z - top).sum(axis=1, keepdims=True))


LOSSES: dict[str, Loss] = {
    l.name: l
    for l in (
        Loss("half_sse", lambda t, o, n, of: sp.Rational(1, 2) * _residual(t, o, of) ** 2,
             lambda t, o, n, of: _scaled_residual(1, t, o, of), "E = Σ ½(t − o)²", r"\tfrac12 \sum (t - o)^2",
             words="half the sum of squared errors", squared=True, link="identity",
             samples=lambda Z, A, Y, xp: 0.5 * ((Y - A) ** 2).sum(axis=1),
             usually=(("softmax", "cross_entropy"),)),
        Loss("mse", lambda t, o, n, of: _residual(t, o, of) ** 2 / n,
             lambda t, o, n, of: _scaled_residual(sp.Rational(2, n), t, o, of),
             "E = mean over outputs of (t − o)² (Keras 'mse')", r"\tfrac1n \sum (t - o)^2",
             words="mean squared error (Keras' mse)", squared=True,
             samples=lambda Z, A, Y, xp: ((Y - A) ** 2).mean(axis=1), usually=(("softmax", "cross_entropy"),)),
        Loss("bce", lambda t, o, n, of: -(t * sp.log(o) + (1 - t) * sp.log(1 - o)),
             lambda t, o, n, of: -(t / o - (1 - t) / (1 - o)),
             "E = Σ −(t log o + (1 − t) log(1 − o)), summed over outputs",
             r"-\sum \bigl(t \log o + (1 - t) \log (1 - o)\bigr)", words="binary cross-entropy",
             outputs=("sigmoid",), link="sigmoid",
             takes_logs=True,
             # −(y log σ(z) + (1 − y) log(1 − σ(z))) = log(1 + e^z) − y z
             samples=lambda Z, A, Y, xp: (xp.logaddexp(0, Z) - Y * Z).sum(axis=1),
             clipped=lambda A, Y, xp, c: -(Y * xp.log(xp.clip(A, c, 1 - c))
                                           + (1 - Y) * xp.log(1 - xp.clip(A, c, 1 - c))).sum(axis=1)),
        Loss("cross_entropy", lambda t, o, n, of: -t * sp.log(o), lambda t, o, n, of: -t / o,
             "E = −Σ t log o", r"-\sum t \log o", words="cross-entropy", outputs=("softmax", "sigmoid"),
             link="softmax", takes_logs=True,
             distribution=True,
             samples=lambda Z, A, Y, xp: -(Y * _log_softmax(Z, xp)).sum(axis=1),
             clipped=lambda A, Y, xp, c: -(Y * xp.log(xp.clip(A, c, 1 - c))).sum(axis=1),
             usually=(("sigmoid", "bce"),)),
    )
}


def unusual_pair(output_activation: str, loss_name: str) -> str | None:
    """The loss users usually mean with this output activation, where the pair given is unusual
    (from each Loss's `usually`: sigmoid with cross_entropy is usually bce); None for a usual pair."""
    entry = LOSSES.get(loss_name)
    return dict(entry.usually).get(output_activation) if entry else None

BIAS_SCHEMES = ("per_neuron", "shared", "none")

ELEMENTWISE_FIELDS = ("rule", "derivative", "array", "scalar", "slope")
COUPLED_FIELDS = ("forward_layer", "local_layer", "layer_lines", "array")


def activation(name: str) -> Activation:
    """The registry entry `name`; PrimitiveError naming the known ones, or what a half-made entry lacks."""
    if name not in ACTIVATIONS:
        raise PrimitiveError(f"no activation {name!r} in derive.core.primitives (known: {', '.join(ACTIVATIONS)})")
    entry = ACTIVATIONS[name]
    needed = COUPLED_FIELDS if entry.coupled else ELEMENTWISE_FIELDS
    missing = [f for f in needed if getattr(entry, f) is None]
    if missing:
        raise PrimitiveError(f"activation {name!r} is incomplete: it needs {', '.join(missing)}")
    return entry


def loss(name: str) -> Loss:
    """The registry entry `name`; PrimitiveError naming the known ones."""
    if name not in LOSSES:
        raise PrimitiveError(f"no loss {name!r} in derive.core.primitives (known: {', '.join(LOSSES)})")
    return LOSSES[name]

