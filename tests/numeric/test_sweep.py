"""Sweeps: N copies in lock-step equal N single runs; batches against an independent float loop."""

import json

import numpy as np
import pytest
from hypothesis import given, reject, settings, strategies as st

import derive
import reference
from budget import draws
from derive.cli import main
from derive.numeric.sweep import parse_lrs, sweep, train_copies
from derive.numeric.train import Diverged
from test_train import random_nets


def load(examples, name):
    return derive.load(examples / f"{name}.toml")


def test_notes_learning_rate_comparison_is_one_sweep(examples):
    r = sweep(load(examples, "seven_1_1"), lrs=[0.05, 0.01, 0.005], epochs=2000, stop_below=1e-7)
    assert r.stopped_at_epoch.tolist() == [31, 172, 349]
    assert r.epochs_run.tolist() == [32, 173, 350]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("example", ["seven_2_2", "mazur_2_2_2", "seven_2_2_2"])
def test_sweep_of_n_copies_equals_n_single_runs(examples, example, dtype):
    net = load(examples, example)
    lrs = [0.3, 0.05, 0.01, 0.002] if example == "mazur_2_2_2" else [0.02, 0.01, 0.005, 0.001]
    stop = 1e-3 if example == "mazur_2_2_2" else 1e-7
    r = sweep(net, lrs=lrs, epochs=700, stop_below=stop, dtype=dtype)
    for k, lr in enumerate(lrs):
        single = net.train(epochs=700, lr=lr, stop_below=stop, dtype=dtype)
        assert r.stopped_at_epoch[k] == (-1 if single.stopped_at_epoch is None else single.stopped_at_epoch)
        tol = 1e-6 if dtype == "float32" else 1e-12      # NumPy's exp against math.exp: last bits
        assert r.loss[k] == pytest.approx(single.loss, rel=tol)
        for name, value in single.params.items():
            assert r.params[name][k] == pytest.approx(value, rel=tol, abs=tol), (k, name)
        assert r.outputs[k].tolist() == pytest.approx(single.outputs, rel=1e-6 if dtype == "float32" else 1e-15)


@settings(max_examples=draws(15), deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_random_starts_equal_single_runs(seed, copies):
    net = derive.load("worked_examples/seven_2_1.toml")
    r = sweep(net, copies=copies, seed=seed, scale=2.0, epochs=120, stop_below=1e-7)
    for k in range(copies):
        start = {p: float(r_init) for p, r_init in zip(net.trained, _init(seed, copies, net, 2.0, k))}
        spec = net.spec
        single = derive.network(spec.layers, spec.activations, inputs=spec.inputs, targets=spec.targets,
                                weights=[start[f"w{i + 1}"] for i in range(len(spec.weights))],
                                biases=[start[f"b{i + 1}"] for i in range(len(spec.biases))], loss=spec.loss,
                                notation=spec.notation).train(epochs=120, lr=spec.learning_rate, stop_below=1e-7)
        assert r.stopped_at_epoch[k] == (-1 if single.stopped_at_epoch is None else single.stopped_at_epoch)
        assert {p: r.params[p][k] for p in net.params} == single.params


def _init(seed, copies, net, scale, k):
    rng = np.random.default_rng(seed)
    draws = {p: rng.uniform(-scale, scale, copies) for p in net.trained}
    return [draws[p][k] for p in net.trained]


def test_numba_backend_equals_numpy(examples):
    pytest.importorskip("numba")
    net = load(examples, "mazur_2_2_2")
    a = sweep(net, copies=5, seed=3, epochs=300, stop_below=0.05)
    b = sweep(net, copies=5, seed=3, epochs=300, stop_below=0.05, backend="numba")
    assert a.stopped_at_epoch.tolist() == b.stopped_at_epoch.tolist()
    for p in net.params:
        np.testing.assert_allclose(a.params[p], b.params[p], rtol=1e-12)


# --- batches: an independent plain-float loop over samples (tests/reference.py) ----------------

LAYERS, ACTS, LOSS, BIAS = [2, 2, 2], ["sigmoid", "sigmoid"], "half_sse", "per_neuron"
X = [[0.05, 0.10], [0.3, -0.2], [0.9, 0.4], [-0.5, 0.7], [0.1, 0.1]]
T = [[0.01, 0.99], [0.2, 0.6], [0.9, 0.1], [0.4, 0.4], [0.7, 0.3]]


def reference_batches(weights, biases, lr, epochs, batch, mean):
    """Plain floats: per epoch, batches in order; the batch's gradients summed (or averaged), then one step."""
    w, b, epoch_losses = list(weights), list(biases), []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, len(X), batch):
            gw, gb = [0.0] * len(w), [0.0] * len(b)
            rows = range(start, min(start + batch, len(X)))
            for i in rows:
                E, _, dw, db = reference.gradients(LAYERS, ACTS, LOSS, w, b, BIAS, X[i], T[i])
                total += E
                gw = [g + d for g, d in zip(gw, dw)]
                gb = [g + d for g, d in zip(gb, db)]
            scale = 1 / len(rows) if mean else 1.0
            w = [v - lr * g * scale for v, g in zip(w, gw)]
            b = [v - lr * g * scale for v, g in zip(b, gb)]
        epoch_losses.append(total / len(X) if mean else total)
    return w, b, epoch_losses[-1]


@pytest.mark.parametrize("batch", [1, 2, 5])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_batches_against_plain_float_loop(batch, reduction):
    weights = [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]
    biases = [0.35, 0.35, 0.60, 0.60]
    net = derive.network(LAYERS, ACTS, inputs=X[0], targets=T[0], weights=weights, biases=biases, loss=LOSS)
    lrs = [0.5, 0.1]
    r = train_copies(net, {}, lrs, epochs=30, data=(np.array(X), np.array(T)), batch_size=batch, reduction=reduction)
    for k, lr in enumerate(lrs):
        w, b, last = reference_batches(weights, biases, lr, 30, batch, reduction == "mean")
        assert r.loss[k] == pytest.approx(last, rel=1e-12)
        assert [r.params[f"w{i + 1}"][k] for i in range(8)] == pytest.approx(w, rel=1e-12)
        assert [r.params[f"b{i + 1}"][k] for i in range(4)] == pytest.approx(b, rel=1e-12)
    assert r.outputs.shape == (2, 2, len(X))


def test_bad_sweep_input():
    with pytest.raises(derive.SpecError):
        parse_lrs("0.1:x:3")
    with pytest.raises(derive.SpecError):
        parse_lrs("nan")
    assert parse_lrs("0.001:0.1:50").size == 50


# --- the command line -------------------------------------------------------------------------

def test_cli_sweep_json_and_table(examples, capsys):
    assert main(["sweep", str(examples / "seven_1_1.toml"), "--lr", "0.05,0.01,0.005", "--epochs", "2000", "--json"]) == 0
    copies = json.loads(capsys.readouterr().out)["copies"]
    assert [c["stopped_at_epoch"] for c in copies] == [31, 172, 349]
    assert main(["sweep", str(examples / "seven_1_1.toml"), "--lr", "0.001:0.1:5", "--epochs", "50"]) == 0
    text = capsys.readouterr().out
    assert "5 copies in lock-step" in text and "0.0505 " in text


def test_cli_sweep_plot(examples, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "sweep.png"
    assert main(["sweep", str(examples / "mazur_2_2_2.toml"), "--copies", "8", "--epochs", "200", "--plot", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv", [["--lr", "a:b:c"], [], ["--lr", "0.1", "--copies", "3"], ["--copies", "0"],
                                  ["--lr", "0.1", "--epochs", "0"]])
def test_cli_sweep_bad_input_exits_2(examples, capsys, argv):
    assert main(["sweep", str(examples / "seven_1_1.toml"), *argv]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_cli_sweep_diverging_copies_are_null_in_json(examples, capsys):
    assert main(["sweep", str(examples / "seven_1_1.toml"), "--lr", "0.1,1.5", "--epochs", "2000", "--json"]) == 0
    fast, diverged = json.loads(capsys.readouterr().out)["copies"]
    assert fast["stopped_at_epoch"] == 13
    assert diverged["loss"] is None and diverged["stopped_at_epoch"] is None


def test_chunked_sweep_behind_a_progress_bar_is_the_same_sweep(examples):
    pytest.importorskip("tqdm")
    net = load(examples, "seven_1_1")
    a = sweep(net, lrs=[0.05, 0.01, 0.005, 0.001], epochs=3000, stop_below=1e-7, progress=False)
    b = sweep(net, lrs=[0.05, 0.01, 0.005, 0.001], epochs=3000, stop_below=1e-7, progress=True)
    assert a.stopped_at_epoch.tolist() == b.stopped_at_epoch.tolist()
    assert a.stopped_at_epoch.tolist()[:3] == [31, 172, 349]
    for p in net.params:
        assert a.params[p].tolist() == b.params[p].tolist()


@pytest.mark.parametrize("example, lrs", [("seven_2_2_2", [0.01, 0.02]), ("seven_3_2", [0.005, 0.01]),
                                          ("wikidocs_2_2_2", [0.5, 1.0])])
def test_buffered_sweep_equals_single_runs_with_biases_and_no_biases(examples, example, lrs):
    """The sweep's loop writes into reused buffers (derive.numeric.buffers); bias gradients alias δ buffers."""
    net = load(examples, example)
    r = sweep(net, lrs=lrs, epochs=150)
    for k, lr in enumerate(lrs):
        single = net.train(epochs=150, lr=lr, stop_below=0.0)
        for name, value in single.params.items():
            assert r.params[name][k] == pytest.approx(value, rel=1e-12, abs=1e-12), (k, name)


@settings(max_examples=draws(30), deadline=None)
@given(random_nets())
def test_sweep_equals_single_runs_for_random_nets(case):
    net = derive.network(case["layers"], case["acts"], inputs=case["inputs"], targets=case["targets"],
                         weights=case["weights"], biases=case["biases"], loss=case["loss"], bias=case["bias"],
                         train_biases=case["train_biases"])
    lrs = [case["lr"] / 4, case["lr"] / 12]
    with np.errstate(all="ignore"):            # a rate too large may diverge: in both runs alike
        r = sweep(net, lrs=lrs, epochs=20)
        for k, lr in enumerate(lrs):
            try:
                single = net.train(epochs=20, lr=lr, stop_below=0.0)
            except Diverged:
                reject()
            assert r.loss[k] == pytest.approx(single.loss, rel=1e-9, abs=1e-12, nan_ok=True)
            for name, value in single.params.items():
                assert r.params[name][k] == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), (k, name)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sweep_with_extreme_preactivations_stays_finite(dtype):
    import warnings
    from test_train import EXTREME
    for layers, acts, loss, weights, biases, targets in EXTREME:
        net = derive.network(layers, acts, inputs=[1.0] * layers[0], targets=targets, weights=weights,
                             biases=biases, loss=loss)
        with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
            warnings.simplefilter("error")
            r = sweep(net, lrs=[0.1, 0.01], epochs=5, dtype=dtype)
        assert np.all(np.isfinite(r.loss)) and all(np.all(np.isfinite(v)) for v in r.params.values())


def test_copies_in_runs_equal_one_run_bit_for_bit(examples, monkeypatch):
    """Many copies go in runs that fit the cache (sweep.CHUNK_BYTES): every number is the one run's."""
    import derive.numeric.sweep as sweep_module
    net = derive.load(examples / "mazur_2_2_2.toml")
    whole = sweep(net, copies=50, seed=4, epochs=180, stop_below=0.01)
    monkeypatch.setattr(sweep_module, "CHUNK_BYTES", 7 * 8)       # runs of at most 7 copies: 8 runs of 6-7
    one_run, sizes = sweep_module._train_numpy, []
    monkeypatch.setattr(sweep_module, "_train_numpy", lambda net, init, lrs, *a: sizes.append(lrs.size) or one_run(net, init, lrs, *a))
    runs = sweep(net, copies=50, seed=4, epochs=180, stop_below=0.01)
    assert sorted(set(sizes)) == [6, 7]
    assert sum(sizes) == 50 and len(sizes) == 8
    assert 0 < (whole.stopped_at_epoch >= 0).sum() < 50          # some copies stop, some do not
    assert runs.stopped_at_epoch.tolist() == whole.stopped_at_epoch.tolist()
    assert runs.loss.tolist() == whole.loss.tolist() and runs.outputs.tolist() == whole.outputs.tolist()
    assert all(runs.params[p].tolist() == whole.params[p].tolist() for p in whole.params)


def test_copies_that_leave_the_losss_domain_end_as_nan_without_a_warning(tmp_path):
    """Campaign, seed 15: a tanh output under bce (its logs see negative outputs) printed NumPy's
    'divide by zero' from the generated loop; each copy's row says nan instead."""
    import warnings
    spec = tmp_path / "tanh_bce.toml"
    spec.write_text('[network]\nlayers = [3, 3, 3, 3]\nactivations = ["identity", "identity", "tanh"]\n'
                    'loss = "bce"\nbias = "per_neuron"\ntrain_biases = true\n\n[values]\n'
                    "inputs = [-1.457, -1.871, -1.895]\ntargets = [0.95, 1.0, 1.0]\n"
                    "weights = [1.527, 1.079, 0.067, 1.317, 0.5, 1.665, 0.532, -0.218, -0.697, -1.001, 1.107, "
                    "-1.767, -1.312, -1.868, 0.784, -1.41, 0.803, 0.567, 0.628, 1.088, 0.546, 0.546, 1.812, "
                    "-1.129, 1.221, -0.795, -1.576]\n"
                    "biases = [0.497, 1.235, 1.385, 1.91, -1.266, 0.736, -1.39, -1.148, -0.498]\nlearning_rate = 1.0\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = sweep(derive.load(spec), copies=3, seed=0, epochs=3)
    assert np.isnan(result.loss).all()
