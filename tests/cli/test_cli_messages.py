"""One clear line for runs that cannot go on (issue 14): a divergence names the file, the key of the learning
rate and the dtype, and blames the learning rate only where it is to blame; a loss outside its domain
(bce on a linear or relu output) and a KeyboardInterrupt raised by a user's function are one line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "worked_examples"


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_a_divergence_names_file_option_and_dtype(capsys):
    status, _, err = run(capsys, "train", EXAMPLES / "seven_1_1.toml", "--dtype", "float32", "--epochs", "50",
                         "--lr", "1e10")
    line = one_line(err)
    assert status == 2 and "seven_1_1.toml" in line and "training diverged" in line
    assert "--lr = 1e+10" in line and "float32" in line and "try a smaller --lr" in line


def test_a_divergence_from_the_spec_names_its_key(tmp_path, capsys):
    spec = tmp_path / "fast.toml"
    spec.write_text((EXAMPLES / "seven_1_1.toml").read_text().replace("learning_rate = 0.01", "learning_rate = 1e10"))
    assert "learning_rate = 1e10" in spec.read_text()
    status, _, err = run(capsys, "train", spec, "--dtype", "float32", "--epochs", "50")
    line = one_line(err)
    assert status == 2 and "fast.toml" in line and "values.learning_rate = 1e+10" in line and "float32" in line


def test_float32_that_cannot_hold_the_start_does_not_blame_the_learning_rate(tmp_path, capsys):
    # 1e20 · 1e19 = 1e39 is past float32's largest (3.4e38) before any update
    spec = tmp_path / "big.toml"
    spec.write_text('[network]\nlayers = [1, 1]\nactivations = ["identity"]\n[values]\ninputs = [1e20]\n'
                    'targets = [0.0]\nweights = [1e19]\nbiases = [0.0]\nlearning_rate = 0.1\n')
    status, _, err = run(capsys, "train", spec, "--dtype", "float32")
    line = one_line(err)
    assert status == 2 and "big.toml: values:" in line and "float32" in line and "not the learning rate" in line
    assert "smaller --lr" not in line and "float64" in line
    assert run(capsys, "train", spec)[0] == 0          # float64 holds it


def test_relu_output_with_bce_in_train_is_one_line(tmp_path, capsys):
    # was ValueError: math domain error (log(1 − o) of a relu output above 1)
    spec = tmp_path / "relu_bce.toml"
    spec.write_text('[network]\nlayers = [2, 2, 1]\nactivations = ["sigmoid", "relu"]\nloss = "bce"\n[values]\n'
                    'inputs = [1.0, 1.0]\ntargets = [1.0]\nweights = [0.15, 0.2, 0.25, 0.3, 0.4, 0.45]\n'
                    'biases = [0.35, 0.35, 0.6]\nlearning_rate = 0.5\n')
    status, _, err = run(capsys, "train", spec, "--epochs", "50")
    line = one_line(err)
    assert status == 2 and "relu_bce.toml: network.loss" in line and "'bce'" in line and "sigmoid" in line
    status, _, err = run(capsys, "gradients", spec)
    line = one_line(err)
    assert status == 2 and "'bce' is defined on sigmoid outputs: a relu output" in line


def test_seven_2_1_with_bce_in_check_is_one_line(tmp_path, capsys):
    # was TypeError: cannot create mpf (the hand check's exact value is complex: log of 1 − y with y = 19)
    spec = tmp_path / "seven_bce.toml"
    spec.write_text((EXAMPLES / "seven_2_1.toml").read_text().replace('loss = "half_sse"', 'loss = "bce"'))
    assert 'loss = "bce"' in spec.read_text()
    status, out, err = run(capsys, "check", spec)
    line = one_line(err)
    assert status == 2 and out == "" and "seven_bce.toml: hand." in line and "not a finite real number" in line
    assert "'bce'" in line


def test_keyboard_interrupt_in_a_users_matrix_function_is_one_line(tmp_path, capsys):
    code = tmp_path / "mine.py"
    code.write_text("def grads(weights, biases, x, t):\n    raise KeyboardInterrupt\n")
    status, _, err = run(capsys, "check-code", EXAMPLES / "mazur_2_2_2.toml", f"{code}:grads", "--form", "matrices")
    line = one_line(err)
    assert status == 2 and "mine.py:grads" in line and "KeyboardInterrupt" in line


def test_keyboard_interrupt_in_a_users_dict_function_has_no_traceback(tmp_path, capsys):
    code = tmp_path / "mine.py"
    code.write_text("def grads(params):\n    raise KeyboardInterrupt\n")
    status, _, err = run(capsys, "check-code", EXAMPLES / "mazur_2_2_2.toml", f"{code}:grads")
    line = one_line(err)
    assert status == 2 and "raised: KeyboardInterrupt" in line


MAZUR = EXAMPLES / "mazur_2_2_2.toml"


@pytest.mark.parametrize("argv", [
    ["train", MAZUR, "--epochs", "1e9"], ["train", MAZUR, "--epochs", "1000000000"],
    ["sweep", MAZUR, "--copies", "1e8"], ["sweep", MAZUR, "--copies", "100000000"],
    ["check-code", MAZUR, "x.py:f", "--points", "1e7"], ["check-code", MAZUR, "x.py:f", "--points", "10000000"],
])
def test_extreme_options_are_one_line(tmp_path, capsys, argv):
    # was: MemoryError tracebacks, or minutes and gigabytes (--points 1e7 was never checked against its limit)
    (tmp_path / "x.py").write_text("def f(params):\n    return {}\n")
    argv = [str(tmp_path / a) if a == "x.py:f" else str(a) for a in argv]
    try:
        status = main(argv)
    except SystemExit as done:          # argparse: not a whole number
        status = done.code
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert argv[-2].lstrip("-") in err


def test_epochs_in_the_spec_past_the_limit_is_one_line(tmp_path, capsys):
    spec = tmp_path / "e12.toml"
    spec.write_text(MAZUR.read_text().replace("epochs = 10000", "epochs = 1000000000000"))
    status, _, err = run(capsys, "train", spec)
    assert status == 2 and "train.epochs: expected at most" in one_line(err)
