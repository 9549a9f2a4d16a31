"""The 7-formula sheet of file 004 for any linear network, each back-propagated quantity proved equal
to its partial derivative of E by SymPy (`derive.prove_equal`), not asserted.

    1 y = x·w + 1·b      2 E = (y − yT)²/2     3 yE = y − yT  (= ∂E/∂y)    4 xE = yE·w  (= ∂E/∂x)
    5 y = w·x + b·1      6 wE = yE·x, bE = yE·1  (= ∂E/∂w, ∂E/∂b)          7 w −= lr·wE, b −= lr·bE
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from derive.errors import NotSupported
from derive.core.graph import Graph, Node, Role
from derive.core.proof import Proof, prove_equal
from derive.core.primitives import ACTIVATIONS
from derive.render.latex.blocks import Equation, Heading, Row, Text, wrapped
from derive.render.latex.names import latex_name
from derive.render.latex.printer import latex, number, partial, with_numbers
from derive.render.latex.steps import Numbers, changed_value
from derive.numeric.network import Network

__all__ = ["Line", "Sheet", "seven_network", "sheet", "sheet_blocks"]

TIMES = r" \cdot "
TERMS_PER_LINE = 4   # a sum of more terms (a wide layer) breaks over lines


@dataclass(frozen=True)
class Line:
    """One formula of the sheet: the quantity, its right side (pieces printed and proved), its value."""

    name: str
    rhs: sp.Expr
    text: str
    numbers: str
    value: float
    proof: Proof | None = None     # for back-propagated quantities: rhs == ∂E/∂(what name stands for)
    of: str = ""                   # the quantity it is the derivative for (y for yE)


@dataclass(frozen=True)
class Sheet:
    formulas: dict[int, list[Line]]
    preset: str = "seven"


def seven_network(net):
    """The same network in file 004's names (rebuilt with the `seven` notation): linear nets only."""
    if not all(ACTIVATIONS[a].linear for a in net.spec.activations):
        raise NotSupported("7-formula sheets are for linear networks (every activation identity), got "
                           + ", ".join(net.spec.activations))
    if net.spec.notation == "seven":
        return net
    return Network(replace(net.spec, notation="seven", error_letter="E"))


def _product(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    return sp.Mul(a, b, evaluate=False)


class _Builder:
    """Writes the sheet's lines from the graph and proves each back-propagated line."""

    def __init__(self, net):
        self.net, self.graph, self.bp = net, net.graph, net.backprop
        self.nums = Numbers(net)
        self.values = self.nums.values
        self.total: Node = self.graph.total

    def sym(self, name: str) -> sp.Symbol:
        return sp.Symbol(name, real=True)

    def sum_of_products(self, expr_terms: list[tuple[sp.Expr, sp.Expr]]) -> tuple[sp.Expr, str, str]:
        """Σ a·b from (a, b) pairs: the expression, its LaTeX, and its LaTeX with numbers."""
        def show(e, nums):
            if e.is_Number:
                return str(e)
            if nums:
                text = number(self.values[e.name], self.nums.digits)
                return rf"\left({text}\right)" if text.startswith("-") else text
            return latex_name(e.name, "seven")
        expr = sp.Add(*[a * b for a, b in expr_terms])
        text = " + ".join(show(a, False) + TIMES + show(b, False) for a, b in expr_terms)
        nums = " + ".join(show(a, True) + r" \times " + show(b, True) for a, b in expr_terms)
        return expr, text, nums

    # --- ∂E/∂q, from E alone -------------------------------------------------------------
    def loss_down_to(self, node: Node) -> sp.Expr:
        """E with every quantity computed from `node` substituted, so that ∂E/∂node is a plain diff."""
        below = {node.name}
        done: dict[str, sp.Expr] = {}
        for n in self.graph.nodes.values():
            if n.definition is not None and any(p in below for p in n.local):
                below.add(n.name)
                done[n.name] = n.definition.xreplace({self.graph.nodes[p].symbol: done.get(p, self.graph.nodes[p].symbol)
                                                      for p in n.local})
        return done.get(self.total.name, self.total.symbol)

    def to_leaves(self, expr: sp.Expr) -> sp.Expr:
        return self.bp.to_leaves(expr)

    def prove(self, rhs: sp.Expr, node: Node) -> Proof:
        """rhs (in back-propagated names) equals ∂E/∂node, both written in the leaves."""
        derivative = sp.diff(self.loss_down_to(node), node.symbol)
        return prove_equal(self.to_leaves(rhs), self.to_leaves(derivative))

    # --- the formulas ------------------------------------------------------------------------
    def forward(self, node: Node, swapped: bool) -> Line:
        """Formula 1 (x·w + 1·b) or 5 (w·x + b·1) for one neuron."""
        pairs = []
        for parent, d in node.local.items():
            p = self.graph.nodes[parent]
            if p.role is Role.WEIGHT:
                pairs.append((d, p.symbol))
            elif p.role is Role.BIAS:
                pairs.append((sp.S.One, p.symbol))
        if swapped:
            pairs = [(b, a) for a, b in pairs]
        expr, text, nums = self.sum_of_products(pairs)
        return Line(node.name, expr, text, nums, self.values[node.name])

    def error(self) -> Line:
        """Formula 2: E = Σ (y − yT)²/2 where that is the loss, else the loss as the graph defines it."""
        outs, targets = self.graph.outputs, self.graph.targets
        notes = sp.Add(*[sp.Mul(sp.Pow(sp.Add(o.symbol, -t.symbol, evaluate=False), 2, evaluate=False),
                                sp.Pow(2, -1, evaluate=False), evaluate=False) for o, t in zip(outs, targets)],
                       evaluate=False)
        definition = self.total.definition
        rhs = notes if prove_equal(notes, definition) else definition
        return Line(self.total.name, rhs, latex(rhs, "seven"), with_numbers(rhs, self.values, self.nums.digits, "seven"),
                    self.values[self.total.name])

    def backward(self, node: Node) -> Line:
        """Formulas 3, 4 and 6: the back-propagated quantity for `node`, proved equal to ∂E/∂node."""
        children = self.graph.children[node.name]
        if node.role in (Role.WEIGHT, Role.BIAS):
            name = self.graph.notation.delta.format(name=node.name)
        else:
            name = self.bp.deltas[node.name].symbol.name
        if children == [self.total.name]:                   # an output: yE = y − yT
            t = self.graph.targets[node.index]
            rhs = sp.Add(node.symbol, -t.symbol, evaluate=False)     # file 004's form, where the loss gives it
            if not prove_equal(rhs, self.bp.deltas[node.name].definition):
                rhs = self.bp.deltas[node.name].definition          # e.g. mse: 2/n·(y − yT), as the rules write it
            text, nums = latex(rhs, "seven"), with_numbers(rhs, self.values, self.nums.digits, "seven")
        else:
            pairs = [(self.bp.ref(c), self.graph.nodes[c].local[node.name]) for c in children]
            rhs, text, nums = self.sum_of_products(pairs)
        return Line(name, rhs, text, nums, self.values[name], self.prove(rhs, node), node.name)


def sheet(net) -> tuple[Sheet, _Builder]:
    """The seven formulas of a linear network in file 004's names, each backward line proved."""
    b = _Builder(seven_network(net))
    g = b.graph
    neurons = [n for layer in g.layers for n in layer.outs]
    inner = [n for layer in reversed(g.layers[:-1]) for n in layer.outs] + list(g.inputs)
    params = [p for p in g.params]
    formulas = {
        1: [b.forward(n, swapped=False) for n in neurons],
        2: [b.error()],
        3: [b.backward(n) for n in g.outputs],
        4: [b.backward(n) for n in inner],
        5: [b.forward(n, swapped=True) for n in neurons],
        6: [b.backward(p) for p in params],
    }
    return Sheet(formulas), b


TITLES = {1: "forward", 2: "error", 3: "back-propagated error", 4: "input back-propagation",
          5: "weight and bias forward", 6: "weight and bias back-propagation", 7: "learning"}


def _rows(line: Line) -> list[Row]:
    """One formula: the symbols (with what SymPy proved beside it), then its numbers on a second row."""
    lhs = latex_name(line.name, "seven")
    note = ""
    if line.proof is not None:
        mark = (r"\text{NOT PROVED}" if not line.proof else r"\text{proved by SymPy}" if line.proof.exact
                else rf"\text{{{line.proof.method}}}")      # a numeric check is never called proved
        note = rf"{lhs} = {partial('E', line.of, 'seven')}\ \ {mark}"
    value = number(line.value)
    if line.numbers == line.text:
        return [Row(lhs, f"= {line.text} = {value}", note)]
    rows = wrapped(lhs, line.text.split(" + "), TERMS_PER_LINE)
    rows[0] = Row(rows[0].lhs, rows[0].rhs, note)
    return rows + wrapped("", line.numbers.split(" + "), TERMS_PER_LINE, tail=f" = {value}")


def sheet_blocks(net, title: str = "The seven formulas (file 004)") -> list:
    """The sheet as document blocks: one aligned equation per formula, then the update (formula 7)."""
    s, b = sheet(net)
    g = b.graph
    blocks = [Heading(title, 1),
              Text("Each back-propagated quantity is proved equal to the partial derivative of "
                   "$E$ it stands for: SymPy expands both sides down to the inputs, targets and "
                   "parameters and simplifies their difference to zero.")]
    for k in range(1, 7):
        blocks.append(Text(f"Formula {k}: {TITLES[k]}."))
        blocks.append(Equation([row for line in s.formulas[k] for row in _rows(line)]))
    blocks.append(Text(f"Formula 7: {TITLES[7]} (learning rate {number(g.spec.learning_rate)})."))
    rows = []
    for p in g.params:
        if p.canonical not in b.net.trained:
            continue
        here, e = latex_name(p.name, "seven"), latex_name(g.notation.delta.format(name=p.name), "seven")
        now, new = b.net.param_values()[p.canonical], b.net.updated()[p.canonical]
        grad = b.values[g.notation.delta.format(name=p.name)]
        g_text = number(grad)
        g_text = rf"\left({g_text}\right)" if g_text.startswith("-") else g_text
        rows.append(Row(here + "'", rf"= {here} - \mathrm{{lr}} \cdot {e} = {number(now)} - "
                        rf"{number(g.spec.learning_rate)} \times {g_text} = {changed_value(now, new, b.nums)}"))
    blocks.append(Equation(rows))
    return blocks
