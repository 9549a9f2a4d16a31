"""derive.check.user_code.mistaken: the derivation recompiled with pieces replaced; unchanged, it must give the right numbers."""

import math

import numpy as np
import pytest
import sympy as sp

import derive
import reference
import test_mistakes_primitives as primitives     # its independent plain-float backprop
from derive.check.user_code.mistaken import Compiled, Rewrite, numpy_code
from derive.core.primitives import ACTIVATIONS

SPECS = ["mazur_2_2_2", "wikidocs_2_2_2", "seven_2_2_2", "seven_2_1", "dual_layer_2_2_1", "multiclass_2_2_3"]


def leaves(net):
    return net.graph.leaf_values()


@pytest.mark.parametrize("name", SPECS)
def test_no_rewrite_gives_the_independent_reference(examples, name):
    net = derive.load(examples / f"{name}.toml")
    s = net.spec
    _, _, gw, gb = reference.gradients(list(s.layers), list(s.activations), s.loss, list(s.weights),
                                       list(s.biases), s.bias, list(s.inputs), list(s.targets))
    expected = {f"w{i + 1}": g for i, g in enumerate(gw)} | {f"b{i + 1}": g for i, g in enumerate(gb)}
    got = Compiled(net.graph, Rewrite(where=""))(leaves(net))
    assert got.keys() == expected.keys()
    for k in expected:
        assert got[k] == pytest.approx(expected[k], rel=1e-12, abs=1e-15), k


def test_a_rewritten_local_factor_changes_only_what_flows_through_it(examples):
    net = derive.load(examples / "mazur_2_2_2.toml")
    right = Compiled(net.graph, Rewrite(where=""))(leaves(net))
    doubled = Compiled(net.graph, Rewrite(where="", local={("net_o1", "w5"): 2 * sp.Symbol("out_h1", real=True)}))
    got = doubled(leaves(net))
    assert got["w5"] == pytest.approx(2 * right["w5"], rel=1e-14)
    assert all(got[k] == right[k] for k in right if k != "w5")


def test_updated_weights_sends_delta_through_the_stepped_weights(examples):
    net = derive.load(examples / "seven_2_2_2.toml")     # linear: ∂E/∂h1 = Σ yE·w, easy to redo by hand
    v = net.values()
    lr = net.spec.learning_rate
    got = Compiled(net.graph, Rewrite(where="", updated_weights=True))(leaves(net))
    g = net.gradients()
    y1E, y2E = v["y1E"], v["y2E"]
    w5, w7 = 0.40 - lr * g["w5"], 0.50 - lr * g["w7"]    # the weights from h1, already updated
    assert got["w1"] == pytest.approx((y1E * w5 + y2E * w7) * 0.05, rel=1e-12)


# --- activations by their registry kernels; Max, Piecewise and Heaviside as np.where/np.maximum ------

@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_no_rewrite_on_every_activation_gives_the_independent_buggy_code_without_its_bug(name):
    net = primitives.network("tanh", name) if ACTIVATIONS[name].output_only else primitives.network(name, "sigmoid")
    compiled = Compiled(net.graph, Rewrite(where=""))
    assert "functools" not in compiled.source and "np.select" not in compiled.source
    if not ACTIVATIONS[name].coupled:
        assert f"_act_{name}(net_" in compiled.source       # the out computed by the registry's kernel
    expected = primitives.buggy_gradients(net.spec, net.param_values())
    got = compiled(leaves(net))
    assert got.keys() == expected.keys()
    for k in expected:
        assert got[k] == pytest.approx(expected[k], rel=1e-12, abs=1e-15), k


def test_a_relu_net_compiles_and_runs():
    """The known crash: NumPyPrinter wrote relu's Max as functools.reduce(np.maximum, …) (NameError)."""
    net = derive.network([2, 2, 1], ["relu", "relu"], inputs=[0.5, -0.3], targets=[0.7],
                         weights=[0.4, 0.2, -0.3, 0.4, 0.5, -0.6], biases=[0.1, 0.2, 0.3])
    got = Compiled(net.graph, Rewrite(where=""))(leaves(net))
    # by hand: net_h1 = 0.4·0.5 + 0.2·(−0.3) + 0.1 = 0.24 > 0, net_h2 = −0.15 − 0.12 + 0.2 = −0.07 < 0,
    # net_o1 = 0.5·0.24 + 0.3 = 0.42 > 0; δ_o = out_o − t = −0.28; ∂E/∂w5 = δ_o·out_h1, ∂E/∂w1 = δ_o·w5·x1
    assert got["w5"] == pytest.approx(-0.28 * 0.24, rel=1e-12)
    assert got["w1"] == pytest.approx(-0.28 * 0.5 * 0.5, rel=1e-12)
    assert got["w3"] == 0.0 and got["w6"] == 0.0      # h2 is off: nothing flows through it


def test_softmax_by_its_shifted_kernel_does_not_overflow():
    net = derive.network([1, 2], ["softmax"], inputs=[1.0], targets=[0.25, 0.75], weights=[800.0, 799.0], bias="none")
    got = Compiled(net.graph, Rewrite(where=""))(leaves(net))
    a = [1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))]       # softmax(800, 799) = (σ(1), σ(−1))
    t = [0.25, 0.75]
    dz = [sum((a[j] - t[j]) * a[j] * ((i == j) - a[i]) for j in range(2)) for i in range(2)]
    assert got["w1"] == pytest.approx(dz[0], rel=1e-12) and got["w2"] == pytest.approx(dz[1], rel=1e-12)


Z = sp.Symbol("z", real=True)


@pytest.mark.parametrize("expr, at, expected", [
    (sp.Max(0, Z), [-2.0, 0.0, 3.0], [0.0, 0.0, 3.0]),
    (sp.Max(0, Z, 2 * Z), [-2.0, 3.0], [0.0, 6.0]),
    (sp.Min(1, Z), [-2.0, 3.0], [-2.0, 1.0]),
    (sp.Piecewise((Z, Z > 0), (Z / 100, True)), [-2.0, 0.0, 3.0], [-0.02, 0.0, 3.0]),
    (sp.Piecewise((1, Z > 0), (0, True)), [-2.0, 3.0], [0.0, 1.0]),
    (sp.Piecewise((1, Z > 0)), [-2.0, 3.0], [math.nan, 1.0]),
    (sp.Heaviside(Z, 0), [-2.0, 0.0, 3.0], [0.0, 0.0, 1.0]),
    (sp.Heaviside(Z), [0.0], [0.5]),
    (sp.Heaviside(Z - 1, 1), [1.0, 0.5], [1.0, 0.0]),
])
def test_printed_code_works_on_scalars_and_arrays_and_gives_floats(expr, at, expected):
    code = numpy_code(expr)
    assert "functools" not in code and "select" not in code and "heaviside" not in code, code
    f = eval(f"lambda z: {code}", {"np": np})
    got = np.asarray(f(np.array(at)))
    assert got.dtype.kind == "f", code
    np.testing.assert_array_equal(got, expected)
    assert [float(f(x)) for x in at] == pytest.approx(expected, nan_ok=True)
    assert float(f(np.array(at, dtype=np.float32)[0])) == pytest.approx(expected[0], nan_ok=True)
