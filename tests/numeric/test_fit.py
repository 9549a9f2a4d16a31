"""Training on data sets (file 001): every number the notes print, the notes' own classes as an
independent reference, initial weights, dtype, numerical safety, and the `derive fit` command."""

import json
import sys
import tomllib
import warnings

import numpy as np
import pytest

from derive.cli import main
from derive.numeric.data import prepare
from derive.numeric.fit import _sample_losses, initial_params, kernels, run_fit
from derive.core.fitspec import fit_spec_from_dict, load_fit_spec

from conftest import EXAMPLES, ROOT

pytest.importorskip("sklearn", reason="needs the data extra: pip install -e '.[data]'")
sys.path.insert(0, str(EXAMPLES))
import notes_001 as notes001  # noqa: E402  (the notes' classes, transcribed; no derive code)

# Every number file 001 prints for these runs, copied from ../shared/notes/001_*.
NOTES = {
    "file001_diabetes_one_pass": {"W1": 587.8654539985689, "b1": 99.40935564531424},
    "file001_neuron": {"W1": 913.5973364345905, "b1": 123.39414383177204},
    "file001_logistic_neuron": {"accuracy": 0.7982456140350878, "b1": 569.0},
    "file001_single_layer": {"accuracy": 0.9649122807017544, "loss": 20.50999850682708},
    "file001_dual_layer": {"accuracy": 0.956140350877193, "loss": 0.06883682133902377},
    "file001_random_init": {"loss": 0.020966117311711403},
}


@pytest.fixture(scope="module")
def cancer():
    spec = load_fit_spec(EXAMPLES / "file001_dual_layer.toml")
    return prepare(spec.data)


@pytest.mark.parametrize("example", sorted(NOTES))
def test_notes_numbers_reproduced(example):
    result = run_fit(load_fit_spec(EXAMPLES / f"{example}.toml"))
    for name, printed in NOTES[example].items():
        assert result.value(name) == pytest.approx(printed, rel=1e-10), name
    assert result.agrees and len(result.expectations) == len(NOTES[example])


@pytest.mark.parametrize("example", sorted(NOTES))
def test_worked_examples_carry_the_notes_numbers(example):
    expect = tomllib.loads((EXAMPLES / f"{example}.toml").read_text())["expect"]
    assert {k: float(v) for k, v in expect.items()} == NOTES[example]


# print(neuron.w) after LogisticNeuron.fit, as the notes print it (9 significant digits)
LOGISTIC_W = """4.44021200e+03 -1.92885000e+03 2.31902600e+04 4.82700000e+03 1.95098500e+01 -1.11436330e+02
-2.07648288e+02 -7.92234290e+01 2.56121000e+01 1.99302000e+01 -2.43320000e+01 -2.19092700e+02 -7.60099000e+02
-1.49900060e+04 7.47466000e-01 -3.49603630e+01 -5.00837511e+01 -8.96486300e+00 -4.73503200e+00 -1.33099400e+00
4.74971700e+03 -4.81984000e+03 2.12323400e+04 -9.47580000e+03 6.09926000e+00 -4.27425560e+02 -5.99597289e+02
-1.48915810e+02 -4.41484000e+01 -7.82273000e+00"""


def test_logistic_neuron_weights_as_printed():
    result = run_fit(load_fit_spec(EXAMPLES / "file001_logistic_neuron.toml"))
    printed = np.array([float(v) for v in LOGISTIC_W.split()])
    np.testing.assert_allclose(result.params["W1"][:, 0], printed, rtol=5e-9)


def test_digits_multiclass_learns():
    result = run_fit(load_fit_spec(EXAMPLES / "file001_digits_multiclass.toml"))
    assert result.accuracy > 0.9 and result.losses[-1] < result.losses[0] / 10


# --- against the notes' own classes ------------------------------------------------------------

def _fit_spec(**changes):
    base = {"network": {"layers": [30, 10, 1], "activations": ["sigmoid", "sigmoid"], "loss": "bce"},
            "data": {"dataset": "breast_cancer", "test_size": 0.2, "random_state": 0, "scale": "standard"},
            "fit": {"epochs": 40, "report_loss": "mean", "loss_clip": 1e-10}}
    for table, values in changes.items():
        base[table] = {**base.get(table, {}), **values}
    return fit_spec_from_dict(base)


@pytest.mark.parametrize("init, cls", [("ones", notes001.DualLayer), ("normal", notes001.RandomInitNetwork)])
def test_full_batch_equals_the_notes_dual_layer(cancer, init, cls):
    result = run_fit(_fit_spec(init={"weights": init, "seed": 0}), data=cancer)
    theirs = cls()
    theirs.fit(cancer.X_train, cancer.Y_train.ravel(), epochs=40)
    np.testing.assert_allclose(result.params["W1"], theirs.w1, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(result.params["b1"][0], theirs.b1, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(result.params["W2"], theirs.w2, rtol=1e-11)
    np.testing.assert_allclose(result.params["b2"][0, 0], theirs.b2, rtol=1e-11)
    np.testing.assert_allclose(result.losses, theirs.losses, rtol=1e-12)


def test_per_sample_shuffled_equals_the_notes_single_layer(cancer):
    spec = _fit_spec(network={"layers": [30, 1], "activations": ["sigmoid"]},
                     fit={"epochs": 3, "updates": "per_sample", "shuffle": True, "seed": 7})
    result = run_fit(spec, data=cancer)
    np.random.seed(7)
    theirs = notes001.SingleLayer()
    theirs.fit(cancer.X_train, cancer.Y_train.ravel(), epochs=3)
    np.testing.assert_allclose(result.params["W1"][:, 0], theirs.w, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(result.losses, theirs.losses, rtol=1e-11)


def test_summed_loss_and_no_averaging(cancer):
    spec = _fit_spec(network={"layers": [30, 1], "activations": ["sigmoid"]},
                     fit={"epochs": 5, "report_loss": "sum", "average": False, "learning_rate": 0.01})
    result = run_fit(spec, data=cancer)
    X, y = cancer.X_train, cancer.Y_train
    w, b = np.ones((30, 1)), 0.0
    for _ in range(5):                          # Σ over samples (no 1/m), lr 0.01, written out
        a = 1 / (1 + np.exp(-(X @ w + b)))
        w, b = w - 0.01 * X.T @ (a - y), b - 0.01 * np.sum(a - y)
    np.testing.assert_allclose(result.params["W1"], w, rtol=1e-11)
    a = np.clip(a, 1e-10, 1 - 1e-10)
    assert result.loss == pytest.approx(np.sum(-(y * np.log(a) + (1 - y) * np.log(1 - a))), rel=1e-12)


def test_multiclass_bias_gradient_differs_from_the_notes_class():
    """The notes' MultiClassNetwork sums b2's gradient over samples *and* classes: always 0 with softmax.
    derive trains b2 per class; with that one line fixed, the notes' class and derive agree."""
    spec = load_fit_spec(EXAMPLES / "file001_digits_multiclass.toml")
    data = prepare(spec.data)
    result = run_fit(spec, data=data, epochs=15)
    theirs = notes001.MultiClassNetwork(units=100)
    theirs.fit(data.X_train, data.Y_train, epochs=15)
    assert np.abs(theirs.b2).max() < 1e-12 and np.abs(result.params["b2"]).max() > 1e-3

    class Fixed(notes001.MultiClassNetwork):
        def backprop(self, x, err):
            w1, b1, w2, _ = super().backprop(x, err)
            return w1, b1, w2, np.sum(err, axis=0) / len(x)

    fixed = Fixed(units=100)
    fixed.fit(data.X_train, data.Y_train, epochs=15)
    np.testing.assert_allclose(result.params["W2"], fixed.w2, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(result.params["b2"][0], fixed.b2, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(result.losses, fixed.losses, rtol=1e-10)


def test_normal_init_follows_the_notes_call_order():
    spec = _fit_spec(init={"weights": "normal", "seed": 0})
    params = initial_params(spec)
    np.random.seed(0)
    w1 = np.random.normal(0, 1, (30, 10))
    w2 = np.random.normal(0, 1, (10, 1))
    np.testing.assert_array_equal(params["W1"], w1)
    np.testing.assert_array_equal(params["W2"], w2)
    assert not params["b1"].any() and params["b1"].shape == (1, 10)


# --- dtype and numerical safety ----------------------------------------------------------------

def test_float32_end_to_end():
    spec = _fit_spec(fit={"epochs": 20, "dtype": "float32"})
    result = run_fit(spec)
    assert all(p.dtype == np.float32 for p in result.params.values())
    reference = run_fit(_fit_spec(fit={"epochs": 20}))
    np.testing.assert_allclose(result.params["W2"], reference.params["W2"], rtol=1e-4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activations_and_losses_never_overflow(dtype):
    Z = np.array([[-1e4, 0.0, 1e4], [3e3, -3e3, 1.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = kernels()["_act_sigmoid"](Z.copy())       # the registry's kernels, as the generated step calls them
        s = kernels()["_act_softmax"](Z)
        Y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=dtype)
        for loss, A in (("bce", a), ("cross_entropy", s)):
            values = _sample_losses(Z, A, Y, loss)
            assert np.isfinite(values).all() and values.dtype == dtype
    assert a.dtype == s.dtype == dtype and np.isfinite(a).all() and np.isfinite(s).all()
    assert (a >= 0).all() and a[0, 2] == 1 and np.allclose(s.sum(axis=1), 1)
    # y = 1 everywhere: softplus(−z) = 1e4 + log 2 + 0 for z = (−1e4, 0, 1e4), not inf from log(σ(−1e4))
    assert _sample_losses(Z, a, np.ones_like(Z), "bce")[0] == pytest.approx(1e4 + np.log(2), rel=1e-6)


# --- the command line --------------------------------------------------------------------------

def test_fit_command_json(capsys):
    assert main(["fit", str(EXAMPLES / "file001_single_layer.toml"), "--json"]) == 0
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["accuracy"] == 0.9649122807017544 and len(run["losses"]) == 1000
    assert run["loss"] == pytest.approx(20.50999850682708, rel=1e-10)
    assert [e["ok"] for e in run["expect"]] == [True, True] and run["n_train"] == 455


def test_fit_command_text_and_epochs_override(capsys):
    assert main(["fit", str(EXAMPLES / "file001_diabetes_one_pass.toml")]) == 0
    out = capsys.readouterr().out
    assert "W1 = 587.86545399856" in out and "ok" in out
    assert main(["fit", str(EXAMPLES / "file001_diabetes_one_pass.toml"), "--epochs", "2"]) == 1   # no longer the notes'
    assert "MISMATCH" in capsys.readouterr().out


def test_fit_command_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "losses.png"
    args = ["fit", str(EXAMPLES / "file001_single_layer.toml"), str(EXAMPLES / "file001_single_layer.toml"),
            "--epochs", "30", "--plot", str(png), "--json"]
    assert main(args) == 1                     # 30 epochs: the notes' 1000-epoch numbers disagree
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert len(json.loads(capsys.readouterr().out)["runs"]) == 2


@pytest.mark.parametrize("text, key", [
    ('[network]\nlayers = [30, 1]\nactivations = ["sigmoid"]\nloss = "bce"\n[data]\ndataset = "iris"\n', "data.dataset"),
    ('[network]\nlayers = [3, 1]\nactivations = ["sigmoid"]\nloss = "bce"\n[data]\ndataset = "breast_cancer"\n',
     "network.layers[0]"),
    ('[network]\nlayers = [30, 1]\nactivations = ["sigmoid"]\nloss = "bce"\n[data]\ndataset = "breast_cancer"\n'
     '[fit]\nepochs = -3\n', "fit.epochs"),
])
def test_fit_command_bad_spec_one_line_exit_2(tmp_path, capsys, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["fit", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and key in err and "Traceback" not in err


@pytest.mark.parametrize("args, expected", [
    (["--lr", "5", "--epochs", "3"], "training diverged"),
    (["--lr", "nan"], "--lr: expected a finite number"),
    (["--epochs", "0"], "--epochs: expected a whole number"),
])
def test_fit_command_divergence_and_bad_options_one_line_exit_2(capsys, args, expected):
    assert main(["fit", str(EXAMPLES / "file001_neuron.toml"), *args, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and expected in captured.err
