"""A library of common backprop mistakes, each a rewrite of the derivation that yields what the buggy code computes.

A mistake is data: for a given network it offers variants (per layer, or all layers at once), each
a `derive.check.user_code.mistaken.Rewrite` of the graph's forward rules, of its local factors (the ∂child/∂parent
the chain rule multiplies), or of the finished gradients. The rewritten derivation is compiled to
straight-line NumPy code, so the buggy numbers come from the derivation, never from a per-network
formula. `diagnose` reports every variant whose numbers equal the user's.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping

import numpy as np
import sympy as sp

from derive.core.graph import Graph, Node, Role
from derive.core.primitives import ACTIVATIONS, Activation, LOSSES
from derive.check.user_code.mistaken import Compiled, Grads, Rewrite

__all__ = ["Mistake", "Rewrite", "Match", "MISTAKES", "variants", "mistaken_gradients", "diagnose", "diagnose_within", "diagnose_pairs",
           "PAIR_SECONDS", "scopes", "scope_label"]

PAIR_SECONDS = 5.0    # the most time spent trying two mistakes at once
SINGLE_SECONDS = 5.0   # the most time spent trying single mistakes (a small net's all take well under a second)


@dataclass(frozen=True)
class Mistake:
    name: str
    title: str                                    # what the buggy code does
    rewrites: Callable[[Graph], list[Rewrite]]    # the variants that apply to a network


@dataclass(frozen=True)
class Match:
    mistake: Mistake
    where: str
    also: "Match | None" = None      # a second mistake made together with this one

    def describe(self) -> str:
        where = f" ({self.where})" if self.where else ""
        if self.also is not None:
            other = self.also
            there = f" ({other.where})" if other.where else ""
            return (f"{self.mistake.name}{where} together with {other.mistake.name}{there}: "
                    f"{self.mistake.title}; and {other.mistake.title}")
        return f"{self.mistake.name}{where}: {self.mistake.title}"

    def as_json(self) -> dict:
        out = {"name": self.mistake.name, "where": self.where, "description": self.mistake.title}
        if self.also is not None:
            out["together_with"] = self.also.as_json()
        return out


# --- where things are in a graph -------------------------------------------------------------------
def _layer_label(g: Graph, number: int) -> str:
    return f"{'output' if number == len(g.layers) else 'hidden'} layer {number}"


def scope_label(g: Graph, scope: list[int]) -> str:
    """Layers named as a reader says them: "hidden layer 1", "hidden layers 1–2 and output layer 3"."""
    output = len(g.layers)
    hidden = [n for n in scope if n != output]
    parts = []
    if hidden:
        runs, run = [], [hidden[0]]
        for n in hidden[1:]:
            if n == run[-1] + 1:
                run.append(n)
            else:
                runs.append(run)
                run = [n]
        runs.append(run)
        names = [str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs]
        parts.append(f"hidden layer{'s' * (len(hidden) > 1)} {', '.join(names)}")
    if output in scope:
        parts.append(f"output layer {output}")
    return " and ".join(parts)


def scopes(eligible: list[int]) -> list[list[int]]:
    """Every single layer, every contiguous range of eligible layers, and all of them (a loop over the
    hidden layers touches a range; a bug in shared code touches all)."""
    out = [[n] for n in eligible]
    for size in range(2, len(eligible) + 1):
        for start in range(len(eligible) - size + 1):
            run = eligible[start:start + size]
            if run[-1] - run[0] == size - 1:
                out.append(run)
    if len(eligible) > 1 and eligible not in out:
        out.append(list(eligible))
    return out


def _per_layer(g: Graph, eligible: list[int], make: Callable[[list[int]], dict]) -> list[Rewrite]:
    """One variant per scope of the eligible layers (`scopes`), named readably."""
    return [Rewrite(where=scope_label(g, scope), **make(scope)) for scope in scopes(eligible)]


def _activated(g: Graph, which: Callable[[Activation], bool]) -> list[int]:
    """The layers (numbers, from 1) with an activation of their own that the registry's flags select."""
    return [l.number for l in g.layers if not l.fused and which(ACTIVATIONS[l.activation])]


def _elementwise(a: Activation) -> bool:
    """A nonlinearity applied neuron by neuron (σ, tanh, relu, …): its f and f′ can be confused."""
    return not a.linear and not a.coupled


def _nonlinear(a: Activation) -> bool:
    """Any activation with a derivative to forget (softmax included)."""
    return not a.linear


def _coupled(a: Activation) -> bool:
    """An activation whose outputs each depend on the whole layer (softmax)."""
    return a.coupled


def _weights(g: Graph, layer: int) -> dict[tuple[int, int], Node]:
    """(destination j, source k) -> weight node of one layer."""
    out = {}
    for j, net in enumerate(g.layers[layer - 1].nets):
        ws = [g.nodes[p] for p in net.local if g.nodes[p].role is Role.WEIGHT]
        for k, w in enumerate(ws):
            out[(j, k)] = w
    return out


def _sources(g: Graph, layer: int) -> list[Node]:
    return g.inputs if layer == 1 else g.layers[layer - 2].outs


# --- the mistakes ----------------------------------------------------------------------------------
def _derivative_forward(g: Graph) -> list[Rewrite]:
    def make(scope):
        forward, local = {}, {}
        for l in scope:
            layer = g.layers[l - 1]
            for net, out in zip(layer.nets, layer.outs):
                d = out.local[net.name].xreplace({out.symbol: out.definition})   # σ′ written in net
                forward[out.name] = d
                local[(out.name, net.name)] = d
        return {"forward": forward, "local": local}
    return _per_layer(g, _activated(g, _elementwise), make)


_PROBES = (-1.7, -0.6, 0.35, 1.3)


def _at_activation(out: Node, net: Node) -> sp.Expr | None:
    """f′ evaluated at the activation, f′(out), in place of f′(net); None where that gives the same
    numbers (relu, leaky relu: f′(f(z)) = f′(z)), since it is then no mistake to look for."""
    right = out.local[net.name].xreplace({out.symbol: out.definition})       # f′ written in net
    wrong = right.xreplace({net.symbol: out.symbol})
    z = net.symbol
    same = all(abs(float(wrong.xreplace({out.symbol: out.definition}).subs(z, v)) - float(right.subs(z, v))) < 1e-12
               for v in _PROBES)
    return None if same else wrong


def _derivative_at_activation(g: Graph) -> list[Rewrite]:
    """σ′ evaluated at the activation: sigmoid_prime(a) where sigmoid_prime(z) belongs."""
    eligible = [l for l in _activated(g, _elementwise)
                if _at_activation(g.layers[l - 1].outs[0], g.layers[l - 1].nets[0]) is not None]
    def make(scope):
        return {"local": {(o.name, n.name): _at_activation(o, n) for l in scope
                          for n, o in zip(g.layers[l - 1].nets, g.layers[l - 1].outs)}}
    return _per_layer(g, eligible, make)


def _activation_backward(g: Graph) -> list[Rewrite]:
    def make(scope):
        return {"local": {(o.name, n.name): o.symbol for l in scope
                          for n, o in zip(g.layers[l - 1].nets, g.layers[l - 1].outs)}}
    return _per_layer(g, _activated(g, _elementwise), make)


def _derivative_for_activation(g: Graph) -> list[Rewrite]:
    """∂net/∂w = out of the neuron below, taken as that neuron's σ′ instead."""
    def make(scope):
        local = {}
        for l in scope:
            below = g.layers[l - 1]
            for (j, k), w in _weights(g, l + 1).items():
                out = below.outs[k]
                local[(g.layers[l].nets[j].name, w.name)] = out.local[below.nets[k].name]
        return {"local": local}
    eligible = [l for l in _activated(g, _elementwise) if l < len(g.layers)]
    return _per_layer(g, eligible, make)


def _missing_derivative(g: Graph) -> list[Rewrite]:
    def make(scope):
        local = {}
        for l in scope:
            for j, out in enumerate(g.layers[l - 1].outs):
                for i, net in enumerate(g.layers[l - 1].nets):
                    if net.name in out.local:
                        local[(out.name, net.name)] = sp.S.One if i == j else sp.S.Zero
        return {"local": local}
    return _per_layer(g, _activated(g, _nonlinear), make)


def _softmax_diagonal(g: Graph) -> list[Rewrite]:
    """Softmax differentiated as if elementwise: the off-diagonal −a_j·a_i dropped."""
    def make(scope):
        return {"local": {(out.name, net.name): sp.S.Zero for l in scope for j, out in enumerate(g.layers[l - 1].outs)
                          for i, net in enumerate(g.layers[l - 1].nets) if i != j and net.name in out.local}}
    return _per_layer(g, _activated(g, _coupled), make)


def _loss_factor(factor) -> Callable[[Graph], list[Rewrite]]:
    def rewrites(g: Graph) -> list[Rewrite]:
        local = {(top.name, parent): factor * d for top in g.tops for parent, d in top.local.items()}
        return [Rewrite(where="", local=local)]
    return rewrites


def _missing_half(g: Graph) -> list[Rewrite]:
    return _loss_factor(2)(g) if LOSSES[g.spec.loss].squared else []


def _transposed_numbering(g: Graph) -> list[Rewrite]:
    """The gradient matrix kept as (source, destination) and flattened without transposing."""
    def make(scope):
        moves = []
        for l in scope:
            ws = _weights(g, l)
            a, b = len(_sources(g, l)), len(g.layers[l - 1].nets)
            order = sorted(ws, key=lambda jk: (jk[0], jk[1]))            # canonical: destination-major
            for n, (j, k) in enumerate(order):
                moves.append((ws[(j, k)].canonical, ws[(n % b, n // b)].canonical))
        return {"post": lambda grads: {**grads, **{mine: grads[theirs] for mine, theirs in moves}}}
    eligible = [l.number for l in g.layers if len(l.nets) > 1 and len(_sources(g, l.number)) > 1]
    return _per_layer(g, eligible, make)


def _transposed_backprop(g: Graph) -> list[Rewrite]:
    """δ back-propagated through W instead of Wᵀ: ∂net_j/∂out_k taken as w_kj (square layers only)."""
    def make(scope):
        local = {}
        for l in scope:
            ws, below = _weights(g, l), _sources(g, l)
            for (j, k) in ws:
                local[(g.layers[l - 1].nets[j].name, below[k].name)] = ws[(k, j)].symbol
        return {"local": local}
    eligible = [l.number for l in g.layers[1:] if len(l.nets) == len(_sources(g, l.number)) > 1]
    return _per_layer(g, eligible, make)


def _bias_wrong_axis(g: Graph) -> list[Rewrite]:
    """Per-neuron biases: each gets the sum over its layer's neurons (np.sum(err) with no axis)."""
    if g.spec.bias != "per_neuron" or not g.spec.train_biases:
        return []
    def make(scope):
        groups = [[p.canonical for p in g.params if p.role is Role.BIAS and p.layer == l] for l in scope]
        def post(grads):
            out = dict(grads)
            for group in groups:
                total = sum(grads[b] for b in group)
                out.update({b: total for b in group})
            return out
        return {"post": post}
    return _per_layer(g, [l.number for l in g.layers if len(l.nets) > 1], make)


def _learning_rate(g: Graph) -> list[Rewrite]:
    lr = g.spec.learning_rate
    return [] if lr == 1 else [Rewrite(where=f"lr {lr:g}", post=lambda grads: {k: lr * v for k, v in grads.items()})]


def _updated_weights(g: Graph) -> list[Rewrite]:
    """Every layer updated as the loop goes down, and (Nielsen's loop order, deeper nets) only some
    layers above updated before the δ below is computed: the output layer first, say."""
    lr = g.spec.learning_rate
    if len(g.layers) < 2:
        return []
    out = [Rewrite(where=f"lr {lr:g}", updated_weights=True)]
    above = list(range(2, len(g.layers) + 1))
    for scope in scopes(above):
        if scope != above:
            out.append(Rewrite(where=f"{scope_label(g, scope)} updated first, lr {lr:g}",
                               updated_weights=frozenset(scope)))
    return out


MISTAKES: dict[str, Mistake] = {m.name: m for m in (
    Mistake("derivative-in-forward", "σ′ used where σ belongs in the forward pass: out = σ′(net) "
            "(the backward pass still multiplies by σ′(net))", _derivative_forward),
    Mistake("activation-in-backward", "σ used where σ′ belongs in the backward pass: ∂out/∂net taken as "
            "out = σ(net) instead of out(1 − out)", _activation_backward),
    Mistake("derivative-for-activation", "σ′ used where σ belongs in the backward pass: ∂net/∂w taken as "
            "σ′ of the neuron below, out(1 − out), instead of its output out", _derivative_for_activation),
    Mistake("missing-derivative", "the activation's derivative (σ′ factor) is missing: ∂out/∂net taken as 1",
            _missing_derivative),
    Mistake("softmax-diagonal", "softmax differentiated neuron by neuron: only ∂a_j/∂z_j = a_j(1 − a_j) kept, "
            "the cross terms ∂a_j/∂z_i = −a_j·a_i (i ≠ j) left out", _softmax_diagonal),
    Mistake("derivative-at-activation", "σ′ evaluated at the activation: ∂out/∂net taken as σ′(out) "
            "(sigmoid_prime(a)) instead of σ′(net)", _derivative_at_activation),
    Mistake("missing-half", "a missing ½: the loss derivative is twice what it should be (E = Σ(t − o)² "
            "differentiated as if E = Σ½(t − o)², or the reverse)", _missing_half),
    Mistake("extra-half", "an extra ½: the loss derivative is half what it should be", _loss_factor(0.5)),
    Mistake("flipped-sign", "a flipped sign: (t − o) used where the derivative is −(t − o) = o − t",
            _loss_factor(-1)),
    Mistake("transposed-numbering", "weights numbered transposed: the gradient matrix kept as (source, "
            "destination) and flattened without transposing", _transposed_numbering),
    Mistake("transposed-backprop", "weights indexed transposed in the backward pass: δ sent down through "
            "W instead of Wᵀ (∂net_j/∂out_k taken as w_kj)", _transposed_backprop),
    Mistake("bias-wrong-axis", "bias gradient summed over the wrong axis: every bias of the layer gets the "
            "sum of the layer's δ (np.sum(err) without axis=0)", _bias_wrong_axis),
    Mistake("learning-rate-folded", "the learning rate folded into the gradient: lr·∂E/∂w returned",
            _learning_rate),
    Mistake("updated-weights", "hidden-layer gradients computed with the weights above already updated "
            "in the same step (δ sent down through w − lr·∂E/∂w)", _updated_weights),
)}


# Found from the numbers of a batch (every gradient m or 1/m times the derivation's), not by a rewrite of a
# one-sample graph: check-code on a data-set spec names it (derive.check.user_code.dataset).
BATCH_REDUCTION = Mistake("batch-reduction", "the batch reduced the wrong way: the per-sample gradients summed "
                          "where the loss is their mean (or averaged where it is their sum)", lambda g: [])


def variants(g: Graph) -> list[tuple[Mistake, Rewrite]]:
    """Every (mistake, variant) that applies to this network."""
    return [(m, rw) for m in MISTAKES.values() for rw in m.rewrites(g)]


@lru_cache(maxsize=8)
def _variant_cache(g: Graph) -> tuple[list[tuple[Mistake, Rewrite]], dict[int, Compiled]]:
    """Every variant of a graph, and those compiled so far (property tests diagnose the same network
    many times; a deep net has thousands of variants, compiled only as far as a time bound reaches)."""
    return variants(g), {}


def _compiled_variant(g: Graph, i: int) -> Compiled:
    singles, compiled = _variant_cache(g)
    if i not in compiled:
        compiled[i] = Compiled(g, singles[i][1])
    return compiled[i]


def _leaves(net, params: Mapping[str, float]) -> dict[str, float]:
    leaves = net.graph.leaf_values()
    leaves.update({p.name: params[p.canonical] for p in net.graph.params})
    return leaves


def _evaluate(compiled: Compiled, net, params: Mapping[str, float]) -> Grads:
    """A variant's gradients at a parameter point: one sample, or reduced over a batch spec's samples."""
    if not net.spec.samples:
        return compiled(_leaves(net, params))
    return net.reduce([compiled(leaves) for leaves in net.sample_leaves(params)])


def mistaken_gradients(net, name: str, where: str | None = None,
                       params: Mapping[str, float] | None = None) -> Grads:
    """The gradients code making mistake `name` (the variant `where`, default the first) would return."""
    if name not in MISTAKES:
        raise KeyError(f"no mistake {name!r}; known: {', '.join(MISTAKES)}")
    options = MISTAKES[name].rewrites(net.graph)
    chosen = [rw for rw in options if where is None or rw.where == where]
    if not chosen:
        raise ValueError(f"mistake {name!r} has no variant {where!r} here; variants: "
                         f"{', '.join(repr(rw.where) for rw in options) or 'none'}")
    return _evaluate(Compiled(net.graph, chosen[0]), net, params or net.param_values())


def diagnose(net, points: list[Mapping[str, float]], got: list[Grads], *, rtol: float, atol: float) -> list[Match]:
    """Every mistake variant whose gradients equal the user's at every point (on the keys they returned)."""
    return diagnose_within(net, points, got, rtol=rtol, atol=atol, seconds=None)[0]


def diagnose_within(net, points: list[Mapping[str, float]], got: list[Grads], *, rtol: float, atol: float,
                    seconds: float | None = SINGLE_SECONDS) -> tuple[list[Match], int, int]:
    """diagnose(), trying the variants in library order until `seconds` have passed (None: all):
    (matches, variants tried, variants in all). A 2-wide, 25-deep net has 2,500 of them."""
    singles = _variant_cache(net.graph)[0]
    deadline = None if seconds is None else time.monotonic() + seconds
    matches, tried = [], 0
    for i, (mistake, rw) in enumerate(singles):
        if deadline is not None and time.monotonic() > deadline:
            break
        tried += 1
        compiled = _compiled_variant(net.graph, i)
        if all(_same(_evaluate(compiled, net, p), mine, rtol, atol) for p, mine in zip(points, got)):
            matches.append(Match(mistake, rw.where))
    m = len(net.spec.samples)
    if m > 1:           # every gradient m (or 1/m) times: the batch reduced the wrong way
        k = m if net.spec.reduction == "mean" else 1 / m
        right = [derived(net, p) for p in points]
        if all(_same({n: k * v for n, v in r.items()}, mine, rtol, atol) for r, mine in zip(right, got)):
            matches.append(Match(BATCH_REDUCTION, f"{'summed' if k == m else 'averaged'}, m = {m}"))
    return matches, tried, len(singles)


def derived(net, params: Mapping[str, float]) -> Grads:
    """The right gradients at a point (all parameters), reduced over a batch."""
    return net.batch_gradients(params)


def _same(theirs: Grads, mine: Grads, rtol: float, atol: float) -> bool:
    return all(np.isfinite(theirs[k]) and abs(v - theirs[k]) <= atol + rtol * abs(theirs[k])
               for k, v in mine.items())


def combine(a: Rewrite, b: Rewrite) -> Rewrite | None:
    """Two variants made at once, or None where they rewrite the same piece (one would hide the other)."""
    if set(a.forward) & set(b.forward) or set(a.local) & set(b.local) or (a.updated_weights and b.updated_weights):
        return None
    posts = [p for p in (a.post, b.post) if p is not None]
    post = None if not posts else posts[0] if len(posts) == 1 else (lambda grads: posts[1](posts[0](grads)))
    return Rewrite(where=f"{a.where}; {b.where}", forward={**a.forward, **b.forward}, local={**a.local, **b.local},
                   updated_weights=a.updated_weights or b.updated_weights, post=post)


def diagnose_pairs(net, points: list[Mapping[str, float]], got: list[Grads], *, rtol: float, atol: float,
                   seconds: float = PAIR_SECONDS) -> tuple[list[Match], int, int]:
    """Pairs of different mistakes whose joint numbers equal the user's, tried in library order until
    `seconds` have passed: (matches, pairs tried, pairs in all)."""
    singles = _variant_cache(net.graph)[0]
    pairs = ((i, j) for i in range(len(singles)) for j in range(i + 1, len(singles))
             if singles[i][0].name != singles[j][0].name)      # lazily: a deep net has millions
    per_name = Counter(m.name for m, _ in singles)
    total = (len(singles) ** 2 - sum(c * c for c in per_name.values())) // 2
    deadline = time.monotonic() + seconds
    matches, tried = _with_batch_reduction(net, points, got, rtol, atol, deadline)
    for i, j in pairs:
        if time.monotonic() > deadline:
            break
        tried += 1
        (m1, r1), (m2, r2) = singles[i], singles[j]
        joint = combine(r1, r2)
        if joint is None:
            continue
        compiled = Compiled(net.graph, joint)
        if all(_same(_evaluate(compiled, net, p), mine, rtol, atol) for p, mine in zip(points, got)):
            matches.append(Match(m1, r1.where, Match(m2, r2.where)))
    return matches, tried, total + (len(singles) if len(net.spec.samples) > 1 else 0)


def _with_batch_reduction(net, points, got, rtol, atol, deadline) -> tuple[list[Match], int]:
    """A batch spec: each mistake together with the batch reduced the wrong way (its numbers m or 1/m
    times): (matches, variants tried)."""
    m = len(net.spec.samples)
    if m < 2:
        return [], 0
    k = m if net.spec.reduction == "mean" else 1 / m
    reduction = Match(BATCH_REDUCTION, f"{'summed' if k == m else 'averaged'}, m = {m}")
    matches, tried = [], 0
    for i, (mistake, rw) in enumerate(_variant_cache(net.graph)[0]):
        if time.monotonic() > deadline:
            break
        tried += 1
        compiled = _compiled_variant(net.graph, i)
        scaled = ({n: k * v for n, v in _evaluate(compiled, net, p).items()} for p in points)
        if all(_same(theirs, mine, rtol, atol) for theirs, mine in zip(scaled, got)):
            matches.append(Match(mistake, rw.where, reduction))
    return matches, tried
