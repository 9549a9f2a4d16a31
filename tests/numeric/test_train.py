"""The training loop against the notes' transcripts (file 004, file 000), Keras' float32 printouts,
an independent float implementation (tests/reference.py) and hand-written float32 arithmetic."""

import json
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import derive
import reference
from budget import draws
from derive.cli import main


def load(examples, name):
    return derive.load(examples / f"{name}.toml")


def f3(x):
    return f"{x:.3f}"


# --- file 004: the 1-1 neuron ---------------------------------------------------------------

@pytest.mark.parametrize("lr, epochs, stop", [(0.01, 200, 172), (0.05, 200, 31), (0.005, 2000, 349)])
def test_one_one_stops_where_the_notes_say(examples, lr, epochs, stop):
    result = load(examples, "seven_1_1").train(epochs=epochs, lr=lr, stop_below=1e-7)
    assert result.stopped_at_epoch == stop
    assert result.epochs_run == stop + 1
    assert result.losses[-1] == result.loss < 1e-7 <= result.losses[-2]


def transcript(capsys, net, **kw):
    net.train(print_every=1, **kw)
    text = capsys.readouterr().out
    epochs = {}
    for block in text.split("epoch = ")[1:]:
        lines = block.strip().splitlines()
        epochs[int(lines[0])] = {k.strip(): v.strip() for k, v in (line.split(":") for line in lines[1:])}
    return text, epochs


def test_one_one_transcript_at_the_printed_epochs(examples, capsys):
    text, epochs = transcript(capsys, load(examples, "seven_1_1"), epochs=200, lr=0.01, stop_below=0.0)
    assert text.startswith("epoch = 0\n y : 7.000\n w : 3.060\n b : 1.030\nepoch = 1\n y : 7.150\n")
    assert epochs[1] == {"y": "7.150", "w": "3.117", "b": "1.058"}
    assert epochs[18] == {"y": "8.808", "w": "3.747", "b": "1.374"}
    assert epochs[19] == {"y": "8.868", "w": "3.770", "b": "1.385"}
    assert epochs[198] == epochs[199] == {"y": "10.000", "w": "4.200", "b": "1.600"}


def test_one_one_transcript_stop_and_slow_rate(examples, capsys):
    _, stopped = transcript(capsys, load(examples, "seven_1_1"), epochs=200, lr=0.01, stop_below=1e-7)
    assert max(stopped) == 172 and stopped[171] == stopped[172] == {"y": "10.000", "w": "4.200", "b": "1.600"}
    _, fast = transcript(capsys, load(examples, "seven_1_1"), epochs=200, lr=0.05, stop_below=1e-7)
    assert max(fast) == 31 and fast[30]["y"] == "9.999" and fast[31]["y"] == "10.000"
    _, slow = transcript(capsys, load(examples, "seven_1_1"), epochs=200, lr=0.005, stop_below=1e-7)
    assert max(slow) == 199
    assert slow[198] == {"y": "9.980", "w": "4.192", "b": "1.596"}
    assert slow[199] == {"y": "9.981", "w": "4.192", "b": "1.596"}


def test_print_every_prints_every_kth_epoch_and_the_last(examples, capsys):
    load(examples, "seven_1_1").train(epochs=10, lr=0.01, stop_below=0.0, print_every=4)
    assert [int(l.split("=")[1]) for l in capsys.readouterr().out.splitlines() if l.startswith("epoch")] == [0, 4, 8, 9]


# --- file 004: wider linear nets ---------------------------------------------------------------

def test_two_one_stops_at_65(examples):
    r = load(examples, "seven_2_1").train(epochs=200, lr=0.01, stop_below=1e-7)
    assert r.stopped_at_epoch == 65
    assert [f3(r.params[k]) for k in ("w1", "w2", "b1")] == ["4.143", "5.714", "1.571"]
    assert f3(r.outputs[0]) == "27.000"


def test_two_two_stops_at_79(examples):
    r = load(examples, "seven_2_2").train(epochs=200, lr=0.01, stop_below=1e-7)
    assert r.stopped_at_epoch == 79
    printed = {"w1": "4.143", "w2": "5.714", "b1": "1.571", "w3": "-3.571", "w4": "-6.857", "b2": "-2.286"}
    assert {k: f3(v) for k, v in r.params.items()} == printed


def test_two_two_two_linear_stops_at_665(examples, capsys):
    _, epochs = transcript(capsys, load(examples, "seven_2_2_2"), epochs=2000, lr=0.01, stop_below=1e-7)
    assert max(epochs) == 665
    assert (epochs[665]["y1"], epochs[665]["y2"]) == ("0.010", "0.990")


# --- file 000: 10,000 iterations ------------------------------------------------------------------

def test_file_000_after_ten_thousand_iterations(examples):
    r = load(examples, "mazur_2_2_2").train()          # epochs = 10000 from the spec's [train]
    assert r.epochs_run == 10_000 and r.stopped_at_epoch is None
    assert f"{r.outputs[0]:.9f}" == "0.015913620"
    assert f"{r.outputs[1]:.9f}" == "0.984064274"
    assert set(r.params) == {f"w{i}" for i in range(1, 9)} | {"b1", "b2"}
    assert (r.params["b1"], r.params["b2"]) == (0.35, 0.60)     # biases not trained in file 000


# --- Keras (file 004): loss 'mse', SGD lr 0.01, 1000 epochs, float32 -----------------------------

KERAS = {
    "seven_1_1": {"w1": 4.1999974, "b1": 1.6000019},
    "seven_2_1": {"w1": 4.1428566, "w2": 5.714285, "b1": 1.5714294},
    # Keras prints W as (inputs, outputs): W[i][j] is the weight from input i to output j
    "seven_2_2": {"w1": 4.1428556, "w3": -3.5714262, "w2": 5.714284, "w4": -6.857143,
                  "b1": 1.5714294, "b2": -2.2857132},
    "seven_2_2_2": {"w1": 0.14315726, "w3": 0.24180055, "w2": 0.18631484, "w4": 0.2836011,
                    "b1": 0.2131526, "b2": 0.18600278,
                    "w5": 0.20264395, "w7": 0.53349453, "w6": 0.2525947, "w8": 0.5828034,
                    "b3": -0.09561112, "b4": 0.73054373},
}


@pytest.mark.parametrize("example", sorted(KERAS))
def test_keras_float32_printouts(examples, example):
    r = load(examples, example).train(epochs=1000, lr=0.01, stop_below=0.0, loss="mse", dtype="float32")
    assert r.epochs_run == 1000
    for name, printed in KERAS[example].items():
        assert abs(r.params[name] - printed) <= 2e-6, (name, r.params[name], printed)


def test_keras_predictions(examples):
    r = load(examples, "seven_2_2_2").train(epochs=1000, lr=0.01, stop_below=0.0, loss="mse", dtype="float32")
    assert r.outputs == pytest.approx([0.01000983, 0.9899955], abs=2e-6)
    r = load(examples, "seven_1_1").train(epochs=1000, lr=0.01, stop_below=0.0, loss="mse", dtype="float32")
    assert r.outputs[0] == pytest.approx(9.999997, abs=2e-6)


def test_float32_is_float32_arithmetic_bit_for_bit(examples):
    """The notes' loop written by hand in np.float32 scalars gives the very same bits."""
    f = np.float32
    x, w, b, yT, lr = f(2), f(3), f(1), f(10), f(0.01)
    for _ in range(150):
        y = x * w + f(1) * b
        yE = y - yT
        w, b = w - lr * (yE * x), b - lr * (yE * f(1))
    r = load(examples, "seven_1_1").train(epochs=150, lr=0.01, stop_below=0.0, dtype="float32")
    assert (r.params["w1"], r.params["b1"]) == (float(w), float(b))
    r64 = load(examples, "seven_1_1").train(epochs=150, lr=0.01, stop_below=0.0, dtype="float64")
    assert r64.params["w1"] != r.params["w1"]


# --- properties -----------------------------------------------------------------------------------

@st.composite
def random_nets(draw):
    depth = draw(st.integers(1, 3))
    layers = [draw(st.integers(1, 3)) for _ in range(depth + 1)]
    acts = [draw(st.sampled_from(["identity", "sigmoid", "tanh", "relu"])) for _ in range(depth)]
    loss = draw(st.sampled_from(["half_sse", "mse"]))
    if draw(st.booleans()):
        acts[-1], loss = draw(st.sampled_from([("sigmoid", "bce"), ("softmax", "cross_entropy")]))
    bias = draw(st.sampled_from(["per_neuron", "shared", "none"]))
    nb = {"per_neuron": sum(layers[1:]), "shared": depth, "none": 0}[bias]
    nw = sum(a * b for a, b in zip(layers, layers[1:]))
    u = st.floats(-1, 1, allow_nan=False, allow_subnormal=False).filter(lambda v: abs(v) > 1e-3)
    return dict(layers=layers, acts=acts, loss=loss, bias=bias, inputs=draw(st.lists(u, min_size=layers[0], max_size=layers[0])),
                targets=draw(st.lists(st.floats(0.05, 0.95), min_size=layers[-1], max_size=layers[-1])),
                weights=draw(st.lists(u, min_size=nw, max_size=nw)), biases=draw(st.lists(u, min_size=nb, max_size=nb)),
                train_biases=draw(st.booleans()), lr=draw(st.floats(0.01, 1.0)))


@settings(max_examples=draws(40), deadline=None)
@given(random_nets(), st.sampled_from(["float64", "float32"]))
def test_one_step_is_params_minus_lr_gradients(case, dtype):
    net = derive.network(case["layers"], case["acts"], inputs=case["inputs"], targets=case["targets"],
                         weights=case["weights"], biases=case["biases"], loss=case["loss"], bias=case["bias"],
                         train_biases=case["train_biases"])
    E, _, gw, gb = reference.gradients(case["layers"], case["acts"], case["loss"], case["weights"], case["biases"],
                                       case["bias"], case["inputs"], case["targets"])
    grads = dict(zip(net.params, gw + gb))
    before = net.param_values()
    r = net.train(epochs=1, lr=case["lr"], dtype=dtype, stop_below=0.0)
    rtol, atol = (1e-12, 1e-14) if dtype == "float64" else (2e-5, 2e-5)
    assert r.loss == pytest.approx(E, rel=rtol, abs=atol)
    for name, value in before.items():
        expected = value - case["lr"] * grads[name] if name in net.trained else value
        assert r.params[name] == pytest.approx(expected, rel=rtol, abs=atol), name
        if dtype == "float32":
            assert np.float32(r.params[name]) == r.params[name]


# --- numerically safe generated code -----------------------------------------------------------

EXTREME = [
    ([1, 1], ["sigmoid"], "bce", [1e4], [0.0], [0.3]),
    ([1, 1], ["sigmoid"], "bce", [-1e4], [0.0], [0.7]),
    ([1, 2], ["sigmoid"], "half_sse", [1e4, -1e4], [0.0, 0.0], [0.2, 0.8]),
    ([1, 3], ["softmax"], "cross_entropy", [1e4, -1e4, 0.0], [0.0, 0.0, 0.0], [0.2, 0.3, 0.5]),
    ([1, 2, 1], ["tanh", "sigmoid"], "bce", [1e4, -1e4, 1e4, -1e4], [0.0, 0.0, 0.0], [0.0]),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layers, acts, loss, weights, biases, targets", EXTREME)
def test_extreme_preactivations_train_without_overflow(layers, acts, loss, weights, biases, targets, dtype):
    net = derive.network(layers, acts, inputs=[1.0] * layers[0], targets=targets, weights=weights, biases=biases,
                         loss=loss)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        r = net.train(epochs=5, lr=0.1, dtype=dtype, stop_below=0.0)
    numbers = [r.loss, *r.losses, *r.outputs, *r.params.values()]
    assert all(np.isfinite(numbers)), numbers
    if loss != "half_sse":
        assert r.losses[0] > 100    # the loss really is large: the logs were taken, not clipped


# --- the command line ---------------------------------------------------------------------------

def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_done_when(examples, capsys):
    out = run_json(capsys, "train", str(examples / "seven_1_1.toml"), "--epochs", "200", "--stop-below", "1e-7", "--json")
    assert out["stopped_at_epoch"] == 172 and out["epochs_run"] == 173
    assert set(out) == {"epochs_run", "stopped_at_epoch", "loss", "params", "outputs"}
    assert f3(out["params"]["w1"]) == "4.200" and f3(out["outputs"][0]) == "10.000"


def test_cli_takes_the_spec_train_defaults_and_overrides(examples, capsys):
    out = run_json(capsys, "train", str(examples / "seven_2_2_2.toml"), "--json")
    assert out["stopped_at_epoch"] == 665
    out = run_json(capsys, "train", str(examples / "seven_1_1.toml"), "--lr", "0.05", "--json")
    assert out["stopped_at_epoch"] == 31
    out = run_json(capsys, "train", str(examples / "seven_1_1.toml"), "--epochs", "1000", "--stop-below", "0",
                   "--loss", "mse", "--dtype", "float32", "--json")
    assert abs(out["params"]["w1"] - 4.1999974) <= 2e-6


def test_cli_transcript_and_text(examples, capsys):
    assert main(["train", str(examples / "seven_1_1.toml"), "--epochs", "2", "--print-every", "1"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("epoch = 0\n y : 7.000\n w : 3.060\n b : 1.030\nepoch = 1\n y : 7.150\n w : 3.117\n")
    assert "ran 2 epochs" in text


def test_cli_plot(examples, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "losses.png"
    assert main(["train", str(examples / "seven_1_1.toml"), "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, key", [(["--lr", "inf"], "--lr"), (["--epochs", "0"], "--epochs"),
                                       (["--loss", "hinge"], "--loss"), (["--stop-below", "nan"], "--stop-below"),
                                       (["--print-every", "0"], "--print-every")])
def test_cli_bad_input_exits_2_with_one_line(examples, capsys, argv, key):
    assert main(["train", str(examples / "seven_1_1.toml"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and key in err


# --- the compiled backend ---------------------------------------------------------------------

def test_numba_backend_gives_the_same_run(examples):
    pytest.importorskip("numba")
    for name, kw in (("mazur_2_2_2", {}), ("seven_1_1", {"stop_below": 1e-7})):
        python = load(examples, name).train(**kw)
        compiled = load(examples, name).train(backend="numba", **kw)
        assert compiled.stopped_at_epoch == python.stopped_at_epoch and compiled.epochs_run == python.epochs_run
        assert compiled.params == pytest.approx(python.params, rel=1e-12)
        assert compiled.losses == pytest.approx(python.losses, rel=1e-12)


def test_missing_numba_is_one_line_naming_the_install(examples, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)
    assert main(["train", str(examples / "seven_3_2.toml"), "--backend", "numba"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install" in err and "numba" in err


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cli_diverging_run_is_one_line(examples, capsys, dtype):
    assert main(["train", str(examples / "seven_1_1.toml"), "--lr", "10", "--epochs", "1000", "--dtype", dtype]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "diverged" in err


def test_api_rejects_bad_settings(examples):
    net = load(examples, "seven_1_1")
    for kw in ({"epochs": 0}, {"lr": float("nan")}, {"stop_below": float("inf")}, {"print_every": 0}):
        with pytest.raises(derive.SpecError):
            net.train(**kw)


def test_two_two_transcript_prints_neuron_by_neuron_as_242_6(examples, capsys):
    text, _ = transcript(capsys, load(examples, "seven_2_2"), epochs=200, lr=0.01, stop_below=1e-7)
    assert text.endswith("epoch = 79\n y1 : 27.000\n y2 : -30.000\n w1 : 4.143\n w2 : 5.714\n b1 : 1.571\n"
                         " w3 : -3.571\n w4 : -6.857\n b2 : -2.286\n")
    text, _ = transcript(capsys, load(examples, "seven_2_1"), epochs=200, lr=0.01, stop_below=1e-7)
    assert text.endswith("epoch = 65\n y : 27.000\n w1 : 4.143\n w2 : 5.714\n b : 1.571\n")


def test_chunked_run_behind_a_progress_bar_is_the_same_run(examples):
    pytest.importorskip("tqdm")
    for name, kw in (("mazur_2_2_2", {"epochs": 3000}), ("seven_1_1", {"lr": 0.005, "epochs": 2000})):
        plain = load(examples, name).train(progress=False, **kw)
        chunked = load(examples, name).train(progress=True, **kw)
        assert (chunked.params, chunked.losses, chunked.stopped_at_epoch) == (plain.params, plain.losses,
                                                                                plain.stopped_at_epoch)


@pytest.mark.parametrize("example", ["mazur_2_2_2", "wikidocs_2_2_2", "seven_2_2_2", "forward_3_layer"])
def test_generated_loops_have_no_float_powers_nor_float64_constants(examples, example):
    from derive.numeric.train import LoopSpec, loop_source
    net = load(examples, example)
    for spec in (LoopSpec(), LoopSpec(dialect="numpy"), LoopSpec(dialect="numpy", record=False, stop_any=True),
                 LoopSpec(dialect="numpy", batched=True, record=False)):
        source = loop_source(net.program, net.trained, spec)
        assert "**(-1" not in source and "**-1" not in source and "float64" not in source
        for node in net.graph.inputs:            # ∂E/∂input: dead code in training, left out
            assert f"{net.backprop.deltas[node.name].symbol.name} =" not in source
