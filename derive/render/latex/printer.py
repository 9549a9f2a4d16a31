"""A SymPy LatexPrinter for derive's objects: names in the notation's LaTeX, terms kept in the notes' order.

`DerivePrinter(preset)` prints expressions in a notation's names (order='none', so the rules'
−(target_o1 − out_o1) stays as written); given `values` it prints numbers in place of names,
which is how a hand calculation substitutes (−(0.01 − 0.751)).
"""

from __future__ import annotations

import math
from typing import Mapping

import sympy as sp
from sympy.printing.latex import LatexPrinter

from derive.render.latex.names import latex_name

__all__ = ["DerivePrinter", "latex", "with_numbers", "number", "partial", "name"]


def number(x: float, digits: int = 3) -> str:
    """A value as a hand calculation prints it: `digits` significant digits, whole numbers whole."""
    if not math.isfinite(x):            # a δ float64 cannot hold (0/0 at a saturated output)
        return r"\text{(not representable in float64)}"
    if x == round(x) and abs(x) < 1e7:
        return str(int(round(x)))
    text = f"{x:.{digits}g}"
    if float(text) != x:                  # a computed value keeps its significant zeros (0.250)
        text = f"{x:#.{digits}g}".rstrip(".")
    if "e" in text and abs(x) >= 1:         # a large value keeps its whole digits (2312.5, not 2.31e3)
        return f"{round(x, 1):.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


class DerivePrinter(LatexPrinter):
    """LaTeX in a notation preset's names; with `values`, every named quantity printed as its number."""

    def __init__(self, preset: str = "net-out", values: Mapping[str, float] | None = None, digits: int = 3,
                 **settings):
        settings.setdefault("order", "none")
        settings.setdefault("mul_symbol", "times" if values is not None else "dot")
        super().__init__(settings)
        self.preset = preset
        self.values = values
        self.digits = digits

    def _print_Symbol(self, expr, style="plain"):
        if self.values is not None and expr.name in self.values:
            text = number(self.values[expr.name], self.digits)
            bare = getattr(self, "_bare", False)
            return rf"\left({text}\right)" if text.startswith("-") and not bare else text
        return latex_name(expr.name, self.preset)

    def _print_Mul(self, expr):
        """With numbers: −(−0.18) prints 0.18 (e^{0.18}, not e^{−(−0.18)}), and −t·log o with t = 0
        prints 0 × log(0.390), not −0 × log(0.390)."""
        if self.values is not None and expr.args and expr.args[0] == -1:
            rest = expr.args[1:]
            if len(rest) == 1 and rest[0].is_Symbol and self.values.get(rest[0].name, 0) < 0:
                return number(-self.values[rest[0].name], self.digits)
            if any(a.is_Symbol and self.values.get(a.name) == 0 for a in rest):
                return super()._print_Mul(sp.Mul(*rest, evaluate=False))
        return super()._print_Mul(expr)

    def _print_Heaviside(self, expr):
        """ReLU's step as a lecturer writes it: 𝟏[net > 0] (the value at 0 is the rule's, not shown)."""
        return rf"\mathbf{{1}}\left[{self._print(expr.args[0])} > 0\right]"

    def _print_Function(self, expr, exp=None):
        """f(x) with a negative number put in for x prints tanh(−0.105), not tanh((−0.105))."""
        self._bare = all(a.is_Symbol for a in expr.args)
        try:
            return super()._print_Function(expr, exp)
        finally:
            self._bare = False

    def _print_UnevaluatedExpr(self, expr):
        """A kept step: a power stays a power ((1 + e^{−x})^{−2}), a negative factor gets brackets."""
        inner = expr.args[0]
        if isinstance(inner, sp.Pow) and inner.exp.is_Integer and inner.exp < -1:
            base = self._print(inner.base)
            if not (inner.base.is_Symbol or inner.base.is_Number):
                base = rf"\left({base}\right)"
            return rf"{base}^{{{self._print(inner.exp)}}}"
        text = self._print(inner)
        if isinstance(inner, sp.Add) or inner.could_extract_minus_sign():
            return rf"\left({text}\right)"
        return text


def latex(expr: sp.Basic, preset: str = "net-out") -> str:
    """An expression in the preset's LaTeX names, terms in the order they were built."""
    return DerivePrinter(preset).doprint(expr)


def with_numbers(expr: sp.Basic, values: Mapping[str, float], digits: int = 3, preset: str = "net-out") -> str:
    """An expression with each named quantity replaced by its value, as a hand calculation writes it."""
    return DerivePrinter(preset, values=values, digits=digits).doprint(expr)


def name(text: str, preset: str = "net-out") -> str:
    return latex_name(text, preset)


def partial(num: str, den: str, preset: str = "net-out") -> str:
    """∂num/∂den as a fraction of partials, names in the preset's LaTeX."""
    return rf"\frac{{\partial {latex_name(num, preset)}}}{{\partial {latex_name(den, preset)}}}"
