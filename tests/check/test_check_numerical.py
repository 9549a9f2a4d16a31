"""Gradients against central differences, Richardson and the complex step: the derivation passes,
planted errors (slightly scaled, two entries swapped, one sign flipped) fail and are named.

The references are checked against tests/reference.py (plain floats, no derive code).
"""

import json
import math

import numpy as np
import pytest

import derive
import reference as ref
from derive.check.numerical import COMPLEX_RUNTIME, check_numeric, tolerances
from derive.cli import main

MAZUR = dict(layers=[2, 2, 2], activations=["sigmoid", "sigmoid"], inputs=[0.05, 0.10], targets=[0.01, 0.99],
             weights=[0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55], biases=[0.35, 0.60], bias="shared")


@pytest.fixture(scope="module")
def mazur():
    return derive.network(**MAZUR)


@pytest.fixture(scope="module")
def mazur_reference():
    m = MAZUR
    _, _, gw, gb = ref.gradients(m["layers"], m["activations"], "half_sse", m["weights"], m["biases"], "shared",
                                 m["inputs"], m["targets"])
    return dict(zip([f"w{i}" for i in range(1, 9)] + ["b1", "b2"], gw + gb))


def test_complex_step_and_differences_equal_an_independent_computation(mazur, mazur_reference):
    report = check_numeric(mazur, richardson=True)
    assert report.ok and not report.notes
    for row in report.rows:
        expected = mazur_reference[row.param]
        assert row.complex_step == pytest.approx(expected, rel=1e-13)
        assert row.richardson == pytest.approx(expected, rel=1e-9)
        assert row.central == pytest.approx(expected, rel=1e-7)
        assert row.reference == "complex step"


NOTES_EXAMPLES = ["mazur_2_2_2", "wikidocs_2_2_2", "forward_3_layer", "seven_1_1", "seven_2_1", "seven_2_2",
                  "seven_2_2_2", "seven_2_3", "seven_3_2"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_worked_example_passes(examples, dtype):
    for name in NOTES_EXAMPLES:
        spec = examples / f"{name}.toml"
        report = check_numeric(derive.load(spec), dtype=dtype, richardson=True)
        assert report.ok, (spec.name, report.failures)


def test_slightly_scaled_gradient_is_named(mazur, mazur_reference):
    grads = dict(mazur_reference)
    grads["w6"] *= 1 + 1e-7
    report = check_numeric(mazur, grads)
    assert report.failures == ["w6"]
    assert check_numeric(mazur, mazur_reference).ok


def test_all_scaled_gradients_fail(mazur, mazur_reference):
    grads = {k: v * 1.001 for k, v in mazur_reference.items()}
    assert check_numeric(mazur, grads).failures == list(grads)


def test_two_swapped_entries_are_named(mazur, mazur_reference):
    grads = dict(mazur_reference)
    grads["w5"], grads["w7"] = grads["w7"], grads["w5"]
    assert check_numeric(mazur, grads).failures == ["w5", "w7"]


def test_one_flipped_sign_is_named(mazur, mazur_reference):
    grads = dict(mazur_reference)
    grads["w3"] = -grads["w3"]
    report = check_numeric(mazur, grads)
    assert report.failures == ["w3"]
    row = next(r for r in report.rows if r.param == "w3")
    assert row.rel_error == pytest.approx(2.0) and not row.ok   # |g − (−g)| / |g|


@pytest.mark.parametrize("method, planted", [("float32", 1e-2), ("richardson", 1e-6)])
def test_planted_errors_found_by_the_weaker_references(mazur, mazur_reference, method, planted):
    grads = dict(mazur_reference)
    grads["w5"] *= 1 + planted
    kwargs = {"dtype": "float32"} if method == "float32" else {"richardson": True}
    assert check_numeric(mazur, grads, **kwargs).failures == ["w5"]


def relu_net():
    return derive.network([2, 3, 1], ["relu", "identity"], inputs=[0.5, -1.0], targets=[0.3],
                          weights=[0.4, -0.2, -0.3, 0.8, 0.5, 0.1, 0.7, -0.6, 0.9], biases=[0.1, 0.0, 0.2, -0.1])


def test_relu_falls_back_to_differences_with_a_note():
    net = relu_net()
    report = check_numeric(net, richardson=True)
    assert report.ok
    assert report.notes and "relu" in report.notes[0]
    assert all(r.complex_step is None and r.reference == "Richardson" for r in report.rows)
    layers, acts = [2, 3, 1], ["relu", "identity"]
    _, _, gw, gb = ref.gradients(layers, acts, "half_sse", list(net.spec.weights), list(net.spec.biases),
                                 "per_neuron", [0.5, -1.0], [0.3])
    for row, expected in zip(report.rows, gw + gb):
        assert row.derived == pytest.approx(expected, rel=1e-12, abs=1e-15)
    flipped = dict(zip(net.params, gw + gb))
    flipped["w7"] = -flipped["w7"]
    assert check_numeric(net, flipped).failures == ["w7"]


def test_complex_runtime_is_analytic_and_does_not_overflow():
    sig = COMPLEX_RUNTIME["_act_sigmoid"]
    for x in [-800.0, -30.0, -1.0, 0.0, 2.0, 40.0, 800.0]:
        h = 1e-30
        value = sig(np.complex128(complex(x, h)))
        exact = 1 / (1 + math.exp(-x)) if x > -700 else 0.0
        assert np.real(value) == pytest.approx(exact, rel=1e-15, abs=1e-300)
        s = exact
        assert np.imag(value) / h == pytest.approx(s * (1 - s), rel=1e-12, abs=1e-16)
    big = derive.network([1, 1], ["sigmoid"], inputs=[1.0], targets=[0.0], weights=[60.0], biases=[0.0])
    report = check_numeric(big)
    assert report.ok and all(math.isfinite(r.complex_step) for r in report.rows)


def test_tolerances_know_their_dtype():
    r64, a64 = tolerances("central difference", "float64", 0.3)
    r32, a32 = tolerances("central difference", "float32", 0.3)
    assert r32 > 1e4 * r64 and a32 > 1e4 * a64
    assert tolerances("complex step", "float64", 0.3)[0] < 1e-11
    assert tolerances("Richardson", "float64", 0.3)[0] < r64


def test_bad_gradient_names_are_refused(mazur):
    with pytest.raises(derive.SpecError, match="w9"):
        check_numeric(mazur, {"w9": 1.0})


def test_cli_numeric_json(examples, capsys):
    assert main(["check", str(examples / "wikidocs_2_2_2.toml"), "--numeric", "--richardson", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"checks", "numeric"}
    numeric = data["numeric"]
    assert numeric["agree"] is True and numeric["dtype"] == "float64"
    row = numeric["params"]["w5"]
    assert {"derived", "central", "complex_step", "richardson", "abs_error", "rel_error", "rtol", "atol", "ok"} <= set(row)
    assert row["complex_step"] == pytest.approx(0.0259228556036474, rel=1e-13)


def test_cli_numeric_text_without_hand_table(examples, capsys):
    assert main(["check", str(examples / "mazur_2_2_2.toml"), "--numeric"]) == 0
    out = capsys.readouterr().out
    assert "no [hand] table" in out and "complex step" in out and "all agree" in out


# --- property: on any small network the derivation agrees with the complex step, and a planted
# --- error in one gradient is found and named -----------------------------------------------------
from hypothesis import HealthCheck, given, settings, strategies as st   # noqa: E402


@st.composite
def small_networks(draw):
    layers = draw(st.lists(st.integers(1, 3), min_size=2, max_size=4))
    acts = [draw(st.sampled_from(["sigmoid", "tanh", "identity"])) for _ in layers[1:]]
    loss = draw(st.sampled_from(["half_sse", "mse", "cross_entropy"]))
    if loss == "cross_entropy":
        acts[-1] = "softmax"
    n_w = sum(a * b for a, b in zip(layers, layers[1:]))
    n_b = sum(layers[1:])
    num = st.floats(-2, 2, allow_nan=False)
    return derive.network(layers, acts, inputs=draw(st.lists(num, min_size=layers[0], max_size=layers[0])),
                          targets=draw(st.lists(st.floats(0, 1), min_size=layers[-1], max_size=layers[-1])),
                          weights=draw(st.lists(num, min_size=n_w, max_size=n_w)),
                          biases=draw(st.lists(num, min_size=n_b, max_size=n_b)), loss=loss)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=small_networks(), pick=st.integers(0, 10**6))
def test_derivation_passes_and_a_planted_error_is_named(net, pick):
    report = check_numeric(net)
    assert report.ok, report.failures
    grads = {r.param: r.derived for r in report.rows}
    big = [p for p, g in grads.items() if abs(g) > 1e-6]
    if big:
        victim = big[pick % len(big)]
        grads[victim] *= 1.0001
        assert check_numeric(net, grads).failures == [victim]
