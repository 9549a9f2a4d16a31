"""The notes' derivative derivations, step by step, each step proved equal to the one before by SymPy.

    sigmoid      d/dx 1/(1+e^−x) = −(1+e^−x)^−2 · (−e^−x) = e^−x/(1+e^−x)² = … = out(1 − out)   (file 000)
    tanh         d/dx tanh x = … = 1 − out²
    softplus     d/dx log(1 + e^x) = e^x/(1 + e^x) = 1/(1 + e^−x) = … = 1 − e^−out
    softmax      ∂a1/∂z1 = … = a1(1 − a1), ∂a2/∂z1 = … = −a2·a1, ∂a_i/∂z_j = a_i(δ_ij − a_j)   (file 001)
    softmax+CE   ∂L/∂z1 = Σ ∂L/∂a_k ∂a_k/∂z1 = … = −(y1 − a1), using y1 + y2 + y3 = 1         (file 001)

`IDENTITIES` holds every derivation by name; an activation's own derivation is named as the registry
(derive.core.primitives.ACTIVATIONS) names the activation, so a document shows it for every layer
with that activation. `SHOWN_WITH` adds derivations shown beside an activation's own (softmax's
off-diagonal entry), `WITH_LOSS` those for an output activation and a loss together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import sympy as sp

from derive.core.proof import Proof, prove_equal
from derive.render.latex.blocks import Equation, Heading, Row, Text
from derive.render.latex.printer import latex, partial

__all__ = ["Step", "Identity", "IDENTITIES", "SHOWN_WITH", "WITH_LOSS", "identity", "identity_names",
           "identity_blocks"]

U = sp.UnevaluatedExpr


def mul(*args):
    return sp.Mul(*args, evaluate=False)


def add(*args):
    return sp.Add(*args, evaluate=False)


def div(a, b):
    inverse = sp.Pow(b, -1, evaluate=False)
    return inverse if a == 1 else sp.Mul(a, inverse, evaluate=False)


@dataclass(frozen=True)
class Step:
    """One '= …' of a derivation. `shown` replaces the printed expression where SymPy cannot write the
    notes' notation (∂L/∂a1 as a fraction of partials); `note` is LaTeX (math mode) set beside it;
    `given` is an assumption used from this step on."""

    expr: sp.Expr
    shown: str = ""
    note: str = ""
    given: Mapping[sp.Symbol, sp.Expr] = field(default_factory=dict)


@dataclass
class Identity:
    title: str
    lhs: str
    steps: list[Step]
    meaning: Mapping[sp.Symbol, sp.Expr]     # what the names stand for (out = σ(x), a1 = softmax_1(z))
    source: str = ""

    def value(self, expr: sp.Expr, given: Mapping) -> sp.Expr:
        return expr.xreplace(dict(given)).xreplace(dict(self.meaning)).doit().xreplace(dict(given))

    def proofs(self) -> list[Proof]:
        """proofs[i]: step i equals step i − 1 (with the assumptions given so far)."""
        out, given = [], {}
        for before, after in zip(self.steps, self.steps[1:]):
            given.update(after.given)
            out.append(prove_equal(self.value(before.expr, given), self.value(after.expr, given)))
        return out

    def equation(self, proofs: list[Proof] | None = None) -> Equation:
        """The steps as rows, a step that did not hold marked NOT PROVED (`proofs`: self.proofs(), if done)."""
        proofs = [None] + (self.proofs() if proofs is None else proofs)
        rows = []
        for i, (step, proof) in enumerate(zip(self.steps, proofs)):
            text = step.shown or latex(step.expr)
            note = step.note
            if proof is not None and not proof:
                note = r"\text{NOT PROVED} " + note
            rows.append(Row(self.lhs if i == 0 else "", f"= {text}", note))
        return Equation(rows)


def sigmoid(x: str = "x", out: str = "out", source: str = "file 000") -> Identity:
    x, out = sp.symbols(f"{x} {out}", real=True)
    e, one_plus = sp.exp(-x), add(1, sp.exp(-x))
    s = div(1, one_plus)
    steps = [Step(sp.Derivative(s, x)),
             Step(mul(-1, U(sp.Pow(one_plus, -2, evaluate=False)), U(-e))),
             Step(div(e, sp.Pow(one_plus, 2, evaluate=False))),
             Step(mul(U(s), add(1, -s))),
             Step(mul(out, add(1, -out)), note=rf"\text{{with }} {latex(out)} = {latex(div(1, add(1, sp.exp(-x))))}")]
    return Identity("The sigmoid's derivative" + (f" ({source})" if source else ""), _d(out, x), steps,
                    {out: 1 / (1 + sp.exp(-x))}, source)


def tanh(x: str = "x", out: str = "out", source: str = "") -> Identity:
    x, out = sp.symbols(f"{x} {out}", real=True)
    p, m = add(sp.exp(x), sp.exp(-x)), add(sp.exp(x), -sp.exp(-x))
    t = div(m, p)
    quotient = div(add(mul(p, p), -mul(m, m)), sp.Pow(p, 2, evaluate=False))
    steps = [Step(sp.Derivative(t, x)),
             Step(quotient, note=r"\text{quotient rule}"),
             Step(add(1, -sp.Pow(U(t), 2, evaluate=False))),
             Step(add(1, -sp.Pow(out, 2, evaluate=False)), note=rf"\text{{with }} {latex(out)} = {latex(sp.tanh(x))}")]
    return Identity("The tanh derivative", _d(out, x), steps, {out: sp.tanh(x)})


def softplus(x: str = "x", out: str = "out", source: str = "") -> Identity:
    x, out = sp.symbols(f"{x} {out}", real=True)
    one_plus = add(1, sp.exp(x))
    steps = [Step(sp.Derivative(sp.log(one_plus), x)),
             Step(div(sp.exp(x), one_plus), note=r"\text{chain rule}"),
             Step(div(1, add(1, sp.exp(-x))), note=r"\text{the sigmoid } \sigma(x)"),
             Step(add(1, -div(1, one_plus))),
             Step(add(1, -sp.exp(-out)), note=rf"\text{{with }} {latex(out)} = \log\left(1 + e^{{{latex(x)}}}\right)")]
    return Identity("The softplus derivative", _d(out, x), steps, {out: sp.log(1 + sp.exp(x))})


def _softmax(n: int = 3):
    z = sp.symbols(f"z1:{n + 1}", real=True)
    a = sp.symbols(f"a1:{n + 1}", real=True)
    total = add(*[sp.exp(zi) for zi in z])
    return z, a, total, {ai: sp.exp(zi) / sum(sp.exp(zj) for zj in z) for ai, zi in zip(a, z)}


def softmax_jacobian(i: int = 1, j: int = 1) -> Identity:
    """∂a_i/∂z_j for three classes by the quotient rule, as file 001 writes ∂a1/∂z1 and ∂a2/∂z1."""
    z, a, total, meaning = _softmax()
    ai, zj, ez = a[i - 1], z[j - 1], sp.exp(z[i - 1])
    quotient = div(add(mul(total, sp.Derivative(ez, zj)), -mul(ez, sp.Derivative(total, zj))),
                   sp.Pow(total, 2, evaluate=False))
    if i == j:
        tail = [Step(div(add(mul(ez, total), -mul(ez, ez)), sp.Pow(total, 2, evaluate=False))),
                Step(add(div(ez, total), -sp.Pow(U(div(ez, total)), 2, evaluate=False))),
                Step(add(ai, -sp.Pow(ai, 2, evaluate=False))),
                Step(mul(ai, add(1, -ai)))]
    else:
        tail = [Step(div(add(0, -mul(ez, sp.exp(zj))), sp.Pow(total, 2, evaluate=False))),
                Step(mul(-1, ai, a[j - 1]))]
    steps = [Step(sp.Derivative(div(ez, total), zj)), Step(quotient, note=r"\text{quotient rule}"), *tail]
    return Identity(rf"Softmax: $\partial a_{i}/\partial z_{j}$ (file 001)", partial(f"a{i}", f"z{j}"), steps,
                    meaning, "file 001")


def softmax_cross_entropy() -> Identity:
    """∂L/∂z1 for L = −Σ y_k log a_k and a = softmax(z), down to −(y1 − a1) using Σ y_k = 1 (file 001)."""
    z, a, total, meaning = _softmax()
    y = sp.symbols("y1:4", real=True)
    dL = [-yk / ak for yk, ak in zip(y, a)]
    da = [sp.Derivative(meaning[ak], z[0]) for ak in a]
    sum_partials = " + ".join(partial("L", f"a{k}") + partial(f"a{k}", "z1") for k in (1, 2, 3))
    sum_fractions = " + ".join(rf"\left({latex(-yk / ak)}\right) " + partial(f"a{k}", "z1")
                               for k, (yk, ak) in zip((1, 2, 3), zip(y, a)))
    jac = [mul(a[0], add(1, -a[0])), mul(-1, a[1], a[0]), mul(-1, a[2], a[0])]
    steps = [
        Step(add(*[mul(U(d), j) for d, j in zip(dL, da)]), shown=sum_partials),
        Step(add(*[mul(U(d), j) for d, j in zip(dL, da)]), shown=sum_fractions,
             note=r"\tfrac{\partial L}{\partial a_k} = -\tfrac{y_k}{a_k}"),
        Step(add(*[mul(U(d), U(j)) for d, j in zip(dL, jac)]), note=r"\text{softmax Jacobian}"),
        Step(add(mul(-y[0], add(1, -a[0])), mul(y[1], a[0]), mul(y[2], a[0]))),
        Step(add(-y[0], mul(add(*y), a[0]))),
        Step(mul(-1, add(y[0], -a[0])), note=r"\text{using } y_1 + y_2 + y_3 = 1", given={y[2]: 1 - y[0] - y[1]}),
    ]
    return Identity("Softmax with cross-entropy (file 001)", partial("L", "z1"), steps, meaning, "file 001")


IDENTITIES: dict[str, Callable[[], Identity]] = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softplus": softplus,
    "softmax": softmax_jacobian,
    "softmax_offdiagonal": lambda: softmax_jacobian(2, 1),
    "softmax_cross_entropy": softmax_cross_entropy,
}
# derivations shown after an activation's own (by registry name)
SHOWN_WITH: dict[str, tuple[str, ...]] = {"softmax": ("softmax_offdiagonal",)}
# derivations for an output activation and a loss together
WITH_LOSS: dict[tuple[str, str], tuple[str, ...]] = {("softmax", "cross_entropy"): ("softmax_cross_entropy",)}


# each notation's own names for an activation's derivation (pre-activation, activation, the notes' file)
NOTATION_NAMES: dict[str, tuple[str, str, str]] = {"net-out": ("x", "out", "file 000"), "z-h-o": ("z", "o", ""),
                                                   "seven": ("x", "y", "")}
NAMED = ("sigmoid", "tanh", "softplus")     # the derivations written in a notation's names


def _d(out: sp.Symbol, x: sp.Symbol) -> str:
    """d out / dx in the printer's names (\\frac{d\\,\\mathit{out}}{dx})."""
    return rf"\frac{{d\,{latex(out)}}}{{d{latex(x)}}}"


def identity(name: str, preset: str = "net-out") -> Identity:
    """The named derivation, in the notation's names where it is an activation's own."""
    if name in NAMED:
        return IDENTITIES[name](*NOTATION_NAMES.get(preset, NOTATION_NAMES["net-out"]))
    return IDENTITIES[name]()


def identity_names(activations, loss: str) -> list[str]:
    """The derivations a network's document shows: each activation's own (where IDENTITIES has one)
    with those SHOWN_WITH it, then those for the output activation WITH_LOSS; each once, in order."""
    names = []
    for act in dict.fromkeys(activations):
        if act in IDENTITIES:
            names += [act, *SHOWN_WITH.get(act, ())]
    if activations:
        names += WITH_LOSS.get((activations[-1], loss), ())
    return list(dict.fromkeys(names))


def identity_blocks(names, preset: str = "net-out") -> list:
    """Document blocks for the named derivations, each with a line saying how its steps were proved."""
    blocks = []
    for name in names:
        ident = identity(name, preset)
        proofs = ident.proofs()
        how = ("proved equal to the one before it by SymPy" if all(p.exact for p in proofs)
               else "checked against the one before it at random points (not every step proved)")
        blocks += [Heading(ident.title, 2), ident.equation(proofs), Text(f"Each step is {how}.")]
    return blocks
