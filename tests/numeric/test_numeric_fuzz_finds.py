"""What the fuzz campaign (scripts/fuzz.py) found in the numeric stage, each as its reproducer."""

import math
import subprocess
import sys
from pathlib import Path

import pytest

import derive

WIDE_SOFTMAX = """
[network]
layers = [2, 11]
activations = ["softmax"]
loss = "{loss}"
bias = "per_neuron"
[values]
inputs = [-0.303, 0.086]
targets = [{targets}]
weights = [0.088, -0.727, -0.479, 0.813, -0.183, -0.136, -0.985, -0.729, 0.128, 0.639, -0.85, 0.959, 0.15, 0.55,
           0.049, -0.676, 0.864, 0.308, 0.481, -0.367, 0.636, -0.382]
biases = [-0.828, -0.168, -0.595, -0.224, 0.888, -0.188, -0.189, 0.775, -0.409, 0.13, 0.642]
learning_rate = 0.01
"""


def _spec(tmp_path, loss, targets):
    path = tmp_path / f"{loss}.toml"
    path.write_text(WIDE_SOFTMAX.format(loss=loss, targets=", ".join(map(str, targets))))
    return path


def test_a_wide_softmax_with_bce_answers_and_agrees_with_the_complex_step(tmp_path):
    """c02985 (seed 1): the output δ was cancelled as one fraction over all 11 outputs (minutes in
    sympy.cancel). Run in a child so that a regression hangs one process, not the suite's."""
    spec = _spec(tmp_path, "bce", [1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.25, 0.0, 1.0, 1.0])
    code = (f"import derive; r = derive.check_numeric(derive.load({str(spec)!r})); "
            "assert r.ok and all(row.ok for row in r.rows), r; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                          env={"PYTHONPATH": str(Path(derive.__file__).parent.parent), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_a_wide_softmax_with_cross_entropy_keeps_its_stable_delta(tmp_path):
    """Term by term the softmax + cross-entropy δ cancels to out − t: the rewrite that divides by no
    output is still made for every output net (11 of them)."""
    net = derive.load(_spec(tmp_path, "cross_entropy", [0.0] * 10 + [1.0]))
    assert len(net.program.delta_rewrites) == 11
    for symbol, expr in net.program.delta_rewrites.items():
        assert not any(s.name.startswith("out") for s in expr.as_numer_denom()[1].free_symbols)


def test_the_diagnosis_of_a_deep_net_is_bounded_and_says_how_far_it_got(tmp_path, monkeypatch):
    """c06324 (seed 1): check_gradients of a wrong function on a 2-wide, 25-deep net compiled all 2,529
    mistake variants (27 s) before trying one. Singles are now tried lazily within SINGLE_SECONDS; with
    a bound of 0 s none is compiled and the note says 0 of them were tried."""
    from derive.check.user_code import mistakes
    n = 26
    spec = tmp_path / "deep.toml"
    spec.write_text(f"""
[network]
layers = {[2] * n}
activations = {["sigmoid"] * (n - 1)}
[values]
inputs = [0.05, 0.1]
targets = [0.01, 0.99]
weights = {[0.3] * (4 * (n - 1))}
biases = {[0.1] * (2 * (n - 1))}
learning_rate = 0.5
""")
    net = derive.load(spec)
    monkeypatch.setitem(mistakes.diagnose_within.__kwdefaults__, "seconds", 0.0)
    monkeypatch.setitem(mistakes.diagnose_pairs.__kwdefaults__, "seconds", 0.0)
    report = derive.check_gradients(net, lambda p: {k: 1.0 for k in net.trained}, points=1)
    singles = len(mistakes.variants(net.graph))
    assert singles > 2000 and not report.agree
    assert f"(single mistakes: 0 of {singles} tried within the time bound)" in report.notes
    assert mistakes._variant_cache(net.graph)[1] == {}          # nothing compiled past the bound


def test_a_batch_whose_losses_are_plus_and_minus_infinity_is_a_spec_error(tmp_path):
    """c00451 (seed 2): relu output with bce and negative targets: per-sample losses of -inf and +inf
    made math.fsum raise ValueError in Network.reduce (loss() and gradients() of a batch spec)."""
    spec = tmp_path / "b.toml"
    spec.write_text("""
[network]
layers = [2, 1]
activations = ["relu"]
loss = "bce"
bias = "shared"
train_biases = false
[values]
inputs = [[-0.506, -0.489], [0.256, -0.957], [0.795, 0.786], [0.788, -0.414], [0.316, 0.189]]
targets = [[-0.971], [-0.107], [0.616], [-0.263], [0.145]]
weights = [-1.802, -0.037]
biases = [-0.247]
reduction = "sum"
learning_rate = 1.0
""")
    net = derive.load(spec)
    for method in (net.loss, net.gradients):
        with pytest.raises(derive.SpecError, match="finite in float64 for every sample"):
            method()


def test_a_batch_sum_is_exact_and_keeps_infinities():
    from derive.numeric.network import _sum
    assert _sum([1e16, 1.0, -1e16]) == 1.0                       # fsum, exact
    assert _sum([1.0, float("inf")]) == float("inf")
    assert math.isnan(_sum([float("inf"), float("-inf")]))      # fsum raises here
