"""The chain rule: paths as the notes write them, closed-form factors, and three views proved equal."""

import pytest
import sympy as sp

import derive
from derive.core.primitives import ACTIVATIONS

FILE_000_W1 = [
    [["E_o1", "out_o1"], ["out_o1", "net_o1"], ["net_o1", "out_h1"], ["out_h1", "net_h1"], ["net_h1", "w1"]],
    [["E_o2", "out_o2"], ["out_o2", "net_o2"], ["net_o2", "out_h1"], ["out_h1", "net_h1"], ["net_h1", "w1"]],
]


def pairs(d):
    return [[f.as_pair() for f in path] for path in d.paths]


def test_file_000_w1_has_the_notes_two_paths_of_five_factors(examples):
    net = derive.load(examples / "mazur_2_2_2.toml")
    assert pairs(net.derivation("w1")) == FILE_000_W1


@pytest.mark.parametrize("param, source, outputs", [("w2", "i2", ["o1", "o2"]), ("w3", "i1", ["o1", "o2"]),
                                                     ("w4", "i2", ["o1", "o2"])])
def test_file_000_hidden_weights_two_paths(examples, param, source, outputs):
    d = derive.load(examples / "mazur_2_2_2.toml").derivation(param)
    assert len(d.paths) == 2
    assert [p[0].num for p in d.paths] == [f"E_{o}" for o in outputs]
    assert all(p[-1].as_pair()[1] == param for p in d.paths)
    assert all(p[-1].closed == sp.Symbol(source, real=True) for p in d.paths)


@pytest.mark.parametrize("param, out, hidden", [("w5", "o1", "h1"), ("w6", "o1", "h2"), ("w7", "o2", "h1"),
                                                ("w8", "o2", "h2")])
def test_file_000_output_weights_one_path(examples, param, out, hidden):
    d = derive.load(examples / "mazur_2_2_2.toml").derivation(param)
    assert pairs(d) == [[[f"E_{out}", f"out_{out}"], [f"out_{out}", f"net_{out}"], [f"net_{out}", param]]]
    # ∂net_o1/∂w5 = out_h1 (the notes: ∂net_o1/∂w_n = out_h(n−4))
    assert d.paths[0][-1].closed == sp.Symbol(f"out_{hidden}", real=True)


def test_closed_forms_are_the_notes(examples):
    d = derive.load(examples / "mazur_2_2_2.toml").derivation("w1")
    o1, t1, h1 = sp.symbols("out_o1 target_o1 out_h1", real=True)
    closed = [f.closed for f in d.paths[0]]
    assert sp.simplify(closed[0] - (-(t1 - o1))) == 0
    assert sp.simplify(closed[1] - o1 * (1 - o1)) == 0
    assert closed[2] == sp.Symbol("w5", real=True)
    assert sp.simplify(closed[3] - h1 * (1 - h1)) == 0


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "identity"])
def test_activation_local_derivative_is_its_derivative(name):
    x = sp.Symbol("x", real=True)
    rule = ACTIVATIONS[name]
    out = rule.forward([x])[0]
    closed = rule.local([out], [x], 0, 0)     # in terms of out, e.g. out(1 − out)
    assert sp.simplify(sp.diff(out, x) - closed) == 0


def test_softmax_jacobian_is_its_derivative():
    zs = sp.symbols("z1:4", real=True)
    rule = ACTIVATIONS["softmax"]
    outs = rule.forward(zs)
    for j in range(3):
        for i in range(3):
            assert sp.simplify(sp.diff(outs[j], zs[i]) - rule.local(outs, zs, j, i)) == 0


SMALL = [
    ("mazur_2_2_2.toml", None),
    ("wikidocs_2_2_2.toml", None),
    ("seven_2_2_2.toml", None),
    ("seven_2_2.toml", None),
]


@pytest.mark.parametrize("example, _", SMALL)
def test_path_sum_equals_delta_form_equals_diff(examples, example, _):
    net = derive.load(examples / example)
    for param in net.trained:
        d = net.derivation(param)
        reference = d.reference()
        proof = derive.prove_equal(net.backprop.to_leaves(d.path_sum), reference)
        assert proof.holds and proof.method == ("cancel" if example.startswith("seven") else "simplify")
        assert derive.prove_equal(d.expanded, reference).holds


@pytest.mark.parametrize("acts, loss, bias", [
    (["tanh", "softmax"], "cross_entropy", "per_neuron"),
    (["relu", "sigmoid"], "bce", "shared"),
    (["sigmoid", "identity"], "mse", "none"),
])
def test_views_agree_for_other_activations_and_losses(acts, loss, bias):
    nb = {"per_neuron": 5, "shared": 2, "none": 0}[bias]
    net = derive.network([2, 3, 2], acts, inputs=[0.3, -0.2], targets=[0.2, 0.8], weights=[0.1] * 12,
                         biases=[0.1] * nb, loss=loss, bias=bias)
    for param in net.trained:
        d = net.derivation(param)
        reference = d.reference()
        assert derive.prove_equal(net.backprop.to_leaves(d.path_sum), reference, symbolic=False).holds
        assert derive.prove_equal(d.expanded, reference, symbolic=False).holds


def test_softmax_cross_entropy_delta_is_output_minus_target():
    net = derive.network([2, 3], ["softmax"], inputs=[0.3, -0.2], targets=[0.2, 0.3, 0.5], weights=[0.1] * 6,
                         biases=[0.0] * 3, loss="cross_entropy")
    bp = net.backprop
    for j in range(3):
        a, z = f"out_o{j + 1}", f"net_o{j + 1}"
        delta = bp.expanded_deltas[bp.ref(z)]
        # with t1 + t2 + t3 = 1, ∂L/∂z_j = −(t_j − a_j) (file 001)
        ts = sp.symbols("target_o1:4", real=True)
        delta = delta.subs(ts[2], 1 - ts[0] - ts[1])
        expected = sp.Symbol(a, real=True) - (ts[j] if j < 2 else 1 - ts[0] - ts[1])
        assert sp.simplify(delta - expected) == 0


def test_seven_deltas_are_the_seven_formulas(examples):
    net = derive.load(examples / "seven_2_2_2.toml")
    bp = net.backprop
    y1E, y2E, w5, w7 = sp.symbols("y1E y2E w5 w7", real=True)
    assert bp.deltas["h1"].definition == y1E * w5 + y2E * w7       # h1E = y1E·w5 + y2E·w7
    assert net.derivation("w1").delta_form == sp.Symbol("h1E", real=True) * sp.Symbol("x1", real=True)
    assert net.derivation("b3").delta_form == y1E                   # b3E = y1E·1


def test_derivation_does_not_enumerate_paths(examples):
    # 8 layers of width 4 have 4**7 paths to a first-layer weight; the δ form must not walk them.
    layers = [4] * 9
    n_w = sum(a * b for a, b in zip(layers, layers[1:]))
    net = derive.network(layers, ["sigmoid"] * 8, inputs=[0.1] * 4, targets=[0.5] * 4, weights=[0.1] * n_w,
                         biases=[0.0] * 32)
    assert len(net.backprop.deltas) == 4 + 2 * 4 * 8 - 0   # inputs + (net, out) per neuron
    d = net.derivation("w1")
    assert len(d.delta_form.free_symbols) == 2
    assert "paths" not in d.__dict__     # cached_property never computed


def test_prove_uses_simplify_on_small_nets_and_says_when_it_does_not(examples):
    small = derive.load(examples / "mazur_2_2_2.toml").derivation("w1").prove(symbolic=True)
    assert all(p.holds and p.method == "simplify" for p in small.values())
    big = derive.load(examples / "forward_3_layer.toml").derivation("w1")
    assert all(p.holds and p.method == "structural" for p in big.prove().values())      # exact, by default
    checked = big.prove(symbolic=False)          # numeric: "checked at 5 points", never "proved"
    assert all(p.holds and p.method == "checked at 5 points" for p in checked.values())


def test_prove_catches_a_wrong_expression():
    x = sp.Symbol("x", real=True)
    assert not derive.prove_equal(sp.exp(x) / (1 + sp.exp(x)) ** 2, sp.exp(x) / (1 + sp.exp(x)))
    assert not derive.prove_equal(x**2, x**2 * (1 + sp.Float(1e-9)), symbolic=False)


# --- the structural proof (issue 11) ---------------------------------------------------------------

STRUCTURAL_NETS = {
    "relu-sigmoid bce": (["relu", "sigmoid"], "bce", "shared"),
    "leaky-softmax ce": (["leaky_relu", "softmax"], "cross_entropy", "per_neuron"),
    "softplus-tanh mse": (["softplus", "tanh"], "mse", "none"),
    "tanh-identity half_sse": (["tanh", "identity"], "half_sse", "per_neuron"),
}


def _net_232(acts, loss, bias):
    nb = {"per_neuron": 5, "shared": 2, "none": 0}[bias]
    return derive.network([2, 3, 2], acts, inputs=[0.3, -0.2], targets=[0.2, 0.8],
                          weights=[0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.2, -0.1, 0.3, 0.5, -0.4, 0.1],
                          biases=[0.1] * nb, loss=loss, bias=bias)


@pytest.mark.parametrize("name", sorted(STRUCTURAL_NETS))
def test_structural_proof_holds_and_agrees_with_points(name):
    """Exact for every parameter; the independent numeric comparison with sympy.diff agrees."""
    net = _net_232(*STRUCTURAL_NETS[name])
    for param in net.trained:
        d = net.derivation(param)
        proofs = d.prove()
        assert all(p.holds and p.method == "structural" and p.exact for p in proofs.values()), (param, proofs)
        checked = d.prove(symbolic=False)
        assert all(p.holds and p.method == "checked at 5 points" and not p.exact for p in checked.values())


def test_structural_proof_fails_on_a_wrong_local_derivative(examples):
    """σ′ written out(1 + out) instead of out(1 − out): the local check against sympy.diff fails."""
    net = derive.load(examples / "mazur_2_2_2.toml")
    out, node = sp.Symbol("out_o1", real=True), net.graph.nodes["out_o1"]
    node.local["net_o1"] = out * (1 + out)
    assert not net.derivation("w5").prove()["delta form = diff"].holds


def test_structural_proof_fails_on_a_wrong_delta(examples):
    """δ_net_h1 defined with w6 where w5 belongs: not the chain rule's recursion."""
    net = derive.load(examples / "mazur_2_2_2.toml")
    bp = net.backprop
    d = bp.deltas["out_h1"]
    w5, w6 = sp.symbols("w5 w6", real=True)
    bp.deltas["out_h1"] = type(d)(d.node, d.symbol, d.definition.xreplace({w5: w6}))
    assert not net.derivation("w1").prove()["delta form = diff"].holds
    assert net.derivation("w5").prove()["delta form = diff"].holds      # w5's δ form does not reach out_h1


def test_structural_proof_fails_on_a_wrong_path(examples):
    """A path with a factor that is not the graph's local derivative: the path sum is not the δ form."""
    net = derive.load(examples / "mazur_2_2_2.toml")
    d = net.derivation("w1")
    first = d.paths[0]
    wrong = (derive.core.derivation.Factor(first[0].num, first[0].den, sp.S(2) * first[0].closed),) + first[1:]
    d.__dict__["paths"] = (wrong,) + d.paths[1:]
    assert not d.prove()["path sum = diff"].holds


def test_structural_proof_says_where_a_kink_is_involved(examples):
    relu = _net_232(["relu", "sigmoid"], "bce", "shared")
    assert "kink" in relu.derivation("w1").prove()["delta form = diff"].detail        # through relu's step
    assert "kink" not in relu.derivation("w7").prove()["delta form = diff"].detail    # output layer: sigmoid only
    assert "kink" not in derive.load(examples / "mazur_2_2_2.toml").derivation("w1").prove()["path sum = diff"].detail


def test_a_proof_is_remembered(monkeypatch):
    """prove_equal's answer depends on its expressions alone: the same identity is not simplified twice."""
    import derive.core.proof as proof
    x = sp.Symbol("x_remembered", real=True)
    a, b = sp.exp(x) * (1 - sp.exp(x) / (1 + sp.exp(x))), sp.exp(x) / (1 + sp.exp(x))
    calls = []
    simplify = sp.simplify
    monkeypatch.setattr(proof.sp, "simplify", lambda e: calls.append(e) or simplify(e))
    first, again = derive.prove_equal(a, b), derive.prove_equal(a, b)
    assert first == again and first.holds and first.method == "simplify" and len(calls) == 1
    assert not derive.prove_equal(a, b + x).holds and len(calls) == 2          # another pair: proved anew
