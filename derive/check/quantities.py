"""What a hand value names, and how to compute it exactly or again from other printed values.

A [hand] key is one of three kinds of quantity: a node's value (`o1`, `w5`, `yE` as an alias of
dE/dy), a partial derivative `dA/dB` between any two quantities of the graph, or a parameter
after one update (`w5+`). `Evaluator` computes any of them in exact or 50-digit arithmetic from
the spec's decimals; given printed values it uses them wherever the calculation passes through
one, which is how a hand calculation carries its rounding forward ("propagated").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Mapping

import sympy as sp

from derive.errors import NotSupported, SpecError
from derive.core.limits import numeral
from derive.core.graph import Graph, Role

__all__ = ["Quantity", "parse_key", "Evaluator", "Recipe", "printed_number", "exact_number", "PRECISION",
           "as_number"]

PRECISION = 50   # significant digits where a value is not an exact rational
_PARTIAL = re.compile(r"^d(?P<num>[^/]+)/d(?P<den>[^/]+)$")


@dataclass(frozen=True)
class Quantity:
    """A value ("value", node), a partial ("partial", A, B) or an update ("updated", param node);
    inside recipes also an "edge": the local derivative of A with respect to its parent B."""

    kind: str
    a: str
    b: str = ""

    def label(self) -> str:
        if self.kind in ("partial", "edge"):
            return f"d{self.a}/d{self.b}"
        return f"{self.a}+" if self.kind == "updated" else self.a


def exact_number(x: float) -> sp.Rational:
    """A spec number as the decimal the user wrote (0.1 is 1/10, not the nearest double)."""
    return sp.Rational(repr(float(x)))


def printed_number(text: str) -> sp.Rational:
    """A hand string as the exact decimal it prints."""
    p, q = Decimal(numeral(text, "hand").strip()).as_integer_ratio()
    return sp.Rational(p, q)


def parse_key(graph: Graph, key: str) -> Quantity:
    """The quantity a [hand] key names; SpecError naming the key and the accepted forms otherwise."""
    key = key.strip()
    if key.endswith("+"):
        return Quantity("updated", _updated_param(graph, key))
    m = _PARTIAL.match(key)
    if m and not _is_name(graph, key):
        return Quantity("partial", _name(graph, key, m["num"]), _name(graph, key, m["den"]))
    if _is_name(graph, key):
        return Quantity("value", graph.node(key).name)
    aliases = _delta_aliases(graph)
    if key in aliases:
        return Quantity("partial", graph.total.name, aliases[key])
    raise SpecError(f"hand.{key}", f"a quantity of this network ({_names(graph)}), a partial derivative "
                    f"dA/dB of two of them, or a trained parameter followed by + (w1+)")


def _is_name(graph: Graph, name: str) -> bool:
    return name in graph.nodes or any(name == p.canonical for p in graph.params)


def _name(graph: Graph, key: str, name: str) -> str:
    if _is_name(graph, name):
        return graph.node(name).name
    raise SpecError(f"hand.{key}", f"dA/dB with A and B quantities of this network ({_names(graph)})", got=name)


def _updated_param(graph: Graph, key: str) -> str:
    base = key[:-1]
    trained = {p.canonical: p for p in graph.trained_params} | {p.name: p for p in graph.trained_params}
    if base not in trained:
        names = ", ".join(p.canonical for p in graph.trained_params)
        raise SpecError(f"hand.{key}", f"a trained parameter followed by + ({names})", got=base)
    return trained[base].name


def _names(graph: Graph) -> str:
    return ", ".join(graph.nodes)


def _delta_aliases(graph: Graph) -> dict[str, str]:
    """The notation's names for back-propagated quantities (yE, delta_h1) -> the node they differentiate to."""
    return {graph.delta_name(name): name for name in graph.nodes if name != graph.total.name}


@dataclass
class Recipe:
    """How a quantity was computed: a sum of products of ingredient quantities (or one definition)."""

    quantity: Quantity
    terms: list[list[Quantity]]      # Σ over terms of Π over factors; [] for a node's definition
    factors: list[list[sp.Expr]]     # the value of each factor, as used
    value: sp.Expr
    used: dict[Quantity, sp.Rational]  # every printed value the calculation passed through
    gradient: sp.Expr | None = None  # for an update: the ∂E/∂param it used


class Evaluator:
    """Values and partial derivatives of a graph at the spec's numbers, using printed values where given.

    With `printed` empty every number is exact (rational) or computed to PRECISION digits. With
    printed values, any quantity found among them is taken as printed instead of being computed.
    """

    def __init__(self, graph: Graph, learning_rate: float, printed: Mapping[Quantity, sp.Rational] | None = None,
                 leaves: Mapping[str, float] | None = None, cancel: bool = False):
        self.graph = graph
        self.cancel = cancel     # a partial that is 0/0 factor by factor: from its cancelled closed form
        self.lr = exact_number(learning_rate)
        self.printed = dict(printed or {})
        self.used: dict[Quantity, sp.Rational] = {}
        self._memo: dict[Quantity, sp.Expr] = {}
        leaves = graph.leaf_values() if leaves is None else leaves   # another sample's inputs and targets
        self._leaves = {name: exact_number(v) for name, v in leaves.items()}

    # --- the three kinds ------------------------------------------------------------------------
    def get(self, q: Quantity) -> sp.Expr:
        """q's value: printed if given, otherwise computed (and remembered)."""
        if q in self.printed:
            self.used[q] = self.printed[q]
            return self.printed[q]
        if q not in self._memo:
            self._memo[q] = self._compute(q)
        return self._memo[q]

    def _compute(self, q: Quantity) -> sp.Expr:
        if q.kind == "value":
            return self.definition(q.a)
        if q.kind == "updated":
            return self.update(q.a)
        try:
            return self.evaluate(self.partial_recipe(q.a, q.b))
        except NotReal:      # a factor is 0/0 at a saturated output (σ = 1 to PRECISION digits): the
            if not self.cancel:               # product in closed form, cancelled, has none (o − t)
                raise
            return self.cancelled(q.a, q.b)

    def cancelled(self, a: str, b: str) -> sp.Expr:
        """∂a/∂b as Σ over paths of Π closed-form local derivatives, cancelled before the numbers go in: the
        way to a finite value where one factor alone is not (∂E/∂out = 0/0, while ∂E/∂net = out − target)."""
        memo: dict[str, sp.Expr] = {a: sp.S.One}

        def down(name: str) -> sp.Expr:
            if name not in memo:
                memo[name] = sp.Add(*[down(c) * self.local[c][name] for c in self.children[name]
                                      if c == a or a in self.reaches(c)])
            return memo[name]
        expr = sp.cancel(down(b))
        return _number(expr.xreplace({s: self.get(Quantity("value", s.name)) for s in expr.free_symbols}))

    def definition(self, name: str) -> sp.Expr:
        """A node's value from its definition, its parents' values taken from get()."""
        node = self.graph.nodes[name]
        if node.definition is None:
            return self._leaves[name]
        return _number(node.definition.xreplace({s: self.get(Quantity("value", s.name))
                                                 for s in node.definition.free_symbols}))

    def update(self, param: str) -> sp.Expr:
        """param − lr·∂E/∂param."""
        grad = self.get(Quantity("partial", self.graph.total.name, param))
        return _number(self.get(Quantity("value", param)) - self.lr * grad)

    # --- partial derivatives ------------------------------------------------------------------------
    def partial_recipe(self, a: str, b: str, how: str | None = None) -> list[list[Quantity]]:
        """∂a/∂b as Σ of products: "down" = Σ over b's children c of ∂a/∂c·∂c/∂b (the δ view),
        "up" = Σ over a's parents p of ∂a/∂p·∂p/∂b (the notes' ∂E_o1/∂h1 + ∂E_o2/∂h1); by default
        the one that passes through more printed values. One factor of each product is an edge."""
        if a == b:
            return [[]]
        if a not in self.reaches(b):
            return []
        down = [self._skip_ones([Quantity("partial", a, c), Quantity("edge", c, b)])
                for c in self.children[b] if c == a or a in self.reaches(c)]
        up = [self._skip_ones([Quantity("edge", a, p), Quantity("partial", p, b)])
              for p in self.local[a] if p == b or p in self.reaches(b)]
        if how is not None:
            return down if how == "down" else up
        return up if self._printed_count(up) > self._printed_count(down) else down

    def evaluate(self, terms: list[list[Quantity]]) -> sp.Expr:
        total = sp.S.Zero
        for factors in terms:
            product = sp.S.One
            for f in factors:
                product *= self._factor(f)
            total += product
        return _number(total)

    def _factor(self, q: Quantity) -> sp.Expr:
        """An ingredient: an edge's local derivative (printed as dA/dB, or its closed form) or get(q)."""
        if q.kind != "edge":
            return self.get(q)
        as_partial = Quantity("partial", q.a, q.b)
        if as_partial in self.printed and self._only_direct(q.a, q.b):
            return self.get(as_partial)
        closed = self.local[q.a][q.b]
        return _number(closed.xreplace({s: self.get(Quantity("value", s.name)) for s in closed.free_symbols}))

    def _skip_ones(self, factors: list[Quantity]) -> list[Quantity]:
        """Drop the factors that are 1 by construction: ∂x/∂x, and edges such as ∂E_total/∂E_o1."""
        def one(f):
            if f.kind == "partial":
                return f.a == f.b
            return f.kind == "edge" and self.local[f.a][f.b] == 1
        kept = [f for f in factors if not one(f)]
        return kept or factors[-1:]

    def _only_direct(self, a: str, b: str) -> bool:
        """b influences a only through the edge b → a (so the local and the total derivative agree)."""
        return not any(p != b and p in self.reaches(b) for p in self.local[a])

    def _printed_count(self, terms: list[list[Quantity]]) -> int:
        return sum(Quantity("partial", f.a, f.b) in self.printed for factors in terms for f in factors)

    @cached_property
    def local(self) -> dict[str, dict[str, sp.Expr]]:
        """Every node's local derivatives: the graph's closed forms, completed by sympy.diff of the
        definition for the symbols the graph leaves out (the targets in a per-output error)."""
        out = {}
        for name, node in self.graph.nodes.items():
            edges = dict(node.local)
            for s in sorted(node.definition.free_symbols if node.definition is not None else (), key=str):
                if s.name not in edges:
                    edges[s.name] = sp.diff(node.definition, s)
            out[name] = edges
        return out

    @cached_property
    def children(self) -> dict[str, list[str]]:
        """For every node, the nodes computed directly from it (the reverse of `local`)."""
        out: dict[str, list[str]] = {name: [] for name in self.graph.nodes}
        for name, edges in self.local.items():
            for parent in edges:
                out[parent].append(name)
        return out

    def reaches(self, name: str) -> set[str]:
        """Every node computed (directly or not) from `name`."""
        return self._descendants[name]

    @cached_property
    def _descendants(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for name in reversed(list(self.graph.nodes)):
            seen: set[str] = set()
            for child in self.children[name]:
                seen.add(child)
                seen |= out[child]
            out[name] = seen
        return out

    # --- whole recipes, for reports ---------------------------------------------------------------
    def recipes(self, q: Quantity) -> list[Recipe]:
        """Every way of computing q this module knows, each with the printed values it used (q excluded)."""
        if q.kind == "partial":
            shapes = {how: self.partial_recipe(q.a, q.b, how) for how in ("down", "up")}
            unique = [t for i, t in enumerate(shapes.values()) if t not in list(shapes.values())[:i]]
            return self._real([lambda t=terms: self._recipe(q, t, lambda e: e.evaluate(t)) for terms in unique])
        return self._real([lambda: self._recipe(q, [], lambda e: e._compute(q))])

    @staticmethod
    def _real(makers) -> list[Recipe]:
        """The recipes whose every factor has a finite value (one through a 0/0 at a saturated output has
        none to show; the exact value still comes from the cancelled closed form)."""
        out = []
        for make in makers:
            try:
                out.append(make())
            except NotReal:
                continue
        return out

    def _recipe(self, q: Quantity, terms, compute) -> Recipe:
        fresh = Evaluator.__new__(Evaluator)
        fresh.__dict__.update(self.__dict__)
        fresh.printed = {k: v for k, v in self.printed.items() if k != q}
        fresh.used, fresh._memo = {}, {}
        value = compute(fresh)
        terms = [fresh._flat(product) for product in terms]
        factors = [[fresh._factor(f) for f in product] for product in terms]
        gradient = fresh.get(Quantity("partial", self.graph.total.name, q.a)) if q.kind == "updated" else None
        return Recipe(q, terms, factors, value, dict(fresh.used), gradient)

    def _flat(self, product: list[Quantity]) -> list[Quantity]:
        """A product with every unprinted partial that is itself one product written out (0.209·0.238·0.519)."""
        out = []
        for f in product:
            inner = self.partial_recipe(f.a, f.b) if f.kind == "partial" and f not in self.printed else []
            out += self._flat(inner[0]) if len(inner) == 1 and inner[0] != [f] else [f]
        return self._skip_ones(out)


def as_number(expr: sp.Expr) -> sp.Expr:
    """An exact rational kept, anything else a PRECISION-digit Float (NotSupported where not real)."""
    return _number(expr)


class NotReal(NotSupported):
    """An exact value that is no finite real number (a log of a negative number, 0/0): check_hand names the
    file, the key and the loss."""

    def __init__(self, value: str):
        super().__init__(f"an exact value of {value}, not a finite real number")
        self.value = value


def _number(expr: sp.Expr) -> sp.Expr:
    """Keep exact rationals exact; anything else becomes a PRECISION-digit Float."""
    expr = sp.sympify(expr)
    if expr.is_Rational:
        return expr
    value = expr.evalf(PRECISION)
    if not (value.is_real and value.is_finite):   # log of a negative target, 0/0 …: no real value to print
        raise NotReal(sp.sstr(sp.N(value, 6)))
    return sp.Float(value, PRECISION)
