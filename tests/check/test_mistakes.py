"""The library of backprop mistakes: each planted in an independent buggy implementation is named.

`buggy_gradients` below is a plain-float backprop written from the notes' formulas (sharing no
code with derive) with one bug switched on at a time, as a student would write it. Each bug must
be diagnosed by name (and layer) on file 000's net and on another net, through check_gradients.
"""

import math

import pytest

import derive
import reference
from derive.check.user_code.mistakes import MISTAKES, diagnose, mistaken_gradients, variants
from derive.check.user_code.compare import check_gradients


def _sigmoid(z):
    return 1 / (1 + math.exp(-z))


ACT = {"sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
       "tanh": (math.tanh, lambda z: 1 - math.tanh(z) ** 2)}
LOSS_GRAD = {"half_sse": lambda t, o, n: o - t, "mse": lambda t, o, n: 2 * (o - t) / n}


def buggy_gradients(net, params, bug=None, layer=None):
    """dE/dparam by canonical name, computed the student's way with `bug` in `layer` (1 = first hidden)."""
    s = net.spec
    at = lambda l: layer is None or l == layer
    on = lambda name, l=None: bug == name and (l is None or at(l))
    nw = sum(a * b for a, b in zip(s.layers, s.layers[1:]))
    W, B = reference.unpack(s.layers, [params[f"w{i + 1}"] for i in range(nw)],
                            [params[f"b{i + 1}"] for i in range(len(s.biases))], s.bias)
    bias = [params[f"b{i + 1}"] for i in range(len(s.biases))]
    a, zs = [list(s.inputs)], []
    for l, name in enumerate(s.activations, 1):
        f, df = ACT[name]
        z = [sum(W[l - 1][j][k] * a[-1][k] for k in range(s.layers[l - 1])) +
             (bias[B[l - 1][j]] if B[l - 1][j] is not None else 0.0) for j in range(s.layers[l])]
        zs.append(z)
        a.append([df(v) if on("derivative-in-forward", l) else f(v) for v in z])
    n = len(s.targets)
    dout = [LOSS_GRAD[s.loss](t, o, n) for t, o in zip(s.targets, a[-1])]
    if bug == "missing-half":
        dout = [2 * d for d in dout]
    if bug == "flipped-sign":
        dout = [-d for d in dout]
    grads_w, grads_b = {}, [0.0] * len(bias)
    for l in range(len(s.activations), 0, -1):
        f, df = ACT[s.activations[l - 1]]
        if on("activation-in-backward", l):
            dact = [f(v) for v in zs[l - 1]]
        elif on("missing-derivative", l):
            dact = [1.0] * len(zs[l - 1])
        else:
            dact = [df(v) for v in zs[l - 1]]
        dnet = [d * g for d, g in zip(dout, dact)]
        src = a[l - 1]
        if l > 1 and on("derivative-for-activation", l - 1):
            src = [ACT[s.activations[l - 2]][1](v) for v in zs[l - 2]]
        G = [[dnet[j] * src[k] for k in range(len(src))] for j in range(len(dnet))]
        grads_w[l] = [G[j][k] for k in range(len(src)) for j in range(len(dnet))] \
            if on("transposed-numbering", l) else [g for row in G for g in row]
        for j, d in enumerate(dnet):
            if B[l - 1][j] is not None:
                grads_b[B[l - 1][j]] += sum(dnet) if on("bias-wrong-axis", l) else d
        Wl = W[l - 1]
        if bug == "updated-weights":
            Wl = [[Wl[j][k] - s.learning_rate * G[j][k] for k in range(len(src))] for j in range(len(dnet))]
        if on("transposed-backprop", l):
            dout = [sum(dnet[j] * Wl[k][j] for j in range(len(dnet))) for k in range(len(src))]
        else:
            dout = [sum(dnet[j] * Wl[j][k] for j in range(len(dnet))) for k in range(len(src))]
    flat = [g for l in sorted(grads_w) for g in grads_w[l]]
    out = {f"w{i + 1}": g for i, g in enumerate(flat)}
    if s.train_biases:
        out.update({f"b{i + 1}": g for i, g in enumerate(grads_b)})
    if bug == "learning-rate-folded":
        out = {k: s.learning_rate * v for k, v in out.items()}
    return out


def mazur(examples):
    return derive.load(examples / "mazur_2_2_2.toml")


def mazur_per_neuron():
    """File 000's network and values with one trained bias per neuron (for the bias mistake)."""
    return derive.network([2, 2, 2], ["sigmoid", "sigmoid"], inputs=[0.05, 0.10], targets=[0.01, 0.99],
                          weights=[0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55],
                          biases=[0.35, 0.35, 0.60, 0.60], learning_rate=0.5)


def other():
    """A 2-3-3 tanh/sigmoid net with mse and trained per-neuron biases: non-square first layer."""
    return derive.network([2, 3, 3], ["tanh", "sigmoid"], loss="mse", inputs=[0.3, -0.7],
                          targets=[0.2, 0.9, 0.4], learning_rate=0.1,
                          weights=[0.1, -0.3, 0.5, 0.2, -0.4, 0.6, 0.7, -0.1, 0.3, 0.25, 0.45, -0.55, 0.15, 0.35, -0.65],
                          biases=[0.05, -0.15, 0.25, 0.1, -0.2, 0.3])


PLANTED = [("derivative-in-forward", 1), ("derivative-in-forward", 2), ("activation-in-backward", 1),
           ("activation-in-backward", 2), ("derivative-for-activation", 1), ("missing-derivative", 1),
           ("missing-derivative", 2), ("missing-half", None), ("flipped-sign", None),
           ("transposed-numbering", 1), ("transposed-numbering", 2), ("transposed-backprop", 2),
           ("learning-rate-folded", None), ("updated-weights", None)]


def _diagnosed(net, bug, layer, points=2):
    fn = lambda params: buggy_gradients(net, params, bug, layer)
    report = check_gradients(net, fn, points=points, seed=1)
    assert not report.agree
    found = {(m.mistake.name, m.where) for m in report.mistakes}
    return found, report


def _label(net, layer):
    return "" if layer is None else f"{'output' if layer == len(net.spec.layers) - 1 else 'hidden'} layer {layer}"


@pytest.mark.parametrize("bug, layer", PLANTED + [("bias-wrong-axis", 1), ("bias-wrong-axis", 2)])
@pytest.mark.parametrize("make", ["mazur", "other"])
def test_each_planted_mistake_is_named(examples, make, bug, layer):
    net = {"mazur": lambda: mazur(examples), "other": other}[make]()
    if bug == "bias-wrong-axis" and make == "mazur":
        net = mazur_per_neuron()     # file 000's biases are shared and untrained: nothing to sum wrongly
    found, report = _diagnosed(net, bug, layer)
    names = {name for name, _ in found}
    assert bug in names, report.diagnosis
    if layer is not None:
        assert any(name == bug and where == _label(net, layer) for name, where in found), found
    assert bug in report.diagnosis


def test_the_buggy_implementation_without_a_bug_agrees(examples):
    for net in (mazur(examples), mazur_per_neuron(), other()):
        assert check_gradients(net, lambda p, net=net: buggy_gradients(net, p), points=3).agree


def test_mistaken_gradients_equal_the_independent_buggy_code(examples):
    net = other()
    for bug, layer in PLANTED:
        mine = buggy_gradients(net, net.param_values(), bug, layer)
        where = None if layer is None else _label(net, layer)
        if bug in ("learning-rate-folded", "updated-weights"):
            where = None
        theirs = mistaken_gradients(net, bug, where)
        assert theirs.keys() >= mine.keys()
        for k in mine:
            assert theirs[k] == pytest.approx(mine[k], rel=1e-12, abs=1e-15), (bug, k)


def test_mistakes_that_cannot_happen_are_not_offered(examples):
    offered = {(m.name, rw.where) for m, rw in variants(mazur(examples).graph)}
    assert not any(name == "bias-wrong-axis" for name, _ in offered)          # shared, untrained biases
    assert ("transposed-backprop", "output layer 2") in offered             # 2×2: can be sent through W
    linear = derive.load(examples / "seven_2_1.toml")
    names = {m.name for m, _ in variants(linear.graph)}
    assert "derivative-in-forward" not in names and "missing-derivative" not in names   # no σ to confuse


def test_every_mistake_has_a_name_a_title_and_applies_somewhere(examples):
    nets = [mazur(examples), mazur_per_neuron(), other(), derive.load(examples / "multiclass_2_2_3.toml")]
    for mistake in MISTAKES.values():
        assert mistake.title and " " not in mistake.name
        assert any(mistake.rewrites(net.graph) for net in nets), mistake.name


def test_correct_gradients_match_no_mistake(examples):
    net = other()
    grads = buggy_gradients(net, net.param_values())
    assert diagnose(net, [net.param_values()], [grads], rtol=1e-6, atol=1e-9) == []


def student_softmax_gradients(params, diagonal_only=False):
    """A student's backprop for worked_examples/multiclass_2_2_3.toml (plain floats, no derive)."""
    x, y = [0.5, -1.0], [0.0, 1.0, 0.0]
    W1 = [[params["w1"], params["w2"]], [params["w3"], params["w4"]]]
    W2 = [[params["w5"], params["w6"]], [params["w7"], params["w8"]], [params["w9"], params["w10"]]]
    b = [params[f"b{i}"] for i in range(1, 6)]
    h = [_sigmoid(W1[j][0] * x[0] + W1[j][1] * x[1] + b[j]) for j in range(2)]
    z = [W2[j][0] * h[0] + W2[j][1] * h[1] + b[2 + j] for j in range(3)]
    e = [math.exp(v - max(z)) for v in z]
    a = [v / sum(e) for v in e]
    if diagonal_only:     # dL/da_j · a_j(1 − a_j) only
        dz = [-y[j] / a[j] * a[j] * (1 - a[j]) for j in range(3)]
    else:
        dz = [a[j] - y[j] for j in range(3)]
    dh = [sum(dz[j] * W2[j][k] for j in range(3)) * h[k] * (1 - h[k]) for k in range(2)]
    g = {f"w{1 + 2 * j + k}": dh[j] * x[k] for j in range(2) for k in range(2)}
    g.update({f"w{5 + 2 * j + k}": dz[j] * h[k] for j in range(3) for k in range(2)})
    g.update({"b1": dh[0], "b2": dh[1], "b3": dz[0], "b4": dz[1], "b5": dz[2]})
    return g


def test_softmax_differentiated_elementwise_is_named(examples):
    net = derive.load(examples / "multiclass_2_2_3.toml")
    assert check_gradients(net, student_softmax_gradients, points=3).agree
    report = check_gradients(net, lambda p: student_softmax_gradients(p, diagonal_only=True), points=3)
    assert not report.agree
    assert [(m.mistake.name, m.where) for m in report.mistakes] == [("softmax-diagonal", "output layer 2")]
