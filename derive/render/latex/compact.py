"""The compact document: each kind of parameter derived in full once, the rest of its kind as a table.

Kinds, as lecture notes take them: the output layer's weights, each hidden layer's weights (from the
output down), then the biases. The first parameter of a kind gets every step (chain, closed form,
numbers, δ form, update); the table gives every parameter of the kind its δ form, the numbers, the
gradient and the value after one update. The back-propagated terms (δ) are listed once, by name.
"""

from __future__ import annotations

import math

import sympy as sp

from derive.core.graph import Role
from derive.render.latex.blocks import Equation, Heading, Row, Table, Text
from derive.render.latex.names import latex_name
from derive.render.latex.printer import latex, partial, with_numbers
from derive.render.latex.steps import STEP_TITLES, Numbers, changed_value, step_equations

MAX_PATHS = 32        # beyond this a derivation shows its δ form and update, not every path

__all__ = ["kinds", "delta_blocks", "compact_derivations"]


def kinds(g) -> list[tuple[str, list]]:
    """(title, parameters) per kind: output weights, each hidden layer's weights downwards, biases."""
    weights: dict[int, list] = {}
    for p in g.params:
        if p.role is Role.WEIGHT:
            weights.setdefault(p.layer, []).append(p)
    out, last = [], max(weights, default=0)
    hidden = [layer for layer in weights if layer != last]
    for layer in sorted(weights, reverse=True):
        if layer == last:
            title = "The output layer's weights" if hidden else "The weights"
        else:
            title = "The hidden layer's weights" if len(hidden) == 1 else f"Hidden layer {layer}'s weights"
        out.append((title, weights[layer]))
    biases = sorted((p for p in g.params if p.role is Role.BIAS), key=lambda p: -p.layer)
    if biases:
        out.append(("The biases", sorted(biases, key=lambda p: g.params.index(p))))
        out[-1] = (out[-1][0], [biases[0]] + [b for b in out[-1][1] if b is not biases[0]])
    return out


TERMS_PER_LINE = 3    # a δ summed over a wide layer breaks after this many terms


def _used_deltas(net) -> tuple[list, set]:
    """Every δ term the gradients need, from the output down, and the symbols of those they use directly."""
    bp, nodes = net.backprop, net.graph.nodes
    direct = set().union(*(e.free_symbols for e in bp.gradients.values()))
    by_symbol = {d.symbol: d for d in bp.ordered()}
    needed, frontier = set(), {s for s in direct if s in by_symbol}
    while frontier:
        s = frontier.pop()
        if s not in needed:
            needed.add(s)
            frontier |= {t for t in by_symbol[s].definition.free_symbols if t in by_symbol}
    order = sorted((d for d in bp.ordered() if d.symbol in needed),
                   key=lambda d: (-nodes[d.node].layer, nodes[d.node].role.value != "out", nodes[d.node].index))
    return order, direct & needed


def _signed(pieces: list[str]) -> list[str]:
    """'+ a', '- b' for each piece after the first: − b rather than + (−b) or + − b."""
    return [p.strip() if i == 0 else ("- " + p.strip()[1:].lstrip() if p.strip().startswith("-") else "+ " + p.strip())
            for i, p in enumerate(pieces)]


def _sum_rows(lhs: str, first: str, pieces: list[str], tail: str = "") -> list[Row]:
    """lhs = first + piece + piece …, TERMS_PER_LINE pieces a row, the signs written once."""
    signed, rows = _signed(pieces), []
    for start in range(0, len(signed), TERMS_PER_LINE):
        text = " ".join(signed[start:start + TERMS_PER_LINE])
        rows.append(Row(lhs, first + text) if not rows else Row("", r"\quad " + text))
    rows[-1] = Row(rows[-1].lhs, rows[-1].rhs + tail, rows[-1].note)
    return rows


def delta_blocks(net, nums: Numbers) -> list:
    """δ_net_o1 = ∂E/∂net_o1 = ∂E/∂out_o1 · out_o1(1 − out_o1) = … for every δ a gradient needs: those the
    gradients use by name (δ), the others written as the partial they stand for (∂E/∂out_h1 = Σ δ·w)."""
    g, preset, total = net.graph, net.graph.notation.name, net.graph.total.name
    deltas, direct = _used_deltas(net)
    as_partial = {latex_name(d.symbol.name, preset): partial(total, d.node, preset) for d in deltas
                  if d.symbol not in direct}
    rename = lambda text: _replace_all(text, as_partial)
    rows = []
    for d in deltas:
        terms = list(d.definition.args) if d.definition.is_Add else [d.definition]
        value = nums.show(nums.values[d.symbol.name])
        if d.symbol in direct:
            lhs, first = latex_name(d.symbol.name, preset), f"= {partial(total, d.node, preset)} = "
        else:
            lhs, first = partial(total, d.node, preset), "= "
        rows += _sum_rows(lhs, first, [rename(latex(t, preset)) for t in terms])
        rows += _sum_rows("", "= ", [with_numbers(t, nums.values, nums.digits, preset) for t in terms], f" = {value}")
        if any(not math.isfinite(nums.values.get(s.name, 0.0)) for s in d.definition.free_symbols):
            rows[-1] = Row(rows[-1].lhs, rows[-1].rhs, r"\text{(a factor float64 cannot hold: computed in its "
                                                       r"stable form)}")   # a saturated output (0/0)
    return [Heading("The back-propagated terms", 1),
            Text("Each $\\delta$ is the derivative of the error by one neuron's quantity, computed once from "
                 "the output down and shared by every parameter it feeds."),
            Equation(rows)]


def _replace_all(text: str, names: dict[str, str]) -> str:
    for a in sorted(names, key=len, reverse=True):
        text = text.replace(a, names[a])
    return text


def _unbracket(text: str) -> str:
    """A lone negative number in a sum needs no brackets: −0.0559 + 0.00737, not (−0.0559) + 0.00737."""
    if text.startswith(r"\left(-") and text.endswith(r"\right)") and text.count(r"\left(") == 1:
        return text[len(r"\left("):-len(r"\right)")]
    return text


def _short(expr: sp.Expr, show) -> str:
    """A δ form in a table cell; a sum of more than three terms as its first, …, its last."""
    if not expr.is_Add:
        return show(expr)
    args = list(expr.args)
    pieces = _signed([_unbracket(show(a)) for a in (args if len(args) <= 3 else [args[0], args[-1]])])
    if len(args) > 3:
        pieces.insert(1, r"+ \dots")
    return " ".join(pieces)


def _row(net, nums: Numbers, p) -> list[str]:
    """One table row: the parameter, its δ form, with numbers, the gradient, the value after one update."""
    preset = net.graph.notation.name
    form = net.backprop.gradients[p.canonical]
    after = r"\text{not trained}"
    if p.canonical in net.trained:
        after = changed_value(net.param_values()[p.canonical], net.updated()[p.canonical], nums)
    return [latex_name(p.name, preset), _short(form, lambda e: latex(e, preset)),
            _short(form, lambda e: with_numbers(e, nums.values, nums.digits, preset)),
            nums.show(net.evaluation.gradients[p.canonical]), after]


def compact_derivations(net, nums: Numbers, which) -> list:
    """Per kind: the first parameter in full, then a table of every parameter of the kind."""
    g, preset = net.graph, net.graph.notation.name
    total = latex_name(g.total.name, preset)
    out = [Heading("The derivatives by the chain rule", 1),
           Text("One parameter of each kind is derived in full: the sum over paths of products of partial "
                "derivatives, each factor in closed form, the numbers put in, the $\\delta$ form and one step "
                "of gradient descent. The table after it gives every parameter of that kind.")]
    for title, params in kinds(g):
        first = params[0]
        out.append(Heading(f"{title}: $\\partial {total} / \\partial {latex_name(first.name, preset)}$ in full", 2))
        d = net.derivation(first.canonical)
        count = d.path_count          # counted, never enumerated (2^24 paths in a 2-wide, 25-deep net)
        steps = which if count <= MAX_PATHS else [s for s in which if s in ("delta", "update")]
        if steps is not which:
            out.append(Text(f"{count} paths: too many to print; the $\\delta$ form instead."))
        for step, eq in step_equations(d, nums, steps, factors="numbers" not in steps):
            out += [Text(STEP_TITLES[step] + ":"), eq]
        header = ["parameter", r"$\delta$ form", "with numbers", "gradient",
                  "after one update"]
        out.append(Table(header, [_row(net, nums, p) for p in params], f"{title}, all of them:"))
    return out
