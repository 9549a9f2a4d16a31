"""Proofs for file 001's matrix form: it equals the scalar chain rule, and softmax + cross-entropy gives −(y − a).

`prove_matrix_form` builds the same net twice — as the core's scalar graph (derive.core.graph, Backprop)
and as the matrix derivation — for m samples, and proves every entry of every ∂L/∂W_l, ∂L/∂b_l equal
to (1/m) Σ over samples of the scalar ∂E/∂w: as rational functions of the per-sample node values
(out_h1, out_o1, …, which both sides share), after checking that Z_l = A_{l-1} W_l + 1 b_l is entry
by entry the scalar net's pre-activation. Optionally also fully expanded in the leaves (σ written out).

A layer differentiated by the generic slope f′(Z_l) (an activation with no closed form in A: relu,
leaky_relu, softplus) has its matrix side in the pre-activations and its scalar side in the registry's
derivative (in the net, or in the out as softplus's 1 − e^(−out)): there every out of such a layer is
replaced by its definition f(net), and where a kink remains (Piecewise, Heaviside, Max, Abs) each net
it depends on is split by sign (net > 0, net < 0, net = 0) before cancelling: an identity on all reals.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.core.derivation import Backprop
from derive.core.graph import Graph
from derive.core.matrix import MatrixDerivation
from derive.core.primitives import ACTIVATIONS
from derive.core.spec import bias_count, spec_from_dict, weight_count
from derive.core.proof import prove_equal

__all__ = ["MatrixProof", "prove_matrix_form", "SoftmaxStep", "softmax_cross_entropy_steps", "softmax_general"]


@dataclass(frozen=True)
class MatrixProof:
    holds: bool
    checked: int              # entries proved (forward and gradients)
    method: str
    failures: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.holds


def prove_matrix_form(layers=(2, 2, 1), activations=("sigmoid", "sigmoid"), loss="bce", m=2, *,
                      average=True, expanded=False, derivation: MatrixDerivation | None = None) -> MatrixProof:
    """Prove the matrix derivation (default: built here) equals the scalar one summed (and averaged) over m samples."""
    spec = spec_from_dict({"network": {"layers": list(layers), "activations": list(activations), "loss": loss,
                                       "bias": "per_neuron"},
                           "values": {"inputs": [0.0] * layers[0], "targets": [0.0] * layers[-1],
                                      "weights": [0.0] * weight_count(layers),
                                      "biases": [0.0] * bias_count(layers, "per_neuron")}})
    graph = Graph(spec)       # the scalar side: the core's own derivation
    bp = Backprop(graph)
    md = derivation or MatrixDerivation(layers, activations, loss, batch=m, average=average)
    samples = [_sample_symbols(graph, s) for s in range(m)]
    constraint = _targets_sum_to_one(graph, samples) if ACTIVATIONS[activations[-1]].coupled else {}
    definitions = _slope_definitions(md, graph, samples)
    owner = {symbol: s for s, rename in enumerate(samples) for symbol in rename.values()}
    values = _explicit_values(md, graph, samples)
    failures, checked = [], 0

    for l in range(1, md.depth + 1):                       # forward: Z_l entry by entry
        Z = md.explicit_forward(l, values)
        for s, rename in enumerate(samples):
            for j, node in enumerate(graph.layers[l - 1].nets):
                checked += 1
                if sp.expand(Z[s, j] - node.definition.xreplace(rename)) != 0:
                    failures.append(f"Z{l}[{s},{j}] != {node.name}")

    scale = sp.Rational(1, m) if average else sp.S.One
    for l in range(1, md.depth + 1):
        for kind in ("W", "b"):
            name = f"{kind}{l}"
            G = md.explicit(name, values)
            for (i, j), canonical in _entries(layers, l, kind):
                form = bp.gradients[canonical].xreplace(bp.expanded_deltas)
                scalar = scale * sp.Add(*[form.xreplace(rename) for rename in samples])
                checked += 1
                if expanded:
                    ok = _expanded_equal(G[i, j], scalar, md, graph, samples, values, constraint)
                elif md.slope_layers:
                    ok = _zero_by_sample((G[i, j] - scalar).xreplace(constraint).xreplace(definitions), owner)
                else:
                    ok = sp.cancel(sp.together((G[i, j] - scalar).xreplace(constraint))) == 0
                if not ok:
                    failures.append(f"d{name}[{i},{j}] != mean of dE/d{canonical}")
    method = "expanded in the leaves (simplify)" if expanded else "rational identity in the node values (cancel)"
    if md.slope_layers and not expanded:
        method += ", with A = f(Z) where the slope f'(Z) is used and each kink split by sign"
    return MatrixProof(not failures, checked, method, tuple(failures))


def _sample_symbols(graph, s: int) -> dict:
    """Every non-parameter node symbol → its copy for sample s (name^(s))."""
    return {n.symbol: sp.Symbol(f"{n.name}__{s + 1}", real=True) for n in graph.nodes.values()
            if n.role.value not in ("weight", "bias")}


def _targets_sum_to_one(graph, samples) -> dict:
    """The notes' y1 + y2 + … + yK = 1 (one-hot targets), used to eliminate the last target."""
    last, others = graph.targets[-1], graph.targets[:-1]
    return {r[last.symbol]: 1 - sp.Add(*[r[t.symbol] for t in others]) for r in samples}


def _slope_definitions(md: MatrixDerivation, graph, samples) -> dict:
    """Each out of a layer differentiated by f′(Z) → its definition f(net), per sample."""
    return {rename[out.symbol]: out.definition.xreplace(rename)
            for l in md.slope_layers for rename in samples for out in graph.layers[l - 1].outs}


KINKS = (sp.Piecewise, sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign)


def _zero_by_sample(expr, owner: dict) -> bool:
    """expr ≡ 0, proved a sample at a time where its terms part by sample (each term's node values from
    one sample, or none): each part zero is enough, and has a third of the sign cases per kink left;
    otherwise (or if a part fails) the whole expression at once."""
    terms = sp.Add.make_args(sp.expand(expr, deep=False, power_base=False, power_exp=False, log=False,
                                       multinomial=False))
    parts: dict[frozenset, list] = {}
    for term in terms:
        parts.setdefault(frozenset(owner[s] for s in term.free_symbols if s in owner), []).append(term)
    if len(parts) > 1 and all(len(key) <= 1 for key in parts):
        if all(_zero_on_all_reals(sp.Add(*part)) for part in parts.values()):
            return True
    return _zero_on_all_reals(expr)


def _zero_on_all_reals(expr) -> bool:
    """expr ≡ 0 for every real value of its symbols: by cancel once no kink is left, else split the first
    symbol a kink depends on into its three signs (a fresh positive symbol p: s = p, s = −p, s = 0)."""
    kinked = sorted({s for k in expr.atoms(*KINKS) for s in k.free_symbols}, key=lambda s: s.name)
    if not kinked:
        return sp.cancel(sp.together(expr)) == 0
    s = kinked[0]
    p = sp.Symbol(f"{s.name}__pos", positive=True)
    return all(_zero_on_all_reals(expr.xreplace({s: value})) for value in (p, -p, sp.S.Zero))


def _explicit_values(md: MatrixDerivation, graph, samples) -> dict:
    """Explicit matrices built from the scalar graph's own symbols (per sample for X, Y, A_l and Z_l)."""
    layers = md.layers
    values = {md.X: sp.Matrix([[r[n.symbol] for n in graph.inputs] for r in samples]),
              md.Y: sp.Matrix([[r[n.symbol] for n in graph.targets] for r in samples])}
    for l in range(1, md.depth + 1):
        values[md.A[l]] = sp.Matrix([[r[n.symbol] for n in graph.layers[l - 1].outs] for r in samples])
        values[md.Z[l]] = sp.Matrix([[r[n.symbol] for n in graph.layers[l - 1].nets] for r in samples])
        W = sp.zeros(layers[l - 1], layers[l])
        b = sp.zeros(1, layers[l])
        for (i, j), canonical in _entries(layers, l, "W"):
            W[i, j] = graph.param(canonical).symbol
        for (i, j), canonical in _entries(layers, l, "b"):
            b[i, j] = graph.param(canonical).symbol
        values[md.W[l]], values[md.b[l]] = W, b
    return values


def _entries(layers, l: int, kind: str):
    """(matrix index, canonical name) of W_l or b_l: weights by destination then source (docs/spec-format.md)."""
    if kind == "W":
        offset = sum(a * b for a, b in zip(layers[: l - 1], layers[1:l]))
        return [((i, j), f"w{offset + j * layers[l - 1] + i + 1}")
                for i in range(layers[l - 1]) for j in range(layers[l])]
    offset = sum(layers[1:l])
    return [((0, j), f"b{offset + j + 1}") for j in range(layers[l])]


def _expanded_equal(matrix_entry, scalar, md, graph, samples, values, constraint) -> bool:
    """Both sides with every node value written out in the leaves (σ as exp), proved exactly (simplify,
    or a polynomial ring's expansion for linear nets)."""
    leaves = {}
    for rename in samples:
        for node in graph.nodes.values():
            if not node.is_leaf:
                leaves[rename[node.symbol]] = graph.expanded(node.name).xreplace(rename)
    a = matrix_entry.xreplace(leaves).xreplace(constraint)
    b = scalar.xreplace(leaves).xreplace(constraint)
    proof = prove_equal(a, b, symbolic=True)
    return proof.holds and proof.exact


# --- softmax with cross-entropy, as file 001 derives ∂L/∂z1 -------------------------------------

@dataclass(frozen=True)
class SoftmaxStep:
    """One line of the notes' derivation: what it states, the expression, and that SymPy confirms it."""

    label: str
    expr: sp.Expr
    verified: bool


def softmax_cross_entropy_steps(K: int = 3, i: int = 1) -> list[SoftmaxStep]:
    """∂L/∂z_i for K classes step by step as the notes write it (i = 1, K = 3), each step checked by SymPy."""
    z = sp.symbols(f"z1:{K + 1}", real=True)
    y = sp.symbols(f"y1:{K + 1}", real=True)
    a = sp.symbols(f"a1:{K + 1}", positive=True)
    total = sp.Add(*[sp.exp(zk) for zk in z])
    soft = [sp.exp(zk) / total for zk in z]
    L = -sp.Add(*[y[k] * sp.log(a[k]) for k in range(K)])
    n = i - 1
    steps = []
    for k in range(K):      # ∂L/∂a_k = −y_k / a_k
        steps.append(SoftmaxStep(f"dL/da{k + 1}", -y[k] / a[k], sp.simplify(sp.diff(L, a[k]) + y[k] / a[k]) == 0))
    for k in range(K):      # ∂a_k/∂z_i = a_k(1 − a_k) on the diagonal, −a_k a_i off it
        closed = a[k] * (1 - a[k]) if k == n else -a[k] * a[n]
        exact = sp.diff(soft[k], z[n])
        ok = sp.simplify(exact - closed.xreplace({a[q]: soft[q] for q in range(K)})) == 0
        steps.append(SoftmaxStep(f"da{k + 1}/dz{i}", closed, ok))
    chain = sp.Add(*[(-y[k] / a[k]) * (a[k] * (1 - a[k]) if k == n else -a[k] * a[n]) for k in range(K)])
    collected = -y[n] + sp.Add(*y) * a[n]
    steps.append(SoftmaxStep(f"dL/dz{i} (chain rule)", sp.expand(chain), sp.expand(chain - collected) == 0))
    steps.append(SoftmaxStep(f"= -y{i} + (y1 + … + y{K}) a{i}", collected, True))
    final = -(y[n] - a[n])
    e = K - 1 if n != K - 1 else 0         # the target eliminated by Σ y = 1 (not y_i itself)
    one_hot = {y[e]: 1 - sp.Add(*[y[q] for q in range(K) if q != e])}
    exact = sp.diff(L.xreplace({a[k]: soft[k] for k in range(K)}), z[n])
    ok = (sp.expand((collected - final).xreplace(one_hot)) == 0
          and sp.simplify((exact - final.xreplace({a[n]: soft[n]})).xreplace(one_hot)) == 0)
    steps.append(SoftmaxStep(f"= -(y{i} - a{i}) using y1 + … + y{K} = 1", final, ok))
    return steps


def softmax_general() -> tuple[sp.Expr, bool]:
    """For any K: Σ_k (−y_k/a_k)·a_k(δ_ki − a_i) = −y_i + a_i Σ_k y_k, which is −(y_i − a_i) when Σ y = 1."""
    K, i, k = sp.symbols("K i k", integer=True, positive=True)
    y, a = sp.IndexedBase("y"), sp.IndexedBase("a")
    chain = sp.Sum(-y[k] * (sp.KroneckerDelta(k, i) - a[i]), (k, 1, K))
    sum_y = sp.Sum(y[k], (k, 1, K))
    value = chain.doit()          # SymPy answers piecewise: the first branch is the case 1 <= i <= K
    if isinstance(value, sp.Piecewise):
        branch, condition = value.args[0]
        if condition != (K >= i):
            return value, False
        value = branch
    expected = -y[i] + a[i] * sum_y
    return expected, sp.simplify(value - expected) == 0
