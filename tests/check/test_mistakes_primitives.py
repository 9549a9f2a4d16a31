"""Every mistake on every activation of the registry (relu, leaky_relu and softplus included).

`buggy_gradients` is a plain-float backprop written from the textbook formulas (sharing no code with
derive; each activation's f and f′ written out below, softmax by its Jacobian), with one bug switched
on at a time as a student would write it. For each activation, in a hidden and in an output layer,
each mistake that can happen there is planted and must be named (and placed) by check_gradients; the
numbers `mistaken_gradients` gives must equal the buggy code's. Which mistakes apply to which
activation is written out here by hand (OWN_MISTAKES), not read from derive's flags.
"""

import math

import pytest

import derive
from derive.check.user_code.compare import check_gradients
from derive.check.user_code.mistakes import MISTAKES, mistaken_gradients, variants
from derive.core.primitives import ACTIVATIONS


def _sigmoid(z):
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def _softplus(z):
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


# f and f′ of each elementwise activation, written independently of derive's registry
ELEMENTWISE = {
    "identity": (lambda z: z, lambda z: 1.0),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "tanh": (math.tanh, lambda z: 1 - math.tanh(z) ** 2),
    "relu": (lambda z: z if z > 0 else 0.0, lambda z: 1.0 if z > 0 else 0.0),
    "leaky_relu": (lambda z: z if z > 0 else 0.01 * z, lambda z: 1.0 if z > 0 else 0.01),
    "softplus": (_softplus, _sigmoid),       # d/dz log(1 + e^z) = e^z / (1 + e^z)
}
COUPLED = {"softmax"}

NONLINEARITY = {"derivative-in-forward", "activation-in-backward", "derivative-for-activation", "missing-derivative"}
# f′ evaluated at the activation, f′(f(z)): a different number for these; relu and leaky relu give
# f′(f(z)) = f′(z) (the sign of z is kept), so there it is no mistake at all
AT_ACTIVATION = NONLINEARITY | {"derivative-at-activation"}
OWN_MISTAKES = {   # the mistakes tied to an activation that can happen in a layer with it
    "identity": set(),
    "sigmoid": AT_ACTIVATION,
    "tanh": AT_ACTIVATION,
    "relu": NONLINEARITY,
    "leaky_relu": NONLINEARITY,
    "softplus": AT_ACTIVATION,
    "softmax": {"missing-derivative", "softmax-diagonal"},
}
ACTIVATION_MISTAKES = set().union(*OWN_MISTAKES.values())
HIDDEN_ONLY = {"derivative-for-activation"}      # it concerns the output of a neuron feeding another layer

LOSS_GRAD = {"half_sse": lambda t, o, n: o - t, "mse": lambda t, o, n: 2 * (o - t) / n,
             "cross_entropy": lambda t, o, n: -t / o}


def _softmax(zs):
    m = max(zs)
    es = [math.exp(z - m) for z in zs]
    return [e / sum(es) for e in es]


def _jacobian(name, zs, outs, bug):
    """J[j][i] = ∂out_j/∂z_i as the (buggy) student code takes it."""
    n = len(zs)
    if bug == "missing-derivative":
        return [[1.0 if i == j else 0.0 for i in range(n)] for j in range(n)]
    if name in COUPLED:
        keep = (lambda i, j: i == j) if bug == "softmax-diagonal" else (lambda i, j: True)
        return [[outs[j] * ((i == j) - outs[i]) if keep(i, j) else 0.0 for i in range(n)] for j in range(n)]
    f, df = ELEMENTWISE[name]
    slope = f if bug == "activation-in-backward" else df
    if bug == "derivative-at-activation":          # sigmoid_prime(a) where sigmoid_prime(z) belongs
        return [[df(outs[j]) if i == j else 0.0 for i in range(n)] for j in range(n)]
    return [[slope(zs[j]) if i == j else 0.0 for i in range(n)] for j in range(n)]


def buggy_gradients(spec, params, bug=None, layer=None):
    """dE/dparam by canonical name, with `bug` in `layer` (1 = first hidden; None: every layer or none).

    Weights numbered layer by layer, destination-major; one bias per neuron (the nets below)."""
    at = lambda l: layer is None or l == layer
    on = lambda name, l: bug == name and at(l)
    sizes, acts = spec.layers, spec.activations
    W, B, wpos, bpos = [], [], 0, 0
    for a, b in zip(sizes, sizes[1:]):
        W.append([[params[f"w{wpos + j * a + k + 1}"] for k in range(a)] for j in range(b)])
        B.append([params[f"b{bpos + j + 1}"] for j in range(b)])
        wpos, bpos = wpos + a * b, bpos + b
    a, zs = [list(spec.inputs)], []
    for l, name in enumerate(acts, 1):
        z = [sum(W[l - 1][j][k] * a[-1][k] for k in range(sizes[l - 1])) + B[l - 1][j] for j in range(sizes[l])]
        zs.append(z)
        if name in COUPLED:
            a.append(_softmax(z))
        else:
            f, df = ELEMENTWISE[name]
            a.append([df(v) if on("derivative-in-forward", l) else f(v) for v in z])
    n = len(spec.targets)
    dout = [LOSS_GRAD[spec.loss](t, o, n) for t, o in zip(spec.targets, a[-1])]
    if bug == "missing-half":
        dout = [2 * d for d in dout]
    if bug == "extra-half":
        dout = [0.5 * d for d in dout]
    if bug == "flipped-sign":
        dout = [-d for d in dout]
    grads_w, grads_b = {}, {}
    for l in range(len(acts), 0, -1):
        J = _jacobian(acts[l - 1], zs[l - 1], a[l], bug if at(l) else None)
        width = len(zs[l - 1])
        dnet = [sum(dout[j] * J[j][i] for j in range(width)) for i in range(width)]
        src = a[l - 1]
        if l > 1 and on("derivative-for-activation", l - 1):
            src = [ELEMENTWISE[acts[l - 2]][1](v) for v in zs[l - 2]]
        G = [[dnet[j] * src[k] for k in range(len(src))] for j in range(width)]
        grads_w[l] = [G[j][k] for k in range(len(src)) for j in range(width)] \
            if on("transposed-numbering", l) else [g for row in G for g in row]
        grads_b[l] = [sum(dnet)] * width if on("bias-wrong-axis", l) else dnet
        Wl = W[l - 1]
        if bug == "updated-weights":
            Wl = [[Wl[j][k] - spec.learning_rate * G[j][k] for k in range(len(src))] for j in range(width)]
        if on("transposed-backprop", l):
            dout = [sum(dnet[j] * Wl[k][j] for j in range(width)) for k in range(len(src))]
        else:
            dout = [sum(dnet[j] * Wl[j][k] for j in range(width)) for k in range(len(src))]
    out = {f"w{i + 1}": g for i, g in enumerate(g for l in sorted(grads_w) for g in grads_w[l])}
    out.update({f"b{i + 1}": g for i, g in enumerate(g for l in sorted(grads_b) for g in grads_b[l])})
    if bug == "learning-rate-folded":
        out = {k: spec.learning_rate * v for k, v in out.items()}
    return out


# --- the networks: each activation in a hidden layer and in the output layer -----------------------

WEIGHTS = [0.6, -0.4, -0.5, 0.8, 0.7, -0.3, 0.45, 0.9]
BIASES = [0.1, -0.2, 0.15, -0.05]


def network(hidden, output):
    """A 2-2-2 net (square layers: every transposition can happen), per-neuron trained biases, lr 0.1;
    at these values the hidden pre-activations are one positive, one negative (relu's both sides)."""
    loss = "cross_entropy" if output in COUPLED else "mse"
    return derive.network([2, 2, 2], [hidden, output], loss=loss, inputs=[0.8, -0.6], targets=[0.3, 0.7],
                          weights=WEIGHTS, biases=BIASES, learning_rate=0.1)


CASES = [(name, "hidden") for name in ACTIVATIONS if name not in COUPLED] + [(name, "output") for name in ACTIVATIONS]


def net_for(name, place):
    return network(name, "sigmoid") if place == "hidden" else network("tanh", name)


def planted(net):
    """Every (mistake, layer) that can happen in this net, from the hand-written table and the structure."""
    hidden, output = net.spec.activations
    out = [(bug, 1) for bug in sorted(OWN_MISTAKES[hidden])]
    out += [(bug, 2) for bug in sorted(OWN_MISTAKES[output] - HIDDEN_ONLY)]
    out += [("flipped-sign", None), ("extra-half", None), ("learning-rate-folded", None), ("updated-weights", None)]
    out += [(bug, l) for bug in ("transposed-numbering", "bias-wrong-axis") for l in (1, 2)]
    out += [("transposed-backprop", 2)]
    if net.spec.loss in ("half_sse", "mse"):
        out.append(("missing-half", None))
    return out


def label(layer):
    return "" if layer is None else f"{'output' if layer == 2 else 'hidden'} layer {layer}"


PLANTED = [(name, place, bug, layer) for name, place in CASES for bug, layer in planted(net_for(name, place))]


def test_every_activation_of_the_registry_is_covered():
    assert set(OWN_MISTAKES) == set(ACTIVATIONS)              # a new activation: add it to both tables
    assert set(ELEMENTWISE) | COUPLED == set(ACTIVATIONS)
    assert ACTIVATION_MISTAKES | {m for _, _, m, _ in PLANTED} == set(MISTAKES)


def test_the_relu_layers_see_both_sides_of_the_kink():
    net = net_for("relu", "hidden")
    values = net.values()
    nets = [values[n.name] for n in net.graph.layers[0].nets]
    assert min(nets) < -0.1 and max(nets) > 0.1


@pytest.mark.parametrize("name, place", CASES)
def test_the_buggy_code_without_a_bug_agrees(name, place):
    net = net_for(name, place)
    report = check_gradients(net, lambda p: buggy_gradients(net.spec, p), points=3, seed=1)
    assert report.agree, report.diagnosis


@pytest.mark.parametrize("name, place", CASES)
def test_the_activation_mistakes_offered_are_the_expected_ones(name, place):
    net = net_for(name, place)
    offered = {(m.name, rw.where) for m, rw in variants(net.graph)
               if m.name in ACTIVATION_MISTAKES and " and " not in rw.where}
    expected = {(bug, label(layer)) for bug, layer in planted(net) if bug in ACTIVATION_MISTAKES}
    assert offered == expected


@pytest.mark.parametrize("name, place, bug, layer", PLANTED)
def test_each_planted_mistake_is_named(name, place, bug, layer):
    net = net_for(name, place)
    report = check_gradients(net, lambda p: buggy_gradients(net.spec, p, bug, layer), points=3, seed=1)
    assert not report.agree
    found = {(m.mistake.name, m.where) for m in report.mistakes}
    if layer is None:
        assert bug in {n for n, _ in found}, report.diagnosis
    else:
        assert (bug, label(layer)) in found, report.diagnosis
    assert bug in report.diagnosis


@pytest.mark.parametrize("name, place, bug, layer", PLANTED)
def test_mistaken_gradients_equal_the_independent_buggy_code(name, place, bug, layer):
    net = net_for(name, place)
    mine = buggy_gradients(net.spec, net.param_values(), bug, layer)
    theirs = mistaken_gradients(net, bug, None if layer is None or bug == "updated-weights" else label(layer))
    assert theirs.keys() == mine.keys()
    for k in mine:
        assert theirs[k] == pytest.approx(mine[k], rel=1e-12, abs=1e-15), (bug, k)

