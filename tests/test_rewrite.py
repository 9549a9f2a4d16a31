"""derive.check.user_code.mistaken: the derivation recompiled with pieces replaced; unchanged, it must give the right numbers."""

import pytest
import sympy as sp

import derive
import reference
from derive.check.user_code.mistaken import Compiled, Rewrite

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
