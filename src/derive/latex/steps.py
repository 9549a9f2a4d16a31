"""One derivation as the notes write it, step by step: chain, closed forms, numbers, update.

    chain    ∂F_t/∂w1 = ∂F_o1/∂out_o1 · ∂out_o1/∂net_o1 · … + (the path through o2)   (file 000)
    closed   each factor in closed form, then the sum over paths in closed form
    numbers  each factor at the spec's values, then ∂E_total/∂w5 = 0.209 × 0.238 × 0.519 = 0.0259 (file 003)
    update   w5⁺ = w5 − α · ∂E_total/∂w5 = 0.45 − 0.5 × 0.0259 = 0.437 (file 003)
Long sums break after each path (and a long path after every few factors), never off the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import sympy as sp

from ..derivation import Derivation, Factor
from .blocks import Equation, Row
from .names import latex_name, style_of
from .printer import latex, number, partial, with_numbers

__all__ = ["STEPS", "STEP_TITLES", "FACTORS_PER_LINE", "Numbers", "chain", "closed", "numbers", "update",
           "steps", "step_equations", "repr_latex"]

STEPS = ("chain", "closed", "numbers", "update")
FACTORS_PER_LINE = 5   # five \frac factors fit an A4 line; file 000's paths have five


@dataclass
class Numbers:
    """The values a hand calculation substitutes: every named quantity, learning rate, digits."""

    network: object      # derive.Network
    digits: int = 3

    @cached_property
    def values(self) -> dict[str, float]:
        return self.network.values()

    def of(self, expr: sp.Expr) -> float:
        subs = {s: self.values[s.name] for s in expr.free_symbols}
        return float(expr.xreplace(subs))

    def show(self, value: float) -> str:
        return number(value, self.digits)


def _preset(d: Derivation) -> str:
    return d.net.notation.name


def _lhs(d: Derivation) -> str:
    return partial(d.total, d.param.name, _preset(d))


def _factors(d: Derivation) -> list[Factor]:
    """The distinct factors of all paths, in order of first appearance."""
    seen: dict[tuple[str, str], Factor] = {}
    for path in d.paths:
        for f in path:
            seen.setdefault((f.num, f.den), f)
    return list(seen.values())


def _bracket(text: str, expr: sp.Expr | None = None) -> str:
    """A factor inside a product: bracketed when it is a sum or starts with a minus sign."""
    needs = text.lstrip().startswith("-") or (expr is not None and isinstance(expr, sp.Add))
    return rf"\left({text}\right)" if needs else text


def _factor(text: str, expr: sp.Expr, first: bool) -> str:
    """A closed form inside a product: a sum always bracketed, a leading minus only after the first."""
    if isinstance(expr, sp.Add) or (not first and text.lstrip().startswith("-")):
        return rf"\left({text}\right)"
    return text


def sum_rows(lhs: str, terms: Sequence[Sequence[str]], times: str, total: str = "") -> list[Row]:
    """lhs = Σ Π factors, one path per row and at most FACTORS_PER_LINE factors a row; then = total."""
    rows: list[Row] = []
    for t, factors in enumerate(terms):
        for start in range(0, len(factors), FACTORS_PER_LINE):
            chunk = f" {times} ".join(factors[start:start + FACTORS_PER_LINE])
            if start:
                rhs = rf"\quad {times} {chunk}"
            elif t == 0:
                rhs = "= " + chunk
            else:
                rhs = "+ " + (rf"\left({chunk}\right)" if chunk.startswith("-") else chunk)
            rows.append(Row(lhs if not rows else "", rhs))
    if total:
        rows.append(Row("", f"= {total}"))
    return rows


def chain(d: Derivation) -> Equation:
    """(a) the sum over paths of products of partial derivatives, in the notation's names."""
    preset = _preset(d)
    terms = [[partial(f.num, f.den, preset) for f in path] for path in d.paths]
    return Equation(sum_rows(_lhs(d), terms, r"\cdot"))


def closed(d: Derivation) -> Equation:
    """(b) each factor in closed form, then the sum over paths with the closed forms put in."""
    preset = _preset(d)
    rows = [Row(partial(f.num, f.den, preset), f"= {latex(f.closed, preset)}") for f in _factors(d)]
    terms = [[_factor(latex(f.closed, preset), f.closed, first=i == 0) for i, f in enumerate(path)]
             for path in d.paths]
    return Equation(rows + sum_rows(_lhs(d), terms, r"\cdot"))


def numbers(d: Derivation, nums: Numbers) -> Equation:
    """(c) each factor at the spec's values, then the product along each path and the sum."""
    preset = _preset(d)
    rows = []
    for f in _factors(d):
        parts = [latex(f.closed, preset)]
        if not (f.closed.is_Symbol or f.closed.is_Number):
            parts.append(with_numbers(f.closed, nums.values, nums.digits, preset))
        if not f.closed.is_Number:
            parts.append(nums.show(nums.of(f.closed)))
        rows.append(Row(partial(f.num, f.den, preset), "= " + " = ".join(parts)))
    terms = [[_bracket(nums.show(nums.of(f.closed))) for f in path] for path in d.paths]
    total = nums.show(nums.network.evaluation.gradients[d.param.canonical])
    chain_rows = sum_rows(_lhs(d), terms, r"\times", total)
    if len(d.paths) == 1 and len(d.paths[0]) <= FACTORS_PER_LINE:
        chain_rows = [Row(chain_rows[0].lhs, chain_rows[0].rhs + f" = {total}")]
    return Equation(rows + chain_rows)


def gradient_name(d: Derivation) -> str:
    """∂E/∂w as the preset writes it: a partial (files 000, 003) or a back-propagated name wE (file 004)."""
    preset = _preset(d)
    if style_of(preset).gradient_by_name:
        return latex_name(d.net.notation.delta.format(name=d.param.name), preset)
    return _lhs(d)


def _changed(now: float, new: float, nums: Numbers) -> str:
    """The updated value with enough digits to differ from the old one (0.3 − 0.5 × 0.0008 = 0.2996)."""
    digits = nums.digits
    while digits < 15 and float(f"{new:.{digits}g}") == now and new != now:
        digits += 1
    return number(new, digits)


def update(d: Derivation, nums: Numbers) -> Equation:
    """(d) one step of gradient descent, symbolically and with numbers (w5⁺ = 0.45 − 0.5 × 0.0259 = 0.437)."""
    preset, net = _preset(d), nums.network
    style, p = style_of(preset), d.param
    here = latex_name(p.name, preset)
    lhs = style.updated.format(name=here)
    if p.canonical not in net.trained:
        return Equation([Row(lhs, f"= {here}", r"\text{(not trained)}")])
    lr, now = net.spec.learning_rate, net.param_values()[p.canonical]
    g, new = net.evaluation.gradients[p.canonical], net.updated()[p.canonical]
    rhs = (rf"= {here} - {style.learning_rate} \cdot {gradient_name(d)}"
           rf" = {nums.show(now)} - {nums.show(lr)} \times {_bracket(nums.show(g))} = {_changed(now, new, nums)}")
    return Equation([Row(lhs, rhs)])


STEP_TITLES = {"chain": "The chain rule, path by path", "closed": "Each factor in closed form",
               "numbers": "With numbers", "update": "One step of gradient descent"}


def step_equations(d: Derivation, nums: Numbers | None, which: Sequence[str] = STEPS) -> list[tuple[str, Equation]]:
    """The chosen steps of one derivation as (step name, equation), in the order chain, closed, numbers, update."""
    makers = {"chain": lambda: chain(d), "closed": lambda: closed(d),
              "numbers": lambda: numbers(d, nums), "update": lambda: update(d, nums)}
    return [(step, makers[step]()) for step in STEPS if step in which]


def steps(d: Derivation, nums: Numbers | None, which: Sequence[str] = STEPS) -> Equation:
    """The chosen steps of one derivation as one aligned equation."""
    eq = Equation()
    for _, part in step_equations(d, nums, which):
        eq = eq + part
    return eq


def repr_latex(d: Derivation) -> str:
    """For Jupyter: the chain and the closed forms in one $$ block."""
    from .blocks import aligned
    return "$$" + aligned(chain(d) + closed(d)) + "$$"
