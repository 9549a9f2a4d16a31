"""The chain rule on a Graph: δ terms once for the whole net (linear cost), paths only on request.

For a parameter p, four views of the same ∂E/∂p:
  (a) `paths`: the sum over paths of products of local partial derivatives, as the notes write it;
  (b) each factor's closed form in the graph's symbols (∂out/∂net = out(1 − out), ∂net/∂w = i1, …);
  (c) `delta_form`: the δ-factorised form with shared back-propagated terms (yE, hE = Σ yE·w, wE = hE·x);
  (d) `expanded`: everything substituted down to inputs, targets and parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterator

import sympy as sp

from derive.core.graph import Graph, Node, Role
from derive.core.proof import Proof, prove_equal

__all__ = ["Factor", "Backprop", "Derivation", "backprop"]


@dataclass(frozen=True)
class Factor:
    """∂num/∂den, with its closed form in the graph's symbols."""

    num: str
    den: str
    closed: sp.Expr

    def as_pair(self) -> list[str]:
        return [self.num, self.den]


@dataclass(frozen=True)
class Delta:
    """A back-propagated quantity dE/d(node): its symbol and its definition in other δ terms."""

    node: str
    symbol: sp.Symbol
    definition: sp.Expr


class Backprop:
    """δ terms for every node of a network, computed once in reverse topological order."""

    def __init__(self, net: Graph):
        self.net = net
        self.deltas: dict[str, Delta] = {}
        self._ref: dict[str, sp.Expr] = {}         # what stands for dE/d(node) in other formulas
        self.gradients: dict[str, sp.Expr] = {}    # canonical parameter name -> δ form
        self._run()

    def _run(self) -> None:
        net, nt = self.net, self.net.notation
        tops = {n.name for n in net.tops} | {net.total.name}
        for node in reversed(list(net.nodes.values())):
            if node.name in tops:
                self._ref[node.name] = sp.S.One
                continue
            if node.role in (Role.TARGET,):
                continue
            terms = [self._ref[c] * net.nodes[c].local[node.name] for c in net.children[node.name]]
            expr = sp.Add(*terms)
            if node.role in (Role.WEIGHT, Role.BIAS):
                self.gradients[node.canonical] = expr
                continue
            symbol = sp.Symbol(nt.delta.format(name=node.name), real=True)
            self.deltas[node.name] = Delta(node.name, symbol, expr)
            self._ref[node.name] = symbol

    def ref(self, name: str) -> sp.Expr:
        """The symbol (or 1) standing for dE/d(name)."""
        return self._ref[name]

    def ordered(self) -> list[Delta]:
        """δ definitions in an order where each is defined before it is used (top down)."""
        return list(self.deltas.values())

    @cached_property
    def expanded_deltas(self) -> dict[sp.Symbol, sp.Expr]:
        """Every δ symbol as an expression in the graph's node symbols (no δ left)."""
        done: dict[sp.Symbol, sp.Expr] = {}
        for d in self.ordered():
            done[d.symbol] = d.definition.xreplace(done)
        return done

    def to_leaves(self, expr: sp.Expr) -> sp.Expr:
        """An expression in δ and node symbols, rewritten in the leaves only."""
        expr = expr.xreplace(self.expanded_deltas)
        return expr.xreplace({n.symbol: self.net.expanded(n.name) for n in self.net.nodes.values()
                              if not n.is_leaf})


def backprop(net: Graph) -> Backprop:
    return Backprop(net)


class Derivation:
    """∂E/∂param for one parameter, in the four views of the module docstring."""

    def __init__(self, net: Graph, bp: Backprop, param: str):
        self.net = net
        self.bp = bp
        self.param: Node = net.param(param)

    @property
    def name(self) -> str:
        return self.param.canonical

    @property
    def total(self) -> str:
        return self.net.total.name

    # (c) δ form ----------------------------------------------------------------------------
    @property
    def delta_form(self) -> sp.Expr:
        return self.bp.gradients[self.param.canonical]

    def deltas_used(self) -> list:
        """The δ definitions the δ form needs, from the loss down (the 7-formula sheet)."""
        needed, frontier = set(), set(self.delta_form.free_symbols)
        by_symbol = {d.symbol: d for d in self.bp.ordered()}
        while frontier:
            s = frontier.pop()
            if s in by_symbol and s not in needed:
                needed.add(s)
                frontier |= by_symbol[s].definition.free_symbols
        return [d for d in self.bp.ordered() if d.symbol in needed]

    # (a)/(b) paths -------------------------------------------------------------------------
    @cached_property
    def paths(self) -> tuple[tuple[Factor, ...], ...]:
        """Every path from an error down to the parameter (exponential in depth: ask only to show)."""
        return tuple(tuple(p) for top in self.net.tops for p in self._paths_from(top.name))

    @cached_property
    def path_count(self) -> int:
        """How many paths `paths` would hold, counted without listing them (dynamic programming over the
        graph: linear in its size), so a command knows before it enumerates 2^24 of them."""
        memo: dict[str, int] = {self.param.name: 1}

        def count(name: str) -> int:
            if name not in memo:
                memo[name] = sum(count(parent) for parent in self.net.nodes[name].local if parent in self._reaches)
            return memo[name]

        for name in sorted(self._reaches, key=self._depth):   # parents first: no deep recursion
            count(name)
        return sum(count(top.name) for top in self.net.tops if top.name in self._reaches)

    def _depth(self, name: str) -> int:
        """The node's layer position (parameters and inputs 0), for counting parents before children."""
        return self._order.get(name, 0)

    @cached_property
    def _order(self) -> dict[str, int]:
        order: dict[str, int] = {}
        stack = [self.param.name]
        order[self.param.name] = 0
        while stack:   # longest distance from the parameter (the graph is a DAG)
            name = stack.pop()
            for child in self.net.children[name]:
                if order.get(child, -1) < order[name] + 1:
                    order[child] = order[name] + 1
                    stack.append(child)
        return order

    def first_paths(self, n: int) -> tuple[tuple[Factor, ...], ...]:
        """The first n paths (in the order of `paths`), without enumerating the rest."""
        found = []
        for top in self.net.tops:
            for p in self._paths_from(top.name):
                if len(found) == n:
                    return tuple(found)
                found.append(tuple(p))
        return tuple(found)

    def _paths_from(self, name: str) -> Iterator[list[Factor]]:
        node = self.net.nodes[name]
        for parent, closed in node.local.items():
            if parent not in self._reaches:
                continue
            factor = Factor(name, parent, closed)
            if parent == self.param.name:
                yield [factor]
            else:
                for rest in self._paths_from(parent):
                    yield [factor, *rest]

    @cached_property
    def _reaches(self) -> set[str]:
        """The parameter and every node computed from it (the only nodes a path can pass)."""
        seen, stack = {self.param.name}, [self.param.name]
        while stack:
            for child in self.net.children[stack.pop()]:
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen

    @property
    def path_sum(self) -> sp.Expr:
        """(a) with every factor in closed form (b): Σ over paths of Π factors."""
        return sp.Add(*[sp.Mul(*[f.closed for f in path]) for path in self.paths])

    # (d) expanded ----------------------------------------------------------------------------
    @property
    def expanded(self) -> sp.Expr:
        return self.bp.to_leaves(self.delta_form)

    def reference(self) -> sp.Expr:
        """sympy.diff of the expanded loss: the independent reference the other views must equal."""
        return sp.diff(self.net.expanded(self.net.total.name), self.param.symbol)

    def prove(self, symbolic: bool | None = None) -> dict[str, Proof]:
        """Prove that the path sum (a) and the δ form (c) equal sympy.diff of the loss.

        By simplification where the expanded expression is small enough (or `symbolic=True`);
        otherwise at random points to 1e-12 relative, and the Proof's detail says why.
        """
        reference = self.reference()
        ops = sp.count_ops(reference)
        piecewise = reference.has(sp.Piecewise)   # simplify does not finish on piecewise rules (leaky_relu)
        if symbolic is None:
            symbolic = ops <= SIMPLIFY_MAX_OPS and not piecewise
        proofs = {"path sum = diff": prove_equal(self.bp.to_leaves(self.path_sum), reference, symbolic=symbolic),
                  "delta form = diff": prove_equal(self.expanded, reference, symbolic=symbolic)}
        if not symbolic:
            why = ("simplify skipped: a piecewise rule; " if piecewise and ops <= SIMPLIFY_MAX_OPS
                   else f"simplify skipped: {ops} operations > {SIMPLIFY_MAX_OPS}; ")
            proofs = {k: Proof(p.holds, p.method, why + p.detail) for k, p in proofs.items()}
        return proofs

    def __repr__(self) -> str:
        return f"Derivation(d{self.total}/d{self.param.name})"


SIMPLIFY_MAX_OPS = 400   # above this many operations sympy.simplify takes minutes: compare numerically
