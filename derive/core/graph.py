"""A layered network as a SymPy graph: every quantity a named symbol with its defining equation.

Each node carries its forward rule (`definition`) and, next to it, its local partial derivatives
with respect to the nodes it is computed from (`local`), in closed form: the micrograd layout.
The graph knows nothing of files, printing or NumPy.
"""

from __future__ import annotations

import enum
import keyword
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Mapping

import sympy as sp

from derive.errors import SpecError
from derive.core.notation import Notation, fill, get_notation
from derive.core.primitives import activation, loss as loss_rule
from derive.core.spec import Spec, weight_count

__all__ = ["Role", "Node", "Layer", "Graph"]


class Role(enum.Enum):
    INPUT = "input"
    TARGET = "target"
    WEIGHT = "weight"
    BIAS = "bias"
    NET = "net"        # pre-activation
    OUT = "out"        # activation (a fused linear neuron is NET and OUT at once: role NET)
    ERROR = "error"    # per-output error
    TOTAL = "total"    # total error


LEAVES = (Role.INPUT, Role.TARGET, Role.WEIGHT, Role.BIAS)


@dataclass
class Node:
    """One named quantity: its symbol, role, place, forward rule and local derivatives."""

    name: str
    role: Role
    layer: int = 0
    index: int = 0                       # position in its layer (from 0); parameters: number from 1
    definition: sp.Expr | None = None    # in the symbols of the nodes in `local`
    local: dict[str, sp.Expr] = field(default_factory=dict)   # ∂self/∂parent, by parent name
    canonical: str | None = None         # w1.., b1.. for parameters
    activation: str | None = None        # for OUT nodes (and fused linear neurons)

    @cached_property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.name, real=True)

    @property
    def is_leaf(self) -> bool:
        return self.role in LEAVES

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {self.role.value})"


@dataclass
class Layer:
    """The nodes of one layer after the input: pre-activations and activations (the same when fused)."""

    number: int
    activation: str
    nets: list[Node]
    outs: list[Node]

    @property
    def fused(self) -> bool:
        return self.nets is self.outs


class Graph:
    """The graph of a Spec: nodes in topological order, parameters in canonical order (w1.., b1..)."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.notation: Notation = get_notation(spec.notation, spec.error_letter)
        self.nodes: dict[str, Node] = {}
        self._builder = _Builder(self)
        self.inputs, self.targets, self.layers, self.errors, self.total = self._builder.build()
        del self._builder
        self._check_delta_names()

    # --- lookup -------------------------------------------------------------------------
    @cached_property
    def params(self) -> list[Node]:
        """All parameters, weights first, each in canonical order."""
        ws = [n for n in self.nodes.values() if n.role is Role.WEIGHT]
        bs = [n for n in self.nodes.values() if n.role is Role.BIAS]
        return sorted(ws, key=lambda n: n.index) + sorted(bs, key=lambda n: n.index)

    @cached_property
    def names_by_canonical(self) -> dict[str, str]:
        """Canonical parameter name (w1, b2) -> its name in the notation (w1, w, b2_1, …)."""
        return {p.canonical: p.name for p in self.params}

    @cached_property
    def trained_params(self) -> list[Node]:
        return [p for p in self.params if p.role is Role.WEIGHT or self.spec.train_biases]

    @property
    def outputs(self) -> list[Node]:
        return self.layers[-1].outs

    def param(self, name: str) -> Node:
        """A parameter by canonical (w1, b2) or notation name; SpecError listing the names otherwise."""
        for p in self.params:
            if name in (p.canonical, p.name):
                return p
        names = ", ".join(p.canonical for p in self.params)
        raise SpecError("PARAM", f"a parameter of this network ({names})", got=name)

    def node(self, name: str) -> Node:
        if name in self.nodes:
            return self.nodes[name]
        for p in self.params:
            if name == p.canonical:
                return p
        raise SpecError("name", f"a quantity of this network ({', '.join(self.nodes)})", got=name)

    # --- values ---------------------------------------------------------------------------
    def leaf_values(self) -> dict[str, float]:
        """The spec's numbers for every leaf (inputs, targets, weights, biases), by node name."""
        values = {n.name: v for n, v in zip(self.inputs, self.spec.inputs)}
        values.update({n.name: v for n, v in zip(self.targets, self.spec.targets)})
        numbers = list(self.spec.weights) + list(self.spec.biases)
        values.update({p.name: v for p, v in zip(self.params, numbers)})
        return values

    # --- structure ------------------------------------------------------------------------
    @cached_property
    def children(self) -> dict[str, list[str]]:
        """For every node, the nodes computed directly from it (the reverse of `local`)."""
        out: dict[str, list[str]] = {name: [] for name in self.nodes}
        for node in self.nodes.values():
            for parent in node.local:
                out[parent].append(node.name)
        return out

    @cached_property
    def tops(self) -> list[Node]:
        """Where paths start: the per-output errors, or the total where the notation has no others."""
        return self.errors if self.errors else [self.total]

    def delta_name(self, name: str) -> str:
        """The notation's name for ∂E/∂(name): by {name}, or by place (Nielsen's δ^l_j) for pre-activations."""
        node, template = self.nodes.get(name), self.notation.delta
        if "{name}" in template or node is None or node.role is not Role.NET:
            return fill(template, name=name) if "{name}" in template else f"delta_{name}"
        return self._place_deltas.get(name, f"delta_{name}")

    def _check_delta_names(self) -> None:
        """Every δ term needs a name of its own, unlike any quantity's (a template could make two the same)."""
        seen: dict[str, str] = {}
        for name in self.nodes:
            delta = self.delta_name(name)
            clash = name if delta in self.nodes else seen.get(delta)
            if clash is not None:
                raise SpecError(self.notation.key, f"a delta template giving every δ term its own name "
                                f"({delta!r} is used twice)", got=self.notation.delta, source=self.spec.source)
            seen[delta] = name

    @cached_property
    def _place_deltas(self) -> dict[str, str]:
        """δ names of the pre-activations in a notation that names δ by layer and neuron."""
        nt, first = self.notation, self.notation.first_layer
        return {n.name: fill(nt.delta, l=n.layer + first, j=n.index + 1)
                for n in self.nodes.values() if n.role is Role.NET}

    def expanded(self, name: str) -> sp.Expr:
        """A node's value as an expression in the leaves only (definitions substituted)."""
        return self._expanded[name]

    @cached_property
    def _expanded(self) -> dict[str, sp.Expr]:
        done: dict[str, sp.Expr] = {}
        for node in self.nodes.values():
            if node.definition is None:
                done[node.name] = node.symbol
            else:
                done[node.name] = node.definition.xreplace({self.nodes[p].symbol: done[p] for p in node.local})
        return done

    def __repr__(self) -> str:
        acts = "-".join(self.spec.activations)
        return f"Graph(layers={list(self.spec.layers)}, activations={acts}, loss={self.spec.loss})"


class _Builder:
    """Names and wires the nodes of a Graph, layer by layer, from the spec and the notation."""

    def __init__(self, net: Graph):
        self.net = net
        self.spec = net.spec
        self.notation = net.notation
        self.n_weights = 0
        self.n_biases = 0
        self.k = 0   # pre-activations numbered across layers (z1, z2, …)

    def build(self):
        spec, nt = self.spec, self.notation
        inputs = [self.add(Node(self.fmt(nt.input, 0, j), Role.INPUT, 0, j)) for j in range(spec.layers[0])]
        prev = inputs
        layers = []
        shared_bias = None
        last = len(spec.layers) - 1
        for number, (size, act) in enumerate(zip(spec.layers[1:], spec.activations), start=1):
            shared_bias = self.new_bias(number, 0) if spec.bias == "shared" else None
            layer = self.layer(number, size, act, prev, shared_bias, number == last)
            layers.append(layer)
            prev = layer.outs
        targets = [self.add(Node(self.target_name(j), Role.TARGET, len(layers), j)) for j in range(len(prev))]
        errors, total = self.loss(prev, targets)
        return inputs, targets, layers, errors, total

    def layer(self, number, size, act, prev, shared_bias, is_output=False) -> Layer:
        fuse = activation(act).linear and self.notation.fuse_identity
        out_template = (self.notation.output_out if is_output else None) or self.notation.out
        nets = []
        for j in range(size):
            self.k += 1
            name = self.fmt(out_template if fuse else self.notation.net, number, j)
            terms, local = [], {}
            for src in prev:
                w = self.new_weight(number, j, src.index)
                terms.append(w.symbol * src.symbol)
                local[w.name] = src.symbol      # ∂net/∂w = the source's value
                local[src.name] = w.symbol      # ∂net/∂source = w
            bias = shared_bias if shared_bias is not None else (
                self.new_bias(number, j) if self.spec.bias == "per_neuron" else None)
            if bias is not None:
                terms.append(bias.symbol * 1)
                local[bias.name] = sp.S.One     # ∂net/∂b = 1
            nets.append(self.add(Node(name, Role.NET, number, j, sp.Add(*terms), local,
                                      activation=act if fuse else None)))
        if fuse:
            return Layer(number, act, nets, nets)
        rule = activation(act)
        net_syms = [n.symbol for n in nets]
        out_syms = [sp.Symbol(self.fmt(out_template, number, j), real=True) for j in range(size)]
        forward = rule.forward(net_syms)
        outs = []
        for j in range(size):
            local = {}
            for i, net in enumerate(nets):
                d = rule.local(out_syms, net_syms, j, i)
                if d != 0:
                    local[net.name] = d
            outs.append(self.add(Node(out_syms[j].name, Role.OUT, number, j, forward[j], local, activation=act)))
        return Layer(number, act, nets, outs)

    def loss(self, outs, targets):
        rule, n = loss_rule(self.spec.loss), len(outs)
        terms, errors, total_local = [], [], {}
        for o, t in zip(outs, targets):
            of = self.notation.output_first
            term = rule.per_output(t.symbol, o.symbol, n, of)
            d = rule.local(t.symbol, o.symbol, n, of)
            if self.notation.error is None:
                terms.append(term)
                total_local[o.name] = d
            else:
                e = self.add(Node(self.fmt(self.notation.error, len(self.spec.layers) - 1, o.index),
                                  Role.ERROR, o.layer, o.index,
                                  term, {o.name: d}))
                errors.append(e)
                terms.append(e.symbol)
                total_local[e.name] = sp.S.One
        total = self.add(Node(fill(self.notation.total), Role.TOTAL, len(self.spec.layers), 0,
                              sp.Add(*terms), total_local))
        return errors, total

    # --- naming -------------------------------------------------------------------------
    def label(self, layer: int, j: int) -> str:
        nt, layers = self.notation, self.spec.layers
        hidden = len(layers) - 2
        if layer == len(layers) - 1:
            template = nt.output
        else:
            template = nt.hidden if hidden == 1 else nt.hidden_deep
        return self.fmt(template, layer, j, use_label=False)

    def fmt(self, template: str, layer: int, j: int, use_label: bool = True) -> str:
        single = self.notation.drop_single_index and self.spec.layers[layer] == 1
        index = "" if single else str(j + 1)
        label = self.label(layer, j) if use_label and "{label}" in template else ""
        name = fill(template, j=index, l=layer + self.notation.first_layer, n=self.k if layer else index,
                    label=label)
        return name.rstrip("_")

    def target_name(self, j: int) -> str:
        return self.fmt(self.notation.target, len(self.spec.layers) - 1, j)

    def new_weight(self, layer, j, k) -> Node:
        self.n_weights += 1
        total = weight_count(self.spec.layers)
        return self.new_param(Role.WEIGHT, self.notation.weight, self.n_weights, total, layer, j, "w", k)

    def new_bias(self, layer, j) -> Node:
        self.n_biases += 1
        total = len(self.spec.biases)
        return self.new_param(Role.BIAS, self.notation.bias, self.n_biases, total, layer, j, "b")

    def new_param(self, role, template, number, total, layer, j, letter, k=0) -> Node:
        single = self.notation.drop_single_index and total == 1
        name = fill(template, n="" if single else number, l=layer + self.notation.first_layer, j=j + 1, k=k + 1)
        return self.add(Node(name, role, layer, number, canonical=f"{letter}{number}"))

    def add(self, node: Node) -> Node:
        if node.name in self.net.nodes:
            raise SpecError(self.notation.key,
                            f"a notation giving every quantity its own name ({node.name!r} is used twice)",
                            got=self.notation.name, source=self.spec.source)
        if not node.name.isidentifier() or keyword.iskeyword(node.name) or node.name.startswith("_"):
            raise SpecError(self.notation.key, "names that are identifiers, not Python keywords, not starting with _", got=node.name, source=self.spec.source)
        self.net.nodes[node.name] = node
        return node
