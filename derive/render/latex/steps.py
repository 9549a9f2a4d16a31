"""One derivation as the notes write it, step by step: chain, closed forms, numbers, update.

    chain    ∂F_t/∂w1 = ∂F_o1/∂out_o1 · ∂out_o1/∂net_o1 · … + (the path through o2)   (file 000)
    closed   each factor in closed form, then the sum over paths in closed form
    numbers  each factor at the spec's values, then ∂E_total/∂w5 = 0.209 × 0.238 × 0.519 = 0.0259 (file 003)
    update   w5⁺ = w5 − α · ∂E_total/∂w5 = 0.45 − 0.5 × 0.0259 = 0.437 (file 003)
Long sums break after each path (and a long path after every few factors), never off the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import sympy as sp

from derive.core.derivation import Derivation, Factor
from derive.core.limits import MAX_PATHS
from derive.render.latex.blocks import Equation, Row, aligned, wrapped
from derive.render.latex.names import latex_name, style_of
from derive.render.text import at
from derive.render.latex.printer import latex, number, partial, with_numbers

__all__ = ["STEPS", "ALL_STEPS", "shared", "STEP_TITLES", "FACTORS_PER_LINE", "Numbers", "chain", "closed", "numbers", "update",
           "delta", "steps", "step_equations", "repr_latex"]

STEPS = ("chain", "closed", "numbers", "update")
ALL_STEPS = ("chain", "closed", "numbers", "shared", "delta", "update")   # `shared`: file 003's ∂E/∂h1 line
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
        return at(expr, {s: self.values[s.name] for s in expr.free_symbols})

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
        factors = list(factors)
        sign = "+ "
        if t and factors and factors[0].lstrip().startswith("-"):     # − (t − o) · …, not + (−(t − o)) · …
            sign, factors[0] = "- ", factors[0].lstrip()[1:].lstrip()
        for start in range(0, len(factors), FACTORS_PER_LINE):
            chunk = f" {times} ".join(factors[start:start + FACTORS_PER_LINE])
            if start:
                rhs = rf"\quad {times} {chunk}"
            elif t == 0:
                rhs = "= " + chunk
            else:
                rhs = sign + chunk
            rows.append(Row(lhs if not rows else "", rhs))
    if total:
        rows.append(Row("", f"= {total}"))
    return rows


def chain(d: Derivation) -> Equation:
    """(a) the sum over paths of products of partial derivatives, in the notation's names."""
    preset = _preset(d)
    terms = [[partial(f.num, f.den, preset) for f in path] for path in d.paths]
    return Equation(sum_rows(_lhs(d), terms, r"\cdot"))


def closed(d: Derivation, factors: bool = True) -> Equation:
    """(b) each factor in closed form (unless `factors` is False: the numbers step repeats them), then
    the sum over paths with the closed forms put in."""
    preset = _preset(d)
    rows = [Row(partial(f.num, f.den, preset), f"= {latex(f.closed, preset)}") for f in _factors(d)] if factors else []
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
    if not all(math.isfinite(nums.of(f.closed)) for f in _factors(d)):   # a saturated output: say where the total comes from
        last = chain_rows[-1]
        chain_rows[-1] = Row(last.lhs, last.rhs, r"\text{(from the stable $\delta$ form)}")
    return Equation(rows + chain_rows)


def _signed_sum(texts: list[str]) -> str:
    """0.152 − 0.476 − 0.113 rather than 0.152 + (−0.476) + (−0.113)."""
    out = texts[0]
    for t in texts[1:]:
        out += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    return out


def shared(d: Derivation, nums: Numbers) -> Equation:
    """File 003's way for a hidden weight: through the back-propagated ∂E/∂h1, shared by every path.

        ∂E_total/∂w1 = ∂E_total/∂h1 · ∂h1/∂z1 · ∂z1/∂w1 = 0.0324 × 0.250 × 0.1 = 0.000809
        ∂E_total/∂h1 = ∂E_total/∂z3 · ∂z3/∂h1 + ∂E_total/∂z4 · ∂z4/∂h1 = … = 0.0324
    Empty where that adds nothing: output-layer parameters, shared biases, coupled (softmax) layers.
    """
    g, preset, p = d.net, _preset(d), d.param
    feeds = g.children[p.name]
    if len(feeds) != 1:
        return Equation()
    n = g.nodes[feeds[0]]
    a = n if n.activation is not None else (g.nodes[g.children[n.name][0]] if len(g.children[n.name]) == 1 else None)
    if a is None or a.name not in d.bp.deltas or any(c not in d.bp.deltas for c in g.children[a.name]):
        return Equation()
    delta = lambda name: nums.values[d.bp.deltas[name].symbol.name]
    local = lambda child, parent: nums.of(g.nodes[child].local[parent])
    total = g.total.name
    chain_names = [(total, a.name)] + ([(a.name, n.name)] if a is not n else []) + [(n.name, p.name)]
    chain_values = [delta(a.name)] + ([local(a.name, n.name)] if a is not n else []) + [local(n.name, p.name)]
    grad = nums.network.evaluation.gradients[p.canonical]
    rows = [Row(_lhs(d), "= " + r" \cdot ".join(partial(x, y, preset) for x, y in chain_names)),
            Row("", "= " + r" \times ".join(_bracket(nums.show(v)) for v in chain_values) + f" = {nums.show(grad)}")]
    children = g.children[a.name]
    terms = [(delta(c), local(c, a.name)) for c in children]
    rows += wrapped(partial(total, a.name, preset),
                    [partial(total, c, preset) + r" \cdot " + partial(c, a.name, preset) for c in children], 2)
    products = [f"{_bracket(nums.show(x))} \\times {_bracket(nums.show(y))}" for x, y in terms]
    contributions = " = " + _signed_sum([nums.show(x * y) for x, y in terms]) if len(terms) > 1 else ""
    if len(terms) <= 2:      # file 003: = 0.0499 × 0.45 + 0.0142 × 0.7 = 0.0224 + 0.00997 = 0.0324
        rows.append(Row("", "= " + " + ".join(products) + contributions + f" = {nums.show(delta(a.name))}"))
    else:
        rows += wrapped("", products, 3)
        rows.append(Row("", contributions.lstrip() + f" = {nums.show(delta(a.name))}"))
    return Equation(rows)


def delta_name(d: Derivation, node: str) -> str:
    """δ_node = ∂E/∂node, for a note beside the δ form: the δ term by name and what it stands for."""
    preset = _preset(d)
    return latex(d.bp.ref(node), preset) + " = " + partial(d.total, node, preset)


def delta(d: Derivation, nums: Numbers) -> Equation:
    """The δ form: ∂E/∂w1 = δ_net_h1 · ∂net_h1/∂w1 = δ_net_h1 · i1 = 0.0363 × 0.05 = 0.00182,
    each δ named beside it (δ_net_h1 = ∂E/∂net_h1); the back-propagated terms every weight shares."""
    preset, p = _preset(d), d.param
    children = [c for c in d.net.children[p.name] if d.bp.ref(c) != 1]
    if not children:
        return Equation()
    local = lambda c: d.net.nodes[c].local[p.name]
    refs = [latex(d.bp.ref(c), preset) for c in children]
    by_name = [f"{r} \\cdot {partial(c, p.name, preset)}" for r, c in zip(refs, children)]
    closed_terms = [f"{r} \\cdot {_factor(latex(local(c), preset), local(c), first=False)}"
                    if local(c) != 1 else r for r, c in zip(refs, children)]
    number_terms = [f"{_bracket(nums.show(nums.values[d.bp.ref(c).name]))} \\times "
                    f"{_bracket(nums.show(nums.of(local(c))))}" if local(c) != 1
                    else _bracket(nums.show(nums.values[d.bp.ref(c).name])) for c in children]
    total = nums.show(nums.network.evaluation.gradients[p.canonical])
    rows = wrapped(_lhs(d), by_name, 4)
    rows[0] = Row(rows[0].lhs, rows[0].rhs, delta_name(d, children[0]) + (r",\ \ldots" if len(children) > 1 else ""))
    rows += wrapped("", closed_terms, 4) if closed_terms != by_name else []
    rows += wrapped("", number_terms, 4, tail=f" = {total}")
    return Equation(rows)


def gradient_name(d: Derivation) -> str:
    """∂E/∂w as the preset writes it: a partial (files 000, 003) or a back-propagated name wE (file 004)."""
    preset = _preset(d)
    if style_of(preset).gradient_by_name:
        return latex_name(d.net.delta_name(d.param.name), preset)
    return _lhs(d)


def changed_value(now: float, new: float, nums: Numbers) -> str:
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
           rf" = {nums.show(now)} - {nums.show(lr)} \times {_bracket(nums.show(g))} = {changed_value(now, new, nums)}")
    return Equation([Row(lhs, rhs)])


STEP_TITLES = {"chain": "The chain rule, path by path", "closed": "In closed form",
               "numbers": "With numbers", "update": "One step of gradient descent",
               "shared": "Through the back-propagated error it shares with the other weights of its neuron",
               "delta": r"In the $\delta$ form, through the back-propagated term of the neuron it feeds"}


def step_equations(d: Derivation, nums: Numbers | None, which: Sequence[str] = STEPS,
                   factors: bool = True) -> list[tuple[str, Equation]]:
    """The chosen steps of one derivation as (step name, equation), in the order chain, closed, numbers, update."""
    if d.path_count > MAX_PATHS and any(step in which for step in ("chain", "closed", "numbers")):
        which = [step for step in which if step not in ("chain", "closed", "numbers")]
        return [("delta", delta_equation(d))] + step_equations(d, nums, which, factors)
    makers = {"chain": lambda: chain(d), "closed": lambda: closed(d, factors),
              "numbers": lambda: numbers(d, nums), "update": lambda: update(d, nums),
              "shared": lambda: shared(d, nums), "delta": lambda: delta(d, nums)}
    done = [(step, makers[step]()) for step in ALL_STEPS if step in which]
    return [(step, eq) for step, eq in done if eq.rows]


def delta_equation(d: Derivation) -> Equation:
    """∂E/∂p in its δ form: what the steps show when the paths are too many to write out (one line says so)."""
    preset = _preset(d)
    return Equation([Row(_lhs(d), f"= {latex(d.delta_form, preset)}"
                         + rf"\quad\text{{({d.path_count} paths, over {MAX_PATHS}: the $\delta$ form)}}")])


def steps(d: Derivation, nums: Numbers | None, which: Sequence[str] = STEPS) -> Equation:
    """The chosen steps of one derivation as one aligned equation."""
    eq = Equation()
    for _, part in step_equations(d, nums, which):
        eq = eq + part
    return eq


def repr_latex(d: Derivation) -> str:
    """For Jupyter: the chain and the closed forms in one $$ block."""
    return "$$" + aligned(chain(d) + closed(d)) + "$$"


Derivation._repr_latex_ = repr_latex   # Jupyter shows a derivation through this stage (the core imports no LaTeX)
