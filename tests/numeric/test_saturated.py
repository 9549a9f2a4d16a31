"""Saturated outputs (issue 14): sigmoid + bce and softmax + cross-entropy with a weight of 1e4 round the
output to exactly 1 (or 0) in float64, so ∂E/∂out is 0/0 or 1/0 there; the gradient is finite and comes
from the stable δ of the output's net (a − t). Expected numbers: mpmath at 60 digits, differentiating
a forward pass written here from the formulas (no code of derive's)."""

from __future__ import annotations

import math

import mpmath
import pytest

import derive
from derive.cli import main

INPUTS = [1.0, 1.0]
HIDDEN = [0.15, 0.20, 0.25, 0.30]                 # w1..w4: hidden layer, by destination then source


def sigmoid_net(target):
    """2-2-1 sigmoid, bce; w5 = 1e4 drives the output's pre-activation to about 6,700."""
    return dict(layers=[2, 2, 1], activations=["sigmoid", "sigmoid"], loss="bce", inputs=INPUTS,
                targets=[target], weights=HIDDEN + [1e4, 0.45], biases=[0.35, 0.35, 0.6])


def softmax_net(targets):
    """2-2-3 sigmoid then softmax, cross-entropy; out_o1 rounds to 1, out_o2 and out_o3 to 0."""
    return dict(layers=[2, 2, 3], activations=["sigmoid", "softmax"], loss="cross_entropy", inputs=INPUTS,
                targets=targets, weights=HIDDEN + [1e4, 0.45, 0.5, 0.55, 0.1, -0.2],
                biases=[0.35, 0.35, 0.6, 0.1, 0.2])


def mp_loss(spec, params):
    """The loss at `params` (weights then biases) in mpmath: the notes' forward pass and loss, exactly."""
    layers, (w, b) = spec["layers"], (params[:len(spec["weights"])], params[len(spec["weights"]):])
    a, wi, bi = [mpmath.mpf(x) for x in spec["inputs"]], 0, 0
    for k, (n_in, n_out) in enumerate(zip(layers, layers[1:])):
        z = []
        for j in range(n_out):
            z.append(mpmath.fsum(w[wi + j * n_in + i] * a[i] for i in range(n_in)) + b[bi + j])
        wi, bi = wi + n_in * n_out, bi + n_out
        if spec["activations"][k] == "softmax":
            total = mpmath.fsum(mpmath.exp(x) for x in z)
            a = [mpmath.exp(x) / total for x in z]
        else:
            a = [1 / (1 + mpmath.exp(-x)) for x in z]
            rest = [1 / (1 + mpmath.exp(x)) for x in z]    # 1 − σ(z) = σ(−z): no cancellation at 60 digits
    t = [mpmath.mpf(x) for x in spec["targets"]]
    if spec["loss"] == "bce":
        return -mpmath.fsum(ti * mpmath.log(o) + (1 - ti) * mpmath.log(r) for ti, o, r in zip(t, a, rest))
    return -mpmath.fsum(ti * mpmath.log(o) for ti, o in zip(t, a) if ti != 0)


def mp_gradients(spec):
    """∂E/∂p for every parameter by mpmath's differentiation of mp_loss (60 digits), as floats."""
    params = [mpmath.mpf(x) for x in spec["weights"] + spec["biases"]]     # exact: the doubles as given
    names = [f"w{i + 1}" for i in range(len(spec["weights"]))] + [f"b{i + 1}" for i in range(len(spec["biases"]))]
    grads = {}
    with mpmath.workdps(60):
        for k, name in enumerate(names):
            def f(x, k=k):
                return mp_loss(spec, params[:k] + [x] + params[k + 1:])
            grads[name] = float(mpmath.diff(f, params[k]))
    return grads


CASES = [sigmoid_net(1.0), sigmoid_net(0.0), softmax_net([0.0, 1.0, 0.0]), softmax_net([1.0, 0.0, 0.0])]


@pytest.mark.parametrize("spec", CASES, ids=["bce-t1", "bce-t0", "softmax-t2", "softmax-t1"])
def test_saturated_gradients_are_the_exact_ones(spec):
    net = derive.network(**spec)
    expected = mp_gradients(spec)
    got = net.gradients()
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name
    assert net.evaluation.unrepresentable, "∂E/∂out at the saturated output is 0/0 or 1/0 in float64"


def test_bce_output_delta_is_a_minus_t():
    # the closed form: ∂E/∂net_o1 = out_o1 − target_o1 = 1 − 0 at the saturated output
    net = derive.network(**sigmoid_net(0.0))
    values = net.values()
    assert values["out_o1"] == 1.0 and values["delta_net_o1"] == 1.0
    assert not math.isfinite(values["delta_out_o1"])
    assert net.gradients()["w5"] == values["out_h1"]


@pytest.mark.parametrize("spec", CASES[1:3], ids=["bce-t0", "softmax-t2"])
def test_check_numeric_agrees_on_a_saturated_net(spec):
    report = derive.check_numeric(derive.network(**spec))
    assert report.ok
    expected = mp_gradients(spec)
    assert all(r.derived == pytest.approx(expected[r.param], rel=1e-12, abs=1e-12) for r in report.rows)


def _spec_file(tmp_path, spec) -> str:
    body = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in spec.items() if k in ("layers", "activations", "loss"))
    values = "\n".join(f"{k} = {spec[k]!r}" for k in ("inputs", "targets", "weights", "biases"))
    path = tmp_path / "saturated.toml"
    path.write_text(f"[network]\n{body}\n\n[values]\n{values}\n")
    return str(path)


@pytest.mark.parametrize("spec", CASES[1:3], ids=["bce-t0", "softmax-t2"])
def test_saturated_commands_answer(tmp_path, capsys, spec):
    # was exit 2: "delta_out_o1 = nan" (gradients, chain, latex, notes)
    path = _spec_file(tmp_path, spec)
    w5 = f"{mp_gradients(spec)['w5']:.9f}"
    assert main(["gradients", path]) == 0
    assert w5 in capsys.readouterr().out
    assert main(["chain", path, "w5"]) == 0
    out = capsys.readouterr().out
    assert "not representable in float64" in out and out.rstrip().endswith(f"= {w5}")
    assert main(["latex", path, "w5"]) == 0
    assert r"\text{(not representable in float64)}" in capsys.readouterr().out
    assert main(["notes", path, "-o", str(tmp_path / "n.md")]) == 0
    assert "computed in its stable form" in (tmp_path / "n.md").read_text()
    assert main(["check", path, "--numeric"]) == 0
