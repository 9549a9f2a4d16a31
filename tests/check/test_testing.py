"""derive.testing.assert_gradients_match: silent when right, a message that says what is wrong otherwise."""

import re

import numpy as np
import pytest

import derive
import reference
from derive.testing import assert_gradients_match


def reference_gradients(net):
    """Independent gradients (tests/reference.py) as a user's fn(params) for this network."""
    s = net.spec

    def fn(params):
        nw = sum(a * b for a, b in zip(s.layers, s.layers[1:]))
        weights = [params[f"w{i + 1}"] for i in range(nw)]
        biases = [params[f"b{i + 1}"] for i in range(len(s.biases))]
        _, _, gw, gb = reference.gradients(list(s.layers), list(s.activations), s.loss, weights, biases, s.bias,
                                           list(s.inputs), list(s.targets))
        out = {f"w{i + 1}": g for i, g in enumerate(gw)}
        if s.train_biases:
            out.update({f"b{i + 1}": g for i, g in enumerate(gb)})
        return out
    return fn


@pytest.fixture
def net(examples):
    return derive.load(examples / "mazur_2_2_2.toml")


def test_right_code_passes_and_returns_the_report(net):
    report = assert_gradients_match(reference_gradients(net), net, points=5)
    assert report.agree and len(report.points) == 6


def test_a_spec_path_is_accepted(examples, net):
    assert assert_gradients_match(reference_gradients(net), examples / "mazur_2_2_2.toml").agree


def test_failure_names_the_parameter_both_numbers_and_the_tolerance(net):
    right = reference_gradients(net)
    wrong = lambda p: {**right(p), "w6": right(p)["w6"] * 1.001}
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(wrong, net)
    message = str(info.value)
    expected = right(net.param_values())["w6"]
    assert "for 1 of 8 parameters (w6)" in message
    line = next(l for l in message.splitlines() if l.strip().startswith("w6 "))
    derived, got = map(float, re.search(r"derived (\S+), got (\S+);", line).groups())
    assert derived == pytest.approx(expected, rel=1e-12) and got == pytest.approx(expected * 1.001, rel=1e-12)
    tol = 1e-9 + 1e-6 * abs(expected)
    assert f"tolerance {tol:.3g}" in line and "atol 1e-09 + rtol 1e-06" in line
    assert not any(l.strip().startswith(("w1 ", "w5 ", "w7 ")) for l in message.splitlines())


def test_failure_at_a_random_point_shows_the_point(net):
    right = reference_gradients(net)
    wrong = lambda p: {**right(p), "w1": right(p)["w1"] * (1 if p["w1"] == 0.15 else -1)}
    assert_gradients_match(wrong, net)                     # right at the spec's values
    with pytest.raises(AssertionError) as info:
        assert_gradients_match(wrong, net, points=3, seed=2)
    message = str(info.value)
    assert re.search(r"w1 at random point 1: derived .*, got ", message)
    assert re.search(r"random point 1: w1=[-0-9.e]+, w2=", message)


def test_tolerances_are_honoured(net):
    right = reference_gradients(net)
    close = lambda p: {k: v * (1 + 1e-5) for k, v in right(p).items()}
    with pytest.raises(AssertionError):
        assert_gradients_match(close, net)
    assert assert_gradients_match(close, net, rtol=1e-4).agree


def test_a_known_mistake_is_named_in_the_message(net):
    right = reference_gradients(net)
    flipped = lambda p: {k: -v for k, v in right(p).items()}
    with pytest.raises(AssertionError, match=r"diagnosis: flipped-sign: a flipped sign"):
        assert_gradients_match(flipped, net)


def test_user_exceptions_propagate_as_user_code_errors(net):
    def broken(params):
        raise RuntimeError("oops")
    with pytest.raises(derive.UserCodeError, match="raised: RuntimeError: oops"):
        assert_gradients_match(broken, net)


def my_gradients(params):
    """A student's NumPy backprop for file 000's net (biases fixed at 0.35, 0.60), with a planted bug."""
    import numpy as np
    W1 = np.array([[params["w1"], params["w2"]], [params["w3"], params["w4"]]])
    W2 = np.array([[params["w5"], params["w6"]], [params["w7"], params["w8"]]])
    x, t = np.array([0.05, 0.10]), np.array([0.01, 0.99])
    h = 1 / (1 + np.exp(-(W1 @ x + 0.35)))
    o = 1 / (1 + np.exp(-(W2 @ h + 0.60)))
    d_o = (o - t) * o                   # the bug: σ where σ′ belongs; right is (o - t) * o * (1 - o)
    d_h = (W2.T @ d_o) * h * (1 - h)
    grads = [*np.outer(d_h, x).ravel(), *np.outer(d_o, h).ravel()]
    return {f"w{i + 1}": g for i, g in enumerate(grads)}


def test_the_readme_example_finds_a_planted_bug(examples):
    """The docs' property test, as a user writes it: hypothesis draws the weights, the bug is named."""
    from hypothesis import given, settings, strategies as st

    net = derive.load(examples / "mazur_2_2_2.toml")
    weights = st.lists(st.floats(-3, 3), min_size=8, max_size=8)

    @settings(max_examples=20, deadline=None, database=None)
    @given(weights)
    def test_my_gradients(ws):
        at = {**net.param_values(), **{f"w{i + 1}": w for i, w in enumerate(ws)}}
        assert_gradients_match(my_gradients, net, at=at)

    with pytest.raises(AssertionError, match=r"w5 at the given values: (.|\n)*"
                                             r"diagnosis: activation-in-backward \(output layer 2\)"):
        test_my_gradients()


def test_at_must_give_every_parameter(net):
    with pytest.raises(derive.SpecError, match="a value for every parameter"):
        assert_gradients_match(reference_gradients(net), net, at={"w1": 0.1})
    with pytest.raises(derive.SpecError, match="a finite number"):
        assert_gradients_match(reference_gradients(net), net, at={**net.param_values(), "w2": float("inf")})


def relu_family_gradients(params, bug=False):
    """A student's NumPy backprop for the 2-2-1 net below: leaky_relu hidden, softplus output, half SSE.
    With `bug`, the hidden layer's leaky_relu′ (1 or 0.01) is taken as 1 (the derivative forgotten)."""
    W1 = np.array([[params["w1"], params["w2"]], [params["w3"], params["w4"]]])
    W2 = np.array([[params["w5"], params["w6"]]])
    b1, b2 = np.array([params["b1"], params["b2"]]), np.array([params["b3"]])
    x, t = np.array([0.5, -0.3]), np.array([0.7])
    z1 = W1 @ x + b1
    h = np.where(z1 > 0, z1, 0.01 * z1)
    z2 = W2 @ h + b2
    o = np.logaddexp(0, z2)                      # softplus
    d_o = (o - t) / (1 + np.exp(-z2))            # softplus′ = σ
    d_h = (W2.T @ d_o) * (1.0 if bug else np.where(z1 > 0, 1.0, 0.01))
    grads = [*np.outer(d_h, x).ravel(), *np.outer(d_o, h).ravel()]
    return {**{f"w{i + 1}": g for i, g in enumerate(grads)}, "b1": d_h[0], "b2": d_h[1], "b3": d_o[0]}


def test_a_leaky_relu_softplus_net_passes_and_its_forgotten_derivative_is_named():
    net = derive.network([2, 2, 1], ["leaky_relu", "softplus"], inputs=[0.5, -0.3], targets=[0.7],
                         weights=[0.4, 0.2, -0.3, 0.4, 0.5, -0.6], biases=[0.1, -0.2, 0.3])
    assert assert_gradients_match(relu_family_gradients, net, points=5).agree
    with pytest.raises(AssertionError, match=r"diagnosis: missing-derivative \(hidden layer 1\)"):
        assert_gradients_match(lambda p: relu_family_gradients(p, bug=True), net, points=3)
