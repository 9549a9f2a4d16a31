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
from derive.core.proof import Proof, exactly_equal, prove_equal

__all__ = ["Factor", "Backprop", "Derivation", "Structure", "backprop", "reverse_sweep"]


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

    @cached_property
    def structure(self) -> "Structure":
        """The structural proof's checks, shared by every parameter."""
        return Structure(self)

    def _run(self) -> None:
        net, nt = self.net, self.net.notation
        tops, order = reverse_sweep(net)
        self._ref.update({name: sp.S.One for name in tops})
        for node in order:
            terms = [self._ref[c] * net.nodes[c].local[node.name] for c in net.children[node.name]]
            expr = sp.Add(*terms)
            if node.role in (Role.WEIGHT, Role.BIAS):
                self.gradients[node.canonical] = expr
                continue
            symbol = sp.Symbol(net.delta_name(node.name), real=True)
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


def reverse_sweep(net: Graph) -> tuple[set[str], list[Node]]:
    """(the errors the sweep starts from, every other node the chain rule visits in the order it visits
    them): reverse topological order, so each node comes after every node computed from it; targets
    are left out. The one traversal behind Backprop and the mistaken backprop of check.user_code."""
    tops = {n.name for n in net.tops} | {net.total.name}
    order = [n for n in reversed(list(net.nodes.values())) if n.name not in tops and n.role is not Role.TARGET]
    return tops, order


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

        By default structurally (`Structure.prove`: exact, linear in the graph); `symbolic=True`
        simplifies the expanded difference instead (minutes on larger nets); `symbolic=False` only
        checks at random points, and says so ("checked at 5 points").
        """
        if symbolic is None:
            return self.bp.structure.prove(self)
        reference = self.reference()
        return {"path sum = diff": prove_equal(self.bp.to_leaves(self.path_sum), reference, symbolic=symbolic),
                "delta form = diff": prove_equal(self.expanded, reference, symbolic=symbolic)}

    def __repr__(self) -> str:
        return f"Derivation(d{self.total}/d{self.param.name})"


SIMPLIFY_MAX_OPS = 400   # above this many operations sympy.simplify takes minutes (kept for callers)


class Structure:
    """The structural proof, shared by every parameter of one Backprop (each check done once).

    1. Every local derivative equals sympy.diff of its node's own definition (the closed form written in
       the node's parents: out(1 − out) with out = σ(net) against d σ(net)/d net), exactly, by cancellation;
       identical forms (every sigmoid edge) are proved once.
    2. Every δ term and δ form is the sum over children of (child's δ) · (local derivative): the same
       local derivatives, combined by the chain rule's recursion.
    3. Each path's factors are those local derivatives, and Σ over paths Π factors expands to the same
       polynomial, in the local derivatives as indeterminates, as the δ recursion (one monomial a path).
    With the chain rule, 1 and 2 make the δ form sympy.diff of the loss; 3 makes the path sum the δ form.
    """

    def __init__(self, bp: "Backprop"):
        self.bp, self.g = bp, bp.net
        self._forms: dict[tuple[str, str], bool] = {}
        self._edges: dict[tuple[str, str], tuple[str, str]] = {}    # edge -> its form's key
        self._kinks: set[tuple[str, str]] = set()                     # edges with a step (ReLU-type rules)

    # 1 -------------------------------------------------------------------------------------------
    def _in_parents(self, child: Node, expr: sp.Expr) -> sp.Expr:
        """A closed form with the node itself (and its layer's other outputs) written by their definitions."""
        parents = set(child.local)
        for _ in range(4):
            subs = {s: self.g.nodes[s.name].definition for s in expr.free_symbols
                    if s.name in self.g.nodes and s.name not in parents and not self.g.nodes[s.name].is_leaf}
            if not subs:
                break
            expr = expr.xreplace(subs)
        return expr

    def local_holds(self, child: str, parent: str) -> bool:
        """∂child/∂parent as the rules write it = sympy.diff(child's definition, parent), exactly."""
        if (child, parent) not in self._edges:
            node = self.g.nodes[child]
            closed = self._in_parents(node, node.local[parent])
            reference = sp.diff(node.definition, self.g.nodes[parent].symbol)
            if reference.has(sp.Heaviside, sp.Piecewise) or closed.has(sp.Heaviside, sp.Piecewise):
                self._kinks.add((child, parent))
            self._edges[(child, parent)] = self._form(closed, reference)
        return self._forms[self._edges[(child, parent)]]

    def _form(self, closed: sp.Expr, reference: sp.Expr) -> tuple[str, str]:
        """The pair's form (symbols renamed in order), proved by exactly_equal once per form."""
        names = sorted((closed.free_symbols | reference.free_symbols), key=lambda s: s.name)
        rename = {s: sp.Symbol(f"_x{i}", real=True) for i, s in enumerate(names)}
        key = (sp.srepr(closed.xreplace(rename)), sp.srepr(reference.xreplace(rename)))
        if key not in self._forms:
            self._forms[key] = exactly_equal(closed, reference)
        return key

    # 2 -------------------------------------------------------------------------------------------
    def _recursion(self, name: str, expr: sp.Expr) -> sp.Expr:
        return sp.Add(*[self.bp.ref(c) * self.g.nodes[c].local[name] for c in self.g.children[name]])

    def deltas_hold(self, d: "Derivation") -> bool:
        """The δ form and every δ it reaches are Σ (child's δ)·(local derivative), as built."""
        if self.bp.gradients[d.name] != self._recursion(d.param.name, self.bp.gradients[d.name]):
            return False
        return all(self.bp.deltas[n].definition == self._recursion(n, self.bp.deltas[n].definition)
                   for n in d._reaches if n in self.bp.deltas)

    # 3 -------------------------------------------------------------------------------------------
    def _atom(self, child: str, parent: str) -> sp.Symbol:
        return sp.Symbol(f"L[{child},{parent}]")

    def polynomial_holds(self, d: "Derivation") -> tuple[bool, int]:
        """Σ paths Π L = the δ recursion in the L's, both expanded (one monomial a path)."""
        if any(f.closed != self.g.nodes[f.num].local[f.den] for path in d.paths for f in path):
            return False, 0
        tops = {t.name for t in self.g.tops} | {self.g.total.name}
        ref: dict[str, sp.Expr] = {}
        for node in reversed(list(self.g.nodes.values())):
            if node.name not in d._reaches:
                continue
            ref[node.name] = sp.S.One if node.name in tops else sp.Add(
                *[ref[c] * self._atom(c, node.name) for c in self.g.children[node.name] if c in ref])
        path_sum = sp.Add(*[sp.Mul(*[self._atom(f.num, f.den) for f in path]) for path in d.paths])
        return sp.expand(ref[d.param.name] - path_sum) == 0, len(d.paths)

    def prove(self, d: "Derivation") -> dict[str, Proof]:
        edges = [(c, p) for c in d._reaches for p in self.g.nodes[c].local if p in d._reaches]
        locals_hold = all([self.local_holds(c, p) for c, p in edges])     # every edge, for the count
        deltas = self.deltas_hold(d)
        same, paths = self.polynomial_holds(d)
        kinks = "; equal except at a kink (net = 0), where the rule takes a side" if self._kinks & set(edges) else ""
        forms = len({self._edges[e] for e in edges})
        detail = (f"{len(edges)} local derivatives = sympy.diff of their definitions ({forms} forms "
                  f"proved by cancellation){kinks}; the δ form is their chain-rule recursion")
        delta = Proof(locals_hold and deltas, "structural", detail)
        path = Proof(locals_hold and deltas and same, "structural",
                     detail + f"; the path sum is the same polynomial in them ({paths} monomial{'s' if paths != 1 else ''}, "
                     "one a path)")
        return {"path sum = diff": path, "delta form = diff": delta}
